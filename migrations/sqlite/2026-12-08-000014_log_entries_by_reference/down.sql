-- The entries' text comes back empty: rebuild it from the rows (certificates, events) if
-- anything is to read it.
ALTER TABLE log_pending ADD COLUMN entry TEXT NOT NULL DEFAULT '';
ALTER TABLE log_entries ADD COLUMN entry TEXT NOT NULL DEFAULT '';
