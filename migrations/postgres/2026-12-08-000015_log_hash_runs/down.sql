CREATE TABLE log_hashes (
    idx BIGINT PRIMARY KEY NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO log_hashes (idx, hash)
    SELECT r.run * 32 + i, substr(r.hashes, i * 32 + 1, 32)
    FROM log_hash_runs r, generate_series(0, length(r.hashes) / 32 - 1) AS i;
DROP TABLE log_hash_runs;
