//! The JSON API under `/api/v1`, plus `/healthz`, `/metrics` and `/api/openapi.json`.
//!
//! Handlers parse and validate input, call the shared operations in [`ops`] (which the web UI
//! uses too, so both paths apply the same checks and audit), and shape JSON. Everything the UI can
//! do is reachable here.

use crate::AppState;
use crate::auth::{
    self, AdminOnly, AnyRole, Authed, ClientAddr, Decide, Ingest, Principal, ReadQueue,
};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::metrics::Metrics;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use patroli_core::{
    AgencyKind, Category, FindingStatus, PostId, Role, TokenId, UserId, VerdictKind,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// Every route of this module as (method, path): the router is built from this table and the
/// OpenAPI test checks the document against it, so the two cannot drift apart.
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    table(usize::MAX)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .chain(crate::intel::route_table())
        .chain(crate::workflow::route_table())
        .collect()
}

type Handler = axum::routing::MethodRouter<AppState>;

fn table(ingest_limit: usize) -> Vec<(&'static str, &'static str, Handler)> {
    vec![
        ("GET", "/healthz", get(healthz)),
        ("GET", "/metrics", get(metrics)),
        ("GET", "/api/openapi.json", get(crate::openapi::document)),
        ("POST", "/api/v1/login", post(login)),
        ("POST", "/api/v1/logout", post(logout)),
        ("GET", "/api/v1/me", get(me)),
        (
            "POST",
            "/api/v1/posts",
            post(ingest).layer(DefaultBodyLimit::max(ingest_limit)),
        ),
        ("GET", "/api/v1/posts/{post_id}", get(post_detail)),
        ("POST", "/api/v1/posts/{post_id}/verdict", post(verdict)),
        ("GET", "/api/v1/findings", get(findings)),
        ("POST", "/api/v1/verdicts", post(bulk_verdicts)),
        ("GET", "/api/v1/users", get(list_users)),
        ("POST", "/api/v1/users", post(create_user)),
        ("PATCH", "/api/v1/users/{user_id}", patch(update_user)),
        ("GET", "/api/v1/tokens", get(list_tokens)),
        ("POST", "/api/v1/tokens", post(create_token)),
        ("DELETE", "/api/v1/tokens/{token_id}", delete(revoke_token)),
    ]
}

pub fn routes(ingest_limit: usize) -> Router<AppState> {
    let mut by_path: Vec<(&'static str, Handler)> = Vec::new();
    for (_, path, handler) in table(ingest_limit) {
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, h)) => *h = std::mem::take(h).merge(handler),
            None => by_path.push((path, handler)),
        }
    }
    by_path
        .into_iter()
        .fold(Router::new(), |r, (path, handler)| r.route(path, handler))
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store().ping().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: store unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics().render(),
    )
        .into_response()
}

// ---------------------------------------------------------------- auth

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(connect): ClientAddr,
    headers: HeaderMap,
    body: Result<Json<LoginBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(body) = body?;
    let client = auth::client_addr(&headers, connect, state.config().trust_forwarded_for);
    let done = auth::login(&state, &client, &body.username, &body.password).await?;
    let cookie = auth::session_cookie(&state, &done.token);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({
            "token": done.token,
            "csrf_token": done.csrf,
            "user": user_json(&done.user),
        })),
    )
        .into_response())
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    auth::logout(&state, &headers).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, auth::clear_session_cookie(&state))],
    )
        .into_response())
}

async fn me(who: Authed<AnyRole>) -> Json<Value> {
    Json(json!({
        "name": who.name,
        "role": who.role,
        "platform": who.platform,
        "region_scope": who.scope,
    }))
}

fn user_json(u: &patroli_store::UserRecord) -> Value {
    // UserRecord never serializes its password hash.
    serde_json::to_value(u).unwrap_or(Value::Null)
}

// ---------------------------------------------------------------- ingest

async fn ingest(
    State(state): State<AppState>,
    who: Authed<Ingest>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Json<Vec<Value>>> {
    let Json(body) = body?;
    let Value::Array(items) = body else {
        return Err(ApiError::with_message(
            ErrorCode::InvalidJson,
            "The body must be a JSON array of posts.",
        ));
    };
    if items.len() > state.config().max_batch_posts {
        return Err(ApiError::with_message(
            ErrorCode::PayloadTooLarge,
            format!(
                "At most {} posts per request; this one has {}.",
                state.config().max_batch_posts,
                items.len()
            ),
        ));
    }
    let results = ops::ingest(&state, &who, items).await?;
    Ok(Json(results))
}

// ---------------------------------------------------------------- review

/// Query parameters of the review queue, shared by the API and the HTML queue.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct FindingParams {
    pub status: Option<String>,
    pub category: Option<String>,
    pub platform: Option<String>,
    pub region: Option<String>,
    pub q: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

pub const PAGE_SIZE: u32 = 50;

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_date(name: &str, s: &str) -> ApiResult<time::OffsetDateTime> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, &fmt) {
        return Ok(d.midnight().assume_utc());
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| ApiError::bad_param(name, "expected YYYY-MM-DD or an RFC 3339 time"))
}

impl FindingParams {
    /// Build the store filter. The caller's scope is set from the principal, never from input.
    pub fn to_filter(
        &self,
        who: &Principal,
        default_status: Option<FindingStatus>,
    ) -> ApiResult<patroli_store::FindingFilter> {
        let status = match nonempty(&self.status) {
            None => default_status,
            Some("any" | "all") => None,
            Some(s) => Some(s.parse().map_err(|e| ApiError::bad_param("status", e))?),
        };
        let category = nonempty(&self.category)
            .map(|c| c.parse::<Category>())
            .transpose()
            .map_err(|e| ApiError::bad_param("category", e))?;
        let region = nonempty(&self.region)
            .map(|r| {
                if r.chars().all(|c| c.is_ascii_digit() || c == '.') && r.len() <= 16 {
                    Ok(r.to_string())
                } else {
                    Err(ApiError::bad_param(
                        "region",
                        "expected a region code such as 65 or 65.71",
                    ))
                }
            })
            .transpose()?;
        let from = nonempty(&self.from)
            .map(|s| parse_date("from", s))
            .transpose()?;
        let to = nonempty(&self.to)
            .map(|s| {
                // A bare date means "through the end of that day".
                let t = parse_date("to", s)?;
                Ok::<_, ApiError>(if s.len() == 10 {
                    t + time::Duration::days(1)
                } else {
                    t
                })
            })
            .transpose()?;
        let page: u32 = nonempty(&self.page)
            .map(|p| {
                p.parse()
                    .ok()
                    .filter(|p| *p >= 1)
                    .ok_or_else(|| ApiError::bad_param("page", "expected a number >= 1"))
            })
            .transpose()?
            .unwrap_or(1);
        let per_page: u32 = nonempty(&self.per_page)
            .map(|p| {
                p.parse()
                    .ok()
                    .filter(|p| (1..=500).contains(p))
                    .ok_or_else(|| ApiError::bad_param("per_page", "expected 1..=500"))
            })
            .transpose()?
            .unwrap_or(PAGE_SIZE);
        Ok(patroli_store::FindingFilter {
            status,
            category,
            platform: nonempty(&self.platform).map(str::to_string),
            region_prefix: region,
            scope_prefix: who.scope.clone(),
            min_severity: None,
            from,
            to,
            include_superseded: false,
            text: nonempty(&self.q).map(str::to_string),
            limit: per_page,
            offset: (page - 1).saturating_mul(per_page),
        })
    }
}

async fn findings(
    State(state): State<AppState>,
    who: Authed<ReadQueue>,
    params: Result<Query<FindingParams>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(params) =
        params.map_err(|e| ApiError::with_message(ErrorCode::InvalidParameter, e.body_text()))?;
    let filter = params.to_filter(&who, None)?;
    let page = state.store().list_findings(&filter).await?;
    // The store applied the scope; this re-check costs nothing and guards against a filter bug.
    let items: Vec<Value> = page
        .items
        .iter()
        .filter(|i| who.may_see_region(i.region_code.as_deref()))
        .map(queue_item_json)
        .collect();
    Ok(Json(json!({
        "items": items,
        "total": page.total,
        "page": filter.offset / filter.limit.max(1) + 1,
        "per_page": filter.limit,
    })))
}

fn queue_item_json(i: &patroli_store::QueueItem) -> Value {
    json!({
        "post_id": i.finding.post_id,
        "finding_id": i.finding.id,
        "platform": i.platform,
        "external_id": i.external_id,
        "account": i.account_handle,
        "url": i.url,
        "title": i.title,
        "text": i.text,
        "location": i.location,
        "region_code": i.region_code,
        "categories": i.finding.categories,
        "severity": i.finding.severity,
        "score": i.finding.score,
        "status": i.finding.status,
        "lexicon_version": i.finding.lexicon_version,
        "created_at": fmt_time(i.finding.created_at),
        "posted_at": i.posted_at.map(fmt_time),
    })
}

pub fn fmt_time(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn parse_post_id(s: &str) -> ApiResult<PostId> {
    // An unparsable id is as unknown as a well-formed one that does not exist.
    s.parse().map_err(|_| ApiError::not_found())
}

async fn post_detail(
    State(state): State<AppState>,
    who: Authed<ReadQueue>,
    Path(post_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = parse_post_id(&post_id)?;
    let detail = ops::post_detail(&state, &who, id).await?;
    Ok(Json(
        serde_json::to_value(&detail).map_err(ApiError::internal)?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerdictBody {
    verdict: String,
    #[serde(default)]
    reason: String,
}

async fn verdict(
    State(state): State<AppState>,
    who: Authed<Decide>,
    Path(post_id): Path<String>,
    body: Result<Json<VerdictBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(body) = body?;
    let id = parse_post_id(&post_id)?;
    let kind = ops::parse_verdict(&body.verdict)?;
    let rec = ops::decide(&state, &who, id, kind, &body.reason).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(&rec).map_err(ApiError::internal)?),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkBody {
    post_ids: Vec<String>,
    verdict: String,
    #[serde(default)]
    reason: String,
}

async fn bulk_verdicts(
    State(state): State<AppState>,
    who: Authed<Decide>,
    body: Result<Json<BulkBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(body) = body?;
    let kind = ops::parse_verdict(&body.verdict)?;
    ops::check_reason(&body.reason)?;
    if body.post_ids.len() > 1000 {
        return Err(ApiError::bad_param("post_ids", "at most 1,000 per request"));
    }
    let mut results = Vec::with_capacity(body.post_ids.len());
    for raw in &body.post_ids {
        let r = match parse_post_id(raw) {
            Ok(id) => ops::decide(&state, &who, id, kind, &body.reason).await,
            Err(e) => Err(e),
        };
        results.push(match r {
            Ok(v) => json!({"post_id": raw, "verdict_id": v.id, "verdict": v.verdict}),
            Err(e) => json!({"post_id": raw, "error": e.to_json()["error"]}),
        });
    }
    Ok(Json(json!({ "results": results })))
}

// ---------------------------------------------------------------- admin

async fn list_users(
    State(state): State<AppState>,
    _who: Authed<AdminOnly>,
) -> ApiResult<Json<Value>> {
    let users = state.store().list_users().await?;
    Ok(Json(
        json!({ "users": users.iter().map(user_json).collect::<Vec<_>>() }),
    ))
}

/// A user to create (API body; the admin form maps onto it).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    pub username: String,
    pub password: String,
    pub role: String,
    pub agency: String,
    #[serde(default)]
    pub region: Option<String>,
}

async fn create_user(
    State(state): State<AppState>,
    who: Authed<AdminOnly>,
    body: Result<Json<CreateUserBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(body) = body?;
    let user = ops::create_user(&state, &who, body).await?;
    Ok((StatusCode::CREATED, Json(user_json(&user))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateUserBody {
    #[serde(default)]
    disabled: Option<bool>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

async fn update_user(
    State(state): State<AppState>,
    who: Authed<AdminOnly>,
    Path(user_id): Path<String>,
    body: Result<Json<UpdateUserBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(body) = body?;
    let id: UserId = user_id.parse().map_err(|_| ApiError::not_found())?;
    let role = body
        .role
        .as_deref()
        .map(|r| r.parse::<Role>())
        .transpose()
        .map_err(|e| ApiError::bad_param("role", e))?;
    let user = ops::update_user(&state, &who, id, body.disabled, role, body.password).await?;
    Ok(Json(user_json(&user)))
}

pub async fn hash_blocking(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || crate::secrets::hash_password(&password))
        .await
        .map_err(ApiError::internal)
}

async fn list_tokens(
    State(state): State<AppState>,
    _who: Authed<AdminOnly>,
) -> ApiResult<Json<Value>> {
    let tokens = state.store().list_api_tokens().await?;
    Ok(Json(json!({ "tokens": tokens })))
}

/// A token to create: for a platform (ingest) or acting as an existing user.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenBody {
    pub name: String,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    who: Authed<AdminOnly>,
    body: Result<Json<CreateTokenBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(body) = body?;
    let (plain, rec) = ops::create_token(&state, &who, body).await?;
    let mut v = serde_json::to_value(&rec).map_err(ApiError::internal)?;
    v["token"] = Value::String(plain);
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn revoke_token(
    State(state): State<AppState>,
    who: Authed<AdminOnly>,
    Path(token_id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: TokenId = token_id.parse().map_err(|_| ApiError::not_found())?;
    ops::revoke_token(&state, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Operations shared by the JSON API and the HTML forms.
pub mod ops {
    use super::*;
    use patroli_store::{IngestPost, ScreenedPost};

    pub fn parse_verdict(s: &str) -> ApiResult<VerdictKind> {
        s.parse().map_err(|e| ApiError::bad_param("verdict", e))
    }

    pub fn check_reason(reason: &str) -> ApiResult<()> {
        let r = reason.trim();
        if r.is_empty() {
            return Err(ApiError::bad_param("reason", "a reason is required"));
        }
        if r.chars().count() > 2000 {
            return Err(ApiError::bad_param("reason", "at most 2,000 characters"));
        }
        Ok(())
    }

    pub fn check_password(p: &str) -> ApiResult<()> {
        if p.chars().count() < 8 {
            return Err(ApiError::bad_param("password", "at least 8 characters"));
        }
        Ok(())
    }

    /// Record a verdict on a post's newest finding. Unknown and out-of-scope posts are both 404.
    pub async fn decide(
        state: &AppState,
        who: &Principal,
        post: PostId,
        kind: VerdictKind,
        reason: &str,
    ) -> ApiResult<patroli_store::VerdictRecord> {
        check_reason(reason)?;
        let user_id = who.user_id.ok_or_else(ApiError::forbidden)?;
        let store = state.store();
        let rec = store
            .get_post(post)
            .await?
            .ok_or_else(ApiError::not_found)?;
        if !who.may_see_region(rec.region_code.as_deref()) {
            return Err(ApiError::not_found());
        }
        let finding = store.latest_finding_for_post(post).await?.ok_or_else(|| {
            ApiError::with_message(
                ErrorCode::NotFound,
                "This post has no finding to decide on.",
            )
        })?;
        let v = store
            .record_verdict(patroli_store::NewVerdict {
                finding_id: finding.id,
                user_id,
                verdict: kind,
                reason: reason.trim().to_string(),
            })
            .await?;
        let m = state.metrics();
        Metrics::add(
            match kind {
                VerdictKind::Confirmed => &m.verdicts_confirmed,
                VerdictKind::Dismissed => &m.verdicts_dismissed,
            },
            1,
        );
        auth::audit(
            state,
            &who.actor,
            "verdict.record",
            Some(format!("post:{post}")),
            json!({"finding": finding.id, "verdict": kind, "reason": v.reason}),
        )
        .await;
        Ok(v)
    }

    /// The post page's data, with the account's other posts narrowed to the caller's scope.
    pub async fn post_detail(
        state: &AppState,
        who: &Principal,
        id: PostId,
    ) -> ApiResult<patroli_store::PostDetail> {
        let mut detail = state
            .store()
            .post_detail(id, who.scope.as_deref())
            .await?
            .ok_or_else(ApiError::not_found)?;
        if !who.may_see_region(detail.post.region_code.as_deref()) {
            return Err(ApiError::not_found());
        }
        detail
            .account_posts
            .retain(|p| p.id != id && who.may_see_region(p.region_code.as_deref()));
        auth::audit(
            state,
            &who.actor,
            "post.view",
            Some(format!("post:{id}")),
            json!({}),
        )
        .await;
        Ok(detail)
    }

    /// One element of the ingest body after validation.
    struct Valid {
        index: usize,
        platform: String,
        post: IngestPost,
    }

    fn text_field(
        obj: &serde_json::Map<String, Value>,
        name: &str,
        max: usize,
    ) -> Result<Option<String>, String> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
            Some(Value::String(_)) => Err(format!("`{name}` is longer than {max} characters")),
            Some(_) => Err(format!("`{name}` must be a string")),
        }
    }

    fn validate(index: usize, v: Value, who: &Principal) -> Result<Valid, String> {
        let Value::Object(obj) = v else {
            return Err("a post must be a JSON object".into());
        };
        let external_id = match obj.get("id") {
            Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 256 => {
                s.trim().to_string()
            }
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(_)) => {
                return Err("`id` must be a non-empty string of at most 256 bytes".into());
            }
            None | Some(Value::Null) => return Err("`id` is missing".into()),
            Some(_) => return Err("`id` must be a string or a number".into()),
        };
        let text = text_field(&obj, "text", 100_000)?.ok_or("`text` is missing")?;
        let title = text_field(&obj, "title", 2_000)?;
        let url = text_field(&obj, "url", 4_000)?;
        let location = text_field(&obj, "location", 500)?;
        let declared_category = text_field(&obj, "category", 500)?;
        let (account_handle, account_name) = match obj.get("account") {
            None | Some(Value::Null) => (None, None),
            Some(Value::String(h)) => (Some(h.clone()), None),
            Some(Value::Object(a)) => (
                text_field(a, "handle", 256)?
                    .map(Some)
                    .ok_or("`account.handle` is missing")?,
                text_field(a, "name", 256)?,
            ),
            Some(_) => {
                return Err("`account` must be a handle string or {\"handle\",\"name\"}".into());
            }
        };
        let price = match obj.get("price") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(
                n.as_f64()
                    .filter(|p| p.is_finite() && *p >= 0.0)
                    .ok_or("`price` must be a non-negative number")?,
            ),
            Some(_) => return Err("`price` must be a number".into()),
        };
        let posted_at = match text_field(&obj, "posted_at", 64)? {
            None => None,
            Some(s) => Some(parse_date("posted_at", &s).map_err(|e| e.message)?),
        };
        let platform = match (text_field(&obj, "platform", 64)?, &who.platform) {
            (Some(p), Some(mine)) if &p != mine => {
                return Err(format!("this token may only ingest for platform `{mine}`"));
            }
            (_, Some(mine)) => mine.clone(),
            (Some(p), None) if !p.trim().is_empty() => p.trim().to_string(),
            _ => {
                return Err(
                    "`platform` is missing (required when the token is not tied to a platform)"
                        .into(),
                );
            }
        };
        let region_code = location
            .as_deref()
            .and_then(|l| patroli_core::region::Regions::builtin().resolve(l))
            .map(|r| r.code);
        Ok(Valid {
            index,
            platform,
            post: IngestPost {
                external_id,
                url,
                account_handle,
                account_name,
                title,
                text,
                price,
                declared_category,
                posted_at,
                location,
                region_code,
            },
        })
    }

    /// Validate, screen (on the blocking pool: screening is CPU work) and store a batch. The
    /// answer has one element per input element, in order.
    pub async fn ingest(
        state: &AppState,
        who: &Principal,
        items: Vec<Value>,
    ) -> ApiResult<Vec<Value>> {
        let n = items.len();
        let mut results: Vec<Value> = vec![Value::Null; n];
        let mut valid = Vec::with_capacity(n);
        for (index, item) in items.into_iter().enumerate() {
            match validate(index, item, who) {
                Ok(v) => valid.push(v),
                Err(msg) => results[index] = json!({"index": index, "error": msg}),
            }
        }
        let rejected = n - valid.len();
        let engine = state.engine().clone();
        let screened: Vec<(usize, String, ScreenedPost)> = tokio::task::spawn_blocking(move || {
            valid
                .into_iter()
                .map(|v| {
                    let screening = engine.screen(&patroli_detect::Post {
                        text: &v.post.text,
                        title: v.post.title.as_deref(),
                        declared_category: v.post.declared_category.as_deref(),
                        price: v.post.price,
                    });
                    (
                        v.index,
                        v.platform,
                        ScreenedPost {
                            post: v.post,
                            screening,
                        },
                    )
                })
                .collect()
        })
        .await
        .map_err(ApiError::internal)?;

        // One store call (one transaction) per platform in the batch, keeping input order inside.
        let mut by_platform: Vec<(String, Vec<(usize, ScreenedPost)>)> = Vec::new();
        for (index, platform, sp) in screened {
            match by_platform.iter_mut().find(|(p, _)| *p == platform) {
                Some((_, v)) => v.push((index, sp)),
                None => by_platform.push((platform, vec![(index, sp)])),
            }
        }
        let (mut stored, mut flagged) = (0u64, 0u64);
        for (platform, posts) in by_platform {
            let (indexes, mut posts): (Vec<usize>, Vec<ScreenedPost>) = posts.into_iter().unzip();
            let intel = crate::intel::before_store(state, &mut posts).await;
            let summaries: Vec<(bool, Vec<Category>)> = posts
                .iter()
                .map(|p| (p.screening.flagged, p.screening.categories.clone()))
                .collect();
            let (reply, answer) = tokio::sync::oneshot::channel();
            let job = crate::ingest::Job {
                platform,
                posts,
                reply,
            };
            state
                .ingest_queue()
                .send(job)
                .await
                .map_err(|_| ApiError::internal("ingest writer stopped"))?;
            let outcomes = answer
                .await
                .map_err(|_| ApiError::internal("ingest writer dropped a request"))??;
            crate::intel::after_store(state, intel, &outcomes).await;
            for ((index, (is_flagged, categories)), outcome) in
                indexes.into_iter().zip(summaries).zip(outcomes)
            {
                stored += 1;
                flagged += u64::from(is_flagged);
                results[index] = json!({
                    "index": index,
                    "post_id": outcome.post_id,
                    "status": outcome.status,
                    "flagged": is_flagged,
                    "categories": categories,
                });
            }
        }
        let m = state.metrics();
        Metrics::add(&m.posts_ingested, stored);
        Metrics::add(&m.posts_flagged, flagged);
        Metrics::add(&m.posts_rejected, rejected as u64);
        Ok(results)
    }

    fn valid_username(u: &str) -> bool {
        (3..=64).contains(&u.len())
            && u.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    }

    pub async fn create_user(
        state: &AppState,
        who: &Principal,
        body: CreateUserBody,
    ) -> ApiResult<patroli_store::UserRecord> {
        let username = body.username.trim().to_string();
        if !valid_username(&username) {
            return Err(ApiError::bad_param(
                "username",
                "3-64 characters: letters, digits, . _ -",
            ));
        }
        check_password(&body.password)?;
        let role: Role = body
            .role
            .parse()
            .map_err(|e| ApiError::bad_param("role", e))?;
        let agency: AgencyKind = body
            .agency
            .trim()
            .to_uppercase()
            .parse()
            .map_err(|e| ApiError::bad_param("agency", e))?;
        let region = match body
            .region
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            None => None,
            Some(code) => {
                patroli_core::region::Regions::builtin()
                    .get(code)
                    .ok_or_else(|| ApiError::bad_param("region", "unknown region code"))?;
                Some(code.to_string())
            }
        };
        let store = state.store();
        let agency_rec = store.ensure_agency(agency, agency.as_str()).await?;
        let password_hash = hash_blocking(body.password).await?;
        let user = store
            .create_user(patroli_store::NewUser {
                username: username.clone(),
                display_name: None,
                agency,
                password_hash,
                role,
                agency_id: Some(agency_rec.id),
                unit_id: None,
                region_code: region.clone(),
            })
            .await
            .map_err(|e| {
                if e.is_conflict() {
                    ApiError::with_message(ErrorCode::Conflict, "This user name is taken.")
                } else {
                    e.into()
                }
            })?;
        auth::audit(
            state,
            &who.actor,
            "user.create",
            Some(format!("user:{}", user.id)),
            json!({"username": username, "role": role, "agency": agency, "region": region}),
        )
        .await;
        Ok(user)
    }

    pub async fn create_token(
        state: &AppState,
        who: &Principal,
        body: CreateTokenBody,
    ) -> ApiResult<(String, patroli_store::ApiTokenRecord)> {
        let name = body.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ApiError::bad_param("name", "1-100 characters"));
        }
        let store = state.store();
        let platform = nonempty(&body.platform).map(str::to_string);
        let username = nonempty(&body.username).map(str::to_string);
        let (platform_id, user_id, role) = match (platform.as_deref(), username.as_deref()) {
            (Some(p), None) => (
                Some(store.ensure_platform(p).await?.id),
                None,
                Role::Platform,
            ),
            (None, Some(u)) => {
                let user = store
                    .get_user_by_username(u)
                    .await?
                    .ok_or_else(|| ApiError::bad_param("username", "no such user"))?;
                (None, Some(user.id), user.role)
            }
            _ => {
                return Err(ApiError::with_message(
                    ErrorCode::InvalidParameter,
                    "Give exactly one of `platform` (ingest token) or `username` (acts as that user).",
                ));
            }
        };
        let (plain, hash) = crate::secrets::new_api_token();
        let rec = store
            .create_api_token(patroli_store::NewApiToken {
                token_hash: hash,
                name: name.clone(),
                role,
                platform_id,
                user_id,
                created_by: who.user_id,
            })
            .await?;
        auth::audit(
            state,
            &who.actor,
            "token.create",
            Some(format!("token:{}", rec.id)),
            json!({"name": name, "platform": platform, "username": username}),
        )
        .await;
        Ok((plain, rec))
    }

    /// Change a user. An admin cannot disable or demote their own account, so the last admin
    /// cannot lock everyone out by accident.
    pub async fn update_user(
        state: &AppState,
        who: &Principal,
        id: UserId,
        disabled: Option<bool>,
        role: Option<Role>,
        password: Option<String>,
    ) -> ApiResult<patroli_store::UserRecord> {
        state
            .store()
            .get_user(id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let demotes_self = role.is_some_and(|r| r != Role::Admin);
        if who.user_id == Some(id) && (disabled == Some(true) || demotes_self) {
            return Err(ApiError::with_message(
                ErrorCode::Conflict,
                "You cannot disable or demote your own account.",
            ));
        }
        let password_changed = password.is_some();
        let password_hash = match password {
            Some(p) => {
                check_password(&p)?;
                Some(hash_blocking(p).await?)
            }
            None => None,
        };
        let update = patroli_store::UserUpdate {
            password_hash,
            role,
            disabled,
            ..Default::default()
        };
        let user = state.store().update_user(id, update).await?;
        // Tokens acting as this user must see the change now.
        state.token_cache().clear();
        auth::audit(
            state,
            &who.actor,
            "user.update",
            Some(format!("user:{id}")),
            json!({"disabled": disabled, "role": role, "password_changed": password_changed}),
        )
        .await;
        Ok(user)
    }

    pub async fn revoke_token(state: &AppState, who: &Principal, id: TokenId) -> ApiResult<()> {
        state.store().revoke_api_token(id).await?;
        state.token_cache().clear();
        auth::audit(
            state,
            &who.actor,
            "token.revoke",
            Some(format!("token:{id}")),
            json!({}),
        )
        .await;
        Ok(())
    }
}
