-- Issue 3: posts, findings, verdicts, users and the audit chain (SQLite).
-- Ids are uuid text; times are RFC 3339 UTC text with six fractional digits, so text order is
-- time order; JSON is text. Never edit this file once committed: add a new migration instead.

CREATE TABLE platforms (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    platform_id   TEXT NOT NULL REFERENCES platforms(id),
    handle        TEXT NOT NULL,
    display_name  TEXT,
    first_seen    TEXT NOT NULL,
    UNIQUE (platform_id, handle)
);

CREATE TABLE posts (
    id                  TEXT PRIMARY KEY,
    platform_id         TEXT NOT NULL REFERENCES platforms(id),
    account_id          TEXT REFERENCES accounts(id),
    external_id         TEXT NOT NULL,
    url                 TEXT,
    location            TEXT,
    region_code         TEXT,
    first_seen          TEXT NOT NULL,
    last_seen           TEXT NOT NULL,
    -- Circular with post_versions.post_id, hence checked at commit.
    current_version_id  TEXT NOT NULL REFERENCES post_versions(id) DEFERRABLE INITIALLY DEFERRED,
    version_count       INTEGER NOT NULL,
    content_hash        TEXT NOT NULL,
    flagged             INTEGER NOT NULL,
    UNIQUE (platform_id, external_id)
);
CREATE INDEX posts_account ON posts (account_id, first_seen);
CREATE INDEX posts_region ON posts (region_code);
CREATE INDEX posts_first_seen ON posts (first_seen);

CREATE TABLE post_versions (
    -- Stable integer key for the full-text index (an implicit rowid may change on VACUUM).
    seq                INTEGER PRIMARY KEY,
    id                 TEXT NOT NULL UNIQUE,
    post_id            TEXT NOT NULL REFERENCES posts(id),
    version            INTEGER NOT NULL,
    title              TEXT,
    text               TEXT NOT NULL,
    price              REAL,
    declared_category  TEXT,
    posted_at          TEXT,
    content_hash       TEXT NOT NULL,
    flagged            INTEGER NOT NULL,
    seen_at            TEXT NOT NULL,
    UNIQUE (post_id, version)
);

-- Full-text search serves the review queue, so only flagged versions are indexed.
CREATE VIRTUAL TABLE post_versions_fts USING fts5(
    title, text,
    content = 'post_versions', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER post_versions_fts_insert AFTER INSERT ON post_versions WHEN new.flagged = 1 BEGIN
    INSERT INTO post_versions_fts (rowid, title, text) VALUES (new.seq, new.title, new.text);
END;

CREATE TABLE findings (
    id                TEXT PRIMARY KEY,
    post_id           TEXT NOT NULL REFERENCES posts(id),
    version_id        TEXT NOT NULL REFERENCES post_versions(id),
    categories        TEXT NOT NULL,
    primary_category  TEXT,
    scores            TEXT NOT NULL,
    score             REAL NOT NULL,
    severity          TEXT NOT NULL,
    severity_rank     INTEGER NOT NULL,
    reasons           TEXT NOT NULL,
    entities          TEXT NOT NULL,
    lexicon_version   TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'dismissed')),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX findings_queue ON findings (status, severity_rank DESC, score DESC);
CREATE INDEX findings_post ON findings (post_id, created_at);
CREATE INDEX findings_version ON findings (version_id);

CREATE TABLE entities (
    post_id     TEXT NOT NULL REFERENCES posts(id),
    version_id  TEXT NOT NULL REFERENCES post_versions(id),
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (version_id, kind, value)
);
CREATE INDEX entities_value ON entities (value, kind);
CREATE INDEX entities_post ON entities (post_id);

CREATE TABLE agencies (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE units (
    id           TEXT PRIMARY KEY,
    agency_id    TEXT NOT NULL REFERENCES agencies(id),
    name         TEXT NOT NULL,
    region_code  TEXT,
    created_at   TEXT NOT NULL,
    UNIQUE (agency_id, name)
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL,
    agency         TEXT NOT NULL,
    agency_id      TEXT REFERENCES agencies(id),
    unit_id        TEXT REFERENCES units(id),
    region_code    TEXT,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL
);

CREATE TABLE verdicts (
    id          TEXT PRIMARY KEY,
    finding_id  TEXT NOT NULL REFERENCES findings(id),
    post_id     TEXT NOT NULL REFERENCES posts(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    verdict     TEXT NOT NULL CHECK (verdict IN ('confirmed', 'dismissed')),
    reason      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX verdicts_post ON verdicts (post_id, created_at);
CREATE INDEX verdicts_finding ON verdicts (finding_id);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    platform_id   TEXT REFERENCES platforms(id),
    user_id       TEXT REFERENCES users(id),
    created_by    TEXT REFERENCES users(id),
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);

CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Append-only hash chain; see patroli_core::audit. `detail` is the exact JSON text that was hashed.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor);
CREATE INDEX audit_log_target ON audit_log (target);

CREATE TABLE regions (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    level        TEXT NOT NULL,
    parent_code  TEXT
);
CREATE INDEX regions_parent ON regions (parent_code);
