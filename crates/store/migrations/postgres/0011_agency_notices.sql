-- Issue 4: deconfliction notices addressed to an agency rather than to one of its cases (an analyst
-- confirmed a post that sits in another agency's case). Never edit once committed.

CREATE TABLE agency_notices (
    id             UUID PRIMARY KEY,
    -- Who is told, and about which of their cases (NULL: they have none on it).
    agency_id      UUID NOT NULL REFERENCES agencies(id),
    case_id        UUID REFERENCES cases(id),
    post_id        UUID NOT NULL REFERENCES posts(id),
    other_agency   TEXT NOT NULL,
    other_unit     TEXT,
    other_contact  TEXT NOT NULL,
    other_case_id  UUID REFERENCES cases(id),
    matched_on     TEXT NOT NULL,
    dedup_key      TEXT NOT NULL UNIQUE,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX agency_notices_agency ON agency_notices (agency_id, created_at);
CREATE INDEX agency_notices_case ON agency_notices (case_id);
