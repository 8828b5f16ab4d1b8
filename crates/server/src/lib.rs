//! Patroli's HTTP service: the JSON API under `/api/v1` (ingest, review queue, verdicts, admin),
//! the server-rendered review UI, authentication, roles and region scopes, and the audit trail.
//!
//! This crate knows HTTP and calls `patroli_store` / `patroli_core`; it never writes SQL. Every
//! handler states the permission it needs in its argument types ([`auth::Authed`]), so forgetting a
//! check does not compile. Post content is hostile: it only ever reaches HTML through maud's
//! escaping, and every page carries a strict Content-Security-Policy.
//!
//! The `patroli` binary builds an [`AppState`] and calls [`serve`]; `patroli user add` and
//! `patroli token create` use [`hash_password`] and [`new_api_token`].

mod api;
pub mod auth;
pub mod error;
mod ingest;
pub mod intel;
mod metrics;
mod openapi;
mod ratelimit;
pub mod secrets;
mod ui;
pub mod workflow;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use patroli_detect::Engine;
use patroli_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;

pub use api::route_table;
pub use api::{CreateTokenBody, CreateUserBody, ops};
pub use error::{ApiError, ErrorCode};
pub use secrets::{hash_password, new_api_token, verify_password};

/// Settings of the HTTP service. Defaults are the production ones; tests shorten nothing but the
/// rate limit where they need to.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// How long a log-in session lasts.
    pub session_ttl: Duration,
    /// Log-in attempts allowed per client address and per user name in one minute.
    pub login_attempts_per_minute: u32,
    /// Mark the session cookie `Secure`. Browsers accept Secure cookies from `http://localhost`,
    /// so this stays on even for local use; turn it off only behind a TLS-terminating proxy that
    /// talks plain HTTP to browsers on another host name (which you should not do).
    pub cookie_secure: bool,
    /// Most posts accepted in one ingest request.
    pub max_batch_posts: usize,
    /// Body limit of the ingest endpoint, in bytes (other endpoints accept 1 MiB).
    pub max_ingest_bytes: usize,
    /// Take the client address for rate limiting from `X-Forwarded-For` (only behind a proxy you run).
    pub trust_forwarded_for: bool,
    /// Workflow settings (report sealing key, takedown deadlines, webhooks). `None` falls back to
    /// [`workflow::WorkflowConfig::from_env`].
    pub workflow: Option<workflow::WorkflowConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            session_ttl: Duration::from_secs(12 * 3600),
            login_attempts_per_minute: 10,
            cookie_secure: true,
            max_batch_posts: 5_000,
            max_ingest_bytes: 64 * 1024 * 1024,
            trust_forwarded_for: false,
            workflow: None,
        }
    }
}

impl ServerConfig {
    pub fn with_login_attempts_per_minute(mut self, n: u32) -> Self {
        self.login_attempts_per_minute = n;
        self
    }

    pub fn with_session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    pub fn with_cookie_secure(mut self, secure: bool) -> Self {
        self.cookie_secure = secure;
        self
    }

    pub fn with_workflow(mut self, workflow: workflow::WorkflowConfig) -> Self {
        self.workflow = Some(workflow);
        self
    }

    pub fn with_trust_forwarded_for(mut self, trust: bool) -> Self {
        self.trust_forwarded_for = trust;
        self
    }
}

/// Everything a handler needs, passed in (no globals). Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    engine: Arc<Engine>,
    config: ServerConfig,
    login_limiter: ratelimit::RateLimiter,
    metrics: metrics::Metrics,
    token_cache: auth::TokenCache,
    intel: intel::IntelState,
    /// Started on first use, so `AppState::new` works outside a runtime.
    ingest_queue: std::sync::OnceLock<tokio::sync::mpsc::Sender<ingest::Job>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, engine: Arc<Engine>, config: ServerConfig) -> Self {
        let login_limiter =
            ratelimit::RateLimiter::new(config.login_attempts_per_minute, Duration::from_secs(60));
        Self {
            inner: Arc::new(Inner {
                store,
                engine,
                config,
                login_limiter,
                metrics: metrics::Metrics::default(),
                token_cache: auth::TokenCache::default(),
                intel: intel::IntelState::default(),
                ingest_queue: std::sync::OnceLock::new(),
            }),
        }
    }

    pub fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.inner.engine
    }

    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    pub(crate) fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    pub(crate) fn ingest_queue(&self) -> &tokio::sync::mpsc::Sender<ingest::Job> {
        self.inner.ingest_queue.get_or_init(|| {
            // SQLite has a single writer anyway; PostgreSQL gains from a few commits in flight.
            let writers = match self.inner.store.backend() {
                patroli_store::Backend::Sqlite => 1,
                patroli_store::Backend::Postgres => 4,
            };
            ingest::start(self.inner.store.clone(), writers)
        })
    }

    /// The shared network index (issue 5).
    pub fn intel(&self) -> &intel::IntelState {
        &self.inner.intel
    }

    pub(crate) fn token_cache(&self) -> &auth::TokenCache {
        &self.inner.token_cache
    }

    pub(crate) fn login_limiter(&self) -> &ratelimit::RateLimiter {
        &self.inner.login_limiter
    }
}

/// The Content-Security-Policy of every response: our own scripts and styles only, no inline code,
/// no framing, forms post back to us only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The whole application: API, UI, static assets, health and metrics, with security headers.
pub fn router(state: AppState) -> Router {
    let ingest_limit = state.config().max_ingest_bytes;
    Router::new()
        .merge(api::routes(ingest_limit))
        .merge(ui::routes())
        .merge(match state.config().workflow.clone() {
            Some(config) => workflow::routes_with(config),
            None => workflow::routes(),
        })
        .merge(intel::routes())
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::new(ErrorCode::MethodNotAllowed) })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            workflow::hooks,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::csrf_guard,
        ))
        .layer(axum::middleware::from_fn(ui::lang_layer))
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .with_state(state)
}

/// Serve until the listener fails or the future is dropped. Client addresses are passed to
/// handlers (log-in rate limiting needs them). Expired sessions are swept hourly meanwhile.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    serve_with_shutdown(listener, state, std::future::pending()).await
}

/// Like [`serve`], stopping gracefully when `shutdown` completes (in-flight requests finish).
pub async fn serve_with_shutdown(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper = tokio::spawn(sweep_sessions(state.clone()));
    tokio::spawn(intel::warm_up(state.clone()));
    let result = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    sweeper.abort();
    result
}

async fn sweep_sessions(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        match state
            .store()
            .delete_expired_sessions(time::OffsetDateTime::now_utc())
            .await
        {
            Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
        }
    }
}
