//! Persistence for the intelligence features (issue 5): the contacts behind accounts (to build
//! the network index), facts about a network's accounts, statistics aggregations and the partner
//! watch-list.
//!
//! Kept apart from [`crate::Store`] as its own trait so that the review core stays small; `Store`
//! has it as a supertrait, so an `Arc<dyn Store>` answers both. Like the rest of the crate this
//! knows SQL, never HTTP, and never decides who may see what: callers pass region scopes.

use crate::db::{Arg, Row, Sql};
use crate::error::{Result, StoreError};
use crate::sql::{SqlStore, now};
use async_trait::async_trait;
use patroli_core::{AccountId, Category, PostId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// Most ids bound in one `IN (...)` list.
const IDS_PER_QUERY: usize = 500;

/// One extracted contact of one post, with the post's account (for the network index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEntity {
    pub account_id: AccountId,
    /// `patroli_detect::EntityKind` as stored (`phone`, `whatsapp`, `bank_account`...).
    pub kind: String,
    pub value: String,
}

/// Opaque position in a paged scan: pass the last one back to continue after it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScanCursor(Option<(Uuid, String, String)>);

/// A flagged post with an account: its current text (for the near-identical-text fingerprint),
/// its region and the primary category of its newest finding.
#[derive(Debug, Clone, PartialEq)]
pub struct FlaggedAccountPost {
    pub post_id: PostId,
    pub account_id: AccountId,
    pub region_code: Option<String>,
    pub category: Option<Category>,
    pub text: String,
}

/// A post's account and region, looked up after ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPlacement {
    pub post_id: PostId,
    pub account_id: Option<AccountId>,
    pub region_code: Option<String>,
}

/// What a network page shows of one member account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkAccount {
    pub id: AccountId,
    pub platform: String,
    pub handle: String,
    pub name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    pub posts: i64,
    pub flagged_posts: i64,
}

/// One post of a network's account, for the network page's post list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkPost {
    pub id: PostId,
    pub account_id: AccountId,
    pub platform: String,
    pub handle: String,
    /// As the platform gave it; attacker-controlled like the text.
    pub url: Option<String>,
    pub title: Option<String>,
    /// The start of the current version's text (at most [`NETWORK_POST_TEXT_CHARS`] characters).
    pub text: String,
    pub region_code: Option<String>,
    pub flagged: bool,
    /// Categories of the post's latest finding; empty without one or when it was dismissed.
    pub categories: Vec<Category>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
}

/// How much of a post's text [`IntelStore::network_posts`] returns.
pub const NETWORK_POST_TEXT_CHARS: i64 = 400;

/// Counts over the posts of a set of accounts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountsBreakdown {
    /// Primary category of flagged posts -> posts.
    pub categories: Vec<(Category, i64)>,
    /// Region code as stored (province, regency or district) -> posts; posts without one are left out.
    pub regions: Vec<(String, i64)>,
}

/// How statistics rows are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsGroup {
    /// The post's full region code as stored (the caller rolls codes up to provinces or units).
    Region,
    /// The finding's primary category.
    Category,
    /// `YYYY-MM` (UTC) of the finding.
    Month,
}

/// Narrows statistics. Every set field applies (AND).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsFilter {
    /// Findings whose categories include this one.
    pub category: Option<Category>,
    /// Finding created at or after.
    pub from: Option<OffsetDateTime>,
    /// Finding created before.
    pub to: Option<OffsetDateTime>,
    /// Caller's region scope, matched like `FindingFilter::scope_prefix`.
    pub scope_prefix: Option<String>,
}

/// Counts of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsCount {
    /// Region code, category id or month; `None` for posts without a region or category.
    pub key: Option<String>,
    /// Posts with a finding, each counted once, in the group of its latest finding.
    pub posts_flagged: i64,
    /// Of those, posts whose latest finding is confirmed.
    pub confirmed: i64,
}

/// Workflow counts of one group (cases, suspects, takedowns, public reports).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkflowCount {
    /// Region code as stored, category id or month, like [`StatsCount::key`].
    pub key: Option<String>,
    pub cases_opened: i64,
    pub cases_closed: i64,
    pub suspects: i64,
    pub takedowns_requested: i64,
    /// Status `taken_down`.
    pub takedowns_complied: i64,
    /// Hours from request to answer of each complied takedown (the caller takes the median).
    pub takedown_hours: Vec<f64>,
    pub public_reports_received: i64,
    /// Status `acted_on`.
    pub public_reports_acted: i64,
}

/// A partner indicator to watch for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewWatchEntry {
    /// `patroli_core::network::ContactKind::as_str`.
    pub kind: String,
    /// Normalized like `ContactValue::new`.
    pub value: String,
    pub source_id: String,
    pub name: Option<String>,
    pub labels: Vec<String>,
    /// `TLP:AMBER` etc.
    pub tlp: Option<String>,
    /// As the partner gave it (RFC 3339).
    pub valid_until: Option<String>,
    /// Audit actor of the import.
    pub imported_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchRecord {
    pub id: Uuid,
    pub kind: String,
    pub value: String,
    pub source_id: String,
    pub name: Option<String>,
    pub labels: Vec<String>,
    pub tlp: Option<String>,
    pub valid_until: Option<String>,
    pub imported_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[async_trait]
pub trait IntelStore: Send + Sync {
    /// Every (account, entity) pair of posts that have an account, in pages of `limit` after
    /// `cursor`; an empty page ends the scan. Returns the cursor for the next page.
    async fn account_entities(
        &self,
        cursor: &ScanCursor,
        limit: u32,
    ) -> Result<(Vec<AccountEntity>, ScanCursor)>;

    /// Flagged posts that have an account, in pages ordered by post id, after `after`.
    async fn flagged_account_posts(
        &self,
        after: Option<PostId>,
        limit: u32,
    ) -> Result<Vec<FlaggedAccountPost>>;

    /// Account and region of each post (unknown posts are left out).
    async fn post_placements(&self, posts: &[PostId]) -> Result<Vec<PostPlacement>>;

    /// Platform, handle, name and post counts of these accounts (unknown ones are left out).
    async fn network_accounts(&self, accounts: &[AccountId]) -> Result<Vec<NetworkAccount>>;

    /// Accounts whose own handle (as stored: trimmed, without `@`, lower case) is one of
    /// `handles`, on any platform. At most [`IDS_PER_QUERY`] handles are looked up.
    async fn accounts_with_handles(&self, handles: &[String]) -> Result<Vec<AccountId>>;

    /// Up to `per_account` posts of each of these accounts, flagged ones first, then newest
    /// first; the whole list in the same order (flagged, newest, id).
    async fn network_posts(
        &self,
        accounts: &[AccountId],
        per_account: u32,
    ) -> Result<Vec<NetworkPost>>;

    /// Categories and regions of the posts of these accounts.
    async fn accounts_breakdown(&self, accounts: &[AccountId]) -> Result<AccountsBreakdown>;

    /// Flagged and confirmed post counts per group.
    async fn finding_counts(
        &self,
        group: StatsGroup,
        filter: &StatsFilter,
    ) -> Result<Vec<StatsCount>>;

    /// Case, suspect, takedown and public-report counts per group, from the workflow tables.
    /// Cases are placed by their region, takedowns by their case's region (takedowns without a
    /// case have no region), reports by the reporter's region; times are creation/request times.
    async fn workflow_counts(
        &self,
        group: StatsGroup,
        filter: &StatsFilter,
    ) -> Result<Vec<WorkflowCount>>;

    /// Adds or refreshes watch-list entries (keyed by source id, kind and value); returns how
    /// many rows were written.
    async fn upsert_watch_entries(&self, entries: Vec<NewWatchEntry>) -> Result<u64>;

    /// Entries watching any of these `(kind, value)` pairs, expired ones included (the caller
    /// compares `valid_until` with its clock).
    async fn watch_matches(&self, values: &[(String, String)]) -> Result<Vec<WatchRecord>>;

    /// All entries, newest first.
    async fn list_watch_entries(&self, limit: u32) -> Result<Vec<WatchRecord>>;
}

fn corrupt(column: &'static str, detail: impl ToString) -> StoreError {
    StoreError::Corrupt {
        column,
        detail: detail.to_string(),
    }
}

fn parse_category(r: &Row, col: &'static str) -> Result<Option<Category>> {
    r.opt_text(col)?
        .map(|c| c.parse::<Category>().map_err(|e| corrupt(col, e)))
        .transpose()
}

fn watch_from_row(r: &Row) -> Result<WatchRecord> {
    Ok(WatchRecord {
        id: r.uuid("id")?,
        kind: r.text("kind")?,
        value: r.text("value")?,
        source_id: r.text("source_id")?,
        name: r.opt_text("name")?,
        labels: r.json("labels")?,
        tlp: r.opt_text("tlp")?,
        valid_until: r.opt_text("valid_until")?,
        imported_by: r.opt_text("imported_by")?,
        created_at: r.time("created_at")?,
    })
}

const WATCH_COLUMNS: &str = "id, kind, value, source_id, name, labels, tlp, valid_until, \
    imported_by, created_at";

/// ` IN ($n, ...)` over uuids.
fn push_in(q: &mut Sql, ids: &[Uuid]) {
    q.push(" IN (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            q.push(",");
        }
        q.arg(Arg::uuid(*id));
    }
    q.push(")");
}

#[async_trait]
impl<B: Send + Sync + 'static> IntelStore for SqlStore<B> {
    async fn account_entities(
        &self,
        cursor: &ScanCursor,
        limit: u32,
    ) -> Result<(Vec<AccountEntity>, ScanCursor)> {
        // Keyset over the entities primary key, so each page is an index range, not an OFFSET.
        let mut q = Sql::new(
            self.db.is_pg(),
            "SELECT e.version_id, e.kind, e.value, p.account_id FROM entities e \
             JOIN posts p ON p.id = e.post_id WHERE p.account_id IS NOT NULL",
        );
        if let Some((v, k, val)) = &cursor.0 {
            q.push(" AND (e.version_id, e.kind, e.value) > (")
                .arg(Arg::uuid(*v))
                .push(", ")
                .arg(Arg::text(k.clone()))
                .push(", ")
                .arg(Arg::text(val.clone()))
                .push(")");
        }
        q.push(" ORDER BY e.version_id, e.kind, e.value LIMIT ")
            .arg(Arg::Int(Some(i64::from(limit.max(1)))));
        let rows = self.db.all(&q.text, q.args).await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut next = cursor.clone();
        for r in &rows {
            let kind = r.text("kind")?;
            let value = r.text("value")?;
            next = ScanCursor(Some((r.uuid("version_id")?, kind.clone(), value.clone())));
            out.push(AccountEntity {
                account_id: AccountId(r.uuid("account_id")?),
                kind,
                value,
            });
        }
        Ok((out, next))
    }

    async fn flagged_account_posts(
        &self,
        after: Option<PostId>,
        limit: u32,
    ) -> Result<Vec<FlaggedAccountPost>> {
        let mut q = Sql::new(
            self.db.is_pg(),
            "SELECT p.id, p.account_id, p.region_code, v.text, \
             (SELECT f.primary_category FROM findings f WHERE f.post_id = p.id \
              ORDER BY f.created_at DESC LIMIT 1) AS category \
             FROM posts p JOIN post_versions v ON v.id = p.current_version_id \
             WHERE p.flagged AND p.account_id IS NOT NULL",
        );
        if let Some(a) = after {
            q.push(" AND p.id > ").arg(Arg::uuid(a.0));
        }
        q.push(" ORDER BY p.id LIMIT ")
            .arg(Arg::Int(Some(i64::from(limit.max(1)))));
        let rows = self.db.all(&q.text, q.args).await?;
        rows.iter()
            .map(|r| {
                Ok(FlaggedAccountPost {
                    post_id: PostId(r.uuid("id")?),
                    account_id: AccountId(r.uuid("account_id")?),
                    region_code: r.opt_text("region_code")?,
                    category: parse_category(r, "category")?,
                    text: r.text("text")?,
                })
            })
            .collect()
    }

    async fn post_placements(&self, posts: &[PostId]) -> Result<Vec<PostPlacement>> {
        let mut out = Vec::with_capacity(posts.len());
        for chunk in posts.chunks(IDS_PER_QUERY) {
            let ids: Vec<Uuid> = chunk.iter().map(|p| p.0).collect();
            let mut q = Sql::new(
                self.db.is_pg(),
                "SELECT id, account_id, region_code FROM posts WHERE id",
            );
            push_in(&mut q, &ids);
            for r in self.db.all(&q.text, q.args).await? {
                out.push(PostPlacement {
                    post_id: PostId(r.uuid("id")?),
                    account_id: r.opt_uuid("account_id")?.map(AccountId),
                    region_code: r.opt_text("region_code")?,
                });
            }
        }
        Ok(out)
    }

    async fn accounts_with_handles(&self, handles: &[String]) -> Result<Vec<AccountId>> {
        let handles = &handles[..handles.len().min(IDS_PER_QUERY)];
        if handles.is_empty() {
            return Ok(Vec::new());
        }
        // Through `platforms` so that each lookup is a range of the (platform_id, handle) unique
        // index on both backends rather than a scan of every account.
        let mut q = Sql::new(
            self.db.is_pg(),
            "SELECT a.id FROM platforms pl JOIN accounts a ON a.platform_id = pl.id \
             WHERE a.handle IN (",
        );
        for (i, h) in handles.iter().enumerate() {
            if i > 0 {
                q.push(",");
            }
            q.arg(Arg::text(h.as_str()));
        }
        q.push(") ORDER BY a.id");
        let mut out = Vec::new();
        for r in self.db.all(&q.text, q.args).await? {
            out.push(AccountId(r.uuid("id")?));
        }
        Ok(out)
    }

    async fn network_accounts(&self, accounts: &[AccountId]) -> Result<Vec<NetworkAccount>> {
        let mut out = Vec::with_capacity(accounts.len());
        for chunk in accounts.chunks(IDS_PER_QUERY) {
            let ids: Vec<Uuid> = chunk.iter().map(|a| a.0).collect();
            let mut q = Sql::new(
                self.db.is_pg(),
                "SELECT a.id, pl.name AS platform, a.handle, a.display_name, a.first_seen, \
                 (SELECT count(*) FROM posts p WHERE p.account_id = a.id) AS posts, \
                 (SELECT count(*) FROM posts p WHERE p.account_id = a.id AND p.flagged) AS flagged \
                 FROM accounts a JOIN platforms pl ON pl.id = a.platform_id WHERE a.id",
            );
            push_in(&mut q, &ids);
            for r in self.db.all(&q.text, q.args).await? {
                out.push(NetworkAccount {
                    id: AccountId(r.uuid("id")?),
                    platform: r.text("platform")?,
                    handle: r.text("handle")?,
                    name: r.opt_text("display_name")?,
                    first_seen: r.time("first_seen")?,
                    posts: r.i64("posts")?,
                    flagged_posts: r.i64("flagged")?,
                });
            }
        }
        // Callers list members in network order; keep that order.
        let order: HashMap<AccountId, usize> =
            accounts.iter().enumerate().map(|(i, a)| (*a, i)).collect();
        out.sort_by_key(|a| order.get(&a.id).copied().unwrap_or(usize::MAX));
        Ok(out)
    }

    async fn network_posts(
        &self,
        accounts: &[AccountId],
        per_account: u32,
    ) -> Result<Vec<NetworkPost>> {
        let mut out = Vec::new();
        for chunk in accounts.chunks(IDS_PER_QUERY) {
            let ids: Vec<Uuid> = chunk.iter().map(|a| a.0).collect();
            // Rank inside each account first, so the finding look-ups run on the kept rows only.
            // The length is a constant in the text: PostgreSQL has no substr(text, int, bigint).
            let mut q = Sql::new(
                self.db.is_pg(),
                &format!(
                    "SELECT t.id, t.account_id, pl.name AS platform, a.handle, t.url, \
                     t.region_code, t.flagged, t.first_seen, v.title, \
                     substr(v.text, 1, {NETWORK_POST_TEXT_CHARS}) AS text, "
                ),
            );
            q.push(
                "\
                 (SELECT f.categories FROM findings f WHERE f.post_id = t.id \
                  ORDER BY f.created_at DESC LIMIT 1) AS categories, \
                 (SELECT f.status FROM findings f WHERE f.post_id = t.id \
                  ORDER BY f.created_at DESC LIMIT 1) AS finding_status \
                 FROM (SELECT p.id, p.account_id, p.platform_id, p.current_version_id, p.url, \
                       p.region_code, p.flagged, p.first_seen, \
                       ROW_NUMBER() OVER (PARTITION BY p.account_id \
                         ORDER BY p.flagged DESC, p.first_seen DESC, p.id) AS rn \
                       FROM posts p WHERE p.account_id",
            );
            push_in(&mut q, &ids);
            q.push(
                ") t JOIN post_versions v ON v.id = t.current_version_id \
                 JOIN accounts a ON a.id = t.account_id \
                 JOIN platforms pl ON pl.id = t.platform_id WHERE t.rn <= ",
            )
            .arg(Arg::Int(Some(i64::from(per_account.max(1)))));
            for r in self.db.all(&q.text, q.args).await? {
                let dismissed = r.opt_text("finding_status")?.as_deref() == Some("dismissed");
                let categories = match r.opt_text("finding_status")? {
                    Some(_) if !dismissed => {
                        let ids: Vec<String> = r.json("categories")?;
                        ids.iter()
                            .map(|c| c.parse::<Category>().map_err(|e| corrupt("categories", e)))
                            .collect::<Result<Vec<_>>>()?
                    }
                    _ => Vec::new(),
                };
                out.push(NetworkPost {
                    id: PostId(r.uuid("id")?),
                    account_id: AccountId(r.uuid("account_id")?),
                    platform: r.text("platform")?,
                    handle: r.text("handle")?,
                    url: r.opt_text("url")?,
                    title: r.opt_text("title")?,
                    text: r.text("text")?,
                    region_code: r.opt_text("region_code")?,
                    flagged: r.bool("flagged")?,
                    categories,
                    first_seen: r.time("first_seen")?,
                });
            }
        }
        out.sort_by(|a, b| {
            b.flagged
                .cmp(&a.flagged)
                .then(b.first_seen.cmp(&a.first_seen))
                .then(a.id.0.cmp(&b.id.0))
        });
        Ok(out)
    }

    async fn accounts_breakdown(&self, accounts: &[AccountId]) -> Result<AccountsBreakdown> {
        let mut categories: HashMap<Category, i64> = HashMap::new();
        let mut regions: HashMap<String, i64> = HashMap::new();
        for chunk in accounts.chunks(IDS_PER_QUERY) {
            let ids: Vec<Uuid> = chunk.iter().map(|a| a.0).collect();
            let mut q = Sql::new(
                self.db.is_pg(),
                "SELECT region_code, count(*) AS n FROM posts WHERE region_code IS NOT NULL \
                 AND account_id",
            );
            push_in(&mut q, &ids);
            q.push(" GROUP BY region_code");
            for r in self.db.all(&q.text, q.args).await? {
                *regions.entry(r.text("region_code")?).or_default() += r.i64("n")?;
            }
            let mut q = Sql::new(
                self.db.is_pg(),
                "SELECT f.primary_category, count(DISTINCT f.post_id) AS n FROM findings f \
                 JOIN posts p ON p.id = f.post_id WHERE f.primary_category IS NOT NULL \
                 AND f.status <> 'dismissed' AND p.account_id",
            );
            push_in(&mut q, &ids);
            q.push(" GROUP BY f.primary_category");
            for r in self.db.all(&q.text, q.args).await? {
                if let Some(c) = parse_category(&r, "primary_category")? {
                    *categories.entry(c).or_default() += r.i64("n")?;
                }
            }
        }
        let mut categories: Vec<_> = categories.into_iter().collect();
        categories.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut regions: Vec<_> = regions.into_iter().collect();
        regions.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(AccountsBreakdown {
            categories,
            regions,
        })
    }

    async fn finding_counts(
        &self,
        group: StatsGroup,
        filter: &StatsFilter,
    ) -> Result<Vec<StatsCount>> {
        let pg = self.db.is_pg();
        let key = match (group, pg) {
            (StatsGroup::Region, _) => "f.region_code",
            (StatsGroup::Category, _) => "f.primary_category",
            (StatsGroup::Month, false) => "substr(f.created_at, 1, 7)",
            (StatsGroup::Month, true) => "to_char(f.created_at AT TIME ZONE 'UTC', 'YYYY-MM')",
        };
        // Each post once, by its latest finding (`latest` and the finding's copy of the post's
        // region are kept by triggers, see 0021_intel_stats.sql): no join, no DISTINCT, so
        // the query is a scan of one covering index.
        let mut q = Sql::new(pg, "SELECT ");
        q.push(key).push(
            " AS k, count(*) AS flagged, \
             CAST(coalesce(sum(CASE WHEN f.status = 'confirmed' THEN 1 ELSE 0 END), 0) AS BIGINT) \
             AS confirmed FROM findings f WHERE ",
        );
        q.push(if pg { "f.latest" } else { "f.latest = 1" });
        if let Some(c) = filter.category {
            if pg {
                q.push(" AND f.categories ? ").arg(Arg::text(c.id()));
            } else {
                q.push(" AND f.categories LIKE ")
                    .arg(Arg::text(format!("%\"{}\"%", c.id())));
            }
        }
        if let Some(t) = filter.from {
            q.push(" AND f.created_at >= ").arg(Arg::time(t));
        }
        if let Some(t) = filter.to {
            q.push(" AND f.created_at < ").arg(Arg::time(t));
        }
        if let Some(s) = &filter.scope_prefix {
            if !pg {
                // In SQLite's binary order "65" and "65.*" lie between "65" and "65/" ('/'
                // follows '.'): a range the index can seek to. PostgreSQL's collation may ignore
                // punctuation, so it gets only the exact test.
                q.push(" AND f.region_code >= ")
                    .arg(Arg::text(s.clone()))
                    .push(" AND f.region_code < ")
                    .arg(Arg::text(format!("{s}/")));
            }
            q.region_within("f.region_code", s);
        }
        q.push(" GROUP BY ").push(key).push(" ORDER BY 1");
        let rows = self.db.all(&q.text, q.args).await?;
        rows.iter()
            .map(|r| {
                Ok(StatsCount {
                    key: r.opt_text("k")?,
                    posts_flagged: r.i64("flagged")?,
                    confirmed: r.i64("confirmed")?,
                })
            })
            .collect()
    }

    async fn workflow_counts(
        &self,
        group: StatsGroup,
        filter: &StatsFilter,
    ) -> Result<Vec<WorkflowCount>> {
        let pg = self.db.is_pg();
        let mut out: std::collections::BTreeMap<Option<String>, WorkflowCount> = Default::default();
        // (table alias, region column, category column, time column)
        let key = |region: &str, category: &str, at: &str| -> String {
            match (group, pg) {
                (StatsGroup::Region, _) => region.to_string(),
                (StatsGroup::Category, _) => category.to_string(),
                (StatsGroup::Month, false) => format!("substr({at}, 1, 7)"),
                (StatsGroup::Month, true) => {
                    format!("to_char({at} AT TIME ZONE 'UTC', 'YYYY-MM')")
                }
            }
        };
        let narrow = |q: &mut Sql, region: &str, category: &str, at: &str| {
            if let Some(c) = filter.category {
                q.push(" AND ")
                    .push(category)
                    .push(" = ")
                    .arg(Arg::text(c.id()));
            }
            if let Some(t) = filter.from {
                q.push(" AND ").push(at).push(" >= ").arg(Arg::time(t));
            }
            if let Some(t) = filter.to {
                q.push(" AND ").push(at).push(" < ").arg(Arg::time(t));
            }
            if let Some(s) = &filter.scope_prefix {
                q.region_within(region, s);
            }
        };

        let k = key("c.region_code", "c.category", "c.created_at");
        let mut q = Sql::new(pg, "SELECT ");
        q.push(&k).push(
            " AS k, count(*) AS opened, \
             CAST(coalesce(sum(CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS closed, \
             CAST(coalesce(sum(s.n), 0) AS BIGINT) AS suspects FROM cases c \
             LEFT JOIN (SELECT case_id, count(*) AS n FROM suspects GROUP BY case_id) s \
             ON s.case_id = c.id WHERE 1 = 1",
        );
        narrow(&mut q, "c.region_code", "c.category", "c.created_at");
        q.push(" GROUP BY ").push(&k);
        for r in self.db.all(&q.text, q.args).await? {
            let e = out.entry(r.opt_text("k")?).or_default();
            e.cases_opened += r.i64("opened")?;
            e.cases_closed += r.i64("closed")?;
            e.suspects += r.i64("suspects")?;
        }

        let k = key("c.region_code", "t.category", "t.requested_at");
        let mut q = Sql::new(pg, "SELECT ");
        q.push(&k).push(
            " AS k, t.status, t.requested_at, t.answered_at FROM takedowns t \
             LEFT JOIN cases c ON c.id = t.case_id WHERE 1 = 1",
        );
        narrow(&mut q, "c.region_code", "t.category", "t.requested_at");
        for r in self.db.all(&q.text, q.args).await? {
            let e = out.entry(r.opt_text("k")?).or_default();
            e.takedowns_requested += 1;
            if r.text("status")? == "taken_down" {
                e.takedowns_complied += 1;
                if let Some(answered) = r.opt_time("answered_at")? {
                    let hours = (answered - r.time("requested_at")?).as_seconds_f64() / 3600.0;
                    e.takedown_hours.push(hours.max(0.0));
                }
            }
        }

        let k = key("r.region_code", "r.category", "r.created_at");
        let mut q = Sql::new(pg, "SELECT ");
        q.push(&k).push(
            " AS k, count(*) AS received, \
             CAST(coalesce(sum(CASE WHEN r.status = 'acted_on' THEN 1 ELSE 0 END), 0) AS BIGINT) AS acted \
             FROM public_reports r WHERE 1 = 1",
        );
        narrow(&mut q, "r.region_code", "r.category", "r.created_at");
        q.push(" GROUP BY ").push(&k);
        for r in self.db.all(&q.text, q.args).await? {
            let e = out.entry(r.opt_text("k")?).or_default();
            e.public_reports_received += r.i64("received")?;
            e.public_reports_acted += r.i64("acted")?;
        }
        Ok(out
            .into_iter()
            .map(|(key, mut v)| {
                v.key = key;
                v
            })
            .collect())
    }

    async fn upsert_watch_entries(&self, entries: Vec<NewWatchEntry>) -> Result<u64> {
        if entries.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db.begin().await?;
        let at = now();
        let mut written = 0;
        for e in entries {
            let labels = serde_json::to_string(&e.labels)
                .map_err(|err| StoreError::Invalid(format!("cannot encode labels: {err}")))?;
            let pg = tx.is_pg();
            let mut q = Sql::new(
                pg,
                "INSERT INTO watch_list (id, kind, value, source_id, name, labels, tlp, \
                 valid_until, imported_by, created_at) VALUES (",
            );
            q.arg(Arg::uuid(Uuid::now_v7()))
                .push(",")
                .arg(Arg::text(e.kind))
                .push(",")
                .arg(Arg::text(e.value))
                .push(",")
                .arg(Arg::text(e.source_id))
                .push(",")
                .arg(Arg::Text(e.name))
                .push(",")
                .arg(Arg::Json(labels))
                .push(",")
                .arg(Arg::Text(e.tlp))
                .push(",")
                .arg(Arg::Text(e.valid_until))
                .push(",")
                .arg(Arg::Text(e.imported_by))
                .push(",")
                .arg(Arg::time(at))
                .push(
                    ") ON CONFLICT (source_id, kind, value) DO UPDATE SET name = excluded.name, \
                     labels = excluded.labels, tlp = excluded.tlp, \
                     valid_until = excluded.valid_until, imported_by = excluded.imported_by",
                );
            written += tx.exec(&q.text, q.args).await?;
        }
        tx.commit().await?;
        Ok(written)
    }

    async fn watch_matches(&self, values: &[(String, String)]) -> Result<Vec<WatchRecord>> {
        let mut out = Vec::new();
        for chunk in values.chunks(IDS_PER_QUERY) {
            let mut q = Sql::new(self.db.is_pg(), "SELECT ");
            q.push(WATCH_COLUMNS)
                .push(" FROM watch_list WHERE value IN (");
            for (i, (_, v)) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(",");
                }
                q.arg(Arg::text(v.clone()));
            }
            q.push(")");
            for r in self.db.all(&q.text, q.args).await? {
                let rec = watch_from_row(&r)?;
                if chunk.iter().any(|(k, v)| *k == rec.kind && *v == rec.value) {
                    out.push(rec);
                }
            }
        }
        Ok(out)
    }

    async fn list_watch_entries(&self, limit: u32) -> Result<Vec<WatchRecord>> {
        let mut q = Sql::new(self.db.is_pg(), "SELECT ");
        q.push(WATCH_COLUMNS)
            .push(" FROM watch_list ORDER BY created_at DESC, id LIMIT ")
            .arg(Arg::Int(Some(i64::from(limit.clamp(1, 10_000)))));
        let rows = self.db.all(&q.text, q.args).await?;
        rows.iter().map(watch_from_row).collect()
    }
}
