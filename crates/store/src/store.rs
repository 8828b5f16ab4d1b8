//! The `Store` trait: everything the server, the CLI and later workflow code may ask of persistence.
//!
//! Object-safe (`Arc<dyn Store>`), so the binary picks SQLite or PostgreSQL at run time and nothing
//! above this crate knows which. Methods never check roles: the caller decides who may call what and
//! passes region scopes in filters.

use crate::error::Result;
use crate::types::*;
use async_trait::async_trait;
use patroli_core::audit::{AuditEntry, NewAuditEntry};
use patroli_core::{
    AccountId, AgencyId, AgencyKind, FindingId, PlatformId, PostId, TokenId, UnitId, UserId,
    VerdictKind,
};
use patroli_detect::EntityKind;
use time::OffsetDateTime;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[async_trait]
pub trait Store:
    crate::intel::IntelStore + crate::workflow::CaseStore + Send + Sync + 'static
{
    fn backend(&self) -> Backend;

    /// Cheap round trip for `/healthz`.
    async fn ping(&self) -> Result<()>;

    /// Closes the pool, waiting for in-flight work (SQLite also checkpoints the WAL).
    async fn close(&self);

    // ---- platforms and accounts ----

    /// Returns the platform with this name, creating it if needed.
    async fn ensure_platform(&self, name: &str) -> Result<PlatformRecord>;
    async fn get_platform(&self, id: PlatformId) -> Result<Option<PlatformRecord>>;
    async fn get_platform_by_name(&self, name: &str) -> Result<Option<PlatformRecord>>;
    async fn list_platforms(&self) -> Result<Vec<PlatformRecord>>;

    // ---- ingest ----

    /// Stores a batch of screened posts for `platform` (created if unknown) in one transaction.
    /// Idempotent on (platform, external id): the same content again is `Unchanged`; changed
    /// content is a new version, and a new finding when the screening is flagged. Outcomes are in
    /// input order. A post appearing twice in one batch is handled as if sent twice in a row.
    async fn ingest_batch(
        &self,
        platform: &str,
        posts: Vec<ScreenedPost>,
    ) -> Result<Vec<IngestOutcome>>;

    // ---- posts and the review queue ----

    async fn get_post(&self, id: PostId) -> Result<Option<PostRecord>>;
    async fn get_post_by_external_id(
        &self,
        platform: &str,
        external_id: &str,
    ) -> Result<Option<PostRecord>>;
    /// Post page: versions, findings, verdicts and the account's other posts. `None` when the post
    /// is unknown or outside `scope` (a region code, matched like `FindingFilter::scope_prefix`), so a
    /// caller answers both the same way.
    async fn post_detail(&self, id: PostId, scope: Option<&str>) -> Result<Option<PostDetail>>;
    /// The account's posts, newest first, without `exclude`.
    async fn account_posts(
        &self,
        account: AccountId,
        exclude: Option<PostId>,
        limit: u32,
    ) -> Result<Vec<PostRecord>>;

    /// The review queue: ordered by severity, then score (both descending), then newest.
    async fn list_findings(&self, filter: &FindingFilter) -> Result<Page<QueueItem>>;
    async fn get_finding(&self, id: FindingId) -> Result<Option<FindingRecord>>;
    /// The newest finding of a post (what `POST /posts/{id}/verdict` decides on).
    async fn latest_finding_for_post(&self, post: PostId) -> Result<Option<FindingRecord>>;
    /// Stores the verdict and sets the finding's status, in one transaction. Re-deciding is allowed;
    /// the history keeps every verdict.
    async fn record_verdict(&self, verdict: NewVerdict) -> Result<VerdictRecord>;
    /// `record_verdict` on the post's newest finding; `NotFound` when the post has none.
    async fn record_post_verdict(
        &self,
        post: PostId,
        user: UserId,
        verdict: VerdictKind,
        reason: &str,
    ) -> Result<VerdictRecord>;

    // ---- entities (network linking, re-uploads) ----

    /// Posts that carry this extracted value (any kind when `kind` is `None`), newest first.
    async fn find_entity(
        &self,
        kind: Option<EntityKind>,
        value: &str,
        limit: u32,
    ) -> Result<Vec<EntityRecord>>;
    async fn entities_of_post(&self, post: PostId) -> Result<Vec<EntityRecord>>;

    // ---- agencies, units, users ----

    /// Returns the agency with this name, creating it with `kind` if needed.
    async fn ensure_agency(&self, kind: AgencyKind, name: &str) -> Result<AgencyRecord>;
    async fn get_agency(&self, id: AgencyId) -> Result<Option<AgencyRecord>>;
    async fn get_agency_by_name(&self, name: &str) -> Result<Option<AgencyRecord>>;
    async fn list_agencies(&self) -> Result<Vec<AgencyRecord>>;

    async fn create_unit(
        &self,
        agency: AgencyId,
        name: &str,
        region_code: Option<&str>,
    ) -> Result<UnitRecord>;
    async fn get_unit(&self, id: UnitId) -> Result<Option<UnitRecord>>;
    /// All units, or those of one agency.
    async fn list_units(&self, agency: Option<AgencyId>) -> Result<Vec<UnitRecord>>;

    /// Fails with `Conflict` when the username is taken.
    async fn create_user(&self, user: NewUser) -> Result<UserRecord>;
    async fn get_user(&self, id: UserId) -> Result<Option<UserRecord>>;
    async fn get_user_by_username(&self, username: &str) -> Result<Option<UserRecord>>;
    async fn list_users(&self) -> Result<Vec<UserRecord>>;
    async fn update_user(&self, id: UserId, update: UserUpdate) -> Result<UserRecord>;
    async fn set_user_disabled(&self, id: UserId, disabled: bool) -> Result<()>;

    // ---- API tokens ----

    async fn create_api_token(&self, token: NewApiToken) -> Result<ApiTokenRecord>;
    /// Looks a token up by hash, revoked or not (the caller refuses revoked ones).
    async fn find_api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRecord>>;
    async fn list_api_tokens(&self) -> Result<Vec<ApiTokenRecord>>;
    async fn touch_api_token(&self, id: TokenId, at: OffsetDateTime) -> Result<()>;
    async fn revoke_api_token(&self, id: TokenId) -> Result<()>;

    // ---- sessions ----

    async fn create_session(&self, session: NewSession) -> Result<SessionRecord>;
    /// The session with this hash if it has not expired at `now`.
    async fn find_session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>>;
    /// The live session and its user; `None` when unknown, expired, or the user is disabled.
    async fn session_user(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(SessionRecord, UserRecord)>>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    /// Removes sessions expired at `now`; returns how many.
    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64>;

    // ---- regions ----

    /// Inserts or updates regions by code; returns how many were written.
    async fn upsert_regions(&self, regions: Vec<RegionRecord>) -> Result<u64>;
    async fn get_region(&self, code: &str) -> Result<Option<RegionRecord>>;
    /// Top-level regions when `parent` is `None`, else the children of `parent`.
    async fn list_regions(&self, parent: Option<&str>) -> Result<Vec<RegionRecord>>;

    // ---- audit ----

    /// Appends to the hash chain. Appends are serialized so concurrent callers never fork it.
    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry>;
    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>>;
    /// Walks the whole log in pages and checks the chain. `Ok(Err(..))` names the first break;
    /// `Ok(Ok(n))` is the number of entries checked.
    async fn verify_audit(
        &self,
    ) -> Result<std::result::Result<u64, patroli_core::audit::AuditBreak>>;
}
