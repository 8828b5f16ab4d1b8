-- Ingest throughput: the store now writes a finding's region code in its INSERT, so the insert
-- trigger no longer rewrites every new finding row (a finding carries its reasons and entities as
-- JSON: rewriting it cost about as much as inserting it). The region trigger stays as a safety net
-- for any insert that leaves the code out or disagrees with the post; the `latest` bookkeeping is
-- unchanged. Never edit this file once committed: add a new migration instead.

DROP TRIGGER findings_intel_insert;

CREATE TRIGGER findings_intel_region AFTER INSERT ON findings
    WHEN new.region_code IS NOT (SELECT p.region_code FROM posts p WHERE p.id = new.post_id) BEGIN
    UPDATE findings SET region_code = (SELECT p.region_code FROM posts p WHERE p.id = new.post_id)
        WHERE id = new.id;
END;

CREATE TRIGGER findings_intel_latest AFTER INSERT ON findings BEGIN
    UPDATE findings SET latest = 0 WHERE post_id = new.post_id AND id <> new.id AND +latest = 1;
END;
