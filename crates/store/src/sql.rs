//! The `Store` implementation shared by both backends.
//!
//! One body of SQL serves SQLite and PostgreSQL (see `db.rs`); the few places where the dialects
//! differ (full-text search, JSON containment, advisory locks) branch on `is_pg`. The backend
//! modules only open pools and run their migrations.

use crate::db::{Arg, Db, Row, Sql, Tx, insert_rows};
use crate::error::{Result, StoreError};
use crate::store::{Backend, Store};
use crate::types::*;
use async_trait::async_trait;
use patroli_core::audit::{AuditBreak, AuditEntry, ChainVerifier, NewAuditEntry, truncate_time};
use patroli_core::{
    AccountId, AgencyId, AgencyKind, Category, FindingId, FindingStatus, PlatformId, PostId,
    PostVersionId, Role, Severity, TokenId, UnitId, UserId, VerdictId, VerdictKind,
};
use patroli_detect::EntityKind;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::marker::PhantomData;
use time::OffsetDateTime;

/// A store on one of the two backends; `B` only names which (see `SqliteStore` and `PgStore`).
pub struct SqlStore<B> {
    pub(crate) db: Db,
    pub(crate) _backend: PhantomData<fn() -> B>,
}

/// Marker for the SQLite backend.
pub enum SqliteBackend {}
/// Marker for the PostgreSQL backend.
pub enum PgBackend {}

pub(crate) fn now() -> OffsetDateTime {
    truncate_time(OffsetDateTime::now_utc())
}

fn severity_str(s: Severity) -> &'static str {
    match s {
        Severity::None => "none",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

fn severity_rank(s: Severity) -> i64 {
    match s {
        Severity::None => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

fn severity_parse(s: &str) -> Result<Severity> {
    Ok(match s {
        "none" => Severity::None,
        "low" => Severity::Low,
        "medium" => Severity::Medium,
        "high" => Severity::High,
        "critical" => Severity::Critical,
        other => {
            return Err(StoreError::Corrupt {
                column: "severity",
                detail: format!("unknown severity `{other}`"),
            });
        }
    })
}

pub(crate) fn entity_kind_str(k: EntityKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn entity_kind_parse(s: &str) -> Result<EntityKind> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|e| {
        StoreError::Corrupt {
            column: "entities.kind",
            detail: e.to_string(),
        }
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Invalid(format!("cannot encode JSON: {e}")))
}

/// Hex SHA-256 identifying a post's content: title, text, price and posting time. Two sends with
/// the same hash are the same version.
pub fn content_hash(post: &IngestPost) -> String {
    let body = serde_json::json!([
        post.title,
        post.text,
        post.price,
        post.posted_at.map(patroli_core::audit::format_time),
    ]);
    hex::encode(Sha256::digest(body.to_string().as_bytes()))
}

/// Handles are compared lower-cased and without a leading `@`.
fn normalize_handle(h: &str) -> Option<String> {
    let h = h.trim().trim_start_matches('@').trim().to_lowercase();
    (!h.is_empty()).then_some(h)
}

/// Words of a search box turned into an FTS5 query: each word quoted (so operators typed by a user
/// are text), all required.
fn fts5_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\""))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

fn page_limit(limit: u32) -> i64 {
    match limit {
        0 => 50,
        n => i64::from(n.min(1000)),
    }
}

const POST_COLUMNS: &str = "p.id, p.platform_id, pl.name AS platform, p.account_id, \
    a.handle AS account_handle, p.external_id, p.url, p.location, p.region_code, p.first_seen, \
    p.last_seen, p.current_version_id, p.version_count, p.flagged, v.title, v.text, v.price, \
    v.posted_at";

const POST_FROM: &str = " FROM posts p JOIN platforms pl ON pl.id = p.platform_id \
    LEFT JOIN accounts a ON a.id = p.account_id \
    JOIN post_versions v ON v.id = p.current_version_id";

fn post_from_row(r: &Row) -> Result<PostRecord> {
    Ok(PostRecord {
        id: PostId(r.uuid("id")?),
        platform_id: PlatformId(r.uuid("platform_id")?),
        platform: r.text("platform")?,
        account_id: r.opt_uuid("account_id")?.map(AccountId),
        account_handle: r.opt_text("account_handle")?,
        external_id: r.text("external_id")?,
        url: r.opt_text("url")?,
        location: r.opt_text("location")?,
        region_code: r.opt_text("region_code")?,
        first_seen: r.time("first_seen")?,
        last_seen: r.time("last_seen")?,
        current_version_id: PostVersionId(r.uuid("current_version_id")?),
        version_count: r.i64("version_count")?,
        title: r.opt_text("title")?,
        text: r.text("text")?,
        price: r.opt_f64("price")?,
        posted_at: r.opt_time("posted_at")?,
        flagged: r.bool("flagged")?,
    })
}

const FINDING_COLUMNS: &str = "f.id AS f_id, f.post_id AS f_post_id, f.version_id AS f_version_id, \
    f.categories, f.scores, f.score, f.severity, f.reasons, f.entities, f.lexicon_version, \
    f.status, f.created_at AS f_created_at, f.updated_at AS f_updated_at, \
    (f.version_id = p.current_version_id) AS f_current";

fn finding_from_row(r: &Row) -> Result<FindingRecord> {
    let categories: Vec<String> = r.json("categories")?;
    let categories = categories
        .iter()
        .map(|c| {
            c.parse::<Category>().map_err(|e| StoreError::Corrupt {
                column: "findings.categories",
                detail: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(FindingRecord {
        id: FindingId(r.uuid("f_id")?),
        post_id: PostId(r.uuid("f_post_id")?),
        version_id: PostVersionId(r.uuid("f_version_id")?),
        categories,
        scores: r.json("scores")?,
        score: r.f64("score")? as f32,
        severity: severity_parse(&r.text("severity")?)?,
        reasons: r.json("reasons")?,
        entities: r.json("entities")?,
        lexicon_version: r.text("lexicon_version")?,
        status: r.parse::<FindingStatus>("status")?,
        current: r.bool("f_current")?,
        created_at: r.time("f_created_at")?,
        updated_at: r.time("f_updated_at")?,
    })
}

fn version_from_row(r: &Row) -> Result<PostVersionRecord> {
    Ok(PostVersionRecord {
        id: PostVersionId(r.uuid("id")?),
        post_id: PostId(r.uuid("post_id")?),
        version: r.i64("version")?,
        title: r.opt_text("title")?,
        text: r.text("text")?,
        price: r.opt_f64("price")?,
        declared_category: r.opt_text("declared_category")?,
        posted_at: r.opt_time("posted_at")?,
        content_hash: r.text("content_hash")?,
        seen_at: r.time("seen_at")?,
    })
}

const VERDICT_SELECT: &str = "SELECT vd.id, vd.finding_id, vd.post_id, vd.user_id, u.username, \
    vd.verdict, vd.reason, vd.created_at FROM verdicts vd JOIN users u ON u.id = vd.user_id";

fn verdict_from_row(r: &Row) -> Result<VerdictRecord> {
    Ok(VerdictRecord {
        id: VerdictId(r.uuid("id")?),
        finding_id: FindingId(r.uuid("finding_id")?),
        post_id: PostId(r.uuid("post_id")?),
        user_id: UserId(r.uuid("user_id")?),
        username: r.text("username")?,
        verdict: r.parse::<VerdictKind>("verdict")?,
        reason: r.text("reason")?,
        created_at: r.time("created_at")?,
    })
}

const USER_SELECT: &str = "SELECT id, username, display_name, password_hash, role, agency, \
    agency_id, unit_id, region_code, disabled, created_at FROM users";

fn user_from_row(r: &Row) -> Result<UserRecord> {
    Ok(UserRecord {
        id: UserId(r.uuid("id")?),
        username: r.text("username")?,
        display_name: r.opt_text("display_name")?,
        password_hash: r.text("password_hash")?,
        role: r.parse::<Role>("role")?,
        agency: r.parse::<AgencyKind>("agency")?,
        agency_id: r.opt_uuid("agency_id")?.map(AgencyId),
        unit_id: r.opt_uuid("unit_id")?.map(UnitId),
        region_code: r.opt_text("region_code")?,
        disabled: r.bool("disabled")?,
        created_at: r.time("created_at")?,
    })
}

const TOKEN_SELECT: &str = "SELECT t.id, t.token_hash, t.name, t.role, t.platform_id, \
    pl.name AS platform, t.user_id, t.created_by, t.created_at, t.last_used_at, t.revoked_at \
    FROM api_tokens t LEFT JOIN platforms pl ON pl.id = t.platform_id";

fn token_from_row(r: &Row) -> Result<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        id: TokenId(r.uuid("id")?),
        token_hash: r.text("token_hash")?,
        name: r.text("name")?,
        role: r.parse::<Role>("role")?,
        platform_id: r.opt_uuid("platform_id")?.map(PlatformId),
        platform: r.opt_text("platform")?,
        user_id: r.opt_uuid("user_id")?.map(UserId),
        created_by: r.opt_uuid("created_by")?.map(UserId),
        created_at: r.time("created_at")?,
        last_used_at: r.opt_time("last_used_at")?,
        revoked_at: r.opt_time("revoked_at")?,
    })
}

fn session_from_row(r: &Row) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id_hash: r.text("id_hash")?,
        user_id: UserId(r.uuid("user_id")?),
        csrf_token: r.text("csrf_token")?,
        created_at: r.time("created_at")?,
        expires_at: r.time("expires_at")?,
    })
}

fn platform_from_row(r: &Row) -> Result<PlatformRecord> {
    Ok(PlatformRecord {
        id: PlatformId(r.uuid("id")?),
        name: r.text("name")?,
        created_at: r.time("created_at")?,
    })
}

fn agency_from_row(r: &Row) -> Result<AgencyRecord> {
    Ok(AgencyRecord {
        id: AgencyId(r.uuid("id")?),
        kind: r.parse::<AgencyKind>("kind")?,
        name: r.text("name")?,
        created_at: r.time("created_at")?,
    })
}

fn unit_from_row(r: &Row) -> Result<UnitRecord> {
    Ok(UnitRecord {
        id: UnitId(r.uuid("id")?),
        agency_id: AgencyId(r.uuid("agency_id")?),
        name: r.text("name")?,
        region_code: r.opt_text("region_code")?,
        created_at: r.time("created_at")?,
    })
}

fn region_from_row(r: &Row) -> Result<RegionRecord> {
    let level = r.text("level")?;
    Ok(RegionRecord {
        code: r.text("code")?,
        name: r.text("name")?,
        level: RegionLevel::parse(&level).ok_or_else(|| StoreError::Corrupt {
            column: "regions.level",
            detail: format!("unknown level `{level}`"),
        })?,
        parent_code: r.opt_text("parent_code")?,
    })
}

fn entity_from_row(r: &Row) -> Result<EntityRecord> {
    Ok(EntityRecord {
        post_id: PostId(r.uuid("post_id")?),
        version_id: PostVersionId(r.uuid("version_id")?),
        kind: entity_kind_parse(&r.text("kind")?)?,
        value: r.text("value")?,
    })
}

fn audit_from_row(r: &Row) -> Result<AuditEntry> {
    let detail = r.text("detail")?;
    Ok(AuditEntry {
        seq: r.i64("seq")?,
        at: r.time("at")?,
        actor: r.text("actor")?,
        action: r.text("action")?,
        target: r.opt_text("target")?,
        detail: serde_json::from_str(&detail).map_err(|e| StoreError::Corrupt {
            column: "audit_log.detail",
            detail: e.to_string(),
        })?,
        prev_hash: r.text("prev_hash")?,
        hash: r.text("hash")?,
    })
}

/// Maps a unique violation to `Conflict { what }`, leaving other errors alone.
fn conflict_as(what: &'static str) -> impl FnOnce(StoreError) -> StoreError {
    move |e| {
        if e.is_conflict() {
            StoreError::Conflict { what }
        } else {
            e
        }
    }
}

/// State of one post while a batch is planned.
struct PostState {
    id: PostId,
    version_id: PostVersionId,
    version_count: i64,
    hash: String,
    flagged: bool,
    /// Index into the batch's new-post rows when the post is created by this batch.
    new_row: Option<usize>,
    changed: bool,
    location: Option<String>,
    region_code: Option<String>,
    url: Option<String>,
}

impl<B: Send + Sync + 'static> SqlStore<B> {
    async fn ensure_platform_in(&self, tx: &mut Tx, name: &str) -> Result<PlatformId> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("platform name is empty".into()));
        }
        tx.exec(
            "INSERT INTO platforms (id, name, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
            vec![
                Arg::uuid(PlatformId::new().0),
                Arg::text(name),
                Arg::time(now()),
            ],
        )
        .await?;
        let row = tx
            .opt(
                "SELECT id FROM platforms WHERE name = $1",
                vec![Arg::text(name)],
            )
            .await?
            .ok_or(StoreError::NotFound { what: "platform" })?;
        Ok(PlatformId(row.uuid("id")?))
    }

    async fn findings_where(&self, sql: &str, args: Vec<Arg>) -> Result<Vec<FindingRecord>> {
        self.db
            .all(sql, args)
            .await?
            .iter()
            .map(finding_from_row)
            .collect()
    }

    async fn ingest_in(
        &self,
        tx: &mut Tx,
        platform: &str,
        posts: Vec<ScreenedPost>,
    ) -> Result<Vec<IngestOutcome>> {
        let pg = tx.is_pg();
        let platform_id = self.ensure_platform_in(tx, platform).await?;
        if pg {
            // Two batches of one platform must not both create the same post or account.
            tx.exec(
                "SELECT pg_advisory_xact_lock(1, hashtext($1))",
                vec![Arg::text(platform_id.to_string())],
            )
            .await?;
        }
        let now = now();

        // Accounts: look the batch's handles up at once, create the missing ones in one go.
        let mut handles: Vec<(String, Option<String>)> = Vec::new();
        let mut seen_handles = BTreeSet::new();
        for sp in &posts {
            if let Some(h) = sp.post.account_handle.as_deref().and_then(normalize_handle)
                && seen_handles.insert(h.clone())
            {
                handles.push((h, sp.post.account_name.clone()));
            }
        }
        let mut accounts: HashMap<String, AccountId> = HashMap::new();
        for chunk in handles.chunks(500) {
            let mut q = Sql::new(pg, "SELECT id, handle FROM accounts WHERE platform_id = ");
            q.arg(Arg::uuid(platform_id.0)).push(" AND handle IN (");
            for (i, (h, _)) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(",");
                }
                q.arg(Arg::text(h.clone()));
            }
            q.push(")");
            for r in tx.all(&q.text, q.args).await? {
                accounts.insert(r.text("handle")?, AccountId(r.uuid("id")?));
            }
        }
        let mut account_rows = Vec::new();
        for (h, name) in &handles {
            if !accounts.contains_key(h) {
                let id = AccountId::new();
                accounts.insert(h.clone(), id);
                account_rows.push(vec![
                    Arg::uuid(id.0),
                    Arg::uuid(platform_id.0),
                    Arg::text(h.clone()),
                    Arg::Text(name.clone()),
                    Arg::time(now),
                ]);
            }
        }
        insert_rows(
            tx,
            "INSERT INTO accounts (id, platform_id, handle, display_name, first_seen)",
            account_rows,
            "",
        )
        .await?;

        // Posts already stored.
        let mut states: HashMap<String, PostState> = HashMap::new();
        let mut ext_ids: Vec<&str> = posts.iter().map(|p| p.post.external_id.as_str()).collect();
        ext_ids.sort_unstable();
        ext_ids.dedup();
        for chunk in ext_ids.chunks(500) {
            let mut q = Sql::new(
                pg,
                "SELECT id, external_id, current_version_id, version_count, content_hash, flagged, \
                 location, region_code, url FROM posts WHERE platform_id = ",
            );
            q.arg(Arg::uuid(platform_id.0))
                .push(" AND external_id IN (");
            for (i, e) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(",");
                }
                q.arg(Arg::text(*e));
            }
            q.push(")");
            for r in tx.all(&q.text, q.args).await? {
                states.insert(
                    r.text("external_id")?,
                    PostState {
                        id: PostId(r.uuid("id")?),
                        version_id: PostVersionId(r.uuid("current_version_id")?),
                        version_count: r.i64("version_count")?,
                        hash: r.text("content_hash")?,
                        flagged: r.bool("flagged")?,
                        new_row: None,
                        changed: false,
                        location: r.opt_text("location")?,
                        region_code: r.opt_text("region_code")?,
                        url: r.opt_text("url")?,
                    },
                );
            }
        }

        // Plan: decide each post's fate in input order, collecting rows for multi-row inserts.
        let mut new_posts: Vec<(String, Option<AccountId>)> = Vec::new();
        let mut version_rows = Vec::new();
        let mut finding_rows = Vec::new();
        let mut entity_rows = Vec::new();
        let mut touched: Vec<PostId> = Vec::new();
        let mut outcomes = Vec::with_capacity(posts.len());
        for sp in posts {
            let ScreenedPost { post, screening } = sp;
            if post.external_id.trim().is_empty() {
                return Err(StoreError::Invalid("post without external id".into()));
            }
            let hash = content_hash(&post);
            let account = post
                .account_handle
                .as_deref()
                .and_then(normalize_handle)
                .and_then(|h| accounts.get(&h).copied());
            let status = match states.get_mut(&post.external_id) {
                Some(st) if st.hash == hash => {
                    if st.new_row.is_none() && !st.changed {
                        touched.push(st.id);
                    }
                    outcomes.push(IngestOutcome {
                        post_id: st.id,
                        version_id: st.version_id,
                        status: IngestStatus::Unchanged,
                        version: st.version_count,
                        flagged: st.flagged,
                        finding_id: None,
                    });
                    continue;
                }
                Some(st) => {
                    st.version_id = PostVersionId::new();
                    st.version_count += 1;
                    st.hash = hash.clone();
                    st.flagged = screening.flagged;
                    st.changed = st.new_row.is_none();
                    // Newer sends may add a place or URL; never erase one with a missing value.
                    if post.location.is_some() {
                        st.location = post.location.clone();
                    }
                    if post.region_code.is_some() {
                        st.region_code = post.region_code.clone();
                    }
                    if post.url.is_some() {
                        st.url = post.url.clone();
                    }
                    IngestStatus::NewVersion
                }
                None => {
                    new_posts.push((post.external_id.clone(), account));
                    states.insert(
                        post.external_id.clone(),
                        PostState {
                            id: PostId::new(),
                            version_id: PostVersionId::new(),
                            version_count: 1,
                            hash: hash.clone(),
                            flagged: screening.flagged,
                            new_row: Some(new_posts.len() - 1),
                            changed: false,
                            location: post.location.clone(),
                            region_code: post.region_code.clone(),
                            url: post.url.clone(),
                        },
                    );
                    IngestStatus::Created
                }
            };
            let st = &states[&post.external_id];
            version_rows.push(vec![
                Arg::uuid(st.version_id.0),
                Arg::uuid(st.id.0),
                Arg::Int(Some(st.version_count)),
                Arg::Text(post.title.clone()),
                Arg::Text(Some(post.text.clone())),
                Arg::Real(post.price),
                Arg::Text(post.declared_category.clone()),
                Arg::Time(post.posted_at),
                Arg::text(hash),
                Arg::Bool(screening.flagged),
                Arg::time(now),
            ]);
            let mut seen_entities = BTreeSet::new();
            for e in &screening.entities {
                let kind = entity_kind_str(e.kind);
                if seen_entities.insert((kind.clone(), e.value.clone())) {
                    entity_rows.push(vec![
                        Arg::uuid(st.id.0),
                        Arg::uuid(st.version_id.0),
                        Arg::text(kind),
                        Arg::text(e.value.clone()),
                    ]);
                }
            }
            let finding_id = if screening.flagged {
                let id = FindingId::new();
                let cats: Vec<&str> = screening.categories.iter().map(|c| c.id()).collect();
                finding_rows.push(vec![
                    Arg::uuid(id.0),
                    Arg::uuid(st.id.0),
                    Arg::uuid(st.version_id.0),
                    Arg::Json(to_json(&cats)?),
                    Arg::Text(screening.categories.first().map(|c| c.id().to_string())),
                    Arg::Json(to_json(&screening.scores)?),
                    Arg::Real(Some(f64::from(screening.score))),
                    Arg::text(severity_str(screening.severity)),
                    Arg::Int(Some(severity_rank(screening.severity))),
                    Arg::Json(to_json(&screening.reasons)?),
                    Arg::Json(to_json(&screening.entities)?),
                    Arg::text(screening.lexicon_version.clone()),
                    Arg::text(FindingStatus::Pending.as_str()),
                    Arg::time(now),
                    Arg::time(now),
                    Arg::Text(st.region_code.clone()),
                ]);
                Some(id)
            } else {
                None
            };
            outcomes.push(IngestOutcome {
                post_id: st.id,
                version_id: st.version_id,
                status,
                version: st.version_count,
                flagged: st.flagged,
                finding_id,
            });
        }

        // Write: posts first (versions reference them), then versions, findings, entities.
        let mut post_rows = Vec::with_capacity(new_posts.len());
        for (ext, account) in &new_posts {
            let st = &states[ext];
            post_rows.push(vec![
                Arg::uuid(st.id.0),
                Arg::uuid(platform_id.0),
                Arg::Uuid(account.map(|a| a.0)),
                Arg::text(ext.clone()),
                Arg::Text(st.url.clone()),
                Arg::Text(st.location.clone()),
                Arg::Text(st.region_code.clone()),
                Arg::time(now),
                Arg::time(now),
                Arg::uuid(st.version_id.0),
                Arg::Int(Some(st.version_count)),
                Arg::text(st.hash.clone()),
                Arg::Bool(st.flagged),
            ]);
        }
        insert_rows(
            tx,
            "INSERT INTO posts (id, platform_id, account_id, external_id, url, location, \
             region_code, first_seen, last_seen, current_version_id, version_count, content_hash, \
             flagged)",
            post_rows,
            "",
        )
        .await?;
        insert_rows(
            tx,
            "INSERT INTO post_versions (id, post_id, version, title, text, price, \
             declared_category, posted_at, content_hash, flagged, seen_at)",
            version_rows,
            "",
        )
        .await?;
        insert_rows(
            tx,
            "INSERT INTO findings (id, post_id, version_id, categories, primary_category, scores, \
             score, severity, severity_rank, reasons, entities, lexicon_version, status, \
             created_at, updated_at, region_code)",
            finding_rows,
            "",
        )
        .await?;
        insert_rows(
            tx,
            "INSERT INTO entities (post_id, version_id, kind, value)",
            entity_rows,
            " ON CONFLICT DO NOTHING",
        )
        .await?;
        for st in states.values().filter(|s| s.changed) {
            tx.exec(
                "UPDATE posts SET current_version_id = $1, version_count = $2, content_hash = $3, \
                 flagged = $4, last_seen = $5, location = $6, region_code = $7, url = $8 \
                 WHERE id = $9",
                vec![
                    Arg::uuid(st.version_id.0),
                    Arg::Int(Some(st.version_count)),
                    Arg::text(st.hash.clone()),
                    Arg::Bool(st.flagged),
                    Arg::time(now),
                    Arg::Text(st.location.clone()),
                    Arg::Text(st.region_code.clone()),
                    Arg::Text(st.url.clone()),
                    Arg::uuid(st.id.0),
                ],
            )
            .await?;
        }
        touched.sort_unstable();
        touched.dedup();
        for chunk in touched.chunks(500) {
            let mut q = Sql::new(pg, "UPDATE posts SET last_seen = ");
            q.arg(Arg::time(now)).push(" WHERE id IN (");
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(",");
                }
                q.arg(Arg::uuid(id.0));
            }
            q.push(")");
            tx.exec(&q.text, q.args).await?;
        }
        Ok(outcomes)
    }

    async fn verdict_in(&self, tx: &mut Tx, v: NewVerdict) -> Result<VerdictRecord> {
        let row = tx
            .opt(
                "SELECT post_id FROM findings WHERE id = $1",
                vec![Arg::uuid(v.finding_id.0)],
            )
            .await?
            .ok_or(StoreError::NotFound { what: "finding" })?;
        let post_id = PostId(row.uuid("post_id")?);
        let user = tx
            .opt(
                "SELECT username FROM users WHERE id = $1",
                vec![Arg::uuid(v.user_id.0)],
            )
            .await?
            .ok_or(StoreError::NotFound { what: "user" })?;
        let id = VerdictId::new();
        let at = now();
        tx.exec(
            "INSERT INTO verdicts (id, finding_id, post_id, user_id, verdict, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                Arg::uuid(id.0),
                Arg::uuid(v.finding_id.0),
                Arg::uuid(post_id.0),
                Arg::uuid(v.user_id.0),
                Arg::text(v.verdict.as_str()),
                Arg::text(v.reason.clone()),
                Arg::time(at),
            ],
        )
        .await?;
        tx.exec(
            "UPDATE findings SET status = $1, updated_at = $2 WHERE id = $3",
            vec![
                Arg::text(FindingStatus::from(v.verdict).as_str()),
                Arg::time(at),
                Arg::uuid(v.finding_id.0),
            ],
        )
        .await?;
        Ok(VerdictRecord {
            id,
            finding_id: v.finding_id,
            post_id,
            user_id: v.user_id,
            username: user.text("username")?,
            verdict: v.verdict,
            reason: v.reason,
            created_at: at,
        })
    }

    fn backend_kind(&self) -> Backend {
        if self.db.is_pg() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Applies the queue filter's WHERE clauses (shared by the page and its count).
fn finding_filter_sql(pg: bool, q: &mut Sql, f: &FindingFilter) {
    q.push(" WHERE 1 = 1");
    if !f.include_superseded {
        q.push(" AND f.version_id = p.current_version_id");
    }
    if let Some(s) = f.status {
        q.push(" AND f.status = ").arg(Arg::text(s.as_str()));
    }
    if let Some(c) = f.category {
        if pg {
            q.push(" AND f.categories ? ").arg(Arg::text(c.id()));
        } else {
            q.push(" AND f.categories LIKE ")
                .arg(Arg::text(format!("%\"{}\"%", c.id())));
        }
    }
    if let Some(p) = &f.platform {
        q.push(" AND pl.name = ").arg(Arg::text(p.clone()));
    }
    if let Some(r) = &f.region_prefix {
        q.region_within("p.region_code", r);
    }
    if let Some(r) = &f.scope_prefix {
        q.region_within("p.region_code", r);
    }
    if let Some(s) = f.min_severity {
        q.push(" AND f.severity_rank >= ")
            .arg(Arg::Int(Some(severity_rank(s))));
    }
    if let Some(t) = f.from {
        q.push(" AND p.first_seen >= ").arg(Arg::time(t));
    }
    if let Some(t) = f.to {
        q.push(" AND p.first_seen < ").arg(Arg::time(t));
    }
    if let Some(text) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if pg {
            q.push(
                " AND v.flagged AND to_tsvector('simple', coalesce(v.title, '') || ' ' || v.text) \
                 @@ plainto_tsquery('simple', ",
            )
            .arg(Arg::text(text))
            .push(")");
        } else {
            match fts5_query(text) {
                Some(m) => {
                    q.push(
                        " AND v.seq IN (SELECT rowid FROM post_versions_fts \
                         WHERE post_versions_fts MATCH ",
                    )
                    .arg(Arg::text(m))
                    .push(")");
                }
                // Only punctuation: nothing can match a word search.
                None => {
                    q.push(" AND 1 = 0");
                }
            }
        }
    }
}

#[async_trait]
impl<B: Send + Sync + 'static> Store for SqlStore<B> {
    fn backend(&self) -> Backend {
        self.backend_kind()
    }

    async fn ping(&self) -> Result<()> {
        self.db.opt("SELECT 1 AS one", vec![]).await?;
        Ok(())
    }

    async fn close(&self) {
        self.db.close().await;
    }

    async fn ensure_platform(&self, name: &str) -> Result<PlatformRecord> {
        let mut tx = self.db.begin().await?;
        let id = self.ensure_platform_in(&mut tx, name).await?;
        tx.commit().await?;
        self.get_platform(id)
            .await?
            .ok_or(StoreError::NotFound { what: "platform" })
    }

    async fn get_platform(&self, id: PlatformId) -> Result<Option<PlatformRecord>> {
        self.db
            .opt(
                "SELECT id, name, created_at FROM platforms WHERE id = $1",
                vec![Arg::uuid(id.0)],
            )
            .await?
            .as_ref()
            .map(platform_from_row)
            .transpose()
    }

    async fn get_platform_by_name(&self, name: &str) -> Result<Option<PlatformRecord>> {
        self.db
            .opt(
                "SELECT id, name, created_at FROM platforms WHERE name = $1",
                vec![Arg::text(name)],
            )
            .await?
            .as_ref()
            .map(platform_from_row)
            .transpose()
    }

    async fn list_platforms(&self) -> Result<Vec<PlatformRecord>> {
        self.db
            .all(
                "SELECT id, name, created_at FROM platforms ORDER BY name",
                vec![],
            )
            .await?
            .iter()
            .map(platform_from_row)
            .collect()
    }

    async fn ingest_batch(
        &self,
        platform: &str,
        posts: Vec<ScreenedPost>,
    ) -> Result<Vec<IngestOutcome>> {
        if posts.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.db.begin().await?;
        let out = self.ingest_in(&mut tx, platform, posts).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn get_post(&self, id: PostId) -> Result<Option<PostRecord>> {
        let sql = format!("SELECT {POST_COLUMNS}{POST_FROM} WHERE p.id = $1");
        self.db
            .opt(&sql, vec![Arg::uuid(id.0)])
            .await?
            .as_ref()
            .map(post_from_row)
            .transpose()
    }

    async fn get_post_by_external_id(
        &self,
        platform: &str,
        external_id: &str,
    ) -> Result<Option<PostRecord>> {
        let sql =
            format!("SELECT {POST_COLUMNS}{POST_FROM} WHERE pl.name = $1 AND p.external_id = $2");
        self.db
            .opt(&sql, vec![Arg::text(platform), Arg::text(external_id)])
            .await?
            .as_ref()
            .map(post_from_row)
            .transpose()
    }

    async fn post_detail(&self, id: PostId, scope: Option<&str>) -> Result<Option<PostDetail>> {
        let mut q = Sql::new(
            self.db.is_pg(),
            &format!("SELECT {POST_COLUMNS}{POST_FROM}"),
        );
        q.push(" WHERE p.id = ").arg(Arg::uuid(id.0));
        if let Some(s) = scope {
            q.region_within("p.region_code", s);
        }
        let Some(row) = self.db.opt(&q.text, q.args).await? else {
            return Ok(None);
        };
        let post = post_from_row(&row)?;
        let account = match post.account_id {
            Some(a) => self
                .db
                .opt(
                    "SELECT id, platform_id, handle, display_name, first_seen FROM accounts \
                     WHERE id = $1",
                    vec![Arg::uuid(a.0)],
                )
                .await?
                .map(|r| -> Result<AccountRecord> {
                    Ok(AccountRecord {
                        id: AccountId(r.uuid("id")?),
                        platform_id: PlatformId(r.uuid("platform_id")?),
                        handle: r.text("handle")?,
                        display_name: r.opt_text("display_name")?,
                        first_seen: r.time("first_seen")?,
                    })
                })
                .transpose()?,
            None => None,
        };
        let versions = self
            .db
            .all(
                "SELECT id, post_id, version, title, text, price, declared_category, posted_at, \
                 content_hash, seen_at FROM post_versions WHERE post_id = $1 ORDER BY version",
                vec![Arg::uuid(id.0)],
            )
            .await?
            .iter()
            .map(version_from_row)
            .collect::<Result<Vec<_>>>()?;
        let findings = self
            .findings_where(
                &format!(
                    "SELECT {FINDING_COLUMNS} FROM findings f JOIN posts p ON p.id = f.post_id \
                     WHERE f.post_id = $1 ORDER BY f.created_at DESC, f.id DESC"
                ),
                vec![Arg::uuid(id.0)],
            )
            .await?;
        let verdicts = self
            .db
            .all(
                &format!(
                    "{VERDICT_SELECT} WHERE vd.post_id = $1 ORDER BY vd.created_at DESC, vd.id DESC"
                ),
                vec![Arg::uuid(id.0)],
            )
            .await?
            .iter()
            .map(verdict_from_row)
            .collect::<Result<Vec<_>>>()?;
        let account_posts = match post.account_id {
            Some(a) => self.account_posts(a, Some(id), 50).await?,
            None => Vec::new(),
        };
        Ok(Some(PostDetail {
            post,
            account,
            versions,
            findings,
            verdicts,
            account_posts,
        }))
    }

    async fn account_posts(
        &self,
        account: AccountId,
        exclude: Option<PostId>,
        limit: u32,
    ) -> Result<Vec<PostRecord>> {
        let mut q = Sql::new(
            self.db.is_pg(),
            &format!("SELECT {POST_COLUMNS}{POST_FROM}"),
        );
        q.push(" WHERE p.account_id = ").arg(Arg::uuid(account.0));
        if let Some(x) = exclude {
            q.push(" AND p.id <> ").arg(Arg::uuid(x.0));
        }
        q.push(" ORDER BY p.first_seen DESC, p.id DESC LIMIT ")
            .arg(Arg::Int(Some(page_limit(limit))));
        self.db
            .all(&q.text, q.args)
            .await?
            .iter()
            .map(post_from_row)
            .collect()
    }

    async fn list_findings(&self, filter: &FindingFilter) -> Result<Page<QueueItem>> {
        let pg = self.db.is_pg();
        let from = " FROM findings f JOIN posts p ON p.id = f.post_id \
            JOIN platforms pl ON pl.id = p.platform_id \
            LEFT JOIN accounts a ON a.id = p.account_id \
            JOIN post_versions v ON v.id = f.version_id";
        let mut count = Sql::new(pg, &format!("SELECT COUNT(*) AS n{from}"));
        finding_filter_sql(pg, &mut count, filter);
        let total = match self.db.opt(&count.text, count.args).await? {
            Some(r) => r.i64("n")?.max(0) as u64,
            None => 0,
        };
        let mut q = Sql::new(
            pg,
            &format!(
                "SELECT {FINDING_COLUMNS}, pl.name AS platform, a.handle AS account_handle, \
                 p.external_id, p.url, p.location, p.region_code, v.title, v.text, v.posted_at, \
                 p.first_seen{from}"
            ),
        );
        finding_filter_sql(pg, &mut q, filter);
        q.push(
            " ORDER BY f.severity_rank DESC, f.score DESC, p.first_seen DESC, p.id, \
             f.created_at DESC LIMIT ",
        )
        .arg(Arg::Int(Some(page_limit(filter.limit))))
        .push(" OFFSET ")
        .arg(Arg::Int(Some(i64::from(filter.offset))));
        let items = self
            .db
            .all(&q.text, q.args)
            .await?
            .iter()
            .map(|r| -> Result<QueueItem> {
                Ok(QueueItem {
                    finding: finding_from_row(r)?,
                    platform: r.text("platform")?,
                    account_handle: r.opt_text("account_handle")?,
                    external_id: r.text("external_id")?,
                    url: r.opt_text("url")?,
                    location: r.opt_text("location")?,
                    region_code: r.opt_text("region_code")?,
                    title: r.opt_text("title")?,
                    text: r.text("text")?,
                    posted_at: r.opt_time("posted_at")?,
                    first_seen: r.time("first_seen")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total })
    }

    async fn get_finding(&self, id: FindingId) -> Result<Option<FindingRecord>> {
        Ok(self
            .findings_where(
                &format!(
                    "SELECT {FINDING_COLUMNS} FROM findings f JOIN posts p ON p.id = f.post_id \
                     WHERE f.id = $1"
                ),
                vec![Arg::uuid(id.0)],
            )
            .await?
            .pop())
    }

    async fn latest_finding_for_post(&self, post: PostId) -> Result<Option<FindingRecord>> {
        Ok(self
            .findings_where(
                &format!(
                    "SELECT {FINDING_COLUMNS} FROM findings f JOIN posts p ON p.id = f.post_id \
                     WHERE f.post_id = $1 ORDER BY f.created_at DESC, f.id DESC LIMIT 1"
                ),
                vec![Arg::uuid(post.0)],
            )
            .await?
            .pop())
    }

    async fn record_verdict(&self, verdict: NewVerdict) -> Result<VerdictRecord> {
        let mut tx = self.db.begin().await?;
        let rec = self.verdict_in(&mut tx, verdict).await?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn record_post_verdict(
        &self,
        post: PostId,
        user: UserId,
        verdict: VerdictKind,
        reason: &str,
    ) -> Result<VerdictRecord> {
        let mut tx = self.db.begin().await?;
        let row = tx
            .opt(
                "SELECT id FROM findings WHERE post_id = $1 ORDER BY created_at DESC, id DESC \
                 LIMIT 1",
                vec![Arg::uuid(post.0)],
            )
            .await?
            .ok_or(StoreError::NotFound { what: "finding" })?;
        let rec = self
            .verdict_in(
                &mut tx,
                NewVerdict {
                    finding_id: FindingId(row.uuid("id")?),
                    user_id: user,
                    verdict,
                    reason: reason.to_string(),
                },
            )
            .await?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn find_entity(
        &self,
        kind: Option<EntityKind>,
        value: &str,
        limit: u32,
    ) -> Result<Vec<EntityRecord>> {
        let mut q = Sql::new(
            self.db.is_pg(),
            "SELECT post_id, version_id, kind, value FROM entities WHERE value = ",
        );
        q.arg(Arg::text(value));
        if let Some(k) = kind {
            q.push(" AND kind = ").arg(Arg::text(entity_kind_str(k)));
        }
        q.push(" ORDER BY version_id DESC LIMIT ")
            .arg(Arg::Int(Some(page_limit(limit))));
        self.db
            .all(&q.text, q.args)
            .await?
            .iter()
            .map(entity_from_row)
            .collect()
    }

    async fn entities_of_post(&self, post: PostId) -> Result<Vec<EntityRecord>> {
        self.db
            .all(
                "SELECT post_id, version_id, kind, value FROM entities WHERE post_id = $1 \
                 ORDER BY version_id, kind, value",
                vec![Arg::uuid(post.0)],
            )
            .await?
            .iter()
            .map(entity_from_row)
            .collect()
    }

    async fn ensure_agency(&self, kind: AgencyKind, name: &str) -> Result<AgencyRecord> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("agency name is empty".into()));
        }
        self.db
            .exec(
                "INSERT INTO agencies (id, kind, name, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (name) DO NOTHING",
                vec![
                    Arg::uuid(AgencyId::new().0),
                    Arg::text(kind.as_str()),
                    Arg::text(name),
                    Arg::time(now()),
                ],
            )
            .await?;
        self.get_agency_by_name(name)
            .await?
            .ok_or(StoreError::NotFound { what: "agency" })
    }

    async fn get_agency(&self, id: AgencyId) -> Result<Option<AgencyRecord>> {
        self.db
            .opt(
                "SELECT id, kind, name, created_at FROM agencies WHERE id = $1",
                vec![Arg::uuid(id.0)],
            )
            .await?
            .as_ref()
            .map(agency_from_row)
            .transpose()
    }

    async fn get_agency_by_name(&self, name: &str) -> Result<Option<AgencyRecord>> {
        self.db
            .opt(
                "SELECT id, kind, name, created_at FROM agencies WHERE name = $1",
                vec![Arg::text(name)],
            )
            .await?
            .as_ref()
            .map(agency_from_row)
            .transpose()
    }

    async fn list_agencies(&self) -> Result<Vec<AgencyRecord>> {
        self.db
            .all(
                "SELECT id, kind, name, created_at FROM agencies ORDER BY name",
                vec![],
            )
            .await?
            .iter()
            .map(agency_from_row)
            .collect()
    }

    async fn create_unit(
        &self,
        agency: AgencyId,
        name: &str,
        region_code: Option<&str>,
    ) -> Result<UnitRecord> {
        let rec = UnitRecord {
            id: UnitId::new(),
            agency_id: agency,
            name: name.trim().to_string(),
            region_code: region_code.map(str::to_string),
            created_at: now(),
        };
        if rec.name.is_empty() {
            return Err(StoreError::Invalid("unit name is empty".into()));
        }
        self.db
            .exec(
                "INSERT INTO units (id, agency_id, name, region_code, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                vec![
                    Arg::uuid(rec.id.0),
                    Arg::uuid(agency.0),
                    Arg::text(rec.name.clone()),
                    Arg::Text(rec.region_code.clone()),
                    Arg::time(rec.created_at),
                ],
            )
            .await
            .map_err(conflict_as("unit"))?;
        Ok(rec)
    }

    async fn get_unit(&self, id: UnitId) -> Result<Option<UnitRecord>> {
        self.db
            .opt(
                "SELECT id, agency_id, name, region_code, created_at FROM units WHERE id = $1",
                vec![Arg::uuid(id.0)],
            )
            .await?
            .as_ref()
            .map(unit_from_row)
            .transpose()
    }

    async fn list_units(&self, agency: Option<AgencyId>) -> Result<Vec<UnitRecord>> {
        let mut q = Sql::new(
            self.db.is_pg(),
            "SELECT id, agency_id, name, region_code, created_at FROM units",
        );
        if let Some(a) = agency {
            q.push(" WHERE agency_id = ").arg(Arg::uuid(a.0));
        }
        q.push(" ORDER BY name");
        self.db
            .all(&q.text, q.args)
            .await?
            .iter()
            .map(unit_from_row)
            .collect()
    }

    async fn create_user(&self, user: NewUser) -> Result<UserRecord> {
        let username = user.username.trim().to_string();
        if username.is_empty() {
            return Err(StoreError::Invalid("username is empty".into()));
        }
        let rec = UserRecord {
            id: UserId::new(),
            username,
            display_name: user.display_name,
            password_hash: user.password_hash,
            role: user.role,
            agency: user.agency,
            agency_id: user.agency_id,
            unit_id: user.unit_id,
            region_code: user.region_code,
            disabled: false,
            created_at: now(),
        };
        self.db
            .exec(
                "INSERT INTO users (id, username, display_name, password_hash, role, agency, \
                 agency_id, unit_id, region_code, disabled, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                vec![
                    Arg::uuid(rec.id.0),
                    Arg::text(rec.username.clone()),
                    Arg::Text(rec.display_name.clone()),
                    Arg::text(rec.password_hash.clone()),
                    Arg::text(rec.role.as_str()),
                    Arg::text(rec.agency.as_str()),
                    Arg::Uuid(rec.agency_id.map(|a| a.0)),
                    Arg::Uuid(rec.unit_id.map(|u| u.0)),
                    Arg::Text(rec.region_code.clone()),
                    Arg::Bool(false),
                    Arg::time(rec.created_at),
                ],
            )
            .await
            .map_err(conflict_as("user"))?;
        Ok(rec)
    }

    async fn get_user(&self, id: UserId) -> Result<Option<UserRecord>> {
        self.db
            .opt(
                &format!("{USER_SELECT} WHERE id = $1"),
                vec![Arg::uuid(id.0)],
            )
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn get_user_by_username(&self, username: &str) -> Result<Option<UserRecord>> {
        self.db
            .opt(
                &format!("{USER_SELECT} WHERE username = $1"),
                vec![Arg::text(username.trim())],
            )
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>> {
        self.db
            .all(&format!("{USER_SELECT} ORDER BY username"), vec![])
            .await?
            .iter()
            .map(user_from_row)
            .collect()
    }

    async fn update_user(&self, id: UserId, update: UserUpdate) -> Result<UserRecord> {
        let mut tx = self.db.begin().await?;
        let mut rec = tx
            .opt(
                &format!("{USER_SELECT} WHERE id = $1"),
                vec![Arg::uuid(id.0)],
            )
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound { what: "user" })?;
        if let Some(v) = update.display_name {
            rec.display_name = v;
        }
        if let Some(v) = update.password_hash {
            rec.password_hash = v;
        }
        if let Some(v) = update.role {
            rec.role = v;
        }
        if let Some(v) = update.agency {
            rec.agency = v;
        }
        if let Some(v) = update.agency_id {
            rec.agency_id = v;
        }
        if let Some(v) = update.unit_id {
            rec.unit_id = v;
        }
        if let Some(v) = update.region_code {
            rec.region_code = v;
        }
        if let Some(v) = update.disabled {
            rec.disabled = v;
        }
        tx.exec(
            "UPDATE users SET display_name = $1, password_hash = $2, role = $3, agency = $4, \
             agency_id = $5, unit_id = $6, region_code = $7, disabled = $8 WHERE id = $9",
            vec![
                Arg::Text(rec.display_name.clone()),
                Arg::text(rec.password_hash.clone()),
                Arg::text(rec.role.as_str()),
                Arg::text(rec.agency.as_str()),
                Arg::Uuid(rec.agency_id.map(|a| a.0)),
                Arg::Uuid(rec.unit_id.map(|u| u.0)),
                Arg::Text(rec.region_code.clone()),
                Arg::Bool(rec.disabled),
                Arg::uuid(id.0),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn set_user_disabled(&self, id: UserId, disabled: bool) -> Result<()> {
        let n = self
            .db
            .exec(
                "UPDATE users SET disabled = $1 WHERE id = $2",
                vec![Arg::Bool(disabled), Arg::uuid(id.0)],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound { what: "user" });
        }
        Ok(())
    }

    async fn create_api_token(&self, token: NewApiToken) -> Result<ApiTokenRecord> {
        if token.platform_id.is_none() && token.user_id.is_none() && token.role == Role::Platform {
            return Err(StoreError::Invalid(
                "a platform token needs a platform".into(),
            ));
        }
        let id = TokenId::new();
        self.db
            .exec(
                "INSERT INTO api_tokens (id, token_hash, name, role, platform_id, user_id, \
                 created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vec![
                    Arg::uuid(id.0),
                    Arg::text(token.token_hash),
                    Arg::text(token.name),
                    Arg::text(token.role.as_str()),
                    Arg::Uuid(token.platform_id.map(|p| p.0)),
                    Arg::Uuid(token.user_id.map(|u| u.0)),
                    Arg::Uuid(token.created_by.map(|u| u.0)),
                    Arg::time(now()),
                ],
            )
            .await
            .map_err(conflict_as("api token"))?;
        self.db
            .opt(
                &format!("{TOKEN_SELECT} WHERE t.id = $1"),
                vec![Arg::uuid(id.0)],
            )
            .await?
            .as_ref()
            .map(token_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound { what: "api token" })
    }

    async fn find_api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRecord>> {
        self.db
            .opt(
                &format!("{TOKEN_SELECT} WHERE t.token_hash = $1"),
                vec![Arg::text(token_hash)],
            )
            .await?
            .as_ref()
            .map(token_from_row)
            .transpose()
    }

    async fn list_api_tokens(&self) -> Result<Vec<ApiTokenRecord>> {
        self.db
            .all(
                &format!("{TOKEN_SELECT} ORDER BY t.created_at, t.id"),
                vec![],
            )
            .await?
            .iter()
            .map(token_from_row)
            .collect()
    }

    async fn touch_api_token(&self, id: TokenId, at: OffsetDateTime) -> Result<()> {
        self.db
            .exec(
                "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2",
                vec![Arg::time(at), Arg::uuid(id.0)],
            )
            .await?;
        Ok(())
    }

    async fn revoke_api_token(&self, id: TokenId) -> Result<()> {
        let n = self
            .db
            .exec(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                vec![Arg::time(now()), Arg::uuid(id.0)],
            )
            .await?;
        if n == 0
            && self
                .db
                .opt(
                    "SELECT id FROM api_tokens WHERE id = $1",
                    vec![Arg::uuid(id.0)],
                )
                .await?
                .is_none()
        {
            return Err(StoreError::NotFound { what: "api token" });
        }
        Ok(())
    }

    async fn create_session(&self, session: NewSession) -> Result<SessionRecord> {
        let rec = SessionRecord {
            id_hash: session.id_hash,
            user_id: session.user_id,
            csrf_token: session.csrf_token,
            created_at: now(),
            expires_at: truncate_time(session.expires_at),
        };
        self.db
            .exec(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                vec![
                    Arg::text(rec.id_hash.clone()),
                    Arg::uuid(rec.user_id.0),
                    Arg::text(rec.csrf_token.clone()),
                    Arg::time(rec.created_at),
                    Arg::time(rec.expires_at),
                ],
            )
            .await
            .map_err(conflict_as("session"))?;
        Ok(rec)
    }

    async fn find_session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>> {
        self.db
            .opt(
                "SELECT id_hash, user_id, csrf_token, created_at, expires_at FROM sessions \
                 WHERE id_hash = $1 AND expires_at > $2",
                vec![Arg::text(id_hash), Arg::time(now)],
            )
            .await?
            .as_ref()
            .map(session_from_row)
            .transpose()
    }

    async fn session_user(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(SessionRecord, UserRecord)>> {
        let Some(session) = self.find_session(id_hash, now).await? else {
            return Ok(None);
        };
        let user = self.get_user(session.user_id).await?;
        Ok(user.filter(|u| !u.disabled).map(|u| (session, u)))
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        self.db
            .exec(
                "DELETE FROM sessions WHERE id_hash = $1",
                vec![Arg::text(id_hash)],
            )
            .await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64> {
        self.db
            .exec(
                "DELETE FROM sessions WHERE expires_at <= $1",
                vec![Arg::time(now)],
            )
            .await
    }

    async fn upsert_regions(&self, regions: Vec<RegionRecord>) -> Result<u64> {
        // One statement may not touch a row twice (PostgreSQL refuses): the last entry wins.
        let mut by_code: HashMap<String, RegionRecord> = HashMap::new();
        for r in regions {
            by_code.insert(r.code.clone(), r);
        }
        let mut list: Vec<RegionRecord> = by_code.into_values().collect();
        list.sort_by(|a, b| a.code.cmp(&b.code));
        let n = list.len() as u64;
        let rows = list
            .into_iter()
            .map(|r| {
                vec![
                    Arg::text(r.code),
                    Arg::text(r.name),
                    Arg::text(r.level.as_str()),
                    Arg::Text(r.parent_code),
                ]
            })
            .collect();
        let mut tx = self.db.begin().await?;
        insert_rows(
            &mut tx,
            "INSERT INTO regions (code, name, level, parent_code)",
            rows,
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, \
             parent_code = excluded.parent_code",
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn get_region(&self, code: &str) -> Result<Option<RegionRecord>> {
        self.db
            .opt(
                "SELECT code, name, level, parent_code FROM regions WHERE code = $1",
                vec![Arg::text(code)],
            )
            .await?
            .as_ref()
            .map(region_from_row)
            .transpose()
    }

    async fn list_regions(&self, parent: Option<&str>) -> Result<Vec<RegionRecord>> {
        let rows = match parent {
            Some(p) => {
                self.db
                    .all(
                        "SELECT code, name, level, parent_code FROM regions \
                         WHERE parent_code = $1 ORDER BY code",
                        vec![Arg::text(p)],
                    )
                    .await?
            }
            None => {
                self.db
                    .all(
                        "SELECT code, name, level, parent_code FROM regions \
                         WHERE parent_code IS NULL ORDER BY code",
                        vec![],
                    )
                    .await?
            }
        };
        rows.iter().map(region_from_row).collect()
    }

    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry> {
        let mut tx = self.db.begin().await?;
        if tx.is_pg() {
            // Serializes appends across connections and processes: without it two appends could
            // read the same head and fork the chain (the primary key would reject one, but as an
            // error rather than a wait).
            tx.exec("SELECT pg_advisory_xact_lock(2, 0)", vec![])
                .await?;
        }
        let head = tx
            .opt(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                vec![],
            )
            .await?;
        let (seq, prev_hash) = match head {
            Some(r) => (r.i64("seq")? + 1, r.text("hash")?),
            None => (1, patroli_core::audit::GENESIS_HASH.to_string()),
        };
        let e = AuditEntry::with_link(seq, prev_hash, now(), entry);
        tx.exec(
            "INSERT INTO audit_log (seq, at, actor, action, target, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            vec![
                Arg::Int(Some(e.seq)),
                Arg::time(e.at),
                Arg::text(e.actor.clone()),
                Arg::text(e.action.clone()),
                Arg::Text(e.target.clone()),
                Arg::text(patroli_core::audit::canonical_json(&e.detail)),
                Arg::text(e.prev_hash.clone()),
                Arg::text(e.hash.clone()),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(e)
    }

    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let mut q = Sql::new(
            self.db.is_pg(),
            "SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit_log \
             WHERE 1 = 1",
        );
        if let Some(s) = filter.after_seq {
            q.push(" AND seq > ").arg(Arg::Int(Some(s)));
        }
        if let Some(a) = &filter.actor {
            q.push(" AND actor = ").arg(Arg::text(a.clone()));
        }
        if let Some(a) = &filter.action {
            q.push(" AND action = ").arg(Arg::text(a.clone()));
        }
        if let Some(t) = &filter.target {
            q.push(" AND target = ").arg(Arg::text(t.clone()));
        }
        q.push(" ORDER BY seq");
        if filter.limit > 0 {
            q.push(" LIMIT ")
                .arg(Arg::Int(Some(i64::from(filter.limit))));
        }
        self.db
            .all(&q.text, q.args)
            .await?
            .iter()
            .map(audit_from_row)
            .collect()
    }

    async fn verify_audit(&self) -> Result<std::result::Result<u64, AuditBreak>> {
        let mut verifier = ChainVerifier::new();
        let mut after = 0;
        loop {
            let page = self
                .list_audit(&AuditFilter {
                    after_seq: Some(after),
                    limit: 1000,
                    ..AuditFilter::default()
                })
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in &page {
                if let Err(b) = verifier.push(e) {
                    return Ok(Err(b));
                }
            }
        }
        Ok(Ok(verifier.checked()))
    }
}
