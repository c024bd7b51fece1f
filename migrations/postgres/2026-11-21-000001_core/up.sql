CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('producer', 'retailer', 'regulator', 'certification_body', 'lab')),
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    region_code TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX organizations_region ON organizations (region_code);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    public_key BYTEA NOT NULL,
    sealed_private_key BYTEA NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'retired', 'compromised')),
    valid_from TIMESTAMP NOT NULL,
    valid_until TIMESTAMP
);
CREATE INDEX signing_keys_organization ON signing_keys (organization_id);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT REFERENCES organizations (id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE products (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    model TEXT NOT NULL,
    standard TEXT NOT NULL,
    gtin TEXT,
    category TEXT,
    marks TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX products_organization ON products (organization_id);

CREATE TABLE certificates (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    product_id TEXT NOT NULL REFERENCES products (id),
    batch_no TEXT NOT NULL,
    kid TEXT NOT NULL REFERENCES signing_keys (kid),
    payload TEXT NOT NULL,
    signature BYTEA NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked', 'recalled')),
    status_reason TEXT,
    units BIGINT,
    issued_at TIMESTAMP NOT NULL
);
CREATE INDEX certificates_product_batch ON certificates (product_id, batch_no);
CREATE INDEX certificates_organization_issued ON certificates (organization_id, issued_at);
