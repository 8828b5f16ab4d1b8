//! The screening pipeline: normalize -> match (one automaton pass per field) -> word sense ->
//! entities -> score -> explain.
//!
//! Scoring, per category: every matched rule id counts once. Terms add their weight; boosts add theirs
//! only when the category already has a term, and never more than 1.5x the term evidence (so weak
//! cues cannot pile up into a finding); dampeners `d` shrink the sum `s` to `s * exp(-d)`; the score is
//! `1 - exp(-s)`. A
//! category with `[[combination]]` rules that are not met is capped below the threshold. Every
//! contribution is a [`Reason`] with the original span, so the score can be explained line by line.

use crate::entities;
use crate::lexicon::{Lexicon, LexiconError, context_categories};
use crate::matcher::{Hit, Matcher, Target};
use crate::normalize::{Normalized, Normalizer};
use crate::structure;
use crate::{Category, Entity, EntityKind, Field, Post, Reason, ReasonKind, Screening, Severity};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Boosts never add more than this, whatever the number of sale signals.
const BOOST_CAP: f32 = 1.0;
/// ... nor more than this multiple of the term evidence.
const BOOST_RATIO: f32 = 2.0;
/// Each further distinct term counts this much less than the previous one.
const TERM_DECAY: f32 = 0.7;
/// Dampeners never take away more than this.
const DAMPEN_CAP: f32 = 2.5;
/// Extra sexual-exploitation weight of a minor signal (on top of the lexicon weight).
/// Weight of a session price list (`ST 300 LT 800`) for sexual exploitation.
const SESSION_PRICE_WEIGHT: f32 = 0.6;
/// Weight of an implausible pay figure as a TPPO lure.
const HIGH_PAY_WEIGHT: f32 = 0.3;
/// Weight of a result promised within days ("putih 3 hari") as an unregistered-product claim.
const QUICK_RESULT_WEIGHT: f32 = 0.4;
/// Boost of a pill count (`10 butir`, `isi 1000`) on drug evidence.
const PILL_COUNT_WEIGHT: f32 = 0.3;
/// Boost of an hourly or nightly price on sexual-exploitation evidence.
const HOURLY_WEIGHT: f32 = 0.35;
/// Boost of a category term written in quotes.
const QUOTED_WEIGHT: f32 = 0.3;
const CRITICAL_NOTE: &str = "Indikasi anak di bawah umur dalam konten seksual: prioritas kritis";

#[derive(Debug, Clone)]
pub struct Engine {
    lexicon: Lexicon,
    version: String,
    normalizer: Normalizer,
    matcher: Matcher,
    threshold: f32,
    /// Per boost/dampen index: the categories it applies to.
    boost_cats: Vec<Vec<Category>>,
    dampen_cats: Vec<Vec<Category>>,
    /// Per term index: the sense rules that can neutralise it.
    term_senses: Vec<Vec<u32>>,
}

/// Per-thread buffers reused across posts.
#[derive(Default)]
struct Scratch {
    norm: [Normalized; 3],
    hits: [Vec<Hit>; 3],
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Index of each field's buffers; the declared category only feeds the disguise check.
const TITLE: usize = 0;
const TEXT: usize = 1;
const DECLARED: usize = 2;

#[derive(Default, Clone)]
struct CategoryState {
    terms: f32,
    /// Weights of the distinct terms found, combined with decay into `terms`.
    term_weights: Vec<f32>,
    boosts: f32,
    dampens: f32,
    extra: f32,
    groups: Vec<String>,
    has_plain_term: bool,
    /// A term of this category was written in quotes.
    quoted: bool,
}

impl Engine {
    pub fn new(lexicon: Lexicon) -> Result<Engine, LexiconError> {
        let normalizer = Normalizer::new(lexicon.abbreviations.clone());
        let matcher = Matcher::build(&lexicon, &normalizer).map_err(|e| LexiconError::Invalid {
            file: "(all)".into(),
            message: format!("cannot build the matcher: {e}"),
        })?;
        let boost_cats = lexicon
            .boosts
            .iter()
            .map(|b| context_categories(&b.rule, b.category))
            .collect();
        let dampen_cats = lexicon
            .dampens
            .iter()
            .map(|d| context_categories(&d.rule, d.category))
            .collect();
        let term_senses = lexicon
            .terms
            .iter()
            .map(|t| {
                lexicon
                    .senses
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.rule.targets.contains(&t.rule.id))
                    .map(|(i, _)| i as u32)
                    .collect()
            })
            .collect();
        let version = lexicon.version().to_string();
        Ok(Engine {
            lexicon,
            version,
            normalizer,
            matcher,
            threshold: 0.5,
            boost_cats,
            dampen_cats,
            term_senses,
        })
    }

    pub fn builtin() -> Engine {
        Engine::new(Lexicon::builtin()).expect("built-in lexicon is valid")
    }

    pub fn with_threshold(mut self, threshold: f32) -> Engine {
        self.threshold = threshold;
        self
    }

    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    pub fn lexicon_version(&self) -> &str {
        &self.version
    }

    /// The lexicon this engine was compiled from.
    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    pub fn screen(&self, post: &Post<'_>) -> Screening {
        SCRATCH.with(|s| self.screen_with(post, &mut s.borrow_mut()))
    }

    fn screen_with(&self, post: &Post<'_>, s: &mut Scratch) -> Screening {
        let sources = [
            post.title.unwrap_or(""),
            post.text,
            post.declared_category.unwrap_or(""),
        ];
        for (i, source) in sources.iter().enumerate() {
            self.normalizer.normalize_into(source, &mut s.norm[i]);
            s.hits[i].clear();
            self.matcher.find(&s.norm[i].text, &mut s.hits[i]);
        }
        let lex = &self.lexicon;
        let mut reasons: Vec<Reason> = Vec::new();
        let field_of = |f: usize| if f == TEXT { Field::Text } else { Field::Title };
        let span = |f: usize, h: &Hit| -> (usize, usize) {
            if f == DECLARED {
                (0, 0)
            } else {
                s.norm[f].original_span(h.start, h.end)
            }
        };
        let matched = |f: usize, a: usize, b: usize| -> String {
            if f == DECLARED {
                sources[DECLARED].to_string()
            } else {
                sources[f][a..b].to_string()
            }
        };

        // Which cue-like rules are present anywhere (first hit kept for explanations).
        let mut sense_cue = vec![false; lex.senses.len()];
        let mut sense_unless = vec![false; lex.senses.len()];
        let mut first_boost: BTreeMap<u32, (usize, Hit)> = BTreeMap::new();
        let mut first_dampen: BTreeMap<u32, (usize, Hit)> = BTreeMap::new();
        let mut dampen_counts: BTreeMap<u32, u32> = BTreeMap::new();
        let mut first_minor: BTreeMap<u32, (usize, Hit)> = BTreeMap::new();
        let mut goods: Option<(usize, Hit)> = None;
        let mut pills: Vec<(usize, Hit)> = Vec::new();
        let mut term_hits: Vec<(usize, Hit)> = Vec::new();
        for f in [TITLE, TEXT, DECLARED] {
            for h in &s.hits[f] {
                match h.target {
                    // "bukan es batu": a denied cue does not count. "bukan jualan baju", "bukan
                    // buat minum": the writer denies the benign purpose, so the sense is off.
                    Target::SenseCue(i) => match denied(&s.norm[f].text, h.start) {
                        Denial::None => sense_cue[i as usize] = true,
                        Denial::Word => {}
                        Denial::Purpose => sense_unless[i as usize] = true,
                    },
                    Target::SenseUnless(i) => sense_unless[i as usize] = true,
                    Target::Boost(i) if f != DECLARED => {
                        first_boost.entry(i).or_insert((f, *h));
                    }
                    Target::Dampen(i)
                        if f != DECLARED
                            && (starts_negated(&s.norm[f].text[h.start..h.end])
                                || !negated(&s.norm[f].text, h.start)) =>
                    {
                        first_dampen.entry(i).or_insert((f, *h));
                        *dampen_counts.entry(i).or_insert(0) += 1;
                    }
                    Target::Minor(i) if f != DECLARED => {
                        first_minor.entry(i).or_insert((f, *h));
                    }
                    Target::Goods if f != TEXT => {
                        goods.get_or_insert((f, *h));
                    }
                    Target::Pill
                        if f == TEXT
                            && !pills
                                .iter()
                                .any(|(_, p)| p.start < h.end && h.start < p.end) =>
                    {
                        pills.push((f, *h));
                    }
                    Target::Term(_) if f != DECLARED => term_hits.push((f, *h)),
                    _ => {}
                }
            }
        }
        // A dampener inside a term ("wisata" in "visa wisata") is part of that term, not context.
        let in_term = |f: usize, h: &Hit| {
            term_hits.iter().any(|(f2, t)| {
                *f2 == f
                    && t.start <= h.start
                    && h.end <= t.end
                    && (t.end - t.start) > (h.end - h.start)
            })
        };
        first_dampen.retain(|_, (f, h)| !in_term(*f, h));
        let sense_active: Vec<bool> = (0..lex.senses.len())
            .map(|i| sense_cue[i] && !sense_unless[i])
            .collect();

        // Terms: drop those a word-sense rule neutralises; keep the first hit per rule id.
        let mut kept: BTreeMap<u32, (usize, Hit)> = BTreeMap::new();
        let mut suppressed: BTreeMap<u32, (usize, Hit, u32)> = BTreeMap::new();
        for (f, h) in &term_hits {
            let Target::Term(i) = h.target else { continue };
            if lex.terms[i as usize].rule.negatable && negated_claim(&s.norm[*f].text, h.start) {
                continue;
            }
            if lex.terms[i as usize].rule.negated_only
                && !denial_around(&s.norm[*f].text, h.start, h.end)
            {
                continue;
            }
            // "No. BPOM NA18..." is the abbreviation of "nomor", not "no BPOM".
            if number_label(&s.norm[*f].text, h.start, h.end) {
                continue;
            }
            // "Bibit ganja? Bukan kak, ini bibit kelor": the writer asks and denies.
            // (For a denial term, "BPOM? nggak perlu" is the denial it looks for.)
            if *f != DECLARED
                && !lex.terms[i as usize].rule.negated_only
                && question_denied(sources[*f], span(*f, h).1)
            {
                continue;
            }
            if let Some(&sense) = self.term_senses[i as usize]
                .iter()
                .find(|&&si| sense_active[si as usize])
            {
                suppressed.entry(i).or_insert((*f, *h, sense));
                continue;
            }
            // Keep the longest hit per rule ("pil double l" over "pil double") for the explanation.
            let e = kept.entry(i).or_insert((*f, *h));
            if e.0 == *f && h.start <= e.1.start && h.end > e.1.end {
                *e = (*f, *h);
            }
        }
        // A denial term inside another term's match ("bpom" in "tanpa bpom") is that term already.
        let term_spans: Vec<(u32, usize, usize, usize)> = kept
            .iter()
            .map(|(&i, (f, h))| (i, *f, h.start, h.end))
            .collect();
        kept.retain(|&i, (f, h)| {
            !lex.terms[i as usize].rule.negated_only
                || !term_spans.iter().any(|&(j, f2, a, b)| {
                    j != i && f2 == *f && a <= h.start && h.end <= b && (b - a) > (h.end - h.start)
                })
        });
        // ... and a "registered" dampener on a denied registration word ("pirt" in "belum ada
        // pirt", "cekbpom" in "di cekbpom belum muncul") is the denial, not a registration.
        first_dampen.retain(|_, (f, h)| {
            !kept.iter().any(|(&i, (f2, t))| {
                lex.terms[i as usize].rule.negated_only
                    && f2 == f
                    && t.start <= h.start
                    && h.end <= t.end
            })
        });
        for (i, (f, h, sense)) in &suppressed {
            if kept.contains_key(i) {
                continue;
            }
            let (a, b) = span(*f, h);
            let sr = &lex.senses[*sense as usize];
            reasons.push(Reason {
                rule: sr.rule.id.clone(),
                kind: ReasonKind::Suppressed,
                category: lex.terms[*i as usize].category,
                field: field_of(*f),
                start: a,
                end: b,
                matched: matched(*f, a, b),
                weight: 0.0,
                note: sr.rule.note.clone(),
            });
        }

        // Disguise: declared goods in the title or category, pill vocabulary in the text.
        let drug_terms = kept
            .keys()
            .any(|&i| lex.terms[i as usize].category == Some(Category::Drugs));
        let mut disguise_weight = 0.0;
        if let (Some(d), Some((gf, gh))) = (&lex.disguise, goods) {
            let absurd = d
                .rule
                .absurd_price
                .is_some_and(|p| post.price.is_some_and(|x| x >= p));
            // A pill count ("10 butir", "isi 1000" with no unit) is one more pill word.
            let mut counts_found = Vec::new();
            structure::scan(&s.norm[TEXT].text, &mut counts_found);
            let n = pills.len()
                + usize::from(
                    counts_found
                        .iter()
                        .any(|(sig, _, _)| *sig == structure::Signal::PillCount),
                );
            if n >= 2 || (n >= 1 && (drug_terms || absurd)) {
                disguise_weight = d.rule.weight + if absurd { 0.2 } else { 0.0 };
                let (a, b) = span(gf, &gh);
                reasons.push(Reason {
                    rule: "drugs.disguise".into(),
                    kind: ReasonKind::Disguise,
                    category: Some(Category::Drugs),
                    field: field_of(gf),
                    start: a,
                    end: b,
                    matched: matched(gf, a, b),
                    weight: disguise_weight,
                    note: format!(
                        "{} ({} kosakata pil di teks{})",
                        d.rule.note,
                        pills.len(),
                        if absurd { ", harga tidak wajar" } else { "" }
                    ),
                });
            }
        }

        // Per-category evidence.
        let mut st: BTreeMap<Category, CategoryState> = Category::ALL
            .iter()
            .map(|c| (*c, CategoryState::default()))
            .collect();
        // Structural signals (session prices, implausible pay) count as plain terms.
        let mut structural: Vec<(usize, structure::Signal, usize, usize)> = Vec::new();
        for f in [TITLE, TEXT] {
            let mut found = Vec::new();
            structure::scan(&s.norm[f].text, &mut found);
            structural.extend(found.into_iter().map(|(sig, a, b)| (f, sig, a, b)));
        }
        let mut seen_signal = Vec::new();
        let mut pill_count: Option<(usize, usize, usize)> = None;
        let mut hourly: Option<(usize, usize, usize)> = None;
        for &(f, sig, a, b) in &structural {
            if seen_signal.contains(&sig) {
                continue;
            }
            seen_signal.push(sig);
            let (c, rule, weight, group, note) = match sig {
                structure::Signal::HourlyPrice => {
                    hourly = Some((f, a, b));
                    continue;
                }
                structure::Signal::PillCount => {
                    // Context, not evidence: it vouches for drug slang and boosts drug findings.
                    pill_count = Some((f, a, b));
                    continue;
                }
                structure::Signal::SessionPrice => (
                    Category::SexualExploitation,
                    "sex.session_price",
                    SESSION_PRICE_WEIGHT,
                    None,
                    "Tarif per sesi (ST/LT + harga)",
                ),
                structure::Signal::QuickResult => (
                    Category::UnregisteredProducts,
                    "unreg.quick_result",
                    QUICK_RESULT_WEIGHT,
                    Some("claim"),
                    "Klaim hasil instan (hitungan hari)",
                ),
                structure::Signal::HighPay => (
                    Category::TraffickingRecruitment,
                    "tppo.high_pay_amount",
                    HIGH_PAY_WEIGHT,
                    Some("lure"),
                    "Gaji tidak wajar (jutaan rupiah / mata uang asing)",
                ),
            };
            let e = st.get_mut(&c).unwrap();
            e.term_weights.push(weight);
            e.has_plain_term = true;
            if let Some(g) = group {
                e.groups.push(g.to_string());
            }
            let (oa, ob) = s.norm[f].original_span(a, b);
            reasons.push(Reason {
                rule: rule.into(),
                kind: ReasonKind::Term,
                category: Some(c),
                field: field_of(f),
                start: oa,
                end: ob,
                matched: sources[f][oa..ob].to_string(),
                weight,
                note: note.into(),
            });
        }

        let mut boost_spans: Vec<(Category, usize, usize, usize)> = s
            .hits
            .iter()
            .enumerate()
            .filter(|(f, _)| *f != DECLARED)
            .flat_map(|(f, hs)| {
                hs.iter().filter_map(move |h| match h.target {
                    Target::Boost(i) => Some((i, f, h.start, h.end)),
                    _ => None,
                })
            })
            .flat_map(|(i, f, a, b)| {
                let b_rule = &lex.boosts[i as usize];
                // Only specific boosts vouch for a contextual term: category-specific ones of some
                // weight. Shared sale signals ("kirim rahasia") would vouch for every category.
                let specific = b_rule.category.is_some() || !b_rule.rule.categories.is_empty();
                let w = b_rule.rule.weight;
                let cats: Vec<Category> = if specific && w >= 0.3 {
                    self.boost_cats[i as usize].clone()
                } else {
                    Vec::new()
                };
                cats.into_iter().map(move |c| (c, f, a, b))
            })
            .chain(pill_count.map(|(f, a, b)| (Category::Drugs, f, a, b)))
            .chain(hourly.map(|(f, a, b)| (Category::SexualExploitation, f, a, b)))
            .collect();
        let quotes = [
            quoted_spans(sources[TITLE]),
            quoted_spans(sources[TEXT]),
            Vec::new(),
        ];
        // Rice, eggs, seeds and beads also come in "isi 500 butir": then a count is no context.
        let count_benign = lex
            .terms
            .iter()
            .position(|t| t.rule.id == "drugs.pill.count")
            .is_some_and(|pc| {
                self.term_senses[pc]
                    .iter()
                    .any(|&si| sense_active[si as usize])
            });
        if count_benign {
            boost_spans.retain(|(c, f, a, b)| {
                !(pill_count == Some((*f, *a, *b)) && *c == Category::Drugs)
            });
            pill_count = None;
        }
        for &i in kept.keys() {
            let t = &lex.terms[i as usize];
            let Some(c) = t.category else { continue };
            if !t.rule.requires_context {
                st.get_mut(&c).unwrap().has_plain_term = true;
            }
        }
        for (&i, (f, h)) in &kept {
            let t = &lex.terms[i as usize];
            let Some(c) = t.category else { continue };
            let overl = |f2: usize, a: usize, b: usize| f2 == *f && a < h.end && h.start < b;
            let (oa, ob) = span(*f, h);
            // A word put in quotes ('kuning', 'es', 'temenin') is coded language.
            let quoted = t.rule.requires_context
                && t.rule.vouches
                && quotes[*f].iter().any(|&(qa, qb)| qa <= oa && ob <= qb);
            // A sign of a minor vouches for companionship offers ("aku kelas 3 SMP, mau temenin").
            let minor_ctx = c == Category::SexualExploitation && !first_minor.is_empty();
            if quoted && !st[&c].quoted {
                st.get_mut(&c).unwrap().quoted = true;
            }
            let supported = !t.rule.requires_context
                || quoted
                || minor_ctx
                || st[&c].has_plain_term
                || boost_spans
                    .iter()
                    .any(|&(bc, bf, a, b)| bc == c && !overl(bf, a, b))
                || (c == Category::Drugs && disguise_weight > 0.0)
                || term_hits.iter().any(|(f2, h2)| {
                    let Target::Term(j) = h2.target else {
                        return false;
                    };
                    let other = &lex.terms[j as usize];
                    other.category == Some(c)
                        && other.rule.vouches
                        && t.rule.vouches
                        && kept.contains_key(&j)
                        && !(f2 == f && h2.start < h.end && h.start < h2.end)
                        && s.norm[*f2].text[h2.start..h2.end] != s.norm[*f].text[h.start..h.end]
                });
            let (a, b) = span(*f, h);
            if !supported {
                reasons.push(Reason {
                    rule: t.rule.id.clone(),
                    kind: ReasonKind::Suppressed,
                    category: Some(c),
                    field: field_of(*f),
                    start: a,
                    end: b,
                    matched: matched(*f, a, b),
                    weight: 0.0,
                    note: format!("{} — tanpa konteks pendukung", t.rule.note),
                });
                continue;
            }
            let e = st.get_mut(&c).unwrap();
            e.term_weights.push(t.rule.weight);
            if let Some(g) = &t.rule.group {
                e.groups.push(g.clone());
            }
            if t.rule.weight > 0.0 {
                reasons.push(Reason {
                    rule: t.rule.id.clone(),
                    kind: ReasonKind::Term,
                    category: Some(c),
                    field: field_of(*f),
                    start: a,
                    end: b,
                    matched: matched(*f, a, b),
                    weight: t.rule.weight,
                    note: t.rule.note.clone(),
                });
            }
        }
        if disguise_weight > 0.0 {
            st.get_mut(&Category::Drugs).unwrap().extra += disguise_weight;
        }
        // Many distinct names in one post are a list (news, campaigns) as often as a menu: each
        // further term counts for less (1, 0.7, 0.49, ...), strongest first.
        for e in st.values_mut() {
            e.term_weights.sort_by(|a, b| b.total_cmp(a));
            let mut factor = 1.0;
            for w in &e.term_weights {
                e.terms += w * factor;
                factor *= TERM_DECAY;
            }
        }

        // Entities, and the structural signals they carry.
        let mut entities: Vec<Entity> = Vec::new();
        if let Some(title) = post.title {
            entities::extract(title, Field::Title, &mut entities);
        }
        entities::extract(post.text, Field::Text, &mut entities);
        self.entity_signals(&entities, &kept, &mut st, &mut reasons, &sources, s);

        // Pill counts and quoted code words as context.
        if let Some((f, a, b)) = pill_count {
            let e = st.get_mut(&Category::Drugs).unwrap();
            if e.terms > 0.0 {
                e.boosts += PILL_COUNT_WEIGHT;
                let (oa, ob) = s.norm[f].original_span(a, b);
                reasons.push(Reason {
                    rule: "drugs.ctx.pill_count".into(),
                    kind: ReasonKind::Boost,
                    category: Some(Category::Drugs),
                    field: field_of(f),
                    start: oa,
                    end: ob,
                    matched: sources[f][oa..ob].to_string(),
                    weight: PILL_COUNT_WEIGHT,
                    note: "Jumlah butir/ strip/ tablet".into(),
                });
            }
        }
        if let Some((f, a, b)) = hourly {
            let e = st.get_mut(&Category::SexualExploitation).unwrap();
            if e.terms > 0.0 {
                e.boosts += HOURLY_WEIGHT;
                let (oa, ob) = s.norm[f].original_span(a, b);
                reasons.push(Reason {
                    rule: "sex.ctx.hourly_price".into(),
                    kind: ReasonKind::Boost,
                    category: Some(Category::SexualExploitation),
                    field: field_of(f),
                    start: oa,
                    end: ob,
                    matched: sources[f][oa..ob].to_string(),
                    weight: HOURLY_WEIGHT,
                    note: "Tarif per jam/ per malam".into(),
                });
            }
        }
        for (c, e) in st.iter_mut() {
            if e.quoted && e.terms > 0.0 {
                e.boosts += QUOTED_WEIGHT;
                reasons.push(Reason {
                    rule: "ctx.coded_quote".into(),
                    kind: ReasonKind::Boost,
                    category: Some(*c),
                    field: Field::Text,
                    start: 0,
                    end: 0,
                    matched: String::new(),
                    weight: QUOTED_WEIGHT,
                    note: "Istilah ditulis dalam tanda kutip (bahasa sandi)".into(),
                });
            }
        }

        // Boosts and dampeners.
        for (&i, (f, h)) in &first_boost {
            let rule = &lex.boosts[i as usize];
            let mut applied = false;
            for c in &self.boost_cats[i as usize] {
                let e = st.get_mut(c).unwrap();
                if e.terms > 0.0 {
                    e.boosts += rule.rule.weight;
                    if let Some(g) = &rule.rule.group {
                        e.groups.push(g.clone());
                    }
                    applied = true;
                }
            }
            if applied {
                let (a, b) = span(*f, h);
                let only = &self.boost_cats[i as usize];
                reasons.push(Reason {
                    rule: rule.rule.id.clone(),
                    kind: ReasonKind::Boost,
                    category: if only.len() == 1 { Some(only[0]) } else { None },
                    field: field_of(*f),
                    start: a,
                    end: b,
                    matched: matched(*f, a, b),
                    weight: rule.rule.weight,
                    note: rule.rule.note.clone(),
                });
            }
        }
        for (&i, (f, h)) in &first_dampen {
            let rule = &lex.dampens[i as usize];
            // Several distinct words of one dampening rule (news: "ditangkap", "tersangka", "barang
            // bukti") weigh more than one, with diminishing returns: up to twice the rule weight.
            let n = dampen_counts.get(&i).copied().unwrap_or(1) as f32;
            let w = rule.rule.weight * (1.0 + 0.5 * (n - 1.0)).min(3.0);
            let mut applied = false;
            for c in &self.dampen_cats[i as usize] {
                let e = st.get_mut(c).unwrap();
                if e.terms > 0.0 || e.extra > 0.0 {
                    e.dampens += w;
                    applied = true;
                }
            }
            if applied {
                let (a, b) = span(*f, h);
                let only = &self.dampen_cats[i as usize];
                reasons.push(Reason {
                    rule: rule.rule.id.clone(),
                    kind: ReasonKind::Dampen,
                    category: if only.len() == 1 { Some(only[0]) } else { None },
                    field: field_of(*f),
                    start: a,
                    end: b,
                    matched: matched(*f, a, b),
                    weight: -w,
                    note: if n > 1.0 {
                        format!("{} ({} kata)", rule.rule.note, n)
                    } else {
                        rule.rule.note.clone()
                    },
                });
            }
        }

        // Minor signals count only with sexual-exploitation evidence.
        let sex_terms = st[&Category::SexualExploitation].terms > 0.0;
        let mut minor_seen = false;
        if sex_terms {
            for (&i, (f, h)) in &first_minor {
                let rule = &lex.minors[i as usize];
                st.get_mut(&Category::SexualExploitation).unwrap().extra += rule.rule.weight;
                minor_seen = true;
                let (a, b) = span(*f, h);
                reasons.push(Reason {
                    rule: rule.rule.id.clone(),
                    kind: ReasonKind::Minor,
                    category: Some(Category::SexualExploitation),
                    field: field_of(*f),
                    start: a,
                    end: b,
                    matched: matched(*f, a, b),
                    weight: rule.rule.weight,
                    note: format!("{}. {CRITICAL_NOTE}", rule.rule.note),
                });
            }
        }

        // Scores.
        let mut scores = BTreeMap::new();
        for (c, e) in &st {
            let evidence = e.terms + e.extra;
            let boost = e.boosts.min(BOOST_CAP).min(evidence * BOOST_RATIO);
            // Dampening is multiplicative: news or education context shrinks the whole evidence,
            // including the sale words a news article quotes.
            let raw = (evidence + boost) * (-e.dampens.min(DAMPEN_CAP)).exp();
            let mut score = 1.0 - (-raw).exp();
            for comb in lex.combinations.iter().filter(|k| k.category == Some(*c)) {
                let met = comb
                    .rule
                    .groups
                    .iter()
                    .all(|any| any.iter().any(|g| e.groups.contains(g)));
                if !met && score > comb.rule.cap {
                    score = comb.rule.cap;
                    if evidence > 0.0 {
                        reasons.push(Reason {
                            rule: comb.rule.id.clone(),
                            kind: ReasonKind::Dampen,
                            category: Some(*c),
                            field: Field::Text,
                            start: 0,
                            end: 0,
                            matched: String::new(),
                            weight: 0.0,
                            note: comb.rule.note.clone(),
                        });
                    }
                }
            }
            scores.insert(*c, (score * 1000.0).round() / 1000.0);
        }
        let mut categories: Vec<Category> = scores
            .iter()
            .filter(|(_, v)| **v >= self.threshold)
            .map(|(c, _)| *c)
            .collect();
        categories.sort_by(|a, b| scores[b].total_cmp(&scores[a]).then(a.cmp(b)));
        let score = scores.values().copied().fold(0.0f32, f32::max);
        let flagged = !categories.is_empty();
        let severity = if !flagged {
            Severity::None
        } else if minor_seen && categories.contains(&Category::SexualExploitation) {
            Severity::Critical
        } else if score >= 0.85 {
            Severity::High
        } else if score >= 0.65 {
            Severity::Medium
        } else {
            Severity::Low
        };
        reasons.sort_by(|a, b| {
            (a.field as u8, a.start, a.end, a.rule.as_str()).cmp(&(
                b.field as u8,
                b.start,
                b.end,
                b.rule.as_str(),
            ))
        });
        Screening {
            flagged,
            score,
            categories,
            scores,
            severity,
            reasons,
            entities,
            lexicon_version: self.version.clone(),
        }
    }

    /// BPOM numbers (malformed, or claimed but absent) and chat-only contact as scored reasons.
    fn entity_signals(
        &self,
        entities: &[Entity],
        kept: &BTreeMap<u32, (usize, Hit)>,
        st: &mut BTreeMap<Category, CategoryState>,
        reasons: &mut Vec<Reason>,
        sources: &[&str; 3],
        s: &Scratch,
    ) {
        let lex = &self.lexicon;
        let unreg = Category::UnregisteredProducts;
        let has_unreg_term = st[&unreg].terms > 0.0
            || kept.keys().any(|&i| {
                lex.terms[i as usize].category == Some(unreg)
                    && lex.terms[i as usize].rule.requires_context
            });
        let mut any_bpom = false;
        for e in entities.iter().filter(|e| e.kind == EntityKind::BpomNumber) {
            any_bpom = true;
            let status = e.attrs.get("status").map(String::as_str);
            if status == Some("malformed") {
                let w = 0.5;
                let state = st.get_mut(&unreg).unwrap();
                state.extra += w;
                state.groups.push("signal".into());
                reasons.push(Reason {
                    rule: "unreg.bpom_malformed".into(),
                    kind: ReasonKind::Entity,
                    category: Some(unreg),
                    field: e.field,
                    start: e.start,
                    end: e.end,
                    matched: e.value.clone(),
                    weight: w,
                    note: "Nomor registrasi BPOM tidak sesuai format".into(),
                });
            }
        }
        // "Sudah BPOM" with no number anywhere, on a listing that already smells of a risky product.
        if !any_bpom && has_unreg_term {
            let claim = kept
                .iter()
                .find(|(i, _)| lex.terms[**i as usize].rule.id == "unreg.bpom_claim_only");
            if let Some((_, (f, h))) = claim {
                let (a, b) = s.norm[*f].original_span(h.start, h.end);
                let w = 0.25;
                let state = st.get_mut(&unreg).unwrap();
                state.extra += w;
                reasons.push(Reason {
                    rule: "unreg.bpom_claimed_absent".into(),
                    kind: ReasonKind::Entity,
                    category: Some(unreg),
                    field: if *f == TEXT {
                        Field::Text
                    } else {
                        Field::Title
                    },
                    start: a,
                    end: b,
                    matched: sources[*f][a..b].to_string(),
                    weight: w,
                    note: "Mengaku terdaftar BPOM tetapi tidak mencantumkan nomor".into(),
                });
            }
        }
    }
}

/// Byte spans (inside the quote marks) of short quoted phrases: 'es', "kuning", ‘jalan’.
fn quoted_spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if !text.contains(['\'', '"', '‘', '’', '“', '”']) {
        return out;
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let is_open = |c: char| matches!(c, '\'' | '"' | '‘' | '“');
    let is_close = |c: char| matches!(c, '\'' | '"' | '’' | '”');
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let after_space = i == 0 || !chars[i - 1].1.is_alphanumeric();
        if is_open(c) && after_space {
            let start = at + c.len_utf8();
            let mut j = i + 1;
            while j < chars.len() && j - i <= 32 && !is_close(chars[j].1) && chars[j].1 != '\n' {
                j += 1;
            }
            let closes = j < chars.len() && is_close(chars[j].1);
            let word_end = j + 1 >= chars.len() || !chars[j + 1].1.is_alphanumeric();
            if closes && word_end && j > i + 1 {
                out.push((start, chars[j].0));
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// "tidak mengandung X", "bebas X", "tanpa X", "0% X": the product claims NOT to contain X.
fn negated_claim(text: &str, at: usize) -> bool {
    const NEG: &[&str] = &[
        "tidak", "tanpa", "bebas", "bukan", "non", "no", "nol", "0", "free",
    ];
    // Four words back covers lists: "tidak mengandung merkuri dan hidrokuinon". "Tanpa resep obat
    // tidur" negates the prescription, not the product.
    let words: Vec<&str> = text[..at].trim_end().rsplit(' ').take(4).collect();
    words
        .iter()
        .enumerate()
        .any(|(k, w)| NEG.contains(w) && !(k > 0 && matches!(words[k - 1], "resep" | "rsp")))
}

/// Whether a registration word at `start..end` is denied: a negation before it, with at most three
/// filler words between ("belum ada notifikasi", "bukan produk terdaftar", "tanpa urus izin edar"),
/// or a pending/refusal word right after ("izin edar belum ada", "masih diurus", "nggak perlu").
fn denial_around(text: &str, start: usize, end: usize) -> bool {
    const NEG: &[&str] = &[
        "tidak", "tanpa", "belum", "bukan", "non", "no", "nggak", "ngga", "gak", "tak", "ora",
        "ndak", "teu", "durung", "dereng",
    ];
    // Javanese "ono/ana" and Sundanese "aya" (there is), Sundanese "acan" (yet), and the
    // notification word itself ("belum ada notif BPOM").
    const FILLER: &[&str] = &[
        "ada",
        "ono",
        "ana",
        "aya",
        "acan",
        "notif",
        "notifikasi",
        "punya",
        "memiliki",
        "pakai",
        "pake",
        "perlu",
        "butuh",
        "usah",
        "urus",
        "ngurus",
        "mengurus",
        "lewat",
        "melalui",
        "di",
        "ke",
        "nomor",
        "label",
        "produk",
        "yang",
        "resmi",
        "sertifikat",
        "stiker",
        "logo",
        "ber",
        "terdaftar",
        "izin",
        "kami",
        "ini",
        "nya",
    ];
    const AFTER: &[&str] = &[
        "belum",
        "menyusul",
        "proses",
        "diproses",
        "diurus",
        "diajukan",
        "pending",
        "nyusul",
        "diperpanjang",
    ];
    const AFTER2: &[(&str, &str)] = &[
        ("masih", "proses"),
        ("masih", "diurus"),
        ("lagi", "diurus"),
        ("lagi", "proses"),
        ("sedang", "diurus"),
        ("sedang", "proses"),
        ("dalam", "proses"),
        ("sedang", "dalam"),
        ("masih", "dalam"),
        ("lagi", "diperpanjang"),
        ("sedang", "diperpanjang"),
        ("tidak", "perlu"),
        ("nggak", "perlu"),
        ("ngga", "perlu"),
        ("gak", "perlu"),
        ("tidak", "penting"),
        ("tidak", "muncul"),
    ];
    let next_has_digit = text[end..]
        .split_whitespace()
        .next()
        .is_some_and(|w| w.bytes().any(|b| b.is_ascii_digit()));
    for w in text[..start].trim_end().rsplit(' ').take(4) {
        if NEG.contains(&w) {
            // "No. BPOM NA18210100987": "no" is "nomor" when a number follows.
            return !(w == "no" && next_has_digit);
        }
        if !FILLER.contains(&w) {
            break;
        }
    }
    // A number written right after the word is the claim itself: "BPOM NA1819 (sedang proses)".
    let mut after = text[end..]
        .trim_start_matches("nya")
        .split_whitespace()
        .skip_while(|w| w.bytes().any(|b| b.is_ascii_digit()))
        .peekable();
    match (after.next(), after.next()) {
        (Some(a), _) if AFTER.contains(&a) => true,
        (Some(a), Some(b)) => AFTER2.contains(&(a, b)),
        _ => false,
    }
}

/// Whether the original text right after a term (ending at byte `end`) is a question the writer
/// answers no to: "ganja? bukan", "Sabu?? Bukan dong".
fn question_denied(original: &str, end: usize) -> bool {
    let rest = original[end..].trim_start();
    let Some(rest) = rest.strip_prefix('?') else {
        return false;
    };
    let answer = rest.trim_start_matches(['?', ' ']).to_lowercase();
    [
        "bukan", "bkn", "tidak", "nggak", "enggak", "gak ", "no,", "no ",
    ]
    .iter()
    .any(|w| answer.starts_with(w))
}

/// "No. BPOM NA18210100987", "no izin edar: POM TR...": "no" abbreviates "nomor" when a number follows.
fn number_label(text: &str, start: usize, end: usize) -> bool {
    if !text[start..end].starts_with("no ") {
        return false;
    }
    let next = text[end..].split_whitespace().next().unwrap_or("");
    next.bytes().any(|b| b.is_ascii_digit())
        || matches!(
            next,
            "pom" | "ri" | "md" | "ml" | "na" | "nb" | "nc" | "nd" | "ne" | "tr" | "sd"
        )
}

/// How the words right before a word-sense cue deny it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Denial {
    None,
    /// "bukan es batu": this word is not meant (other cues may still be).
    Word,
    /// "bukan buat minum", "bukan jualan baju": the benign purpose itself is denied.
    Purpose,
}

/// Only "bukan" (is not) denies, right before the cue or with one purpose word between.
fn denied(text: &str, at: usize) -> Denial {
    const PURPOSE: &[&str] = &["buat", "untuk", "jualan", "jual", "sekadar", "sekedar"];
    let mut back = text[..at].trim_end().rsplit(' ');
    match (back.next(), back.next()) {
        (Some("bukan"), _) => Denial::Word,
        (Some(w), Some("bukan")) if PURPOSE.contains(&w) => Denial::Purpose,
        _ => Denial::None,
    }
}

/// Whether a phrase carries its own negation ("tidak bisa melayani", "tidak dijual bebas"): a
/// negation a few words before it ("Tanpa resep kami tidak bisa melayani") does not undo it.
fn starts_negated(phrase: &str) -> bool {
    matches!(
        phrase.split(' ').next(),
        Some("tidak" | "tanpa" | "bukan" | "belum" | "jangan" | "dilarang")
    )
}

/// Whether the word before `at` negates what follows ("tanpa operasi", "tidak perlu BP2MI").
fn negated(text: &str, at: usize) -> bool {
    // Up to three words back: "tanpa ribet ngurus BP2MI", "ga usah ke kantor BP2MI".
    let before = text[..at].trim_end();
    const NEG: &[&str] = &[
        "tidak", "tanpa", "bukan", "belum", "usah", "jangan", "anti", "non", "no", "ogah", "males",
        "ga", "gak", "nggak", "ngga", "enggak", "tak", "ora", "ndak", "gausah",
    ];
    // A list carries the negation on: "ga usah ke disnaker atau BP2MI", "tanpa BP2MI dan P3MI".
    const LIST: &[&str] = &["atau", "dan", "maupun", "ataupun", "apalagi"];
    // Words that pass the negation through without using up the window: "ga perlu urus di
    // disnaker", "jangan lapor-lapor ke disnaker", "gak pake lewat BP2MI".
    const THROUGH: &[&str] = &[
        "ke", "di", "lewat", "melalui", "pake", "pakai", "urus", "ngurus", "lapor", "melapor",
    ];
    let words: Vec<&str> = before
        .rsplit(' ')
        .filter(|w| !THROUGH.contains(w))
        .take(6)
        .collect();
    let window = match words.iter().position(|w| LIST.contains(w)) {
        Some(k) if k <= 1 => 6,
        _ => 3,
    };
    words.iter().take(window).any(|w| NEG.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(text: &str) -> Screening {
        Engine::builtin().screen(&Post {
            text,
            ..Post::default()
        })
    }

    #[test]
    fn a_refusal_after_a_negation_still_dampens() {
        // "Tanpa resep" negates nothing here: the pharmacy refuses, and its refusal still counts.
        let s = screen(
            "Untuk obat Trihexyphenidyl yang ibu tanyakan, mohon foto resep dokter. Tanpa resep \
             kami tidak bisa melayani.",
        );
        assert!(
            s.reasons
                .iter()
                .any(|r| r.rule == "drugs.ctx.legit_pharmacy"),
            "{:?}",
            s.reasons
        );
        assert!(!s.flagged, "{:?}", s.scores);
        // Told to bypass the labour office, in chat wording: the office does not dampen.
        for text in [
            "Kerja di Johor gaji RM 3500, masuk pakai paspor pelancong, ga perlu urus di disnaker",
            "Admin keuangan Dubai gaji 20 juta, visa kunjungan, jangan lapor-lapor ke disnaker ya",
            "Lowker luar negeri gaji 10 juta, berangkat gratis, gak pake lewat P3MI / BP2MI",
        ] {
            let s = screen(text);
            assert!(
                s.categories.contains(&Category::TraffickingRecruitment),
                "{text}: {s:#?}"
            );
        }
        // A negated official word still does not dampen a recruiter: "tanpa BP2MI".
        assert!(!starts_negated("bp2mi"));
        assert!(starts_negated("tidak dijual bebas"));
    }

    fn screen_titled(title: &str, text: &str) -> Screening {
        Engine::builtin().screen(&Post {
            text,
            title: Some(title),
            ..Post::default()
        })
    }

    #[test]
    fn sale_of_pills_is_flagged_with_spans() {
        let text = "Ready tr4m4d0l 50mg, tanpa resep, COD Jaksel. WA 0812-7741-3309";
        let s = screen(text);
        assert!(s.categories.contains(&Category::Drugs), "{s:#?}");
        let r = s
            .reasons
            .iter()
            .find(|r| r.rule == "drugs.tramadol.name")
            .unwrap();
        assert_eq!(&text[r.start..r.end], "tr4m4d0l");
        assert_eq!(r.matched, "tr4m4d0l");
        assert!(s.entities.iter().any(|e| e.value == "+6281277413309"));
        assert!(!s.lexicon_version.is_empty());
    }

    #[test]
    fn news_and_medical_text_is_not_a_finding() {
        let s = screen(
            "Satresnarkoba Polres menangkap dua tersangka yang menjual pil Double L; barang bukti 5.000 butir disita.",
        );
        assert!(!s.flagged, "{s:#?}");
        let s = screen(
            "Tramadol adalah obat nyeri golongan opioid. Efek samping: mual. Konsultasikan dengan dokter.",
        );
        assert!(!s.flagged, "{s:#?}");
    }

    #[test]
    fn clothing_sizes_are_not_pills_but_disguised_pills_are() {
        let s = screen_titled(
            "Kaos Polos Size S M L XL",
            "Bahan cotton combed, ukuran L dan XL ready, harga 45rb",
        );
        assert!(!s.flagged, "{s:#?}");
        let s = screen_titled(
            "Kaos Polos Hitam",
            "ready isi 1 strip 10 butir logo LL, 1 box isi 1000 btr, packing disamarkan",
        );
        assert!(s.categories.contains(&Category::Drugs), "{s:#?}");
        assert!(s.reasons.iter().any(|r| r.kind == ReasonKind::Disguise));
    }

    #[test]
    fn minors_make_sexual_content_critical() {
        let s = screen("open BO malam ini, masih SMA kelas 2, ST 300 LT 800, wa aja");
        assert!(
            s.categories.contains(&Category::SexualExploitation),
            "{s:#?}"
        );
        assert_eq!(s.severity, Severity::Critical);
        let s = screen("Bimbel untuk pelajar SMA kelas 12, daftar sekarang");
        assert!(!s.flagged);
    }

    #[test]
    fn tppo_needs_a_combination() {
        let s = screen("Lowongan admin toko di Bandung, gaji UMR, kirim CV");
        assert!(!s.flagged, "{s:#?}");
        let s = screen(
            "Loker Kamboja admin chat, gaji 1.200 USD, tanpa pengalaman cukup paspor, tiket dan visa ditanggung, berangkat minggu ini",
        );
        assert!(
            s.categories.contains(&Category::TraffickingRecruitment),
            "{s:#?}"
        );
    }

    #[test]
    fn unregistered_products_and_bpom_numbers() {
        let s =
            screen("Cream racikan putih permanen 7 hari, tanpa BPOM tapi aman, reseller welcome");
        assert!(
            s.categories.contains(&Category::UnregisteredProducts),
            "{s:#?}"
        );
        let s = screen("Serum wajah, BPOM NA18171234567, official store, original");
        assert!(!s.flagged, "{s:#?}");
    }

    fn has(s: &Screening, c: Category) -> bool {
        s.categories.contains(&c)
    }

    #[test]
    fn a_denied_benign_sense_no_longer_hides_slang() {
        // "bukan es batu": the ice cue is denied, nothing else says ice.
        let s = screen("Ada 'es' lagi bos, bukan es batu ya, paket hemat, ketemuan aja");
        assert!(has(&s, Category::Drugs), "{s:#?}");
        // "bukan jualan baju": the clothing purpose is denied, the quoted letter code counts.
        let s = screen_titled(
            "Kaos Polos",
            "ini bukan jualan baju ya, yang ngerti aja: kaos 'LL' isi 10, celana 'Y' isi 20",
        );
        assert!(has(&s, Category::Drugs), "{s:#?}");
        // Contrasting two benign senses keeps the benign one.
        let s = screen(
            "Es batu kristal untuk cafe, bukan es serut. 1 karung 20rb, kirim sekitar Depok",
        );
        assert!(!s.flagged, "{s:#?}");
    }

    #[test]
    fn denied_registration_whatever_the_wording() {
        for text in [
            "Masker bubuk repack, belum ada notifikasi BPOM, kirim seluruh Indonesia",
            "Kapsul pelangsing dari Malaysia, produk ini ga terdaftar tapi banyak yg cocok",
            "Serum glow racikan, izin edarnya masih diurus, order sekarang",
            "Krim malam, b.p.o.m? nggak perlu yg penting hasilnya",
            "Jual bahan racik cream, siap jual lagi tanpa urus izin edar",
            // Sundanese and Javanese denials, and the notification word between.
            "Jamu pelangsing racikan, teu acan aya BPOM, hiji botol 40 rebu",
            "Krim pemutih racikan dewe, durung ono BPOM ne, kirim sak Indonesia",
            "Krim ketiak Thailand lagi viral, belum ada notif BPOM, close PO Jumat",
            // A pending word after the claimed number, and a registration being renewed.
            "Masker lumpur import, memutihkan 2 minggu, no reg BPOM: NA1819 (sedang proses)",
            "Teh pelangsing herbal, nomor BPOM lagi diperpanjang, turun 10 kg",
        ] {
            let s = screen(text);
            assert!(has(&s, Category::UnregisteredProducts), "{text}: {s:#?}");
        }
        for text in [
            // Registered, and a claim of what it does NOT contain.
            "Krim malam sudah terdaftar BPOM, tanpa merkuri, NA18171234567",
            // "No. BPOM" is "nomor", not "no BPOM".
            "Bedak tabur, No. BPOM NA18210100987, shade natural",
            // Not a product that is unregistered: a number or a company.
            "Maaf, nomor Anda tidak terdaftar dalam layanan paket malam",
            "PT Maju (tidak terdaftar) buka lowongan kerja pabrik, kirim CV",
        ] {
            let s = screen(text);
            assert!(!has(&s, Category::UnregisteredProducts), "{text}: {s:#?}");
        }
    }

    #[test]
    fn a_question_answered_no_is_not_an_offer() {
        let s = screen("Bibit ganja? Bukan kak, ini bibit kelor 1 bungkus 100 butir");
        assert!(!s.flagged, "{s:#?}");
        let s = screen("Bibit ganja ready, 1 paket 5 gram, cod aman");
        assert!(has(&s, Category::Drugs), "{s:#?}");
    }

    #[test]
    fn negations_reach_through_lists_but_not_past_a_prescription() {
        // "ga usah ke disnaker atau BP2MI": BP2MI is avoided, not involved.
        let s = screen(
            "Kerja game admin di Kamboja, gaji 1.100 usd, kontrak 6 bulan. Gak usah ke disnaker atau BP2MI, kami urus semua",
        );
        assert!(has(&s, Category::TraffickingRecruitment), "{s:#?}");
        // A health tip without sleeping pills is not a sale of them ...
        let s = screen("Tips tidur nyenyak tanpa obat tidur: matikan gadget 1 jam sebelum tidur");
        assert!(!s.flagged, "{s:#?}");
        // ... but "tanpa resep obat tidur" negates the prescription, not the pills.
        let s = screen("Ready tanpa resep obat tidur 1 strip 10 butir, cod");
        assert!(has(&s, Category::Drugs), "{s:#?}");
    }

    #[test]
    fn results_promised_within_days_are_claims() {
        let s = screen("Cream siang anti flek, hasil 3 hari, BPOM: NA 1819 21");
        assert!(has(&s, Category::UnregisteredProducts), "{s:#?}");
        let s = screen(
            "Serum vitamin C, kulit tampak cerah dalam 4 minggu pemakaian rutin, NA18171234567",
        );
        assert!(!s.flagged, "{s:#?}");
    }

    #[test]
    fn a_dose_as_selling_point_is_not_a_health_article() {
        let s = screen(
            "Jamu kuat pria, mengandung sildenafil dosis tinggi, tahan 2 jam. 1 box isi 10 kapsul",
        );
        assert!(has(&s, Category::UnregisteredProducts), "{s:#?}");
        let s = screen(
            "Sildenafil diresepkan dokter untuk hipertensi paru; dosis disesuaikan, efek samping sakit kepala",
        );
        assert!(!s.flagged, "{s:#?}");
    }

    #[test]
    fn stimulants_for_drivers_and_office_abbreviations() {
        let s = screen(
            "Sopir truk merapat, pil penahan kantuk biar kuat nyetir, 1 paket isi 20 butir, wa aja",
        );
        assert!(has(&s, Category::Drugs), "{s:#?}");
        let s = screen("Kopi hitam buat begadang ngerjain skripsi, enak banget");
        assert!(!s.flagged, "{s:#?}");
        let s = screen("Bro, DL laporan hari Jumat ya. Jangan lupa SS hasil rekap dikirim ke grup");
        assert!(!s.flagged, "{s:#?}");
    }

    #[test]
    fn a_held_passport_is_a_strong_lure() {
        let s = screen(
            "Lowongan typing job di Laos, mess makan gratis. Paspor disimpan perusahaan selama kontrak",
        );
        assert!(has(&s, Category::TraffickingRecruitment), "{s:#?}");
        let s = screen("Perpanjang paspor di kantor imigrasi, paspor disimpan petugas sampai jadi");
        assert!(!s.flagged, "{s:#?}");
    }

    #[test]
    fn threshold_is_configurable() {
        let post = Post {
            text: "jual tramadol",
            ..Post::default()
        };
        let e = Engine::builtin();
        let s = e.screen(&post);
        let strict = e.clone().with_threshold(0.99).screen(&post);
        assert!(!strict.flagged);
        let lax = e.with_threshold(0.01).screen(&post);
        assert!(lax.flagged && lax.score == s.score);
    }
}
