DROP TABLE certificate_drafts;
DROP TABLE log_backfill;
ALTER TABLE signing_keys DROP COLUMN compromised_since;
DROP TABLE log_cosignatures;
DROP TABLE log_witnesses;
DROP TABLE log_checkpoints;
DROP TABLE log_hashes;
DROP TABLE log_entries;
DROP TABLE log_pending;
