CREATE TABLE scans (
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    id TEXT NOT NULL,
    serial BIGINT,
    hour TIMESTAMP NOT NULL,
    region_code TEXT,
    PRIMARY KEY (certificate_id, id)
);
CREATE INDEX scans_certificate_serial ON scans (certificate_id, serial);
DROP TABLE changes;
DROP TABLE forged_scans;
DROP TABLE scan_hours;
DROP TABLE label_regions;
DROP TABLE label_scans;
