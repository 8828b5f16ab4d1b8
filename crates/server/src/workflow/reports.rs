//! Public reports (pengaduan): anyone files one without logging in and gets a tracking code that
//! tells them the status and nothing else. Contact details are sealed at rest with
//! `patroli_core::crypto` and opened only for the investigator assigned to the report, every view
//! audited. Reports are rate limited per address, screened by the engine, matched against known
//! posts and routed to the unit responsible for the region. Links are stored, never fetched.
//!
//! Also the prevention check (`/api/v1/cek`): screen a pasted offer and explain the warning signs
//! without storing anything.

use super::{CaseRead, CaseWork, Wf, Workflow, bad, parse_id};
use crate::AppState;
use crate::api::fmt_time;
use crate::auth::{self, Authed, ClientAddr, Principal, in_scope};
use crate::error::{ApiError, ApiResult, ErrorCode};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use patroli_core::crypto::{ReporterContact, open_contact, seal_contact};
use patroli_core::report::TrackingCode;
use patroli_core::workflow::{ReportStatus, advance_report};
use patroli_core::{Category, PostId, ReportId, Role};
use patroli_detect::{Post, Screening};
use patroli_store::{NewReport, ReportLink, ReportRecord};
use serde::Deserialize;
use serde_json::{Value, json};

/// Channels a report can arrive through.
pub(crate) const CHANNELS: &[&str] = &["web", "whatsapp", "sms", "email", "phone", "call_centre"];

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportBody {
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub phone_or_account: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub region_code: Option<String>,
    #[serde(default)]
    pub contact: Option<ReporterContact>,
    /// Leave no contact even when one was typed.
    #[serde(default)]
    pub anonymous: bool,
    /// Operators only (`/intake`): how the report arrived.
    #[serde(default)]
    pub channel: Option<String>,
}

fn trimmed(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub(crate) mod ops {
    use super::*;

    /// Validates, screens, deduplicates, routes, seals and stores a report.
    pub async fn file(
        state: &AppState,
        wf: &Workflow,
        body: ReportBody,
        channel: &str,
        entered_by: Option<&str>,
    ) -> ApiResult<ReportRecord> {
        let link = trimmed(&body.link);
        let text = trimmed(&body.text).unwrap_or_default();
        if link.is_none() && text.is_empty() {
            return Err(bad(
                "give a link or describe what you saw (`link` or `text`)",
            ));
        }
        if let Some(l) = &link
            && (l.len() > 2000 || !(l.starts_with("http://") || l.starts_with("https://")))
        {
            return Err(ApiError::bad_param(
                "link",
                "an http(s) address of at most 2000 characters",
            ));
        }
        if text.chars().count() > 10_000 {
            return Err(ApiError::bad_param("text", "at most 10000 characters"));
        }
        let phone_or_account = trimmed(&body.phone_or_account);
        if phone_or_account
            .as_ref()
            .is_some_and(|p| p.chars().count() > 200)
        {
            return Err(ApiError::bad_param(
                "phone_or_account",
                "at most 200 characters",
            ));
        }
        let category = trimmed(&body.category)
            .map(|c| c.parse::<Category>())
            .transpose()
            .map_err(|e| ApiError::bad_param("category", e))?;
        let region_code = trimmed(&body.region_code);
        if region_code
            .as_ref()
            .is_some_and(|r| r.len() > 20 || !r.chars().all(|c| c.is_ascii_digit() || c == '.'))
        {
            return Err(ApiError::bad_param(
                "region_code",
                "a region code such as 65 or 65.71",
            ));
        }
        if !CHANNELS.contains(&channel) {
            return Err(ApiError::bad_param(
                "channel",
                format!("one of {}", CHANNELS.join(", ")),
            ));
        }
        // Screen everything the reporter gave, so a report carries the same reasons a post would.
        let combined = [
            link.as_deref().unwrap_or(""),
            &text,
            phone_or_account.as_deref().unwrap_or(""),
        ]
        .join("\n");
        let screening = state.engine().screen(&Post {
            text: &combined,
            title: None,
            declared_category: None,
            price: None,
        });
        let duplicate_of = known_post(state, link.as_deref(), &screening).await?;
        let assigned_unit = route(state, region_code.as_deref()).await?;
        let id = ReportId::new();
        let contact = body.contact.filter(|c| !body.anonymous && !c.is_empty());
        let contact_sealed =
            contact.map(|c| seal_contact(&wf.config.sealing_key, rand::random(), id, &c));
        let summary = json!({
            "flagged": screening.flagged,
            "score": screening.score,
            "categories": screening.categories,
            "severity": screening.severity,
            "reasons": screening.reasons.iter().map(|r| json!({"rule": r.rule, "note": r.note, "matched": r.matched})).collect::<Vec<_>>(),
        });
        // A fresh code collides with an existing one about once in 2^40: try again then.
        for _ in 0..5 {
            let code = TrackingCode::from_random(rand::random());
            let result = state
                .store()
                .create_report(NewReport {
                    tracking_code: code.as_str().to_string(),
                    channel: channel.to_string(),
                    category: category.or_else(|| screening.categories.first().copied()),
                    region_code: region_code.clone(),
                    link: link.clone(),
                    text: text.clone(),
                    phone_or_account: phone_or_account.clone(),
                    contact_sealed: contact_sealed.clone(),
                    id,
                    assigned_unit,
                    screening: summary.clone(),
                    duplicate_of,
                    match_keys: match_keys(link.as_deref(), &screening),
                    entered_by: entered_by.map(str::to_string),
                })
                .await;
            match result {
                Ok(r) => {
                    // The audit names the report, never the reporter.
                    auth::audit(
                        state,
                        entered_by.unwrap_or("public"),
                        "report.create",
                        Some(format!("report:{}", r.id)),
                        json!({"channel": channel, "flagged": screening.flagged, "duplicate_of": duplicate_of, "duplicate_of_report": r.duplicate_of_report, "unit": assigned_unit, "has_contact": r.has_contact}),
                    )
                    .await;
                    return Ok(r);
                }
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::internal("could not draw a free tracking code"))
    }

    /// What ties a report to earlier reports: its link and the contacts screening extracted from
    /// the link, text and `phone_or_account` (the reported party; the reporter's own contact is
    /// never screened). Domains, plain URLs in the text and BPOM numbers are left out: many
    /// unrelated reports name the same marketplace or product.
    pub(crate) fn match_keys(link: Option<&str>, screening: &Screening) -> Vec<String> {
        use patroli_detect::EntityKind as K;
        let mut keys: Vec<String> = link
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| format!("link:{l}"))
            .into_iter()
            .collect();
        keys.extend(
            screening
                .entities
                .iter()
                .filter(|e| !matches!(e.kind, K::Url | K::Domain | K::BpomNumber))
                .map(|e| format!("contact:{}", e.value)),
        );
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// A post already known with the same link or contact.
    async fn known_post(
        state: &AppState,
        link: Option<&str>,
        screening: &Screening,
    ) -> ApiResult<Option<PostId>> {
        let store = state.store();
        let mut values: Vec<String> = screening.entities.iter().map(|e| e.value.clone()).collect();
        if let Some(l) = link {
            values.insert(0, l.to_string());
        }
        for v in values {
            if let Some(hit) = store.find_entity(None, &v, 1).await?.first() {
                return Ok(Some(hit.post_id));
            }
        }
        Ok(None)
    }

    /// The unit whose region holds the report's region most narrowly.
    async fn route(
        state: &AppState,
        region: Option<&str>,
    ) -> ApiResult<Option<patroli_core::UnitId>> {
        let Some(region) = region else {
            return Ok(None);
        };
        let units = state.store().list_units(None).await?;
        Ok(units
            .iter()
            .filter(|u| u.region_code.is_some() && in_scope(u.region_code.as_deref(), Some(region)))
            .max_by_key(|u| u.region_code.as_deref().map_or(0, str::len))
            .map(|u| u.id))
    }

    /// Counts one public tracking-code lookup of this client; `false` when over the limit.
    pub fn lookup_allowed(
        wf: &Workflow,
        headers: &axum::http::HeaderMap,
        addr: Option<std::net::SocketAddr>,
    ) -> bool {
        let client = auth::client_addr(headers, addr, wf.config.trust_forwarded_for);
        wf.status_limiter.check(&[format!("status:{client}")])
    }

    /// A report by its tracking code, as people type it.
    pub async fn by_code(state: &AppState, code: &str) -> ApiResult<ReportRecord> {
        let code = TrackingCode::parse(code).map_err(|_| ApiError::not_found())?;
        state
            .store()
            .get_report_by_code(code.as_str())
            .await?
            .ok_or_else(ApiError::not_found)
    }

    /// A report staff may handle: inside their region scope.
    pub async fn for_staff(
        state: &AppState,
        who: &Principal,
        code: &str,
    ) -> ApiResult<ReportRecord> {
        let r = by_code(state, code).await?;
        if who.scope.is_some() && !who.may_see_region(r.region_code.as_deref()) {
            return Err(ApiError::not_found());
        }
        Ok(r)
    }

    pub async fn link(
        state: &AppState,
        who: &Principal,
        report: &ReportRecord,
        post: &str,
        case: Option<&str>,
    ) -> ApiResult<()> {
        let posts =
            super::super::cases::ops::visible_posts(state, who, &[post.to_string()]).await?;
        let case_id = match case {
            Some(c) => Some(
                super::super::visible_case(state, who, parse_id(c)?)
                    .await?
                    .id,
            ),
            None => None,
        };
        state
            .store()
            .link_report(&ReportLink {
                report_id: report.id,
                post_id: posts[0],
                case_id,
                linked_by: who.actor.clone(),
            })
            .await?;
        if report.status == ReportStatus::Received {
            state
                .store()
                .set_report_status(report.id, ReportStatus::InReview)
                .await?;
        }
        auth::audit(
            state,
            &who.actor,
            "report.link",
            Some(format!("report:{}", report.id)),
            json!({"post": posts[0], "case": case_id}),
        )
        .await;
        Ok(())
    }

    /// The staff view of a report: everything but the contact.
    pub fn staff_json(r: &ReportRecord) -> Value {
        json!({
            "report_id": r.id,
            "tracking_code": r.tracking_code,
            "channel": r.channel,
            "category": r.category,
            "region_code": r.region_code,
            "link": r.link,
            "text": r.text,
            "phone_or_account": r.phone_or_account,
            "has_contact": r.has_contact,
            "status": r.status,
            "assigned_unit": r.assigned_unit,
            "assigned_user": r.assigned_user,
            "screening": r.screening,
            "duplicate_of": r.duplicate_of,
            "duplicate_of_report": r.duplicate_of_report,
            "created_at": fmt_time(r.created_at),
        })
    }

    /// Warning signs of an offer, in plain Bahasa Indonesia, and where to check it.
    pub fn check_offer(state: &AppState, text: &str) -> Value {
        let s = state.engine().screen(&Post {
            text,
            title: None,
            declared_category: None,
            price: None,
        });
        let mut signs: Vec<String> = Vec::new();
        for r in &s.reasons {
            let line = if r.matched.trim().is_empty() {
                r.note.clone()
            } else {
                format!("{} (\u{201c}{}\u{201d})", r.note, r.matched.trim())
            };
            if !r.note.trim().is_empty() && !signs.contains(&line) {
                signs.push(line);
            }
        }
        let mut verify = Vec::new();
        let cats = &s.categories;
        if cats.contains(&Category::TraffickingRecruitment)
            || text.to_lowercase().contains("lowongan")
        {
            verify.push(json!({"what": "Periksa apakah perusahaan penempatan terdaftar resmi (daftar P3MI di situs BP2MI/KP2MI) dan jangan membayar biaya penempatan di luar ketentuan.", "where": "https://bp2mi.go.id"}));
        }
        if cats.contains(&Category::UnregisteredProducts)
            || cats.contains(&Category::Drugs)
            || verify.is_empty()
        {
            verify.push(json!({"what": "Periksa nomor izin edar obat, kosmetik, pangan olahan dan obat tradisional di Cek BPOM.", "where": "https://cekbpom.pom.go.id"}));
        }
        json!({
            "warning": s.flagged,
            "signs": signs,
            "categories": s.categories,
            "verify": verify,
        })
    }
}

pub(super) async fn create_public(
    State(state): State<AppState>,
    Extension(wf): Wf,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Result<Json<ReportBody>, JsonRejection>,
) -> ApiResult<Response> {
    let client = auth::client_addr(&headers, addr, wf.config.trust_forwarded_for);
    if !wf.report_limiter.check(&[format!("report:{client}")]) {
        return Err(ApiError::new(ErrorCode::RateLimited));
    }
    let Json(mut body) = body?;
    if body.channel.take().is_some_and(|c| c != "web") {
        return Err(
            ApiError::bad_param("channel", "public reports arrive through `web`")
                .hint("Operators enter other channels through POST /api/v1/reports/intake."),
        );
    }
    let r = ops::file(&state, &wf, body, "web", None).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"tracking_code": r.tracking_code})),
    )
        .into_response())
}

pub(super) async fn intake(
    State(state): State<AppState>,
    Extension(wf): Wf,
    who: Authed<CaseWork>,
    body: Result<Json<ReportBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(body) = body?;
    let channel = trimmed(&body.channel)
        .ok_or_else(|| ApiError::bad_param("channel", format!("one of {}", CHANNELS.join(", "))))?;
    let r = ops::file(&state, &wf, body, &channel, Some(&who.actor)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"tracking_code": r.tracking_code, "report_id": r.id})),
    )
        .into_response())
}

/// Public: the status and nothing else.
pub(super) async fn status(
    State(state): State<AppState>,
    Extension(wf): Wf,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> ApiResult<Json<Value>> {
    if !ops::lookup_allowed(&wf, &headers, addr) {
        return Err(ApiError::new(ErrorCode::RateLimited));
    }
    let r = ops::by_code(&state, &code).await?;
    Ok(Json(json!({"status": r.status})))
}

pub(super) async fn list(
    State(state): State<AppState>,
    who: Authed<CaseRead>,
) -> ApiResult<Json<Value>> {
    let items = state.store().list_reports(who.scope.as_deref()).await?;
    Ok(Json(json!({
        "items": items.iter().map(ops::staff_json).collect::<Vec<_>>()
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LinkBody {
    post_id: String,
    #[serde(default)]
    case_id: Option<String>,
}

pub(super) async fn link(
    State(state): State<AppState>,
    who: Authed<CaseWork>,
    Path(code): Path<String>,
    body: Result<Json<LinkBody>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(b) = body?;
    let r = ops::for_staff(&state, &who, &code).await?;
    ops::link(&state, &who, &r, &b.post_id, b.case_id.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AssignBody {
    username: String,
}

pub(super) async fn assign(
    State(state): State<AppState>,
    who: Authed<CaseWork>,
    Path(code): Path<String>,
    body: Result<Json<AssignBody>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(b) = body?;
    let r = ops::for_staff(&state, &who, &code).await?;
    let user = state
        .store()
        .get_user_by_username(b.username.trim())
        .await?
        .filter(|u| !u.disabled && u.role == Role::Investigator)
        .ok_or_else(|| ApiError::bad_param("username", "not an active investigator"))?;
    state.store().assign_report(r.id, Some(user.id)).await?;
    auth::audit(
        &state,
        &who.actor,
        "report.assign",
        Some(format!("report:{}", r.id)),
        json!({"user": user.id}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatusBody {
    status: String,
}

pub(super) async fn set_status(
    State(state): State<AppState>,
    who: Authed<CaseWork>,
    Path(code): Path<String>,
    body: Result<Json<StatusBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(b) = body?;
    let r = ops::for_staff(&state, &who, &code).await?;
    let to: ReportStatus = b
        .status
        .parse()
        .map_err(|e| ApiError::bad_param("status", e))?;
    let next = advance_report(r.status, to)
        .map_err(|e| ApiError::with_message(ErrorCode::Conflict, e.to_string()))?;
    state.store().set_report_status(r.id, next).await?;
    auth::audit(
        &state,
        &who.actor,
        "report.status",
        Some(format!("report:{}", r.id)),
        json!({"from": r.status, "to": next}),
    )
    .await;
    Ok(Json(json!({"status": next})))
}

/// The reporter's contact: only for the investigator assigned to the report; every view audited.
pub(super) async fn contact(
    State(state): State<AppState>,
    Extension(wf): Wf,
    who: Authed<CaseWork>,
    Path(code): Path<String>,
) -> ApiResult<Response> {
    let r = ops::for_staff(&state, &who, &code).await?;
    if who.user_id.is_none() || r.assigned_user != who.user_id {
        auth::audit(
            &state,
            &who.actor,
            "report.contact_denied",
            Some(format!("report:{}", r.id)),
            json!({}),
        )
        .await;
        return Err(ApiError::forbidden()
            .hint("Only the investigator assigned to the report may see the reporter's contact."));
    }
    auth::audit(
        &state,
        &who.actor,
        "report.contact_view",
        Some(format!("report:{}", r.id)),
        json!({}),
    )
    .await;
    let contact = match &r.contact_sealed {
        Some(s) => Some(open_contact(&wf.config.sealing_key, r.id, s).map_err(ApiError::internal)?),
        None => None,
    };
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(json!({"anonymous": contact.is_none(), "contact": contact})),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckBody {
    text: String,
}

/// Public prevention check: nothing is stored.
pub(super) async fn check_offer(
    State(state): State<AppState>,
    body: Result<Json<CheckBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(b) = body?;
    if b.text.trim().is_empty() || b.text.chars().count() > 10_000 {
        return Err(ApiError::bad_param("text", "1 to 10000 characters"));
    }
    Ok(Json(ops::check_offer(&state, &b.text)))
}
