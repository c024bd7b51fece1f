DROP TABLE credential_status;
DROP INDEX products_gtin;
DROP TABLE certificate_parents;
ALTER TABLE certificates DROP COLUMN kind;
DROP TABLE shipments;
DROP INDEX organizations_market;
ALTER TABLE organizations DROP COLUMN market_id;
