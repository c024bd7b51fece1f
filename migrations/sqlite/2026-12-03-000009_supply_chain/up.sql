-- Wholesalers and market operators join the organization kinds. SQLite cannot alter a CHECK
-- constraint: the table is rebuilt with its references deferred to the commit, where the
-- re-inserted rows satisfy them again.
PRAGMA defer_foreign_keys = ON; -- sqlite only
CREATE TABLE organizations_copy AS SELECT * FROM organizations; -- sqlite only
DROP TABLE organizations; -- sqlite only
CREATE TABLE organizations ( -- sqlite only
    id TEXT PRIMARY KEY NOT NULL, -- sqlite only
    kind TEXT NOT NULL CHECK (kind IN ('producer', 'retailer', 'regulator', 'certification_body', 'lab', 'wholesaler', 'market_operator')), -- sqlite only
    name TEXT NOT NULL, -- sqlite only
    credit_code TEXT NOT NULL UNIQUE, -- sqlite only
    region_code TEXT NOT NULL, -- sqlite only
    address TEXT NOT NULL, -- sqlite only
    created_at TIMESTAMP NOT NULL, -- sqlite only
    deactivated_at TIMESTAMP -- sqlite only
); -- sqlite only
INSERT INTO organizations (id, kind, name, credit_code, region_code, address, created_at, deactivated_at) -- sqlite only
    SELECT id, kind, name, credit_code, region_code, address, created_at, deactivated_at FROM organizations_copy; -- sqlite only
DROP TABLE organizations_copy; -- sqlite only
CREATE INDEX organizations_region ON organizations (region_code); -- sqlite only

ALTER TABLE organizations ADD COLUMN market_id TEXT REFERENCES organizations (id);
CREATE INDEX organizations_market ON organizations (market_id);

-- One leg of custody: shipped by one party to a named consignee, closed by its intake or
-- refusal.
CREATE TABLE shipments (
    id TEXT PRIMARY KEY NOT NULL,
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    serial BIGINT,
    shipper_id TEXT NOT NULL REFERENCES organizations (id),
    consignee_id TEXT NOT NULL REFERENCES organizations (id),
    quantity BIGINT,
    shipped_seq BIGINT NOT NULL,
    shipped_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'received', 'rejected')),
    closed_seq BIGINT,
    closed_at TIMESTAMP,
    reason TEXT
);
CREATE INDEX shipments_certificate ON shipments (certificate_id);
CREATE INDEX shipments_consignee ON shipments (consignee_id, status, shipped_at);
CREATE INDEX shipments_shipper ON shipments (shipper_id, status, closed_at);

-- 承诺达标合格证 beside the 产品合格证, and lots re-issued after a split or merge.
ALTER TABLE certificates ADD COLUMN kind TEXT NOT NULL DEFAULT 'conformity' CHECK (kind IN ('conformity', 'promise'));
CREATE TABLE certificate_parents (
    child_id TEXT NOT NULL REFERENCES certificates (id),
    parent_id TEXT NOT NULL REFERENCES certificates (id),
    quantity BIGINT NOT NULL,
    PRIMARY KEY (child_id, parent_id)
);
CREATE INDEX certificate_parents_parent ON certificate_parents (parent_id);

-- GS1 Digital Link resolution finds certificates by the product's GTIN.
CREATE INDEX products_gtin ON products (gtin);

-- Each certificate's place in the W3C Bitstring Status Lists, given when its Verifiable
-- Credential is first asked for.
CREATE TABLE credential_status (
    certificate_id TEXT PRIMARY KEY NOT NULL REFERENCES certificates (id),
    list_index BIGINT NOT NULL UNIQUE
);
