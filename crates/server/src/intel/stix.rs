//! STIX 2.1 sharing: export the contacts behind a case, a network or one contact as a bundle
//! (`patroli_core::stix` builds it), import partners' indicators into the watch-list, and apply
//! the watch-list to fresh screenings in the ingest hook.
//!
//! A watch-list hit never changes the detect crate: the hook raises the screening's score, adds a
//! `watchlist` reason naming the partner indicator, and flags the post for human review.

use super::networks::{self, scope_of};
use crate::AppState;
use crate::auth::{self, Authed, Decide, ReadQueue};
use crate::error::{ApiError, ApiResult, ErrorCode};
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use patroli_core::network::ContactValue;
use patroli_core::stix::{self as core_stix, BundleInput, IndicatorInput, Tlp};
use patroli_core::{AccountId, CaseId, Category, Severity};
use patroli_detect::{Reason, ReasonKind};
use patroli_store::{NewWatchEntry, ScreenedPost, Store};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// How much a watch-list hit adds to the score (capped at 1.0).
pub const WATCHLIST_BOOST: f32 = 0.3;
/// A hit lifts the score to at least this, so the post reaches the review queue.
pub const WATCHLIST_FLOOR: f32 = 0.6;
/// Producer name in exported bundles.
const PRODUCER: &str = "Patroli";

#[derive(Debug, Default, Deserialize)]
pub struct ExportParams {
    pub case_id: Option<String>,
    pub network: Option<String>,
    pub contact: Option<String>,
    /// clear, green, amber (default), amber_strict, red.
    pub tlp: Option<String>,
}

fn parse_tlp(s: Option<&str>) -> ApiResult<Tlp> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Tlp::default()),
        Some(t) => serde_json::from_value(Value::String(t.replace('+', "_").to_lowercase()))
            .map_err(|_| ApiError::bad_param("tlp", "clear, green, amber, amber_strict or red")),
    }
}

/// Contacts of `accounts`' networks, as indicators dated from the earliest member's first sight.
fn indicators(view: &networks::NetworkView, labels: &[String]) -> Vec<IndicatorInput> {
    let first_seen = view
        .accounts
        .iter()
        .map(|a| a.first_seen)
        .min()
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut out: Vec<IndicatorInput> = view
        .contacts
        .iter()
        .filter_map(|c| {
            let kind = serde_json::from_value(Value::String(c.kind.clone())).ok()?;
            Some(IndicatorInput {
                value: ContactValue {
                    kind,
                    value: c.value.clone(),
                },
                first_seen,
                labels: labels.to_vec(),
                description: None,
            })
        })
        .collect();
    // The member accounts themselves are indicators too.
    for a in &view.accounts {
        if let Some(value) = ContactValue::new(
            patroli_core::network::ContactKind::Social,
            &format!("{}:{}", a.platform.to_lowercase(), a.handle),
        ) {
            out.push(IndicatorInput {
                value,
                first_seen: a.first_seen,
                labels: labels.to_vec(),
                description: None,
            });
        }
    }
    out
}

/// Indicators for the contacts of a case's posts and the networks of its accounts.
async fn case_indicators(
    state: &AppState,
    who: &auth::Principal,
    id: CaseId,
) -> ApiResult<Vec<IndicatorInput>> {
    let store = state.store();
    let case = store.get_case(id).await?.ok_or_else(ApiError::not_found)?;
    if !who.may_see_region(case.region_code.as_deref()) {
        return Err(ApiError::not_found());
    }
    // Cases are visible to the agencies they are shared with; admins see all.
    if who.role != patroli_core::Role::Admin
        && let Some(user) = who.user_id
        && let Some(agency) = store.get_user(user).await?.and_then(|u| u.agency_id)
        && !store
            .case_agencies(id)
            .await?
            .iter()
            .any(|a| a.agency_id == agency)
    {
        return Err(ApiError::not_found());
    }
    let labels = vec![case.category.id().to_string()];
    let mut out = Vec::new();
    for post in store.case_posts(id).await? {
        let first_seen = store
            .get_post(post)
            .await?
            .map(|p| p.first_seen)
            .unwrap_or(case.created_at);
        for e in store.entities_of_post(post).await? {
            let entity = patroli_detect::Entity {
                kind: e.kind,
                value: e.value,
                field: patroli_detect::Field::Text,
                start: 0,
                end: 0,
                attrs: Default::default(),
            };
            if let Some(value) = ContactValue::from_entity(&entity) {
                out.push(IndicatorInput {
                    value,
                    first_seen,
                    labels: labels.clone(),
                    description: Some(format!("Kasus {}", case.title)),
                });
            }
        }
    }
    let accounts: Vec<AccountId> = store.case_accounts(id).await?;
    let mut anchors = BTreeSet::new();
    for a in accounts {
        if let Some(view) = networks::by_id(state, None, a).await?
            && anchors.insert(view.id)
        {
            out.extend(indicators(&view, &labels));
        }
    }
    Ok(out)
}

/// `GET /api/v1/export/stix?case_id=...` (or `?network=ID`, `?contact=VALUE`) `[&tlp=amber]`
pub async fn api_export(
    State(state): State<AppState>,
    who: Authed<ReadQueue>,
    Query(p): Query<ExportParams>,
) -> ApiResult<Response> {
    let tlp = parse_tlp(p.tlp.as_deref())?;
    let scope = scope_of(&who);
    let inputs = if let Some(c) = p.case_id.as_deref() {
        let id: CaseId = c.trim().parse().map_err(|_| ApiError::not_found())?;
        case_indicators(&state, &who, id).await?
    } else if let Some(n) = p.network.as_deref() {
        let id: AccountId = n.trim().parse().map_err(|_| ApiError::not_found())?;
        let view = networks::by_id(&state, scope, id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let labels = view.categories.iter().map(|c| c.category.id().to_string());
        indicators(&view, &labels.collect::<Vec<_>>())
    } else if p.contact.is_some() {
        let q = networks::ContactQuery {
            contact: p.contact.clone(),
        };
        let contact = networks::require_contact(&q)?;
        let answer = networks::answer(&state, scope, contact)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let mut out = Vec::new();
        for view in &answer.networks {
            let labels: Vec<String> = view
                .categories
                .iter()
                .map(|c| c.category.id().to_string())
                .collect();
            out.extend(indicators(view, &labels));
            // The searched contact itself, even when the network is one account.
            for v in ContactValue::readings(contact).into_iter().take(1) {
                out.push(IndicatorInput {
                    value: v,
                    first_seen: view
                        .accounts
                        .iter()
                        .map(|a| a.first_seen)
                        .min()
                        .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    labels: labels.clone(),
                    description: None,
                });
            }
        }
        out
    } else {
        return Err(ApiError::bad_param(
            "case_id",
            "give case_id, network or contact",
        ));
    };
    let bundle = core_stix::build_bundle(&BundleInput {
        producer: PRODUCER,
        tlp,
        modified: OffsetDateTime::now_utc(),
        indicators: &inputs,
    });
    auth::audit(
        &state,
        &who.actor,
        "stix.export",
        None,
        json!({"case_id": p.case_id, "network": p.network, "indicators": inputs.len(), "tlp": tlp.label()}),
    )
    .await;
    Ok((
        [(header::CONTENT_TYPE, "application/stix+json;version=2.1")],
        Json(bundle),
    )
        .into_response())
}

/// `POST /api/v1/watchlist/stix` with a partner's bundle as the body.
pub async fn api_import(
    State(state): State<AppState>,
    who: Authed<Decide>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body.map_err(|e| ApiError::with_message(ErrorCode::InvalidJson, e.body_text()))?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::with_message(ErrorCode::InvalidJson, "The body is not UTF-8."))?;
    let result = core_stix::parse_bundle(text)
        .map_err(|e| ApiError::with_message(ErrorCode::InvalidJson, e.to_string()))?;
    let entries: Vec<NewWatchEntry> = result
        .entries
        .iter()
        .map(|e| NewWatchEntry {
            kind: e.value.kind.as_str().to_string(),
            value: e.value.value.clone(),
            source_id: e.source_id.clone(),
            name: e.name.clone(),
            labels: e.labels.clone(),
            tlp: e.tlp.map(|t| t.label().to_string()),
            valid_until: e.valid_until.clone(),
            imported_by: Some(who.actor.clone()),
        })
        .collect();
    let written = state.store().upsert_watch_entries(entries).await?;
    auth::audit(
        &state,
        &who.actor,
        "watchlist.import",
        None,
        json!({"entries": result.entries.len(), "skipped": result.skipped.len()}),
    )
    .await;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(json!({
            "imported": result.entries.len(),
            "written": written,
            "skipped": result.skipped,
        })),
    )
        .into_response())
}

/// `GET /api/v1/watchlist`
pub async fn api_list(
    State(state): State<AppState>,
    _who: Authed<ReadQueue>,
) -> ApiResult<Json<Vec<patroli_store::WatchRecord>>> {
    Ok(Json(state.store().list_watch_entries(1000).await?))
}

fn expired(valid_until: Option<&str>, now: OffsetDateTime) -> bool {
    valid_until
        .and_then(|v| OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339).ok())
        .is_some_and(|t| t <= now)
}

/// Raises the screening of every post whose contacts match a live watch-list entry.
pub async fn apply_watchlist(store: &dyn Store, posts: &mut [ScreenedPost]) -> ApiResult<()> {
    let mut wanted: Vec<(String, String)> = Vec::new();
    let contacts: Vec<Vec<(ContactValue, usize)>> = posts
        .iter()
        .map(|p| {
            p.screening
                .entities
                .iter()
                .enumerate()
                .filter_map(|(i, e)| ContactValue::from_entity(e).map(|v| (v, i)))
                .collect()
        })
        .collect();
    for (v, _) in contacts.iter().flatten() {
        let key = (v.kind.as_str().to_string(), v.value.clone());
        if !wanted.contains(&key) {
            wanted.push(key);
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let now = OffsetDateTime::now_utc();
    let hits: Vec<_> = store
        .watch_matches(&wanted)
        .await?
        .into_iter()
        .filter(|w| !expired(w.valid_until.as_deref(), now))
        .collect();
    if hits.is_empty() {
        return Ok(());
    }
    for (post, contacts) in posts.iter_mut().zip(contacts) {
        for (value, entity_index) in contacts {
            let Some(hit) = hits
                .iter()
                .find(|w| w.kind == value.kind.as_str() && w.value == value.value)
            else {
                continue;
            };
            let entity = post.screening.entities[entity_index].clone();
            let field_text = match entity.field {
                patroli_detect::Field::Title => post.post.title.as_deref().unwrap_or_default(),
                patroli_detect::Field::Text => post.post.text.as_str(),
            };
            let labelled: Vec<Category> =
                hit.labels.iter().filter_map(|l| l.parse().ok()).collect();
            raise(&mut post.screening, &labelled);
            post.screening.reasons.push(Reason {
                rule: "watchlist".into(),
                kind: ReasonKind::Entity,
                category: post.screening.categories.first().copied(),
                field: entity.field,
                start: entity.start,
                end: entity.end,
                matched: field_text
                    .get(entity.start..entity.end)
                    .unwrap_or(&entity.value)
                    .to_string(),
                weight: WATCHLIST_BOOST,
                note: format!(
                    "Kontak ada di daftar pantauan mitra ({}{})",
                    hit.source_id,
                    hit.tlp
                        .as_deref()
                        .map(|t| format!(", {t}"))
                        .unwrap_or_default()
                ),
            });
            // One hit per post is enough to send it to review; more would only inflate it.
            break;
        }
    }
    Ok(())
}

/// Adds the boost to the screening: to the labelled categories when the partner named them, else
/// to the categories the engine already found.
fn raise(s: &mut patroli_detect::Screening, labelled: &[Category]) {
    let targets: Vec<Category> = if labelled.is_empty() {
        s.categories.clone()
    } else {
        labelled.to_vec()
    };
    for c in &targets {
        let v = s.scores.entry(*c).or_insert(0.0);
        *v = (*v + WATCHLIST_BOOST).clamp(WATCHLIST_FLOOR, 1.0);
        if !s.categories.contains(c) {
            s.categories.push(*c);
        }
    }
    s.score = (s.score + WATCHLIST_BOOST).clamp(WATCHLIST_FLOOR, 1.0);
    if let Some(best) = s.scores.values().copied().reduce(f32::max) {
        s.score = s.score.max(best);
    }
    s.categories.sort_by(|a, b| {
        let sa = s.scores.get(a).copied().unwrap_or(0.0);
        let sb = s.scores.get(b).copied().unwrap_or(0.0);
        sb.total_cmp(&sa)
    });
    s.flagged = true;
    if s.severity < Severity::Medium {
        s.severity = Severity::Medium;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raise_flags_and_boosts_the_labelled_category() {
        let mut s = patroli_detect::Engine::builtin().screen(&patroli_detect::Post {
            text: "halo kak",
            title: None,
            declared_category: None,
            price: None,
        });
        assert!(!s.flagged);
        raise(&mut s, &[Category::Drugs]);
        assert!(s.flagged);
        assert!(s.score >= WATCHLIST_FLOOR);
        assert_eq!(s.categories.first(), Some(&Category::Drugs));
        assert!(s.severity >= Severity::Medium);
    }

    #[test]
    fn expiry_is_read_from_rfc3339() {
        let now = OffsetDateTime::now_utc();
        assert!(expired(Some("2000-01-01T00:00:00Z"), now));
        assert!(!expired(Some("2999-01-01T00:00:00Z"), now));
        assert!(!expired(None, now));
    }
}
