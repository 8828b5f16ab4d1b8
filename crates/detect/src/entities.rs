//! Contact and identifier extraction: phones (E.164), chat links and handles, e-mails, URLs and
//! domains, bank accounts next to a bank name, e-wallets, BPOM registration numbers.
//!
//! Runs on the ORIGINAL field text (not the aggressive normalized one, which folds digits and drops
//! separators), so spans are byte offsets into the original directly. Regexes are compiled once and
//! only run when a cheap pre-check (a digit, an `@`, a dot) says they can match.
//! Values follow the documented formats on [`crate::Entity::value`]. Length tables (bank account
//! digits, BPOM patterns) are hints from the domain notes: a wrong length is recorded as an attribute,
//! not a reason to drop the entity.

use crate::{Entity, EntityKind, Field};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+\s?62|\b62|\b0)[\s.\-]{0,2}8(?:[\s.\-]?\d){8,11}\b").unwrap()
});
static TOLL_FREE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:0800(?:[\s.\-]?\d){6,8}|1500[\s.\-]?\d{3})\b").unwrap());
static WHATSAPP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:https?://)?(?:wa\.me/|api\.whatsapp\.com/send/?\?phone=|wa\.link/)\+?(\d{8,15})",
    )
    .unwrap()
});
static TELEGRAM_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:https?://)?(?:t\.me|telegram\.me)/\+?([A-Za-z0-9_]{3,32})").unwrap()
});
static PLATFORM_HANDLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:\b(tele(?:gram)?|tg|ig|insta(?:gram)?|tiktok|tt|line(?:\s*id)?|id\s*line)\s*[:=]?\s*@?|(instagram\.com/|tiktok\.com/@))([A-Za-z0-9_][A-Za-z0-9_.]{1,29})",
    )
    .unwrap()
});
static HANDLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"@([A-Za-z0-9_][A-Za-z0-9_.]{1,29})").unwrap());
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}").unwrap()
});
static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)\bhttps?://[^\s<>"'()]+"#).unwrap());
static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:www\.)?[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)*\.(?:com|co\.id|id|net|org|me|ly|io|xyz|shop|site|store|online|info|biz|link|top|club|vip|app|bio|cc|tk)\b(?:/[^\s<>]*)?").unwrap()
});
static BANK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(bca|bri|bni|mandiri|bsi|cimb(?:\s*niaga)?|btn|ocbc(?:\s*nisp)?|danamon|muamalat|permata|maybank|mega|jago|seabank|btpn|jenius|blu)\b[^\d\n]{0,25}?(\d(?:[\s.\-]?\d){6,19})\b").unwrap()
});
static EWALLET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(dana|ovo|go\s?pay|shopee\s?pay|link\s?aja)\b[^\d\n]{0,20}?((?:\+\s?62|62|0)[\s.\-]{0,2}8(?:[\s.\-]?\d){8,11})\b").unwrap()
});
static HOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\ba\.?\s?n\.?\s*:?\s*([A-Za-z][A-Za-z']+(?:\s[A-Z][A-Za-z']+){0,3})").unwrap()
});
static BPOM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(POM\s*)?(NKIT|BTR|BTL|BTI|TR|TI|TL|HT|FF|SD|SI|SL|N[A-E]|MD|ML|[DG][BTKPN][LIX]|P-?IRT(?:\s*No\.?)?)[\s:.\-]*(\d(?:[\s.\-]?[\dO]){2,17})(?:\s?([A-Z])\s?(\d))?\b").unwrap()
});
static VALID_MEDICINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[DG][BTKPN][LIX]\d{10}[A-Z]\d$").unwrap());

/// Expected account-number lengths per bank (domain notes; hints only).
fn bank_length(bank: &str) -> Option<usize> {
    Some(match bank {
        "BCA" | "BNI" | "BSI" | "DANAMON" | "MUAMALAT" => 10,
        "MANDIRI" | "CIMB" => 13,
        "BRI" => 15,
        "BTN" => 16,
        "OCBC" => 12,
        _ => return None,
    })
}

/// Operator hint from an Indonesian mobile prefix (national form `8xx`).
fn operator(national: &str) -> Option<&'static str> {
    let p: u32 = national.get(..3)?.parse().ok()?;
    Some(match p {
        811..=813 | 821..=823 | 851..=853 => "telkomsel",
        814..=816 | 855..=858 => "indosat",
        817..=819 | 859 | 877 | 878 => "xl",
        831..=833 | 838 => "axis",
        895..=899 => "tri",
        881..=889 => "smartfren",
        _ => return None,
    })
}

fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// `+62` form of an Indonesian mobile written as 08..., 62... or +62...; None when implausible.
pub(crate) fn e164(raw: &str) -> Option<String> {
    let d = digits(raw);
    let national = if let Some(r) = d.strip_prefix("62") {
        r
    } else if let Some(r) = d.strip_prefix('0') {
        r
    } else {
        &d
    };
    // 0800 is toll-free, not a mobile: handled by TOLL_FREE.
    if !national.starts_with('8')
        || national.starts_with("800")
        || !(9..=12).contains(&national.len())
    {
        return None;
    }
    Some(format!("+62{national}"))
}

/// Extract entities from one field into `out`.
pub(crate) fn extract(text: &str, field: Field, out: &mut Vec<Entity>) {
    let bytes = text.as_bytes();
    let has_digit = bytes.iter().any(u8::is_ascii_digit);
    let has_at = bytes.contains(&b'@');
    let has_dot = bytes.contains(&b'.') || bytes.contains(&b'/');
    let first = out.len();
    let mut push = |kind: EntityKind,
                    value: String,
                    start: usize,
                    end: usize,
                    attrs: BTreeMap<String, String>| {
        out.push(Entity {
            kind,
            value,
            field,
            start,
            end,
            attrs,
        });
    };
    let mut taken: Vec<(usize, usize)> = Vec::new();
    let overlaps =
        |taken: &[(usize, usize)], s: usize, e: usize| taken.iter().any(|&(a, b)| s < b && a < e);

    if has_digit {
        if has_dot {
            for c in WHATSAPP.captures_iter(text) {
                let m = c.get(0).unwrap();
                if let Some(v) = e164(&c[1]) {
                    push(EntityKind::Whatsapp, v, m.start(), m.end(), BTreeMap::new());
                    taken.push((m.start(), m.end()));
                }
            }
        }
        for c in EWALLET.captures_iter(text) {
            let m = c.get(0).unwrap();
            let wallet = c[1].to_ascii_uppercase().replace(' ', "");
            if let Some(phone) = e164(&c[2]) {
                let mut attrs = BTreeMap::from([("wallet".to_string(), wallet.clone())]);
                add_holder(text, m.end(), &mut attrs);
                push(
                    EntityKind::Ewallet,
                    format!("{wallet}:{phone}"),
                    m.start(),
                    m.end(),
                    attrs,
                );
                let p = c.get(2).unwrap();
                push(
                    EntityKind::Phone,
                    phone,
                    p.start(),
                    p.end(),
                    BTreeMap::new(),
                );
                taken.push((m.start(), m.end()));
            }
        }
        for m in PHONE.find_iter(text) {
            if overlaps(&taken, m.start(), m.end())
                || (m.start() > 0 && bytes[m.start() - 1].is_ascii_digit())
            {
                continue;
            }
            if let Some(v) = e164(m.as_str()) {
                let mut attrs = BTreeMap::new();
                if let Some(op) = operator(&v[3..]) {
                    attrs.insert("operator".to_string(), op.to_string());
                }
                push(EntityKind::Phone, v, m.start(), m.end(), attrs);
                taken.push((m.start(), m.end()));
            }
        }
        for m in TOLL_FREE.find_iter(text) {
            if overlaps(&taken, m.start(), m.end()) {
                continue;
            }
            let d = digits(m.as_str());
            let value = if d.starts_with("0800") {
                format!("+62{}", &d[1..])
            } else {
                d
            };
            let attrs = BTreeMap::from([
                ("shared".to_string(), "true".to_string()),
                (
                    "number_type".to_string(),
                    "toll_free_or_call_centre".to_string(),
                ),
            ]);
            push(EntityKind::Phone, value, m.start(), m.end(), attrs);
            taken.push((m.start(), m.end()));
        }
        for c in BANK.captures_iter(text) {
            let m = c.get(0).unwrap();
            let num = c.get(2).unwrap();
            let d = digits(num.as_str());
            if overlaps(&taken, num.start(), num.end())
                || e164(num.as_str()).is_some() && d.starts_with('0')
            {
                continue;
            }
            let bank = c[1]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let mut attrs = BTreeMap::from([("bank".to_string(), bank.clone())]);
            if let Some(len) = bank_length(&bank) {
                attrs.insert("expected_length".to_string(), len.to_string());
                attrs.insert("length_ok".to_string(), (len == d.len()).to_string());
            }
            add_holder(text, m.end(), &mut attrs);
            push(
                EntityKind::BankAccount,
                format!("{bank}:{d}"),
                m.start(),
                m.end(),
                attrs,
            );
            taken.push((m.start(), m.end()));
        }
        for c in BPOM.captures_iter(text) {
            let m = c.get(0).unwrap();
            if overlaps(&taken, m.start(), m.end()) {
                continue;
            }
            let pom = c.get(1).is_some();
            // Short numbers count only after "POM" ("POM TR 0712" is a malformed number; "ML 100" a volume).
            if !pom && digits(&c[3]).len() < 6 {
                let mut from = m.start().saturating_sub(20);
                while !text.is_char_boundary(from) {
                    from -= 1;
                }
                let before = text[from..m.start()].to_ascii_lowercase();
                if !["reg", "bpom", "notif", "izin"]
                    .iter()
                    .any(|k| before.contains(k))
                {
                    continue;
                }
            }
            let prefix = c[2]
                .to_ascii_uppercase()
                .replace([' ', '-', '.'], "")
                .replace("NO", "");
            let d = digits(&c[3]);
            let tail = match (c.get(4), c.get(5)) {
                (Some(l), Some(n)) => format!("{}{}", l.as_str(), n.as_str()),
                _ => String::new(),
            };
            // Units written like "MD 5" or "ML 100" are too short to reach here (6+ digits).
            let (compact, mut status) = classify_bpom(pom, &prefix, &d, &tail);
            // A letter O among the digits ("POM TR-2O18-4411") is a forger's typo, never a number.
            if c[3].contains(['O', 'o']) {
                status = "malformed";
            }
            let attrs = BTreeMap::from([("status".to_string(), status.to_string())]);
            push(EntityKind::BpomNumber, compact, m.start(), m.end(), attrs);
            taken.push((m.start(), m.end()));
        }
    }
    if has_at && has_dot {
        for m in EMAIL.find_iter(text) {
            if overlaps(&taken, m.start(), m.end()) {
                continue;
            }
            push(
                EntityKind::Email,
                m.as_str().to_ascii_lowercase(),
                m.start(),
                m.end(),
                BTreeMap::new(),
            );
            taken.push((m.start(), m.end()));
        }
    }
    if has_dot {
        for m in TELEGRAM_LINK.captures_iter(text) {
            let all = m.get(0).unwrap();
            if overlaps(&taken, all.start(), all.end()) {
                continue;
            }
            push(
                EntityKind::Telegram,
                m[1].to_ascii_lowercase(),
                all.start(),
                all.end(),
                BTreeMap::new(),
            );
            taken.push((all.start(), all.end()));
        }
    }
    for c in PLATFORM_HANDLE.captures_iter(text) {
        let all = c.get(0).unwrap();
        if overlaps(&taken, all.start(), all.end()) {
            continue;
        }
        let platform = c
            .get(1)
            .or(c.get(2))
            .map(|m| m.as_str().to_ascii_lowercase())
            .unwrap_or_default();
        let explicit =
            c.get(2).is_some() || all.as_str().contains('@') || all.as_str().contains(':');
        if !explicit {
            continue;
        }
        let kind =
            if platform.starts_with("tele") || platform == "tg" || platform.starts_with("t.me") {
                EntityKind::Telegram
            } else if platform.starts_with("ig") || platform.starts_with("insta") {
                EntityKind::Instagram
            } else if platform.starts_with("tiktok") || platform == "tt" {
                EntityKind::Tiktok
            } else {
                EntityKind::Line
            };
        let handle = c[3].trim_end_matches('.').to_ascii_lowercase();
        push(kind, handle, all.start(), all.end(), BTreeMap::new());
        taken.push((all.start(), all.end()));
    }
    if has_dot {
        for m in URL.find_iter(text) {
            if overlaps(&taken, m.start(), m.end()) {
                continue;
            }
            let v = m.as_str().trim_end_matches(['.', ',', '!', '?']);
            push(
                EntityKind::Url,
                v.to_string(),
                m.start(),
                m.start() + v.len(),
                BTreeMap::new(),
            );
            taken.push((m.start(), m.end()));
        }
        for m in DOMAIN.find_iter(text) {
            if overlaps(&taken, m.start(), m.end())
                || (m.start() > 0 && bytes[m.start() - 1] == b'@')
            {
                continue;
            }
            let v = m.as_str().trim_end_matches(['.', ',', '!', '?']);
            let host = v.split('/').next().unwrap_or(v).to_ascii_lowercase();
            let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
            push(
                EntityKind::Domain,
                host,
                m.start(),
                m.start() + v.len(),
                BTreeMap::new(),
            );
            taken.push((m.start(), m.end()));
        }
    }
    if has_at {
        for c in HANDLE.captures_iter(text) {
            let all = c.get(0).unwrap();
            if overlaps(&taken, all.start(), all.end())
                || (all.start() > 0
                    && (bytes[all.start() - 1].is_ascii_alphanumeric()
                        || bytes[all.start() - 1] == b'.'))
            {
                continue;
            }
            let handle = c[1].trim_end_matches('.').to_ascii_lowercase();
            push(
                EntityKind::Handle,
                handle,
                all.start(),
                all.end(),
                BTreeMap::new(),
            );
        }
    }
    // Same value twice in one field (repeated contact lines) is one entity.
    let mut seen = std::collections::HashSet::new();
    let mut i = first;
    while i < out.len() {
        if seen.insert((out[i].kind, out[i].value.clone())) {
            i += 1;
        } else {
            out.remove(i);
        }
    }
}

fn add_holder(text: &str, from: usize, attrs: &mut BTreeMap<String, String>) {
    let end = (from + 48).min(text.len());
    let mut end = end;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if let Some(c) = HOLDER.captures(&text[from..end]) {
        attrs.insert("holder".to_string(), c[1].trim().to_string());
    }
}

/// Compact form and `valid`/`malformed` status of a BPOM (or P-IRT) registration number.
fn classify_bpom(pom: bool, prefix: &str, d: &str, tail: &str) -> (String, &'static str) {
    let compact = format!("{}{prefix}{d}{tail}", if pom { "POM" } else { "" });
    let ok = match prefix {
        "TR" | "TI" | "TL" | "HT" | "FF" | "BTR" | "BTL" | "BTI" | "SD" | "SI" | "SL" => {
            d.len() == 9
        }
        "NKIT" => d.len() == 9,
        "MD" | "ML" => (12..=15).contains(&d.len()),
        p if p.starts_with('N') && p.len() == 2 => d.len() == 11,
        p if p.starts_with('P') => d.len() >= 15,
        p if p.len() == 3 => VALID_MEDICINE.is_match(&format!("{p}{d}{tail}")),
        _ => false,
    };
    (compact, if ok { "valid" } else { "malformed" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ents(text: &str) -> Vec<Entity> {
        let mut out = Vec::new();
        extract(text, Field::Text, &mut out);
        out
    }

    fn values(text: &str, kind: EntityKind) -> Vec<String> {
        ents(text)
            .into_iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.value)
            .collect()
    }

    #[test]
    fn phones_to_e164_with_separators() {
        assert_eq!(
            values("wa 0812-7741-3309 ya", EntityKind::Phone),
            vec!["+6281277413309"]
        );
        assert_eq!(
            values("hub +62 857 2231 0098", EntityKind::Phone),
            vec!["+6285722310098"]
        );
        assert_eq!(
            values("62.813.1234.5678", EntityKind::Phone),
            vec!["+6281312345678"]
        );
        assert!(values("harga 150000 isi 1000", EntityKind::Phone).is_empty());
        let e = ents("call 0812 7741 3309");
        assert_eq!(
            e[0].attrs.get("operator").map(String::as_str),
            Some("telkomsel")
        );
        let text = "nomor: 0857-2231-0098.";
        let p = &ents(text)[0];
        assert_eq!(&text[p.start..p.end], "0857-2231-0098");
    }

    #[test]
    fn toll_free_numbers_are_marked_shared() {
        let e = ents("Layanan 0800-1-500-567 dan 1500123");
        let shared: Vec<&Entity> = e
            .iter()
            .filter(|e| e.attrs.contains_key("shared"))
            .collect();
        assert_eq!(shared.len(), 2, "{e:?}");
    }

    #[test]
    fn chat_links_and_handles() {
        assert_eq!(
            values("klik wa.me/6281277413309", EntityKind::Whatsapp),
            vec!["+6281277413309"]
        );
        assert_eq!(
            values(
                "https://api.whatsapp.com/send?phone=6285722310098",
                EntityKind::Whatsapp
            ),
            vec!["+6285722310098"]
        );
        assert_eq!(
            values("join t.me/lokerkamboja_official", EntityKind::Telegram),
            vec!["lokerkamboja_official"]
        );
        assert_eq!(
            values("tele: @admin_rekrut", EntityKind::Telegram),
            vec!["admin_rekrut"]
        );
        assert_eq!(
            values("IG @Toko.Glow", EntityKind::Instagram),
            vec!["toko.glow"]
        );
        assert_eq!(
            values("tiktok: @jualan_kita", EntityKind::Tiktok),
            vec!["jualan_kita"]
        );
        assert_eq!(
            values("id line: mawar22", EntityKind::Line),
            vec!["mawar22"]
        );
        assert_eq!(
            values("cek @someone ya", EntityKind::Handle),
            vec!["someone"]
        );
        assert_eq!(
            values("email CS@Contoh.co.id", EntityKind::Email),
            vec!["cs@contoh.co.id"]
        );
        assert!(values("email CS@Contoh.co.id", EntityKind::Handle).is_empty());
        assert_eq!(
            values("lihat https://contoh.xyz/promo.", EntityKind::Url),
            vec!["https://contoh.xyz/promo"]
        );
        assert_eq!(
            values("situs www.Contoh-Toko.com/abc", EntityKind::Domain),
            vec!["contoh-toko.com"]
        );
    }

    #[test]
    fn bank_accounts_and_wallets() {
        let e = ents("transfer BCA 123-456-7890 a.n. Siti Aminah");
        let b = e
            .iter()
            .find(|e| e.kind == EntityKind::BankAccount)
            .unwrap();
        assert_eq!(b.value, "BCA:1234567890");
        assert_eq!(b.attrs.get("length_ok").map(String::as_str), Some("true"));
        assert_eq!(
            b.attrs.get("holder").map(String::as_str),
            Some("Siti Aminah")
        );
        let e = ents("rek mandiri: 1234567890");
        let b = e
            .iter()
            .find(|e| e.kind == EntityKind::BankAccount)
            .unwrap();
        assert_eq!(
            b.attrs.get("length_ok").map(String::as_str),
            Some("false"),
            "a hint, not a rejection"
        );
        assert_eq!(
            values("DP via DANA 0812-7741-3309", EntityKind::Ewallet),
            vec!["DANA:+6281277413309"]
        );
        assert_eq!(
            values("gopay 081277413309", EntityKind::Ewallet),
            vec!["GOPAY:+6281277413309"]
        );
    }

    #[test]
    fn bpom_numbers_are_validated() {
        let status = |t: &str| {
            ents(t)
                .into_iter()
                .find(|e| e.kind == EntityKind::BpomNumber)
                .map(|e| (e.value, e.attrs["status"].clone()))
        };
        assert_eq!(
            status("BPOM RI POM TR 182 614 921"),
            Some(("POMTR182614921".into(), "valid".into()))
        );
        assert_eq!(
            status("No. Reg DBL7208606010A1"),
            Some(("DBL7208606010A1".into(), "valid".into()))
        );
        assert_eq!(
            status("notifikasi NA18171234567"),
            Some(("NA18171234567".into(), "valid".into()))
        );
        assert_eq!(
            status("POM SD 2015512"),
            Some(("POMSD2015512".into(), "malformed".into()))
        );
        assert_eq!(
            status("BPOM NA1817123"),
            Some(("NA1817123".into(), "malformed".into()))
        );
        assert_eq!(status("isi 100 ml"), None);
        assert_eq!(status("ML 100"), None);
        assert_eq!(
            status("NO REG NA1820 (proses)"),
            Some(("NA1820".into(), "malformed".into()))
        );
        assert_eq!(
            status("BPOM: TR-092-337"),
            Some(("TR092337".into(), "malformed".into()))
        );
        assert_eq!(
            status("POM TR 0712 asli"),
            Some(("POMTR0712".into(), "malformed".into()))
        );
        // A letter O among the digits is a forged number; a word after a valid one is not part of it.
        assert_eq!(
            status("Reg: POM TR-2O18-4411"),
            Some(("POMTR2184411".into(), "malformed".into()))
        );
        assert_eq!(
            status("POM TR 182 614 921 Original"),
            Some(("POMTR182614921".into(), "valid".into()))
        );
    }
}
