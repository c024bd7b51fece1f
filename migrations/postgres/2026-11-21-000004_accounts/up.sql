-- People who sign in to the pages, each a member of one organization (its kind is their role).
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    username TEXT NOT NULL UNIQUE,
    -- PHC string (argon2id).
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX users_organization ON users (organization_id);

-- Signed-in sessions: only the SHA-256 of the cookie value is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Problems consumers report from the verify page (no login); keyed by certificate for sharding.
CREATE TABLE complaints (
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    id TEXT NOT NULL,
    serial BIGINT,
    category TEXT NOT NULL,
    message TEXT NOT NULL,
    contact TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (certificate_id, id)
);
