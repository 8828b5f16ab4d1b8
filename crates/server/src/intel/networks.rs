//! Network answers: the network(s) holding a contact, or one network by id, with the accounts,
//! contacts, common values, categories and regions behind it. One [`NetworkView`] shape serves
//! the API, the page and the CLI (`patroli network --contact`).
//!
//! A network's id is its anchor account (the member the index saw first). A caller with a region
//! scope sees a network only when one of its posts lies inside the scope; otherwise 404, the same
//! answer as for a network that does not exist.

use super::IntelState;
use crate::AppState;
use crate::auth::{self, Authed, Principal, ReadQueue};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use patroli_core::network::{CommonReason, ContactValue, Network};
use patroli_core::region::Regions;
use patroli_core::{AccountId, CaseId, Category, PostId};
use patroli_store::{NetworkAccount, NetworkPost, Store, StoreError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Posts listed per account on a network page.
pub const POSTS_PER_ACCOUNT: u32 = 5;

/// Most posts in a network's `post_list` (flagged first, then newest): a network of hundreds of
/// accounts still gives a page one can read.
pub const POST_LIST_MAX: usize = 200;

/// Characters of a post's text shown as its snippet.
const SNIPPET_CHARS: usize = 160;

/// One post of a network's accounts, as the network page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostRef {
    pub id: PostId,
    /// The post page (`/posts/{id}`).
    pub link: String,
    pub platform: String,
    pub account_id: AccountId,
    pub handle: String,
    pub title: Option<String>,
    /// The start of the text, at most 160 characters (an ellipsis marks a cut).
    pub snippet: String,
    /// Categories of its latest finding (none when it has none or it was dismissed).
    pub categories: Vec<Category>,
    pub flagged: bool,
    pub region_code: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
}

fn snippet(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= SNIPPET_CHARS {
        return text;
    }
    let mut out: String = text.chars().take(SNIPPET_CHARS - 1).collect();
    out.push('…');
    out
}

impl From<NetworkPost> for PostRef {
    fn from(p: NetworkPost) -> Self {
        PostRef {
            link: format!("/posts/{}", p.id),
            id: p.id,
            platform: p.platform,
            account_id: p.account_id,
            handle: p.handle,
            title: p.title.filter(|t| !t.trim().is_empty()),
            snippet: snippet(&p.text),
            categories: p.categories,
            flagged: p.flagged,
            region_code: p.region_code,
            first_seen: p.first_seen,
        }
    }
}

/// A shared contact inside a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactView {
    pub kind: String,
    pub value: String,
    /// Link weight of the kind (phone and bank 1.0 ... similar text 0.4).
    pub weight: f32,
    /// Member accounts that showed it.
    pub accounts: Vec<AccountId>,
}

/// A value too widely shared to link anyone (courier call centre, marketplace domain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommonView {
    pub kind: String,
    pub value: String,
    /// Distinct accounts that showed it.
    pub accounts: u32,
    pub reason: CommonReason,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryCount {
    pub category: Category,
    pub posts: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionCount {
    /// As stored on the posts (province, regency or district code).
    pub region_code: String,
    pub region_name: Option<String>,
    pub province_code: String,
    pub posts: i64,
}

/// A case that holds one of the network's accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRef {
    pub id: CaseId,
    pub title: String,
    pub status: String,
    pub region_code: Option<String>,
}

/// One network as the API, the page and the CLI show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkView {
    /// The anchor account's id; `GET /api/v1/networks/{id}` and `/networks/{id}`.
    pub id: AccountId,
    pub accounts: Vec<NetworkAccount>,
    /// Posts of all member accounts.
    pub posts: i64,
    pub flagged_posts: i64,
    /// Values shared by two or more members, strongest first.
    pub contacts: Vec<ContactView>,
    pub common_values: Vec<CommonView>,
    /// Primary categories of the members' flagged posts (dismissed findings left out).
    pub categories: Vec<CategoryCount>,
    pub regions: Vec<RegionCount>,
    /// Cases holding a member account (for a scoped caller, those inside the scope).
    pub cases: Vec<CaseRef>,
    /// Posts of the member accounts: up to [`POSTS_PER_ACCOUNT`] each, flagged first, then
    /// newest, at most [`POST_LIST_MAX`] (for a scoped caller, those inside the scope).
    pub post_list: Vec<PostRef>,
}

/// The answer to "which network holds this contact".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactAnswer {
    /// As typed.
    pub contact: String,
    /// How it was read (`phone:+62812...`, or a handle as Telegram and social account...).
    pub readings: Vec<String>,
    /// Readings that are common values: they link nobody, so no network is returned for them.
    pub common: Vec<CommonView>,
    pub networks: Vec<NetworkView>,
}

fn common_view(value: &ContactValue, accounts: u32, reason: CommonReason) -> CommonView {
    CommonView {
        kind: value.kind.as_str().to_string(),
        value: value.value.clone(),
        accounts,
        reason,
    }
}

/// Fills a network snapshot with what the store knows of its accounts.
pub async fn view_of(store: &dyn Store, network: &Network) -> Result<NetworkView, StoreError> {
    let accounts = store.network_accounts(&network.members).await?;
    let breakdown = store.accounts_breakdown(&network.members).await?;
    let regions = Regions::builtin();
    let mut case_ids: Vec<CaseId> = Vec::new();
    for m in &network.members {
        for c in store.cases_with_account(*m).await? {
            if !case_ids.contains(&c) {
                case_ids.push(c);
            }
        }
    }
    let mut cases = Vec::new();
    for id in case_ids {
        if let Some(c) = store.get_case(id).await? {
            cases.push(CaseRef {
                id,
                title: c.title,
                status: c.state.status.as_str().to_string(),
                region_code: c.region_code,
            });
        }
    }
    let mut post_list: Vec<PostRef> = store
        .network_posts(&network.members, POSTS_PER_ACCOUNT)
        .await?
        .into_iter()
        .map(PostRef::from)
        .collect();
    post_list.truncate(POST_LIST_MAX);
    Ok(NetworkView {
        cases,
        post_list,
        id: network.anchor,
        posts: accounts.iter().map(|a| a.posts).sum(),
        flagged_posts: accounts.iter().map(|a| a.flagged_posts).sum(),
        accounts,
        contacts: network
            .links
            .iter()
            .map(|l| ContactView {
                kind: l.value.kind.as_str().to_string(),
                value: l.value.value.clone(),
                weight: l.weight,
                accounts: l.accounts.clone(),
            })
            .collect(),
        common_values: network
            .common_values
            .iter()
            .map(|c| common_view(&c.value, c.accounts, c.reason))
            .collect(),
        categories: breakdown
            .categories
            .into_iter()
            .map(|(category, posts)| CategoryCount { category, posts })
            .collect(),
        regions: breakdown
            .regions
            .into_iter()
            .map(|(code, posts)| RegionCount {
                region_name: regions.get(&code).map(|r| r.name.clone()),
                province_code: code.split('.').next().unwrap_or(&code).to_string(),
                region_code: code,
                posts,
            })
            .collect(),
    })
}

/// Whether a caller with `scope` may see this network: one of its posts lies inside the scope.
pub fn visible(view: &NetworkView, scope: Option<&str>) -> bool {
    scope.is_none()
        || view
            .regions
            .iter()
            .any(|r| auth::in_scope(scope, Some(&r.region_code)))
}

/// The view as a caller with `scope` may see it: `None` when the network is outside the scope;
/// cases outside the scope are left out.
pub fn scoped(mut view: NetworkView, scope: Option<&str>) -> Option<NetworkView> {
    if !visible(&view, scope) {
        return None;
    }
    view.cases
        .retain(|c| auth::in_scope(scope, c.region_code.as_deref()));
    // As on the post page: a post outside the scope is not shown (there it is a 404).
    view.post_list
        .retain(|p| auth::in_scope(scope, p.region_code.as_deref()));
    Some(view)
}

impl IntelState {
    /// Snapshots of the networks holding any reading of `contact`, and the readings that are
    /// common values.
    fn networks_for(&self, contact: &str) -> (Vec<String>, Vec<CommonView>, Vec<Network>) {
        let index = self.read();
        let readings = ContactValue::readings(contact)
            .iter()
            .map(ToString::to_string)
            .collect();
        let mut common = Vec::new();
        let mut networks: Vec<Network> = Vec::new();
        for lookup in index.networks.search(contact) {
            if let Some(reason) = lookup.common {
                common.push(common_view(&lookup.value, lookup.accounts, reason));
                continue;
            }
            for n in lookup.networks {
                if !networks.iter().any(|m| m.anchor == n.anchor) {
                    networks.push(n);
                }
            }
        }
        (readings, common, networks)
    }

    /// Adds to `networks` those of the accounts whose own handle (the account record's, not a
    /// handle named in a post) is a handle reading of `contact`, on any platform. An account the
    /// index never saw (no contact and no flagged post) has no network and adds nothing.
    async fn add_own_handles(
        &self,
        store: &dyn Store,
        contact: &str,
        networks: &mut Vec<Network>,
    ) -> Result<(), StoreError> {
        let handles = own_handle_readings(contact);
        if handles.is_empty() {
            return Ok(());
        }
        for account in store.accounts_with_handles(&handles).await? {
            if let Some(n) = self.network(&account)
                && !networks.iter().any(|m| m.anchor == n.anchor)
            {
                networks.push(n);
            }
        }
        Ok(())
    }

    fn network(&self, id: &AccountId) -> Option<Network> {
        self.read().networks.network_of(id)
    }

    /// Networks of two or more accounts, largest first, with the provinces and categories of
    /// their members' flagged posts (for statistics).
    pub(crate) fn network_facts(&self) -> std::sync::Arc<Vec<super::NetworkFacts>> {
        let index = self.read();
        let mut cache = self.facts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((generation, facts)) = cache.as_ref()
            && *generation == index.generation
        {
            return facts.clone();
        }
        let facts: Vec<super::NetworkFacts> = index
            .networks
            .networks(2)
            .into_iter()
            .map(|n| {
                let mut provinces: Vec<String> = Vec::new();
                let mut categories: Vec<Category> = Vec::new();
                for m in &n.members {
                    if let Some(f) = index.accounts.get(m) {
                        provinces.extend(f.provinces.iter().cloned());
                        categories.extend(f.categories.iter().copied());
                    }
                }
                provinces.sort();
                provinces.dedup();
                categories.sort();
                categories.dedup();
                (provinces, categories)
            })
            .collect();
        let facts = std::sync::Arc::new(facts);
        *cache = Some((index.generation, facts.clone()));
        facts
    }
}

/// The handles a typed contact may name, as account records store them (without `@`, lower
/// case): the handle readings of [`ContactValue::readings`] (`@x`, a bare handle, `t.me/x`,
/// `instagram:x`...).
fn own_handle_readings(contact: &str) -> Vec<String> {
    use patroli_core::network::ContactKind as K;
    let mut out: Vec<String> = Vec::new();
    for v in ContactValue::readings(contact) {
        if !matches!(v.kind, K::Telegram | K::Line | K::Social) {
            continue;
        }
        let h = v.value.rsplit(':').next().unwrap_or_default();
        let h = h.trim().trim_start_matches('@').trim().to_lowercase();
        if !h.is_empty() && !out.contains(&h) {
            out.push(h);
        }
    }
    out
}

/// The answer for `contact`, as `who` may see it; `None` when no visible network holds it and it
/// is not a common value either.
pub async fn answer(
    state: &AppState,
    scope: Option<&str>,
    contact: &str,
) -> ApiResult<Option<ContactAnswer>> {
    let intel = state.intel();
    intel.ensure_loaded(state.store()).await?;
    let (readings, common, mut networks) = intel.networks_for(contact);
    intel
        .add_own_handles(state.store(), contact, &mut networks)
        .await?;
    let mut views = Vec::new();
    for n in &networks {
        if let Some(v) = scoped(view_of(state.store(), n).await?, scope) {
            views.push(v);
        }
    }
    if views.is_empty() && common.is_empty() {
        return Ok(None);
    }
    Ok(Some(ContactAnswer {
        contact: contact.to_string(),
        readings,
        common,
        networks: views,
    }))
}

/// One network by id, if visible to `scope`.
pub async fn by_id(
    state: &AppState,
    scope: Option<&str>,
    id: AccountId,
) -> ApiResult<Option<NetworkView>> {
    let intel = state.intel();
    intel.ensure_loaded(state.store()).await?;
    let Some(n) = intel.network(&id) else {
        return Ok(None);
    };
    Ok(scoped(view_of(state.store(), &n).await?, scope))
}

/// For `patroli network --contact VALUE`: builds the index from the store (a full scan: the CLI
/// has no running index) and answers like `GET /api/v1/networks?contact=` for a national role.
/// The JSON of the result is the API's; a contact the API would refuse with 400 is
/// [`NetworkQueryError::Contact`].
pub async fn network_for_contact(
    store: &dyn Store,
    contact: &str,
) -> Result<ContactAnswer, NetworkQueryError> {
    let contact = read_contact(Some(contact))?;
    let intel = IntelState::default();
    intel
        .load(store)
        .await
        .map_err(|e| StoreError::Invalid(e.message))?;
    let (readings, common, mut networks) = intel.networks_for(contact);
    intel.add_own_handles(store, contact, &mut networks).await?;
    let mut views = Vec::new();
    for n in &networks {
        views.push(view_of(store, n).await?);
    }
    Ok(ContactAnswer {
        contact: contact.to_string(),
        readings,
        common,
        networks: views,
    })
}

#[derive(Deserialize)]
pub struct ContactQuery {
    pub contact: Option<String>,
}

/// Forms a contact may be typed in, for error hints (API, page and CLI).
pub const CONTACT_EXAMPLES: &str = "0812-3456-7890, +62 812-3456-7890, wa.me/62812..., \
     DANA 0812-3456-7890, GoPay/OVO 0812..., BCA 1234567890, @handle, t.me/handle, \
     nama@contoh.id, toko.xyz/produk";

/// Why a typed contact cannot be searched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error(
        "give a phone number, handle, bank or e-wallet account, e-mail or link (at most 300 characters)"
    )]
    MissingOrTooLong,
    #[error(
        "not read as a phone number, WhatsApp or Telegram link, handle, bank or e-wallet account, e-mail or link"
    )]
    Unreadable,
}

impl From<ContactError> for ApiError {
    fn from(e: ContactError) -> Self {
        ApiError::bad_param("contact", e).hint(format!("For example: {CONTACT_EXAMPLES}."))
    }
}

/// A typed contact, trimmed, when it is non-empty, at most 300 characters and read as at least
/// one contact value ([`ContactValue::readings`], the engine's own normalization).
pub fn read_contact(raw: Option<&str>) -> Result<&str, ContactError> {
    let c = raw.map(str::trim).unwrap_or_default();
    if c.is_empty() || c.chars().count() > 300 {
        return Err(ContactError::MissingOrTooLong);
    }
    if ContactValue::readings(c).is_empty() {
        return Err(ContactError::Unreadable);
    }
    Ok(c)
}

pub(super) fn require_contact(q: &ContactQuery) -> ApiResult<&str> {
    Ok(read_contact(q.contact.as_deref())?)
}

/// Why `patroli network --contact` gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum NetworkQueryError {
    #[error("`contact`: {0} (for example: {CONTACT_EXAMPLES})")]
    Contact(#[from] ContactError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `GET /api/v1/networks?contact=VALUE`
pub async fn api_by_contact(
    State(state): State<AppState>,
    who: Authed<ReadQueue>,
    Query(q): Query<ContactQuery>,
) -> ApiResult<Json<ContactAnswer>> {
    let contact = require_contact(&q)?;
    answer(&state, scope_of(&who), contact)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found().hint("No network (in your region) holds this contact.")
        })
}

/// `GET /api/v1/networks/{network_id}`
pub async fn api_by_id(
    State(state): State<AppState>,
    who: Authed<ReadQueue>,
    Path(network_id): Path<String>,
) -> ApiResult<Json<NetworkView>> {
    let id: AccountId = network_id.parse().map_err(|_| ApiError::not_found())?;
    by_id(&state, scope_of(&who), id)
        .await?
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

pub(super) fn scope_of(p: &Principal) -> Option<&str> {
    p.scope.as_deref()
}
