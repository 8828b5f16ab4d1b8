-- Issue 4: the enforcement workflow (SQLite): cases and what hangs off them, evidence with its hash
-- chain, takedown requests, public reports. Ids are uuid text, times RFC 3339 text, JSON text.
-- Never edit this file once committed: add a new migration instead.

CREATE TABLE cases (
    id             TEXT PRIMARY KEY,
    title          TEXT NOT NULL,
    category       TEXT NOT NULL,
    status         TEXT NOT NULL,
    -- patroli_core::workflow::CaseState as JSON (status, lead agency, referrals, outcome).
    state          TEXT NOT NULL,
    lead_agency_id TEXT NOT NULL REFERENCES agencies(id),
    lead_unit_id   TEXT REFERENCES units(id),
    region_code    TEXT,
    legal_basis    TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    letter         TEXT,
    chain_head     TEXT NOT NULL
);
CREATE INDEX cases_lead ON cases (lead_agency_id);

CREATE TABLE case_posts (
    case_id   TEXT NOT NULL REFERENCES cases(id),
    post_id   TEXT NOT NULL REFERENCES posts(id),
    added_by  TEXT NOT NULL,
    added_at  TEXT NOT NULL,
    PRIMARY KEY (case_id, post_id)
);
CREATE INDEX case_posts_post ON case_posts (post_id);

CREATE TABLE case_accounts (
    case_id     TEXT NOT NULL REFERENCES cases(id),
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    PRIMARY KEY (case_id, account_id)
);
CREATE INDEX case_accounts_account ON case_accounts (account_id);

-- Agencies (and units) that may see a case; the lead is always one of them.
CREATE TABLE case_agencies (
    case_id    TEXT NOT NULL REFERENCES cases(id),
    agency_id  TEXT NOT NULL REFERENCES agencies(id),
    unit_id    TEXT REFERENCES units(id),
    shared_by  TEXT NOT NULL,
    shared_at  TEXT NOT NULL,
    PRIMARY KEY (case_id, agency_id)
);
CREATE INDEX case_agencies_agency ON case_agencies (agency_id);

CREATE TABLE case_members (
    case_id   TEXT NOT NULL REFERENCES cases(id),
    user_id   TEXT NOT NULL REFERENCES users(id),
    added_at  TEXT NOT NULL,
    PRIMARY KEY (case_id, user_id)
);

CREATE TABLE case_events (
    id       TEXT PRIMARY KEY,
    case_id  TEXT NOT NULL REFERENCES cases(id),
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,
    kind     TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, at);

CREATE TABLE suspects (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    note        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX suspects_case ON suspects (case_id);

CREATE TABLE seizures (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases(id),
    item          TEXT NOT NULL,
    quantity      REAL NOT NULL,
    unit          TEXT NOT NULL,
    value_rupiah  INTEGER,
    created_at    TEXT NOT NULL
);
CREATE INDEX seizures_case ON seizures (case_id);

CREATE TABLE lab_tests (
    id                  TEXT PRIMARY KEY,
    case_id             TEXT NOT NULL REFERENCES cases(id),
    lab                 TEXT NOT NULL,
    substance           TEXT NOT NULL,
    method              TEXT NOT NULL,
    tested_on           TEXT NOT NULL,
    report_evidence_id  TEXT,
    created_at          TEXT NOT NULL
);
CREATE INDEX lab_tests_case ON lab_tests (case_id);

-- One link of a case's hash chain: `item` is patroli_core::evidence::EvidenceItem as JSON.
CREATE TABLE evidence_items (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases(id),
    seq          INTEGER NOT NULL,
    hash         TEXT NOT NULL,
    captured_at  TEXT NOT NULL,
    item         TEXT NOT NULL,
    UNIQUE (case_id, seq)
);

-- Part bytes as base64 text (both backends store it the same way).
CREATE TABLE evidence_parts (
    item_id     TEXT NOT NULL REFERENCES evidence_items(id),
    name        TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    bytes       TEXT NOT NULL,
    PRIMARY KEY (item_id, name)
);

CREATE TABLE takedowns (
    id               TEXT PRIMARY KEY,
    platform_id      TEXT NOT NULL REFERENCES platforms(id),
    case_id          TEXT REFERENCES cases(id),
    account_id       TEXT REFERENCES accounts(id),
    agency_id        TEXT REFERENCES agencies(id),
    requested_by     TEXT NOT NULL,
    legal_basis      TEXT NOT NULL,
    urgency          TEXT NOT NULL,
    category         TEXT,
    status           TEXT NOT NULL,
    reason           TEXT NOT NULL,
    requested_at     TEXT NOT NULL,
    due_at           TEXT NOT NULL,
    acknowledged_at  TEXT,
    answered_at      TEXT
);
CREATE INDEX takedowns_platform ON takedowns (platform_id, status);

CREATE TABLE takedown_posts (
    takedown_id  TEXT NOT NULL REFERENCES takedowns(id),
    post_id      TEXT NOT NULL REFERENCES posts(id),
    PRIMARY KEY (takedown_id, post_id)
);

-- What a re-upload is matched on (normalized text key, account, contact values) per takedown.
CREATE TABLE takedown_marks (
    takedown_id  TEXT NOT NULL REFERENCES takedowns(id),
    post_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (takedown_id, post_id, kind, value)
);
CREATE INDEX takedown_marks_value ON takedown_marks (kind, value);

CREATE TABLE reuploads (
    post_id          TEXT NOT NULL REFERENCES posts(id),
    earlier_post_id  TEXT NOT NULL,
    takedown_id      TEXT NOT NULL REFERENCES takedowns(id),
    case_id          TEXT,
    matched_on       TEXT NOT NULL,
    at               TEXT NOT NULL,
    PRIMARY KEY (post_id, takedown_id)
);

CREATE TABLE webhook_deliveries (
    id           TEXT PRIMARY KEY,
    takedown_id  TEXT NOT NULL REFERENCES takedowns(id),
    url          TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    at           TEXT NOT NULL
);

CREATE TABLE public_reports (
    id                TEXT PRIMARY KEY,
    tracking_code     TEXT NOT NULL UNIQUE,
    channel           TEXT NOT NULL,
    category          TEXT,
    region_code       TEXT,
    link              TEXT,
    text              TEXT NOT NULL,
    phone_or_account  TEXT,
    contact_sealed    TEXT,
    status            TEXT NOT NULL,
    assigned_unit_id  TEXT REFERENCES units(id),
    assigned_user_id  TEXT REFERENCES users(id),
    screening         TEXT NOT NULL,
    duplicate_of      TEXT,
    entered_by        TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX public_reports_region ON public_reports (region_code);

CREATE TABLE report_links (
    report_id  TEXT NOT NULL REFERENCES public_reports(id),
    post_id    TEXT NOT NULL REFERENCES posts(id),
    case_id    TEXT REFERENCES cases(id),
    linked_by  TEXT NOT NULL,
    linked_at  TEXT NOT NULL,
    PRIMARY KEY (report_id, post_id)
);
CREATE INDEX report_links_post ON report_links (post_id);

-- Deconfliction: tells `case_id`'s agency that `other_agency_id` holds a case on the same entity.
CREATE TABLE case_notices (
    id               TEXT PRIMARY KEY,
    case_id          TEXT NOT NULL REFERENCES cases(id),
    other_case_id    TEXT NOT NULL REFERENCES cases(id),
    other_agency     TEXT NOT NULL,
    other_unit       TEXT,
    other_contact    TEXT NOT NULL,
    matched_on       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (case_id, other_case_id)
);
