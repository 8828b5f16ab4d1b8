//! Intelligence (issue 5): seller networks, statistics per province/unit/category/month, and STIX
//! sharing with partners, as JSON under `/api/v1` and as pages.
//!
//! The network index ([`NetworkIndex`], pure logic in `patroli_core::network`) lives in memory in
//! [`IntelState`]: filled from the store on first use (or at start by [`warm_up`]) and updated by
//! the ingest hook ([`before_store`] / [`after_store`]) so a new post never recomputes everything.
//! The hook also applies the partner watch-list to fresh screenings. This module never writes SQL;
//! region scopes are applied here, per caller, before anything leaves.

pub mod networks;
mod pages;
pub mod stats;
pub mod stix;

use crate::AppState;
use crate::error::ApiError;
use axum::Router;
use patroli_core::network::{ContactValue, NetworkConfig, NetworkIndex};
use patroli_core::{AccountId, Category};
use patroli_detect::{Entity, EntityKind, Field};
use patroli_store::{IngestOutcome, IngestStatus, ScanCursor, ScreenedPost, Store};
use std::collections::HashMap;
use std::sync::RwLock;

pub use networks::{ContactAnswer, NetworkQueryError, NetworkView, network_for_contact};

/// Rows per page when filling the index from the store.
const LOAD_PAGE: u32 = 20_000;

type Handler = axum::routing::MethodRouter<AppState>;

/// This module's API routes as (method, path, handler); the OpenAPI test reads the same table.
fn table() -> Vec<(&'static str, &'static str, Handler)> {
    use axum::routing::{get, post};
    vec![
        ("GET", "/api/v1/networks", get(networks::api_by_contact)),
        (
            "GET",
            "/api/v1/networks/{network_id}",
            get(networks::api_by_id),
        ),
        ("GET", "/api/v1/stats", get(stats::api_stats)),
        ("GET", "/api/v1/export/stix", get(stix::api_export)),
        ("POST", "/api/v1/watchlist/stix", post(stix::api_import)),
        ("GET", "/api/v1/watchlist", get(stix::api_list)),
    ]
}

/// (method, path) of every API route of this module, for the OpenAPI check.
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    table().into_iter().map(|(m, p, _)| (m, p)).collect()
}

/// The API routes and the pages.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for (_, path, handler) in table() {
        router = router.route(path, handler);
    }
    router.merge(pages::routes())
}

/// What the statistics need to know about an account with flagged posts.
#[derive(Debug, Default, Clone)]
struct AccountFacts {
    provinces: Vec<String>,
    categories: Vec<Category>,
}

#[derive(Debug)]
struct IntelIndex {
    networks: NetworkIndex,
    accounts: HashMap<AccountId, AccountFacts>,
    /// Bumped on every write, so derived views know when to recompute.
    generation: u64,
}

/// Provinces and categories of one network's flagged posts.
pub(crate) type NetworkFacts = (Vec<String>, Vec<Category>);

impl IntelIndex {
    fn note(&mut self, account: AccountId, region: Option<&str>, category: Option<Category>) {
        let facts = self.accounts.entry(account).or_default();
        if let Some(p) = region.and_then(province_code)
            && !facts.provinces.contains(&p)
        {
            facts.provinces.push(p);
        }
        if let Some(c) = category
            && !facts.categories.contains(&c)
        {
            facts.categories.push(c);
        }
    }
}

/// The shared in-memory network index and what the statistics need per account.
pub struct IntelState {
    index: RwLock<IntelIndex>,
    loaded: tokio::sync::OnceCell<()>,
    /// Network facts for statistics, with the index generation they were computed at: listing
    /// every network is the costly part of a statistics request, and ingest is rarer than reads.
    facts: std::sync::Mutex<Option<(u64, std::sync::Arc<Vec<NetworkFacts>>)>>,
}

impl Default for IntelState {
    fn default() -> Self {
        Self::new(NetworkConfig::default())
    }
}

impl IntelState {
    pub fn new(config: NetworkConfig) -> Self {
        IntelState {
            index: RwLock::new(IntelIndex {
                networks: NetworkIndex::new(config),
                accounts: HashMap::new(),
                generation: 0,
            }),
            loaded: tokio::sync::OnceCell::new(),
            facts: std::sync::Mutex::new(None),
        }
    }

    /// Fills the index from the store once; later callers wait for the first fill to finish.
    /// Ingest hooks add to the index meanwhile: adding a value twice for one account is a no-op,
    /// so overlap with the fill is harmless.
    pub async fn ensure_loaded(&self, store: &dyn Store) -> Result<(), ApiError> {
        self.loaded
            .get_or_try_init(|| self.load(store))
            .await
            .map(|_| ())
    }

    async fn load(&self, store: &dyn Store) -> Result<(), ApiError> {
        let started = std::time::Instant::now();
        let mut cursor = ScanCursor::default();
        loop {
            let (rows, next) = store.account_entities(&cursor, LOAD_PAGE).await?;
            if rows.is_empty() {
                break;
            }
            let mut index = self.write();
            for row in &rows {
                if let Some(v) = contact_of(&row.kind, &row.value) {
                    index.networks.add(row.account_id, std::slice::from_ref(&v));
                }
            }
            drop(index);
            cursor = next;
        }
        let mut after = None;
        loop {
            let rows = store.flagged_account_posts(after, LOAD_PAGE).await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.post_id);
            let prints: Vec<_> = rows
                .iter()
                .map(|r| ContactValue::text_fingerprint(&r.text))
                .collect();
            let mut index = self.write();
            for (r, print) in rows.iter().zip(prints) {
                index.networks.add(r.account_id, &print);
                index.note(r.account_id, r.region_code.as_deref(), r.category);
            }
        }
        let stats = self.read().networks.stats();
        tracing::info!(
            accounts = stats.accounts,
            values = stats.values,
            networks = stats.networks,
            ms = started.elapsed().as_millis() as u64,
            "network index loaded"
        );
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, IntelIndex> {
        // A panic while holding the lock leaves a consistent index (every update is one `add`).
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, IntelIndex> {
        let mut guard = self.index.write().unwrap_or_else(|e| e.into_inner());
        guard.generation += 1;
        guard
    }
}

/// Fills the network index in the background so the first network page does not wait for it.
pub async fn warm_up(state: AppState) {
    if let Err(e) = state.intel().ensure_loaded(state.store()).await {
        tracing::warn!(error = %e.message, "network index not loaded; will retry on first use");
    }
}

/// `"65.71.02"` -> `"65"`.
fn province_code(region: &str) -> Option<String> {
    let p = region.split('.').next()?.trim();
    (!p.is_empty()).then(|| p.to_string())
}

/// The contact value behind a stored entity row (`kind` as `patroli_detect::EntityKind`).
fn contact_of(kind: &str, value: &str) -> Option<ContactValue> {
    let kind: EntityKind = serde_json::from_value(serde_json::Value::String(kind.into())).ok()?;
    ContactValue::from_entity(&Entity {
        kind,
        value: value.to_string(),
        field: Field::Text,
        start: 0,
        end: 0,
        attrs: Default::default(),
    })
}

/// What the ingest hook remembers of each post between screening and storing.
pub struct PendingIntel {
    posts: Vec<PendingPost>,
}

struct PendingPost {
    contacts: Vec<ContactValue>,
    flagged: bool,
    category: Option<Category>,
}

/// Ingest hook, after the engine and before the store: raises the score of posts whose contacts
/// are on the partner watch-list (see [`stix::apply_watchlist`]) and keeps their contacts for
/// [`after_store`]. A watch-list failure is logged, never fails the ingest.
pub async fn before_store(state: &AppState, posts: &mut [ScreenedPost]) -> PendingIntel {
    if let Err(e) = stix::apply_watchlist(state.store(), posts).await {
        tracing::warn!(error = %e.message, "watch-list not applied to this batch");
    }
    PendingIntel {
        posts: posts
            .iter()
            .map(|p| {
                let mut contacts: Vec<ContactValue> = p
                    .screening
                    .entities
                    .iter()
                    .filter_map(ContactValue::from_entity)
                    .collect();
                if p.screening.flagged {
                    contacts.extend(ContactValue::text_fingerprint(&p.post.text));
                }
                PendingPost {
                    contacts,
                    flagged: p.screening.flagged,
                    category: p.screening.categories.first().copied(),
                }
            })
            .collect(),
    }
}

/// Ingest hook, after the store: adds the stored posts' contacts to the network index.
pub async fn after_store(state: &AppState, pending: PendingIntel, outcomes: &[IngestOutcome]) {
    let changed: Vec<_> = outcomes
        .iter()
        .zip(pending.posts)
        .filter(|(o, p)| o.status != IngestStatus::Unchanged && !p.contacts.is_empty())
        .collect();
    if changed.is_empty() {
        return;
    }
    let ids: Vec<_> = changed.iter().map(|(o, _)| o.post_id).collect();
    let placements = match state.store().post_placements(&ids).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "network index not updated for this batch");
            return;
        }
    };
    let by_post: HashMap<_, _> = placements.into_iter().map(|p| (p.post_id, p)).collect();
    let mut index = state.intel().write();
    for (outcome, post) in changed {
        let Some(place) = by_post.get(&outcome.post_id) else {
            continue;
        };
        let Some(account) = place.account_id else {
            continue;
        };
        index.networks.add(account, &post.contacts);
        if post.flagged {
            index.note(account, place.region_code.as_deref(), post.category);
        }
    }
}
