//! Takedown requests: agencies ask, platforms answer with their tokens, deadlines come from
//! `patroli_core::workflow::TakedownPolicy`. A platform only ever sees its own requests (another
//! platform's request is 404, as if it did not exist).

use super::{CaseWork, PlatformOnly, TakedownRead, Wf, Workflow, bad, member, parse_id};
use crate::AppState;
use crate::api::fmt_time;
use crate::auth::{self, Authed, Principal};
use crate::error::{ApiError, ApiResult, ErrorCode};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patroli_core::workflow::{
    ReportStatus, TakedownAnswer, TakedownStatus, Urgency, answer_takedown, complied_in_time,
    is_overdue,
};
use patroli_core::{AccountId, CaseId, Category, Role, Severity, TakedownId};
use patroli_store::{NewTakedown, TakedownFilter, TakedownRecord, WebhookDelivery};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub(crate) mod ops {
    use super::*;

    pub struct Request {
        pub post_ids: Vec<String>,
        pub account_id: Option<String>,
        pub urgency: String,
        pub legal_basis: String,
        pub case_id: Option<CaseId>,
    }

    pub async fn create(
        state: &AppState,
        wf: &Workflow,
        who: &Principal,
        req: Request,
    ) -> ApiResult<TakedownRecord> {
        let store = state.store();
        let urgency: Urgency = req
            .urgency
            .parse()
            .map_err(|e| ApiError::bad_param("urgency", e))?;
        if req.legal_basis.trim().is_empty() {
            return Err(ApiError::bad_param("legal_basis", "required")
                .hint("GET /api/v1/legal-basis lists the article ids."));
        }
        let mut posts = super::super::cases::ops::visible_posts(state, who, &req.post_ids).await?;
        let account: Option<AccountId> = match &req.account_id {
            Some(a) => {
                let id: AccountId = parse_id(a)?;
                let of_account = store.account_posts(id, None, 1000).await?;
                if of_account.is_empty() {
                    return Err(ApiError::not_found());
                }
                for p in of_account {
                    if who.may_see_region(p.region_code.as_deref()) && !posts.contains(&p.id) {
                        posts.push(p.id);
                    }
                }
                Some(id)
            }
            None => None,
        };
        if posts.is_empty() {
            return Err(bad(
                "name at least one post (`post_ids`) or an `account_id`",
            ));
        }
        let mut platform = None;
        let mut category: Option<Category> = None;
        let mut severity = Severity::None;
        for p in &posts {
            let rec = store.get_post(*p).await?.ok_or_else(ApiError::not_found)?;
            match platform {
                None => platform = Some(rec.platform_id),
                Some(pl) if pl != rec.platform_id => {
                    return Err(bad(
                        "all posts of one takedown request must be on the same platform",
                    ));
                }
                _ => {}
            }
            if let Some(f) = store.latest_finding_for_post(*p).await? {
                severity = severity.max(f.severity);
                if category.is_none() {
                    category = f.categories.first().copied();
                }
            }
        }
        if let Some(c) = req.case_id {
            super::super::visible_case(state, who, c).await?;
        }
        let policy = &wf.config.takedown_policy;
        let urgency = policy.effective_urgency(urgency, category, severity);
        let now = time::OffsetDateTime::now_utc();
        let due_at = policy.due_at(now, urgency, category);
        let mut marks = Vec::new();
        for p in &posts {
            for (k, v) in super::super::hooks::marks_of(state, *p).await {
                marks.push((*p, k, v));
            }
        }
        let me = member(state, who).await.ok();
        let t = store
            .create_takedown(NewTakedown {
                platform_id: platform.expect("posts is not empty"),
                case_id: req.case_id,
                account_id: account,
                agency_id: me.as_ref().map(|m| m.agency),
                requested_by: who.actor.clone(),
                legal_basis: wf.legal.cite(req.legal_basis.trim()),
                urgency,
                category,
                requested_at: now,
                due_at,
                posts,
                marks,
            })
            .await?;
        if let Some(c) = t.case_id {
            store
                .add_case_event(
                    c,
                    &who.actor,
                    "takedown",
                    json!({"takedown": t.id, "platform": t.platform, "urgency": t.urgency, "due_at": fmt_time(t.due_at)}),
                )
                .await?;
        }
        auth::audit(
            state,
            &who.actor,
            "takedown.create",
            Some(format!("takedown:{}", t.id)),
            json!({"platform": t.platform, "posts": t.post_ids, "urgency": t.urgency, "legal_basis": t.legal_basis}),
        )
        .await;
        if let Some(target) = wf.config.webhooks.get(&t.platform) {
            super::super::webhook::spawn_delivery(
                state.clone(),
                target.clone(),
                wf.config.allow_private_webhooks,
                wf.config.webhook_retry,
                t.id,
                webhook_body(&t),
            );
        }
        Ok(t)
    }

    /// After a request is taken down: reports linked to its posts are acted on.
    pub async fn reports_acted_on(state: &AppState, t: &TakedownRecord) -> ApiResult<()> {
        let store = state.store();
        for p in &t.post_ids {
            for r in store.reports_of_post(*p).await? {
                let Some(rep) = store.get_report(r).await? else {
                    continue;
                };
                let mut status = rep.status;
                for next in [ReportStatus::InReview, ReportStatus::ActedOn] {
                    if let Ok(s) = patroli_core::workflow::advance_report(status, next) {
                        status = s;
                    }
                }
                if status != rep.status {
                    store.set_report_status(r, status).await?;
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn webhook_body(t: &TakedownRecord) -> Value {
    json!({
        "event": "takedown.requested",
        "takedown_id": t.id,
        "post_ids": t.post_ids,
        "urgency": t.urgency,
        "legal_basis": t.legal_basis,
        "due_at": fmt_time(t.due_at),
    })
}

/// One line of a request's webhook delivery log.
pub(crate) fn delivery_json(d: &WebhookDelivery) -> Value {
    json!({
        "attempt": d.attempt,
        "at": fmt_time(d.at),
        "url": d.url,
        "status_code": d.status_code,
        "error": d.error,
        "next_retry_at": d.next_retry_at.map(fmt_time),
    })
}

/// What a platform (and staff) see of a request.
pub(crate) fn takedown_json(t: &TakedownRecord, now: time::OffsetDateTime) -> Value {
    json!({
        "takedown_id": t.id,
        "platform": t.platform,
        "post_ids": t.post_ids,
        "account_id": t.account_id,
        "urgency": t.urgency,
        "legal_basis": t.legal_basis,
        "category": t.category,
        "status": t.status,
        "reason": t.reason,
        "requested_at": fmt_time(t.requested_at),
        "due_at": fmt_time(t.due_at),
        "acknowledged_at": t.acknowledged_at.map(fmt_time),
        "answered_at": t.answered_at.map(fmt_time),
        "overdue": is_overdue(t.status, t.due_at, now),
        "seconds_left": (t.due_at - now).whole_seconds(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateBody {
    #[serde(default)]
    post_ids: Vec<String>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default = "normal")]
    urgency: String,
    legal_basis: String,
    #[serde(default)]
    case_id: Option<String>,
}

fn normal() -> String {
    "normal".into()
}

pub(super) async fn create(
    State(state): State<AppState>,
    Extension(wf): Wf,
    who: Authed<CaseWork>,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(b) = body?;
    let case_id = b.case_id.as_deref().map(parse_id::<CaseId>).transpose()?;
    let t = ops::create(
        &state,
        &wf,
        &who,
        ops::Request {
            post_ids: b.post_ids,
            account_id: b.account_id,
            urgency: b.urgency,
            legal_basis: b.legal_basis,
            case_id,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"takedown_id": t.id, "due_at": fmt_time(t.due_at), "urgency": t.urgency})),
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    #[serde(default)]
    status: Option<String>,
}

/// The platform a platform token speaks for (its requests only); `None` for staff.
async fn platform_scope(
    state: &AppState,
    who: &Principal,
) -> ApiResult<Option<patroli_core::PlatformId>> {
    if who.role != Role::Platform {
        return Ok(None);
    }
    let name = who.platform.as_deref().ok_or_else(ApiError::forbidden)?;
    let p = state
        .store()
        .get_platform_by_name(name)
        .await?
        .ok_or_else(ApiError::forbidden)?;
    Ok(Some(p.id))
}

pub(super) async fn list(
    State(state): State<AppState>,
    who: Authed<TakedownRead>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let status = q
        .status
        .as_deref()
        .map(|s| s.parse::<TakedownStatus>())
        .transpose()
        .map_err(|e| ApiError::bad_param("status", e))?;
    let filter = TakedownFilter {
        platform: platform_scope(&state, &who).await?,
        status,
        case_id: None,
    };
    let now = time::OffsetDateTime::now_utc();
    let items = state.store().list_takedowns(&filter).await?;
    Ok(Json(json!({
        "items": items.iter().map(|t| takedown_json(t, now)).collect::<Vec<_>>()
    })))
}

pub(super) async fn visible_takedown(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> ApiResult<TakedownRecord> {
    let t = state
        .store()
        .get_takedown(parse_id::<TakedownId>(id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    match platform_scope(state, who).await? {
        Some(p) if p != t.platform_id => Err(ApiError::not_found()),
        _ => Ok(t),
    }
}

pub(super) async fn detail(
    State(state): State<AppState>,
    who: Authed<TakedownRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = visible_takedown(&state, &who, &id).await?;
    let deliveries = state.store().webhook_deliveries(t.id).await?;
    let mut body = takedown_json(&t, time::OffsetDateTime::now_utc());
    body["deliveries"] = deliveries.iter().map(delivery_json).collect();
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ResponseBody {
    status: String,
    #[serde(default)]
    reason: String,
}

pub(super) async fn respond(
    State(state): State<AppState>,
    who: Authed<PlatformOnly>,
    Path(id): Path<String>,
    body: Result<Json<ResponseBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(b) = body?;
    let t = visible_takedown(&state, &who, &id).await?;
    let answer = match b.status.as_str() {
        "acknowledged" => TakedownAnswer::Acknowledged,
        "taken_down" => TakedownAnswer::TakenDown {
            reason: b.reason.clone(),
        },
        "rejected" => TakedownAnswer::Rejected {
            reason: b.reason.clone(),
        },
        other => {
            return Err(ApiError::bad_param(
                "status",
                format!("unknown status `{other}` (acknowledged, taken_down, rejected)"),
            ));
        }
    };
    let next = answer_takedown(t.status, &answer)
        .map_err(|e| ApiError::with_message(ErrorCode::Conflict, e.to_string()))?;
    let now = time::OffsetDateTime::now_utc();
    state
        .store()
        .set_takedown_status(t.id, next, b.reason.trim(), now)
        .await?;
    let t = state
        .store()
        .get_takedown(t.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if let Some(c) = t.case_id {
        state
            .store()
            .add_case_event(
                c,
                &who.actor,
                "takedown_answer",
                json!({"takedown": t.id, "status": next, "reason": b.reason.trim()}),
            )
            .await?;
    }
    if next == TakedownStatus::TakenDown {
        ops::reports_acted_on(&state, &t).await?;
    }
    auth::audit(
        &state,
        &who.actor,
        "takedown.answer",
        Some(format!("takedown:{}", t.id)),
        json!({"status": next, "reason": b.reason.trim()}),
    )
    .await;
    Ok(Json(takedown_json(&t, now)))
}

/// Per-platform compliance: requests, answered, taken down in time, median and p90 hours from
/// request to takedown.
pub(crate) fn compute_stats(items: &[TakedownRecord], now: time::OffsetDateTime) -> Value {
    let mut by: BTreeMap<&str, Vec<&TakedownRecord>> = BTreeMap::new();
    for t in items {
        by.entry(t.platform.as_str()).or_default().push(t);
    }
    let platforms: Vec<Value> = by
        .into_iter()
        .map(|(name, ts)| {
            let taken: Vec<f64> = ts
                .iter()
                .filter(|t| t.status == TakedownStatus::TakenDown)
                .filter_map(|t| t.answered_at.map(|a| (a - t.requested_at).as_seconds_f64() / 3600.0))
                .collect();
            // Compliance counts requests whose deadline passed or that were answered: an open
            // request still inside its deadline has not failed yet.
            let decided: Vec<&&TakedownRecord> = ts
                .iter()
                .filter(|t| !t.status.is_open() || now > t.due_at)
                .collect();
            let complied = decided
                .iter()
                .filter(|t| complied_in_time(t.status, t.answered_at, t.due_at))
                .count();
            json!({
                "platform": name,
                "requests": ts.len(),
                "open": ts.iter().filter(|t| t.status.is_open()).count(),
                "overdue": ts.iter().filter(|t| is_overdue(t.status, t.due_at, now)).count(),
                "taken_down": taken.len(),
                "rejected": ts.iter().filter(|t| t.status == TakedownStatus::Rejected).count(),
                "compliance_rate": if decided.is_empty() { Value::Null } else { json!(complied as f64 / decided.len() as f64) },
                "median_hours_to_takedown": percentile(&taken, 0.5),
                "p90_hours_to_takedown": percentile(&taken, 0.9),
            })
        })
        .collect();
    json!({ "platforms": platforms })
}

/// Nearest-rank percentile; `null` for no data.
fn percentile(values: &[f64], p: f64) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    json!(v[rank - 1])
}

pub(super) async fn stats(
    State(state): State<AppState>,
    who: Authed<TakedownRead>,
) -> ApiResult<Json<Value>> {
    let filter = TakedownFilter {
        platform: platform_scope(&state, &who).await?,
        ..Default::default()
    };
    let items = state.store().list_takedowns(&filter).await?;
    Ok(Json(compute_stats(&items, time::OffsetDateTime::now_utc())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn req(platform: &str, h_answer: Option<i64>, status: TakedownStatus) -> TakedownRecord {
        let at = datetime!(2026-11-20 08:00 UTC);
        TakedownRecord {
            id: TakedownId::new(),
            platform_id: patroli_core::PlatformId::new(),
            platform: platform.into(),
            case_id: None,
            account_id: None,
            agency_id: None,
            requested_by: "user:x".into(),
            legal_basis: "PP 71/2019".into(),
            urgency: Urgency::Normal,
            category: None,
            status,
            reason: String::new(),
            requested_at: at,
            due_at: at + time::Duration::hours(24),
            acknowledged_at: None,
            answered_at: h_answer.map(|h| at + time::Duration::hours(h)),
            post_ids: vec![],
        }
    }

    #[test]
    fn stats_count_compliance_median_and_p90() {
        let now = datetime!(2026-11-23 08:00 UTC);
        let items = vec![
            req("a", Some(2), TakedownStatus::TakenDown),
            req("a", Some(10), TakedownStatus::TakenDown),
            req("a", Some(30), TakedownStatus::TakenDown),
            req("a", Some(5), TakedownStatus::Rejected),
            req("b", None, TakedownStatus::Pending),
        ];
        let s = compute_stats(&items, now);
        let a = &s["platforms"][0];
        assert_eq!(a["platform"], "a");
        assert_eq!(a["requests"], 4);
        assert_eq!(a["taken_down"], 3);
        // 2 of 4 decided requests were taken down before the 24 h deadline.
        assert_eq!(a["compliance_rate"], json!(0.5));
        assert_eq!(a["median_hours_to_takedown"], json!(10.0));
        assert_eq!(a["p90_hours_to_takedown"], json!(30.0));
        let b = &s["platforms"][1];
        assert_eq!(b["overdue"], 1);
        assert_eq!(b["compliance_rate"], json!(0.0));
        assert_eq!(b["median_hours_to_takedown"], Value::Null);
    }
}
