-- An intake that no shipment led to: a claim of custody, kept off the public trail until the
-- party it names as the previous holder (or a regulator of the producer's region) confirms it.
-- Its note stays here, seen by the parties and the regulator, never by consumers.
CREATE TABLE custody_claims (
    id TEXT PRIMARY KEY NOT NULL,
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    serial BIGINT,
    claimant_id TEXT NOT NULL REFERENCES organizations (id),
    source_id TEXT NOT NULL REFERENCES organizations (id),
    quantity BIGINT,
    label_verdict TEXT NOT NULL,
    note TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'disputed')),
    created_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES organizations (id),
    decided_at TIMESTAMP,
    reason TEXT,
    received_seq BIGINT
);
CREATE INDEX custody_claims_certificate ON custody_claims (certificate_id);
CREATE INDEX custody_claims_source ON custody_claims (source_id, status);
CREATE INDEX custody_claims_claimant ON custody_claims (claimant_id, status);
