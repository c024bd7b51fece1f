-- Copy signals that consumers' scans raised (the answer's warnings other than
-- no_intake_recorded), kept so the regulators of the producer's region see them. One row per
-- certificate, label (serial 0 = the batch label) and signal, from the first scan that raised it.
CREATE TABLE warnings (
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    serial BIGINT NOT NULL,
    code TEXT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    PRIMARY KEY (certificate_id, serial, code)
);
CREATE INDEX warnings_first_seen ON warnings (first_seen);
