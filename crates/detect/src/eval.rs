//! Evaluation metrics for labelled sets: per-category precision, recall and F1, the share of clean
//! posts flagged, and the list of misses.
//!
//! Pure arithmetic over (expected labels, [`Screening`]) pairs: no I/O, no parsing of files. The CLI
//! (`patroli eval`) and the `eval` example read the labelled JSONL themselves, screen each post and feed
//! the pairs here, either all at once with [`evaluate`] or one by one with [`Evaluation::add`] while
//! streaming.
//!
//! Definitions (per category `c`):
//! - true positive: `c` expected and `c` in `Screening.categories`;
//! - false positive: `c` predicted but not expected; false negative: expected but not predicted;
//! - precision = tp / (tp + fp), recall = tp / (tp + fn), F1 their harmonic mean. A ratio whose
//!   denominator is zero is reported as 1.0 when the numerator's counterpart is also empty (nothing to
//!   find and nothing wrongly found), so an absent category does not drag a macro average down.
//! - a post is *clean* when its expected label list is empty; `clean_flagged_share` is the fraction of
//!   clean posts with `Screening.flagged == true`.

use crate::{Category, Screening};
use serde::Serialize;
use std::collections::BTreeMap;

/// Counts and ratios for one category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CategoryMetrics {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    /// Posts labelled with this category.
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl CategoryMetrics {
    fn finish(mut self) -> CategoryMetrics {
        let tp = self.true_positives as f64;
        let fp = self.false_positives as f64;
        let fneg = self.false_negatives as f64;
        self.precision = if self.true_positives + self.false_positives == 0 {
            if self.false_negatives == 0 { 1.0 } else { 0.0 }
        } else {
            tp / (tp + fp)
        };
        self.recall = if self.true_positives + self.false_negatives == 0 {
            if self.false_positives == 0 { 1.0 } else { 0.0 }
        } else {
            tp / (tp + fneg)
        };
        self.f1 = if self.precision + self.recall == 0.0 {
            0.0
        } else {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        };
        self
    }
}

/// Whether a miss is a missed finding or a wrong one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissKind {
    FalseNegative,
    FalsePositive,
}

/// One post/category pair the engine got wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Miss {
    pub id: String,
    pub category: Category,
    pub kind: MissKind,
    /// The engine's score for that category (0 when it had none).
    pub score: f32,
}

/// The result of an evaluation run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub posts: usize,
    pub clean_posts: usize,
    pub clean_flagged: usize,
    /// `clean_flagged / clean_posts` (0 when there are no clean posts).
    pub clean_flagged_share: f64,
    /// Unweighted mean of the four categories' F1.
    pub macro_f1: f64,
    pub categories: BTreeMap<Category, CategoryMetrics>,
    /// False negatives and false positives, in input order.
    pub misses: Vec<Miss>,
}

/// Streaming accumulator: add pairs as they are screened, then call [`Evaluation::report`].
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    posts: usize,
    clean_posts: usize,
    clean_flagged: usize,
    counts: BTreeMap<Category, CategoryMetrics>,
    misses: Vec<Miss>,
}

impl Evaluation {
    pub fn new() -> Evaluation {
        Evaluation::default()
    }

    /// Record one labelled post. `expected` may contain duplicates; they count once.
    pub fn add(&mut self, id: &str, expected: &[Category], screening: &Screening) {
        self.posts += 1;
        if expected.is_empty() {
            self.clean_posts += 1;
            if screening.flagged {
                self.clean_flagged += 1;
            }
        }
        for category in Category::ALL {
            let want = expected.contains(&category);
            let got = screening.categories.contains(&category);
            let m = self.counts.entry(category).or_default();
            if want {
                m.support += 1;
            }
            let kind = match (want, got) {
                (true, true) => {
                    m.true_positives += 1;
                    continue;
                }
                (false, false) => continue,
                (true, false) => {
                    m.false_negatives += 1;
                    MissKind::FalseNegative
                }
                (false, true) => {
                    m.false_positives += 1;
                    MissKind::FalsePositive
                }
            };
            self.misses.push(Miss {
                id: id.to_string(),
                category,
                kind,
                score: screening.scores.get(&category).copied().unwrap_or(0.0),
            });
        }
    }

    /// Metrics for everything added so far.
    pub fn report(&self) -> Report {
        let categories: BTreeMap<Category, CategoryMetrics> = Category::ALL
            .into_iter()
            .map(|c| (c, self.counts.get(&c).copied().unwrap_or_default().finish()))
            .collect();
        let macro_f1 = categories.values().map(|m| m.f1).sum::<f64>() / categories.len() as f64;
        Report {
            posts: self.posts,
            clean_posts: self.clean_posts,
            clean_flagged: self.clean_flagged,
            clean_flagged_share: if self.clean_posts == 0 {
                0.0
            } else {
                self.clean_flagged as f64 / self.clean_posts as f64
            },
            macro_f1,
            categories,
            misses: self.misses.clone(),
        }
    }
}

/// Evaluate a whole set of `(id, expected labels, screening)` triples at once.
pub fn evaluate<'a, I>(pairs: I) -> Report
where
    I: IntoIterator<Item = (&'a str, &'a [Category], &'a Screening)>,
{
    let mut e = Evaluation::new();
    for (id, expected, screening) in pairs {
        e.add(id, expected, screening);
    }
    e.report()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    fn screening(cats: &[Category]) -> Screening {
        Screening {
            flagged: !cats.is_empty(),
            score: if cats.is_empty() { 0.1 } else { 0.9 },
            categories: cats.to_vec(),
            scores: cats.iter().map(|c| (*c, 0.9)).collect(),
            severity: Severity::None,
            reasons: Vec::new(),
            entities: Vec::new(),
            lexicon_version: "test".into(),
        }
    }

    #[test]
    fn counts_precision_recall_and_clean_share() {
        use Category::*;
        let a = screening(&[Drugs]);
        let b = screening(&[]);
        let c = screening(&[Drugs, SexualExploitation]);
        let d = screening(&[Drugs]);
        let report = evaluate([
            ("a", &[Drugs][..], &a),
            ("b", &[Drugs][..], &b),
            ("c", &[SexualExploitation][..], &c),
            ("d", &[][..], &d),
        ]);
        let drugs = report.categories[&Drugs];
        assert_eq!(
            (
                drugs.true_positives,
                drugs.false_positives,
                drugs.false_negatives
            ),
            (1, 2, 1)
        );
        assert!((drugs.precision - 1.0 / 3.0).abs() < 1e-9);
        assert!((drugs.recall - 0.5).abs() < 1e-9);
        assert!((drugs.f1 - 0.4).abs() < 1e-9);
        let sex = report.categories[&SexualExploitation];
        assert_eq!(sex.f1, 1.0);
        assert_eq!(report.clean_posts, 1);
        assert_eq!(report.clean_flagged, 1);
        assert_eq!(report.clean_flagged_share, 1.0);
        let ids: Vec<(&str, MissKind)> = report
            .misses
            .iter()
            .map(|m| (m.id.as_str(), m.kind))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("b", MissKind::FalseNegative),
                ("c", MissKind::FalsePositive),
                ("d", MissKind::FalsePositive)
            ]
        );
    }

    #[test]
    fn absent_category_counts_as_perfect_not_zero() {
        let clean = screening(&[]);
        let report = evaluate([("x", &[][..], &clean)]);
        assert_eq!(report.categories[&Category::Drugs].f1, 1.0);
        assert_eq!(report.clean_flagged_share, 0.0);
        assert_eq!(report.macro_f1, 1.0);
    }
}
