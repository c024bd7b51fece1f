DROP TABLE custody_claims;
