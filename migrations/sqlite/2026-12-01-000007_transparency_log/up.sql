-- The transparency log (contract §9): every certificate and trail event becomes an entry of one
-- append-only Merkle tree, so rewriting or deleting history shows.

-- Entries made by issuance and trail writes, in the same transaction, waiting for the
-- sequencer. Seq 0 is the certificate itself, seq N its trail event N.
CREATE TABLE log_pending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    certificate_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    entry TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX log_pending_item ON log_pending (certificate_id, seq);

-- Sequenced entries: idx is the leaf index in the tree; entry the exact bytes hashed.
-- No foreign key: the log outlives whatever happens to the rows it records.
CREATE TABLE log_entries (
    idx BIGINT PRIMARY KEY NOT NULL,
    certificate_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    entry TEXT NOT NULL,
    sequenced_at TIMESTAMP NOT NULL
);
CREATE INDEX log_entries_item ON log_entries (certificate_id, seq);

-- The tree's stored hashes (golang.org/x/mod/sumdb/tlog numbering: about two per entry),
-- from which tiles, roots and proofs are read.
CREATE TABLE log_hashes (
    idx BIGINT PRIMARY KEY NOT NULL,
    hash BLOB NOT NULL
);

-- Every checkpoint the log signed, as the signed note text.
CREATE TABLE log_checkpoints (
    tree_size BIGINT PRIMARY KEY NOT NULL,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Witnesses (regulators) whose cosignatures the log accepts and serves.
CREATE TABLE log_witnesses (
    name TEXT PRIMARY KEY NOT NULL,
    public_key BLOB NOT NULL,
    organization_id TEXT REFERENCES organizations (id),
    created_at TIMESTAMP NOT NULL
);

-- Cosignatures (C2SP tlog-cosignature) witnesses made on checkpoints.
CREATE TABLE log_cosignatures (
    witness TEXT NOT NULL REFERENCES log_witnesses (name),
    tree_size BIGINT NOT NULL,
    signed_at TIMESTAMP NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (witness, tree_size)
);
CREATE INDEX log_cosignatures_size ON log_cosignatures (tree_size);

-- Key lifecycle (contract §11): when a compromised key stopped being trustworthy.
ALTER TABLE signing_keys ADD COLUMN compromised_since TIMESTAMP;

-- Certificates issued before the log existed are queued for it once, at the next start
-- (the server does it: entries need signatures and hashes SQL cannot compute here).
CREATE TABLE log_backfill (due BOOLEAN NOT NULL);
INSERT INTO log_backfill (due) SELECT TRUE WHERE EXISTS (SELECT 1 FROM certificates);

-- Certificates of producers that hold their own key (contract §11), built and checked by the
-- platform, waiting for the producer's signature; issued (and deleted here) once it verifies.
CREATE TABLE certificate_drafts (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    product_id TEXT NOT NULL REFERENCES products (id),
    kid TEXT NOT NULL,
    payload TEXT NOT NULL,
    units BIGINT,
    lab_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX certificate_drafts_organization ON certificate_drafts (organization_id);

-- API tokens grow up: a name, a scope (read, issue, trail or admin of the organization), an
-- optional expiry and when each was last used. Tokens made before keep full rights (admin).
ALTER TABLE api_tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMP;
ALTER TABLE api_tokens ADD COLUMN last_used_at TIMESTAMP;

-- At most one active key per organization, whatever runs concurrently.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (organization_id) WHERE status = 'active';
