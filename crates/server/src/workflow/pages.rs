//! The workflow's pages: the public report form, tracking page and offer check (no log-in), and
//! the staff pages for cases, takedowns and reports. Same frame, escaping and CSP as the review
//! UI; the public forms carry their own double-submit CSRF token because there is no session.

use super::cases::ops as case_ops;
use super::reports::{ReportBody, ops as report_ops};
use super::takedowns::ops as takedown_ops;
use super::{CaseRead, CaseWork, Wf, parse_id, visible_case};
use crate::AppState;
use crate::auth::{self, ClientAddr, PageAuthed, Permission, Principal};
use crate::error::{ApiError, ErrorCode};
use crate::ui::i18n::Lang;
use crate::ui::{csrf_input, form_error, html_response, layout, page_error, safe_href, show_time};
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::extract::{Extension, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use patroli_core::crypto::ReporterContact;
use patroli_core::workflow::{CaseOutcome, ReportStatus, TakedownStatus, is_overdue};
use patroli_core::{CaseId, Category};
use serde::Deserialize;

/// Cookie and field of the public forms' CSRF token.
const PUBLIC_CSRF_COOKIE: &str = "patroli_lapor";
const PUBLIC_CSRF_FIELD: &str = "_lapor";

/// Indonesian or English.
pub(crate) fn tr(lang: Lang, id: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Id => id,
        Lang::En => en,
    }
}

fn report_status_label(lang: Lang, s: ReportStatus) -> &'static str {
    match lang {
        Lang::Id => s.label_id(),
        Lang::En => s.label_en(),
    }
}

/// The caller when a session cookie is present (a logged-in user on a public page): its CSRF
/// token must still go into forms, since the CSRF guard checks every cookie-authenticated POST.
async fn optional_principal(state: &AppState, parts: &Parts) -> Option<Principal> {
    auth::principal(parts, state).await.ok().flatten()
}

/// A fresh token for the public forms, and the cookie that carries it.
fn public_token() -> (String, HeaderValue) {
    let token = hex::encode(rand::random::<[u8; 16]>());
    let cookie =
        format!("{PUBLIC_CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=7200");
    let value = HeaderValue::from_str(&cookie).expect("hex token is a valid header value");
    (token, value)
}

fn public_token_ok(headers: &HeaderMap, given: Option<&str>) -> bool {
    match (auth::cookie(headers, PUBLIC_CSRF_COOKIE), given) {
        (Some(c), Some(g)) => !c.is_empty() && crate::secrets::constant_time_eq(c, g),
        _ => false,
    }
}

fn with_cookie(mut res: Response, cookie: HeaderValue) -> Response {
    res.headers_mut().append(header::SET_COOKIE, cookie);
    res
}

fn category_options(lang: Lang, selected: Option<Category>) -> Markup {
    html! {
        option value="" { (tr(lang, "— pilih —", "— choose —")) }
        @for c in Category::ALL {
            option value=(c.id()) selected[selected == Some(c)] { (lang.category(c)) }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Public: report form, tracking page, offer check
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub(super) struct LaporForm {
    #[serde(default)]
    _lapor: Option<String>,
    #[serde(default)]
    link: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    phone_or_account: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    region_code: Option<String>,
    #[serde(default)]
    contact_name: Option<String>,
    #[serde(default)]
    contact_phone: Option<String>,
    #[serde(default)]
    contact_email: Option<String>,
    #[serde(default)]
    anonymous: Option<String>,
    #[serde(default, rename = "_csrf")]
    _csrf: Option<String>,
}

fn report_form_markup(
    lang: Lang,
    token: &str,
    who: Option<&Principal>,
    prefill: &str,
    error: Option<&str>,
) -> Markup {
    html! {
        h1 { (tr(lang, "Laporkan unggahan ilegal", "Report an illegal post")) }
        p { (tr(lang,
            "Laporan Anda dibaca petugas. Identitas dan kontak Anda dienkripsi dan hanya dapat dilihat penyidik yang menangani laporan. Anda boleh melapor tanpa nama.",
            "Officers read your report. Your identity and contact are encrypted and only the investigator handling the report can see them. You may report anonymously.")) }
        @if let Some(e) = error { p.error #report-error { (e) } }
        form.login #report-form method="post" action="/lapor" {
            input type="hidden" name=(PUBLIC_CSRF_FIELD) value=(token);
            @if let Some(p) = who { (csrf_input(p)) }
            label { (tr(lang, "Tautan unggahan", "Link to the post")) input #link type="url" name="link" maxlength="2000"; }
            label { (tr(lang, "Apa yang Anda lihat", "What you saw")) textarea #text name="text" rows="5" maxlength="10000" { (prefill) } }
            label { (tr(lang, "Nomor telepon atau akun penjual", "Seller's phone number or account")) input #phone_or_account name="phone_or_account" maxlength="200"; }
            label { (tr(lang, "Kategori", "Category")) select #category name="category" { (category_options(lang, None)) } }
            label { (tr(lang, "Kode wilayah (mis. 65 untuk Kalimantan Utara)", "Region code (e.g. 65 for North Kalimantan)")) input #region_code name="region_code" maxlength="20"; }
            fieldset {
                legend { (tr(lang, "Kontak Anda (opsional)", "Your contact (optional)")) }
                label { (tr(lang, "Nama", "Name")) input name="contact_name" maxlength="200"; }
                label { (tr(lang, "Telepon", "Phone")) input name="contact_phone" maxlength="50"; }
                label { (tr(lang, "E-mail", "E-mail")) input name="contact_email" type="email" maxlength="200"; }
                label { input #anonymous type="checkbox" name="anonymous" value="1"; " " (tr(lang, "Kirim tanpa identitas", "Send anonymously")) }
            }
            button #report-submit type="submit" { (tr(lang, "Kirim laporan", "Send report")) }
        }
        p { a href="/lapor/status" { (tr(lang, "Cek status laporan", "Check a report's status")) } " · " a href="/cek" { (tr(lang, "Cek lowongan / penawaran", "Check a job or offer")) } }
    }
}

pub(super) async fn report_form(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    parts: Parts,
) -> Response {
    let who = optional_principal(&state, &parts).await;
    let (token, cookie) = public_token();
    let body = report_form_markup(lang, &token, who.as_ref(), "", None);
    with_cookie(
        html_response(layout(lang, tr(lang, "Lapor", "Report"), None, body)),
        cookie,
    )
}

pub(super) async fn report_submit(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    Extension(wf): Wf,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    form: Result<Form<LaporForm>, FormRejection>,
) -> Response {
    let Form(f) = match form {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    if !public_token_ok(&headers, f._lapor.as_deref()) {
        return page_error(lang, ApiError::new(ErrorCode::CsrfFailed));
    }
    let client = auth::client_addr(&headers, addr, wf.config.trust_forwarded_for);
    if !wf.report_limiter.check(&[format!("report:{client}")]) {
        return page_error(lang, ApiError::new(ErrorCode::RateLimited));
    }
    let contact = ReporterContact {
        name: f.contact_name.clone().filter(|s| !s.trim().is_empty()),
        phone: f.contact_phone.clone().filter(|s| !s.trim().is_empty()),
        email: f.contact_email.clone().filter(|s| !s.trim().is_empty()),
        other: None,
    };
    let body = ReportBody {
        link: f.link.clone(),
        text: f.text.clone(),
        phone_or_account: f.phone_or_account.clone(),
        category: f.category.clone(),
        region_code: f.region_code.clone(),
        contact: Some(contact),
        anonymous: f.anonymous.is_some(),
        channel: None,
    };
    match report_ops::file(&state, &wf, body, "web", None).await {
        Ok(r) => {
            let body = html! {
                h1 { (tr(lang, "Laporan diterima", "Report received")) }
                p { (tr(lang, "Simpan kode pelacakan ini. Hanya dengan kode ini Anda dapat melihat status laporan.", "Keep this tracking code. Only with it can you see the report's status.")) }
                p.tracking { strong #tracking-code { (r.tracking_code) } }
                p { a #status-link href={ "/lapor/status?code=" (r.tracking_code) } { (tr(lang, "Lihat status", "See the status")) } }
            };
            html_response(layout(
                lang,
                tr(lang, "Laporan diterima", "Report received"),
                None,
                body,
            ))
        }
        Err(e) => {
            let (token, cookie) = public_token();
            let body = report_form_markup(
                lang,
                &token,
                None,
                f.text.as_deref().unwrap_or(""),
                Some(&e.message),
            );
            let mut res = html_response(layout(lang, tr(lang, "Lapor", "Report"), None, body));
            *res.status_mut() = e.status();
            with_cookie(res, cookie)
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct StatusQuery {
    #[serde(default)]
    code: Option<String>,
}

pub(super) async fn report_status(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    Extension(wf): Wf,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Query(q): Query<StatusQuery>,
) -> Response {
    let code = q.code.as_deref().map(str::trim).filter(|c| !c.is_empty());
    if code.is_some() && !report_ops::lookup_allowed(&wf, &headers, addr) {
        return page_error(lang, ApiError::new(ErrorCode::RateLimited));
    }
    let result = match code {
        Some(c) => Some(report_ops::by_code(&state, c).await.map(|r| r.status)),
        None => None,
    };
    let body = html! {
        h1 { (tr(lang, "Status laporan", "Report status")) }
        form method="get" action="/lapor/status" {
            label { (tr(lang, "Kode pelacakan", "Tracking code")) input #code name="code" value=(code.unwrap_or("")) placeholder="PTR-XXXX-XXXX" maxlength="20"; }
            button #status-submit type="submit" { (tr(lang, "Cek", "Check")) }
        }
        @match &result {
            Some(Ok(s)) => p { (tr(lang, "Status: ", "Status: ")) strong #report-status data-status=(s.as_str()) { (report_status_label(lang, *s)) } },
            Some(Err(_)) => p.error #report-status-error { (tr(lang, "Kode tidak dikenal. Periksa kembali penulisannya.", "Unknown code. Check how it is written.")) },
            None => {},
        }
    };
    html_response(layout(
        lang,
        tr(lang, "Status laporan", "Report status"),
        None,
        body,
    ))
}

#[derive(Deserialize, Default)]
pub(super) struct CheckForm {
    #[serde(default)]
    text: String,
    #[serde(default, rename = "_csrf")]
    _csrf: Option<String>,
}

fn check_form_markup(lang: Lang, who: Option<&Principal>, text: &str) -> Markup {
    html! {
        h1 { (tr(lang, "Cek lowongan / cek penawaran", "Check a job offer or product offer")) }
        p { (tr(lang,
            "Tempel teks lowongan kerja atau penawaran produk. Kami tunjukkan tanda bahaya yang ditemukan. Teks tidak disimpan kecuali Anda memilih melaporkannya.",
            "Paste a job advert or product offer. We show the warning signs found. The text is not stored unless you choose to report it.")) }
        form.login #check-form method="post" action="/cek" {
            @if let Some(p) = who { (csrf_input(p)) }
            textarea #check-text name="text" rows="8" maxlength="10000" { (text) }
            button #check-submit type="submit" { (tr(lang, "Periksa", "Check")) }
        }
    }
}

pub(super) async fn check_form(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    parts: Parts,
) -> Response {
    let who = optional_principal(&state, &parts).await;
    let body = check_form_markup(lang, who.as_ref(), "");
    html_response(layout(
        lang,
        tr(lang, "Cek penawaran", "Check an offer"),
        None,
        body,
    ))
}

pub(super) async fn check_submit(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    // A logged-in user got past the CSRF guard, which left the caller here: the forms on the
    // result page must carry their CSRF token too, or the guard refuses them.
    who: Option<Extension<Principal>>,
    form: Result<Form<CheckForm>, FormRejection>,
) -> Response {
    let who = who.map(|Extension(p)| p);
    let Form(f) = match form {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    if f.text.trim().is_empty() || f.text.chars().count() > 10_000 {
        return page_error(lang, ApiError::bad_param("text", "1 to 10000 characters"));
    }
    let result = report_ops::check_offer(&state, &f.text);
    let (token, cookie) = public_token();
    let signs: Vec<String> = result["signs"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let body = html! {
        (check_form_markup(lang, who.as_ref(), &f.text))
        h2 { (tr(lang, "Hasil", "Result")) }
        @if result["warning"] == true {
            p.error #check-warning { (tr(lang, "Hati-hati: penawaran ini memiliki tanda bahaya.", "Careful: this offer shows warning signs.")) }
        } @else {
            p #check-ok { (tr(lang, "Tidak ditemukan tanda bahaya yang jelas. Tetap periksa sebelum membayar atau berangkat.", "No clear warning signs found. Still check before paying or leaving.")) }
        }
        @if !signs.is_empty() {
            ul #check-signs { @for s in &signs { li { (s) } } }
        }
        h3 { (tr(lang, "Di mana memeriksa", "Where to check")) }
        ul { @for v in result["verify"].as_array().into_iter().flatten() {
            li { (v["what"].as_str().unwrap_or("")) " " a href=(safe_href(v["where"].as_str().unwrap_or(""))) rel="noopener noreferrer" { (v["where"].as_str().unwrap_or("")) } }
        } }
        h3 { (tr(lang, "Laporkan penawaran ini", "Report this offer")) }
        form method="post" action="/lapor" {
            @if let Some(p) = &who { (csrf_input(p)) }
            input type="hidden" name=(PUBLIC_CSRF_FIELD) value=(token);
            input type="hidden" name="text" value=(f.text);
            input type="hidden" name="anonymous" value="1";
            button #check-report type="submit" { (tr(lang, "Laporkan (tanpa identitas)", "Report it (anonymously)")) }
        }
    };
    with_cookie(
        html_response(layout(
            lang,
            tr(lang, "Cek penawaran", "Check an offer"),
            None,
            body,
        )),
        cookie,
    )
}

// ---------------------------------------------------------------------------------------------
// Staff: cases
// ---------------------------------------------------------------------------------------------

async fn visible_cases(
    state: &AppState,
    who: &Principal,
) -> Result<Vec<patroli_store::CaseRecord>, ApiError> {
    let all = state.store().list_cases(None).await?;
    let mut out = Vec::new();
    for c in all {
        if super::may_see_case(state, who, &c).await? {
            out.push(c);
        }
    }
    Ok(out)
}

pub(super) async fn cases_page(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    Extension(wf): Wf,
    who: PageAuthed<CaseRead>,
) -> Response {
    let cases = match visible_cases(&state, &who).await {
        Ok(c) => c,
        Err(e) => return page_error(lang, e),
    };
    let notices = match super::member(&state, &who).await {
        Ok(me) => state
            .store()
            .agency_notices(me.agency)
            .await
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let may_work = <CaseWork as Permission>::allows(who.role);
    let body = html! {
        h1 { (tr(lang, "Kasus", "Cases")) }
        @if !notices.is_empty() {
            div.notice #my-notices {
                h2 { (tr(lang, "Pemberitahuan dekonfliksi untuk instansi Anda", "Deconfliction notices for your agency")) }
                ul { @for n in &notices { li {
                    (tr(lang, "Unggahan ", "Post ")) a href={ "/posts/" (n.post_id) } { (n.post_id) }
                    " · " strong { (n.other_agency) } @if let Some(u) = &n.other_unit { " / " (u) }
                    " — " (tr(lang, "hubungi ", "contact ")) (n.other_contact) " (" (n.matched_on) ")"
                } } }
            }
        }
        table.cases #cases {
            thead { tr { th { (tr(lang, "Judul", "Title")) } th { (tr(lang, "Kategori", "Category")) } th { "Status" } th { (tr(lang, "Wilayah", "Region")) } th { (tr(lang, "Dibuat", "Created")) } } }
            tbody { @for c in &cases { tr {
                td { a href={ "/kasus/" (c.id) } { (c.title) } }
                td { (lang.category(c.category)) }
                td { (c.state.status.as_str()) }
                td { (c.region_code.as_deref().unwrap_or("—")) }
                td { (show_time(c.created_at)) }
            } } }
        }
        @if may_work {
            h2 { (tr(lang, "Buka kasus baru", "Open a new case")) }
            form.admin #case-form method="post" action="/kasus" {
                (csrf_input(&who))
                label { (tr(lang, "Judul", "Title")) input #case-title name="title" required maxlength="200"; }
                label { (tr(lang, "Kategori", "Category")) select #case-category name="category" required { (category_options(lang, None)) } }
                label { (tr(lang, "ID unggahan (satu per baris)", "Post ids (one per line)")) textarea #case-posts name="post_ids" rows="3" {} }
                label { (tr(lang, "Dasar hukum", "Legal basis")) select #case-legal name="legal_basis" {
                    option value="" { "—" }
                    @for a in &wf.legal.articles { option value=(a.id) { (a.law) " " (a.article) } }
                } }
                button #case-submit type="submit" { (tr(lang, "Buka kasus", "Open case")) }
            }
        }
    };
    html_response(layout(lang, tr(lang, "Kasus", "Cases"), Some(&who), body))
}

#[derive(Deserialize)]
pub(super) struct CaseForm {
    title: String,
    category: String,
    #[serde(default)]
    post_ids: String,
    #[serde(default)]
    legal_basis: String,
}

pub(super) async fn case_create(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    Extension(wf): Wf,
    who: PageAuthed<CaseWork>,
    form: Result<Form<CaseForm>, FormRejection>,
) -> Response {
    let Form(f) = match form {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    let body = super::cases::CreateCase {
        title: f.title,
        category: f.category,
        post_ids: f
            .post_ids
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        legal_basis: Some(f.legal_basis)
            .filter(|l| !l.trim().is_empty())
            .into_iter()
            .collect(),
        investigators: Vec::new(),
    };
    match case_ops::create(&state, &wf, &who, body).await {
        Ok(c) => Redirect::to(&format!("/kasus/{}", c.id)).into_response(),
        Err(e) => page_error(lang, e),
    }
}

pub(super) async fn case_page(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    Extension(wf): Wf,
    who: PageAuthed<CaseRead>,
    Path(case_id): Path<String>,
) -> Response {
    let case = match async { visible_case(&state, &who, parse_id::<CaseId>(&case_id)?).await }.await
    {
        Ok(c) => c,
        Err(e) => return page_error(lang, e),
    };
    let detail = match case_ops::detail_json(&state, &case).await {
        Ok(d) => d,
        Err(e) => return page_error(lang, e),
    };
    let store = state.store();
    let mut posts = Vec::new();
    for p in store.case_posts(case.id).await.unwrap_or_default() {
        if let Ok(Some(rec)) = store.get_post(p).await {
            posts.push(rec);
        }
    }
    let may_work = <CaseWork as Permission>::allows(who.role);
    let now = time::OffsetDateTime::now_utc();
    let takedowns = store
        .list_takedowns(&patroli_store::TakedownFilter {
            case_id: Some(case.id),
            ..Default::default()
        })
        .await
        .unwrap_or_default();
    let body = html! {
        h1 #case-title { (case.title) }
        p { (lang.category(case.category)) " · " span #case-status data-status=(case.state.status.as_str()) { (case.state.status.as_str()) }
            @if let Some(o) = case.state.outcome { " · " (o.as_str()) }
            " · " (case.region_code.as_deref().unwrap_or("—")) }
        @if !case.legal_basis.is_empty() {
            p { (tr(lang, "Dasar hukum: ", "Legal basis: ")) @for (i, l) in case.legal_basis.iter().enumerate() { @if i > 0 { "; " } (wf.legal.cite(l)) } }
        }
        @let notices = detail["notices"].as_array().cloned().unwrap_or_default();
        @if !notices.is_empty() {
            div.notice #notices {
                h2 { (tr(lang, "Pemberitahuan dekonfliksi", "Deconfliction notices")) }
                ul { @for n in &notices { li {
                    (tr(lang, "Instansi lain menangani kasus terkait: ", "Another agency holds a related case: "))
                    strong { (n["other_agency"].as_str().unwrap_or("")) }
                    @if let Some(u) = n["other_unit"].as_str() { " / " (u) }
                    " — " (tr(lang, "hubungi ", "contact ")) (n["other_contact"].as_str().unwrap_or(""))
                    " (" (n["matched_on"].as_str().unwrap_or("")) ")"
                } } }
            }
        }
        @let agency_notices = detail["agency_notices"].as_array().cloned().unwrap_or_default();
        @if !agency_notices.is_empty() {
            div.notice #agency-notices {
                h2 { (tr(lang, "Dikonfirmasi instansi lain", "Confirmed by another agency")) }
                ul { @for n in &agency_notices { li {
                    strong { (n["other_agency"].as_str().unwrap_or("")) }
                    @if let Some(u) = n["other_unit"].as_str() { " / " (u) }
                    " — " (tr(lang, "hubungi ", "contact ")) (n["other_contact"].as_str().unwrap_or(""))
                    " (" (n["matched_on"].as_str().unwrap_or("")) ")"
                } } }
            }
        }
        h2 { (tr(lang, "Unggahan", "Posts")) }
        ul #case-posts { @for p in &posts { li { a href={ "/posts/" (p.id) } { (p.platform) " · " (p.account_handle.as_deref().unwrap_or("—")) } " — " (p.text.chars().take(120).collect::<String>()) } } }
        @let suspects = detail["suspects"].as_array().cloned().unwrap_or_default();
        @let seizures = detail["seizures"].as_array().cloned().unwrap_or_default();
        @let labs = detail["lab_tests"].as_array().cloned().unwrap_or_default();
        @if !suspects.is_empty() {
            h2 { (tr(lang, "Tersangka", "Suspects")) }
            ul #suspects { @for x in &suspects { li { (x["name"].as_str().unwrap_or("")) " — " (x["role"].as_str().unwrap_or("")) } } }
        }
        @if !seizures.is_empty() {
            h2 { (tr(lang, "Barang sitaan", "Seized goods")) }
            ul #seizures { @for x in &seizures { li {
                (x["item"].as_str().unwrap_or("")) ": " (x["quantity"]) " " (x["unit"].as_str().unwrap_or(""))
                @if let Some(v) = x["value_rupiah"].as_i64() { " · Rp " (rupiah(v)) }
            } } }
        }
        @if !labs.is_empty() {
            h2 { (tr(lang, "Uji laboratorium", "Laboratory tests")) }
            ul #lab-tests { @for x in &labs { li {
                (x["lab"].as_str().unwrap_or("")) " · " (x["substance"].as_str().unwrap_or("")) " · " (x["method"].as_str().unwrap_or("")) " · " (x["tested_on"].as_str().unwrap_or(""))
            } } }
        }
        h2 { (tr(lang, "Instansi", "Agencies")) }
        ul #case-agencies { @for a in detail["agencies"].as_array().into_iter().flatten() { li { (a["name"].as_str().unwrap_or("")) } } }
        @if may_work {
            form.admin #share-form method="post" action={ "/kasus/" (case.id) "/bagikan" } {
                (csrf_input(&who))
                input name="agency" required placeholder=(tr(lang, "nama instansi (mis. BNN)", "agency name (e.g. BNN)"));
                input name="reason" required placeholder=(tr(lang, "alasan berbagi", "why share"));
                button type="submit" { (tr(lang, "Bagikan kasus (tercatat di audit)", "Share the case (audited)")) }
            }
        }
        h2 { (tr(lang, "Bukti", "Evidence")) }
        p { (tr(lang, "Kepala rantai: ", "Chain head: ")) code #chain-head { (case.chain_head) } }
        ol #evidence { @for i in detail["evidence"].as_array().into_iter().flatten() {
            li { "#" (i["seq"]) " · " (i["captured_by"].as_str().unwrap_or("")) " · " (i["note"].as_str().unwrap_or(""))
                " · " @for p in i["parts"].as_array().into_iter().flatten() { code { (p["name"].as_str().unwrap_or("")) } " " } }
        } }
        p { a.button #export-evidence href={ "/api/v1/cases/" (case.id) "/evidence.zip" } { (tr(lang, "Ekspor paket bukti (.zip)", "Export evidence package (.zip)")) } }
        @if may_work {
            form.admin #capture-form method="post" action={ "/kasus/" (case.id) "/bukti" } {
                (csrf_input(&who))
                input type="text" name="note" placeholder=(tr(lang, "catatan", "note")) maxlength="500";
                button #capture-evidence type="submit" { (tr(lang, "Bekukan bukti unggahan sekarang", "Freeze the posts as evidence now")) }
            }
        }
        h2 { (tr(lang, "Permintaan takedown", "Takedown requests")) }
        ul #case-takedowns { @for t in &takedowns { li {
            a href={ "/takedown/" (t.id) } { (t.platform) } " · " span.status data-status=(t.status.as_str()) { (t.status.as_str()) } " · " (tr(lang, "tenggat ", "due ")) (show_time(t.due_at))
            @if is_overdue(t.status, t.due_at, now) { " " strong.overdue { (tr(lang, "TERLAMBAT", "OVERDUE")) } }
        } } }
        @if may_work && !posts.is_empty() {
            form.admin #takedown-form method="post" action={ "/kasus/" (case.id) "/takedown" } {
                (csrf_input(&who))
                label { (tr(lang, "Urgensi", "Urgency")) select #takedown-urgency name="urgency" {
                    option value="normal" { (tr(lang, "biasa (24 jam)", "normal (24 hours)")) }
                    option value="urgent" { (tr(lang, "mendesak (4 jam)", "urgent (4 hours)")) }
                } }
                label { (tr(lang, "Dasar hukum", "Legal basis")) select #takedown-legal name="legal_basis" {
                    @for a in &wf.legal.articles { option value=(a.id) selected[a.id == "pp-71-2019"] { (a.law) " " (a.article) } }
                } }
                button #request-takedown type="submit" { (tr(lang, "Minta takedown semua unggahan", "Request takedown of all posts")) }
            }
        }
        @if may_work && !case.state.allowed_actions().is_empty() {
            h2 { (tr(lang, "Status kasus", "Case status")) }
            form.admin #status-form method="post" action={ "/kasus/" (case.id) "/status" } {
                (csrf_input(&who))
                select name="action" { @for a in case.state.allowed_actions() { option value=(a) { (a) } } }
                select name="outcome" { option value="" { "—" } @for o in CaseOutcome::ALL { option value=(o.as_str()) { (o.as_str()) } } }
                input name="to_agency" placeholder=(tr(lang, "instansi tujuan (rujukan)", "receiving agency (referral)"));
                input name="reason" placeholder=(tr(lang, "alasan / catatan", "reason / note"));
                button type="submit" { (tr(lang, "Terapkan", "Apply")) }
            }
        }
        @if let Some(letter) = &case.letter {
            h2 { (tr(lang, "Surat pembinaan", "Guidance letter")) }
            pre #letter { (letter) }
        }
        h2 { (tr(lang, "Linimasa", "Timeline")) }
        @if may_work {
            form.admin #note-form method="post" action={ "/kasus/" (case.id) "/catatan" } {
                (csrf_input(&who))
                input #note-text name="text" required maxlength="5000";
                button type="submit" { (tr(lang, "Tambah catatan", "Add note")) }
            }
        }
        ol #timeline { @for e in detail["timeline"].as_array().into_iter().flatten() {
            li { (e["at"].as_str().unwrap_or("")) " · " (e["kind"].as_str().unwrap_or("")) " · " (e["actor"].as_str().unwrap_or("")) " · " code { (e["detail"].to_string()) } }
        } }
    };
    html_response(layout(lang, &case.title, Some(&who), body))
}

/// `39935000` -> `39.935.000` (Indonesian thousands separator).
fn rupiah(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if v < 0 { format!("-{out}") } else { out }
}

#[derive(Deserialize)]
pub(super) struct ShareForm {
    agency: String,
    reason: String,
}

pub(super) async fn case_share(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<CaseWork>,
    Path(case_id): Path<String>,
    form: Result<Form<ShareForm>, FormRejection>,
) -> Response {
    let Form(f) = match form {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    let result = async {
        let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
        super::cases::ops::share(&state, &who, &case, &f.agency, &f.reason).await?;
        Ok::<_, ApiError>(case)
    }
    .await;
    match result {
        Ok(c) => Redirect::to(&format!("/kasus/{}", c.id)).into_response(),
        Err(e) => page_error(lang, e),
    }
}

#[derive(Deserialize)]
pub(super) struct ActionForm {
    action: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    to_agency: String,
    #[serde(default)]
    reason: String,
}

fn non_empty(s: String) -> Option<String> {
    Some(s).filter(|s| !s.trim().is_empty())
}

pub(super) async fn case_action(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<CaseWork>,
    Path(case_id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let Form(f) = match form {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    let result = async {
        let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
        case_ops::act(
            &state,
            &who,
            case,
            super::cases::ActionBody {
                action: f.action,
                to_agency: non_empty(f.to_agency),
                reason: non_empty(f.reason),
                outcome: non_empty(f.outcome),
            },
        )
        .await
    }
    .await;
    match result {
        Ok(c) => Redirect::to(&format!("/kasus/{}", c.id)).into_response(),
        Err(e) => page_error(lang, e),
    }
}

#[derive(Deserialize)]
pub(super) struct NoteForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn case_note(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<CaseWork>,
    Path(case_id): Path<String>,
    form: Result<Form<NoteForm>, FormRejection>,
) -> Response {
    let Form(f) = match form {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    let result = async {
        let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
        case_ops::note(&state, &who, &case, &f.text).await?;
        Ok::<_, ApiError>(case)
    }
    .await;
    match result {
        Ok(c) => Redirect::to(&format!("/kasus/{}", c.id)).into_response(),
        Err(e) => page_error(lang, e),
    }
}

pub(super) async fn case_capture(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<CaseWork>,
    Path(case_id): Path<String>,
    form: Result<Form<NoteForm>, FormRejection>,
) -> Response {
    let Form(f) = match form {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    let result = async {
        let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
        case_ops::capture(&state, &who, &case, None, &f.note, Vec::new()).await?;
        Ok::<_, ApiError>(case)
    }
    .await;
    match result {
        Ok(c) => Redirect::to(&format!("/kasus/{}", c.id)).into_response(),
        Err(e) => page_error(lang, e),
    }
}

#[derive(Deserialize)]
pub(super) struct TakedownForm {
    urgency: String,
    legal_basis: String,
}

pub(super) async fn case_takedown(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    Extension(wf): Wf,
    who: PageAuthed<CaseWork>,
    Path(case_id): Path<String>,
    form: Result<Form<TakedownForm>, FormRejection>,
) -> Response {
    let Form(f) = match form {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    let result = async {
        let case = visible_case(&state, &who, parse_id(&case_id)?).await?;
        let posts = state.store().case_posts(case.id).await?;
        // One request per platform: a platform only ever sees its own posts.
        let mut by_platform: Vec<(patroli_core::PlatformId, Vec<String>)> = Vec::new();
        for p in posts {
            if let Some(rec) = state.store().get_post(p).await? {
                match by_platform
                    .iter_mut()
                    .find(|(pl, _)| *pl == rec.platform_id)
                {
                    Some((_, v)) => v.push(p.to_string()),
                    None => by_platform.push((rec.platform_id, vec![p.to_string()])),
                }
            }
        }
        for (_, post_ids) in by_platform {
            takedown_ops::create(
                &state,
                &wf,
                &who,
                takedown_ops::Request {
                    post_ids,
                    account_id: None,
                    urgency: f.urgency.clone(),
                    legal_basis: f.legal_basis.clone(),
                    case_id: Some(case.id),
                },
            )
            .await?;
        }
        Ok::<_, ApiError>(case)
    }
    .await;
    match result {
        Ok(c) => Redirect::to(&format!("/kasus/{}", c.id)).into_response(),
        Err(e) => page_error(lang, e),
    }
}

// ---------------------------------------------------------------------------------------------
// Staff: takedowns and reports
// ---------------------------------------------------------------------------------------------

fn countdown(lang: Lang, left: time::Duration) -> String {
    let mins = left.whole_minutes();
    let (sign, mins) = if mins < 0 { ("-", -mins) } else { ("", mins) };
    format!(
        "{sign}{}{} {}{}",
        mins / 60,
        tr(lang, " jam", " h"),
        mins % 60,
        tr(lang, " menit", " min")
    )
}

pub(super) async fn takedowns_page(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<CaseRead>,
) -> Response {
    let items = match state
        .store()
        .list_takedowns(&patroli_store::TakedownFilter::default())
        .await
    {
        Ok(i) => i,
        Err(e) => return page_error(lang, e.into()),
    };
    let now = time::OffsetDateTime::now_utc();
    let body = html! {
        h1 { (tr(lang, "Permintaan takedown", "Takedown requests")) }
        table #takedowns {
            thead { tr { th { "Platform" } th { (tr(lang, "Urgensi", "Urgency")) } th { "Status" } th { (tr(lang, "Tenggat", "Due")) } th { (tr(lang, "Sisa waktu", "Time left")) } th { (tr(lang, "Dasar hukum", "Legal basis")) } } }
            tbody { @for t in &items {
                @let overdue = is_overdue(t.status, t.due_at, now);
                tr.overdue[overdue] {
                    td { a href={ "/takedown/" (t.id) } { (t.platform) } }
                    td { (t.urgency.as_str()) }
                    td { (t.status.as_str()) }
                    td { (show_time(t.due_at)) }
                    td { @if t.status.is_open() { span.countdown data-due=(crate::api::fmt_time(t.due_at)) data-overdue-label=(tr(lang, "TERLAMBAT", "OVERDUE")) { (countdown(lang, t.due_at - now)) } } @else { "—" }
                        @if overdue { " " strong.overdue { (tr(lang, "TERLAMBAT", "OVERDUE")) } } }
                    td { (t.legal_basis) }
                }
            } }
        }
        p { (tr(lang, "Jawaban platform: ", "Platform answers: ")) (items.iter().filter(|t| t.status == TakedownStatus::TakenDown).count()) " taken_down / " (items.len()) }
    };
    html_response(layout(
        lang,
        tr(lang, "Takedown", "Takedowns"),
        Some(&who),
        body,
    ))
}

/// Times in the delivery log need seconds: the first retries come a second or two apart.
fn show_time_seconds(t: time::OffsetDateTime) -> String {
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

/// One request: its posts, deadline, the platform's answer and the webhook delivery log.
pub(super) async fn takedown_page(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<CaseRead>,
    Path(takedown_id): Path<String>,
) -> Response {
    let t = match super::takedowns::visible_takedown(&state, &who, &takedown_id).await {
        Ok(t) => t,
        Err(e) => return page_error(lang, e),
    };
    let deliveries = match state.store().webhook_deliveries(t.id).await {
        Ok(d) => d,
        Err(e) => return page_error(lang, e.into()),
    };
    let now = time::OffsetDateTime::now_utc();
    let overdue = is_overdue(t.status, t.due_at, now);
    let body = html! {
        h1 { (tr(lang, "Permintaan takedown", "Takedown request")) " · " (t.platform) }
        dl #takedown-detail {
            dt { "Status" } dd { span.status data-status=(t.status.as_str()) { (t.status.as_str()) } }
            dt { (tr(lang, "Urgensi", "Urgency")) } dd { (t.urgency.as_str()) }
            dt { (tr(lang, "Dasar hukum", "Legal basis")) } dd { (t.legal_basis) }
            dt { (tr(lang, "Diminta", "Requested")) } dd { (show_time(t.requested_at)) " · " (t.requested_by) }
            dt { (tr(lang, "Tenggat", "Due")) } dd {
                (show_time(t.due_at))
                @if t.status.is_open() { " · " span.countdown data-due=(crate::api::fmt_time(t.due_at)) data-overdue-label=(tr(lang, "TERLAMBAT", "OVERDUE")) { (countdown(lang, t.due_at - now)) } }
                @if overdue { " " strong.overdue { (tr(lang, "TERLAMBAT", "OVERDUE")) } }
            }
            @if let Some(a) = t.answered_at {
                dt { (tr(lang, "Dijawab", "Answered")) } dd { (show_time(a)) }
            }
            @if !t.reason.is_empty() {
                dt { (tr(lang, "Alasan platform", "Platform's reason")) } dd { (t.reason) }
            }
            @if let Some(c) = t.case_id {
                dt { (tr(lang, "Kasus", "Case")) } dd { a href={ "/kasus/" (c) } { (c) } }
            }
        }
        h2 { (tr(lang, "Unggahan", "Posts")) }
        ul #takedown-posts { @for p in &t.post_ids { li { a href={ "/posts/" (p) } { (p) } } } }
        h2 { (tr(lang, "Log pengiriman webhook", "Webhook delivery log")) }
        @if deliveries.is_empty() {
            p #no-deliveries { (tr(lang, "Belum ada pengiriman webhook (platform ini tidak memakai webhook, atau pengiriman belum dimulai).", "No webhook deliveries (this platform has no webhook, or delivery has not started).")) }
        } @else {
            table #deliveries {
                thead { tr {
                    th { (tr(lang, "Percobaan", "Attempt")) }
                    th { (tr(lang, "Waktu", "Time")) }
                    th { (tr(lang, "Alamat", "URL")) }
                    th { (tr(lang, "Status HTTP", "HTTP status")) }
                    th { (tr(lang, "Galat", "Error")) }
                    th { (tr(lang, "Percobaan berikutnya", "Next retry")) }
                } }
                tbody { @for d in &deliveries {
                    @let ok = d.status_code.is_some_and(|c| (200..300).contains(&c));
                    tr class=[ok.then_some("delivered")] data-attempt=(d.attempt) {
                        td { (d.attempt) }
                        td { (show_time_seconds(d.at)) }
                        td { code { (d.url) } }
                        td { @if let Some(c) = d.status_code { (c) } @else { "—" } }
                        td { @if let Some(e) = &d.error { (e) } @else { "—" } }
                        td { @match d.next_retry_at {
                            Some(n) => (show_time_seconds(n)),
                            None => @if ok { (tr(lang, "— (terkirim)", "— (delivered)")) } @else { (tr(lang, "— (tidak dicoba lagi)", "— (not retried)")) },
                        } }
                    }
                } }
            }
        }
        p { a href="/takedown" { (tr(lang, "← Semua permintaan takedown", "← All takedown requests")) } }
    };
    html_response(layout(
        lang,
        tr(lang, "Takedown", "Takedown"),
        Some(&who),
        body,
    ))
}

pub(super) async fn reports_page(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<CaseRead>,
) -> Response {
    let items = match state.store().list_reports(who.scope.as_deref()).await {
        Ok(i) => i,
        Err(e) => return page_error(lang, e.into()),
    };
    let may_work = <CaseWork as Permission>::allows(who.role);
    let body = html! {
        h1 { (tr(lang, "Laporan masyarakat", "Public reports")) }
        @if may_work {
            h2 { (tr(lang, "Catat laporan dari saluran lain", "Record a report from another channel")) }
            form.admin #intake-form method="post" action="/laporan" {
                (csrf_input(&who))
                label { (tr(lang, "Saluran", "Channel")) select name="channel" {
                    @for c in super::reports::CHANNELS.iter().filter(|c| **c != "web") { option value=(c) { (c) } }
                } }
                label { (tr(lang, "Tautan", "Link")) input name="link" type="url" maxlength="2000"; }
                label { (tr(lang, "Isi laporan", "Report")) input name="text" maxlength="10000"; }
                label { (tr(lang, "Telepon/akun terlapor", "Reported phone/account")) input name="phone_or_account" maxlength="200"; }
                label { (tr(lang, "Kode wilayah", "Region code")) input name="region_code" maxlength="20"; }
                label { (tr(lang, "Kontak pelapor (opsional)", "Reporter's contact (optional)")) input name="contact_phone" maxlength="50"; }
                button type="submit" { (tr(lang, "Simpan", "Save")) }
            }
        }
        table #reports {
            thead { tr { th { (tr(lang, "Kode", "Code")) } th { (tr(lang, "Saluran", "Channel")) } th { "Status" } th { (tr(lang, "Isi", "Content")) } th { (tr(lang, "Tautkan ke unggahan", "Link to a post")) } } }
            tbody { @for r in &items { tr.report data-code=(r.tracking_code) {
                td { (r.tracking_code) }
                td { (r.channel) }
                td { (report_status_label(lang, r.status)) }
                td {
                    @if let Some(l) = &r.link { a href=(safe_href(l)) rel="noopener noreferrer nofollow" { (l) } br; }
                    (r.text.chars().take(200).collect::<String>())
                    @if let Some(d) = r.duplicate_of { br; (tr(lang, "Sama dengan unggahan ", "Same as post ")) a href={ "/posts/" (d) } { (d) } }
                    @if let Some(d) = r.duplicate_of_report {
                        // The earlier report by its code when this list holds it, else by id; never
                        // anything about its reporter.
                        br; span.duplicate-report data-report=(d) {
                            (tr(lang, "Sama dengan laporan sebelumnya ", "Same as earlier report "))
                            (items.iter().find(|e| e.id == d).map_or_else(|| d.to_string(), |e| e.tracking_code.clone()))
                        }
                    }
                    @if r.screening["flagged"] == true { br; strong { (tr(lang, "ditandai mesin", "flagged by the engine")) } }
                }
                td { @if may_work && r.status != ReportStatus::Closed {
                    form.inline method="post" action={ "/laporan/" (r.tracking_code) "/tautkan" } {
                        (csrf_input(&who))
                        input.link-post name="post_id" placeholder="post id" required value=(r.duplicate_of.map(|d| d.to_string()).unwrap_or_default());
                        button.link-submit type="submit" { (tr(lang, "Tautkan", "Link")) }
                    }
                } }
            } } }
        }
    };
    html_response(layout(
        lang,
        tr(lang, "Laporan", "Reports"),
        Some(&who),
        body,
    ))
}

#[derive(Deserialize)]
pub(super) struct IntakeForm {
    channel: String,
    #[serde(default)]
    link: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    phone_or_account: String,
    #[serde(default)]
    region_code: String,
    #[serde(default)]
    contact_phone: String,
}

/// An operator records a report received by phone, chat, SMS, e-mail or the call centre.
pub(super) async fn report_intake(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    Extension(wf): Wf,
    who: PageAuthed<CaseWork>,
    form: Result<Form<IntakeForm>, FormRejection>,
) -> Response {
    let Form(f) = match form {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    let contact = non_empty(f.contact_phone).map(|phone| ReporterContact {
        phone: Some(phone),
        ..Default::default()
    });
    let body = ReportBody {
        link: non_empty(f.link),
        text: non_empty(f.text),
        phone_or_account: non_empty(f.phone_or_account),
        category: None,
        region_code: non_empty(f.region_code),
        contact,
        anonymous: false,
        channel: None,
    };
    match report_ops::file(&state, &wf, body, f.channel.trim(), Some(&who.actor)).await {
        Ok(_) => Redirect::to("/laporan").into_response(),
        Err(e) => page_error(lang, e),
    }
}

#[derive(Deserialize)]
pub(super) struct LinkForm {
    post_id: String,
    #[serde(default)]
    case_id: String,
}

pub(super) async fn report_link(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<CaseWork>,
    Path(code): Path<String>,
    form: Result<Form<LinkForm>, FormRejection>,
) -> Response {
    let Form(f) = match form {
        Ok(f) => f,
        Err(e) => return form_error(lang, e),
    };
    let result = async {
        let r = report_ops::for_staff(&state, &who, &code).await?;
        let case = non_empty(f.case_id);
        report_ops::link(&state, &who, &r, f.post_id.trim(), case.as_deref()).await
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/laporan").into_response(),
        Err(e) => page_error(lang, e),
    }
}

#[cfg(test)]
mod tests {
    /// The takedown pages' countdown is ticked by `static/app.js`, read from the `data-due`
    /// attribute these pages render; the overdue switch uses the label the page hands over.
    #[test]
    fn app_js_ticks_the_takedown_countdown() {
        let js = include_str!("../../static/app.js");
        assert!(js.contains("querySelectorAll('.countdown[data-due]')"));
        assert!(js.contains("Date.parse(el.getAttribute('data-due'))"));
        assert!(js.contains("window.setInterval(tick, 1000)"));
        assert!(js.contains("el.getAttribute('data-overdue-label')"));
        assert!(js.contains("row.classList.add('overdue')"));
        assert!(js.contains("if (left < 0) markOverdue(el)"));
    }

    #[test]
    fn countdown_text_is_what_the_script_starts_from() {
        use crate::ui::i18n::Lang;
        assert_eq!(
            super::countdown(Lang::Id, time::Duration::minutes(125)),
            "2 jam 5 menit"
        );
        assert_eq!(
            super::countdown(Lang::En, time::Duration::minutes(-361)),
            "-6 h 1 min"
        );
    }

    #[test]
    fn rupiah_groups_thousands() {
        assert_eq!(super::rupiah(59_902_500), "59.902.500");
        assert_eq!(super::rupiah(500), "500");
        assert_eq!(super::rupiah(1_000), "1.000");
        assert_eq!(super::rupiah(-1_000), "-1.000");
    }
}
