-- The tree's stored hashes, 32 to a row (run r holds storage indexes 32r to 32r+31, 32-byte
-- hashes one after another) instead of one row each: a row's own cost (record header, index
-- entry) was twice the hash it held.
CREATE TABLE log_hash_runs (
    run BIGINT PRIMARY KEY NOT NULL,
    hashes BLOB NOT NULL
);
INSERT INTO log_hash_runs (run, hashes)
    SELECT idx / 32, CAST(group_concat(hash, '' ORDER BY idx) AS BLOB)
    FROM log_hashes GROUP BY idx / 32;
DROP TABLE log_hashes;
