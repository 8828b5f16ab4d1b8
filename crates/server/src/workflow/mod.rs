//! The enforcement workflow over HTTP (issue 4): cases across agencies with evidence and a
//! timeline, takedown requests that platforms answer with their tokens, public reports with
//! tracking codes, and the public prevention page.
//!
//! State machines come from `patroli_core::workflow`, the evidence chain and package from
//! `patroli_core::evidence`, sealing from `patroli_core::crypto`; this module only checks who may
//! do what, calls them, stores through [`patroli_store::CaseStore`] and audits. It must never put
//! a reporter's contact details in a response other than the one audited view for the assigned
//! investigator, and never show one agency another agency's case content.

mod cases;
mod hooks;
mod multipart;
mod pages;
mod reports;
mod takedowns;
mod webhook;

use crate::AppState;
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ratelimit::RateLimiter;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Extension, Router};
use patroli_core::crypto::SealingKey;
use patroli_core::workflow::TakedownPolicy;
use patroli_core::{AgencyId, CaseId, Role, UnitId};
use patroli_store::CaseRecord;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use hooks::hooks;

/// Settings of the workflow. The binary fills it from its configuration; [`WorkflowConfig::from_env`]
/// is what [`routes`] uses when nothing else is wired.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WorkflowConfig {
    /// Seals reporters' contact details at rest.
    pub sealing_key: Arc<SealingKey>,
    pub takedown_policy: TakedownPolicy,
    /// Public reports accepted per client address per hour.
    pub reports_per_hour: u32,
    /// Public tracking-code lookups (API and `/lapor/status`) per client address per hour: the
    /// codes' 35 random bits are only safe from guessing behind a limit.
    pub status_lookups_per_hour: u32,
    /// Webhook per platform name.
    pub webhooks: BTreeMap<String, WebhookTarget>,
    /// Deliver webhooks to loopback/private addresses. Off by default; only tests turn it on.
    pub allow_private_webhooks: bool,
    /// How many attempts a webhook delivery gets and how long it waits between them.
    pub webhook_retry: WebhookRetry,
    /// Trust `X-Forwarded-For` for the public rate limit (only behind a proxy you run).
    pub trust_forwarded_for: bool,
}

/// Where and how to tell a platform about a new request.
#[derive(Clone)]
pub struct WebhookTarget {
    /// `http://host:port/path` (TLS is the proxy's job).
    pub url: String,
    /// HMAC-SHA256 key for `X-Patroli-Signature`.
    pub secret: String,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("secret", &"***")
            .finish()
    }
}

/// Retries of a webhook delivery: up to `attempts` tries, waiting `first_backoff` after the
/// first failure and twice as long after each further one (default 5 tries: 1 s, 2 s, 4 s, 8 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookRetry {
    /// Tries in all, the first included (at least 1).
    pub attempts: u32,
    pub first_backoff: Duration,
}

impl Default for WebhookRetry {
    fn default() -> Self {
        WebhookRetry {
            attempts: 5,
            first_backoff: Duration::from_secs(1),
        }
    }
}

impl WebhookRetry {
    /// The wait after failed attempt `attempt` (1-based), or `None` when it was the last.
    pub fn wait_after(&self, attempt: u32) -> Option<Duration> {
        if attempt >= self.attempts.max(1) {
            return None;
        }
        // Doubling stops growing at 2^16 times the first wait, far past any sane attempt count.
        Some(
            self.first_backoff
                .saturating_mul(1 << (attempt - 1).min(16)),
        )
    }
}

/// Name of the key file [`load_or_create_key`] keeps in the data directory.
pub const KEY_FILE: &str = "report-sealing.key";

impl WorkflowConfig {
    pub fn new(sealing_key: SealingKey) -> Self {
        WorkflowConfig {
            sealing_key: Arc::new(sealing_key),
            takedown_policy: TakedownPolicy::default(),
            reports_per_hour: 20,
            status_lookups_per_hour: 120,
            webhooks: BTreeMap::new(),
            allow_private_webhooks: false,
            webhook_retry: WebhookRetry::default(),
            trust_forwarded_for: false,
        }
    }

    /// `PATROLI_SEALING_KEY` (base64 of 32 bytes), else the key file in `PATROLI_DATA_DIR`
    /// (created when missing), else a key for this process only (logged as a warning: reports
    /// sealed with it cannot be opened after a restart).
    pub fn from_env() -> Self {
        if let Ok(k) = std::env::var("PATROLI_SEALING_KEY")
            && let Ok(key) = SealingKey::from_base64(&k)
        {
            return WorkflowConfig::new(key);
        }
        if let Ok(dir) = std::env::var("PATROLI_DATA_DIR")
            && let Ok(key) = load_or_create_key(Path::new(&dir))
        {
            return WorkflowConfig::new(key);
        }
        tracing::warn!(
            "no sealing key configured: reporter contacts are sealed with a key for this process only"
        );
        WorkflowConfig::new(SealingKey::from_bytes(rand::random()))
    }

    pub fn with_webhook(mut self, platform: &str, target: WebhookTarget) -> Self {
        self.webhooks.insert(platform.to_string(), target);
        self
    }

    pub fn with_private_webhooks(mut self, allow: bool) -> Self {
        self.allow_private_webhooks = allow;
        self
    }

    pub fn with_webhook_retry(mut self, retry: WebhookRetry) -> Self {
        self.webhook_retry = retry;
        self
    }

    pub fn with_status_lookups_per_hour(mut self, n: u32) -> Self {
        self.status_lookups_per_hour = n;
        self
    }

    pub fn with_reports_per_hour(mut self, n: u32) -> Self {
        self.reports_per_hour = n;
        self
    }
}

/// Reads the sealing key from `dir/report-sealing.key` (base64), creating it (mode 0600) when
/// absent. The same data directory always opens the same reports.
pub fn load_or_create_key(dir: &Path) -> std::io::Result<SealingKey> {
    use base64::Engine as _;
    let path = dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => SealingKey::from_base64(text.trim())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)?;
            let bytes: [u8; 32] = rand::random();
            let text = base64::engine::general_purpose::STANDARD.encode(bytes);
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            use std::io::Write;
            opts.open(&path)?.write_all(text.as_bytes())?;
            Ok(SealingKey::from_bytes(bytes))
        }
        Err(e) => Err(e),
    }
}

/// What the workflow handlers share, handed to them as an extension.
pub(crate) struct Workflow {
    pub config: WorkflowConfig,
    pub report_limiter: RateLimiter,
    pub status_limiter: RateLimiter,
    pub legal: LegalBasis,
}

pub(crate) type Wf = Extension<Arc<Workflow>>;

/// The legal articles cases and takedowns cite (`legal_basis.json`, a data file with a version).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub(crate) struct LegalBasis {
    pub version: String,
    pub articles: Vec<Article>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub(crate) struct Article {
    pub id: String,
    pub law: String,
    pub article: String,
    pub about: String,
    pub categories: Vec<String>,
}

impl LegalBasis {
    fn builtin() -> LegalBasis {
        let lb: LegalBasis = serde_json::from_str(include_str!("legal_basis.json"))
            .expect("legal_basis.json is valid (checked by a unit test)");
        lb
    }

    pub fn get(&self, id: &str) -> Option<&Article> {
        self.articles.iter().find(|a| a.id == id)
    }

    /// `"UU 35/2009 Narkotika Pasal 114"` for an id, or the text itself when unknown.
    pub fn cite(&self, id: &str) -> String {
        match self.get(id) {
            Some(a) if a.article.is_empty() => a.law.clone(),
            Some(a) => format!("{} {}", a.law, a.article),
            None => id.to_string(),
        }
    }
}

/// Every route of the workflow as (method, path); the OpenAPI test checks `/api/` ones.
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    table().into_iter().map(|(m, p, _)| (m, p)).collect()
}

type Handler = axum::routing::MethodRouter<AppState>;

/// Body limit of evidence uploads (screenshots, recordings, lab reports); other routes keep 1 MiB.
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;

fn table() -> Vec<(&'static str, &'static str, Handler)> {
    vec![
        ("GET", "/api/v1/legal-basis", get(cases::legal_basis)),
        ("GET", "/api/v1/cases", get(cases::list)),
        ("GET", "/api/v1/notices", get(cases::notices)),
        ("POST", "/api/v1/cases", post(cases::create)),
        ("GET", "/api/v1/cases/{case_id}", get(cases::detail)),
        (
            "POST",
            "/api/v1/cases/{case_id}/actions",
            post(cases::action),
        ),
        ("POST", "/api/v1/cases/{case_id}/notes", post(cases::note)),
        (
            "POST",
            "/api/v1/cases/{case_id}/posts",
            post(cases::add_posts),
        ),
        ("POST", "/api/v1/cases/{case_id}/share", post(cases::share)),
        (
            "POST",
            "/api/v1/cases/{case_id}/members",
            post(cases::add_member),
        ),
        (
            "POST",
            "/api/v1/cases/{case_id}/suspects",
            post(cases::add_suspect),
        ),
        (
            "POST",
            "/api/v1/cases/{case_id}/seizures",
            post(cases::add_seizure),
        ),
        (
            "POST",
            "/api/v1/cases/{case_id}/lab-tests",
            post(cases::add_lab_test).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        ),
        (
            "POST",
            "/api/v1/cases/{case_id}/evidence",
            post(cases::capture).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        ),
        (
            "GET",
            "/api/v1/cases/{case_id}/evidence.zip",
            get(cases::export),
        ),
        ("GET", "/api/v1/takedowns", get(takedowns::list)),
        ("POST", "/api/v1/takedowns", post(takedowns::create)),
        ("GET", "/api/v1/takedowns/stats", get(takedowns::stats)),
        (
            "GET",
            "/api/v1/takedowns/{takedown_id}",
            get(takedowns::detail),
        ),
        (
            "POST",
            "/api/v1/takedowns/{takedown_id}/response",
            post(takedowns::respond),
        ),
        ("GET", "/api/v1/reports", get(reports::list)),
        ("POST", "/api/v1/reports", post(reports::create_public)),
        ("POST", "/api/v1/reports/intake", post(reports::intake)),
        (
            "GET",
            "/api/v1/reports/{tracking_code}",
            get(reports::status),
        ),
        (
            "POST",
            "/api/v1/reports/{tracking_code}/link",
            post(reports::link),
        ),
        (
            "POST",
            "/api/v1/reports/{tracking_code}/assign",
            post(reports::assign),
        ),
        (
            "POST",
            "/api/v1/reports/{tracking_code}/status",
            post(reports::set_status),
        ),
        (
            "GET",
            "/api/v1/reports/{tracking_code}/contact",
            get(reports::contact),
        ),
        ("POST", "/api/v1/cek", post(reports::check_offer)),
        ("GET", "/lapor", get(pages::report_form)),
        ("POST", "/lapor", post(pages::report_submit)),
        ("GET", "/lapor/status", get(pages::report_status)),
        ("GET", "/cek", get(pages::check_form)),
        ("POST", "/cek", post(pages::check_submit)),
        ("GET", "/kasus", get(pages::cases_page)),
        ("POST", "/kasus", post(pages::case_create)),
        ("GET", "/kasus/{case_id}", get(pages::case_page)),
        ("POST", "/kasus/{case_id}/status", post(pages::case_action)),
        ("POST", "/kasus/{case_id}/catatan", post(pages::case_note)),
        ("POST", "/kasus/{case_id}/bukti", post(pages::case_capture)),
        (
            "POST",
            "/kasus/{case_id}/takedown",
            post(pages::case_takedown),
        ),
        ("POST", "/kasus/{case_id}/bagikan", post(pages::case_share)),
        ("GET", "/takedown", get(pages::takedowns_page)),
        ("GET", "/takedown/{takedown_id}", get(pages::takedown_page)),
        ("GET", "/laporan", get(pages::reports_page)),
        ("POST", "/laporan", post(pages::report_intake)),
        (
            "POST",
            "/laporan/{tracking_code}/tautkan",
            post(pages::report_link),
        ),
    ]
}

/// The workflow's routes with the configuration from the environment ([`WorkflowConfig::from_env`]).
pub fn routes() -> Router<AppState> {
    routes_with(WorkflowConfig::from_env())
}

/// The workflow's routes with an explicit configuration.
pub fn routes_with(config: WorkflowConfig) -> Router<AppState> {
    let wf = Arc::new(Workflow {
        report_limiter: RateLimiter::new(config.reports_per_hour, Duration::from_secs(3600)),
        status_limiter: RateLimiter::new(config.status_lookups_per_hour, Duration::from_secs(3600)),
        config,
        legal: LegalBasis::builtin(),
    });
    let mut by_path: Vec<(&'static str, Handler)> = Vec::new();
    for (_, path, handler) in table() {
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, h)) => *h = std::mem::take(h).merge(handler),
            None => by_path.push((path, handler)),
        }
    }
    by_path
        .into_iter()
        .fold(Router::new(), |r, (path, handler)| r.route(path, handler))
        .layer(Extension(wf))
}

/// Links the page frame shows to logged-in staff.
pub(crate) fn nav(lang: crate::ui::i18n::Lang) -> maud::Markup {
    use pages::tr;
    maud::html! {
        a href="/kasus" { (tr(lang, "Kasus", "Cases")) }
        a href="/takedown" { (tr(lang, "Takedown", "Takedowns")) }
        a href="/laporan" { (tr(lang, "Laporan", "Reports")) }
    }
}

// ---------------------------------------------------------------------------------------------
// Permissions
// ---------------------------------------------------------------------------------------------

/// Open and work cases, capture evidence, request takedowns.
pub struct CaseWork;
impl Permission for CaseWork {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Analyst, Role::Investigator];
}

/// Staff who may read cases they are allowed to see (viewers included).
pub struct CaseRead;
impl Permission for CaseRead {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Analyst, Role::Investigator, Role::Viewer];
}

/// Takedown lists: staff see all, a platform only its own.
pub struct TakedownRead;
impl Permission for TakedownRead {
    const ROLES: &'static [Role] = &[
        Role::Admin,
        Role::Analyst,
        Role::Investigator,
        Role::Viewer,
        Role::Platform,
    ];
}

/// Answer takedown requests: platform tokens only.
pub struct PlatformOnly;
impl Permission for PlatformOnly {
    const ROLES: &'static [Role] = &[Role::Platform];
}

// ---------------------------------------------------------------------------------------------
// Who the caller is in agency terms
// ---------------------------------------------------------------------------------------------

/// The caller's agency and unit (a user's agency row is created from its kind when not linked).
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub agency: AgencyId,
    pub agency_name: String,
    pub unit: Option<UnitId>,
    pub unit_region: Option<String>,
}

pub(crate) async fn member(state: &AppState, who: &Principal) -> ApiResult<Member> {
    let store = state.store();
    let user_id = who.user_id.ok_or_else(ApiError::forbidden)?;
    let user = store
        .get_user(user_id)
        .await?
        .ok_or_else(ApiError::forbidden)?;
    let agency = match user.agency_id {
        Some(a) => store.get_agency(a).await?,
        None => None,
    };
    let agency = match agency {
        Some(a) => a,
        None => {
            store
                .ensure_agency(user.agency, user.agency.as_str())
                .await?
        }
    };
    let unit = match user.unit_id {
        Some(u) => store.get_unit(u).await?,
        None => None,
    };
    Ok(Member {
        agency: agency.id,
        agency_name: agency.name,
        unit: unit.as_ref().map(|u| u.id),
        unit_region: unit.and_then(|u| u.region_code),
    })
}

/// A case the caller may see, or 404 (unknown and invisible are answered the same).
pub(crate) async fn visible_case(
    state: &AppState,
    who: &Principal,
    id: CaseId,
) -> ApiResult<CaseRecord> {
    let case = state
        .store()
        .get_case(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if may_see_case(state, who, &case).await? {
        Ok(case)
    } else {
        Err(ApiError::not_found())
    }
}

/// Admins (national) see every case; others when their agency leads or was given the case, or
/// when they are assigned to it.
pub(crate) async fn may_see_case(
    state: &AppState,
    who: &Principal,
    case: &CaseRecord,
) -> ApiResult<bool> {
    if who.role == Role::Admin {
        return Ok(true);
    }
    if who.role == Role::Platform {
        return Ok(false);
    }
    let Some(user) = who.user_id else {
        return Ok(false);
    };
    let store = state.store();
    if store.case_members(case.id).await?.contains(&user) {
        return Ok(true);
    }
    let me = member(state, who).await?;
    Ok(store.case_agencies(case.id).await?.iter().any(|a| {
        a.agency_id == me.agency
            && (a.unit_id.is_none() || a.unit_id == me.unit || me.unit.is_none())
    }))
}

pub(crate) fn parse_id<T: std::str::FromStr>(s: &str) -> ApiResult<T> {
    // An unparsable id is as unknown as a well-formed one that does not exist.
    s.parse().map_err(|_| ApiError::not_found())
}

pub(crate) fn bad(message: impl Into<String>) -> ApiError {
    ApiError::with_message(ErrorCode::BadRequest, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_basis_file_is_valid_and_cited() {
        let lb = LegalBasis::builtin();
        assert!(!lb.version.is_empty());
        let mut ids: Vec<&str> = lb.articles.iter().map(|a| a.id.as_str()).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate article ids");
        for a in &lb.articles {
            for c in &a.categories {
                c.parse::<patroli_core::Category>()
                    .unwrap_or_else(|e| panic!("{}: {e}", a.id));
            }
        }
        assert_eq!(lb.cite("uu-35-2009-p114"), "UU 35/2009 Narkotika Pasal 114");
        assert_eq!(lb.cite("free text"), "free text");
    }

    #[test]
    fn webhook_waits_double_and_stop_at_the_last_attempt() {
        let r = WebhookRetry::default();
        let waits: Vec<_> = (1..=6).map(|a| r.wait_after(a)).collect();
        let s = Duration::from_secs;
        assert_eq!(
            waits,
            vec![Some(s(1)), Some(s(2)), Some(s(4)), Some(s(8)), None, None]
        );
        let once = WebhookRetry {
            attempts: 1,
            first_backoff: s(1),
        };
        assert_eq!(once.wait_after(1), None);
        // Zero attempts still means the one try that is made.
        let zero = WebhookRetry {
            attempts: 0,
            ..once
        };
        assert_eq!(zero.wait_after(1), None);
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_key(dir.path()).unwrap();
        let b = load_or_create_key(dir.path()).unwrap();
        let sealed = a.seal([7; 24], b"kontak", b"aad");
        assert_eq!(b.open(&sealed, b"aad").unwrap(), b"kontak");
    }
}
