-- Issue 5: 0021's insert trigger let SQLite's planner (without ANALYZE statistics) pick the
-- statistics index, whose first column is `latest`, to find a post's older findings: a scan of
-- every latest finding per insert, quadratic on bulk ingest. `+latest` keeps that term off
-- every index, leaving findings_post (post_id) as the only way in.
-- Never edit this file once committed: add a new migration instead.

DROP TRIGGER findings_intel_insert;
CREATE TRIGGER findings_intel_insert AFTER INSERT ON findings BEGIN
    UPDATE findings SET region_code = (SELECT p.region_code FROM posts p WHERE p.id = new.post_id)
        WHERE id = new.id;
    UPDATE findings SET latest = 0 WHERE post_id = new.post_id AND id <> new.id AND +latest = 1;
END;
