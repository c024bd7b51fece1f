DROP TABLE credential_status;
DROP INDEX products_gtin;
DROP TABLE certificate_parents;
ALTER TABLE certificates DROP COLUMN kind;
DROP TABLE shipments;
ALTER TABLE organizations DROP COLUMN market_id;
ALTER TABLE organizations DROP CONSTRAINT organizations_kind_check;
ALTER TABLE organizations ADD CONSTRAINT organizations_kind_check CHECK (kind IN ('producer', 'retailer', 'regulator', 'certification_body', 'lab'));
