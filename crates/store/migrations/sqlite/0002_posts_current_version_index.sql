-- While posts.current_version_id has deferred violations (inside an ingest transaction, posts are
-- inserted before their first version), SQLite looks up posts by current_version_id for every
-- inserted version. Without this index that is a table scan per version: ingest went quadratic.
CREATE INDEX posts_current_version ON posts (current_version_id);
