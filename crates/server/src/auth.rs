//! Who is calling and what they may do.
//!
//! A caller is identified by a session (cookie `patroli_session`, or the same token as
//! `Authorization: Bearer` for scripts) or by an API token (`Authorization: Bearer ptk_...`).
//! Handlers take [`Authed<P>`] (JSON errors) or [`PageAuthed<P>`] (redirect to the log-in page),
//! where `P` is a [`Permission`]: a handler cannot run without the role check having passed, and
//! gets the caller's region scope with it.
//!
//! CSRF: every state-changing request authenticated by the cookie must carry the session's CSRF
//! token (form field `_csrf` or header `X-CSRF-Token`); [`csrf_guard`] enforces it for all routes
//! at once. Requests with an `Authorization` header are exempt: a cross-site page cannot set it.

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::metrics::Metrics;
use crate::secrets;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use patroli_core::audit::NewAuditEntry;
use patroli_core::{Role, UserId};
use patroli_store::UserRecord;
use std::marker::PhantomData;
use std::net::SocketAddr;
use time::OffsetDateTime;

pub const SESSION_COOKIE: &str = "patroli_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// For the audit log: `user:<uuid>` or `token:<uuid>`.
    pub actor: String,
    /// For people: the user name or the token's label.
    pub name: String,
    pub role: Role,
    pub user_id: Option<UserId>,
    /// Platform name of a platform token: it may ingest for that platform only.
    pub platform: Option<String>,
    /// Region scope (`"65"`); `None` for national roles.
    pub scope: Option<String>,
    /// Set when authenticated by the session cookie: the token that goes in forms.
    pub csrf: Option<String>,
}

impl Principal {
    /// Whether a post with this region code is inside the caller's scope. Posts without a region
    /// are visible to national roles only.
    pub fn may_see_region(&self, region_code: Option<&str>) -> bool {
        in_scope(self.scope.as_deref(), region_code)
    }
}

/// `scope` "65" covers "65", "65.71" and "65.71.02", never "650" (not a real code, but prefix
/// matching must not depend on that).
pub fn in_scope(scope: Option<&str>, region_code: Option<&str>) -> bool {
    match (scope, region_code) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(s), Some(r)) => r == s || (r.starts_with(s) && r[s.len()..].starts_with('.')),
    }
}

/// Resolved API tokens, kept briefly so an ingest request does not pay two database reads before
/// its real work. Revoking a token or changing a user through this server clears the cache at
/// once; a change made elsewhere (another process, the CLI) takes effect within [`TOKEN_CACHE_TTL`].
pub const TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Default)]
pub struct TokenCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, (Principal, std::time::Instant)>>,
}

impl TokenCache {
    fn get(&self, hash: &str) -> Option<Principal> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(hash)
            .filter(|(_, at)| at.elapsed() < TOKEN_CACHE_TTL)
            .map(|(p, _)| p.clone())
    }

    fn put(&self, hash: String, p: Principal) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, at)| at.elapsed() < TOKEN_CACHE_TTL);
        }
        map.insert(hash, (p, std::time::Instant::now()));
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// A set of roles allowed to do something. The marker types below are the only permissions.
pub trait Permission: Send + Sync + 'static {
    const ROLES: &'static [Role];

    fn allows(role: Role) -> bool {
        Self::ROLES.contains(&role)
    }
}

/// Read the review queue and post pages.
pub struct ReadQueue;
impl Permission for ReadQueue {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Analyst, Role::Investigator, Role::Viewer];
}

/// Record verdicts.
pub struct Decide;
impl Permission for Decide {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Analyst, Role::Investigator];
}

/// Push posts in.
pub struct Ingest;
impl Permission for Ingest {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Platform];
}

/// Manage users and tokens.
pub struct AdminOnly;
impl Permission for AdminOnly {
    const ROLES: &'static [Role] = &[Role::Admin];
}

/// Any authenticated caller (log-out, "who am I").
pub struct AnyRole;
impl Permission for AnyRole {
    const ROLES: &'static [Role] = Role::ALL;
}

/// An authenticated caller holding permission `P`; rejects with a JSON error (401 / 403).
pub struct Authed<P: Permission>(pub Principal, PhantomData<P>);

impl<P: Permission> std::ops::Deref for Authed<P> {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl<P: Permission> FromRequestParts<AppState> for Authed<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = principal(parts, state)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        if !P::ROLES.contains(&principal.role) {
            return Err(ApiError::forbidden());
        }
        Ok(Authed(principal, PhantomData))
    }
}

/// Like [`Authed`], for HTML pages: no credentials redirects to the log-in page.
pub struct PageAuthed<P: Permission>(pub Principal, PhantomData<P>);

impl<P: Permission> std::ops::Deref for PageAuthed<P> {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl<P: Permission> FromRequestParts<AppState> for PageAuthed<P> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match principal(parts, state).await {
            Ok(Some(p)) if P::ROLES.contains(&p.role) => Ok(PageAuthed(p, PhantomData)),
            Ok(Some(_)) => Err(crate::ui::error_page(parts, ApiError::forbidden())),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(e) if e.code == ErrorCode::InvalidToken => {
                Err(Redirect::to("/login").into_response())
            }
            Err(e) => Err(crate::ui::error_page(parts, e)),
        }
    }
}

/// The credential a request carries, if any.
enum Credential<'a> {
    Bearer(&'a str),
    Cookie(&'a str),
}

fn credential(headers: &HeaderMap) -> Result<Option<Credential<'_>>, ApiError> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v
            .to_str()
            .map_err(|_| ApiError::new(ErrorCode::InvalidToken))?;
        let token = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .ok_or_else(|| {
                ApiError::new(ErrorCode::InvalidToken).hint("Use `Authorization: Bearer <token>`.")
            })?;
        return Ok(Some(Credential::Bearer(token.trim())));
    }
    Ok(cookie(headers, SESSION_COOKIE).map(Credential::Cookie))
}

/// Value of a cookie by name.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Resolve the caller. `Ok(None)`: no credentials at all. A credential that does not check out
/// is an error (401), never silently anonymous.
pub async fn principal(parts: &Parts, state: &AppState) -> Result<Option<Principal>, ApiError> {
    if let Some(p) = parts.extensions.get::<Principal>() {
        return Ok(Some(p.clone()));
    }
    let Some(cred) = credential(&parts.headers)? else {
        return Ok(None);
    };
    let store = state.store();
    let invalid = || ApiError::new(ErrorCode::InvalidToken);
    let (token, via_cookie) = match cred {
        Credential::Bearer(t) => (t, false),
        Credential::Cookie(t) => (t, true),
    };
    let hash = secrets::token_hash(token);
    if token.starts_with(secrets::API_TOKEN_PREFIX) && !via_cookie {
        if let Some(p) = state.token_cache().get(&hash) {
            return Ok(Some(p));
        }
        let p = api_token_principal(state, &hash).await?;
        state.token_cache().put(hash, p.clone());
        return Ok(Some(p));
    }
    let (session, user) = store
        .session_user(&hash, OffsetDateTime::now_utc())
        .await?
        .ok_or_else(invalid)?;
    let csrf = via_cookie.then_some(session.csrf_token);
    Ok(Some(user_principal(state, &user, csrf).await?))
}

async fn api_token_principal(state: &AppState, hash: &str) -> Result<Principal, ApiError> {
    let store = state.store();
    let invalid = || ApiError::new(ErrorCode::InvalidToken);
    let rec = store.find_api_token(hash).await?.ok_or_else(invalid)?;
    if rec.revoked_at.is_some() {
        return Err(invalid());
    }
    // "Last used" to the minute is plenty, and writing it on every ingest request would cost
    // a database write per call. A failed update must not fail the request.
    let now = OffsetDateTime::now_utc();
    if rec
        .last_used_at
        .is_none_or(|t| now - t > time::Duration::minutes(1))
        && let Err(e) = store.touch_api_token(rec.id, now).await
    {
        tracing::warn!(error = %e, "could not update token last_used_at");
    }
    let actor = format!("token:{}", rec.id);
    if let Some(platform_id) = rec.platform_id {
        let platform = store.get_platform(platform_id).await?.ok_or_else(invalid)?;
        return Ok(Principal {
            actor,
            name: rec.name,
            role: Role::Platform,
            user_id: None,
            platform: Some(platform.name),
            scope: None,
            csrf: None,
        });
    }
    let user_id = rec.user_id.ok_or_else(invalid)?;
    let user = store.get_user(user_id).await?.ok_or_else(invalid)?;
    if user.disabled {
        return Err(invalid());
    }
    let mut p = user_principal(state, &user, None).await?;
    p.actor = actor;
    p.name = format!("{} ({})", user.username, rec.name);
    Ok(p)
}

async fn user_principal(
    state: &AppState,
    user: &UserRecord,
    csrf: Option<String>,
) -> Result<Principal, ApiError> {
    // A user's own region narrows (or replaces) the unit's.
    let mut scope = user.region_code.clone();
    if scope.is_none()
        && let Some(unit_id) = user.unit_id
        && let Some(unit) = state.store().get_unit(unit_id).await?
    {
        scope = unit.region_code;
    }
    Ok(Principal {
        actor: format!("user:{}", user.id),
        name: user.username.clone(),
        role: user.role,
        user_id: Some(user.id),
        platform: None,
        scope,
        csrf,
    })
}

/// Middleware: refuse cookie-authenticated state-changing requests without the session's CSRF
/// token. Form bodies are read (bounded) to find `_csrf` and then handed on unchanged.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    // Log-in creates the session; there is no session token to bind to yet.
    let exempt = path == "/login" || path == "/api/v1/login";
    if safe || exempt || req.headers().contains_key(header::AUTHORIZATION) {
        return next.run(req).await;
    }
    let Some(session_token) = cookie(req.headers(), SESSION_COOKIE).map(str::to_owned) else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(Some(p)) = principal(&parts, &state).await else {
        // Bad or expired session: let the handler answer 401 / redirect as usual.
        return next.run(Request::from_parts(parts, body)).await;
    };
    let expected = p
        .csrf
        .clone()
        .unwrap_or_else(|| secrets::csrf_token(&session_token));
    let from_header = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let (given, body) = match (from_header, is_form) {
        (Some(h), _) => (Some(h), body),
        (None, true) => {
            let bytes = match axum::body::to_bytes(body, 1024 * 1024).await {
                Ok(b) => b,
                Err(_) => return ApiError::new(ErrorCode::PayloadTooLarge).into_response(),
            };
            let field = form_field(&bytes, CSRF_FIELD);
            (field, axum::body::Body::from(bytes))
        }
        (None, false) => (None, body),
    };
    match given {
        Some(g) if secrets::constant_time_eq(&g, &expected) => {
            let mut req = Request::from_parts(parts, body);
            // Handlers reuse the resolved caller instead of a second store round trip.
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        _ => ApiError::new(ErrorCode::CsrfFailed).into_response(),
    }
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded_pairs(body);
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Decode `application/x-www-form-urlencoded` into pairs (repeated keys kept, in order).
pub fn serde_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    match (
                        bytes.get(i + 1).and_then(|b| hex(*b)),
                        bytes.get(i + 2).and_then(|b| hex(*b)),
                    ) {
                        (Some(h), Some(l)) => {
                            out.push(h * 16 + l);
                            i += 2;
                        }
                        _ => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    std::str::from_utf8(body)
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// The client address used for rate limiting.
pub fn client_addr(
    parts_headers: &HeaderMap,
    connect: Option<SocketAddr>,
    trust_xff: bool,
) -> String {
    if trust_xff
        && let Some(first) = parts_headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
    {
        return first.trim().to_string();
    }
    connect
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Why a log-in failed.
pub enum LoginError {
    RateLimited,
    Invalid,
    Internal(ApiError),
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::RateLimited => ApiError::new(ErrorCode::RateLimited),
            LoginError::Invalid => ApiError::new(ErrorCode::InvalidCredentials),
            LoginError::Internal(e) => e,
        }
    }
}

/// A successful log-in: the session token (cookie value and bearer token) and its CSRF token.
pub struct LoggedIn {
    pub token: String,
    pub csrf: String,
    pub user: UserRecord,
}

/// The one log-in path for the API and the form: rate limit, verify, create the session, audit.
pub async fn login(
    state: &AppState,
    client: &str,
    username: &str,
    password: &str,
) -> Result<LoggedIn, LoginError> {
    let m = state.metrics();
    let username = username.trim();
    let keys = [
        format!("addr:{client}"),
        format!("user:{}", username.to_lowercase()),
    ];
    if !state.login_limiter().check(&keys) {
        Metrics::add(&m.logins_limited, 1);
        audit(
            state,
            "anonymous",
            "login.rate_limited",
            None,
            serde_json::json!({ "username": username, "client": client }),
        )
        .await;
        return Err(LoginError::RateLimited);
    }
    let store = state.store();
    let user = store
        .get_user_by_username(username)
        .await
        .map_err(|e| LoginError::Internal(e.into()))?;
    // Verify against a dummy hash for unknown users so timing does not reveal which names exist.
    let (ok, user) = match user {
        Some(u) => {
            let hash = u.password_hash.clone();
            let pw = password.to_owned();
            let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&pw, &hash))
                .await
                .unwrap_or(false);
            (ok && !u.disabled, Some(u))
        }
        None => {
            let pw = password.to_owned();
            let _ = tokio::task::spawn_blocking(move || {
                secrets::verify_password(&pw, secrets::dummy_password_hash())
            })
            .await;
            (false, None)
        }
    };
    let (true, Some(user)) = (ok, user) else {
        Metrics::add(&m.logins_failed, 1);
        audit(
            state,
            "anonymous",
            "login.failure",
            None,
            serde_json::json!({ "username": username, "client": client }),
        )
        .await;
        return Err(LoginError::Invalid);
    };
    let (token, hash) = secrets::new_session_token();
    let csrf = secrets::csrf_token(&token);
    let ttl =
        time::Duration::try_from(state.config().session_ttl).unwrap_or(time::Duration::hours(12));
    store
        .create_session(patroli_store::NewSession {
            id_hash: hash,
            user_id: user.id,
            csrf_token: csrf.clone(),
            expires_at: OffsetDateTime::now_utc() + ttl,
        })
        .await
        .map_err(|e| LoginError::Internal(e.into()))?;
    Metrics::add(&m.logins_ok, 1);
    audit(
        state,
        &format!("user:{}", user.id),
        "login.success",
        Some(format!("user:{}", user.id)),
        serde_json::json!({ "username": user.username, "client": client }),
    )
    .await;
    Ok(LoggedIn { token, csrf, user })
}

/// `Set-Cookie` value for a new session.
pub fn session_cookie(state: &AppState, token: &str) -> String {
    let secure = if state.config().cookie_secure {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        state.config().session_ttl.as_secs()
    )
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(state: &AppState) -> String {
    let secure = if state.config().cookie_secure {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}")
}

/// End the session the request carries (cookie or bearer session token), if any.
pub async fn logout(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = match credential(headers)? {
        Some(Credential::Bearer(t)) | Some(Credential::Cookie(t)) => t,
        None => return Ok(()),
    };
    if token.starts_with(secrets::SESSION_TOKEN_PREFIX) {
        state
            .store()
            .delete_session(&secrets::token_hash(token))
            .await?;
    }
    Ok(())
}

/// Append to the audit chain. A failure is logged loudly but does not undo what was done: the
/// action already happened, and refusing the response would only hide it from the user.
pub async fn audit(
    state: &AppState,
    actor: &str,
    action: &str,
    target: Option<String>,
    detail: serde_json::Value,
) {
    let entry = NewAuditEntry {
        actor: actor.to_string(),
        action: action.to_string(),
        target,
        detail,
    };
    if let Err(e) = state.store().append_audit(entry).await {
        tracing::error!(error = %e, action, "audit append failed");
    }
}

/// Client address from the connection; `None` when the router is driven without a listener
/// (`serve` always provides it).
pub struct ClientAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_matches_whole_code_segments() {
        assert!(in_scope(None, None));
        assert!(in_scope(None, Some("31.71")));
        assert!(in_scope(Some("65"), Some("65")));
        assert!(in_scope(Some("65"), Some("65.71")));
        assert!(in_scope(Some("65.71"), Some("65.71.02")));
        assert!(!in_scope(Some("65"), Some("650")));
        assert!(!in_scope(Some("65"), Some("64.71")));
        assert!(!in_scope(Some("65.71"), Some("65")));
        assert!(!in_scope(Some("65"), None));
    }

    #[test]
    fn form_decoding() {
        let pairs = serde_urlencoded_pairs(b"_csrf=ab%2Bc&reason=pil+LL%21&post_id=1&post_id=2&x");
        assert_eq!(pairs[0], ("_csrf".into(), "ab+c".into()));
        assert_eq!(pairs[1], ("reason".into(), "pil LL!".into()));
        assert_eq!(pairs.iter().filter(|(k, _)| k == "post_id").count(), 2);
        assert_eq!(pairs[4], ("x".into(), String::new()));
        // A truncated escape is kept literally, not a panic.
        assert_eq!(
            serde_urlencoded_pairs(b"a=%4"),
            vec![("a".into(), "%4".into())]
        );
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "patroli_lang=en; patroli_session=pts_abc".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("pts_abc"));
        assert_eq!(cookie(&h, "patroli_lang"), Some("en"));
        assert_eq!(cookie(&h, "session"), None);
    }
}
