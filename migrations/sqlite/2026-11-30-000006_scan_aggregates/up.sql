-- Consumer scans become aggregates that are updated as scans are stored, so verifying a label
-- never reads its scan history (its cost does not grow with how often it was scanned).
-- Serial 0 is the batch label; serial -1 holds the total over all of a certificate's labels.

-- Scans per label: the count shown in the answer and compared with the copy thresholds.
CREATE TABLE label_scans (
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    serial BIGINT NOT NULL,
    scans BIGINT NOT NULL,
    PRIMARY KEY (certificate_id, serial)
);

-- The last hour a label was scanned in each province (at most 34 rows a label): two provinces
-- within the copy window is the scanned_far_apart signal.
CREATE TABLE label_regions (
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    serial BIGINT NOT NULL,
    province TEXT NOT NULL,
    last_hour TIMESTAMP NOT NULL,
    PRIMARY KEY (certificate_id, serial, province)
);

-- The observations themselves, coarse: scans per label, hour and region code ('' = none).
CREATE TABLE scan_hours (
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    serial BIGINT NOT NULL,
    hour TIMESTAMP NOT NULL,
    region_code TEXT NOT NULL,
    scans BIGINT NOT NULL,
    PRIMARY KEY (certificate_id, serial, hour, region_code)
);

-- Scans of labels that named this certificate but whose signature failed: attempted fakes,
-- counted apart per hour and region so a flood writes one row an hour.
CREATE TABLE forged_scans (
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    hour TIMESTAMP NOT NULL,
    region_code TEXT NOT NULL,
    scans BIGINT NOT NULL,
    PRIMARY KEY (certificate_id, hour, region_code)
);
CREATE INDEX forged_scans_hour ON forged_scans (hour);

-- What changed (kind 'certificate' with its id, or 'all'), so every server instance can drop
-- what it cached; rows older than an hour are pruned.
CREATE TABLE changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL
);
CREATE INDEX changes_at ON changes (at);

INSERT INTO scan_hours (certificate_id, serial, hour, region_code, scans)
    SELECT certificate_id, COALESCE(serial, 0), hour, COALESCE(region_code, ''), COUNT(*)
    FROM scans GROUP BY certificate_id, COALESCE(serial, 0), hour, COALESCE(region_code, '');
INSERT INTO label_scans (certificate_id, serial, scans)
    SELECT certificate_id, serial, SUM(scans) FROM scan_hours GROUP BY certificate_id, serial;
INSERT INTO label_scans (certificate_id, serial, scans)
    SELECT certificate_id, -1, SUM(scans) FROM scan_hours GROUP BY certificate_id;
INSERT INTO label_regions (certificate_id, serial, province, last_hour)
    SELECT certificate_id, serial, substr(region_code, 1, 2), MAX(hour) FROM scan_hours
    WHERE region_code <> '' GROUP BY certificate_id, serial, substr(region_code, 1, 2);
DROP TABLE scans;
