-- The tree's stored hashes, 32 to a row (run r holds storage indexes 32r to 32r+31, 32-byte
-- hashes one after another) instead of one row each: a row's own cost (tuple header, item
-- pointer, index entry: about 60 bytes) was twice the hash it held. 32 hashes (1 KB) keep a
-- row well under the size at which PostgreSQL moves a value out of line.
CREATE TABLE log_hash_runs (
    run BIGINT PRIMARY KEY NOT NULL,
    hashes BYTEA NOT NULL
);
INSERT INTO log_hash_runs (run, hashes)
    SELECT idx / 32, string_agg(hash, ''::bytea ORDER BY idx) FROM log_hashes GROUP BY idx / 32;
DROP TABLE log_hashes;
