//! Indonesian administrative regions (Kemendagri codes) and the mapping of informal location text
//! ("kota tarakan", "Tanjung Selor", "Kaltara") to them.
//!
//! The official tables ship as CSV under `data/wilayah/` and are compiled in. Resolution must never
//! guess: text that names two places in different provinces, or nothing we know, resolves to `None`
//! and the caller keeps the raw text. When every reading of the text lies inside one province (e.g.
//! "Malang" is both Kabupaten and Kota Malang, both in Jawa Timur) we answer with that province,
//! which is true whichever was meant.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

const PROVINCES_CSV: &str = include_str!("../data/wilayah/provinces.csv");
const REGENCIES_CSV: &str = include_str!("../data/wilayah/regencies.csv");
const DISTRICTS_CSV: &str = include_str!("../data/wilayah/districts.csv");
const ALIASES_CSV: &str = include_str!("../data/wilayah/aliases.csv");
const COMMON_WORDS: &str = include_str!("../data/wilayah/district_common_words.txt");

/// How deep in the hierarchy a region sits. Codes have 1, 2 or 3 dotted parts respectively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    /// Provinsi, e.g. `65` Kalimantan Utara.
    Province,
    /// Kabupaten or kota, e.g. `65.71` Kota Tarakan.
    Regency,
    /// Kecamatan, e.g. `65.01.05` Tanjung Selor.
    District,
}

/// Whether a regency is a kabupaten (rural regency) or a kota (city).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegencyKind {
    Kabupaten,
    Kota,
}

/// One row of the official tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    /// Official dotted code: `65`, `65.01`, `65.01.05`.
    pub code: String,
    /// Official name as published, e.g. "Kabupaten Bulungan".
    pub name: String,
    pub level: RegionLevel,
    /// Set for regencies only.
    pub kind: Option<RegencyKind>,
}

impl Region {
    /// Code of the province this region belongs to (itself for a province).
    pub fn province_code(&self) -> &str {
        self.code.split('.').next().unwrap_or(&self.code)
    }

    /// Code of the regency this region belongs to (itself for a regency, `None` for a province).
    pub fn regency_code(&self) -> Option<&str> {
        match self.level {
            RegionLevel::Province => None,
            RegionLevel::Regency => Some(&self.code),
            RegionLevel::District => self.code.rfind('.').map(|i| &self.code[..i]),
        }
    }
}

/// The answer of [`Regions::resolve`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    /// The most specific region the text certainly names.
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    /// Always set: statistics are kept per province.
    pub province_code: String,
    /// Set when the answer is a regency or a district.
    pub regency_code: Option<String>,
}

/// A malformed region table (only possible with tables passed to [`Regions::from_csv`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    #[error("{table} line {line}: expected `kode,nama`")]
    BadRow { table: &'static str, line: usize },
    #[error("{table} line {line}: code `{code}` is not a valid {table} code")]
    BadCode {
        table: &'static str,
        line: usize,
        code: String,
    },
    #[error("{table} line {line}: parent of `{code}` is not in the tables")]
    Orphan {
        table: &'static str,
        line: usize,
        code: String,
    },
    #[error("{table} line {line}: duplicate code `{code}`")]
    Duplicate {
        table: &'static str,
        line: usize,
        code: String,
    },
}

/// What a hint word in the text ("kab.", "kota", "kec.", "provinsi") restricts the next name to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hint {
    Kabupaten,
    Kota,
    District,
    Province,
}

/// The region tables with name indexes for [`Regions::resolve`].
#[derive(Debug, Clone)]
pub struct Regions {
    regions: Vec<Region>,
    by_code: HashMap<String, u32>,
    children: HashMap<String, Vec<u32>>,
    /// Normalized name or alias -> regions carrying it.
    by_name: HashMap<String, Vec<u32>>,
    /// Longest name in tokens, bounds the n-gram search.
    max_tokens: usize,
    /// District names that are everyday words: they only refine, never locate alone.
    common_words: std::collections::HashSet<String>,
}

impl Regions {
    /// The tables shipped with Patroli (38 provinces, 514 kabupaten/kota, 7,285 kecamatan), parsed once.
    pub fn builtin() -> &'static Regions {
        static BUILTIN: OnceLock<Regions> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            Regions::from_csv(PROVINCES_CSV, REGENCIES_CSV, DISTRICTS_CSV, ALIASES_CSV)
                .map(|r| r.with_common_words(COMMON_WORDS))
                .expect("built-in region tables are valid (checked by tests)")
        })
    }

    /// Builds the tables from CSV text (`kode,nama` with a header line; aliases are `kode,alias`).
    /// Every regency must have its province and every district its regency.
    pub fn from_csv(
        provinces: &str,
        regencies: &str,
        districts: &str,
        aliases: &str,
    ) -> Result<Regions, RegionError> {
        let mut r = Regions {
            regions: Vec::new(),
            by_code: HashMap::new(),
            children: HashMap::new(),
            by_name: HashMap::new(),
            max_tokens: 1,
            common_words: Default::default(),
        };
        for (table, text, level) in [
            ("province", provinces, RegionLevel::Province),
            ("regency", regencies, RegionLevel::Regency),
            ("district", districts, RegionLevel::District),
        ] {
            for (line, code, name) in rows(table, text)? {
                if !valid_code(&code, level) {
                    return Err(RegionError::BadCode { table, line, code });
                }
                if r.by_code.contains_key(&code) {
                    return Err(RegionError::Duplicate { table, line, code });
                }
                let parent = code.rfind('.').map(|i| code[..i].to_string());
                if let Some(p) = &parent
                    && !r.by_code.contains_key(p)
                {
                    return Err(RegionError::Orphan { table, line, code });
                }
                let kind = match level {
                    RegionLevel::Regency if name.starts_with("Kota ") => Some(RegencyKind::Kota),
                    RegionLevel::Regency => Some(RegencyKind::Kabupaten),
                    _ => None,
                };
                let idx = r.regions.len() as u32;
                r.index_name(&base_name(&name, level), idx);
                if let Some(p) = parent {
                    r.children.entry(p).or_default().push(idx);
                }
                r.by_code.insert(code.clone(), idx);
                r.regions.push(Region {
                    code,
                    name,
                    level,
                    kind,
                });
            }
        }
        for (line, code, alias) in rows("alias", aliases)? {
            let Some(&idx) = r.by_code.get(&code) else {
                return Err(RegionError::Orphan {
                    table: "alias",
                    line,
                    code,
                });
            };
            r.index_name(&alias, idx);
        }
        Ok(r)
    }

    /// Marks kecamatan names that are everyday words (one per line, `#` comments): alone in a
    /// text they do not locate it; after "Kec." or inside a named regency they still count.
    pub fn with_common_words(mut self, words: &str) -> Regions {
        self.common_words.extend(
            words
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| normalize(l).join(" ")),
        );
        self
    }

    fn index_name(&mut self, name: &str, idx: u32) {
        let key = normalize(name).join(" ");
        if key.is_empty() {
            return;
        }
        self.max_tokens = self.max_tokens.max(key.split(' ').count());
        let slot = self.by_name.entry(key).or_default();
        if !slot.contains(&idx) {
            slot.push(idx);
        }
    }

    /// All regions, provinces first, then regencies, then districts, each in code order.
    pub fn all(&self) -> &[Region] {
        &self.regions
    }

    /// All provinces in code order.
    pub fn provinces(&self) -> impl Iterator<Item = &Region> {
        self.regions
            .iter()
            .filter(|r| r.level == RegionLevel::Province)
    }

    /// The region with this official code, e.g. `get("65.71")` is Kota Tarakan.
    pub fn get(&self, code: &str) -> Option<&Region> {
        self.by_code
            .get(code.trim())
            .map(|&i| &self.regions[i as usize])
    }

    /// The province containing `code` (the province itself for a province code).
    pub fn province_of(&self, code: &str) -> Option<&Region> {
        let region = self.get(code)?;
        self.get(region.province_code())
    }

    /// Direct children: the regencies of a province or the districts of a regency.
    pub fn children(&self, code: &str) -> Vec<&Region> {
        self.children
            .get(code.trim())
            .map(|v| v.iter().map(|&i| &self.regions[i as usize]).collect())
            .unwrap_or_default()
    }

    /// Maps informal location text to the most specific region it certainly names, or `None`.
    ///
    /// Handles case, punctuation, the prefixes Kab./Kabupaten/Kota/Kec./Kecamatan/Provinsi and
    /// common province abbreviations (Kaltara, Jatim, DKI...). Several names in one text
    /// ("Tanjung Selor, Bulungan") must agree; a district name alone counts only when it is unique.
    pub fn resolve(&self, location_text: &str) -> Option<Resolved> {
        let tokens = normalize(location_text);
        let groups = self.match_groups(&tokens);
        // Provinces and regencies decide; districts only refine (a district name that is also a
        // common word must not veto a clear "Kota Medan"); common-word districts never decide.
        let mut coarse = Vec::new();
        let mut fine = Vec::new();
        let mut weak = Vec::new();
        for (g, is_weak) in groups {
            if g.iter()
                .any(|&i| self.regions[i as usize].level != RegionLevel::District)
            {
                coarse.push(g);
            } else if is_weak {
                weak.push(g);
            } else {
                fine.push(g);
            }
        }
        let answer = if coarse.is_empty() {
            if fine.is_empty() {
                return None;
            }
            self.agree(&fine)?
        } else {
            fine.extend(weak);
            let base = self.agree(&coarse)?;
            // Keep only district readings inside the answer: "Jl. Merdeka, Tarakan Barat, Kota
            // Tarakan" names kecamatan Merdeka (Sumatera Utara) by accident, Tarakan Barat on
            // purpose; and a kecamatan name used in many regencies becomes unique.
            let mut with_fine = coarse.clone();
            with_fine.extend(
                fine.iter()
                    .map(|g| {
                        g.iter()
                            .copied()
                            .filter(|&c| self.is_within(c, base))
                            .collect::<Vec<u32>>()
                    })
                    .filter(|g| !g.is_empty()),
            );
            match self.agree(&with_fine) {
                Some(refined) if self.is_within(refined, base) => refined,
                _ => base,
            }
        };
        let region = &self.regions[answer as usize];
        Some(Resolved {
            code: region.code.clone(),
            name: region.name.clone(),
            level: region.level,
            province_code: region.province_code().to_string(),
            regency_code: region.regency_code().map(str::to_string),
        })
    }

    /// Greedy longest-match of names over the tokens; each match yields its candidate regions.
    /// Each group comes with whether it is weak (a common-word district name without "Kec.").
    fn match_groups(&self, tokens: &[String]) -> Vec<(Vec<u32>, bool)> {
        let mut groups: Vec<(Vec<u32>, Option<Hint>, bool)> = Vec::new();
        let mut pending: Option<Hint> = None;
        let mut i = 0;
        while i < tokens.len() {
            let mut matched = None;
            for n in (1..=self.max_tokens.min(tokens.len() - i)).rev() {
                let key = tokens[i..i + n].join(" ");
                if let Some(c) = self.by_name.get(&key) {
                    matched = Some((n, c.clone()));
                    break;
                }
            }
            // A hint word followed by a name: "Kota Tarakan". A name that starts with the hint
            // word ("Kota Baru" kecamatan) is tried first, so it only applies when that fails.
            let hint = hint_word(&tokens[i]);
            match (matched, hint) {
                (Some((n, cands)), h) if h.is_none() || n > 1 => {
                    let common = self.common_words.contains(&tokens[i..i + n].join(" "));
                    groups.push((cands, pending.take(), common));
                    i += n;
                }
                (_, Some(h)) => {
                    // "Malang kota": a trailing hint applies to the name just before it.
                    let next_is_name = tokens.get(i + 1).is_some_and(|t| hint_word(t).is_none());
                    if !next_is_name
                        && let Some(last) = groups.last_mut()
                        && last.1.is_none()
                    {
                        last.1 = Some(h);
                    } else {
                        pending = Some(h);
                    }
                    i += 1;
                }
                _ => {
                    pending = None;
                    i += 1;
                }
            }
        }
        groups
            .into_iter()
            .filter_map(|(cands, hint, common)| {
                let weak = common && hint != Some(Hint::District);
                let g = self.apply_hint(cands, hint);
                (!g.is_empty()).then_some((g, weak))
            })
            .collect()
    }

    fn apply_hint(&self, cands: Vec<u32>, hint: Option<Hint>) -> Vec<u32> {
        let r = |i: &u32| &self.regions[*i as usize];
        match hint {
            Some(Hint::Kabupaten) => cands
                .into_iter()
                .filter(|i| r(i).kind == Some(RegencyKind::Kabupaten))
                .collect(),
            Some(Hint::Kota) => cands
                .into_iter()
                .filter(|i| r(i).kind == Some(RegencyKind::Kota))
                .collect(),
            Some(Hint::District) => cands
                .into_iter()
                .filter(|i| r(i).level == RegionLevel::District)
                .collect(),
            Some(Hint::Province) => cands
                .into_iter()
                .filter(|i| r(i).level == RegionLevel::Province)
                .collect(),
            None => {
                // Without a hint a name means its highest reading: "Gorontalo" is the province
                // (it is also Kab. and Kota Gorontalo inside it); "Bulungan" is the regency.
                let top = cands.iter().map(|i| r(i).level).min();
                cands
                    .into_iter()
                    .filter(|i| Some(r(i).level) == top)
                    .collect()
            }
        }
    }

    /// The most specific region consistent with every group, or `None` when they disagree or the
    /// readings of the text have no common province.
    fn agree(&self, groups: &[Vec<u32>]) -> Option<u32> {
        let consistent: Vec<u32> = groups
            .iter()
            .flatten()
            .copied()
            .filter(|&c| {
                groups.iter().all(|g| {
                    g.iter()
                        .any(|&o| self.is_within(c, o) || self.is_within(o, c))
                })
            })
            .collect();
        let deepest = consistent
            .iter()
            .map(|&c| self.regions[c as usize].level)
            .max()?;
        let mut best: Vec<u32> = consistent
            .into_iter()
            .filter(|&c| self.regions[c as usize].level == deepest)
            .collect();
        best.sort_unstable();
        best.dedup();
        let mut answer = best[0];
        for &other in &best[1..] {
            answer = self.common_ancestor(answer, other)?;
        }
        Some(answer)
    }

    /// True when `inner` is `outer` or lies inside it.
    fn is_within(&self, inner: u32, outer: u32) -> bool {
        let a = &self.regions[inner as usize].code;
        let b = &self.regions[outer as usize].code;
        a == b || (a.starts_with(b.as_str()) && a.as_bytes().get(b.len()) == Some(&b'.'))
    }

    fn common_ancestor(&self, a: u32, b: u32) -> Option<u32> {
        let a = &self.regions[a as usize].code;
        let b = &self.regions[b as usize].code;
        let common: Vec<&str> = a
            .split('.')
            .zip(b.split('.'))
            .take_while(|(x, y)| x == y)
            .map(|(x, _)| x)
            .collect();
        if common.is_empty() {
            return None;
        }
        self.by_code.get(&common.join(".")).copied()
    }
}

fn rows(table: &'static str, text: &str) -> Result<Vec<(usize, String, String)>, RegionError> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate().skip(1) {
        let line = n + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let Some((code, name)) = raw.split_once(',') else {
            return Err(RegionError::BadRow { table, line });
        };
        let (code, name) = (code.trim(), name.trim().trim_matches('"').trim());
        if code.is_empty() || name.is_empty() {
            return Err(RegionError::BadRow { table, line });
        }
        out.push((line, code.to_string(), name.to_string()));
    }
    Ok(out)
}

fn valid_code(code: &str, level: RegionLevel) -> bool {
    let parts: Vec<&str> = code.split('.').collect();
    let want = match level {
        RegionLevel::Province => 1,
        RegionLevel::Regency => 2,
        RegionLevel::District => 3,
    };
    parts.len() == want
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The name people use: "Kota Administrasi Jakarta Barat" -> "Jakarta Barat". Kind lives in
/// [`Region::kind`] and is matched through hint words instead.
fn base_name(name: &str, level: RegionLevel) -> String {
    let mut n = name.trim();
    if level == RegionLevel::Regency {
        for prefix in ["Kabupaten ", "Kota "] {
            if let Some(rest) = n.strip_prefix(prefix) {
                n = rest;
                break;
            }
        }
        n = n.strip_prefix("Administrasi ").unwrap_or(n);
    }
    n.to_string()
}

/// Lower-case word tokens. Apostrophes join ("Ma'u" = "mau"), any other non-alphanumeric
/// character separates ("Grong-grong" = "grong grong", "Kab.Bulungan" = "kab bulungan").
fn normalize(text: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(text.len());
    for ch in text.chars() {
        if ch == '\'' || ch == '\u{2019}' || ch == '`' {
            continue;
        }
        if ch.is_alphanumeric() {
            cleaned.extend(ch.to_lowercase());
        } else {
            cleaned.push(' ');
        }
    }
    cleaned.split_whitespace().map(str::to_string).collect()
}

fn hint_word(token: &str) -> Option<Hint> {
    match token {
        "kab" | "kabupaten" => Some(Hint::Kabupaten),
        "kota" | "kotamadya" | "kodya" => Some(Hint::Kota),
        "kec" | "kecamatan" => Some(Hint::District),
        "prov" | "provinsi" | "propinsi" => Some(Hint::Province),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> Option<String> {
        Regions::builtin().resolve(text).map(|r| r.code)
    }

    #[test]
    fn builtin_tables_are_complete() {
        let r = Regions::builtin();
        assert_eq!(r.provinces().count(), 38);
        let regencies = r
            .all()
            .iter()
            .filter(|x| x.level == RegionLevel::Regency)
            .count();
        assert_eq!(regencies, 514);
        assert_eq!(r.get("65").unwrap().name, "Kalimantan Utara");
        assert_eq!(
            r.get("31.72").unwrap().name,
            "Kota Administrasi Jakarta Utara"
        );
        assert_eq!(r.province_of("65.01.05").unwrap().code, "65");
        let kaltara: Vec<&str> = r.children("65").iter().map(|x| x.code.as_str()).collect();
        assert_eq!(kaltara, ["65.01", "65.02", "65.03", "65.04", "65.71"]);
        assert!(
            r.children("65.01")
                .iter()
                .any(|d| d.name == "Tanjung Selor")
        );
    }

    #[test]
    fn domain_examples_resolve() {
        assert_eq!(code("Tanjung Selor").as_deref(), Some("65.01.05"));
        let ts = Regions::builtin().resolve("Tanjung Selor").unwrap();
        assert_eq!(ts.regency_code.as_deref(), Some("65.01"));
        assert_eq!(ts.province_code, "65");
        assert_eq!(code("Kab. Bulungan").as_deref(), Some("65.01"));
        assert_eq!(code("kota tarakan").as_deref(), Some("65.71"));
        assert_eq!(code("Balikpapan").as_deref(), Some("64.71"));
        assert_eq!(code("Jakarta Barat").as_deref(), Some("31.73"));
        assert_eq!(code("Medan").as_deref(), Some("12.71"));
        assert_eq!(code("Kaltara").as_deref(), Some("65"));
        assert_eq!(code("Jatim").as_deref(), Some("35"));
        assert_eq!(code("jakbar").as_deref(), Some("31.73"));
    }

    #[test]
    fn prefixes_case_and_punctuation() {
        assert_eq!(code("KABUPATEN BULUNGAN").as_deref(), Some("65.01"));
        assert_eq!(code("Kab.Bulungan, Kaltara").as_deref(), Some("65.01"));
        assert_eq!(
            code("Kec. Tanjung Selor, Kab. Bulungan").as_deref(),
            Some("65.01.05")
        );
        assert_eq!(code("  Kota   Tarakan!! ").as_deref(), Some("65.71"));
        assert_eq!(
            code("Jl. Merdeka No. 5, Tarakan Barat, Kota Tarakan").as_deref(),
            Some("65.71.01")
        );
        assert_eq!(code("Solo").as_deref(), Some("33.72"));
        // Everyday words that happen to name a kecamatan do not locate a post alone.
        assert_eq!(code("Barat"), None);
        assert_eq!(code("Jl. Merdeka"), None);
        assert_eq!(
            code("Jl. Merdeka, Tarakan Barat").as_deref(),
            Some("65.71.01")
        );
        assert_eq!(code("Kec. Merdeka").as_deref(), Some("12.06.15"));
        assert_eq!(code("Merdeka, Kab. Karo").as_deref(), Some("12.06.15"));
        // Islands and informal names within one province.
        assert_eq!(code("Bali & Lombok"), None);
        assert_eq!(code("Lombok").as_deref(), Some("52"));
        assert_eq!(code("Siantar").as_deref(), Some("12"));
        assert_eq!(code("Kab Bandung Barat").as_deref(), Some("32.17"));
        assert_eq!(code("Bandung").as_deref(), Some("32"));
        assert_eq!(code("Provinsi Kalimantan Timur").as_deref(), Some("64"));
        assert_eq!(code("Kepulauan Riau").as_deref(), Some("21"));
        assert_eq!(code("Riau").as_deref(), Some("14"));
    }

    #[test]
    fn ambiguity_is_never_guessed() {
        // Kota Banjar (Jawa Barat) and Kabupaten Banjar (Kalimantan Selatan).
        assert_eq!(code("Banjar"), None);
        assert_eq!(code("Kota Banjar").as_deref(), Some("32.79"));
        assert_eq!(code("Kab. Banjar").as_deref(), Some("63.03"));
        assert_eq!(code("Banjar, Kalsel").as_deref(), Some("63.03"));
        // Kabupaten and Kota Malang are both in Jawa Timur: the province is certain.
        assert_eq!(code("Malang").as_deref(), Some("35"));
        assert_eq!(code("Kota Malang").as_deref(), Some("35.73"));
        assert_eq!(code("Malang kota").as_deref(), Some("35.73"));
        // Contradictions and unknown places.
        assert_eq!(code("Kota Tarakan, Jawa Timur"), None);
        assert_eq!(code("Atlantis"), None);
        assert_eq!(code(""), None);
        assert_eq!(code("Kota"), None);
    }

    #[test]
    fn gorontalo_names_the_province_without_a_hint() {
        assert_eq!(code("Gorontalo").as_deref(), Some("75"));
        assert_eq!(code("Kota Gorontalo").as_deref(), Some("75.71"));
    }

    #[test]
    fn malformed_tables_are_rejected() {
        let p = "kode,nama\n65,Kalimantan Utara\n";
        let bad = Regions::from_csv(
            p,
            "kode,nama\n66.01,Kabupaten X\n",
            "kode,nama\n",
            "kode,alias\n",
        );
        assert!(matches!(bad, Err(RegionError::Orphan { line: 2, .. })));
        let bad = Regions::from_csv(
            p,
            "kode,nama\n65.1,Kabupaten X\n",
            "kode,nama\n",
            "kode,alias\n",
        );
        assert!(matches!(bad, Err(RegionError::BadCode { .. })));
    }
}
