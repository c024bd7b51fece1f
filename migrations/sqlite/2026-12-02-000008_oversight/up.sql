-- Regulators' authority and the pilot's workflows (issue 12).

-- A regulator's measure: one certificate suspended, or a producer's right to issue suspended.
-- Open while lifted_at is NULL; only a regulator of the producer's region lifts it.
CREATE TABLE sanctions (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    certificate_id TEXT REFERENCES certificates (id),
    regulator_id TEXT NOT NULL REFERENCES organizations (id),
    reason TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    lifted_at TIMESTAMP,
    lifted_by TEXT REFERENCES organizations (id),
    lift_reason TEXT
);
CREATE INDEX sanctions_organization ON sanctions (organization_id, lifted_at);
CREATE INDEX sanctions_certificate ON sanctions (certificate_id, lifted_at);
-- At most one open sanction of each kind per certificate, and one issuance suspension per
-- producer (two regulators acting at once cannot both open one).
CREATE UNIQUE INDEX sanctions_one_open_hold ON sanctions (certificate_id)
    WHERE kind = 'certificate_suspended' AND lifted_at IS NULL;
CREATE UNIQUE INDEX sanctions_one_open_issuance ON sanctions (organization_id)
    WHERE kind = 'issuance_suspended' AND lifted_at IS NULL;

-- A producer's request to lift a regulator's suspension of one certificate, with evidence.
CREATE TABLE reinstatement_requests (
    id TEXT PRIMARY KEY NOT NULL,
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    sanction_id TEXT NOT NULL REFERENCES sanctions (id),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    evidence TEXT NOT NULL,
    lab_report_no TEXT,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES organizations (id),
    decided_at TIMESTAMP,
    decision_note TEXT
);
CREATE UNIQUE INDEX reinstatement_one_pending ON reinstatement_requests (certificate_id)
    WHERE state = 'pending';

-- 先行赔付: a consumer's report that became a compensation case.
CREATE TABLE cases (
    id TEXT PRIMARY KEY NOT NULL,
    number_hash TEXT NOT NULL UNIQUE,
    complaint_id TEXT NOT NULL UNIQUE,
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    respondent_id TEXT NOT NULL REFERENCES organizations (id),
    claim TEXT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT,
    amount_fen BIGINT,
    answer TEXT,
    deadline_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES organizations (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cases_respondent ON cases (respondent_id, state);
CREATE INDEX cases_certificate ON cases (certificate_id);

-- Webhook endpoints (contract §12); the secret is sealed with the master key.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_organization ON webhooks (organization_id);

-- The outbox: one row per message and endpoint, written with the change it reports.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    event_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    delivered_at TIMESTAMP,
    last_status INTEGER,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at);
CREATE INDEX webhook_deliveries_organization ON webhook_deliveries (organization_id, created_at);
CREATE INDEX webhook_deliveries_subject ON webhook_deliveries (subject_id, organization_id);

-- A retailer's confirmation that recalled goods left its shelves.
CREATE TABLE recall_acknowledgements (
    recall_id TEXT NOT NULL REFERENCES recalls (id),
    retailer_id TEXT NOT NULL REFERENCES organizations (id),
    quantity_removed BIGINT NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (recall_id, retailer_id)
);

-- Regulators' reports count trail events by type over a date range; issuance events (one per
-- certificate, the bulk of the table) are left out of the index.
CREATE INDEX events_type_at ON events (type, at) WHERE type <> 'issued';

-- Who did what, when: every admin and regulator action.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT,
    actor_kind TEXT NOT NULL,
    region_code TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_region ON audit_log (region_code, at);

-- Administration: a deactivated organization's tokens and sessions stop at once (checked on
-- every request); a deactivated user cannot sign in; a platform admin user signs in to the
-- admin console and acts as the platform admin.
ALTER TABLE organizations ADD COLUMN deactivated_at TIMESTAMP;
ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMP;
ALTER TABLE users ADD COLUMN platform_admin BOOLEAN NOT NULL DEFAULT FALSE;

-- Labs under supervision: a lab's own claim is pending and does not count until a regulator of
-- its region confirms it; a regulator may delist (摘牌) a lab, ending every accreditation.
ALTER TABLE accreditations ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE accreditations ADD COLUMN decided_by TEXT REFERENCES organizations (id);
ALTER TABLE accreditations ADD COLUMN decided_at TIMESTAMP;
-- A regulator's suspension of a mark is the regulator's to lift.
ALTER TABLE marks ADD COLUMN suspended_by TEXT REFERENCES organizations (id);
