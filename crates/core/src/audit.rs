//! The audit log's hash chain: the rule that links each entry to the one before it, and the check
//! that finds the first entry that was edited, deleted or moved.
//!
//! Pure: the store decides where entries live and serializes appends; this module only computes and
//! verifies hashes. The hash covers `prev_hash` followed by the canonical JSON of the entry's fields
//! (object keys sorted, no whitespace), so it does not depend on how a database or serde orders keys.
//! Timestamps are hashed as RFC 3339 in UTC with exactly six fractional digits, the precision both
//! storage backends keep; `truncate_time` gives a caller that precision before it hashes.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use time::OffsetDateTime;

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a caller asks to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// Who did it: `user:<uuid>`, `token:<uuid>`, `system`, `cli`.
    pub actor: String,
    /// What, as a stable dotted name: `login.ok`, `post.view`, `verdict.record`, `user.create`.
    pub action: String,
    /// On what: `post:<uuid>`, `user:<uuid>`...
    pub target: Option<String>,
    /// Anything else worth keeping; never secrets.
    pub detail: Value,
}

/// One stored entry of the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1, 2, 3, ... without gaps.
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Value,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// Builds the entry that follows `prev` (or the first one when `prev` is `None`).
    pub fn next(prev: Option<&AuditEntry>, at: OffsetDateTime, new: NewAuditEntry) -> AuditEntry {
        let (seq, prev_hash) = match prev {
            Some(p) => (p.seq + 1, p.hash.clone()),
            None => (1, GENESIS_HASH.to_string()),
        };
        Self::with_link(seq, prev_hash, at, new)
    }

    /// Builds the entry with sequence number `seq` chained onto `prev_hash`.
    pub fn with_link(
        seq: i64,
        prev_hash: String,
        at: OffsetDateTime,
        new: NewAuditEntry,
    ) -> AuditEntry {
        let at = truncate_time(at);
        let mut e = AuditEntry {
            seq,
            at,
            actor: new.actor,
            action: new.action,
            target: new.target,
            detail: new.detail,
            prev_hash,
            hash: String::new(),
        };
        e.hash = entry_hash(&e);
        e
    }
}

/// UTC with microsecond precision: what SQLite text and PostgreSQL `timestamptz` both round-trip.
pub fn truncate_time(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    let micros = t.nanosecond() / 1_000;
    t.replace_nanosecond(micros * 1_000)
        .expect("a microsecond count is a valid nanosecond")
}

/// `2026-11-25T09:30:00.123456Z`: fixed width, so text order is time order.
pub fn format_time(t: OffsetDateTime) -> String {
    let t = truncate_time(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 1_000
    )
}

/// The hash the entry should carry, from its `prev_hash` and its other fields (not its `hash`).
pub fn entry_hash(e: &AuditEntry) -> String {
    let body = serde_json::json!({
        "seq": e.seq,
        "at": format_time(e.at),
        "actor": e.actor,
        "action": e.action,
        "target": e.target,
        "detail": e.detail,
    });
    let mut h = Sha256::new();
    h.update(e.prev_hash.as_bytes());
    h.update(canonical_json(&body).as_bytes());
    hex::encode(h.finalize())
}

/// JSON with object keys sorted at every level and no insignificant whitespace.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        // Scalars: serde_json's own rendering is already unique for a given value.
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// How the chain is broken at `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    /// The entry's fields no longer match its hash: it was edited.
    Edited,
    /// The entry's `prev_hash` is not the previous entry's hash: the previous entry was edited and
    /// re-hashed, or this one was replaced.
    Unlinked,
    /// Entries before `seq` are missing: `seq` is the first missing number.
    Missing,
    /// The entry appears out of order (its number is not the next one).
    Reordered,
}

/// The first place where the chain does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("audit chain broken at seq {seq}: {}", match kind {
    BreakKind::Edited => "entry was edited",
    BreakKind::Unlinked => "entry does not follow the previous one",
    BreakKind::Missing => "entry is missing",
    BreakKind::Reordered => "entry is out of order",
})]
pub struct AuditBreak {
    pub seq: i64,
    pub kind: BreakKind,
}

/// Checks entries one at a time, so a caller can stream a long log page by page.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    /// A verifier expecting the log to start at seq 1.
    pub fn new() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            checked: 0,
        }
    }

    /// Checks the next entry in the order the log returned it.
    pub fn push(&mut self, e: &AuditEntry) -> Result<(), AuditBreak> {
        if e.seq > self.expected_seq {
            return Err(AuditBreak {
                seq: self.expected_seq,
                kind: BreakKind::Missing,
            });
        }
        if e.seq < self.expected_seq {
            return Err(AuditBreak {
                seq: e.seq,
                kind: BreakKind::Reordered,
            });
        }
        if entry_hash(e) != e.hash {
            return Err(AuditBreak {
                seq: e.seq,
                kind: BreakKind::Edited,
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(AuditBreak {
                seq: e.seq,
                kind: BreakKind::Unlinked,
            });
        }
        self.expected_seq += 1;
        self.prev_hash = e.hash.clone();
        self.checked += 1;
        Ok(())
    }

    /// Entries checked so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }
}

/// Verifies a whole log given in the order it is stored (by `seq`).
pub fn verify<'a>(entries: impl IntoIterator<Item = &'a AuditEntry>) -> Result<(), AuditBreak> {
    let mut v = ChainVerifier::new();
    for e in entries {
        v.push(e)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let t0 = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let e = AuditEntry::next(
                out.last(),
                t0 + time::Duration::seconds(i),
                NewAuditEntry {
                    actor: format!("user:{i}"),
                    action: "post.view".into(),
                    target: Some(format!("post:{i}")),
                    detail: json!({"b": i, "a": [1, {"z": true, "y": null}]}),
                },
            );
            out.push(e);
        }
        out
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(c[0].prev_hash, GENESIS_HASH);
        assert_eq!(c[3].prev_hash, c[2].hash);
        assert_eq!(verify(&c), Ok(()));
    }

    #[test]
    fn edited_entry_is_named() {
        let mut c = chain(5);
        c[2].actor = "user:mallory".into();
        assert_eq!(
            verify(&c),
            Err(AuditBreak {
                seq: 3,
                kind: BreakKind::Edited
            })
        );
    }

    #[test]
    fn rehashed_edit_breaks_the_next_link() {
        let mut c = chain(5);
        c[1].detail = json!({"forged": true});
        c[1].hash = entry_hash(&c[1]);
        assert_eq!(
            verify(&c),
            Err(AuditBreak {
                seq: 3,
                kind: BreakKind::Unlinked
            })
        );
    }

    #[test]
    fn deleted_entry_is_named() {
        let mut c = chain(5);
        c.remove(3);
        assert_eq!(
            verify(&c),
            Err(AuditBreak {
                seq: 4,
                kind: BreakKind::Missing
            })
        );
    }

    #[test]
    fn reordered_entries_are_named() {
        let mut c = chain(5);
        c.swap(1, 2);
        // seq 3 arrives where 2 was expected: 2 is reported missing first.
        assert_eq!(
            verify(&c),
            Err(AuditBreak {
                seq: 2,
                kind: BreakKind::Missing
            })
        );
        let mut c = chain(5);
        let dup = c[1].clone();
        c.insert(3, dup);
        assert_eq!(
            verify(&c),
            Err(AuditBreak {
                seq: 2,
                kind: BreakKind::Reordered
            })
        );
    }

    #[test]
    fn canonical_json_sorts_keys_and_is_compact() {
        let v = json!({"b": 1, "a": {"d": [1, 2], "c": "x y"}});
        assert_eq!(canonical_json(&v), r#"{"a":{"c":"x y","d":[1,2]},"b":1}"#);
    }

    #[test]
    fn time_is_hashed_at_microsecond_precision() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_790_000_000_123_456_789).unwrap();
        assert_eq!(format_time(t), "2026-09-21T14:13:20.123456Z");
        let a = AuditEntry::next(
            None,
            t,
            NewAuditEntry {
                actor: "system".into(),
                action: "x".into(),
                target: None,
                detail: Value::Null,
            },
        );
        let mut b = a.clone();
        b.at = truncate_time(t);
        assert_eq!(entry_hash(&b), a.hash);
    }
}
