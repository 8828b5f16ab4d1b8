//! One Aho-Corasick automaton over every lexicon variant (terms, boosts, dampeners, minor signals,
//! word-sense cues, disguise vocabulary), run once per normalized field.
//!
//! Variants are normalized with the same [`Normalizer`] as post text, so an obfuscated post and a plain
//! lexicon entry meet in the middle. Several rules may share one variant: each automaton pattern keeps
//! the list of rules it stands for. Word boundaries are checked on the normalized text, where words
//! are separated by exactly one space.

use crate::lexicon::{Boundary, Lexicon};
use crate::normalize::Normalizer;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::HashMap;

/// What a pattern stands for: an index into the corresponding lexicon list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    Term(u32),
    Boost(u32),
    Dampen(u32),
    Minor(u32),
    SenseCue(u32),
    SenseUnless(u32),
    Goods,
    Pill,
}

/// One accepted match in a normalized text (byte offsets into that text).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub target: Target,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    ac: AhoCorasick,
    /// Per automaton pattern: the rules it stands for and the boundary each requires.
    entries: Vec<Vec<(Target, Boundary)>>,
}

impl Matcher {
    pub(crate) fn build(
        lex: &Lexicon,
        norm: &Normalizer,
    ) -> Result<Matcher, aho_corasick::BuildError> {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut entries: Vec<Vec<(Target, Boundary)>> = Vec::new();
        let mut add = |variant: &str, target: Target, boundary: Boundary| {
            let n = norm.normalize(variant).text;
            if n.is_empty() {
                return;
            }
            let at = *index.entry(n.clone()).or_insert_with(|| {
                patterns.push(n);
                entries.push(Vec::new());
                patterns.len() - 1
            });
            if !entries[at].contains(&(target, boundary)) {
                entries[at].push((target, boundary));
            }
        };
        for (i, t) in lex.terms.iter().enumerate() {
            for v in &t.rule.variants {
                add(v, Target::Term(i as u32), t.rule.boundary);
            }
        }
        for (i, b) in lex.boosts.iter().enumerate() {
            for v in &b.rule.variants {
                add(v, Target::Boost(i as u32), b.rule.boundary);
            }
        }
        for (i, d) in lex.dampens.iter().enumerate() {
            for v in &d.rule.variants {
                add(v, Target::Dampen(i as u32), d.rule.boundary);
            }
        }
        for (i, m) in lex.minors.iter().enumerate() {
            for v in &m.rule.variants {
                add(v, Target::Minor(i as u32), m.rule.boundary);
            }
        }
        for (i, s) in lex.senses.iter().enumerate() {
            for v in &s.rule.cues {
                add(v, Target::SenseCue(i as u32), Boundary::Word);
            }
            for v in &s.rule.unless {
                add(v, Target::SenseUnless(i as u32), Boundary::Word);
            }
        }
        if let Some(d) = &lex.disguise {
            for v in &d.rule.goods {
                add(v, Target::Goods, Boundary::Word);
            }
            for v in &d.rule.pill {
                add(v, Target::Pill, Boundary::Word);
            }
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&patterns)?;
        Ok(Matcher { ac, entries })
    }

    /// All boundary-respecting hits in `text`, appended to `out` in order of end offset.
    pub(crate) fn find(&self, text: &str, out: &mut Vec<Hit>) {
        let bytes = text.as_bytes();
        for m in self.ac.find_overlapping_iter(text) {
            let (start, end) = (m.start(), m.end());
            if start > 0 && bytes[start - 1] != b' ' {
                continue;
            }
            let word_end = end == bytes.len() || bytes[end] == b' ' || suffix_nya(bytes, end);
            for &(target, boundary) in &self.entries[m.pattern().as_usize()] {
                if boundary == Boundary::Word && !word_end {
                    continue;
                }
                out.push(Hit { target, start, end });
            }
        }
    }
}

/// Indonesian `-nya` (its, the) glued to a word still ends the word: "ganjanya", "harganya".
fn suffix_nya(bytes: &[u8], end: usize) -> bool {
    bytes[end..].starts_with(b"nya") && (end + 3 == bytes.len() || bytes[end + 3] == b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> (Matcher, Normalizer, Lexicon) {
        let lex = Lexicon::builtin();
        let norm = Normalizer::new(lex.abbreviations.clone());
        (Matcher::build(&lex, &norm).unwrap(), norm, lex)
    }

    #[test]
    fn finds_terms_at_word_boundaries_only() {
        let (m, norm, lex) = matcher();
        let text = norm.normalize("jual tramadolnya, bukan kontramadolx").text;
        let mut hits = Vec::new();
        m.find(&text, &mut hits);
        let ids: Vec<&str> = hits
            .iter()
            .filter_map(|h| match h.target {
                Target::Term(i) => Some(lex.terms[i as usize].rule.id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(ids, vec!["drugs.tramadol.name"]);
    }

    #[test]
    fn obfuscated_text_meets_plain_variant() {
        let (m, norm, lex) = matcher();
        let text = norm.normalize("T.R.A.M.A.D.O.L r3ady").text;
        let mut hits = Vec::new();
        m.find(&text, &mut hits);
        assert!(hits.iter().any(|h| matches!(h.target, Target::Term(i) if lex.terms[i as usize].rule.id == "drugs.tramadol.name")));
        assert!(hits.iter().any(|h| matches!(h.target, Target::Boost(_))));
    }
}
