//! The records the store hands out and the inputs and filters it takes.
//!
//! These are storage-shaped views of the domain (ids, timestamps, what a row holds); they carry no
//! SQL and no HTTP. Fields are added, never renamed: the server serializes several of them.

use patroli_core::{
    AccountId, AgencyId, AgencyKind, Category, FindingId, FindingStatus, PlatformId, PostId,
    PostVersionId, Role, Severity, TokenId, UnitId, UserId, VerdictId, VerdictKind,
};
use patroli_detect::{Entity, EntityKind, Reason, Screening};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// A source of posts: a marketplace, a social network, a crawler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformRecord {
    pub id: PlatformId,
    /// Unique, as given to `ingest_batch` and `--platform NAME`.
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A seller or recruiter account on one platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub id: AccountId,
    pub platform_id: PlatformId,
    /// Lower-cased, without `@`; unique per platform.
    pub handle: String,
    pub display_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
}

/// One post as the caller hands it to `ingest_batch` (the scan input schema, minus the platform).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IngestPost {
    /// The platform's own id for the post; with the platform it identifies the post.
    pub external_id: String,
    pub url: Option<String>,
    /// Account handle on the platform; `None` for anonymous sources.
    pub account_handle: Option<String>,
    pub account_name: Option<String>,
    pub title: Option<String>,
    pub text: String,
    pub price: Option<f64>,
    pub declared_category: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub posted_at: Option<OffsetDateTime>,
    /// Free-text place as the platform gave it ("Tanjung Selor").
    pub location: Option<String>,
    /// Official region code the caller mapped `location` to ("65" or "65.01"); kept `None` when unknown.
    pub region_code: Option<String>,
}

/// A post together with the engine's screening of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenedPost {
    pub post: IngestPost,
    pub screening: Screening,
}

/// What happened to one post of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestStatus {
    /// First time this (platform, external id) was seen.
    Created,
    /// Known post whose content changed: a new version (and a new finding if flagged) was stored.
    NewVersion,
    /// Known post with the same content: only `last_seen` moved.
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestOutcome {
    pub post_id: PostId,
    /// The version now current (the existing one when `Unchanged`).
    pub version_id: PostVersionId,
    pub status: IngestStatus,
    /// 1-based number of `version_id`.
    pub version: i64,
    /// Whether the screening of the current version was flagged.
    pub flagged: bool,
    /// Set when this call stored a new finding (flagged screening of a new version).
    pub finding_id: Option<FindingId>,
}

/// A post's identity and where it lives; `title`/`text` are those of the current version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostRecord {
    pub id: PostId,
    pub platform_id: PlatformId,
    pub platform: String,
    pub account_id: Option<AccountId>,
    pub account_handle: Option<String>,
    pub external_id: String,
    pub url: Option<String>,
    pub location: Option<String>,
    pub region_code: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    pub current_version_id: PostVersionId,
    pub version_count: i64,
    pub title: Option<String>,
    pub text: String,
    pub price: Option<f64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub posted_at: Option<OffsetDateTime>,
    /// Whether the engine flagged the current version.
    pub flagged: bool,
}

/// A content snapshot. A new one is stored only when title, text, price or posting time change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostVersionRecord {
    pub id: PostVersionId,
    pub post_id: PostId,
    /// 1 for the first snapshot, then 2, 3, ...
    pub version: i64,
    pub title: Option<String>,
    pub text: String,
    pub price: Option<f64>,
    pub declared_category: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub posted_at: Option<OffsetDateTime>,
    /// Hex SHA-256 of the snapshot fields (see `content_hash`).
    pub content_hash: String,
    #[serde(with = "time::serde::rfc3339")]
    pub seen_at: OffsetDateTime,
}

/// The stored screening of one post version that the engine flagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRecord {
    pub id: FindingId,
    pub post_id: PostId,
    pub version_id: PostVersionId,
    pub categories: Vec<Category>,
    pub scores: BTreeMap<Category, f32>,
    pub score: f32,
    pub severity: Severity,
    pub reasons: Vec<Reason>,
    pub entities: Vec<Entity>,
    pub lexicon_version: String,
    pub status: FindingStatus,
    /// False once the post has a newer version than the one this finding screened.
    pub current: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// One row of the review queue: the finding plus what the list shows of its post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueItem {
    pub finding: FindingRecord,
    pub platform: String,
    pub account_handle: Option<String>,
    pub external_id: String,
    pub url: Option<String>,
    pub location: Option<String>,
    pub region_code: Option<String>,
    pub title: Option<String>,
    pub text: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub posted_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
}

/// Review-queue filters. Every set field narrows the result (AND).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingFilter {
    pub status: Option<FindingStatus>,
    /// Findings whose flagged categories include this one.
    pub category: Option<Category>,
    /// Platform name.
    pub platform: Option<String>,
    /// Province / kabupaten filter chosen in the UI: the post's region is this code or lies inside it
    /// (`"65"` matches `"65"` and `"65.01"`, not `"650"`).
    pub region_prefix: Option<String>,
    /// The caller's region scope (from their unit or user), matched like `region_prefix`.
    /// `None` = national role, sees everything; posts without a region code are outside every
    /// regional scope. Kept apart from `region_prefix` so a UI filter can never widen a scope.
    pub scope_prefix: Option<String>,
    pub min_severity: Option<Severity>,
    /// Post first seen at or after.
    pub from: Option<OffsetDateTime>,
    /// Post first seen before.
    pub to: Option<OffsetDateTime>,
    /// By default the queue holds only findings of each post's current version; set this to also
    /// list findings of versions since replaced.
    pub include_superseded: bool,
    /// Full-text search over the post version's title and text (words, all must match).
    pub text: Option<String>,
    /// Page size; 0 means the default (50). Capped at 1,000.
    pub limit: u32,
    pub offset: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Matching rows in total, ignoring `limit`/`offset`.
    pub total: u64,
}

/// An analyst's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewVerdict {
    pub finding_id: FindingId,
    pub user_id: UserId,
    pub verdict: VerdictKind,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictRecord {
    pub id: VerdictId,
    pub finding_id: FindingId,
    pub post_id: PostId,
    pub user_id: UserId,
    pub username: String,
    pub verdict: VerdictKind,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Everything the post page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostDetail {
    pub post: PostRecord,
    pub account: Option<AccountRecord>,
    /// Oldest first.
    pub versions: Vec<PostVersionRecord>,
    /// Newest first.
    pub findings: Vec<FindingRecord>,
    /// Newest first.
    pub verdicts: Vec<VerdictRecord>,
    /// The same account's other posts, newest first, at most 50.
    pub account_posts: Vec<PostRecord>,
}

/// A contact or identifier the engine extracted from a post, for network linking and re-uploads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityRecord {
    pub post_id: PostId,
    pub version_id: PostVersionId,
    pub kind: EntityKind,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyRecord {
    pub id: AgencyId,
    pub kind: AgencyKind,
    /// Unique ("BPOM", "Polda Kaltara", "Tokopedia").
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRecord {
    pub id: UnitId,
    pub agency_id: AgencyId,
    pub name: String,
    /// Region scope of the unit ("65" = Kalimantan Utara); `None` = national.
    pub region_code: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub display_name: Option<String>,
    /// An argon2 PHC string made by the caller; the store never sees passwords.
    pub password_hash: String,
    pub role: Role,
    /// The agency family; always known, even when no agency row is linked.
    pub agency: AgencyKind,
    pub agency_id: Option<AgencyId>,
    pub unit_id: Option<UnitId>,
    /// The user's region scope ("65"); `None` = national.
    pub region_code: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    pub display_name: Option<String>,
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub role: Role,
    pub agency: AgencyKind,
    pub agency_id: Option<AgencyId>,
    pub unit_id: Option<UnitId>,
    pub region_code: Option<String>,
    pub disabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &"***")
            .field("role", &self.role)
            .field("agency", &self.agency)
            .field("agency_id", &self.agency_id)
            .field("unit_id", &self.unit_id)
            .field("region_code", &self.region_code)
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// Changes to a user; `None` leaves a field as it is. `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    pub display_name: Option<Option<String>>,
    pub password_hash: Option<String>,
    pub role: Option<Role>,
    pub agency: Option<AgencyKind>,
    pub agency_id: Option<Option<AgencyId>>,
    pub unit_id: Option<Option<UnitId>>,
    pub region_code: Option<Option<String>>,
    pub disabled: Option<bool>,
}

/// An API token to create. The caller generates the secret and passes only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    /// Hex SHA-256 of the secret (unique).
    pub token_hash: String,
    /// A label for people ("crawler-kaltara").
    pub name: String,
    /// What the token may do (`Platform` for ingest tokens).
    pub role: Role,
    /// The platform a platform token posts for.
    pub platform_id: Option<PlatformId>,
    /// The user a personal token acts as.
    pub user_id: Option<UserId>,
    /// Who created it (audit trail; `None` from the CLI).
    pub created_by: Option<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenRecord {
    pub id: TokenId,
    #[serde(skip_serializing)]
    pub token_hash: String,
    pub name: String,
    pub role: Role,
    pub platform_id: Option<PlatformId>,
    /// Name of `platform_id`.
    pub platform: Option<String>,
    pub user_id: Option<UserId>,
    pub created_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Hex SHA-256 of the session id in the cookie (unique).
    pub id_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// Level of an official region (Kemendagri codes: "65" province, "65.01" kabupaten, "65.71" kota).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Province,
    Regency,
    City,
    District,
    Village,
}

impl RegionLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RegionLevel::Province => "province",
            RegionLevel::Regency => "regency",
            RegionLevel::City => "city",
            RegionLevel::District => "district",
            RegionLevel::Village => "village",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            RegionLevel::Province,
            RegionLevel::Regency,
            RegionLevel::City,
            RegionLevel::District,
            RegionLevel::Village,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionRecord {
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent_code: Option<String>,
}

/// Audit-log filters; entries come back in `seq` order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only entries with `seq > after_seq` (paging by keyset).
    pub after_seq: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    /// 0 means all.
    pub limit: u32,
}

impl FindingRecord {
    /// The engine output this finding stored, as the engine shaped it.
    pub fn to_screening(&self) -> Screening {
        Screening {
            flagged: true,
            score: self.score,
            categories: self.categories.clone(),
            scores: self.scores.clone(),
            severity: self.severity,
            reasons: self.reasons.clone(),
            entities: self.entities.clone(),
            lexicon_version: self.lexicon_version.clone(),
        }
    }
}

impl From<&patroli_core::region::Region> for RegionRecord {
    /// Rows of the official table shipped in `patroli-core`, ready for `Store::upsert_regions`.
    fn from(r: &patroli_core::region::Region) -> Self {
        use patroli_core::region::{RegencyKind, RegionLevel as Core};
        let level = match (r.level, r.kind) {
            (Core::Province, _) => RegionLevel::Province,
            (Core::Regency, Some(RegencyKind::Kota)) => RegionLevel::City,
            (Core::Regency, _) => RegionLevel::Regency,
            (Core::District, _) => RegionLevel::District,
        };
        RegionRecord {
            code: r.code.clone(),
            name: r.name.clone(),
            level,
            parent_code: r.code.rfind('.').map(|i| r.code[..i].to_string()),
        }
    }
}
