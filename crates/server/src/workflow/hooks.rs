//! What the workflow does after other parts of the server succeed, kept in one small middleware so
//! the review and ingest handlers stay unaware of cases:
//!
//! - after a verdict confirms a post: freeze it as evidence in every case holding it, and run
//!   deconfliction (tell both agencies when its account or contacts sit in another agency's case);
//! - after ingest: flag posts whose normalized text, account or contacts match content already
//!   taken down, and link them to the earlier case.
//!
//! Failures here are logged, never turned into an error for the request that already succeeded.

use crate::AppState;
use crate::auth::{self, Principal};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use patroli_core::{CaseId, FindingStatus, PostId};
use patroli_store::{AgencyNotice, CaseNotice, Reupload};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// Middleware for the whole router (installed in `lib.rs`).
pub async fn hooks(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    let verdict_post = verdict_target(&path);
    let is_ingest = path == "/api/v1/posts";
    let is_bulk_api = path == "/api/v1/verdicts";
    let is_bulk_page = path == "/antrian/keputusan";
    if verdict_post.is_none() && !is_ingest && !is_bulk_api && !is_bulk_page {
        return next.run(req).await;
    }
    // Who decides matters for deconfliction: their agency is told, and named to the other side.
    let (parts, body) = req.into_parts();
    let who = if is_ingest {
        None
    } else {
        auth::principal(&parts, &state).await.ok().flatten()
    };
    let req = Request::from_parts(parts, body);
    // The queue page's bulk form names its posts only in the request body: read it (the CSRF guard
    // already bounded it to 1 MiB) and hand it on unchanged.
    let (req, bulk_form_posts) = if is_bulk_page {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, 1024 * 1024).await {
            Ok(b) => b,
            Err(_) => {
                return crate::error::ApiError::new(crate::error::ErrorCode::PayloadTooLarge)
                    .into_response();
            }
        };
        let posts: Vec<PostId> = auth::serde_urlencoded_pairs(&bytes)
            .into_iter()
            .filter(|(k, _)| k == "post_id")
            .filter_map(|(_, v)| v.parse().ok())
            .collect();
        (Request::from_parts(parts, Body::from(bytes)), posts)
    } else {
        (req, Vec::new())
    };
    let res = next.run(req).await;
    if !(res.status().is_success() || res.status().is_redirection()) {
        return res;
    }
    if let Some(post) = verdict_post {
        after_verdict(&state, post, who.as_ref()).await;
        return res;
    }
    for post in bulk_form_posts {
        after_verdict(&state, post, who.as_ref()).await;
    }
    if is_bulk_page {
        return res;
    }
    // Ingest and bulk verdicts: read the results to learn which posts changed, then hand the
    // body on.
    let (parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "workflow hook could not read a response");
            return Response::from_parts(parts, Body::empty());
        }
    };
    let value = serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null);
    let mut results = if is_bulk_api {
        value["results"].as_array().cloned().unwrap_or_default()
    } else {
        value.as_array().cloned().unwrap_or_default()
    };
    if is_ingest {
        // Only new content can be a re-upload, and only once something was taken down: keeps
        // the hook to one cheap query per batch in the common case.
        results.retain(|r| r["status"] != "unchanged");
        if results.is_empty() || !state.store().any_taken_down().await.unwrap_or(true) {
            results.clear();
        }
    }
    for r in results {
        let Some(id) = r["post_id"].as_str().and_then(|s| s.parse::<PostId>().ok()) else {
            continue;
        };
        if is_bulk_api {
            if r.get("verdict_id").is_some() {
                after_verdict(&state, id, who.as_ref()).await;
            }
        } else {
            check_reupload(&state, id).await;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// `/api/v1/posts/{id}/verdict` or the page's `/posts/{id}/verdict`.
fn verdict_target(path: &str) -> Option<PostId> {
    let rest = path
        .strip_prefix("/api/v1/posts/")
        .or_else(|| path.strip_prefix("/posts/"))?;
    let id = rest.strip_suffix("/verdict")?;
    id.parse().ok()
}

async fn after_verdict(state: &AppState, post: PostId, who: Option<&Principal>) {
    let confirmed = match state.store().latest_finding_for_post(post).await {
        Ok(Some(f)) => f.status == FindingStatus::Confirmed,
        _ => false,
    };
    if !confirmed {
        return;
    }
    freeze_in_cases(state, post).await;
    deconflict_post(state, post, who).await;
}

/// A confirmed post is frozen into every case that holds it, so the evidence shows what the
/// analyst saw when deciding.
async fn freeze_in_cases(state: &AppState, post: PostId) {
    let Ok(cases) = state.store().cases_with_post(post).await else {
        return;
    };
    let system = Principal {
        actor: "system:confirmation".into(),
        name: "patroli (konfirmasi)".into(),
        role: patroli_core::Role::Admin,
        user_id: None,
        platform: None,
        scope: None,
        csrf: None,
    };
    for c in cases {
        if let Ok(Some(case)) = state.store().get_case(c).await
            && let Err(e) = super::cases::ops::capture(
                state,
                &system,
                &case,
                Some(vec![post]),
                "confirmed finding",
                Vec::new(),
            )
            .await
        {
            tracing::warn!(error = ?e.message, "could not freeze a confirmed post as evidence");
        }
    }
}

/// Entities a post shares with cases: its account and every extracted contact value.
async fn cases_touching(state: &AppState, post: PostId) -> BTreeSet<(CaseId, String)> {
    let store = state.store();
    let mut out = BTreeSet::new();
    if let Ok(Some(rec)) = store.get_post(post).await
        && let Some(account) = rec.account_id
        && let Ok(cases) = store.cases_with_account(account).await
    {
        let label = format!("account {}", rec.account_handle.unwrap_or_default());
        for c in cases {
            out.insert((c, label.clone()));
        }
    }
    if let Ok(entities) = store.entities_of_post(post).await {
        for e in entities {
            let Ok(hits) = store.find_entity(Some(e.kind), &e.value, 200).await else {
                continue;
            };
            for h in hits {
                if let Ok(cases) = store.cases_with_post(h.post_id).await {
                    for c in cases {
                        out.insert((c, e.value.clone()));
                    }
                }
            }
        }
    }
    out
}

/// Tells every pair of cases led by different agencies that share this post's account or
/// contacts about each other: agency, unit and whom to call, never the other case's content.
/// With `who` (the analyst who confirmed the post), also tells the analyst's agency about every
/// other agency's case on it, and those agencies who confirmed it.
pub(crate) async fn deconflict_post(state: &AppState, post: PostId, who: Option<&Principal>) {
    let touching = cases_touching(state, post).await;
    let store = state.store();
    let mut cases = Vec::new();
    for (id, matched) in &touching {
        if let Ok(Some(c)) = store.get_case(*id).await
            && !cases
                .iter()
                .any(|(x, _): &(patroli_store::CaseRecord, String)| x.id == c.id)
        {
            cases.push((c, matched.clone()));
        }
    }
    if let Some(who) = who
        && who.user_id.is_some()
        && let Ok(me) = super::member(state, who).await
    {
        let my_unit = match me.unit {
            Some(u) => store.get_unit(u).await.ok().flatten().map(|u| u.name),
            None => None,
        };
        let now = time::OffsetDateTime::now_utc();
        for (case, matched) in &cases {
            if case.state.lead_agency == me.agency {
                continue;
            }
            let (agency, unit, contact) = contact_of(state, case).await;
            let to_me = AgencyNotice {
                agency_id: me.agency,
                case_id: None,
                post_id: post,
                other_agency: agency,
                other_unit: unit,
                other_contact: contact,
                other_case_id: Some(case.id),
                matched_on: matched.clone(),
                created_at: now,
            };
            let to_them = AgencyNotice {
                agency_id: case.state.lead_agency,
                case_id: Some(case.id),
                post_id: post,
                other_agency: me.agency_name.clone(),
                other_unit: my_unit.clone(),
                other_contact: who.name.clone(),
                other_case_id: None,
                matched_on: matched.clone(),
                created_at: now,
            };
            for n in [to_me, to_them] {
                if let Err(e) = store.add_agency_notice(&n).await {
                    tracing::warn!(error = %e, "could not store a deconfliction notice");
                }
            }
            auth::audit(
                state,
                "system:deconfliction",
                "agency.notice",
                Some(format!("case:{}", case.id)),
                json!({"confirmed_by_agency": me.agency, "post": post, "matched_on": matched}),
            )
            .await;
        }
    }
    for (a, matched) in &cases {
        for (b, _) in &cases {
            if a.id == b.id || a.state.lead_agency == b.state.lead_agency {
                continue;
            }
            let (agency, unit, contact) = contact_of(state, b).await;
            let notice = CaseNotice {
                case_id: a.id,
                other_case_id: b.id,
                other_agency: agency,
                other_unit: unit,
                other_contact: contact,
                matched_on: matched.clone(),
                created_at: time::OffsetDateTime::now_utc(),
            };
            match store.add_case_notice(&notice).await {
                Ok(()) => {
                    auth::audit(
                        state,
                        "system:deconfliction",
                        "case.notice",
                        Some(format!("case:{}", a.id)),
                        json!({"other_case": b.id, "matched_on": matched}),
                    )
                    .await
                }
                Err(e) => tracing::warn!(error = %e, "could not store a deconfliction notice"),
            }
        }
    }
}

/// Agency name, unit name and the creator's user name of a case.
async fn contact_of(
    state: &AppState,
    case: &patroli_store::CaseRecord,
) -> (String, Option<String>, String) {
    let store = state.store();
    let agency = store
        .get_agency(case.state.lead_agency)
        .await
        .ok()
        .flatten()
        .map(|a| a.name)
        .unwrap_or_default();
    let unit = match case.lead_unit {
        Some(u) => store.get_unit(u).await.ok().flatten().map(|u| u.name),
        None => None,
    };
    let contact = match case
        .created_by
        .strip_prefix("user:")
        .and_then(|u| u.parse().ok())
    {
        Some(u) => store
            .get_user(u)
            .await
            .ok()
            .flatten()
            .map(|u| u.display_name.unwrap_or(u.username))
            .unwrap_or_default(),
        None => case.created_by.clone(),
    };
    (agency, unit, contact)
}

/// The key a re-upload's text is matched on: lower-case letters and digits only, so spacing,
/// punctuation and emoji changes do not hide a copy.
pub(crate) fn text_key(title: Option<&str>, text: &str) -> String {
    let mut s = String::new();
    for c in title
        .unwrap_or("")
        .chars()
        .chain(" ".chars())
        .chain(text.chars())
    {
        for l in c.to_lowercase() {
            if l.is_alphanumeric() {
                s.push(l);
            }
        }
    }
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// `(kind, value)` marks of a post: its text key, account and contacts.
pub(crate) async fn marks_of(state: &AppState, post: PostId) -> Vec<(String, String)> {
    let store = state.store();
    let mut marks = Vec::new();
    if let Ok(Some(rec)) = store.get_post(post).await {
        if rec.text.trim().chars().count() >= 20 {
            marks.push(("text".into(), text_key(rec.title.as_deref(), &rec.text)));
        }
        if let Some(a) = rec.account_id {
            marks.push(("account".into(), a.to_string()));
        }
    }
    if let Ok(entities) = store.entities_of_post(post).await {
        for e in entities {
            let m = ("contact".to_string(), e.value);
            if !marks.contains(&m) {
                marks.push(m);
            }
        }
    }
    marks
}

async fn check_reupload(state: &AppState, post: PostId) {
    let marks = marks_of(state, post).await;
    let Ok(matches) = state.store().find_takedown_marks(&marks).await else {
        return;
    };
    for m in matches {
        if m.earlier_post_id == post {
            continue;
        }
        let r = Reupload {
            post_id: post,
            earlier_post_id: m.earlier_post_id,
            takedown_id: m.takedown_id,
            case_id: m.case_id,
            matched_on: m.kind.clone(),
        };
        if let Err(e) = state.store().record_reupload(&r).await {
            tracing::warn!(error = %e, "could not record a re-upload");
            continue;
        }
        if let Some(c) = m.case_id {
            let _ = state
                .store()
                .add_case_event(
                    c,
                    "system:reupload",
                    "reupload",
                    json!({"post": post, "earlier_post": m.earlier_post_id, "matched_on": m.kind}),
                )
                .await;
        }
        auth::audit(
            state,
            "system:reupload",
            "post.reupload",
            Some(format!("post:{post}")),
            json!({"takedown": m.takedown_id, "earlier_post": m.earlier_post_id, "matched_on": m.kind}),
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_key_ignores_spacing_case_and_punctuation() {
        let a = text_key(Some("Obat"), "Jual pil koplo, COD Tarakan!!");
        let b = text_key(Some("obat"), "jual  pil  koplo cod tarakan 🙏");
        assert_eq!(a, b);
        assert_ne!(a, text_key(Some("obat"), "jual pil koplo cod bulungan"));
    }

    #[test]
    fn verdict_paths_are_recognized() {
        let id = PostId::new();
        assert_eq!(
            verdict_target(&format!("/api/v1/posts/{id}/verdict")),
            Some(id)
        );
        assert_eq!(verdict_target(&format!("/posts/{id}/verdict")), Some(id));
        assert_eq!(verdict_target(&format!("/posts/{id}")), None);
        assert_eq!(verdict_target("/posts/nope/verdict"), None);
    }
}
