DROP TABLE complaints;
DROP TABLE sessions;
DROP TABLE users;
