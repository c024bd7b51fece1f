-- A log entry's bytes (contract §9) are a function of the row it records: the certificate's
-- id, kid, payload hash and signature, or the trail event's. The queue and the sequenced
-- entries keep the reference (certificate id and seq) and the entry is rebuilt from that row
-- when it is hashed or served, checked against the tree's stored leaf hash. This halves what
-- the log costs a certificate on disk and changes no public byte.
ALTER TABLE log_pending DROP COLUMN entry;
ALTER TABLE log_entries DROP COLUMN entry;
