-- Ingest throughput fix for 0021's trigger. Without statistics SQLite answered
-- `post_id = ? AND latest = 1` from the stats indexes that lead on `latest`, scanning every latest
-- finding for each inserted one: ingest went quadratic (23k -> 4k posts/s at 100k posts).
-- `+latest` keeps `latest` out of index choice, so the lookup goes through findings_post.
-- Numbered apart from the intel series (0020..) so the two can grow without colliding.

DROP TRIGGER findings_intel_insert;

CREATE TRIGGER findings_intel_insert AFTER INSERT ON findings BEGIN
    UPDATE findings SET region_code = (SELECT p.region_code FROM posts p WHERE p.id = new.post_id)
        WHERE id = new.id;
    UPDATE findings SET latest = 0 WHERE post_id = new.post_id AND id <> new.id AND +latest = 1;
END;
