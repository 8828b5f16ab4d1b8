//! Cases: create from posts, move through `patroli_core::workflow::CaseState`, notes, sharing,
//! members, suspects, seizures, lab tests, evidence capture and the evidence package.
//!
//! The `ops` functions hold the rules and are shared by the JSON handlers below and the pages.

use super::{CaseRead, CaseWork, Wf, bad, member, parse_id, visible_case};
use crate::AppState;
use crate::api::fmt_time;
use crate::auth::{self, Authed, Principal};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use patroli_core::evidence::{CustodyEvent, PackageInput, PostSnapshot, build_package};
use patroli_core::workflow::{CaseAction, CaseOutcome};
use patroli_core::{AgencyId, CaseId, Category, PostId, Role};
use patroli_store::{CaseRecord, LabTest, NewCase, NewPart, Seizure, Suspect};
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) mod ops {
    use super::*;

    /// Posts the caller may put in a case: known and inside their region scope.
    pub async fn visible_posts(
        state: &AppState,
        who: &Principal,
        ids: &[String],
    ) -> ApiResult<Vec<PostId>> {
        let mut out = Vec::new();
        for id in ids {
            let post: PostId = parse_id(id.trim())?;
            let rec = state
                .store()
                .get_post(post)
                .await?
                .ok_or_else(ApiError::not_found)?;
            if !who.may_see_region(rec.region_code.as_deref()) {
                return Err(ApiError::not_found());
            }
            if !out.contains(&post) {
                out.push(post);
            }
        }
        Ok(out)
    }

    pub async fn create(
        state: &AppState,
        wf: &super::super::Workflow,
        who: &Principal,
        body: CreateCase,
    ) -> ApiResult<CaseRecord> {
        let title = body.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(ApiError::bad_param("title", "1 to 200 characters"));
        }
        let category: Category = body
            .category
            .parse()
            .map_err(|e| ApiError::bad_param("category", e))?;
        for l in &body.legal_basis {
            if wf.legal.get(l).is_none() {
                return Err(
                    ApiError::bad_param("legal_basis", format!("unknown article `{l}`"))
                        .hint("GET /api/v1/legal-basis lists the article ids."),
                );
            }
        }
        let posts = visible_posts(state, who, &body.post_ids).await?;
        let me = member(state, who).await?;
        let case = state
            .store()
            .create_case(NewCase {
                title: title.to_string(),
                category,
                lead_agency: me.agency,
                lead_unit: me.unit,
                region_code: who.scope.clone().or(me.unit_region),
                legal_basis: body.legal_basis.clone(),
                created_by: who.actor.clone(),
                creator: who.user_id,
                posts: posts.clone(),
            })
            .await?;
        for name in &body.investigators {
            assign(state, who, &case, name).await?;
        }
        auth::audit(
            state,
            &who.actor,
            "case.create",
            Some(format!("case:{}", case.id)),
            json!({"title": case.title, "posts": posts, "agency": me.agency_name}),
        )
        .await;
        for p in &posts {
            super::super::hooks::deconflict_post(state, *p, None).await;
        }
        Ok(case)
    }

    pub async fn assign(
        state: &AppState,
        who: &Principal,
        case: &CaseRecord,
        username: &str,
    ) -> ApiResult<()> {
        let user = state
            .store()
            .get_user_by_username(username.trim())
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(|| ApiError::bad_param("investigators", "unknown user"))?;
        state.store().add_case_member(case.id, user.id).await?;
        state
            .store()
            .add_case_event(
                case.id,
                &who.actor,
                "member",
                json!({"user": user.username}),
            )
            .await?;
        auth::audit(
            state,
            &who.actor,
            "case.assign",
            Some(format!("case:{}", case.id)),
            json!({"user": user.id}),
        )
        .await;
        Ok(())
    }

    pub async fn share(
        state: &AppState,
        who: &Principal,
        case: &CaseRecord,
        agency: &str,
        reason: &str,
    ) -> ApiResult<()> {
        if reason.trim().is_empty() {
            return Err(ApiError::bad_param("reason", "say why the case is shared"));
        }
        let agency = self::agency(state, agency).await?;
        state
            .store()
            .share_case(case.id, agency, None, &who.actor)
            .await?;
        let detail = json!({"agency": agency, "reason": reason.trim()});
        state
            .store()
            .add_case_event(case.id, &who.actor, "shared", detail.clone())
            .await?;
        auth::audit(
            state,
            &who.actor,
            "case.share",
            Some(format!("case:{}", case.id)),
            detail,
        )
        .await;
        Ok(())
    }

    /// Resolves an agency by id or by name.
    pub async fn agency(state: &AppState, key: &str) -> ApiResult<AgencyId> {
        let store = state.store();
        if let Ok(id) = key.trim().parse::<AgencyId>()
            && let Some(a) = store.get_agency(id).await?
        {
            return Ok(a.id);
        }
        store
            .get_agency_by_name(key.trim())
            .await?
            .map(|a| a.id)
            .ok_or_else(|| ApiError::bad_param("to_agency", "unknown agency"))
    }

    pub async fn act(
        state: &AppState,
        who: &Principal,
        mut case: CaseRecord,
        body: ActionBody,
    ) -> ApiResult<CaseRecord> {
        let action = match body.action.as_str() {
            "start_investigation" => CaseAction::StartInvestigation,
            "refer" => CaseAction::Refer {
                to_agency: agency(
                    state,
                    body.to_agency
                        .as_deref()
                        .ok_or_else(|| ApiError::bad_param("to_agency", "required to refer"))?,
                )
                .await?,
                reason: body.reason.clone().unwrap_or_default(),
            },
            "close" => CaseAction::Close {
                outcome: body
                    .outcome
                    .as_deref()
                    .ok_or_else(|| ApiError::bad_param("outcome", "required to close"))?
                    .parse::<CaseOutcome>()
                    .map_err(|e| ApiError::bad_param("outcome", e))?,
            },
            other => {
                return Err(ApiError::bad_param(
                    "action",
                    format!("unknown action `{other}` (start_investigation, refer, close)"),
                ));
            }
        };
        let now = time::OffsetDateTime::now_utc();
        let next = case.state.apply(&action, now).map_err(|e| {
            ApiError::with_message(crate::error::ErrorCode::Conflict, e.to_string())
        })?;
        if let CaseAction::Refer { to_agency, .. } = &action {
            // The receiving agency must see what it now leads.
            state
                .store()
                .share_case(case.id, *to_agency, None, &who.actor)
                .await?;
        }
        if next.outcome == Some(CaseOutcome::Guidance) {
            case.letter = Some(guidance_letter(state, &case, body.reason.as_deref()).await?);
        }
        case.state = next;
        state.store().save_case(&case).await?;
        let detail = json!({
            "action": action.name(),
            "status": case.state.status,
            "outcome": case.state.outcome,
            "reason": body.reason,
            "to_agency": body.to_agency,
        });
        state
            .store()
            .add_case_event(case.id, &who.actor, "status", detail.clone())
            .await?;
        auth::audit(
            state,
            &who.actor,
            "case.status",
            Some(format!("case:{}", case.id)),
            detail,
        )
        .await;
        Ok(case)
    }

    /// The pembinaan letter, from the template beside this file.
    async fn guidance_letter(
        state: &AppState,
        case: &CaseRecord,
        note: Option<&str>,
    ) -> ApiResult<String> {
        let agency = state
            .store()
            .get_agency(case.state.lead_agency)
            .await?
            .map(|a| a.name)
            .unwrap_or_default();
        let mut accounts = Vec::new();
        for p in state.store().case_posts(case.id).await? {
            if let Some(rec) = state.store().get_post(p).await?
                && let Some(h) = rec.account_handle
            {
                let line = format!("{} @ {}", h, rec.platform);
                if !accounts.contains(&line) {
                    accounts.push(line);
                }
            }
        }
        let date = time::OffsetDateTime::now_utc().date().to_string();
        Ok(fill_template(
            include_str!("guidance_letter.txt"),
            &[
                ("agency", &agency),
                ("date", &date),
                ("case_id", &case.id.to_string()),
                ("title", &case.title),
                ("accounts", &accounts.join(", ")),
                ("note", note.unwrap_or("").trim()),
            ],
        ))
    }

    /// Replaces `{name}` placeholders in one pass over the template, so a value that itself
    /// contains `{note}` or `{accounts}` (a case title is free text) is written as given, never
    /// expanded. Unknown placeholders stay as they are.
    pub(crate) fn fill_template(template: &str, values: &[(&str, &str)]) -> String {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let value = after.find('}').and_then(|close| {
                let name = &after[..close];
                values
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v, close))
            });
            match value {
                Some((v, close)) => {
                    out.push_str(v);
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    pub async fn note(
        state: &AppState,
        who: &Principal,
        case: &CaseRecord,
        text: &str,
    ) -> ApiResult<()> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 5000 {
            return Err(ApiError::bad_param("text", "1 to 5000 characters"));
        }
        state
            .store()
            .add_case_event(case.id, &who.actor, "note", json!({"text": text}))
            .await?;
        Ok(())
    }

    /// Freezes each post as its own evidence item, then the attachments as one more item.
    /// `posts`: `None` for every post of the case.
    pub async fn capture(
        state: &AppState,
        who: &Principal,
        case: &CaseRecord,
        posts: Option<Vec<PostId>>,
        note: &str,
        attachments: Vec<NewPart>,
    ) -> ApiResult<Vec<patroli_core::evidence::EvidenceItem>> {
        let store = state.store();
        let posts = match posts {
            None => store.case_posts(case.id).await?,
            Some(posts) => {
                let in_case = store.case_posts(case.id).await?;
                if let Some(p) = posts.iter().find(|p| !in_case.contains(p)) {
                    return Err(ApiError::bad_param(
                        "post_ids",
                        format!("post {p} is not part of this case"),
                    ));
                }
                posts
            }
        };
        if posts.is_empty() && attachments.is_empty() {
            return Err(bad(
                "nothing to capture: the case has no posts and no file was sent",
            ));
        }
        let mut items = Vec::new();
        let note = if note.trim().is_empty() {
            "post snapshot"
        } else {
            note.trim()
        };
        for p in posts {
            let Some(rec) = store.get_post(p).await? else {
                continue;
            };
            let snap = PostSnapshot {
                post_id: rec.id,
                platform: rec.platform.clone(),
                platform_post_id: Some(rec.external_id.clone()),
                url: rec.url.clone(),
                account_handle: rec.account_handle.clone(),
                platform_account_id: rec.account_id.map(|a| a.to_string()),
                title: rec.title.clone(),
                text: rec.text.clone(),
                location_text: rec.location.clone(),
                posted_at: rec.posted_at,
                ingested_at: rec.first_seen,
            };
            let item = store
                .capture_evidence(
                    case.id,
                    &who.name,
                    note,
                    vec![NewPart {
                        name: patroli_core::evidence::SNAPSHOT_NAME.into(),
                        media_type: patroli_core::evidence::SNAPSHOT_MEDIA_TYPE.into(),
                        bytes: snap.to_json_bytes(),
                    }],
                )
                .await?;
            items.push(item);
        }
        if !attachments.is_empty() {
            items.push(
                store
                    .capture_evidence(case.id, &who.name, note, attachments)
                    .await?,
            );
        }
        for item in &items {
            let detail = json!({"item": item.id, "seq": item.seq, "hash": item.hash,
                "parts": item.parts.iter().map(|p| &p.name).collect::<Vec<_>>()});
            store
                .add_case_event(case.id, &who.actor, "evidence", detail.clone())
                .await?;
            auth::audit(
                state,
                &who.actor,
                "evidence.capture",
                Some(format!("case:{}", case.id)),
                detail,
            )
            .await;
        }
        Ok(items)
    }

    /// The zip built by `patroli_core::evidence::build_package`, with the custody log.
    pub async fn export(
        state: &AppState,
        who: &Principal,
        case: &CaseRecord,
    ) -> ApiResult<Vec<u8>> {
        let store = state.store();
        let items = store.evidence_items(case.id).await?;
        let parts = store.evidence_parts(case.id).await?;
        let now = time::OffsetDateTime::now_utc();
        let mut custody: Vec<CustodyEvent> = items
            .iter()
            .map(|i| CustodyEvent {
                at: i.captured_at,
                actor: i.captured_by.clone(),
                action: "captured".into(),
                item: Some(i.id),
                note: i.note.clone(),
            })
            .collect();
        for e in store.case_events(case.id).await? {
            if e.kind == "evidence_export" {
                custody.push(CustodyEvent {
                    at: e.at,
                    actor: e.detail["by"].as_str().unwrap_or(&e.actor).to_string(),
                    action: "exported".into(),
                    item: None,
                    note: String::new(),
                });
            }
        }
        custody.push(CustodyEvent {
            at: now,
            actor: who.name.clone(),
            action: "exported".into(),
            item: None,
            note: "this package".into(),
        });
        custody.sort_by_key(|c| c.at);
        let files: Vec<(patroli_core::EvidenceId, &str, &[u8])> = parts
            .iter()
            .map(|p| (p.item, p.name.as_str(), p.bytes.as_slice()))
            .collect();
        let zip = build_package(&PackageInput {
            case_id: case.id,
            case_title: &case.title,
            exported_by: &who.name,
            exported_at: now,
            items: &items,
            files: &files,
            custody: &custody,
        })
        .map_err(ApiError::internal)?;
        store
            .add_case_event(
                case.id,
                &who.actor,
                "evidence_export",
                json!({"by": who.name, "items": items.len(), "chain_head": case.chain_head}),
            )
            .await?;
        auth::audit(
            state,
            &who.actor,
            "evidence.export",
            Some(format!("case:{}", case.id)),
            json!({"items": items.len(), "chain_head": case.chain_head, "bytes": zip.len()}),
        )
        .await;
        Ok(zip)
    }

    /// The case as JSON for its agencies (never shown to others).
    pub async fn detail_json(state: &AppState, case: &CaseRecord) -> ApiResult<Value> {
        let store = state.store();
        let agencies = store.case_agencies(case.id).await?;
        let mut agency_names = Vec::new();
        for a in &agencies {
            if let Some(rec) = store.get_agency(a.agency_id).await? {
                agency_names
                    .push(json!({"agency_id": rec.id, "name": rec.name, "unit_id": a.unit_id}));
            }
        }
        let mut members = Vec::new();
        for u in store.case_members(case.id).await? {
            if let Some(rec) = store.get_user(u).await? {
                members.push(json!({"user_id": rec.id, "username": rec.username}));
            }
        }
        let items = store.evidence_items(case.id).await?;
        let takedowns = store
            .list_takedowns(&patroli_store::TakedownFilter {
                case_id: Some(case.id),
                ..Default::default()
            })
            .await?;
        Ok(json!({
            "case_id": case.id,
            "title": case.title,
            "category": case.category,
            "status": case.state.status,
            "state": case.state,
            "lead_unit": case.lead_unit,
            "region_code": case.region_code,
            "legal_basis": case.legal_basis,
            "created_by": case.created_by,
            "created_at": fmt_time(case.created_at),
            "allowed_actions": case.state.allowed_actions(),
            "letter": case.letter,
            "chain_head": case.chain_head,
            "agencies": agency_names,
            "investigators": members,
            "post_ids": store.case_posts(case.id).await?,
            "account_ids": store.case_accounts(case.id).await?,
            "suspects": store.suspects(case.id).await?,
            "seizures": store.seizures(case.id).await?,
            "lab_tests": store.lab_tests(case.id).await?,
            "evidence": items,
            "takedowns": takedowns.iter().map(|t| json!({"takedown_id": t.id, "status": t.status, "due_at": fmt_time(t.due_at)})).collect::<Vec<_>>(),
            "notices": store.case_notices(case.id).await?,
            "agency_notices": store.agency_notices_of_case(case.id).await?,
            "reuploads": store.reuploads_of_case(case.id).await?,
            "timeline": store.case_events(case.id).await?,
        }))
    }
}

// ---------------------------------------------------------------------------------------------
// JSON handlers
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCase {
    pub title: String,
    pub category: String,
    #[serde(default)]
    pub post_ids: Vec<String>,
    #[serde(default)]
    pub legal_basis: Vec<String>,
    /// User names of investigators to assign besides the creator.
    #[serde(default)]
    pub investigators: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionBody {
    pub action: String,
    #[serde(default)]
    pub to_agency: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub outcome: Option<String>,
}

pub(super) async fn legal_basis(Extension(wf): Wf, _who: Authed<CaseRead>) -> Response {
    Json(&wf.legal).into_response()
}

use axum::Extension;

pub(super) async fn list(
    State(state): State<AppState>,
    who: Authed<CaseRead>,
) -> ApiResult<Json<Value>> {
    let agency = if who.role == Role::Admin {
        None
    } else {
        Some(member(&state, &who).await?.agency)
    };
    let mut cases = state.store().list_cases(agency).await?;
    if let Some(user) = who.user_id
        && who.role != Role::Admin
    {
        // Cases the caller was assigned to personally, led by another agency.
        for c in state.store().list_cases(None).await? {
            if !cases.iter().any(|x| x.id == c.id)
                && state.store().case_members(c.id).await?.contains(&user)
            {
                cases.push(c);
            }
        }
    }
    // The agency's list holds cases led by or given to another unit of the agency: keep the
    // ones the caller may open, so the list shows no title the detail would answer 404 for.
    let mut visible = Vec::with_capacity(cases.len());
    for c in cases {
        if super::may_see_case(&state, &who, &c).await? {
            visible.push(c);
        }
    }
    let cases = visible;
    Ok(Json(json!({
        "items": cases.iter().map(|c| json!({
            "case_id": c.id, "title": c.title, "category": c.category,
            "status": c.state.status, "region_code": c.region_code,
            "created_at": fmt_time(c.created_at),
        })).collect::<Vec<_>>()
    })))
}

pub(super) async fn create(
    State(state): State<AppState>,
    Extension(wf): Wf,
    who: Authed<CaseWork>,
    body: Result<Json<CreateCase>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(body) = body?;
    let case = ops::create(&state, &wf, &who, body).await?;
    Ok((StatusCode::CREATED, Json(json!({"case_id": case.id}))).into_response())
}

/// Deconfliction notices addressed to the caller's agency.
pub(super) async fn notices(
    State(state): State<AppState>,
    who: Authed<CaseRead>,
) -> ApiResult<Json<Value>> {
    let me = member(&state, &who).await?;
    let items = state.store().agency_notices(me.agency).await?;
    Ok(Json(json!({ "items": items })))
}

pub(super) async fn detail(
    State(state): State<AppState>,
    who: Authed<CaseRead>,
    Path(case_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
    Ok(Json(ops::detail_json(&state, &case).await?))
}

pub(super) async fn action(
    State(state): State<AppState>,
    who: Authed<CaseWork>,
    Path(case_id): Path<String>,
    body: Result<Json<ActionBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(body) = body?;
    let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
    let case = ops::act(&state, &who, case, body).await?;
    Ok(Json(json!({
        "case_id": case.id, "status": case.state.status, "outcome": case.state.outcome,
        "letter": case.letter,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NoteBody {
    text: String,
}

pub(super) async fn note(
    State(state): State<AppState>,
    who: Authed<CaseWork>,
    Path(case_id): Path<String>,
    body: Result<Json<NoteBody>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(body) = body?;
    let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
    ops::note(&state, &who, &case, &body.text).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PostsBody {
    post_ids: Vec<String>,
}

pub(super) async fn add_posts(
    State(state): State<AppState>,
    who: Authed<CaseWork>,
    Path(case_id): Path<String>,
    body: Result<Json<PostsBody>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(body) = body?;
    let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
    let posts = ops::visible_posts(&state, &who, &body.post_ids).await?;
    state
        .store()
        .add_case_posts(case.id, &posts, &who.actor)
        .await?;
    state
        .store()
        .add_case_event(case.id, &who.actor, "posts", json!({"added": posts}))
        .await?;
    for p in &posts {
        super::hooks::deconflict_post(&state, *p, None).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ShareBody {
    agency: String,
    reason: String,
}

/// Sharing is explicit and audited: the other agency then sees the whole case.
pub(super) async fn share(
    State(state): State<AppState>,
    who: Authed<CaseWork>,
    Path(case_id): Path<String>,
    body: Result<Json<ShareBody>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(body) = body?;
    let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
    ops::share(&state, &who, &case, &body.agency, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MemberBody {
    username: String,
}

pub(super) async fn add_member(
    State(state): State<AppState>,
    who: Authed<CaseWork>,
    Path(case_id): Path<String>,
    body: Result<Json<MemberBody>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(body) = body?;
    let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
    ops::assign(&state, &who, &case, &body.username).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SuspectBody {
    name: String,
    role: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn add_suspect(
    State(state): State<AppState>,
    who: Authed<CaseWork>,
    Path(case_id): Path<String>,
    body: Result<Json<SuspectBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(b) = body?;
    if b.name.trim().is_empty() || b.role.trim().is_empty() {
        return Err(bad("`name` and `role` are required"));
    }
    let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
    let s = Suspect {
        id: uuid::Uuid::now_v7(),
        name: b.name.trim().into(),
        role: b.role.trim().into(),
        note: b.note.trim().into(),
    };
    state.store().add_suspect(case.id, &s).await?;
    record(
        &state,
        &who,
        &case,
        "suspect",
        json!({"suspect": s.id, "role": s.role}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!({"suspect_id": s.id}))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SeizureBody {
    item: String,
    quantity: f64,
    unit: String,
    #[serde(default)]
    value_rupiah: Option<i64>,
}

pub(super) async fn add_seizure(
    State(state): State<AppState>,
    who: Authed<CaseWork>,
    Path(case_id): Path<String>,
    body: Result<Json<SeizureBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(b) = body?;
    if b.item.trim().is_empty() || !(b.quantity.is_finite() && b.quantity > 0.0) {
        return Err(bad("`item` is required and `quantity` must be positive"));
    }
    if b.value_rupiah.is_some_and(|v| v < 0) {
        return Err(ApiError::bad_param("value_rupiah", "cannot be negative"));
    }
    let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
    let s = Seizure {
        id: uuid::Uuid::now_v7(),
        item: b.item.trim().into(),
        quantity: b.quantity,
        unit: b.unit.trim().into(),
        value_rupiah: b.value_rupiah,
    };
    state.store().add_seizure(case.id, &s).await?;
    record(
        &state,
        &who,
        &case,
        "seizure",
        json!({"seizure": s.id, "item": s.item, "quantity": s.quantity, "unit": s.unit, "value_rupiah": s.value_rupiah}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!({"seizure_id": s.id}))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LabTestBody {
    lab: String,
    substance: String,
    method: String,
    tested_on: String,
    /// The lab's report file (base64), stored as an evidence item of the case.
    #[serde(default)]
    report: Option<Attachment>,
}

pub(super) async fn add_lab_test(
    State(state): State<AppState>,
    who: Authed<CaseWork>,
    Path(case_id): Path<String>,
    body: Result<Json<LabTestBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(b) = body?;
    if b.lab.trim().is_empty() || b.substance.trim().is_empty() {
        return Err(bad("`lab` and `substance` are required"));
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(b.tested_on.trim(), &fmt)
        .map_err(|_| ApiError::bad_param("tested_on", "expected YYYY-MM-DD"))?;
    let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
    let report_evidence_id = match b.report {
        Some(a) => {
            let part = a.decode()?;
            let items = ops::capture(
                &state,
                &who,
                &case,
                Some(Vec::new()),
                "lab report",
                vec![part],
            )
            .await;
            items?.last().map(|i| i.id)
        }
        None => None,
    };
    let t = LabTest {
        id: uuid::Uuid::now_v7(),
        lab: b.lab.trim().into(),
        substance: b.substance.trim().into(),
        method: b.method.trim().into(),
        tested_on: b.tested_on.trim().into(),
        report_evidence_id,
    };
    state.store().add_lab_test(case.id, &t).await?;
    record(
        &state,
        &who,
        &case,
        "lab_test",
        json!({"lab_test": t.id, "lab": t.lab, "substance": t.substance, "method": t.method, "tested_on": t.tested_on}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!({"lab_test_id": t.id}))).into_response())
}

async fn record(
    state: &AppState,
    who: &Principal,
    case: &CaseRecord,
    kind: &str,
    detail: Value,
) -> ApiResult<()> {
    state
        .store()
        .add_case_event(case.id, &who.actor, kind, detail.clone())
        .await?;
    auth::audit(
        state,
        &who.actor,
        &format!("case.{kind}"),
        Some(format!("case:{}", case.id)),
        detail,
    )
    .await;
    Ok(())
}

/// A file sent inside JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Attachment {
    pub name: String,
    #[serde(default = "default_media_type")]
    pub media_type: String,
    pub content_base64: String,
}

fn default_media_type() -> String {
    "application/octet-stream".into()
}

impl Attachment {
    pub fn decode(self) -> ApiResult<NewPart> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.content_base64.trim())
            .map_err(|_| ApiError::bad_param("content_base64", "not valid base64"))?;
        Ok(NewPart {
            name: self.name,
            media_type: self.media_type,
            bytes,
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct CaptureBody {
    #[serde(default)]
    post_ids: Vec<String>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    attachments: Vec<Attachment>,
}

/// Evidence capture: JSON (`post_ids`, `note`, base64 `attachments`) or `multipart/form-data`
/// (fields `note` and `post_id`, any number of files).
pub(super) async fn capture(
    State(state): State<AppState>,
    who: Authed<CaseWork>,
    Path(case_id): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (post_ids, note, parts) = if let Some(b) = super::multipart::boundary(content_type) {
        let mut post_ids = Vec::new();
        let mut note = String::new();
        let mut files = Vec::new();
        for p in super::multipart::parse(&body, &b).map_err(bad)? {
            match (p.filename, p.name.as_str()) {
                (Some(filename), _) => files.push(NewPart {
                    name: filename,
                    media_type: p.media_type,
                    bytes: p.bytes,
                }),
                (None, "note") => note = String::from_utf8_lossy(&p.bytes).into_owned(),
                (None, "post_id") => post_ids.push(String::from_utf8_lossy(&p.bytes).into_owned()),
                (None, other) => {
                    return Err(ApiError::bad_param(
                        other,
                        "unknown field (note, post_id, files)",
                    ));
                }
            }
        }
        (post_ids, note, files)
    } else if content_type.starts_with("application/json") {
        let body: CaptureBody = serde_json::from_slice(&body).map_err(|e| {
            ApiError::with_message(crate::error::ErrorCode::InvalidJson, e.to_string())
        })?;
        let parts = body
            .attachments
            .into_iter()
            .map(Attachment::decode)
            .collect::<ApiResult<Vec<_>>>()?;
        (body.post_ids, body.note, parts)
    } else {
        return Err(ApiError::new(crate::error::ErrorCode::UnsupportedMediaType)
            .hint("Send application/json or multipart/form-data."));
    };
    let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
    let posts = post_ids
        .iter()
        .map(|p| parse_id::<PostId>(p.trim()))
        .collect::<ApiResult<Vec<_>>>()?;
    // No post ids and no files: every post of the case. Files only: just the files.
    let posts = match (posts.is_empty(), parts.is_empty()) {
        (true, true) => None,
        _ => Some(posts),
    };
    let items = ops::capture(&state, &who, &case, posts, &note, parts).await?;
    let head = items.last().map(|i| i.hash.clone());
    Ok((
        StatusCode::CREATED,
        Json(json!({"items": items, "chain_head": head})),
    )
        .into_response())
}

pub(super) async fn export(
    State(state): State<AppState>,
    who: Authed<CaseRead>,
    Path(case_id): Path<String>,
) -> ApiResult<Response> {
    let case = visible_case(&state, &who, parse_id::<CaseId>(&case_id)?).await?;
    let zip = ops::export(&state, &who, &case).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"patroli-case-{}.zip\"", case.id),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (
                header::HeaderName::from_static("x-patroli-chain-head"),
                case.chain_head.clone(),
            ),
        ],
        zip,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::ops::fill_template;

    #[test]
    fn template_values_are_never_expanded_again() {
        let letter = fill_template(
            "Perihal: {title}\nCatatan: {note}\n{unknown} {",
            &[("title", "Pil {note} {accounts}"), ("note", "pertama kali")],
        );
        assert_eq!(
            letter,
            "Perihal: Pil {note} {accounts}\nCatatan: pertama kali\n{unknown} {"
        );
    }

    #[test]
    fn the_guidance_letter_has_only_known_placeholders() {
        let names = ["agency", "date", "case_id", "title", "accounts", "note"];
        let values: Vec<(&str, &str)> = names.iter().map(|n| (*n, "X")).collect();
        let letter = fill_template(include_str!("guidance_letter.txt"), &values);
        assert!(!letter.contains('{'), "{letter}");
    }
}
