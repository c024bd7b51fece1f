CREATE TABLE log_hashes (
    idx BIGINT PRIMARY KEY NOT NULL,
    hash BLOB NOT NULL
);
WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < 31)
INSERT INTO log_hashes (idx, hash)
    SELECT r.run * 32 + i.n, substr(r.hashes, i.n * 32 + 1, 32)
    FROM log_hash_runs r JOIN i ON i.n < length(r.hashes) / 32;
DROP TABLE log_hash_runs;
