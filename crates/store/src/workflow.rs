//! Persistence of the enforcement workflow (issue 4): cases with their posts, agencies, members,
//! timeline, suspects, seizures and lab tests; evidence items and their bytes (one hash chain per
//! case, built by `patroli_core::evidence`); takedown requests and re-upload marks; public reports
//! and their links to posts; deconfliction notices.
//!
//! Like [`crate::Store`], this never decides who may do what: state machines live in
//! `patroli_core::workflow`, permissions in the server. It only stores and reads back, and keeps
//! the few invariants that need a transaction (the evidence chain's order and head).

use crate::db::{Arg, Row, Sql};
use crate::error::{Result, StoreError};
use crate::sql::{SqlStore, now};
use async_trait::async_trait;
use patroli_core::evidence::{EvidenceItem, PartInput};
use patroli_core::workflow::{CaseState, ReportStatus, TakedownStatus, Urgency};
use patroli_core::{
    AccountId, AgencyId, CaseId, Category, EvidenceId, PlatformId, PostId, ReportId, TakedownId,
    UnitId, UserId,
};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use time::OffsetDateTime;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct NewCase {
    pub title: String,
    pub category: Category,
    pub lead_agency: AgencyId,
    pub lead_unit: Option<UnitId>,
    pub region_code: Option<String>,
    pub legal_basis: Vec<String>,
    /// Actor string of the creator (`user:<uuid>`).
    pub created_by: String,
    pub creator: Option<UserId>,
    pub posts: Vec<PostId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub id: CaseId,
    pub title: String,
    pub category: Category,
    pub state: CaseState,
    pub lead_unit: Option<UnitId>,
    pub region_code: Option<String>,
    pub legal_basis: Vec<String>,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Guidance letter rendered when the case closed with outcome `guidance`.
    pub letter: Option<String>,
    /// Hash of the last evidence item (or the genesis hash).
    pub chain_head: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseAgency {
    pub agency_id: AgencyId,
    pub unit_id: Option<UnitId>,
    pub shared_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub shared_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    /// `created`, `note`, `status`, `shared`, `evidence`, `suspect`, `seizure`, `lab_test`...
    pub kind: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suspect {
    pub id: Uuid,
    pub name: String,
    /// `seller`, `courier`, `recruiter`, `financier`...
    pub role: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seizure {
    pub id: Uuid,
    pub item: String,
    pub quantity: f64,
    pub unit: String,
    pub value_rupiah: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabTest {
    pub id: Uuid,
    pub lab: String,
    pub substance: String,
    pub method: String,
    /// `YYYY-MM-DD`.
    pub tested_on: String,
    /// The evidence item holding the lab's report file, when one was uploaded.
    pub report_evidence_id: Option<EvidenceId>,
}

/// One part of an evidence item with its bytes, as read back for a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPart {
    pub item: EvidenceId,
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct NewPart {
    pub name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct NewTakedown {
    pub platform_id: PlatformId,
    pub case_id: Option<CaseId>,
    pub account_id: Option<AccountId>,
    pub agency_id: Option<AgencyId>,
    pub requested_by: String,
    pub legal_basis: String,
    pub urgency: Urgency,
    pub category: Option<Category>,
    pub requested_at: OffsetDateTime,
    pub due_at: OffsetDateTime,
    pub posts: Vec<PostId>,
    /// `(post, kind, value)` marks a re-upload is matched on (`text`, `account`, `contact`).
    pub marks: Vec<(PostId, String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TakedownRecord {
    pub id: TakedownId,
    pub platform_id: PlatformId,
    pub platform: String,
    pub case_id: Option<CaseId>,
    pub account_id: Option<AccountId>,
    pub agency_id: Option<AgencyId>,
    pub requested_by: String,
    pub legal_basis: String,
    pub urgency: Urgency,
    pub category: Option<Category>,
    pub status: TakedownStatus,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub acknowledged_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub answered_at: Option<OffsetDateTime>,
    pub post_ids: Vec<PostId>,
}

#[derive(Debug, Clone, Default)]
pub struct TakedownFilter {
    pub platform: Option<PlatformId>,
    pub status: Option<TakedownStatus>,
    pub case_id: Option<CaseId>,
}

/// One attempt to tell a platform about a takedown request through its webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub takedown_id: TakedownId,
    pub url: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The platform's HTTP status, when it answered.
    pub status_code: Option<u16>,
    /// Why no status came back (connection failed, timed out, address refused...).
    pub error: Option<String>,
    /// When the next attempt is due; `None` when none follows (delivered, refused or given up).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_retry_at: Option<OffsetDateTime>,
}

/// A takedown whose marks match a new post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkMatch {
    pub takedown_id: TakedownId,
    pub earlier_post_id: PostId,
    pub case_id: Option<CaseId>,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reupload {
    pub post_id: PostId,
    pub earlier_post_id: PostId,
    pub takedown_id: TakedownId,
    pub case_id: Option<CaseId>,
    pub matched_on: String,
}

#[derive(Debug, Clone)]
pub struct NewReport {
    pub tracking_code: String,
    /// `web`, `whatsapp`, `sms`, `email`, `phone`, `call_centre`.
    pub channel: String,
    pub category: Option<Category>,
    pub region_code: Option<String>,
    pub link: Option<String>,
    pub text: String,
    pub phone_or_account: Option<String>,
    /// Sealed by the caller (`patroli_core::crypto::seal_contact`), bound to `id`.
    pub contact_sealed: Option<String>,
    pub id: ReportId,
    pub assigned_unit: Option<UnitId>,
    pub screening: serde_json::Value,
    pub duplicate_of: Option<PostId>,
    /// What ties this report to others: its link and the contacts screening extracted from what
    /// the reporter wrote (never the reporter's own contact). The earliest report sharing one
    /// becomes `duplicate_of_report`.
    pub match_keys: Vec<String>,
    pub entered_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRecord {
    pub id: ReportId,
    pub tracking_code: String,
    pub channel: String,
    pub category: Option<Category>,
    pub region_code: Option<String>,
    pub link: Option<String>,
    pub text: String,
    pub phone_or_account: Option<String>,
    /// Never serialized: only the assigned investigator opens it, through the server.
    #[serde(skip)]
    pub contact_sealed: Option<String>,
    pub has_contact: bool,
    pub status: ReportStatus,
    pub assigned_unit: Option<UnitId>,
    pub assigned_user: Option<UserId>,
    pub screening: serde_json::Value,
    pub duplicate_of: Option<PostId>,
    /// The earliest earlier report sharing a link or an extracted contact (staff only).
    pub duplicate_of_report: Option<ReportId>,
    pub entered_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportLink {
    pub report_id: ReportId,
    pub post_id: PostId,
    pub case_id: Option<CaseId>,
    pub linked_by: String,
}

/// Told to one case's agencies: another agency holds a case on the same account or contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseNotice {
    pub case_id: CaseId,
    pub other_case_id: CaseId,
    pub other_agency: String,
    pub other_unit: Option<String>,
    /// Whom to call: a user name of the other case, never its content.
    pub other_contact: String,
    pub matched_on: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Told to an agency: a post one of its people confirmed (or one of its cases holds) sits in
/// another agency's case, or another agency's analyst confirmed a post of its case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyNotice {
    pub agency_id: AgencyId,
    /// The recipient's case concerned, when it has one.
    pub case_id: Option<CaseId>,
    pub post_id: PostId,
    pub other_agency: String,
    pub other_unit: Option<String>,
    pub other_contact: String,
    pub other_case_id: Option<CaseId>,
    pub matched_on: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

// ---------------------------------------------------------------------------------------------
// The trait
// ---------------------------------------------------------------------------------------------

#[async_trait]
pub trait CaseStore: Send + Sync {
    // ---- cases ----
    async fn create_case(&self, case: NewCase) -> Result<CaseRecord>;
    async fn get_case(&self, id: CaseId) -> Result<Option<CaseRecord>>;
    /// Cases visible to `agency` (lead or shared with); every case when `None` (national roles).
    async fn list_cases(&self, agency: Option<AgencyId>) -> Result<Vec<CaseRecord>>;
    /// Saves status/state/legal basis/letter of a case read with `get_case`.
    async fn save_case(&self, case: &CaseRecord) -> Result<()>;
    async fn case_agencies(&self, id: CaseId) -> Result<Vec<CaseAgency>>;
    /// Adds an agency (idempotent).
    async fn share_case(
        &self,
        id: CaseId,
        agency: AgencyId,
        unit: Option<UnitId>,
        by: &str,
    ) -> Result<()>;
    async fn add_case_posts(&self, id: CaseId, posts: &[PostId], by: &str) -> Result<()>;
    async fn case_posts(&self, id: CaseId) -> Result<Vec<PostId>>;
    async fn case_accounts(&self, id: CaseId) -> Result<Vec<AccountId>>;
    /// Cases holding this post, or a post of this account.
    async fn cases_with_post(&self, post: PostId) -> Result<Vec<CaseId>>;
    async fn cases_with_account(&self, account: AccountId) -> Result<Vec<CaseId>>;
    async fn add_case_member(&self, id: CaseId, user: UserId) -> Result<()>;
    async fn case_members(&self, id: CaseId) -> Result<Vec<UserId>>;
    async fn add_case_event(
        &self,
        id: CaseId,
        actor: &str,
        kind: &str,
        detail: serde_json::Value,
    ) -> Result<()>;
    async fn case_events(&self, id: CaseId) -> Result<Vec<CaseEvent>>;
    async fn add_suspect(&self, id: CaseId, s: &Suspect) -> Result<()>;
    async fn suspects(&self, id: CaseId) -> Result<Vec<Suspect>>;
    async fn add_seizure(&self, id: CaseId, s: &Seizure) -> Result<()>;
    async fn seizures(&self, id: CaseId) -> Result<Vec<Seizure>>;
    async fn add_lab_test(&self, id: CaseId, t: &LabTest) -> Result<()>;
    async fn lab_tests(&self, id: CaseId) -> Result<Vec<LabTest>>;
    /// Stores a notice (idempotent per pair of cases).
    async fn add_case_notice(&self, n: &CaseNotice) -> Result<()>;
    async fn case_notices(&self, id: CaseId) -> Result<Vec<CaseNotice>>;
    /// Stores an agency notice (idempotent per recipient, case, post and other side).
    async fn add_agency_notice(&self, n: &AgencyNotice) -> Result<()>;
    /// Notices for an agency, newest first.
    async fn agency_notices(&self, agency: AgencyId) -> Result<Vec<AgencyNotice>>;
    /// Notices about one case.
    async fn agency_notices_of_case(&self, case: CaseId) -> Result<Vec<AgencyNotice>>;

    // ---- evidence ----
    /// Freezes `parts` as the next link of the case's chain and moves the recorded head, in one
    /// transaction (concurrent captures queue up rather than fork the chain).
    async fn capture_evidence(
        &self,
        case: CaseId,
        captured_by: &str,
        note: &str,
        parts: Vec<NewPart>,
    ) -> Result<EvidenceItem>;
    /// Items in chain order.
    async fn evidence_items(&self, case: CaseId) -> Result<Vec<EvidenceItem>>;
    async fn evidence_parts(&self, case: CaseId) -> Result<Vec<StoredPart>>;

    // ---- takedowns ----
    async fn create_takedown(&self, t: NewTakedown) -> Result<TakedownRecord>;
    async fn get_takedown(&self, id: TakedownId) -> Result<Option<TakedownRecord>>;
    async fn list_takedowns(&self, filter: &TakedownFilter) -> Result<Vec<TakedownRecord>>;
    /// Stores a platform's answer (status and reason; `at` becomes acknowledged/answered time).
    async fn set_takedown_status(
        &self,
        id: TakedownId,
        status: TakedownStatus,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<()>;
    /// Whether any request was ever answered `taken_down` (lets ingest skip the re-upload check).
    async fn any_taken_down(&self) -> Result<bool>;
    /// Marks of taken-down content equal to one of `(kind, value)`.
    async fn find_takedown_marks(&self, marks: &[(String, String)]) -> Result<Vec<MarkMatch>>;
    async fn record_reupload(&self, r: &Reupload) -> Result<()>;
    async fn reuploads_of_case(&self, case: CaseId) -> Result<Vec<Reupload>>;
    async fn reupload_of_post(&self, post: PostId) -> Result<Vec<Reupload>>;
    /// Appends one attempt to the delivery log.
    async fn record_webhook_delivery(&self, d: &WebhookDelivery) -> Result<()>;
    /// The delivery log of one request, in attempt order.
    async fn webhook_deliveries(&self, takedown: TakedownId) -> Result<Vec<WebhookDelivery>>;

    // ---- public reports ----
    async fn create_report(&self, r: NewReport) -> Result<ReportRecord>;
    async fn get_report(&self, id: ReportId) -> Result<Option<ReportRecord>>;
    async fn get_report_by_code(&self, code: &str) -> Result<Option<ReportRecord>>;
    /// Reports in a region scope (everything when `None`), newest first.
    async fn list_reports(&self, scope: Option<&str>) -> Result<Vec<ReportRecord>>;
    async fn set_report_status(&self, id: ReportId, status: ReportStatus) -> Result<()>;
    async fn assign_report(&self, id: ReportId, user: Option<UserId>) -> Result<()>;
    async fn link_report(&self, link: &ReportLink) -> Result<()>;
    async fn report_links(&self, id: ReportId) -> Result<Vec<ReportLink>>;
    /// Reports linked to a post.
    async fn reports_of_post(&self, post: PostId) -> Result<Vec<ReportId>>;
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

fn corrupt(column: &'static str, e: impl ToString) -> StoreError {
    StoreError::Corrupt {
        column,
        detail: e.to_string(),
    }
}

fn json_text<T: serde::de::DeserializeOwned>(r: &Row, col: &'static str) -> Result<T> {
    serde_json::from_str(&r.text(col)?).map_err(|e| corrupt(col, e))
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("workflow records serialize")
}

const CASE_COLUMNS: &str = "id, title, category, state, lead_unit_id, region_code, legal_basis, \
    created_by, created_at, updated_at, letter, chain_head";

fn case_from_row(r: &Row) -> Result<CaseRecord> {
    Ok(CaseRecord {
        id: CaseId(r.uuid("id")?),
        title: r.text("title")?,
        category: r.parse("category")?,
        state: json_text(r, "state")?,
        lead_unit: r.opt_uuid("lead_unit_id")?.map(UnitId),
        region_code: r.opt_text("region_code")?,
        legal_basis: json_text(r, "legal_basis")?,
        created_by: r.text("created_by")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        letter: r.opt_text("letter")?,
        chain_head: r.text("chain_head")?,
    })
}

const TAKEDOWN_COLUMNS: &str = "t.id, t.platform_id, pl.name AS platform, t.case_id, t.account_id, \
    t.agency_id, t.requested_by, t.legal_basis, t.urgency, t.category, t.status, t.reason, \
    t.requested_at, t.due_at, t.acknowledged_at, t.answered_at";

fn takedown_from_row(r: &Row) -> Result<TakedownRecord> {
    Ok(TakedownRecord {
        id: TakedownId(r.uuid("id")?),
        platform_id: PlatformId(r.uuid("platform_id")?),
        platform: r.text("platform")?,
        case_id: r.opt_uuid("case_id")?.map(CaseId),
        account_id: r.opt_uuid("account_id")?.map(AccountId),
        agency_id: r.opt_uuid("agency_id")?.map(AgencyId),
        requested_by: r.text("requested_by")?,
        legal_basis: r.text("legal_basis")?,
        urgency: r.parse("urgency")?,
        category: r
            .opt_text("category")?
            .map(|c| c.parse().map_err(|e| corrupt("category", e)))
            .transpose()?,
        status: r.parse("status")?,
        reason: r.text("reason")?,
        requested_at: r.time("requested_at")?,
        due_at: r.time("due_at")?,
        acknowledged_at: r.opt_time("acknowledged_at")?,
        answered_at: r.opt_time("answered_at")?,
        post_ids: Vec::new(),
    })
}

const REPORT_COLUMNS: &str = "id, tracking_code, channel, category, region_code, link, text, \
    phone_or_account, contact_sealed, status, assigned_unit_id, assigned_user_id, screening, \
    duplicate_of, entered_by, created_at, updated_at, duplicate_of_report";

fn report_from_row(r: &Row) -> Result<ReportRecord> {
    let sealed = r.opt_text("contact_sealed")?;
    Ok(ReportRecord {
        id: ReportId(r.uuid("id")?),
        tracking_code: r.text("tracking_code")?,
        channel: r.text("channel")?,
        category: r
            .opt_text("category")?
            .map(|c| c.parse().map_err(|e| corrupt("category", e)))
            .transpose()?,
        region_code: r.opt_text("region_code")?,
        link: r.opt_text("link")?,
        text: r.text("text")?,
        phone_or_account: r.opt_text("phone_or_account")?,
        has_contact: sealed.is_some(),
        contact_sealed: sealed,
        status: r.parse("status")?,
        assigned_unit: r.opt_uuid("assigned_unit_id")?.map(UnitId),
        assigned_user: r.opt_uuid("assigned_user_id")?.map(UserId),
        screening: json_text(r, "screening")?,
        duplicate_of: r
            .opt_text("duplicate_of")?
            .map(|s| {
                s.parse()
                    .map(PostId)
                    .map_err(|e| corrupt("duplicate_of", e))
            })
            .transpose()?,
        duplicate_of_report: r.opt_uuid("duplicate_of_report")?.map(ReportId),
        entered_by: r.opt_text("entered_by")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

const AGENCY_NOTICE_COLUMNS: &str = "agency_id, case_id, post_id, other_agency, other_unit, \
    other_contact, other_case_id, matched_on, created_at";

fn agency_notice_from_row(r: &Row) -> Result<AgencyNotice> {
    Ok(AgencyNotice {
        agency_id: AgencyId(r.uuid("agency_id")?),
        case_id: r.opt_uuid("case_id")?.map(CaseId),
        post_id: PostId(r.uuid("post_id")?),
        other_agency: r.text("other_agency")?,
        other_unit: r.opt_text("other_unit")?,
        other_contact: r.text("other_contact")?,
        other_case_id: r.opt_uuid("other_case_id")?.map(CaseId),
        matched_on: r.text("matched_on")?,
        created_at: r.time("created_at")?,
    })
}

fn reupload_from_row(r: &Row) -> Result<Reupload> {
    Ok(Reupload {
        post_id: PostId(r.uuid("post_id")?),
        earlier_post_id: PostId(r.uuid("earlier_post_id")?),
        takedown_id: TakedownId(r.uuid("takedown_id")?),
        case_id: r.opt_uuid("case_id")?.map(CaseId),
        matched_on: r.text("matched_on")?,
    })
}

fn ids(rows: Vec<Row>, col: &'static str) -> Result<Vec<Uuid>> {
    rows.iter().map(|r| r.uuid(col)).collect()
}

fn opt_uuid(u: Option<impl Into<Uuid>>) -> Arg {
    Arg::Uuid(u.map(Into::into))
}

fn opt_text(s: Option<&str>) -> Arg {
    Arg::Text(s.map(str::to_string))
}

/// `INSERT ... ON CONFLICT DO NOTHING` works on both backends.
const IGNORE: &str = " ON CONFLICT DO NOTHING";

// ---------------------------------------------------------------------------------------------
// The implementation
// ---------------------------------------------------------------------------------------------

#[async_trait]
impl<B: Send + Sync + 'static> CaseStore for SqlStore<B> {
    async fn create_case(&self, case: NewCase) -> Result<CaseRecord> {
        if case.title.trim().is_empty() {
            return Err(StoreError::Invalid("case title is empty".into()));
        }
        let at = now();
        let id = CaseId::new();
        let state = CaseState::open(case.lead_agency);
        let mut tx = self.db.begin().await?;
        tx.exec(
            "INSERT INTO cases (id, title, category, status, state, lead_agency_id, lead_unit_id, \
             region_code, legal_basis, created_by, created_at, updated_at, letter, chain_head) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, NULL, $12)",
            vec![
                Arg::uuid(id.0),
                Arg::text(case.title.trim()),
                Arg::text(case.category.id()),
                Arg::text(state.status.as_str()),
                Arg::text(to_json(&state)),
                Arg::uuid(case.lead_agency.0),
                opt_uuid(case.lead_unit.map(|u| u.0)),
                opt_text(case.region_code.as_deref()),
                Arg::text(to_json(&case.legal_basis)),
                Arg::text(&case.created_by),
                Arg::time(at),
                Arg::text(patroli_core::evidence::GENESIS_HASH),
            ],
        )
        .await?;
        tx.exec(
            "INSERT INTO case_agencies (case_id, agency_id, unit_id, shared_by, shared_at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                Arg::uuid(id.0),
                Arg::uuid(case.lead_agency.0),
                opt_uuid(case.lead_unit.map(|u| u.0)),
                Arg::text(&case.created_by),
                Arg::time(at),
            ],
        )
        .await?;
        if let Some(u) = case.creator {
            tx.exec(
                "INSERT INTO case_members (case_id, user_id, added_at) VALUES ($1, $2, $3)",
                vec![Arg::uuid(id.0), Arg::uuid(u.0), Arg::time(at)],
            )
            .await?;
        }
        for p in &case.posts {
            add_post_tx(&mut tx, id, *p, &case.created_by, at).await?;
        }
        tx.exec(
            "INSERT INTO case_events (id, case_id, at, actor, kind, detail) \
             VALUES ($1, $2, $3, $4, 'created', $5)",
            vec![
                Arg::uuid(Uuid::now_v7()),
                Arg::uuid(id.0),
                Arg::time(at),
                Arg::text(&case.created_by),
                Arg::text(
                    serde_json::json!({"title": case.title.trim(), "posts": case.posts})
                        .to_string(),
                ),
            ],
        )
        .await?;
        tx.commit().await?;
        self.get_case(id)
            .await?
            .ok_or(StoreError::NotFound { what: "case" })
    }

    async fn get_case(&self, id: CaseId) -> Result<Option<CaseRecord>> {
        self.db
            .opt(
                &format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"),
                vec![Arg::uuid(id.0)],
            )
            .await?
            .as_ref()
            .map(case_from_row)
            .transpose()
    }

    async fn list_cases(&self, agency: Option<AgencyId>) -> Result<Vec<CaseRecord>> {
        let rows = match agency {
            None => {
                self.db
                    .all(
                        &format!("SELECT {CASE_COLUMNS} FROM cases ORDER BY created_at DESC"),
                        vec![],
                    )
                    .await?
            }
            Some(a) => {
                self.db
                    .all(
                        &format!(
                            "SELECT {CASE_COLUMNS} FROM cases WHERE id IN \
                             (SELECT case_id FROM case_agencies WHERE agency_id = $1) \
                             ORDER BY created_at DESC"
                        ),
                        vec![Arg::uuid(a.0)],
                    )
                    .await?
            }
        };
        rows.iter().map(case_from_row).collect()
    }

    async fn save_case(&self, case: &CaseRecord) -> Result<()> {
        let n = self
            .db
            .exec(
                "UPDATE cases SET status = $2, state = $3, lead_agency_id = $4, legal_basis = $5, \
                 letter = $6, updated_at = $7 WHERE id = $1",
                vec![
                    Arg::uuid(case.id.0),
                    Arg::text(case.state.status.as_str()),
                    Arg::text(to_json(&case.state)),
                    Arg::uuid(case.state.lead_agency.0),
                    Arg::text(to_json(&case.legal_basis)),
                    opt_text(case.letter.as_deref()),
                    Arg::time(now()),
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound { what: "case" });
        }
        Ok(())
    }

    async fn case_agencies(&self, id: CaseId) -> Result<Vec<CaseAgency>> {
        self.db
            .all(
                "SELECT agency_id, unit_id, shared_by, shared_at FROM case_agencies \
                 WHERE case_id = $1 ORDER BY shared_at",
                vec![Arg::uuid(id.0)],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(CaseAgency {
                    agency_id: AgencyId(r.uuid("agency_id")?),
                    unit_id: r.opt_uuid("unit_id")?.map(UnitId),
                    shared_by: r.text("shared_by")?,
                    shared_at: r.time("shared_at")?,
                })
            })
            .collect()
    }

    async fn share_case(
        &self,
        id: CaseId,
        agency: AgencyId,
        unit: Option<UnitId>,
        by: &str,
    ) -> Result<()> {
        self.db
            .exec(
                &format!(
                    "INSERT INTO case_agencies (case_id, agency_id, unit_id, shared_by, shared_at) \
                     VALUES ($1, $2, $3, $4, $5){IGNORE}"
                ),
                vec![
                    Arg::uuid(id.0),
                    Arg::uuid(agency.0),
                    opt_uuid(unit.map(|u| u.0)),
                    Arg::text(by),
                    Arg::time(now()),
                ],
            )
            .await?;
        Ok(())
    }

    async fn add_case_posts(&self, id: CaseId, posts: &[PostId], by: &str) -> Result<()> {
        let at = now();
        let mut tx = self.db.begin().await?;
        for p in posts {
            add_post_tx(&mut tx, id, *p, by, at).await?;
        }
        tx.commit().await
    }

    async fn case_posts(&self, id: CaseId) -> Result<Vec<PostId>> {
        let rows = self
            .db
            .all(
                "SELECT post_id FROM case_posts WHERE case_id = $1 ORDER BY added_at, post_id",
                vec![Arg::uuid(id.0)],
            )
            .await?;
        Ok(ids(rows, "post_id")?.into_iter().map(PostId).collect())
    }

    async fn case_accounts(&self, id: CaseId) -> Result<Vec<AccountId>> {
        let rows = self
            .db
            .all(
                "SELECT account_id FROM case_accounts WHERE case_id = $1 ORDER BY account_id",
                vec![Arg::uuid(id.0)],
            )
            .await?;
        Ok(ids(rows, "account_id")?
            .into_iter()
            .map(AccountId)
            .collect())
    }

    async fn cases_with_post(&self, post: PostId) -> Result<Vec<CaseId>> {
        let rows = self
            .db
            .all(
                "SELECT case_id FROM case_posts WHERE post_id = $1 ORDER BY case_id",
                vec![Arg::uuid(post.0)],
            )
            .await?;
        Ok(ids(rows, "case_id")?.into_iter().map(CaseId).collect())
    }

    async fn cases_with_account(&self, account: AccountId) -> Result<Vec<CaseId>> {
        let rows = self
            .db
            .all(
                "SELECT case_id FROM case_accounts WHERE account_id = $1 ORDER BY case_id",
                vec![Arg::uuid(account.0)],
            )
            .await?;
        Ok(ids(rows, "case_id")?.into_iter().map(CaseId).collect())
    }

    async fn add_case_member(&self, id: CaseId, user: UserId) -> Result<()> {
        self.db
            .exec(
                &format!(
                    "INSERT INTO case_members (case_id, user_id, added_at) VALUES ($1, $2, $3){IGNORE}"
                ),
                vec![Arg::uuid(id.0), Arg::uuid(user.0), Arg::time(now())],
            )
            .await?;
        Ok(())
    }

    async fn case_members(&self, id: CaseId) -> Result<Vec<UserId>> {
        let rows = self
            .db
            .all(
                "SELECT user_id FROM case_members WHERE case_id = $1 ORDER BY added_at",
                vec![Arg::uuid(id.0)],
            )
            .await?;
        Ok(ids(rows, "user_id")?.into_iter().map(UserId).collect())
    }

    async fn add_case_event(
        &self,
        id: CaseId,
        actor: &str,
        kind: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        self.db
            .exec(
                "INSERT INTO case_events (id, case_id, at, actor, kind, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                vec![
                    Arg::uuid(Uuid::now_v7()),
                    Arg::uuid(id.0),
                    Arg::time(now()),
                    Arg::text(actor),
                    Arg::text(kind),
                    Arg::text(detail.to_string()),
                ],
            )
            .await?;
        Ok(())
    }

    async fn case_events(&self, id: CaseId) -> Result<Vec<CaseEvent>> {
        self.db
            .all(
                "SELECT at, actor, kind, detail FROM case_events WHERE case_id = $1 \
                 ORDER BY at, id",
                vec![Arg::uuid(id.0)],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(CaseEvent {
                    at: r.time("at")?,
                    actor: r.text("actor")?,
                    kind: r.text("kind")?,
                    detail: json_text(r, "detail")?,
                })
            })
            .collect()
    }

    async fn add_suspect(&self, id: CaseId, s: &Suspect) -> Result<()> {
        self.db
            .exec(
                "INSERT INTO suspects (id, case_id, name, role, note, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                vec![
                    Arg::uuid(s.id),
                    Arg::uuid(id.0),
                    Arg::text(&s.name),
                    Arg::text(&s.role),
                    Arg::text(&s.note),
                    Arg::time(now()),
                ],
            )
            .await?;
        Ok(())
    }

    async fn suspects(&self, id: CaseId) -> Result<Vec<Suspect>> {
        self.db
            .all(
                "SELECT id, name, role, note FROM suspects WHERE case_id = $1 ORDER BY created_at, id",
                vec![Arg::uuid(id.0)],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(Suspect {
                    id: r.uuid("id")?,
                    name: r.text("name")?,
                    role: r.text("role")?,
                    note: r.text("note")?,
                })
            })
            .collect()
    }

    async fn add_seizure(&self, id: CaseId, s: &Seizure) -> Result<()> {
        self.db
            .exec(
                "INSERT INTO seizures (id, case_id, item, quantity, unit, value_rupiah, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vec![
                    Arg::uuid(s.id),
                    Arg::uuid(id.0),
                    Arg::text(&s.item),
                    Arg::Real(Some(s.quantity)),
                    Arg::text(&s.unit),
                    Arg::Int(s.value_rupiah),
                    Arg::time(now()),
                ],
            )
            .await?;
        Ok(())
    }

    async fn seizures(&self, id: CaseId) -> Result<Vec<Seizure>> {
        self.db
            .all(
                "SELECT id, item, quantity, unit, value_rupiah FROM seizures WHERE case_id = $1 \
                 ORDER BY created_at, id",
                vec![Arg::uuid(id.0)],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(Seizure {
                    id: r.uuid("id")?,
                    item: r.text("item")?,
                    quantity: r.f64("quantity")?,
                    unit: r.text("unit")?,
                    value_rupiah: r.opt_i64("value_rupiah")?,
                })
            })
            .collect()
    }

    async fn add_lab_test(&self, id: CaseId, t: &LabTest) -> Result<()> {
        self.db
            .exec(
                "INSERT INTO lab_tests (id, case_id, lab, substance, method, tested_on, \
                 report_evidence_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vec![
                    Arg::uuid(t.id),
                    Arg::uuid(id.0),
                    Arg::text(&t.lab),
                    Arg::text(&t.substance),
                    Arg::text(&t.method),
                    Arg::text(&t.tested_on),
                    opt_uuid(t.report_evidence_id.map(|e| e.0)),
                    Arg::time(now()),
                ],
            )
            .await?;
        Ok(())
    }

    async fn lab_tests(&self, id: CaseId) -> Result<Vec<LabTest>> {
        self.db
            .all(
                "SELECT id, lab, substance, method, tested_on, report_evidence_id FROM lab_tests \
                 WHERE case_id = $1 ORDER BY created_at, id",
                vec![Arg::uuid(id.0)],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(LabTest {
                    id: r.uuid("id")?,
                    lab: r.text("lab")?,
                    substance: r.text("substance")?,
                    method: r.text("method")?,
                    tested_on: r.text("tested_on")?,
                    report_evidence_id: r.opt_uuid("report_evidence_id")?.map(EvidenceId),
                })
            })
            .collect()
    }

    async fn add_case_notice(&self, n: &CaseNotice) -> Result<()> {
        self.db
            .exec(
                &format!(
                    "INSERT INTO case_notices (id, case_id, other_case_id, other_agency, \
                     other_unit, other_contact, matched_on, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8){IGNORE}"
                ),
                vec![
                    Arg::uuid(Uuid::now_v7()),
                    Arg::uuid(n.case_id.0),
                    Arg::uuid(n.other_case_id.0),
                    Arg::text(&n.other_agency),
                    opt_text(n.other_unit.as_deref()),
                    Arg::text(&n.other_contact),
                    Arg::text(&n.matched_on),
                    Arg::time(n.created_at),
                ],
            )
            .await?;
        Ok(())
    }

    async fn case_notices(&self, id: CaseId) -> Result<Vec<CaseNotice>> {
        self.db
            .all(
                "SELECT case_id, other_case_id, other_agency, other_unit, other_contact, \
                 matched_on, created_at FROM case_notices WHERE case_id = $1 ORDER BY created_at",
                vec![Arg::uuid(id.0)],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(CaseNotice {
                    case_id: CaseId(r.uuid("case_id")?),
                    other_case_id: CaseId(r.uuid("other_case_id")?),
                    other_agency: r.text("other_agency")?,
                    other_unit: r.opt_text("other_unit")?,
                    other_contact: r.text("other_contact")?,
                    matched_on: r.text("matched_on")?,
                    created_at: r.time("created_at")?,
                })
            })
            .collect()
    }

    async fn add_agency_notice(&self, n: &AgencyNotice) -> Result<()> {
        let key = format!(
            "{}|{}|{}|{}|{}",
            n.agency_id,
            n.case_id.map(|c| c.to_string()).unwrap_or_default(),
            n.post_id,
            n.other_agency,
            n.other_case_id.map(|c| c.to_string()).unwrap_or_default()
        );
        self.db
            .exec(
                &format!(
                    "INSERT INTO agency_notices (id, agency_id, case_id, post_id, other_agency, \
                     other_unit, other_contact, other_case_id, matched_on, dedup_key, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11){IGNORE}"
                ),
                vec![
                    Arg::uuid(Uuid::now_v7()),
                    Arg::uuid(n.agency_id.0),
                    opt_uuid(n.case_id.map(|c| c.0)),
                    Arg::uuid(n.post_id.0),
                    Arg::text(&n.other_agency),
                    opt_text(n.other_unit.as_deref()),
                    Arg::text(&n.other_contact),
                    opt_uuid(n.other_case_id.map(|c| c.0)),
                    Arg::text(&n.matched_on),
                    Arg::text(hex::encode(sha2::Sha256::digest(key.as_bytes()))),
                    Arg::time(n.created_at),
                ],
            )
            .await?;
        Ok(())
    }

    async fn agency_notices(&self, agency: AgencyId) -> Result<Vec<AgencyNotice>> {
        self.db
            .all(
                &format!(
                    "SELECT {AGENCY_NOTICE_COLUMNS} FROM agency_notices WHERE agency_id = $1 \
                     ORDER BY created_at DESC LIMIT 500"
                ),
                vec![Arg::uuid(agency.0)],
            )
            .await?
            .iter()
            .map(agency_notice_from_row)
            .collect()
    }

    async fn agency_notices_of_case(&self, case: CaseId) -> Result<Vec<AgencyNotice>> {
        self.db
            .all(
                &format!(
                    "SELECT {AGENCY_NOTICE_COLUMNS} FROM agency_notices WHERE case_id = $1 \
                     ORDER BY created_at"
                ),
                vec![Arg::uuid(case.0)],
            )
            .await?
            .iter()
            .map(agency_notice_from_row)
            .collect()
    }

    async fn capture_evidence(
        &self,
        case: CaseId,
        captured_by: &str,
        note: &str,
        parts: Vec<NewPart>,
    ) -> Result<EvidenceItem> {
        let mut tx = self.db.begin().await?;
        if tx.is_pg() {
            // Row lock on the case: captures of one case queue here instead of forking the chain.
            tx.exec(
                "SELECT id FROM cases WHERE id = $1 FOR UPDATE",
                vec![Arg::uuid(case.0)],
            )
            .await?;
        }
        let prev = tx
            .opt(
                "SELECT item FROM evidence_items WHERE case_id = $1 ORDER BY seq DESC LIMIT 1",
                vec![Arg::uuid(case.0)],
            )
            .await?
            .map(|r| json_text::<EvidenceItem>(&r, "item"))
            .transpose()?;
        let inputs: Vec<PartInput<'_>> = parts
            .iter()
            .map(|p| PartInput {
                name: &p.name,
                media_type: &p.media_type,
                bytes: &p.bytes,
            })
            .collect();
        let item = EvidenceItem::capture(
            EvidenceId::new(),
            case,
            prev.as_ref(),
            captured_by,
            now(),
            note,
            &inputs,
        )
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
        tx.exec(
            "INSERT INTO evidence_items (id, case_id, seq, hash, captured_at, item) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                Arg::uuid(item.id.0),
                Arg::uuid(case.0),
                Arg::Int(Some(i64::from(item.seq))),
                Arg::text(&item.hash),
                Arg::time(item.captured_at),
                Arg::text(to_json(&item)),
            ],
        )
        .await?;
        // `capture` sanitized and de-duplicated the names in input order.
        for (part, input) in item.parts.iter().zip(&parts) {
            tx.exec(
                "INSERT INTO evidence_parts (item_id, name, media_type, sha256, bytes) \
                 VALUES ($1, $2, $3, $4, $5)",
                vec![
                    Arg::uuid(item.id.0),
                    Arg::text(&part.name),
                    Arg::text(&part.media_type),
                    Arg::text(&part.sha256),
                    Arg::text(hex::encode(&input.bytes)),
                ],
            )
            .await?;
        }
        let n = tx
            .exec(
                "UPDATE cases SET chain_head = $2, updated_at = $3 WHERE id = $1",
                vec![Arg::uuid(case.0), Arg::text(&item.hash), Arg::time(now())],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound { what: "case" });
        }
        tx.commit().await?;
        Ok(item)
    }

    async fn evidence_items(&self, case: CaseId) -> Result<Vec<EvidenceItem>> {
        self.db
            .all(
                "SELECT item FROM evidence_items WHERE case_id = $1 ORDER BY seq",
                vec![Arg::uuid(case.0)],
            )
            .await?
            .iter()
            .map(|r| json_text(r, "item"))
            .collect()
    }

    async fn evidence_parts(&self, case: CaseId) -> Result<Vec<StoredPart>> {
        self.db
            .all(
                "SELECT p.item_id, p.name, p.bytes FROM evidence_parts p \
                 JOIN evidence_items i ON i.id = p.item_id WHERE i.case_id = $1 \
                 ORDER BY i.seq, p.name",
                vec![Arg::uuid(case.0)],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(StoredPart {
                    item: EvidenceId(r.uuid("item_id")?),
                    name: r.text("name")?,
                    bytes: hex::decode(r.text("bytes")?).map_err(|e| corrupt("bytes", e))?,
                })
            })
            .collect()
    }

    async fn create_takedown(&self, t: NewTakedown) -> Result<TakedownRecord> {
        let id = TakedownId::new();
        let mut tx = self.db.begin().await?;
        tx.exec(
            "INSERT INTO takedowns (id, platform_id, case_id, account_id, agency_id, requested_by, \
             legal_basis, urgency, category, status, reason, requested_at, due_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', '', $10, $11)",
            vec![
                Arg::uuid(id.0),
                Arg::uuid(t.platform_id.0),
                opt_uuid(t.case_id.map(|c| c.0)),
                opt_uuid(t.account_id.map(|a| a.0)),
                opt_uuid(t.agency_id.map(|a| a.0)),
                Arg::text(&t.requested_by),
                Arg::text(&t.legal_basis),
                Arg::text(t.urgency.as_str()),
                opt_text(t.category.map(|c| c.id())),
                Arg::time(t.requested_at),
                Arg::time(t.due_at),
            ],
        )
        .await?;
        for p in &t.posts {
            tx.exec(
                &format!(
                    "INSERT INTO takedown_posts (takedown_id, post_id) VALUES ($1, $2){IGNORE}"
                ),
                vec![Arg::uuid(id.0), Arg::uuid(p.0)],
            )
            .await?;
        }
        for (p, kind, value) in &t.marks {
            tx.exec(
                &format!(
                    "INSERT INTO takedown_marks (takedown_id, post_id, kind, value) \
                     VALUES ($1, $2, $3, $4){IGNORE}"
                ),
                vec![
                    Arg::uuid(id.0),
                    Arg::uuid(p.0),
                    Arg::text(kind),
                    Arg::text(value),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        self.get_takedown(id)
            .await?
            .ok_or(StoreError::NotFound { what: "takedown" })
    }

    async fn get_takedown(&self, id: TakedownId) -> Result<Option<TakedownRecord>> {
        let Some(row) = self
            .db
            .opt(
                &format!(
                    "SELECT {TAKEDOWN_COLUMNS} FROM takedowns t \
                     JOIN platforms pl ON pl.id = t.platform_id WHERE t.id = $1"
                ),
                vec![Arg::uuid(id.0)],
            )
            .await?
        else {
            return Ok(None);
        };
        let mut t = takedown_from_row(&row)?;
        t.post_ids = self.takedown_posts(id).await?;
        Ok(Some(t))
    }

    async fn list_takedowns(&self, filter: &TakedownFilter) -> Result<Vec<TakedownRecord>> {
        let mut q = Sql::new(
            self.db.is_pg(),
            &format!(
                "SELECT {TAKEDOWN_COLUMNS} FROM takedowns t \
                 JOIN platforms pl ON pl.id = t.platform_id WHERE 1 = 1"
            ),
        );
        if let Some(p) = filter.platform {
            q.push(" AND t.platform_id = ").arg(Arg::uuid(p.0));
        }
        if let Some(s) = filter.status {
            q.push(" AND t.status = ").arg(Arg::text(s.as_str()));
        }
        if let Some(c) = filter.case_id {
            q.push(" AND t.case_id = ").arg(Arg::uuid(c.0));
        }
        q.push(" ORDER BY t.due_at, t.id");
        let rows = self.db.all(&q.text, q.args).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut t = takedown_from_row(r)?;
            t.post_ids = self.takedown_posts(t.id).await?;
            out.push(t);
        }
        Ok(out)
    }

    async fn set_takedown_status(
        &self,
        id: TakedownId,
        status: TakedownStatus,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<()> {
        let sql = if status == TakedownStatus::Acknowledged {
            "UPDATE takedowns SET status = $2, reason = $3, acknowledged_at = $4 WHERE id = $1"
        } else {
            "UPDATE takedowns SET status = $2, reason = $3, answered_at = $4, \
             acknowledged_at = COALESCE(acknowledged_at, $4) WHERE id = $1"
        };
        let n = self
            .db
            .exec(
                sql,
                vec![
                    Arg::uuid(id.0),
                    Arg::text(status.as_str()),
                    Arg::text(reason),
                    Arg::time(at),
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound { what: "takedown" });
        }
        Ok(())
    }

    async fn any_taken_down(&self) -> Result<bool> {
        Ok(self
            .db
            .opt(
                "SELECT id FROM takedowns WHERE status = 'taken_down' LIMIT 1",
                vec![],
            )
            .await?
            .is_some())
    }

    async fn find_takedown_marks(&self, marks: &[(String, String)]) -> Result<Vec<MarkMatch>> {
        let mut out = Vec::new();
        for (kind, value) in marks {
            let rows = self
                .db
                .all(
                    "SELECT m.takedown_id, m.post_id, m.kind, t.case_id FROM takedown_marks m \
                     JOIN takedowns t ON t.id = m.takedown_id \
                     WHERE m.kind = $1 AND m.value = $2 AND t.status = 'taken_down' \
                     ORDER BY m.takedown_id",
                    vec![Arg::text(kind), Arg::text(value)],
                )
                .await?;
            for r in &rows {
                out.push(MarkMatch {
                    takedown_id: TakedownId(r.uuid("takedown_id")?),
                    earlier_post_id: PostId(r.uuid("post_id")?),
                    case_id: r.opt_uuid("case_id")?.map(CaseId),
                    kind: r.text("kind")?,
                });
            }
        }
        Ok(out)
    }

    async fn record_reupload(&self, r: &Reupload) -> Result<()> {
        self.db
            .exec(
                &format!(
                    "INSERT INTO reuploads (post_id, earlier_post_id, takedown_id, case_id, \
                     matched_on, at) VALUES ($1, $2, $3, $4, $5, $6){IGNORE}"
                ),
                vec![
                    Arg::uuid(r.post_id.0),
                    Arg::uuid(r.earlier_post_id.0),
                    Arg::uuid(r.takedown_id.0),
                    opt_uuid(r.case_id.map(|c| c.0)),
                    Arg::text(&r.matched_on),
                    Arg::time(now()),
                ],
            )
            .await?;
        Ok(())
    }

    async fn reuploads_of_case(&self, case: CaseId) -> Result<Vec<Reupload>> {
        self.db
            .all(
                "SELECT post_id, earlier_post_id, takedown_id, case_id, matched_on FROM reuploads \
                 WHERE case_id = $1 ORDER BY at",
                vec![Arg::uuid(case.0)],
            )
            .await?
            .iter()
            .map(reupload_from_row)
            .collect()
    }

    async fn reupload_of_post(&self, post: PostId) -> Result<Vec<Reupload>> {
        self.db
            .all(
                "SELECT post_id, earlier_post_id, takedown_id, case_id, matched_on FROM reuploads \
                 WHERE post_id = $1 ORDER BY at",
                vec![Arg::uuid(post.0)],
            )
            .await?
            .iter()
            .map(reupload_from_row)
            .collect()
    }

    async fn record_webhook_delivery(&self, d: &WebhookDelivery) -> Result<()> {
        self.db
            .exec(
                "INSERT INTO webhook_deliveries (id, takedown_id, url, attempt, status_code, error, \
                 at, next_retry_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vec![
                    Arg::uuid(Uuid::now_v7()),
                    Arg::uuid(d.takedown_id.0),
                    Arg::text(&d.url),
                    Arg::Int(Some(i64::from(d.attempt))),
                    Arg::Int(d.status_code.map(i64::from)),
                    opt_text(d.error.as_deref()),
                    Arg::time(d.at),
                    Arg::Time(d.next_retry_at),
                ],
            )
            .await?;
        Ok(())
    }

    async fn webhook_deliveries(&self, takedown: TakedownId) -> Result<Vec<WebhookDelivery>> {
        let rows = self
            .db
            .all(
                "SELECT takedown_id, url, attempt, status_code, error, at, next_retry_at \
                 FROM webhook_deliveries WHERE takedown_id = $1 ORDER BY attempt, at",
                vec![Arg::uuid(takedown.0)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(WebhookDelivery {
                    takedown_id: TakedownId(r.uuid("takedown_id")?),
                    url: r.text("url")?,
                    attempt: u32::try_from(r.i64("attempt")?).map_err(|e| corrupt("attempt", e))?,
                    at: r.time("at")?,
                    status_code: r
                        .opt_i64("status_code")?
                        .map(u16::try_from)
                        .transpose()
                        .map_err(|e| corrupt("status_code", e))?,
                    error: r.opt_text("error")?,
                    next_retry_at: r.opt_time("next_retry_at")?,
                })
            })
            .collect()
    }

    async fn create_report(&self, r: NewReport) -> Result<ReportRecord> {
        let at = now();
        let mut keys: Vec<&str> = r
            .match_keys
            .iter()
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut tx = self.db.begin().await?;
        let earlier = if keys.is_empty() {
            None
        } else {
            let marks: Vec<String> = (1..=keys.len()).map(|i| format!("${i}")).collect();
            tx.opt(
                &format!(
                    "SELECT r.id FROM report_keys k JOIN public_reports r ON r.id = k.report_id \
                     WHERE k.value IN ({}) ORDER BY r.created_at, r.id LIMIT 1",
                    marks.join(", ")
                ),
                keys.iter().map(|k| Arg::text(*k)).collect(),
            )
            .await?
            .map(|row| row.uuid("id"))
            .transpose()?
        };
        tx.exec(
            &format!(
                "INSERT INTO public_reports ({REPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, \
                     $7, $8, $9, 'received', $10, NULL, $11, $12, $13, $14, $14, $15)"
            ),
            vec![
                Arg::uuid(r.id.0),
                Arg::text(&r.tracking_code),
                Arg::text(&r.channel),
                opt_text(r.category.map(|c| c.id())),
                opt_text(r.region_code.as_deref()),
                opt_text(r.link.as_deref()),
                Arg::text(&r.text),
                opt_text(r.phone_or_account.as_deref()),
                opt_text(r.contact_sealed.as_deref()),
                opt_uuid(r.assigned_unit.map(|u| u.0)),
                Arg::text(r.screening.to_string()),
                opt_text(r.duplicate_of.map(|p| p.to_string()).as_deref()),
                opt_text(r.entered_by.as_deref()),
                Arg::time(at),
                opt_uuid(earlier),
            ],
        )
        .await
        .map_err(|e| {
            if e.is_conflict() {
                StoreError::Conflict {
                    what: "tracking code",
                }
            } else {
                e
            }
        })?;
        for k in &keys {
            tx.exec(
                "INSERT INTO report_keys (report_id, value) VALUES ($1, $2)",
                vec![Arg::uuid(r.id.0), Arg::text(*k)],
            )
            .await?;
        }
        tx.commit().await?;
        self.get_report(r.id)
            .await?
            .ok_or(StoreError::NotFound { what: "report" })
    }

    async fn get_report(&self, id: ReportId) -> Result<Option<ReportRecord>> {
        self.db
            .opt(
                &format!("SELECT {REPORT_COLUMNS} FROM public_reports WHERE id = $1"),
                vec![Arg::uuid(id.0)],
            )
            .await?
            .as_ref()
            .map(report_from_row)
            .transpose()
    }

    async fn get_report_by_code(&self, code: &str) -> Result<Option<ReportRecord>> {
        self.db
            .opt(
                &format!("SELECT {REPORT_COLUMNS} FROM public_reports WHERE tracking_code = $1"),
                vec![Arg::text(code)],
            )
            .await?
            .as_ref()
            .map(report_from_row)
            .transpose()
    }

    async fn list_reports(&self, scope: Option<&str>) -> Result<Vec<ReportRecord>> {
        let mut q = Sql::new(
            self.db.is_pg(),
            &format!("SELECT {REPORT_COLUMNS} FROM public_reports WHERE 1 = 1"),
        );
        if let Some(s) = scope {
            q.region_within("region_code", s);
        }
        q.push(" ORDER BY created_at DESC LIMIT 500");
        self.db
            .all(&q.text, q.args)
            .await?
            .iter()
            .map(report_from_row)
            .collect()
    }

    async fn set_report_status(&self, id: ReportId, status: ReportStatus) -> Result<()> {
        let n = self
            .db
            .exec(
                "UPDATE public_reports SET status = $2, updated_at = $3 WHERE id = $1",
                vec![
                    Arg::uuid(id.0),
                    Arg::text(status.as_str()),
                    Arg::time(now()),
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound { what: "report" });
        }
        Ok(())
    }

    async fn assign_report(&self, id: ReportId, user: Option<UserId>) -> Result<()> {
        let n = self
            .db
            .exec(
                "UPDATE public_reports SET assigned_user_id = $2, updated_at = $3 WHERE id = $1",
                vec![
                    Arg::uuid(id.0),
                    opt_uuid(user.map(|u| u.0)),
                    Arg::time(now()),
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound { what: "report" });
        }
        Ok(())
    }

    async fn link_report(&self, link: &ReportLink) -> Result<()> {
        self.db
            .exec(
                "INSERT INTO report_links (report_id, post_id, case_id, linked_by, linked_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (report_id, post_id) \
                 DO UPDATE SET case_id = COALESCE(excluded.case_id, report_links.case_id)",
                vec![
                    Arg::uuid(link.report_id.0),
                    Arg::uuid(link.post_id.0),
                    opt_uuid(link.case_id.map(|c| c.0)),
                    Arg::text(&link.linked_by),
                    Arg::time(now()),
                ],
            )
            .await?;
        Ok(())
    }

    async fn report_links(&self, id: ReportId) -> Result<Vec<ReportLink>> {
        self.db
            .all(
                "SELECT report_id, post_id, case_id, linked_by FROM report_links \
                 WHERE report_id = $1 ORDER BY linked_at",
                vec![Arg::uuid(id.0)],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(ReportLink {
                    report_id: ReportId(r.uuid("report_id")?),
                    post_id: PostId(r.uuid("post_id")?),
                    case_id: r.opt_uuid("case_id")?.map(CaseId),
                    linked_by: r.text("linked_by")?,
                })
            })
            .collect()
    }

    async fn reports_of_post(&self, post: PostId) -> Result<Vec<ReportId>> {
        let rows = self
            .db
            .all(
                "SELECT report_id FROM report_links WHERE post_id = $1 ORDER BY report_id",
                vec![Arg::uuid(post.0)],
            )
            .await?;
        Ok(ids(rows, "report_id")?.into_iter().map(ReportId).collect())
    }
}

impl<B: Send + Sync + 'static> SqlStore<B> {
    async fn takedown_posts(&self, id: TakedownId) -> Result<Vec<PostId>> {
        let rows = self
            .db
            .all(
                "SELECT post_id FROM takedown_posts WHERE takedown_id = $1 ORDER BY post_id",
                vec![Arg::uuid(id.0)],
            )
            .await?;
        Ok(ids(rows, "post_id")?.into_iter().map(PostId).collect())
    }
}

/// Adds a post and its account to a case (both idempotent).
async fn add_post_tx(
    tx: &mut crate::db::Tx,
    case: CaseId,
    post: PostId,
    by: &str,
    at: OffsetDateTime,
) -> Result<()> {
    let account = tx
        .opt(
            "SELECT account_id FROM posts WHERE id = $1",
            vec![Arg::uuid(post.0)],
        )
        .await?
        .ok_or(StoreError::NotFound { what: "post" })?
        .opt_uuid("account_id")?;
    tx.exec(
        &format!(
            "INSERT INTO case_posts (case_id, post_id, added_by, added_at) \
             VALUES ($1, $2, $3, $4){IGNORE}"
        ),
        vec![
            Arg::uuid(case.0),
            Arg::uuid(post.0),
            Arg::text(by),
            Arg::time(at),
        ],
    )
    .await?;
    if let Some(a) = account {
        tx.exec(
            &format!("INSERT INTO case_accounts (case_id, account_id) VALUES ($1, $2){IGNORE}"),
            vec![Arg::uuid(case.0), Arg::uuid(a)],
        )
        .await?;
    }
    Ok(())
}
