-- Issue 4: a public report that shares a link or an extracted contact with an earlier report
-- names that report (`duplicate_of_report`, staff only). `report_keys` holds each report's link
-- and the contacts screening extracted from what the reporter wrote about the reported party
-- (never the reporter's own sealed contact). Never edit once committed.

ALTER TABLE public_reports ADD COLUMN duplicate_of_report TEXT REFERENCES public_reports(id);

CREATE TABLE report_keys (
    report_id  TEXT NOT NULL REFERENCES public_reports(id),
    value      TEXT NOT NULL,
    PRIMARY KEY (report_id, value)
);
CREATE INDEX report_keys_value ON report_keys (value);
