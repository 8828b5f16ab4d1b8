//! Pages: a network (`/networks/{id}`, `/jaringan?contact=`), internal statistics with charts
//! (`/statistik/internal`) and public statistics (`/statistik`, no log-in, whole months only,
//! counts 1-4 shown as "<5" and every other count rounded to a multiple of 5 so that no person
//! can be singled out, not even by subtracting one table from another).
//!
//! Charts are server-rendered SVG built here with every label XML-escaped (region and account
//! names come from data); no inline script or style, so the CSP holds.

use super::networks::{self, NetworkView, scope_of};
use super::stats::{self, By, StatsParams, StatsRow};
use crate::AppState;
use crate::api::fmt_time;
use crate::auth::{PageAuthed, Principal, ReadQueue};
use crate::error::ApiError;
use crate::ui::i18n::Lang;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use patroli_core::network::{ContactKind, Legend, escape_xml, render_svg_with_legend};
use patroli_core::region::Regions;
use patroli_core::{AccountId, Category};
use std::fmt::Write;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/networks/{network_id}", get(network_page))
        .route("/jaringan", get(search_page))
        .route("/statistik/internal", get(internal_stats_page))
        .route("/statistik", get(public_stats_page))
}

/// Both languages of a UI string of this module.
fn t(lang: Lang, id: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Id => id,
        Lang::En => en,
    }
}

fn frame(lang: Lang, title: &str, who: Option<&Principal>, content: Markup) -> Response {
    let other = match lang {
        Lang::Id => "en",
        Lang::En => "id",
    };
    let page = html! {
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
                    a.brand href="/" { "Patroli" }
                    nav {
                        @if who.is_some() {
                            a href="/antrian" { (t(lang, "Antrian tinjauan", "Review queue")) }
                            a href="/jaringan" { (t(lang, "Jaringan", "Networks")) }
                            a href="/statistik/internal" { (t(lang, "Statistik", "Statistics")) }
                        } @else {
                            a href="/statistik" { (t(lang, "Statistik publik", "Public statistics")) }
                        }
                    }
                    @if let Some(p) = who {
                        span.who { (p.name) @if let Some(s) = &p.scope { " · " (s) } }
                    }
                    a.lang href={ "?lang=" (other) } { (t(lang, "English", "Bahasa Indonesia")) }
                }
                main { (content) }
            }
        }
    };
    ([(header::CACHE_CONTROL, "no-store")], page).into_response()
}

fn error_page(lang: Lang, who: Option<&Principal>, err: ApiError) -> Response {
    let status = err.status();
    let mut res = frame(
        lang,
        t(lang, "Terjadi kesalahan", "Something went wrong"),
        who,
        html! { h1 { (t(lang, "Terjadi kesalahan", "Something went wrong")) " (" (status.as_u16()) ")" } p.error { (err.message) } },
    );
    *res.status_mut() = status;
    res
}

fn search_form(lang: Lang, value: &str) -> Markup {
    html! {
        form.filters method="get" action="/jaringan" {
            label { (t(lang, "Cari jaringan dari kontak apa pun (nomor, rekening, akun, tautan)", "Find a network by any contact (number, bank account, handle, link)"))
                input type="search" name="contact" value=(value) placeholder="0812-3456-7890";
            }
            button type="submit" { (t(lang, "Cari", "Search")) }
        }
    }
}

fn network_markup(lang: Lang, v: &NetworkView, svg: &str) -> Markup {
    let regions = Regions::builtin();
    html! {
        section.network {
            h2 { (t(lang, "Jaringan", "Network")) " " code { (v.id) } }
            p { (v.accounts.len()) " " (t(lang, "akun", "accounts")) " · " (v.posts) " " (t(lang, "unggahan", "posts")) " · " (v.flagged_posts) " " (t(lang, "ditandai", "flagged"))
                " · " a href={ "/api/v1/export/stix?network=" (v.id) } { "STIX 2.1" } }
            figure.graph { (PreEscaped(svg)) }
            h3 { (t(lang, "Akun", "Accounts")) }
            table { thead { tr { th { "Platform" } th { (t(lang, "Akun", "Handle")) } th { (t(lang, "Nama", "Name")) } th { (t(lang, "Unggahan", "Posts")) } th { (t(lang, "Ditandai", "Flagged")) } } }
                tbody { @for a in &v.accounts { tr { td { (a.platform) } td { "@" (a.handle) } td { (a.name.as_deref().unwrap_or("—")) } td { (a.posts) } td { (a.flagged_posts) } } } } }
            h3 { (t(lang, "Unggahan", "Posts")) }
            @if v.post_list.is_empty() { p { (t(lang, "(tidak ada yang dapat Anda lihat)", "(none you may see)")) } }
            @else {
                @if (v.post_list.len() as i64) < v.posts {
                    p.note { (t(lang, "Paling banyak", "At most")) " " (networks::POSTS_PER_ACCOUNT) " " (t(lang, "unggahan per akun, yang ditandai lebih dulu.", "posts per account, flagged ones first.")) }
                }
                table.posts {
                    thead { tr { th { "Platform" } th { (t(lang, "Akun", "Handle")) } th { (t(lang, "Judul / cuplikan", "Title / snippet")) } th { (t(lang, "Kategori", "Categories")) } th { (t(lang, "Pertama terlihat", "First seen")) } } }
                    tbody { @for p in &v.post_list { tr {
                        td { (p.platform) }
                        td { "@" (p.handle) }
                        td {
                            a href=(p.link) { (p.title.as_deref().unwrap_or(&p.snippet)) }
                            @if p.title.is_some() { br; small { (p.snippet) } }
                        }
                        td { @if p.categories.is_empty() { "—" } @else { (p.categories.iter().map(|c| lang.category(*c)).collect::<Vec<_>>().join(", ")) } }
                        td { time datetime=(fmt_time(p.first_seen)) { (fmt_time(p.first_seen).get(..10).unwrap_or_default()) } }
                    } } }
                }
            }
            h3 { (t(lang, "Kontak bersama", "Shared contacts")) }
            @if v.contacts.is_empty() { p { (t(lang, "(tidak ada)", "(none)")) } }
            ul { @for c in &v.contacts { li { (c.kind) ": " code { (c.value) } " — " (c.accounts.len()) " " (t(lang, "akun", "accounts")) } } }
            @if !v.common_values.is_empty() {
                h3 { (t(lang, "Nilai umum (tidak menghubungkan)", "Common values (do not link)")) }
                ul { @for c in &v.common_values { li { (c.kind) ": " code { (c.value) } " — " (c.accounts) " " (t(lang, "akun", "accounts")) } } }
            }
            h3 { (t(lang, "Kategori", "Categories")) }
            ul { @for c in &v.categories { li { (lang.category(c.category)) ": " (c.posts) } } }
            @if !v.cases.is_empty() {
                h3 { (t(lang, "Kasus terkait", "Cases touching it")) }
                ul { @for c in &v.cases { li { a href={ "/kasus/" (c.id) } { (c.title) } " (" (c.status) ")" } } }
            }
            h3 { (t(lang, "Wilayah", "Regions")) }
            ul { @for r in &v.regions { li { (r.region_code) " " (r.region_name.as_deref().or(regions.get(&r.province_code).map(|p| p.name.as_str())).unwrap_or("")) ": " (r.posts) } } }
        }
    }
}

/// A contact kind's name in the graph legend.
fn kind_name(lang: Lang, kind: ContactKind) -> &'static str {
    match kind {
        ContactKind::Phone => t(lang, "telepon/WhatsApp", "phone/WhatsApp"),
        ContactKind::Telegram => "Telegram",
        ContactKind::Line => "LINE",
        ContactKind::Social => t(lang, "akun media sosial", "social media handle"),
        ContactKind::Email => "e-mail",
        ContactKind::Url => t(lang, "tautan", "link"),
        ContactKind::Domain => "domain",
        ContactKind::BankAccount => t(lang, "rekening bank", "bank account"),
        ContactKind::Ewallet => t(lang, "dompet digital", "e-wallet"),
        ContactKind::Text => t(lang, "teks hampir sama", "near-identical text"),
    }
}

async fn network_svg(state: &AppState, lang: Lang, v: &NetworkView) -> String {
    let n = state.intel().read().networks.network_of(&v.id);
    let kind = move |k: ContactKind| kind_name(lang, k).to_string();
    let legend = Legend {
        nodes: t(lang, "Simpul", "Nodes"),
        links: t(
            lang,
            "Garis: nilai bersama (makin tebal, makin kuat)",
            "Lines: shared values (thicker is stronger)",
        ),
        account: t(lang, "Akun", "Account"),
        kind: &kind,
    };
    match n {
        Some(n) => render_svg_with_legend(
            &n,
            |id: &AccountId| {
                v.accounts
                    .iter()
                    .find(|a| a.id == *id)
                    .map(|a| format!("{} @{}", a.platform, a.handle))
                    .unwrap_or_default()
            },
            &legend,
        ),
        None => String::new(),
    }
}

async fn network_page(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<ReadQueue>,
    Path(network_id): Path<String>,
) -> Response {
    let Ok(id) = network_id.parse::<AccountId>() else {
        return error_page(lang, Some(&who), ApiError::not_found());
    };
    match networks::by_id(&state, scope_of(&who), id).await {
        Ok(Some(v)) => {
            let svg = network_svg(&state, lang, &v).await;
            frame(
                lang,
                t(lang, "Jaringan", "Network"),
                Some(&who),
                html! { (search_form(lang, "")) (network_markup(lang, &v, &svg)) },
            )
        }
        Ok(None) => error_page(lang, Some(&who), ApiError::not_found()),
        Err(e) => error_page(lang, Some(&who), e),
    }
}

async fn search_page(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<ReadQueue>,
    Query(q): Query<networks::ContactQuery>,
) -> Response {
    let contact = q.contact.as_deref().map(str::trim).unwrap_or_default();
    // Every answer is the search page: its heading and the box with what was typed, then `body`.
    let page = |body: Markup| {
        frame(
            lang,
            t(lang, "Jaringan", "Networks"),
            Some(&who),
            html! { h1 { (t(lang, "Jaringan", "Networks")) } (search_form(lang, contact)) (body) },
        )
    };
    if contact.is_empty() {
        return page(html! {});
    }
    let contact = match networks::read_contact(Some(contact)) {
        Ok(c) => c,
        Err(e) => {
            // Not an error page: the person stays on the search with what they typed and sees
            // which forms are understood.
            let why = match e {
                networks::ContactError::MissingOrTooLong => t(
                    lang,
                    "Kontak terlalu panjang (paling banyak 300 karakter).",
                    "The contact is too long (at most 300 characters).",
                ),
                networks::ContactError::Unreadable => t(
                    lang,
                    "Kontak ini tidak terbaca sebagai nomor telepon, tautan WhatsApp atau Telegram, akun, rekening bank, dompet digital, e-mail atau tautan.",
                    "This contact was not read as a phone number, WhatsApp or Telegram link, handle, bank account, e-wallet, e-mail or link.",
                ),
            };
            let mut res = page(html! {
                p.error role="alert" { (why) " " (t(lang, "Contoh", "For example")) ": " (networks::CONTACT_EXAMPLES) }
            });
            *res.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            return res;
        }
    };
    let answer = match networks::answer(&state, scope_of(&who), contact).await {
        Ok(a) => a,
        Err(e) => return error_page(lang, Some(&who), e),
    };
    let mut parts = Vec::new();
    if let Some(a) = &answer {
        for v in &a.networks {
            let svg = network_svg(&state, lang, v).await;
            parts.push(network_markup(lang, v, &svg));
        }
    }
    page(html! {
            @match &answer {
                None => p { (t(lang, "Tidak ada jaringan (di wilayah Anda) dengan kontak ini.", "No network (in your region) holds this contact.")) },
                Some(a) => {
                    p { (t(lang, "Dibaca sebagai", "Read as")) ": " @for r in &a.readings { code { (r) } " " } }
                    @for c in &a.common { p.warning { code { (c.value) } " " (t(lang, "adalah nilai umum yang dipakai", "is a common value shown by")) " " (c.accounts) " " (t(lang, "akun; tidak menghubungkan mereka.", "accounts; it does not link them.")) } }
                    @for p in &parts { (p) }
                }
            }
    })
}

// ---------------------------------------------------------------- charts

/// Fill for a count relative to the largest: five steps of one hue, grey for zero.
fn shade(n: i64, max: i64) -> &'static str {
    const STEPS: [&str; 5] = ["#fde0c5", "#facba6", "#f59e72", "#e4643b", "#b63a1f"];
    if n <= 0 || max <= 0 {
        return "#e6e6e6";
    }
    let i = ((n as f64 / max as f64) * 4.0).round() as usize;
    STEPS[i.min(4)]
}

/// Horizontal bars, one per row label.
fn bar_chart(title: &str, bars: &[(String, i64)]) -> String {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let h = 24 * bars.len() + 30;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 720 {h}\" width=\"720\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        escape_xml(title)
    );
    for (i, (label, n)) in bars.iter().enumerate() {
        let y = 20 + i * 24;
        let w = (*n as f64 / max as f64 * 420.0).round();
        let _ = write!(
            s,
            "<text x=\"230\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text>\
             <rect x=\"240\" y=\"{}\" width=\"{w}\" height=\"16\" fill=\"#e4643b\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\">{n}</text>",
            y + 12,
            escape_xml(label),
            y,
            245.0 + w,
            y + 12
        );
    }
    s.push_str("</svg>");
    s
}

/// A line over months.
fn line_chart(title: &str, points: &[(String, i64)]) -> String {
    let (w, h) = (720.0, 240.0);
    let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1) as f64;
    let n = points.len().max(2) as f64 - 1.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">\
         <line x1=\"40\" y1=\"200\" x2=\"700\" y2=\"200\" stroke=\"#888\"/>",
        escape_xml(title)
    );
    let xy = |i: usize, v: i64| (40.0 + 660.0 * i as f64 / n, 200.0 - 170.0 * v as f64 / max);
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (x, y) = xy(i, p.1);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    if !path.is_empty() {
        let _ = write!(
            s,
            "<polyline fill=\"none\" stroke=\"#b63a1f\" stroke-width=\"2\" points=\"{}\"/>",
            path.join(" ")
        );
    }
    for (i, (label, v)) in points.iter().enumerate() {
        let (x, y) = xy(i, *v);
        let _ = write!(
            s,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"#b63a1f\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{v}</text>\
             <text x=\"{x:.1}\" y=\"218\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            y - 6.0,
            escape_xml(label)
        );
    }
    s.push_str("</svg>");
    s
}

/// Tile position (column, row) of each province, west to east, roughly as on a map.
fn tile_of(code: &str) -> Option<(u32, u32)> {
    Some(match code {
        "11" => (0, 0),
        "12" => (1, 0),
        "21" => (3, 0),
        "13" => (1, 1),
        "14" => (2, 1),
        "17" => (1, 2),
        "15" => (2, 2),
        "19" => (3, 2),
        "16" => (2, 3),
        "18" => (2, 4),
        "36" => (3, 5),
        "31" => (4, 4),
        "32" => (4, 5),
        "33" => (5, 5),
        "34" => (5, 6),
        "35" => (6, 5),
        "51" => (7, 5),
        "52" => (8, 5),
        "53" => (9, 5),
        "61" => (4, 1),
        "62" => (5, 2),
        "63" => (6, 3),
        "64" => (6, 1),
        "65" => (6, 0),
        "71" => (9, 0),
        "75" => (8, 0),
        "72" => (8, 1),
        "76" => (7, 2),
        "73" => (7, 3),
        "74" => (8, 2),
        "82" => (10, 1),
        "81" => (10, 3),
        "96" => (11, 1),
        "92" => (12, 1),
        "94" => (12, 2),
        "91" => (13, 1),
        "95" => (13, 2),
        "93" => (13, 3),
        _ => return None,
    })
}

/// Tile grid map of the provinces, coloured by count and labelled with code, short name, count.
fn tile_map(title: &str, rows: &[(String, String, String, i64)]) -> String {
    let max = rows.iter().map(|r| r.3).max().unwrap_or(0);
    let (tw, th) = (62u32, 54u32);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{}\">",
        14 * tw,
        9 * th,
        14 * tw,
        9 * th,
        escape_xml(title)
    );
    let mut spare = 0;
    for (code, name, shown, n) in rows {
        let (c, r) = tile_of(code).unwrap_or_else(|| {
            spare += 1;
            (spare - 1, 8)
        });
        let (x, y) = (c * tw, r * th);
        let short: String = name
            .trim_start_matches("Provinsi ")
            .chars()
            .take(10)
            .collect();
        let _ = write!(
            s,
            "<g><title>{} {}: {}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\" fill=\"{}\" stroke=\"#fff\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>\
             <text x=\"{}\" y=\"{}\" font-size=\"8\" text-anchor=\"middle\">{}</text>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\" font-weight=\"bold\" text-anchor=\"middle\">{}</text></g>",
            escape_xml(code),
            escape_xml(name),
            escape_xml(shown),
            x + 1,
            y + 1,
            tw - 2,
            th - 2,
            shade(*n, max),
            x + tw / 2,
            y + 13,
            escape_xml(code),
            x + tw / 2,
            y + 26,
            escape_xml(&short),
            x + tw / 2,
            y + 44,
            escape_xml(shown)
        );
    }
    s.push_str("</svg>");
    s
}

fn opt(v: Option<i64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_else(|| "—".into())
}

fn export_links(by: By, q: &str) -> Markup {
    html! {
        p.export {
            a href={ "/api/v1/stats?by=" (by.as_str()) "&format=csv" (q) } { "CSV" } " · "
            a href={ "/api/v1/stats?by=" (by.as_str()) "&format=json" (q) } { "JSON" }
        }
    }
}

fn stats_table(lang: Lang, by: By, rows: &[StatsRow]) -> Markup {
    html! {
        table.stats {
            thead { tr {
                @if matches!(by, By::Province | By::Unit) { th { "#" } }
                th { (match by { By::Province => t(lang, "Provinsi", "Province"), By::Unit => t(lang, "Unit", "Unit"), By::Category => t(lang, "Kategori", "Category"), By::Month => t(lang, "Bulan", "Month") }) }
                th { (t(lang, "Ditandai", "Flagged")) } th { (t(lang, "Dikonfirmasi", "Confirmed")) } th { (t(lang, "Jaringan", "Networks")) }
                th { (t(lang, "Kasus dibuka", "Cases opened")) } th { (t(lang, "Takedown diminta", "Takedowns requested")) }
            } }
            tbody { @for r in rows { tr {
                @if matches!(by, By::Province | By::Unit) { td { (r.rank.unwrap_or(0)) } }
                td { (match by {
                    By::Province => format!("{} {}", r.region_code.as_deref().unwrap_or(""), r.region_name.as_deref().unwrap_or("")),
                    By::Unit => r.unit_name.clone().unwrap_or_default(),
                    By::Category => r.category.map(|c| lang.category(c).to_string()).unwrap_or_default(),
                    By::Month => r.month.clone().unwrap_or_default(),
                }) }
                td { (r.posts_flagged) } td { (r.confirmed) } td { (opt(r.networks)) }
                td { (opt(r.cases_opened)) } td { (opt(r.takedowns_requested)) }
            } } }
        }
    }
}

async fn internal_stats_page(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    who: PageAuthed<ReadQueue>,
    Query(p): Query<StatsParams>,
) -> Response {
    let (_, filter) = match stats::parse_params(&p, who.scope.as_deref()) {
        Ok(x) => x,
        Err(e) => return error_page(lang, Some(&who), e),
    };
    let mut tables = Vec::new();
    for by in [By::Province, By::Unit, By::Category, By::Month] {
        match stats::rows(&state, by, &filter).await {
            Ok(rows) => tables.push((by, rows)),
            Err(e) => return error_page(lang, Some(&who), e),
        }
    }
    let mut q = String::new();
    for (k, v) in [
        ("category", &p.category),
        ("from", &p.from),
        ("to", &p.to),
        ("region", &p.region),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
            q.push_str(&format!("&{k}={}", urlencode(v.trim())));
        }
    }
    let provinces = &tables[0].1;
    let bars: Vec<(String, i64)> = provinces
        .iter()
        .filter(|r| r.posts_flagged > 0)
        .take(15)
        .map(|r| (r.region_name.clone().unwrap_or_default(), r.posts_flagged))
        .collect();
    let months: Vec<(String, i64)> = tables[3]
        .1
        .iter()
        .map(|r| (r.month.clone().unwrap_or_default(), r.posts_flagged))
        .collect();
    let tiles: Vec<_> = provinces
        .iter()
        .map(|r| {
            (
                r.region_code.clone().unwrap_or_default(),
                r.region_name.clone().unwrap_or_default(),
                r.posts_flagged.to_string(),
                r.posts_flagged,
            )
        })
        .collect();
    let title = t(lang, "Statistik", "Statistics");
    frame(
        lang,
        title,
        Some(&who),
        html! {
            h1 { (title) }
            (category_form(lang, "/statistik/internal", &p, who.scope.as_deref()))
            h2 { (t(lang, "Peta provinsi: unggahan ditandai", "Province map: flagged posts")) }
            figure.chart { (PreEscaped(tile_map(t(lang, "Peta provinsi", "Province map"), &tiles))) }
            h2 { (t(lang, "Peringkat provinsi", "Province ranking")) }
            figure.chart { (PreEscaped(bar_chart(t(lang, "Peringkat provinsi", "Province ranking"), &bars))) }
            h2 { (t(lang, "Tren bulanan", "Monthly trend")) }
            figure.chart { (PreEscaped(line_chart(t(lang, "Tren bulanan", "Monthly trend"), &months))) }
            p.note { (t(lang, "Kasus, tersangka, takedown dan laporan publik dihitung dari alur kerja kasus; median waktu takedown kosong (—) bila belum ada takedown yang dipenuhi.", "Cases, suspects, takedowns and public reports come from the case workflow; the median time to takedown is empty (—) where no takedown was complied with.")) }
            @for (by, rows) in &tables {
                h2 { (match by { By::Province => t(lang, "Per provinsi", "By province"), By::Unit => t(lang, "Per unit (peringkat)", "By unit (ranking)"), By::Category => t(lang, "Per kategori", "By category"), By::Month => t(lang, "Per bulan", "By month") }) }
                (export_links(*by, &q))
                (stats_table(lang, *by, rows))
            }
        },
    )
}

/// The regions the internal statistics form offers as `(code, name)`, the empty code standing
/// for "all". A national caller: all, then the 38 provinces. A region-scoped caller: their own
/// region, then the regions directly inside it (never a region beside it, which the API would
/// refuse). A chosen official code not among them but allowed (a regency typed into the URL)
/// is added so that it stays selected.
fn region_options(scope: Option<&str>, chosen: &str) -> Vec<(String, String)> {
    let regions = Regions::builtin();
    let name = |code: &str| {
        regions
            .get(code)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    };
    let mut out: Vec<(String, String)> = match scope {
        None => std::iter::once((String::new(), String::new()))
            .chain(
                regions
                    .provinces()
                    .map(|r| (r.code.clone(), r.name.clone())),
            )
            .collect(),
        Some(s) => std::iter::once((s.to_string(), name(s)))
            .chain(
                regions
                    .children(s)
                    .into_iter()
                    .map(|r| (r.code.clone(), r.name.clone())),
            )
            .collect(),
    };
    if let Some(r) = regions.get(chosen)
        && crate::auth::in_scope(scope, Some(&r.code))
        && !out.iter().any(|(c, _)| *c == r.code)
    {
        out.push((r.code.clone(), r.name.clone()));
    }
    out
}

fn category_form(lang: Lang, action: &str, p: &StatsParams, scope: Option<&str>) -> Markup {
    let chosen = p.category.as_deref().unwrap_or_default();
    let region = p.region.as_deref().map(str::trim).unwrap_or_default();
    // A scoped caller without `region` sees their own region, the first option.
    let region_selected = |code: &str| code == region || (region.is_empty() && Some(code) == scope);
    html! {
        form.filters method="get" action=(action) {
            select name="category" {
                option value="" { (t(lang, "Semua kategori", "All categories")) }
                @for c in Category::ALL { option value=(c.id()) selected[chosen == c.id()] { (lang.category(c)) } }
            }
            label { (t(lang, "Wilayah", "Region")) " "
                select name="region" {
                    @for (code, name) in region_options(scope, region) {
                        option value=(code) selected[region_selected(&code)] {
                            @if code.is_empty() { (t(lang, "Semua provinsi", "All provinces")) }
                            @else { (code) " " (name) }
                        }
                    }
                }
            }
            input type="date" name="from" value=(p.from.as_deref().unwrap_or_default());
            input type="date" name="to" value=(p.to.as_deref().unwrap_or_default());
            button type="submit" { (t(lang, "Saring", "Filter")) }
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Below this a count is shown as "<5" on public pages.
pub const PUBLIC_MIN_COUNT: i64 = 5;

/// The public page's rounding base: every count it shows is a multiple of this.
pub const PUBLIC_ROUND_TO: i64 = 5;

/// A count as the public may see it: zero stays zero (it identifies nobody), 1-4 are withheld
/// (`None`), everything else is rounded to the nearest multiple of five (halves up).
///
/// Suppressing only the small cells is not enough: the province, category and month tables
/// count the same posts, so an exact national total minus the exact other provinces would give
/// the withheld cell back. Rounding every cell leaves each difference uncertain by several
/// posts, so a withheld 1-4 cannot be worked out from the cells around it.
pub fn public_value(n: i64) -> Option<i64> {
    if n <= 0 {
        Some(0)
    } else if n < PUBLIC_MIN_COUNT {
        None
    } else {
        Some((n + PUBLIC_ROUND_TO / 2) / PUBLIC_ROUND_TO * PUBLIC_ROUND_TO)
    }
}

/// [`public_value`] as shown: "<5" for a withheld count.
pub fn suppress(n: i64) -> String {
    match public_value(n) {
        Some(v) => v.to_string(),
        None => format!("<{PUBLIC_MIN_COUNT}"),
    }
}

/// A public `from`/`to` value: whole months only (`YYYY-MM`), so that two windows a day apart
/// cannot be subtracted to reveal one day's posts. `to` includes its month.
fn public_month(name: &str, v: Option<&str>, end: bool) -> Result<Option<String>, ApiError> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::bad_param(
            name,
            "a whole month YYYY-MM (public statistics are not given for parts of a month)",
        )
    };
    let (y, m) = v.split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let (y, m): (i32, u8) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(1..=12).contains(&m) || !(2000..=9999).contains(&y) {
        return Err(bad());
    }
    let (y, m) = if end {
        if m == 12 { (y + 1, 1) } else { (y, m + 1) }
    } else {
        (y, m)
    };
    Ok(Some(format!("{y:04}-{m:02}-01")))
}

fn public_month_form(lang: Lang, p: &StatsParams) -> Markup {
    let chosen = p.category.as_deref().unwrap_or_default();
    html! {
        form.filters method="get" action="/statistik" {
            select name="category" {
                option value="" { (t(lang, "Semua kategori", "All categories")) }
                @for c in Category::ALL { option value=(c.id()) selected[chosen == c.id()] { (lang.category(c)) } }
            }
            label { (t(lang, "Dari bulan", "From month")) " " input type="month" name="from" value=(p.from.as_deref().unwrap_or_default()); }
            label { (t(lang, "sampai bulan", "to month")) " " input type="month" name="to" value=(p.to.as_deref().unwrap_or_default()); }
            button type="submit" { (t(lang, "Saring", "Filter")) }
        }
    }
}

async fn public_stats_page(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    Query(p): Query<StatsParams>,
) -> Response {
    // Public: national aggregates only, no scope, no networks or accounts, whole months.
    let (from, to) = match (
        public_month("from", p.from.as_deref(), false),
        public_month("to", p.to.as_deref(), true),
    ) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return error_page(lang, None, e),
    };
    // No `region` either: the public page gives national tables only, and smaller areas would
    // mean smaller, more identifying counts.
    let params = StatsParams {
        by: None,
        format: None,
        region: None,
        from,
        to,
        ..p.clone()
    };
    let (_, filter) = match stats::parse_params(&params, None) {
        Ok(x) => x,
        Err(e) => return error_page(lang, None, e),
    };
    let mut tables = Vec::new();
    for by in [By::Province, By::Category, By::Month] {
        match stats::rows(&state, by, &filter).await {
            Ok(rows) => tables.push((by, rows)),
            Err(e) => return error_page(lang, None, e),
        }
    }
    let tiles: Vec<_> = tables[0]
        .1
        .iter()
        .map(|r| {
            // Colour from the published value too, so the shade does not leak the exact count.
            (
                r.region_code.clone().unwrap_or_default(),
                r.region_name.clone().unwrap_or_default(),
                suppress(r.posts_flagged),
                public_value(r.posts_flagged).unwrap_or(0),
            )
        })
        .collect();
    let title = t(lang, "Statistik publik", "Public statistics");
    frame(
        lang,
        title,
        None,
        html! {
            h1 { (title) }
            p { (t(lang, "Jumlah unggahan daring yang ditandai dan dikonfirmasi petugas, per provinsi, kategori dan bulan, untuk bulan penuh. Agar tidak ada orang yang dapat dikenali, angka 1–4 ditampilkan sebagai \"<5\" dan semua angka lain dibulatkan ke kelipatan 5 terdekat; karena itu jumlah per baris tidak selalu sama dengan totalnya.", "Online posts flagged and confirmed by officers, by province, category and month, for whole months. So that no person can be identified, counts of 1-4 are shown as \"<5\" and every other count is rounded to the nearest multiple of 5; rows therefore need not add up to their totals.")) }
            (public_month_form(lang, &p))
            figure.chart { (PreEscaped(tile_map(t(lang, "Peta provinsi", "Province map"), &tiles))) }
            @for (by, rows) in &tables {
                h2 { (match by { By::Province => t(lang, "Per provinsi", "By province"), By::Category => t(lang, "Per kategori", "By category"), _ => t(lang, "Per bulan", "By month") }) }
                table.stats {
                    thead { tr { th { "" } th { (t(lang, "Ditandai", "Flagged")) } th { (t(lang, "Dikonfirmasi", "Confirmed")) } } }
                    tbody { @for r in rows { tr {
                        td { (match by {
                            By::Province => format!("{} {}", r.region_code.as_deref().unwrap_or(""), r.region_name.as_deref().unwrap_or("")),
                            By::Category => r.category.map(|c| lang.category(c).to_string()).unwrap_or_default(),
                            _ => r.month.clone().unwrap_or_default(),
                        }) }
                        td.count { (suppress(r.posts_flagged)) } td.count { (suppress(r.confirmed)) }
                    } } }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_suppressed_zero_is_not() {
        assert_eq!(suppress(0), "0");
        assert_eq!(suppress(1), "<5");
        assert_eq!(suppress(4), "<5");
        assert_eq!(suppress(5), "5");
        assert_eq!(suppress(6), "5");
        assert_eq!(suppress(8), "10");
        assert_eq!(suppress(31), "30");
        assert_eq!(suppress(33), "35");
    }

    #[test]
    fn a_withheld_cell_cannot_be_recovered_from_the_total() {
        // One province with 3 posts beside others: the published total minus the published
        // others must leave a range that admits more than one value for the withheld cell.
        for others in [vec![6_i64, 12], vec![7, 28, 5], vec![10, 10]] {
            for small in 1..PUBLIC_MIN_COUNT {
                let total: i64 = others.iter().sum::<i64>() + small;
                let shown_total = public_value(total).unwrap();
                let shown_others: i64 = others.iter().map(|&o| public_value(o).unwrap()).sum();
                // Each published value v stands for a true value in v-2..=v+2.
                let lo = (shown_total - 2) - (shown_others + 2 * others.len() as i64);
                let hi = (shown_total + 2) - (shown_others - 2 * others.len() as i64);
                let candidates = (1..PUBLIC_MIN_COUNT).filter(|c| (lo..=hi).contains(c));
                assert!(
                    candidates.count() > 1,
                    "{others:?} + {small} pins the small cell"
                );
            }
        }
    }

    #[test]
    fn public_windows_are_whole_months() {
        assert_eq!(
            public_month("from", Some("2026-03"), false)
                .unwrap()
                .as_deref(),
            Some("2026-03-01")
        );
        assert_eq!(
            public_month("to", Some("2026-12"), true)
                .unwrap()
                .as_deref(),
            Some("2027-01-01")
        );
        assert_eq!(public_month("to", Some(" "), true).unwrap(), None);
        for bad in ["2026-03-15", "2026-13", "26-03", "maret", "2026-3"] {
            assert!(public_month("from", Some(bad), false).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_province_has_its_own_tile() {
        let mut seen = std::collections::HashSet::new();
        let provinces: Vec<_> = Regions::builtin().provinces().collect();
        assert_eq!(provinces.len(), 38);
        for p in provinces {
            let tile = tile_of(&p.code).unwrap_or_else(|| panic!("no tile for {}", p.code));
            assert!(seen.insert(tile), "two provinces on tile {tile:?}");
        }
    }

    #[test]
    fn chart_labels_are_escaped() {
        let svg = bar_chart("t", &[("<script>".into(), 3)]);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
    }
}
