-- What every server instance of one platform must agree on, written by the first to start:
-- the transparency log's verifier key (its origin, and a key derived from the master key).
-- An instance whose CERTRAIL_PUBLIC_URL (or CERTRAIL_LOG_ORIGIN) or CERTRAIL_MASTER_KEY gives
-- another refuses to start, instead of answering `tampered` or 500 later.
CREATE TABLE platform_identity (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    log_vkey TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
