//! Splits a post's original text into plain and highlighted segments from the screening's byte
//! spans. The result is data, not HTML: the template escapes every segment, so hostile text and
//! hostile span boundaries can never produce markup.

use patroli_detect::{Field, Reason, ReasonKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment<'a> {
    pub text: &'a str,
    /// `Some(kind)` for a matched span; the kind picks the CSS class.
    pub mark: Option<ReasonKind>,
}

/// Segments of `text` for the reasons that point into `field`. Spans that are out of range or not
/// on character boundaries are skipped (they would come from a mismatched version); overlapping
/// spans are merged, keeping the kind of the first.
pub fn segments<'a>(text: &'a str, field: Field, reasons: &[Reason]) -> Vec<Segment<'a>> {
    let mut spans: Vec<(usize, usize, ReasonKind)> = reasons
        .iter()
        .filter(|r| r.field == field && r.start < r.end && r.end <= text.len())
        .filter(|r| text.is_char_boundary(r.start) && text.is_char_boundary(r.end))
        .map(|r| (r.start, r.end, r.kind))
        .collect();
    spans.sort_by_key(|s| (s.0, std::cmp::Reverse(s.1)));
    let mut merged: Vec<(usize, usize, ReasonKind)> = Vec::new();
    for s in spans {
        match merged.last_mut() {
            Some(last) if s.0 < last.1 => last.1 = last.1.max(s.1),
            _ => merged.push(s),
        }
    }
    let mut out = Vec::new();
    let mut at = 0;
    for (start, end, kind) in merged {
        if start > at {
            out.push(Segment {
                text: &text[at..start],
                mark: None,
            });
        }
        out.push(Segment {
            text: &text[start..end],
            mark: Some(kind),
        });
        at = end;
    }
    if at < text.len() || out.is_empty() {
        out.push(Segment {
            text: &text[at..],
            mark: None,
        });
    }
    out
}

pub fn css_class(kind: ReasonKind) -> &'static str {
    match kind {
        ReasonKind::Term => "hl-term",
        ReasonKind::Boost => "hl-boost",
        ReasonKind::Dampen => "hl-dampen",
        ReasonKind::Disguise => "hl-disguise",
        ReasonKind::Minor => "hl-minor",
        ReasonKind::Entity => "hl-entity",
        ReasonKind::Suppressed => "hl-suppressed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(start: usize, end: usize, kind: ReasonKind) -> Reason {
        Reason {
            rule: "r".into(),
            kind,
            category: None,
            field: Field::Text,
            start,
            end,
            matched: String::new(),
            weight: 1.0,
            note: String::new(),
        }
    }

    #[test]
    fn splits_merges_and_skips_bad_spans() {
        let text = "jual pil LL ready, kirim aman";
        let rs = [
            reason(5, 11, ReasonKind::Term),
            reason(9, 11, ReasonKind::Term),
            reason(19, 29, ReasonKind::Boost),
            reason(20, 400, ReasonKind::Boost),
        ];
        let segs = segments(text, Field::Text, &rs);
        let joined: String = segs.iter().map(|s| s.text).collect();
        assert_eq!(joined, text, "segments cover the text exactly once");
        let marked: Vec<_> = segs
            .iter()
            .filter(|s| s.mark.is_some())
            .map(|s| s.text)
            .collect();
        assert_eq!(marked, vec!["pil LL", "kirim aman"]);
    }

    #[test]
    fn never_splits_inside_a_character() {
        let text = "obat é keras";
        // 6..7 is inside the two-byte 'é'.
        let segs = segments(text, Field::Text, &[reason(6, 7, ReasonKind::Term)]);
        assert_eq!(segs, vec![Segment { text, mark: None }]);
    }

    #[test]
    fn title_spans_do_not_apply_to_text() {
        let mut r = reason(0, 4, ReasonKind::Term);
        r.field = Field::Title;
        let segs = segments("jual", Field::Text, &[r]);
        assert_eq!(segs.len(), 1);
        assert!(segs[0].mark.is_none());
    }
}
