-- Wholesalers and market operators join the organization kinds.
ALTER TABLE organizations DROP CONSTRAINT organizations_kind_check; -- postgres only
ALTER TABLE organizations ADD CONSTRAINT organizations_kind_check CHECK (kind IN ('producer', 'retailer', 'regulator', 'certification_body', 'lab', 'wholesaler', 'market_operator')); -- postgres only

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
