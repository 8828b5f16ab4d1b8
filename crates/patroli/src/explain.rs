//! Human explanations of a screening, shared by `check` and `demo`: verdict, per-category scores,
//! the text with evidence highlighted (ANSI colours on a terminal, `[[brackets]]` otherwise),
//! reasons with their notes, and entities.
//!
//! Spans come from the engine as byte offsets into the original field; they are trusted only after
//! checking they fall on character boundaries, so a bad span degrades to "not highlighted", never a
//! panic.

use crate::scan::severity_name;
use patroli_detect::{Category, Field, ReasonKind, Screening};
use std::fmt::Write;

const RESET: &str = "\x1b[0m";
const BOLD_RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";

/// How a highlighted span is drawn: evidence for a category, context, or an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mark {
    // Ordered by precedence when spans overlap: the strongest wins.
    Muted,
    Entity,
    Context,
    Evidence,
}

impl Mark {
    fn ansi(self) -> &'static str {
        match self {
            Mark::Evidence => BOLD_RED,
            Mark::Context => YELLOW,
            Mark::Entity => CYAN,
            Mark::Muted => DIM,
        }
    }

    fn for_reason(kind: ReasonKind) -> Mark {
        match kind {
            ReasonKind::Term | ReasonKind::Disguise | ReasonKind::Minor => Mark::Evidence,
            ReasonKind::Boost | ReasonKind::Entity => Mark::Context,
            ReasonKind::Dampen | ReasonKind::Suppressed => Mark::Muted,
        }
    }
}

/// `text` with the given spans marked. Overlapping spans are merged; the strongest mark wins.
fn highlight(text: &str, spans: &[(usize, usize, Mark)], color: bool) -> String {
    let mut spans: Vec<(usize, usize, Mark)> = spans
        .iter()
        .copied()
        .filter(|&(s, e, _)| {
            s < e && e <= text.len() && text.is_char_boundary(s) && text.is_char_boundary(e)
        })
        .collect();
    spans.sort_by_key(|&(s, e, _)| (s, e));
    let mut merged: Vec<(usize, usize, Mark)> = Vec::new();
    for (s, e, m) in spans {
        match merged.last_mut() {
            Some(last) if s < last.1 => {
                last.1 = last.1.max(e);
                last.2 = last.2.max(m);
            }
            _ => merged.push((s, e, m)),
        }
    }
    let mut out = String::with_capacity(text.len() + merged.len() * 8);
    let mut at = 0;
    for (s, e, m) in merged {
        out.push_str(&text[at..s]);
        if color {
            let _ = write!(out, "{}{}{RESET}", m.ansi(), &text[s..e]);
        } else {
            let _ = write!(out, "[[{}]]", &text[s..e]);
        }
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

fn spans_for(screening: &Screening, field: Field) -> Vec<(usize, usize, Mark)> {
    let reasons = screening
        .reasons
        .iter()
        .filter(|r| r.field == field)
        .map(|r| (r.start, r.end, Mark::for_reason(r.kind)));
    let entities = screening
        .entities
        .iter()
        .filter(|e| e.field == field)
        .map(|e| (e.start, e.end, Mark::Entity));
    reasons.chain(entities).collect()
}

fn kind_name(kind: ReasonKind) -> &'static str {
    match kind {
        ReasonKind::Term => "term",
        ReasonKind::Boost => "boost",
        ReasonKind::Dampen => "dampen",
        ReasonKind::Disguise => "disguise",
        ReasonKind::Minor => "minor",
        ReasonKind::Entity => "entity",
        ReasonKind::Suppressed => "suppressed",
    }
}

fn field_name(field: Field) -> &'static str {
    match field {
        Field::Title => "title",
        Field::Text => "text",
    }
}

/// The full explanation of one screening, ready to print.
pub fn explain(text: &str, title: Option<&str>, screening: &Screening, color: bool) -> String {
    let paint = |style: &str, s: &str| {
        if color {
            format!("{style}{s}{RESET}")
        } else {
            s.to_owned()
        }
    };
    let mut out = String::new();
    let verdict = if screening.flagged {
        paint(BOLD_RED, "FLAGGED")
    } else {
        paint(BOLD, "not flagged")
    };
    let _ = writeln!(
        out,
        "Verdict:    {verdict} (score {:.2}, severity {})",
        screening.score,
        severity_name(screening.severity)
    );
    let categories: Vec<&str> = screening.categories.iter().map(|c| c.id()).collect();
    let _ = writeln!(
        out,
        "Categories: {}",
        if categories.is_empty() {
            "-".to_owned()
        } else {
            categories.join(", ")
        }
    );
    let _ = writeln!(out, "Scores:");
    for category in Category::ALL {
        let score = screening.scores.get(&category).copied().unwrap_or(0.0);
        let bar = "#".repeat((score.clamp(0.0, 1.0) * 20.0).round() as usize);
        let _ = writeln!(
            out,
            "  {:<24} {score:.2}  {bar:<20}  {}",
            category.id(),
            category.label_id()
        );
    }
    if let Some(title) = title {
        let _ = writeln!(out, "Title:");
        let _ = writeln!(
            out,
            "  {}",
            highlight(title, &spans_for(screening, Field::Title), color)
        );
    }
    let _ = writeln!(out, "Text:");
    for line in highlight(text, &spans_for(screening, Field::Text), color).lines() {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "Reasons:");
    if screening.reasons.is_empty() {
        let _ = writeln!(out, "  -");
    }
    for r in &screening.reasons {
        let category = r.category.map(|c| c.id()).unwrap_or("-");
        let sign = if r.weight < 0.0 { "" } else { "+" };
        let _ = writeln!(
            out,
            "  {:<10} {:<24} {sign}{:.2}  {:?} ({} {}..{})  [{}]{}",
            kind_name(r.kind),
            category,
            r.weight,
            r.matched,
            field_name(r.field),
            r.start,
            r.end,
            r.rule,
            if r.note.is_empty() {
                String::new()
            } else {
                format!(" — {}", r.note)
            },
        );
    }
    let _ = writeln!(out, "Entities:");
    if screening.entities.is_empty() {
        let _ = writeln!(out, "  -");
    }
    for e in &screening.entities {
        let attrs: Vec<String> = e.attrs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            out,
            "  {:<12} {:<28} ({} {}..{}){}",
            serde_json::to_value(e.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            e.value,
            field_name(e.field),
            e.start,
            e.end,
            if attrs.is_empty() {
                String::new()
            } else {
                format!("  {}", attrs.join(" "))
            },
        );
    }
    let _ = writeln!(out, "Lexicon:    {}", screening.lexicon_version);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_without_colour_and_merging() {
        let text = "jual sabu ready";
        let spans = [(5, 9, Mark::Evidence), (7, 15, Mark::Context)];
        assert_eq!(highlight(text, &spans, false), "jual [[sabu ready]]");
    }

    #[test]
    fn colour_uses_the_strongest_mark() {
        let out = highlight("ab", &[(0, 1, Mark::Muted), (0, 2, Mark::Evidence)], true);
        assert_eq!(out, format!("{BOLD_RED}ab{RESET}"));
    }

    #[test]
    fn bad_spans_are_ignored_not_panicking() {
        // 1..2 cuts through "é" (two bytes); 3..99 runs past the end.
        assert_eq!(
            highlight(
                "éa",
                &[(1, 2, Mark::Evidence), (3, 99, Mark::Entity)],
                false
            ),
            "éa"
        );
    }
}
