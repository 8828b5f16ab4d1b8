//! A network drawn as a self-contained SVG for the network page: accounts on an outer circle,
//! the values that link them on an inner circle, a line from each value to each account that
//! showed it (thicker for stronger kinds). Every label is XML-escaped: account names and contact
//! values come from posts and are attacker-controlled.

use std::fmt::Write;

use super::{ContactKind, Network};
use crate::ids::AccountId;

/// Above this many accounts the drawing shows the first ones and says how many were left out;
/// a page lists them all anyway.
const MAX_ACCOUNTS: usize = 60;
const MAX_VALUES: usize = 40;

/// The words of the drawing's legend, in the page's language (the caller translates; this module
/// has no languages of its own).
pub struct Legend<'a> {
    /// Heading of the node part ("Simpul").
    pub nodes: &'a str,
    /// Heading of the line part, saying that a thicker line is a stronger link.
    pub links: &'a str,
    /// What a circle is ("Akun").
    pub account: &'a str,
    /// Name of a contact kind ("telepon/WhatsApp").
    pub kind: &'a dyn Fn(ContactKind) -> String,
}

impl Legend<'static> {
    /// The legend in Bahasa Indonesia, the drawing's default language.
    pub fn indonesian() -> Legend<'static> {
        Legend {
            nodes: "Simpul",
            links: "Garis: nilai bersama (makin tebal, makin kuat)",
            account: "Akun",
            kind: &|k| {
                match k {
                    ContactKind::Phone => "telepon/WhatsApp",
                    ContactKind::Telegram => "Telegram",
                    ContactKind::Line => "LINE",
                    ContactKind::Social => "akun media sosial",
                    ContactKind::Email => "e-mail",
                    ContactKind::Url => "tautan",
                    ContactKind::Domain => "domain",
                    ContactKind::BankAccount => "rekening bank",
                    ContactKind::Ewallet => "dompet digital",
                    ContactKind::Text => "teks hampir sama",
                }
                .to_string()
            },
        }
    }
}

/// Renders `network` as an SVG document with the Indonesian legend. `label` names an account
/// (its handle and platform, say).
pub fn render_svg(network: &Network, label: impl Fn(&AccountId) -> String) -> String {
    render_svg_with_legend(network, label, &Legend::indonesian())
}

/// Renders `network` with a legend below the drawing: the circle for accounts and one coloured
/// square per kind of value drawn, then a line of each link strength drawn, named by its kinds.
pub fn render_svg_with_legend(
    network: &Network,
    label: impl Fn(&AccountId) -> String,
    legend: &Legend<'_>,
) -> String {
    let accounts: Vec<&AccountId> = network.members.iter().take(MAX_ACCOUNTS).collect();
    let links: Vec<_> = network.links.iter().take(MAX_VALUES).collect();
    let size = 640.0f64;
    let c = size / 2.0;
    let outer = if accounts.len() <= 1 { 0.0 } else { 230.0 };
    let inner = if links.len() <= 1 { 0.0 } else { 110.0 };
    let extra_lines = network.common_values.len().min(5) + 1;
    // Legend rows: the drawn kinds in drawing order, and the distinct link strengths.
    let mut kinds: Vec<ContactKind> = Vec::new();
    for l in &links {
        if !kinds.contains(&l.value.kind) {
            kinds.push(l.value.kind);
        }
    }
    let mut strengths: Vec<(f32, Vec<ContactKind>)> = Vec::new();
    for l in &links {
        match strengths
            .iter_mut()
            .find(|(w, _)| (*w - l.weight).abs() < 0.01)
        {
            Some((_, ks)) if !ks.contains(&l.value.kind) => ks.push(l.value.kind),
            Some(_) => {}
            None => strengths.push((l.weight, vec![l.value.kind])),
        }
    }
    strengths.sort_by(|a, b| b.0.total_cmp(&a.0));
    let legend_rows = (1 + kinds.len()).max(strengths.len()) + 1;
    let legend_top = size + 20.0 * extra_lines as f64;
    let height = legend_top + 18.0 * legend_rows as f64 + 8.0;

    let place = |i: usize, n: usize, r: f64| {
        let angle =
            std::f64::consts::TAU * i as f64 / n.max(1) as f64 - std::f64::consts::FRAC_PI_2;
        (c + r * angle.cos(), c + r * angle.sin())
    };
    let acc_pos: Vec<(f64, f64)> = (0..accounts.len())
        .map(|i| place(i, accounts.len(), outer))
        .collect();

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {height}" width="{size}" height="{height}" font-family="sans-serif" font-size="11" role="img" aria-label="Jaringan akun">"#
    );
    s.push_str("<title>Jaringan akun</title>");
    // Edges first so nodes sit on top of them.
    s.push_str(r##"<g stroke="#8a8f98" stroke-opacity="0.7">"##);
    for (j, link) in links.iter().enumerate() {
        let (vx, vy) = place(j, links.len(), inner);
        for a in &link.accounts {
            if let Some(i) = accounts.iter().position(|x| *x == a) {
                let (ax, ay) = acc_pos[i];
                let _ = write!(
                    s,
                    r#"<line x1="{vx:.1}" y1="{vy:.1}" x2="{ax:.1}" y2="{ay:.1}" stroke-width="{:.1}"/>"#,
                    0.5 + 2.5 * link.weight
                );
            }
        }
    }
    s.push_str("</g>");
    for (j, link) in links.iter().enumerate() {
        let (vx, vy) = place(j, links.len(), inner);
        let fill = kind_colour(link.value.kind);
        let text = short(&link.value.value, 28);
        let _ = write!(
            s,
            r##"<g><title>{}: {}</title><rect x="{:.1}" y="{:.1}" width="12" height="12" fill="{fill}"/><text x="{:.1}" y="{:.1}" fill="#333">{}</text></g>"##,
            escape(link.value.kind.as_str()),
            escape(&link.value.value),
            vx - 6.0,
            vy - 6.0,
            vx + 9.0,
            vy + 4.0,
            escape(&text)
        );
    }
    for (i, a) in accounts.iter().enumerate() {
        let (ax, ay) = acc_pos[i];
        let name = label(a);
        let anchor = if ax < c - 1.0 { "end" } else { "start" };
        let dx = if anchor == "end" { -12.0 } else { 12.0 };
        let _ = write!(
            s,
            r##"<g><title>{}</title><circle cx="{ax:.1}" cy="{ay:.1}" r="8" fill="#c0392b"/><text x="{:.1}" y="{:.1}" text-anchor="{anchor}" fill="#111">{}</text></g>"##,
            escape(&name),
            ax + dx,
            ay + 4.0,
            escape(&short(&name, 24))
        );
    }
    let mut y = size + 4.0;
    if network.members.len() > accounts.len() {
        let _ = write!(
            s,
            r#"<text x="10" y="{y:.0}">+{} akun lain tidak digambar</text>"#,
            network.members.len() - accounts.len()
        );
    }
    y += 18.0;
    for common in network.common_values.iter().take(5) {
        let _ = write!(
            s,
            r##"<text x="10" y="{y:.0}" fill="#666">Nilai umum (bukan tautan): {} {} — {} akun</text>"##,
            escape(common.value.kind.as_str()),
            escape(&short(&common.value.value, 40)),
            common.accounts
        );
        y += 18.0;
    }
    // Legend: nodes on the left, lines on the right.
    let top = legend_top;
    let _ = write!(
        s,
        r##"<g class="legend" fill="#111"><text x="10" y="{:.0}" font-weight="bold">{}</text>"##,
        top + 12.0,
        escape(legend.nodes)
    );
    let _ = write!(
        s,
        r##"<circle cx="16" cy="{:.0}" r="6" fill="#c0392b"/><text x="28" y="{:.0}">{}</text>"##,
        top + 26.0,
        top + 30.0,
        escape(legend.account)
    );
    for (i, k) in kinds.iter().enumerate() {
        let ty = top + 44.0 + 18.0 * i as f64;
        let _ = write!(
            s,
            r#"<rect x="10" y="{:.0}" width="12" height="12" fill="{}"/><text x="28" y="{:.0}">{}</text>"#,
            ty - 6.0,
            kind_colour(*k),
            ty + 4.0,
            escape(&(legend.kind)(*k))
        );
    }
    if !strengths.is_empty() {
        let _ = write!(
            s,
            r#"<text x="300" y="{:.0}" font-weight="bold">{}</text>"#,
            top + 12.0,
            escape(legend.links)
        );
    }
    for (i, (w, ks)) in strengths.iter().enumerate() {
        let ty = top + 26.0 + 18.0 * i as f64;
        let names: Vec<String> = ks.iter().map(|k| (legend.kind)(*k)).collect();
        let _ = write!(
            s,
            r##"<line x1="300" y1="{ty:.0}" x2="340" y2="{ty:.0}" stroke="#8a8f98" stroke-width="{:.1}"/><text x="348" y="{:.0}">{} ({w:.1})</text>"##,
            0.5 + 2.5 * w,
            ty + 4.0,
            escape(&names.join(", "))
        );
    }
    s.push_str("</g></svg>");
    s
}

fn kind_colour(kind: ContactKind) -> &'static str {
    match kind {
        ContactKind::Phone => "#2980b9",
        ContactKind::BankAccount | ContactKind::Ewallet => "#27ae60",
        ContactKind::Telegram | ContactKind::Line | ContactKind::Social => "#8e44ad",
        ContactKind::Email => "#d35400",
        ContactKind::Url | ContactKind::Domain => "#16a085",
        ContactKind::Text => "#7f8c8d",
    }
}

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Escapes text for XML and HTML content and attribute values; drops control characters.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{ContactValue, NetworkConfig, NetworkIndex};
    use uuid::Uuid;

    #[test]
    fn draws_every_account_and_link_with_escaped_labels() {
        let mut idx = NetworkIndex::new(NetworkConfig::default());
        let wa = ContactValue::new(ContactKind::Phone, "081234567890").unwrap();
        let (a, b) = (AccountId(Uuid::from_u128(1)), AccountId(Uuid::from_u128(2)));
        idx.add(a, std::slice::from_ref(&wa));
        idx.add(b, std::slice::from_ref(&wa));
        let net = idx.network_of(&a).unwrap();
        let svg = render_svg(&net, |id| {
            if *id == a {
                "<script>alert(1)</script>".to_string()
            } else {
                "toko \"obat\" & co".to_string()
            }
        });
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("toko &quot;obat&quot; &amp; co"));
        // The drawing itself (the legend below it has a sample circle and line of its own).
        let drawing = &svg[..svg.find("class=\"legend\"").unwrap()];
        assert_eq!(drawing.matches("<circle").count(), 2);
        assert_eq!(drawing.matches("<line").count(), 2);
        assert!(svg.contains("+6281234567890"));
    }

    #[test]
    fn the_legend_names_the_drawn_kinds_and_link_strengths() {
        let mut idx = NetworkIndex::new(NetworkConfig::default());
        let wa = ContactValue::new(ContactKind::Phone, "081234567890").unwrap();
        let bank = ContactValue::new(ContactKind::BankAccount, "BCA:1234567890").unwrap();
        let site = ContactValue::new(ContactKind::Domain, "toko.example").unwrap();
        let (a, b, c) = (
            AccountId(Uuid::from_u128(1)),
            AccountId(Uuid::from_u128(2)),
            AccountId(Uuid::from_u128(3)),
        );
        idx.add(a, &[wa.clone(), bank.clone()]);
        idx.add(b, &[wa, bank]);
        idx.add(c, std::slice::from_ref(&site));
        idx.add(a, &[site]);
        let net = idx.network_of(&a).unwrap();
        let kind = |k: ContactKind| format!("<{}>", k.as_str());
        let legend = Legend {
            nodes: "Nodes",
            links: "Links & <strength>",
            account: "Account",
            kind: &kind,
        };
        let svg = render_svg_with_legend(&net, |_| String::new(), &legend);
        let tail = &svg[svg.find("class=\"legend\"").expect("a legend")..];
        assert!(tail.contains(">Nodes<") && tail.contains(">Account<"));
        for k in ["phone", "bank_account", "domain"] {
            assert!(tail.contains(&format!("&lt;{k}&gt;")), "{k} in {tail}");
        }
        assert!(tail.contains("Links &amp; &lt;strength&gt;"));
        // Phone and bank share one strength (1.0); the domain is weaker (0.5).
        assert!(
            tail.contains("&lt;phone&gt;, &lt;bank_account&gt; (1.0)"),
            "{tail}"
        );
        assert!(tail.contains("&lt;domain&gt; (0.5)"), "{tail}");
        assert!(!tail.contains("<phone>"));
        // Every legend row lies inside the drawing.
        let height: f64 = svg
            .split("height=\"")
            .nth(1)
            .and_then(|h| h.split('"').next())
            .and_then(|h| h.parse().ok())
            .unwrap();
        for y in tail.split(" y=\"").skip(1) {
            let y: f64 = y.split('"').next().unwrap().parse().unwrap();
            assert!(y < height, "legend row at {y} outside height {height}");
        }
        // The default legend is Indonesian.
        let svg = render_svg(&net, |_| String::new());
        assert!(svg.contains("rekening bank") && svg.contains(">Akun<"));
    }
}
