-- Head of each certificate's hash chain, so that a deleted last event is detected.
ALTER TABLE certificates ADD COLUMN trail_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE certificates ADD COLUMN trail_hash TEXT NOT NULL DEFAULT '';
-- The testing lab a certificate cites (outside the signed payload), for accreditation warnings.
ALTER TABLE certificates ADD COLUMN lab_id TEXT REFERENCES organizations (id);

CREATE TABLE events (
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    seq BIGINT NOT NULL,
    type TEXT NOT NULL,
    actor_id TEXT NOT NULL REFERENCES organizations (id),
    serial BIGINT,
    at TIMESTAMP NOT NULL,
    body TEXT NOT NULL,
    hash TEXT NOT NULL,
    kid TEXT NOT NULL,
    signature BYTEA NOT NULL,
    PRIMARY KEY (certificate_id, seq)
);
CREATE INDEX events_actor_type ON events (actor_id, type);

CREATE TABLE scans (
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    id TEXT NOT NULL,
    serial BIGINT,
    hour TIMESTAMP NOT NULL,
    region_code TEXT,
    PRIMARY KEY (certificate_id, id)
);
CREATE INDEX scans_certificate_serial ON scans (certificate_id, serial);

CREATE TABLE recalls (
    id TEXT PRIMARY KEY NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    batch_no TEXT,
    reason TEXT NOT NULL,
    actor_id TEXT NOT NULL REFERENCES organizations (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX recalls_product ON recalls (product_id);

CREATE TABLE marks (
    id TEXT PRIMARY KEY NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    body_id TEXT NOT NULL REFERENCES organizations (id),
    scheme TEXT NOT NULL,
    cert_no TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('valid', 'suspended')),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX marks_product ON marks (product_id);

CREATE TABLE accreditations (
    id TEXT PRIMARY KEY NOT NULL,
    lab_id TEXT NOT NULL REFERENCES organizations (id),
    scheme TEXT NOT NULL CHECK (scheme IN ('CMA', 'CATL')),
    number TEXT NOT NULL,
    scope TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX accreditations_lab ON accreditations (lab_id);
