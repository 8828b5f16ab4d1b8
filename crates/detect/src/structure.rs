//! Structural signals that a word list cannot express: numbers next to words.
//!
//! - session prices in sex-work ads: `ST 300`, `LT 1,3jt`, `500/ST`, `2jt short`;
//! - implausible pay in job offers: `gaji 1.200 USD`, `gajian 18 juta`, `salary RM 2500`.
//!
//! Works on the normalized text (lower-case words separated by single spaces; numbers with units such
//! as `20jt` stay one word), so it is a cheap token walk, not a regex per post.

/// A byte span of the normalized text and what was found there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    SessionPrice,
    HighPay,
    /// A price per hour or night ("1 jam 300", "sampai pagi 900"): photographers and bands charge
    /// per hour too, so this is context, not evidence.
    HourlyPrice,
    /// A count of pills: `10 butir`, `5 strip`, `100 tab`, `isi 1000`.
    PillCount,
    /// A body or health result promised within days: `putih 3 hari`, `glow dalam 7 hari`,
    /// `hasil 3 hari`, `turun 15 20 kg`.
    QuickResult,
}

fn tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    for w in text.split(' ') {
        if !w.is_empty() {
            out.push((at, at + w.len()));
        }
        at += w.len() + 1;
    }
    out
}

fn starts_with_digit(w: &str) -> bool {
    w.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

const SESSION: &[&str] = &[
    "st",
    "lt",
    "short",
    "long",
    "shortime",
    "shorttime",
    "longtime",
    "sort",
    "crot",
];
const PAY: &[&str] = &[
    "bonus",
    "gaji",
    "gajian",
    "gajinya",
    "salary",
    "penghasilan",
    "income",
    "upah",
    "bayaran",
    "pendapatan",
    "take",
    "thp",
];
const FOREIGN: &[&str] = &[
    "usd", "dolar", "dollar", "dollars", "rm", "ringgit", "baht", "sgd", "us",
];

const TIMED: &[&str] = &["jam", "sejam", "semalam", "nginep", "pagi", "malam"];
const COUNT_UNITS: &[&str] = &[
    "butir", "strip", "tab", "tablet", "pil", "kapsul", "keping", "biji",
];

/// Results that cosmetics, slimming and "herbal" cures promise. A result within a week (or a loss of
/// 5 kg and more) is a miracle claim; registered products speak of weeks of regular use.
const RESULTS: &[&str] = &[
    "putih", "cerah", "glow", "glowing", "hasil", "hasilnya", "sembuh", "hilang", "langsing",
    "kurus", "mulus", "tumbuh", "kempes", "mengecil", "rontok", "kencang", "lenyap", "kinclong",
];
const WITHIN: &[&str] = &[
    "dalam", "cuma", "hanya", "cukup", "setelah", "selama", "hitungan",
];

/// Real-estate listings write LT/LB (land/building area) next to numbers.
const REAL_ESTATE: &[&str] = &[
    "lb",
    "shm",
    "hgb",
    "ajb",
    "luas",
    "kt",
    "km",
    "sertifikat",
    "tanah",
    "bangunan",
];

/// Find structural signals in `text`, appending `(signal, start, end)` to `out`.
pub(crate) fn scan(text: &str, out: &mut Vec<(Signal, usize, usize)>) {
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return;
    }
    let toks = tokens(text);
    let word = |i: usize| &text[toks[i].0..toks[i].1];
    let real_estate = (0..toks.len()).any(|i| REAL_ESTATE.contains(&word(i)));
    for i in 0..toks.len() {
        let w = word(i);
        if i > 0 && COUNT_UNITS.contains(&w) && starts_with_digit(word(i - 1)) {
            out.push((Signal::PillCount, toks[i - 1].0, toks[i].1));
        }
        let mass = |k: usize| {
            k < toks.len()
                && matches!(
                    word(k),
                    "gram"
                        | "gr"
                        | "g"
                        | "kg"
                        | "ml"
                        | "liter"
                        | "l"
                        | "lt"
                        | "cc"
                        | "ons"
                        | "buah"
                        | "pcs"
                        | "lembar"
                )
        };
        let next_word = if i + 1 < toks.len() { word(i + 1) } else { "" };
        let plain_number = next_word.bytes().all(|b| b.is_ascii_digit());
        if w == "isi" && plain_number && price_like(next_word, "") && !mass(i + 2) {
            out.push((Signal::PillCount, toks[i].0, toks[i + 1].1));
        }
        // "1 jam 300", "sejam 300", "sampai pagi 900", "semalam 1jt"
        if !real_estate && TIMED.contains(&w) && i + 1 < toks.len() {
            let next_of = if i + 2 < toks.len() { word(i + 2) } else { "" };
            let hours_before =
                w != "jam" || (i > 0 && word(i - 1).len() <= 2 && starts_with_digit(word(i - 1)));
            if hours_before && price_like(word(i + 1), next_of) {
                out.push((Signal::HourlyPrice, toks[i].0, toks[i + 1].1));
            }
        }
        if !real_estate && SESSION.contains(&w) {
            let next_of = |k: usize| if k + 1 < toks.len() { word(k + 1) } else { "" };
            let before = i > 0 && price_like(word(i - 1), w);
            let after = i + 1 < toks.len() && price_like(word(i + 1), next_of(i + 1));
            if before || after {
                let (s, e) = if after {
                    (toks[i].0, toks[i + 1].1)
                } else {
                    (toks[i - 1].0, toks[i].1)
                };
                out.push((Signal::SessionPrice, s, e));
            }
        }
        if RESULTS.contains(&w)
            && let Some(e) = quick_result(&toks, text, i + 1)
        {
            out.push((Signal::QuickResult, toks[i].0, e));
        }
        if (w == "turun" || w == "naik") && i + 2 < toks.len() {
            // "turun 10 kg", "turun 15 20 kg" (a range written with a dash)
            let n = word(i + 1);
            let k = if i + 3 < toks.len() && starts_with_digit(word(i + 2)) {
                i + 3
            } else {
                i + 2
            };
            let v: u32 = n.parse().unwrap_or(0);
            if (5..100).contains(&v) && matches!(word(k), "kg" | "kilo") {
                out.push((Signal::QuickResult, toks[i].0, toks[k].1));
            }
        }
        if PAY.iter().any(|p| w.starts_with(p)) {
            // Look at the next few words for an amount.
            let end = (i + 7).min(toks.len());
            if let Some(e) = (i + 1..end).find_map(|j| high_amount(&toks, text, j)) {
                out.push((Signal::HighPay, toks[i].0, e));
            }
        }
    }
}

/// A price rather than a floor or street number: 100 or more, or written with k/rb/jt.
fn price_like(w: &str, next: &str) -> bool {
    if !starts_with_digit(w) {
        return false;
    }
    let digits: String = w.chars().take_while(char::is_ascii_digit).collect();
    let suffix = &w[digits.len()..];
    let value: u64 = digits.parse().unwrap_or(0);
    let money = |u: &str| matches!(u, "k" | "rb" | "ribu" | "jt" | "juta" | "jta");
    value >= 100 || money(suffix) || (suffix.is_empty() && (money(next) || next.ends_with("jt")))
}

/// If a short period ("3 hari", "dalam 7 hari", "semalam", "seminggu") starts at token `j` (after at
/// most one linking word), the byte end of it.
fn quick_result(toks: &[(usize, usize)], text: &str, j: usize) -> Option<usize> {
    let word = |i: usize| &text[toks[i].0..toks[i].1];
    let mut j = j;
    if j < toks.len() && WITHIN.contains(&word(j)) {
        j += 1;
    }
    if j >= toks.len() {
        return None;
    }
    if matches!(
        word(j),
        "semalam" | "seminggu" | "sehari" | "instan" | "instant"
    ) {
        return Some(toks[j].1);
    }
    let n: u32 = word(j).parse().ok()?;
    let unit = if j + 1 < toks.len() { word(j + 1) } else { "" };
    let short = match unit {
        "hari" => n <= 7,
        "minggu" => n <= 1,
        "malam" | "jam" | "menit" => true,
        _ => false,
    };
    short.then(|| toks[j + 1].1)
}

/// If an implausibly high monthly pay starts at token `j`, the byte end of the amount.
fn high_amount(toks: &[(usize, usize)], text: &str, j: usize) -> Option<usize> {
    let word = |i: usize| &text[toks[i].0..toks[i].1];
    let w = word(j);
    if FOREIGN.contains(&w) {
        // "USD 1.500", "RM 2500"
        if j + 1 < toks.len() && starts_with_digit(word(j + 1)) {
            return Some(toks[j + 1].1);
        }
        return None;
    }
    if !starts_with_digit(w) {
        return None;
    }
    // Join "1 200" (thousands written with a dot, folded to a space) into 1200.
    let mut digits: String = w.chars().take_while(char::is_ascii_digit).collect();
    let mut suffix: String = w.chars().skip_while(char::is_ascii_digit).collect();
    let mut k = j;
    while suffix.is_empty() && k + 1 < toks.len() {
        let n = word(k + 1);
        let d: String = n.chars().take_while(char::is_ascii_digit).collect();
        if d.len() == 3 {
            digits.push_str(&d);
            suffix = n.chars().skip_while(char::is_ascii_digit).collect();
            k += 1;
        } else {
            break;
        }
    }
    let value: f64 = digits.parse().ok()?;
    let next = if k + 1 < toks.len() { word(k + 1) } else { "" };
    let unit = if suffix.is_empty() {
        next
    } else {
        suffix.as_str()
    };
    let juta = matches!(unit, "jt" | "juta" | "jta" | "jutaan");
    if juta && (7.0..=200.0).contains(&value) {
        return Some(if suffix.is_empty() {
            toks[k + 1].1
        } else {
            toks[k].1
        });
    }
    if FOREIGN.contains(&unit) || unit == "k" && FOREIGN.contains(&next) {
        return Some(if suffix.is_empty() {
            toks[k + 1].1
        } else {
            toks[k].1
        });
    }
    // A bare rupiah figure of 7,000,000 or more.
    if suffix.is_empty() && (7_000_000.0..1e9).contains(&value) {
        return Some(toks[k].1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(text: &str) -> Vec<Signal> {
        let mut out = Vec::new();
        scan(text, &mut out);
        out.into_iter().map(|(s, _, _)| s).collect()
    }

    #[test]
    fn session_prices() {
        assert_eq!(
            signals("st 300 lt 800"),
            vec![Signal::SessionPrice, Signal::SessionPrice]
        );
        assert_eq!(signals("rara 22 800 lt"), vec![Signal::SessionPrice]);
        assert!(
            signals("kamar 14 lt 2").is_empty(),
            "a floor number is not a price"
        );
        assert_eq!(signals("lt 1 3jt"), vec![Signal::SessionPrice]);
        assert!(signals("lantai st").is_empty());
        assert!(signals("rumah lt 90 lb 120 shm").is_empty());
    }

    #[test]
    fn hourly_prices() {
        assert_eq!(
            signals("1 jam 300 sampai pagi 900"),
            vec![Signal::HourlyPrice, Signal::HourlyPrice]
        );
        assert!(signals("buka jam 10 sampai jam 22").is_empty());
    }

    #[test]
    fn pill_counts() {
        assert_eq!(signals("10 butir 50rb"), vec![Signal::PillCount]);
        assert_eq!(signals("1 box isi 1000"), vec![Signal::PillCount]);
        assert!(signals("isi 10").is_empty());
        assert!(signals("isi 1000 gram").is_empty());
    }

    #[test]
    fn quick_results() {
        assert_eq!(signals("krim glow 3 hari"), vec![Signal::QuickResult]);
        assert_eq!(signals("putih dalam 7 hari"), vec![Signal::QuickResult]);
        assert_eq!(signals("bisa turun 15 20 kg"), vec![Signal::QuickResult]);
        assert!(signals("kulit cerah dalam 4 minggu pemakaian rutin").is_empty());
        assert!(signals("hasil panen 30 hari").is_empty());
        assert!(signals("berat turun 2 kg").is_empty());
    }

    #[test]
    fn pay_amounts() {
        assert_eq!(signals("gaji 1 200 usd"), vec![Signal::HighPay]);
        assert_eq!(signals("gajian 18 juta"), vec![Signal::HighPay]);
        assert_eq!(signals("gaji 15 20jt"), vec![Signal::HighPay]);
        assert_eq!(signals("gaji rm 2500"), vec![Signal::HighPay]);
        assert!(signals("gaji 4 juta").is_empty());
        assert!(signals("gaji umr 3 500 000").is_empty());
    }
}
