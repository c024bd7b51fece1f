DROP TABLE accreditations;
DROP TABLE marks;
DROP TABLE recalls;
DROP TABLE scans;
DROP TABLE events;
ALTER TABLE certificates DROP COLUMN lab_id;
ALTER TABLE certificates DROP COLUMN trail_hash;
ALTER TABLE certificates DROP COLUMN trail_seq;
