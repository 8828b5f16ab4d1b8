-- Issue 3: posts, findings, verdicts, users and the audit chain (PostgreSQL).
-- Ids are uuid, times timestamptz, screening JSON jsonb; audit detail stays text because it is the
-- exact JSON that was hashed. Never edit this file once committed: add a new migration instead.

CREATE TABLE platforms (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE accounts (
    id            UUID PRIMARY KEY,
    platform_id   UUID NOT NULL REFERENCES platforms(id),
    handle        TEXT NOT NULL,
    display_name  TEXT,
    first_seen    TIMESTAMPTZ NOT NULL,
    UNIQUE (platform_id, handle)
);

CREATE TABLE posts (
    id                  UUID PRIMARY KEY,
    platform_id         UUID NOT NULL REFERENCES platforms(id),
    account_id          UUID REFERENCES accounts(id),
    external_id         TEXT NOT NULL,
    url                 TEXT,
    location            TEXT,
    region_code         TEXT,
    first_seen          TIMESTAMPTZ NOT NULL,
    last_seen           TIMESTAMPTZ NOT NULL,
    current_version_id  UUID NOT NULL,
    version_count       BIGINT NOT NULL,
    content_hash        TEXT NOT NULL,
    flagged             BOOLEAN NOT NULL,
    UNIQUE (platform_id, external_id)
);
CREATE INDEX posts_account ON posts (account_id, first_seen);
CREATE INDEX posts_region ON posts (region_code text_pattern_ops);
CREATE INDEX posts_first_seen ON posts (first_seen);

CREATE TABLE post_versions (
    id                 UUID PRIMARY KEY,
    post_id            UUID NOT NULL REFERENCES posts(id),
    version            BIGINT NOT NULL,
    title              TEXT,
    text               TEXT NOT NULL,
    price              DOUBLE PRECISION,
    declared_category  TEXT,
    posted_at          TIMESTAMPTZ,
    content_hash       TEXT NOT NULL,
    flagged            BOOLEAN NOT NULL,
    seen_at            TIMESTAMPTZ NOT NULL,
    UNIQUE (post_id, version)
);

-- Circular with post_versions.post_id, hence checked at commit.
ALTER TABLE posts ADD CONSTRAINT posts_current_version_fk
    FOREIGN KEY (current_version_id) REFERENCES post_versions(id) DEFERRABLE INITIALLY DEFERRED;

-- Full-text search serves the review queue, so only flagged versions are indexed. Queries must use
-- this exact expression (and `flagged`) for the index to apply.
CREATE INDEX post_versions_fts ON post_versions
    USING GIN (to_tsvector('simple', coalesce(title, '') || ' ' || text))
    WHERE flagged;

CREATE TABLE findings (
    id                UUID PRIMARY KEY,
    post_id           UUID NOT NULL REFERENCES posts(id),
    version_id        UUID NOT NULL REFERENCES post_versions(id),
    categories        JSONB NOT NULL,
    primary_category  TEXT,
    scores            JSONB NOT NULL,
    score             DOUBLE PRECISION NOT NULL,
    severity          TEXT NOT NULL,
    severity_rank     BIGINT NOT NULL,
    reasons           JSONB NOT NULL,
    entities          JSONB NOT NULL,
    lexicon_version   TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'dismissed')),
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX findings_queue ON findings (status, severity_rank DESC, score DESC);
CREATE INDEX findings_post ON findings (post_id, created_at);
CREATE INDEX findings_version ON findings (version_id);

CREATE TABLE entities (
    post_id     UUID NOT NULL REFERENCES posts(id),
    version_id  UUID NOT NULL REFERENCES post_versions(id),
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (version_id, kind, value)
);
CREATE INDEX entities_value ON entities (value, kind);
CREATE INDEX entities_post ON entities (post_id);

CREATE TABLE agencies (
    id          UUID PRIMARY KEY,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE units (
    id           UUID PRIMARY KEY,
    agency_id    UUID NOT NULL REFERENCES agencies(id),
    name         TEXT NOT NULL,
    region_code  TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (agency_id, name)
);

CREATE TABLE users (
    id             UUID PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL,
    agency         TEXT NOT NULL,
    agency_id      UUID REFERENCES agencies(id),
    unit_id        UUID REFERENCES units(id),
    region_code    TEXT,
    disabled       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE verdicts (
    id          UUID PRIMARY KEY,
    finding_id  UUID NOT NULL REFERENCES findings(id),
    post_id     UUID NOT NULL REFERENCES posts(id),
    user_id     UUID NOT NULL REFERENCES users(id),
    verdict     TEXT NOT NULL CHECK (verdict IN ('confirmed', 'dismissed')),
    reason      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX verdicts_post ON verdicts (post_id, created_at);
CREATE INDEX verdicts_finding ON verdicts (finding_id);

CREATE TABLE api_tokens (
    id            UUID PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    platform_id   UUID REFERENCES platforms(id),
    user_id       UUID REFERENCES users(id),
    created_by    UUID REFERENCES users(id),
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ
);

CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Append-only hash chain; see patroli_core::audit. Appends hold an advisory lock.
CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
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
