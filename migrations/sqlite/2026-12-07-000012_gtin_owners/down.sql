DROP TABLE gtin_owners;
