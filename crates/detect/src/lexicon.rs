//! The lexicon as data: TOML files (one per category plus `shared.toml`) parsed into rules.
//!
//! Files are handed in as `(file name, contents)`: this module never reads the disk. The built-in files
//! under `crates/detect/lexicon/` are compiled in with `include_str!`; a caller may parse more files
//! (`--lexicon DIR`) and [`Lexicon::extend`] the built-in set with them, where a rule with the same id
//! replaces the old one. Unknown keys are errors (`deny_unknown_fields`) and every error names the file.
//!
//! File layout (all sections optional except `version`):
//! ```toml
//! version = "2026.11.25"
//! category = "drugs"                 # default category of the rules in this file
//! [[term]]     # evidence for a category: id, variants, weight, note,
//!              # requires_context, boundary ("word" | "prefix"), group, category
//! [[boost]]    # context that raises a category's score when it already has a term
//! [[dampen]]   # context that lowers it (news, enforcement, education, official programmes)
//! [[minor]]    # signs of a minor: with sexual-exploitation evidence, severity becomes critical
//! [[sense]]    # word sense: `targets` (term ids) are benign when a `cue` is present and no `unless`
//! [[combination]]  # a category needs terms from several groups, else its score is capped
//! [disguise]   # declared goods (title/category) vs pill vocabulary in the text
//! [abbreviations]  # chat abbreviation -> expansion, applied by the normalizer
//! ```

use crate::Category;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Lexicon files compiled into the binary.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    ("shared.toml", include_str!("../lexicon/shared.toml")),
    ("drugs.toml", include_str!("../lexicon/drugs.toml")),
    (
        "unregistered_products.toml",
        include_str!("../lexicon/unregistered_products.toml"),
    ),
    (
        "trafficking_recruitment.toml",
        include_str!("../lexicon/trafficking_recruitment.toml"),
    ),
    (
        "sexual_exploitation.toml",
        include_str!("../lexicon/sexual_exploitation.toml"),
    ),
];

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LexiconError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

/// A problem `patroli lexicon check` reports (duplicates, conflicts) that does not stop loading.
#[derive(Debug, Clone, PartialEq)]
pub struct LexiconIssue {
    pub file: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Boundary {
    /// The match must start and end at word boundaries (an Indonesian `-nya` suffix is allowed).
    #[default]
    Word,
    /// Only the start must be at a word boundary (`ganja` in `ganjanya`, `sabu` in `sabu2`).
    Prefix,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermRule {
    pub id: String,
    pub variants: Vec<String>,
    pub weight: f32,
    #[serde(default)]
    pub note: String,
    /// Counts only when the category also has a boost or another (non-contextual) term.
    #[serde(default)]
    pub requires_context: bool,
    #[serde(default)]
    pub boundary: Boundary,
    /// Group name used by `[[combination]]` rules (e.g. `job`, `abroad`).
    #[serde(default)]
    pub group: Option<String>,
    /// Overrides the file's category.
    #[serde(default)]
    pub category: Option<Category>,
    /// Whether a hit of this term supports another contextual term (false for generic words such as
    /// "obat" or "butir", so two generic words cannot vouch for each other).
    #[serde(default = "yes")]
    pub vouches: bool,
    /// A hit right after a negation ("tidak mengandung merkuri", "bebas paraben") does not count.
    #[serde(default)]
    pub negatable: bool,
    /// The opposite: a hit counts ONLY when it is denied, by a negation a few filler words before
    /// ("belum ada notifikasi BPOM", "bukan produk terdaftar", "tanpa urus izin edar") or a
    /// pending/refusal word right after ("izin edar masih diurus", "BPOM? nggak perlu").
    #[serde(default)]
    pub negated_only: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextRule {
    pub id: String,
    pub variants: Vec<String>,
    pub weight: f32,
    #[serde(default)]
    pub note: String,
    /// Categories this context applies to; empty = the file's category, or all in `shared.toml`.
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub boundary: Boundary,
    #[serde(default)]
    pub group: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinorRule {
    pub id: String,
    pub variants: Vec<String>,
    #[serde(default)]
    pub weight: f32,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub boundary: Boundary,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenseRule {
    pub id: String,
    /// Term ids this rule can neutralise.
    pub targets: Vec<String>,
    /// Any of these in the post makes the targets benign...
    pub cues: Vec<String>,
    /// ...unless any of these is present too.
    #[serde(default)]
    pub unless: Vec<String>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CombinationRule {
    pub id: String,
    #[serde(default)]
    pub category: Option<Category>,
    /// Each inner list is satisfied by a matched term or boost of any of its groups; all must be.
    pub groups: Vec<Vec<String>>,
    /// Score ceiling when the combination is incomplete.
    pub cap: f32,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisguiseRule {
    /// Declared goods vocabulary, looked for in the title and declared category.
    pub goods: Vec<String>,
    /// Pill vocabulary, looked for in the text.
    pub pill: Vec<String>,
    pub weight: f32,
    /// Price (rupiah) above which a "goods" listing with pill vocabulary is absurd.
    #[serde(default)]
    pub absurd_price: Option<f64>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    version: String,
    #[serde(default)]
    category: Option<Category>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    term: Vec<TermRule>,
    #[serde(default)]
    boost: Vec<ContextRule>,
    #[serde(default)]
    dampen: Vec<ContextRule>,
    #[serde(default)]
    minor: Vec<MinorRule>,
    #[serde(default)]
    sense: Vec<SenseRule>,
    #[serde(default)]
    combination: Vec<CombinationRule>,
    #[serde(default)]
    disguise: Option<DisguiseRule>,
    #[serde(default)]
    abbreviations: BTreeMap<String, String>,
}

/// A rule together with where it came from (for `check` messages and overrides).
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    pub file: String,
    pub category: Option<Category>,
    pub rule: T,
}

/// Parsed, not yet compiled lexicon. [`crate::Engine::new`] compiles it into one automaton.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    versions: Vec<String>,
    /// `versions` joined with `+`, kept so `version()` can hand out a `&str`.
    version: String,
    pub(crate) terms: Vec<Sourced<TermRule>>,
    pub(crate) boosts: Vec<Sourced<ContextRule>>,
    pub(crate) dampens: Vec<Sourced<ContextRule>>,
    pub(crate) minors: Vec<Sourced<MinorRule>>,
    pub(crate) senses: Vec<Sourced<SenseRule>>,
    pub(crate) combinations: Vec<Sourced<CombinationRule>>,
    pub(crate) disguise: Option<Sourced<DisguiseRule>>,
    pub(crate) abbreviations: HashMap<String, String>,
    /// Ids seen more than once while parsing or extending (for `check`).
    duplicate_ids: Vec<(String, String)>,
}

impl Lexicon {
    /// The lexicon compiled into the binary.
    pub fn builtin() -> Lexicon {
        let files: Vec<(String, String)> = BUILTIN_FILES
            .iter()
            .map(|(n, c)| (n.to_string(), c.to_string()))
            .collect();
        Lexicon::parse(&files).expect("built-in lexicon parses")
    }

    /// Parse lexicon files given as (file name, contents). No I/O here: the caller reads the files.
    pub fn parse(files: &[(String, String)]) -> Result<Lexicon, LexiconError> {
        let mut lex = Lexicon::default();
        for (name, contents) in files {
            let doc: FileDoc = toml::from_str(contents).map_err(|e| LexiconError::Invalid {
                file: name.clone(),
                message: e.to_string().trim_end().replace('\n', " "),
            })?;
            if doc.version.trim().is_empty() {
                return Err(LexiconError::Invalid {
                    file: name.clone(),
                    message: "`version` must not be empty".into(),
                });
            }
            lex.add_doc(name, doc);
        }
        Ok(lex)
    }

    fn add_doc(&mut self, file: &str, doc: FileDoc) {
        // `description` is for people reading the file; nothing to keep.
        if !self.versions.contains(&doc.version) {
            self.versions.push(doc.version.clone());
        }
        self.version = self.versions.join("+");
        let cat = doc.category;
        for t in doc.term {
            let c = t.category.or(cat);
            upsert(
                &mut self.terms,
                sourced(file, c, t),
                |r| &r.id,
                &mut self.duplicate_ids,
            );
        }
        for b in doc.boost {
            upsert(
                &mut self.boosts,
                sourced(file, cat, b),
                |r| &r.id,
                &mut self.duplicate_ids,
            );
        }
        for d in doc.dampen {
            upsert(
                &mut self.dampens,
                sourced(file, cat, d),
                |r| &r.id,
                &mut self.duplicate_ids,
            );
        }
        for m in doc.minor {
            upsert(
                &mut self.minors,
                sourced(file, cat, m),
                |r| &r.id,
                &mut self.duplicate_ids,
            );
        }
        for s in doc.sense {
            upsert(
                &mut self.senses,
                sourced(file, cat, s),
                |r| &r.id,
                &mut self.duplicate_ids,
            );
        }
        for c in doc.combination {
            let category = c.category.or(cat);
            upsert(
                &mut self.combinations,
                sourced(file, category, c),
                |r| &r.id,
                &mut self.duplicate_ids,
            );
        }
        if let Some(d) = doc.disguise {
            self.disguise = Some(sourced(file, cat, d));
        }
        self.abbreviations.extend(doc.abbreviations);
    }

    /// Add or override entries from `other` (a `--lexicon DIR` on top of the built-in one). A rule
    /// whose id already exists replaces the old rule; an override is not a duplicate.
    pub fn extend(&mut self, other: Lexicon) {
        let mut ignore = Vec::new();
        for t in other.terms {
            upsert(&mut self.terms, t, |r| &r.id, &mut ignore);
        }
        for b in other.boosts {
            upsert(&mut self.boosts, b, |r| &r.id, &mut ignore);
        }
        for d in other.dampens {
            upsert(&mut self.dampens, d, |r| &r.id, &mut ignore);
        }
        for m in other.minors {
            upsert(&mut self.minors, m, |r| &r.id, &mut ignore);
        }
        for s in other.senses {
            upsert(&mut self.senses, s, |r| &r.id, &mut ignore);
        }
        for c in other.combinations {
            upsert(&mut self.combinations, c, |r| &r.id, &mut ignore);
        }
        if other.disguise.is_some() {
            self.disguise = other.disguise;
        }
        self.abbreviations.extend(other.abbreviations);
        self.duplicate_ids.extend(other.duplicate_ids);
        for v in other.versions {
            if !self.versions.contains(&v) {
                self.versions.push(v);
            }
        }
        self.version = self.versions.join("+");
    }

    /// The lexicon version: the files' versions joined with `+` (built-in first, overrides after).
    pub fn version(&self) -> &str {
        if self.version.is_empty() {
            "0"
        } else {
            &self.version
        }
    }

    /// Duplicates and conflicts, for `patroli lexicon check`. Loading still works with these.
    pub fn check(&self) -> Vec<LexiconIssue> {
        let norm = crate::normalize::Normalizer::new(self.abbreviations.clone());
        let mut issues = Vec::new();
        for (file, id) in &self.duplicate_ids {
            issues.push(LexiconIssue {
                file: file.clone(),
                message: format!("id `{id}` is defined twice"),
            });
        }
        // variant -> (category or None, intent, rule id, file); intent: +1 evidence, -1 dampening.
        let mut seen: HashMap<String, Vec<VariantUse>> = HashMap::new();
        let mut record = |file: &str,
                          id: &str,
                          variants: &[String],
                          cats: Vec<Option<Category>>,
                          intent: i8,
                          issues: &mut Vec<LexiconIssue>| {
            let mut local = HashSet::new();
            for v in variants {
                let n = norm.normalize(v).text;
                if n.is_empty() {
                    issues.push(LexiconIssue {
                        file: file.to_string(),
                        message: format!("`{id}`: empty term `{v}`"),
                    });
                    continue;
                }
                if !local.insert(n.clone()) {
                    issues.push(LexiconIssue {
                        file: file.to_string(),
                        message: format!("`{id}`: variant `{v}` is listed twice"),
                    });
                }
                for c in &cats {
                    seen.entry(n.clone()).or_default().push((
                        *c,
                        intent,
                        id.to_string(),
                        file.to_string(),
                    ));
                }
            }
        };
        for t in &self.terms {
            if !(0.0..=3.0).contains(&t.rule.weight) {
                issues.push(LexiconIssue {
                    file: t.file.clone(),
                    message: format!("`{}`: weight {} outside 0..=3", t.rule.id, t.rule.weight),
                });
            }
            if t.category.is_none() {
                issues.push(LexiconIssue {
                    file: t.file.clone(),
                    message: format!("`{}`: term has no category", t.rule.id),
                });
            }
            record(
                &t.file,
                &t.rule.id,
                &t.rule.variants,
                vec![t.category],
                // A term that counts only when denied shares words with "registered" dampeners
                // on purpose ("pirt", "notifikasi bpom"): it has no intent of its own to clash.
                if t.rule.negated_only { 0 } else { 1 },
                &mut issues,
            );
        }
        for d in &self.dampens {
            let cats = context_categories(&d.rule, d.category);
            record(
                &d.file,
                &d.rule.id,
                &d.rule.variants,
                cats.into_iter().map(Some).collect(),
                -1,
                &mut issues,
            );
        }
        for b in &self.boosts {
            let mut local = HashSet::new();
            for v in &b.rule.variants {
                let n = norm.normalize(v).text;
                if n.is_empty() || !local.insert(n) {
                    issues.push(LexiconIssue {
                        file: b.file.clone(),
                        message: format!("`{}`: empty or repeated variant `{v}`", b.rule.id),
                    });
                }
            }
        }
        let mut keys: Vec<&String> = seen.keys().collect();
        keys.sort();
        for k in keys {
            let uses = &seen[k];
            for (i, a) in uses.iter().enumerate() {
                for b in &uses[i + 1..] {
                    if a.2 == b.2 || a.1 == 0 || b.1 == 0 {
                        continue;
                    }
                    // Layered contexts (shared + category file) may repeat a word on purpose; two
                    // TERMS of one category with the same variant would double-count it.
                    if a.0 == b.0 && a.1 == b.1 && a.1 > 0 {
                        issues.push(LexiconIssue {
                            file: b.3.clone(),
                            message: format!("term `{k}` appears in both `{}` and `{}`", a.2, b.2),
                        });
                    } else if a.1 != b.1 && (a.0 == b.0 || a.0.is_none() || b.0.is_none()) {
                        issues.push(LexiconIssue {
                            file: b.3.clone(),
                            message: format!(
                                "term `{k}` has opposite intent in `{}` ({}) and `{}` ({})",
                                a.2,
                                a.0.map(|c| c.id()).unwrap_or("all"),
                                b.2,
                                b.0.map(|c| c.id()).unwrap_or("all"),
                            ),
                        });
                    }
                }
            }
        }
        let term_ids: HashSet<&str> = self.terms.iter().map(|t| t.rule.id.as_str()).collect();
        for s in &self.senses {
            for t in &s.rule.targets {
                if !term_ids.contains(t.as_str()) {
                    issues.push(LexiconIssue {
                        file: s.file.clone(),
                        message: format!("`{}`: unknown target term id `{t}`", s.rule.id),
                    });
                }
            }
        }
        for c in &self.combinations {
            if c.category.is_none() {
                issues.push(LexiconIssue {
                    file: c.file.clone(),
                    message: format!("`{}`: combination has no category", c.rule.id),
                });
            }
        }
        issues
    }
}

/// Where a normalized variant is used: (category, intent +1/-1 or 0 for a denial, rule id, file).
type VariantUse = (Option<Category>, i8, String, String);

/// The categories a boost or dampener applies to.
pub(crate) fn context_categories(
    rule: &ContextRule,
    file_category: Option<Category>,
) -> Vec<Category> {
    if !rule.categories.is_empty() {
        rule.categories.clone()
    } else if let Some(c) = file_category {
        vec![c]
    } else {
        Category::ALL.to_vec()
    }
}

fn sourced<T>(file: &str, category: Option<Category>, rule: T) -> Sourced<T> {
    Sourced {
        file: file.to_string(),
        category,
        rule,
    }
}

fn upsert<T>(
    list: &mut Vec<Sourced<T>>,
    item: Sourced<T>,
    id: impl Fn(&T) -> &String,
    dups: &mut Vec<(String, String)>,
) {
    if let Some(existing) = list.iter_mut().find(|e| id(&e.rule) == id(&item.rule)) {
        dups.push((item.file.clone(), id(&item.rule).clone()));
        *existing = item;
    } else {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, body: &str) -> (String, String) {
        (name.to_string(), body.to_string())
    }

    #[test]
    fn builtin_parses_and_has_a_version() {
        let lex = Lexicon::builtin();
        assert!(!lex.version().is_empty());
        assert!(lex.terms.len() > 40);
        for c in Category::ALL {
            assert!(
                lex.terms.iter().any(|t| t.category == Some(c)),
                "no terms for {c}"
            );
        }
    }

    #[test]
    fn builtin_check_is_clean() {
        let issues = Lexicon::builtin().check();
        assert!(issues.is_empty(), "{issues:#?}");
    }

    #[test]
    fn unknown_key_names_file_and_key() {
        let err = Lexicon::parse(&[file(
            "x.toml",
            "version = \"1\"\ncategory = \"drugs\"\n[[term]]\nid = \"a\"\nvariants = [\"b\"]\nweight = 1.0\nwieght = 2\n",
        )])
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x.toml:"), "{msg}");
        assert!(msg.contains("wieght"), "{msg}");
    }

    #[test]
    fn check_reports_duplicates_conflicts_and_empty_terms() {
        let lex = Lexicon::parse(&[
            file(
                "a.toml",
                r#"version = "1"
category = "drugs"
[[term]]
id = "d.one"
variants = ["tramadol", "Tramadol", "  "]
weight = 0.5
[[term]]
id = "d.one"
variants = ["x"]
weight = 0.5
"#,
            ),
            file(
                "b.toml",
                r#"version = "1"
category = "drugs"
[[dampen]]
id = "news"
variants = ["tramadol"]
weight = 0.5
"#,
            ),
        ])
        .unwrap();
        let issues = lex.check();
        let text: Vec<String> = issues
            .iter()
            .map(|i| format!("{}: {}", i.file, i.message))
            .collect();
        assert!(text.iter().any(|t| t.contains("defined twice")), "{text:?}");
        let lex2 = Lexicon::parse(&[file(
            "c.toml",
            "version = \"1\"\ncategory = \"drugs\"\n[[term]]\nid = \"t\"\nvariants = [\"tramadol\", \"Tramadol\", \" \"]\nweight = 0.5\n[[dampen]]\nid = \"n\"\nvariants = [\"tramadol\"]\nweight = 0.5\n",
        )])
        .unwrap();
        let text: Vec<String> = lex2.check().iter().map(|i| i.message.clone()).collect();
        assert!(text.iter().any(|t| t.contains("listed twice")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("empty term")), "{text:?}");
        assert!(
            text.iter().any(|t| t.contains("opposite intent")),
            "{text:?}"
        );
    }

    #[test]
    fn extend_overrides_by_id_and_adds_new_rules() {
        let mut base = Lexicon::builtin();
        let before = base.terms.len();
        let id = base.terms[0].rule.id.clone();
        let over = Lexicon::parse(&[file(
            "local.toml",
            &format!(
                "version = \"local-1\"\ncategory = \"drugs\"\n[[term]]\nid = \"{id}\"\nvariants = [\"zzz\"]\nweight = 0.1\n[[term]]\nid = \"local.new\"\nvariants = [\"qqq\"]\nweight = 0.9\n"
            ),
        )])
        .unwrap();
        base.extend(over);
        assert_eq!(base.terms.len(), before + 1);
        assert_eq!(base.terms[0].rule.variants, vec!["zzz".to_string()]);
        assert!(base.version().ends_with("+local-1"));
        assert!(base.check().is_empty());
    }
}
