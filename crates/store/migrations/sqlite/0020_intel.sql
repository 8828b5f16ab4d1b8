-- Issue 5: partner watch-list entries (from STIX imports) and indexes for the statistics queries.
-- Never edit this file once committed: add a new migration instead.

CREATE TABLE watch_list (
    id           TEXT PRIMARY KEY,
    -- patroli_core::network::ContactKind as text, and the normalized value.
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    -- The partner's indicator id (`indicator--...`): re-importing the same bundle updates the row.
    source_id    TEXT NOT NULL,
    name         TEXT,
    labels       TEXT NOT NULL,
    tlp          TEXT,
    valid_until  TEXT,
    imported_by  TEXT,
    created_at   TEXT NOT NULL,
    UNIQUE (source_id, kind, value)
);
CREATE INDEX watch_list_value ON watch_list (value, kind);

-- Statistics group findings by time, status and category and join their posts for the region:
-- a covering index keeps the scan off the wide findings rows.
CREATE INDEX findings_stats ON findings (created_at, post_id, status, primary_category);
