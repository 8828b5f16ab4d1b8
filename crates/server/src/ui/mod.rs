//! The server-rendered review UI: log-in, review queue, post page, admin page.
//!
//! Bahasa Indonesia by default; `?lang=en` switches to English and is remembered in a cookie. All
//! text goes through maud, which escapes it; no handler builds HTML by string concatenation, and no
//! page has inline script or style (the CSP forbids both), only `/static/app.js` and `app.css`.

pub mod highlight;
pub mod i18n;

use crate::AppState;
use crate::api::{CreateTokenBody, CreateUserBody, FindingParams, ops};
use crate::auth::{
    self, AdminOnly, ClientAddr, Decide, PageAuthed, Permission, Principal, ReadQueue,
};
use crate::error::{ApiError, ErrorCode};
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use i18n::{Lang, Msg};
use maud::{DOCTYPE, Markup, html};
use patroli_core::{Category, FindingStatus, PostId, Role};
use patroli_detect::Field;

const APP_JS: &str = include_str!("../../static/app.js");
const APP_CSS: &str = include_str!("../../static/app.css");
pub const LANG_COOKIE: &str = "patroli_lang";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/app.js", get(app_js))
        .route("/static/app.css", get(app_css))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout_submit))
        .route("/", get(queue_page))
        .route("/antrian", get(queue_page))
        .route("/antrian/keputusan", post(bulk_submit))
        .route("/posts/{post_id}", get(post_page))
        .route("/posts/{post_id}/verdict", post(verdict_submit))
        .route("/admin", get(admin_page))
        .route("/admin/users", post(admin_create_user))
        .route("/admin/users/{user_id}/disabled", post(admin_set_disabled))
        .route("/admin/tokens", post(admin_create_token))
        .route("/admin/tokens/{token_id}/revoke", post(admin_revoke_token))
}

async fn app_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        APP_JS,
    )
        .into_response()
}

async fn app_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        APP_CSS,
    )
        .into_response()
}

/// Middleware: pick the language (query `lang`, then cookie, then Indonesian), hand it to handlers
/// as an extension, and remember an explicit choice in a cookie.
pub async fn lang_layer(mut req: Request, next: Next) -> Response {
    let from_query = req.uri().query().and_then(|q| {
        auth::serde_urlencoded_pairs(q.as_bytes())
            .into_iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v))
    });
    let lang = from_query
        .or_else(|| auth::cookie(req.headers(), LANG_COOKIE).and_then(Lang::parse))
        .unwrap_or_default();
    req.extensions_mut().insert(lang);
    let mut res = next.run(req).await;
    if let Some(l) = from_query {
        let c = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            l.code()
        );
        if let Ok(v) = HeaderValue::from_str(&c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

fn lang_of(parts: &Parts) -> Lang {
    parts.extensions.get::<Lang>().copied().unwrap_or_default()
}

/// An HTML page for an error, with the same status the API would use.
pub fn error_page(parts: &Parts, err: ApiError) -> Response {
    let lang = lang_of(parts);
    page_error(lang, err)
}

pub(crate) fn page_error(lang: Lang, err: ApiError) -> Response {
    let status = err.status();
    let body = layout(
        lang,
        lang.t(Msg::ErrorTitle),
        None,
        html! {
            h1 { (lang.t(Msg::ErrorTitle)) " (" (status.as_u16()) ")" }
            p.error { (err.message) }
            p { a href="/" { (lang.t(Msg::BackToQueue)) } }
        },
    );
    (status, body).into_response()
}

/// A form that does not decode (missing or malformed field) is a 400 page, not axum's plain text.
pub(crate) fn form_error(lang: Lang, e: FormRejection) -> Response {
    page_error(
        lang,
        ApiError::with_message(ErrorCode::BadRequest, e.body_text()),
    )
}

/// The frame of every page. `who` adds the navigation and the log-out form.
pub(crate) fn layout(lang: Lang, title: &str, who: Option<&Principal>, content: Markup) -> Markup {
    let other = match lang {
        Lang::Id => "en",
        Lang::En => "id",
    };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Patroli" }
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { (lang.t(Msg::AppName)) }
                    @if let Some(p) = who {
                        nav {
                            a href="/antrian" { (lang.t(Msg::Queue)) }
                            a href="/jaringan" { (lang.t(Msg::Networks)) }
                            a href="/statistik/internal" { (lang.t(Msg::Statistics)) }
                            (crate::workflow::nav(lang))
                            @if p.role == Role::Admin {
                                a href="/admin" { (lang.t(Msg::Admin)) }
                            }
                        }
                        span.who { (p.name) " · " (lang.role(p.role)) @if let Some(s) = &p.scope { " · " (s) } }
                        form.inline method="post" action="/logout" {
                            (csrf_input(p))
                            button type="submit" { (lang.t(Msg::Logout)) }
                        }
                    }
                    a.lang href={ "?lang=" (other) } { (lang.t(Msg::Language)) }
                }
                main { (content) }
            }
        }
    }
}

pub(crate) fn csrf_input(p: &Principal) -> Markup {
    html! {
        @if let Some(t) = &p.csrf {
            input type="hidden" name=(auth::CSRF_FIELD) value=(t);
        }
    }
}

/// Times for people: minutes are enough, and the zone is always UTC.
pub(crate) fn show_time(t: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

pub(crate) fn html_response(m: Markup) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], m).into_response()
}

// ---------------------------------------------------------------- log-in

#[derive(serde::Deserialize, Default)]
struct LoginQuery {
    #[serde(default)]
    failed: Option<String>,
}

async fn login_page(Extension(lang): Extension<Lang>, Query(q): Query<LoginQuery>) -> Response {
    login_form(
        lang,
        q.failed.as_deref().map(|f| {
            if f == "limited" {
                lang.t(Msg::LoginLimited)
            } else {
                lang.t(Msg::LoginFailed)
            }
        }),
    )
}

fn login_form(lang: Lang, error: Option<&str>) -> Response {
    html_response(layout(
        lang,
        lang.t(Msg::LoginTitle),
        None,
        html! {
            h1 { (lang.t(Msg::LoginTitle)) }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form.login method="post" action="/login" {
                label { (lang.t(Msg::Username)) input type="text" name="username" autocomplete="username" required autofocus; }
                label { (lang.t(Msg::Password)) input type="password" name="password" autocomplete="current-password" required; }
                button type="submit" { (lang.t(Msg::LoginButton)) }
            }
        },
    ))
}

#[derive(serde::Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login_submit(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    ClientAddr(connect): ClientAddr,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Form(form) = match form {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    let client = auth::client_addr(&headers, connect, state.config().trust_forwarded_for);
    match auth::login(&state, &client, &form.username, &form.password).await {
        Ok(done) => (
            [(
                header::SET_COOKIE,
                auth::session_cookie(&state, &done.token),
            )],
            Redirect::to("/antrian"),
        )
            .into_response(),
        Err(auth::LoginError::RateLimited) => {
            let mut r = login_form(lang, Some(lang.t(Msg::LoginLimited)));
            *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            r
        }
        Err(auth::LoginError::Invalid) => {
            let mut r = login_form(lang, Some(lang.t(Msg::LoginFailed)));
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            r
        }
        Err(auth::LoginError::Internal(e)) => page_error(lang, e),
    }
}

async fn logout_submit(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = auth::logout(&state, &headers).await {
        tracing::warn!(error = ?e.code, "log-out failed");
    }
    (
        [(header::SET_COOKIE, auth::clear_session_cookie(&state))],
        Redirect::to("/login"),
    )
        .into_response()
}

// ---------------------------------------------------------------- queue

fn severity_class(s: patroli_core::Severity) -> &'static str {
    use patroli_core::Severity as S;
    match s {
        S::None => "sev-none",
        S::Low => "sev-low",
        S::Medium => "sev-medium",
        S::High => "sev-high",
        S::Critical => "sev-critical",
    }
}

fn excerpt(s: &str, max_chars: usize) -> String {
    let mut out: String = s.chars().take(max_chars).collect();
    if s.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

fn query_string(params: &FindingParams, page: u32) -> String {
    let mut pairs: Vec<String> = Vec::new();
    let mut push = |k: &str, v: &Option<String>| {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            pairs.push(format!("{k}={}", urlencode(v)));
        }
    };
    push("status", &params.status);
    push("category", &params.category);
    push("platform", &params.platform);
    push("region", &params.region);
    push("q", &params.q);
    push("from", &params.from);
    push("to", &params.to);
    pairs.push(format!("page={page}"));
    format!("?{}", pairs.join("&"))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn queue_page(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<ReadQueue>,
    Query(params): Query<FindingParams>,
) -> Response {
    let filter = match params.to_filter(&who, Some(FindingStatus::Pending)) {
        Ok(f) => f,
        Err(e) => return page_error(lang, e),
    };
    let page = match state.store().list_findings(&filter).await {
        Ok(p) => p,
        Err(e) => return page_error(lang, e.into()),
    };
    let page_no = filter.offset / filter.limit.max(1) + 1;
    let status_value = params.status.clone().unwrap_or_else(|| "pending".into());
    let can_decide = Decide::allows(who.role);
    let provinces: Vec<_> = patroli_core::region::Regions::builtin()
        .provinces()
        .collect();
    let platforms = state.store().list_platforms().await.unwrap_or_default();
    let body = html! {
        h1 { (lang.t(Msg::Queue)) }
        form.filters method="get" action="/antrian" {
            label { (lang.t(Msg::Search)) input type="search" name="q" value=[params.q.as_deref()]; }
            label { (lang.t(Msg::Category))
                select name="category" {
                    option value="" { (lang.t(Msg::AnyCategory)) }
                    @for c in Category::ALL {
                        option value=(c.id()) selected[params.category.as_deref() == Some(c.id())] { (lang.category(c)) }
                    }
                }
            }
            label { (lang.t(Msg::Status))
                select name="status" {
                    option value="any" selected[status_value == "any"] { (lang.t(Msg::AnyStatus)) }
                    @for s in FindingStatus::ALL {
                        option value=(s.as_str()) selected[status_value == s.as_str()] { (lang.status(*s)) }
                    }
                }
            }
            label { (lang.t(Msg::Platform))
                select name="platform" {
                    option value="" { "—" }
                    @for p in &platforms {
                        option value=(p.name) selected[params.platform.as_deref() == Some(p.name.as_str())] { (p.name) }
                    }
                }
            }
            label { (lang.t(Msg::Province))
                select name="region" {
                    option value="" { "—" }
                    @for p in &provinces {
                        option value=(p.code) selected[params.region.as_deref() == Some(p.code.as_str())] { (p.code) " " (p.name) }
                    }
                }
            }
            label { (lang.t(Msg::From)) input type="date" name="from" value=[params.from.as_deref()]; }
            label { (lang.t(Msg::To)) input type="date" name="to" value=[params.to.as_deref()]; }
            button type="submit" { (lang.t(Msg::Filter)) }
        }
        p.hint { (lang.t(Msg::KeyboardHelp)) " " (lang.t(Msg::Total)) ": " (page.total) }
        @if can_decide {
            form #bulk.bulk method="post" action="/antrian/keputusan" {
                (csrf_input(&who))
                label { (lang.t(Msg::Decide))
                    select #bulk-verdict name="verdict" {
                        option value="confirmed" { (lang.t(Msg::ConfirmSelected)) }
                        option value="dismissed" { (lang.t(Msg::DismissSelected)) }
                    }
                }
                label { (lang.t(Msg::Reason)) input #bulk-reason type="text" name="reason" required maxlength="2000"; }
                button type="submit" { (lang.t(Msg::Decide)) }
            }
        }
        @if page.items.is_empty() {
            p.empty { (lang.t(Msg::Empty)) }
        } @else {
            table.queue {
                thead { tr {
                    th {}
                    th { (lang.t(Msg::Severity)) }
                    th { (lang.t(Msg::Score)) }
                    th { (lang.t(Msg::Category)) }
                    th { (lang.t(Msg::Text)) }
                    th { (lang.t(Msg::Platform)) " / " (lang.t(Msg::Account)) }
                    th { (lang.t(Msg::Region)) }
                    th { (lang.t(Msg::Status)) }
                    th { (lang.t(Msg::FirstSeen)) }
                } }
                tbody {
                    @for item in &page.items {
                        @let f = &item.finding;
                        tr.item data-post-id=(f.post_id) {
                            td { @if can_decide { input type="checkbox" form="bulk" name="post_id" value=(f.post_id); } }
                            td { span class={ "sev " (severity_class(f.severity)) } { (lang.severity(f.severity)) } }
                            td { (format!("{:.2}", f.score)) }
                            td { @for c in &f.categories { span.cat { (lang.category(*c)) } " " } }
                            td.text {
                                a.open href={ "/posts/" (f.post_id) } {
                                    @if let Some(t) = &item.title { strong { (excerpt(t, 80)) } " — " }
                                    (excerpt(&item.text, 160))
                                }
                            }
                            td { (item.platform) @if let Some(a) = &item.account_handle { br; "@" (a) } }
                            td { (item.region_code.as_deref().unwrap_or("")) @if let Some(l) = &item.location { br; small { (l) } } }
                            td { (lang.status(f.status)) }
                            td { (show_time(f.created_at)) }
                        }
                    }
                }
            }
            nav.pages {
                @if page_no > 1 { a rel="prev" href=(query_string(&params, page_no - 1)) { (lang.t(Msg::Previous)) } }
                @if u64::from(page_no) * u64::from(filter.limit) < page.total {
                    a rel="next" href=(query_string(&params, page_no + 1)) { (lang.t(Msg::Next)) }
                }
            }
        }
    };
    html_response(layout(lang, lang.t(Msg::Queue), Some(&who), body))
}

async fn bulk_submit(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<Decide>,
    pairs: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Form(pairs) = match pairs {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let kind = match ops::parse_verdict(get("verdict")) {
        Ok(k) => k,
        Err(e) => return page_error(lang, e),
    };
    let reason = get("reason").to_string();
    if let Err(e) = ops::check_reason(&reason) {
        return page_error(lang, e);
    }
    for (_, id) in pairs.iter().filter(|(k, _)| k == "post_id") {
        let Ok(id) = id.parse::<PostId>() else {
            continue;
        };
        if let Err(e) = ops::decide(&state, &who, id, kind, &reason).await {
            // Keep going: one stale or out-of-scope post must not block the rest of the selection.
            tracing::info!(post = %id, error = ?e.code, "bulk verdict skipped a post");
        }
    }
    Redirect::to("/antrian").into_response()
}

// ---------------------------------------------------------------- post page

async fn post_page(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<ReadQueue>,
    Path(post_id): Path<String>,
) -> Response {
    let Ok(id) = post_id.parse::<PostId>() else {
        return page_error(lang, ApiError::not_found());
    };
    let detail = match ops::post_detail(&state, &who, id).await {
        Ok(d) => d,
        Err(e) => return page_error(lang, e),
    };
    let post = &detail.post;
    let finding = detail.findings.first();
    // Highlight only when the finding belongs to the version shown; otherwise spans could point
    // at different text.
    let reasons: &[patroli_detect::Reason] = match finding {
        Some(f) if f.version_id == post.current_version_id => &f.reasons,
        _ => &[],
    };
    let can_decide = Decide::allows(who.role) && finding.is_some();
    let current_version = detail
        .versions
        .iter()
        .find(|v| v.id == post.current_version_id);
    let body = html! {
        h1 { (lang.t(Msg::PostTitle)) " " small { (post.platform) " · " (post.external_id) } }
        dl.meta {
            @if let Some(f) = finding {
                dt { (lang.t(Msg::Status)) } dd #status { (lang.status(f.status)) }
                dt { (lang.t(Msg::Severity)) } dd { span class={ "sev " (severity_class(f.severity)) } { (lang.severity(f.severity)) } " · " (format!("{:.2}", f.score)) }
                dt { (lang.t(Msg::Category)) } dd { @for c in &f.categories { span.cat { (lang.category(*c)) } " " } }
            }
            dt { (lang.t(Msg::Account)) } dd { @if let Some(a) = &detail.account { "@" (a.handle) @if let Some(n) = &a.display_name { " (" (n) ")" } } @else { (lang.t(Msg::None)) } }
            dt { (lang.t(Msg::Location)) } dd { (post.location.as_deref().unwrap_or("")) " " (post.region_code.as_deref().unwrap_or("")) }
            @if let Some(v) = current_version { @if let Some(p) = v.price { dt { (lang.t(Msg::Price)) } dd { "Rp " (format!("{p:.0}")) } } }
            @if let Some(u) = &post.url { dt { (lang.t(Msg::Link)) } dd { a href=(safe_href(u)) rel="noopener noreferrer nofollow" target="_blank" { (u) } } }
            dt { (lang.t(Msg::FirstSeen)) } dd { (show_time(post.first_seen)) }
        }
        h2 { (lang.t(Msg::OriginalText)) }
        @if let Some(t) = &post.title {
            p.post-title { (highlighted(t, Field::Title, reasons)) }
        }
        pre #post-text.post-text { (highlighted(&post.text, Field::Text, reasons)) }
        @if can_decide {
            h2 { (lang.t(Msg::Decide)) }
            form #verdict.verdict method="post" action={ "/posts/" (post.id) "/verdict" } {
                (csrf_input(&who))
                select #verdict-kind name="verdict" {
                    option value="confirmed" { (lang.t(Msg::Confirm)) }
                    option value="dismissed" { (lang.t(Msg::Dismiss)) }
                }
                label { (lang.t(Msg::Reason)) input #verdict-reason type="text" name="reason" required maxlength="2000"; }
                button #verdict-submit type="submit" { (lang.t(Msg::Decide)) }
            }
        }
        h2 { (lang.t(Msg::Verdicts)) }
        @if detail.verdicts.is_empty() {
            p #verdicts.empty { (lang.t(Msg::NoVerdicts)) }
        } @else {
            ul #verdicts.verdicts {
                @for v in &detail.verdicts {
                    li { strong { (lang.verdict(v.verdict)) } " " (lang.t(Msg::By)) " " (v.username) " · " (show_time(v.created_at)) ": " q { (v.reason) } }
                }
            }
        }
        @if let Some(f) = finding {
            h2 { (lang.t(Msg::Reasons)) }
            ul.reasons {
                @for r in &f.reasons {
                    li { code { (r.rule) } " " q { (r.matched) } " " (r.note) " (" (format!("{:+.2}", r.weight)) ")" }
                }
            }
            h2 { (lang.t(Msg::Entities)) }
            @if f.entities.is_empty() { p { (lang.t(Msg::None)) } } @else {
                ul.entities { @for e in &f.entities { li { code { (format!("{:?}", e.kind).to_lowercase()) } " " (e.value) } } }
            }
        }
        h2 { (lang.t(Msg::Versions)) }
        ol.versions {
            @for v in &detail.versions {
                li { (show_time(v.seen_at)) ": " @if let Some(t) = &v.title { strong { (excerpt(t, 80)) } " — " } (excerpt(&v.text, 200)) }
            }
        }
        h2 { (lang.t(Msg::OtherPosts)) }
        @if detail.account_posts.is_empty() { p { (lang.t(Msg::None)) } } @else {
            ul.account-posts {
                @for p in &detail.account_posts {
                    li { a href={ "/posts/" (p.id) } { @if let Some(t) = &p.title { (excerpt(t, 80)) " — " } (excerpt(&p.text, 120)) } }
                }
            }
        }
    };
    html_response(layout(lang, lang.t(Msg::PostTitle), Some(&who), body))
}

/// Links from posts are hostile too: only http(s) URLs become clickable targets.
pub(crate) fn safe_href(u: &str) -> &str {
    let l = u.trim_start().to_ascii_lowercase();
    if l.starts_with("http://") || l.starts_with("https://") {
        u
    } else {
        "#"
    }
}

fn highlighted(text: &str, field: Field, reasons: &[patroli_detect::Reason]) -> Markup {
    html! {
        @for seg in highlight::segments(text, field, reasons) {
            @match seg.mark {
                Some(kind) => mark class=(highlight::css_class(kind)) { (seg.text) },
                None => (seg.text),
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct VerdictForm {
    verdict: String,
    #[serde(default)]
    reason: String,
}

async fn verdict_submit(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<Decide>,
    Path(post_id): Path<String>,
    form: Result<Form<VerdictForm>, FormRejection>,
) -> Response {
    let Form(form) = match form {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    let Ok(id) = post_id.parse::<PostId>() else {
        return page_error(lang, ApiError::not_found());
    };
    let result = match ops::parse_verdict(&form.verdict) {
        Ok(kind) => ops::decide(&state, &who, id, kind, &form.reason).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Redirect::to(&format!("/posts/{id}")).into_response(),
        Err(e) => page_error(lang, e),
    }
}

// ---------------------------------------------------------------- admin

async fn admin_page(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<AdminOnly>,
) -> Response {
    admin_view(&state, lang, &who, None, None).await
}

async fn admin_view(
    state: &AppState,
    lang: Lang,
    who: &Principal,
    new_token: Option<&str>,
    error: Option<ApiError>,
) -> Response {
    let store = state.store();
    let (users, tokens) = match (store.list_users().await, store.list_api_tokens().await) {
        (Ok(u), Ok(t)) => (u, t),
        (Err(e), _) | (_, Err(e)) => return page_error(lang, e.into()),
    };
    let status = error.as_ref().map(|e| e.status()).unwrap_or(StatusCode::OK);
    let body = html! {
        h1 { (lang.t(Msg::Admin)) }
        @if let Some(e) = &error { p.error role="alert" { (e.message) } }
        @if let Some(t) = new_token { p.notice { (lang.t(Msg::NewTokenShownOnce)) " " code #new-token { (t) } } }
        h2 { (lang.t(Msg::Users)) }
        table.users {
            thead { tr { th { (lang.t(Msg::Username)) } th { (lang.t(Msg::Role)) } th { (lang.t(Msg::Region)) } th { (lang.t(Msg::Disabled)) } th { (lang.t(Msg::Created)) } } }
            tbody { @for u in &users { tr {
                td { (u.username) }
                td { (lang.role(u.role)) }
                td { (u.region_code.as_deref().unwrap_or("—")) }
                td {
                    @if u.disabled { "✓ " }
                    @if who.user_id != Some(u.id) {
                        form.inline method="post" action={ "/admin/users/" (u.id) "/disabled" } {
                            (csrf_input(who))
                            input type="hidden" name="disabled" value=(if u.disabled { "false" } else { "true" });
                            button type="submit" { (lang.t(if u.disabled { Msg::Enable } else { Msg::Disable })) }
                        }
                    }
                }
                td { (show_time(u.created_at)) }
            } } }
        }
        h3 { (lang.t(Msg::CreateUser)) }
        form.admin method="post" action="/admin/users" {
            (csrf_input(who))
            label { (lang.t(Msg::Username)) input type="text" name="username" required; }
            label { (lang.t(Msg::Password)) input type="password" name="password" required minlength="8" autocomplete="new-password"; }
            label { (lang.t(Msg::Role)) select name="role" { @for r in Role::ALL { @if *r != Role::Platform { option value=(r.as_str()) { (lang.role(*r)) } } } } }
            label { (lang.t(Msg::Agency)) select name="agency" { @for a in patroli_core::AgencyKind::ALL { option value=(a.as_str()) { (a.as_str()) } } } }
            label { (lang.t(Msg::RegionScope)) input type="text" name="region" pattern="[0-9.]*"; }
            button type="submit" { (lang.t(Msg::CreateUser)) }
        }
        h2 { (lang.t(Msg::Tokens)) }
        table.tokens {
            thead { tr { th { (lang.t(Msg::Label)) } th { (lang.t(Msg::Created)) } th { (lang.t(Msg::Revoked)) } th {} } }
            tbody { @for t in &tokens { tr {
                td { (t.name) }
                td { (show_time(t.created_at)) }
                td { @if let Some(r) = t.revoked_at { (show_time(r)) } }
                td { @if t.revoked_at.is_none() {
                    form.inline method="post" action={ "/admin/tokens/" (t.id) "/revoke" } { (csrf_input(who)) button type="submit" { (lang.t(Msg::Revoke)) } }
                } }
            } } }
        }
        h3 { (lang.t(Msg::CreateToken)) }
        form.admin method="post" action="/admin/tokens" {
            (csrf_input(who))
            label { (lang.t(Msg::Label)) input type="text" name="name" required; }
            label { (lang.t(Msg::Platform)) input type="text" name="platform" required; }
            button type="submit" { (lang.t(Msg::CreateToken)) }
        }
    };
    let mut r = html_response(layout(lang, lang.t(Msg::Admin), Some(who), body));
    *r.status_mut() = status;
    r
}

#[derive(serde::Deserialize)]
struct UserForm {
    username: String,
    password: String,
    role: String,
    agency: String,
    #[serde(default)]
    region: Option<String>,
}

async fn admin_create_user(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<AdminOnly>,
    f: Result<Form<UserForm>, FormRejection>,
) -> Response {
    let Form(f) = match f {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    let body = CreateUserBody {
        username: f.username,
        password: f.password,
        role: f.role,
        agency: f.agency,
        region: f.region,
    };
    match ops::create_user(&state, &who, body).await {
        Ok(_) => Redirect::to("/admin").into_response(),
        Err(e) => admin_view(&state, lang, &who, None, Some(e)).await,
    }
}

#[derive(serde::Deserialize)]
struct DisabledForm {
    disabled: bool,
}

async fn admin_set_disabled(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<AdminOnly>,
    Path(user_id): Path<String>,
    f: Result<Form<DisabledForm>, FormRejection>,
) -> Response {
    let Form(f) = match f {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    let Ok(id) = user_id.parse() else {
        return page_error(lang, ApiError::not_found());
    };
    match ops::update_user(&state, &who, id, Some(f.disabled), None, None).await {
        Ok(_) => Redirect::to("/admin").into_response(),
        Err(e) => admin_view(&state, lang, &who, None, Some(e)).await,
    }
}

#[derive(serde::Deserialize)]
struct TokenForm {
    name: String,
    platform: String,
}

async fn admin_create_token(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<AdminOnly>,
    f: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let Form(f) = match f {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    let body = CreateTokenBody {
        name: f.name,
        platform: Some(f.platform),
        username: None,
    };
    match ops::create_token(&state, &who, body).await {
        // Rendered directly (not redirected) so the plaintext never appears in a URL or history.
        Ok((plain, _)) => admin_view(&state, lang, &who, Some(&plain), None).await,
        Err(e) => admin_view(&state, lang, &who, None, Some(e)).await,
    }
}

async fn admin_revoke_token(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<AdminOnly>,
    Path(token_id): Path<String>,
) -> Response {
    let Ok(id) = token_id.parse() else {
        return page_error(lang, ApiError::new(ErrorCode::NotFound));
    };
    match ops::revoke_token(&state, &who, id).await {
        Ok(()) => Redirect::to("/admin").into_response(),
        Err(e) => page_error(lang, e),
    }
}
