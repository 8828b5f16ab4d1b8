//! Evidence with a chain of custody: an [`EvidenceItem`] freezes a post snapshot and attachments,
//! records the SHA-256 of every part, who captured it and when, and chains to the case's previous
//! item (each item's hash covers the previous item's hash), so removing, reordering or editing any
//! item after the fact breaks every later hash.
//!
//! [`package`] turns a case's items into a zip that a court clerk can read (`summary.html`) and a
//! program can check ([`package::verify_package`]). Everything here works on bytes in memory: the
//! caller reads uploads and writes the zip.

pub mod package;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::ids::{CaseId, EvidenceId};

pub use package::{
    CustodyEvent, Manifest, PackageError, PackageInput, Problem, VerifyReport, build_package,
    verify_package,
};

/// The `prev_hash` of a case's first item.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Media type of the post snapshot part.
pub const SNAPSHOT_MEDIA_TYPE: &str = "application/json";
/// File name of the post snapshot part.
pub const SNAPSHOT_NAME: &str = "post.json";

/// The frozen view of a post, stored as the `post.json` part of an evidence item. Everything an
/// investigator needs to find the post again and to show what it said at capture time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostSnapshot {
    pub post_id: crate::ids::PostId,
    pub platform: String,
    /// The platform's own ids (listing id, shop id...), as given at ingest.
    pub platform_post_id: Option<String>,
    pub url: Option<String>,
    pub account_handle: Option<String>,
    pub platform_account_id: Option<String>,
    pub title: Option<String>,
    pub text: String,
    pub location_text: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub posted_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub ingested_at: OffsetDateTime,
}

impl PostSnapshot {
    /// Bytes of the `post.json` part: pretty JSON, so a person can read it in the package.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a snapshot of strings and times serializes")
    }
}

/// One part to capture: the bytes are hashed now and stored by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInput<'a> {
    /// File name as uploaded; sanitized by [`EvidenceItem::capture`].
    pub name: &'a str,
    pub media_type: &'a str,
    pub bytes: &'a [u8],
}

/// One hashed part of an item. The bytes live elsewhere (store, package `files/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidencePart {
    /// Sanitized file name, unique within the item.
    pub name: String,
    pub media_type: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
}

/// A frozen piece of evidence, one link of its case's hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub id: EvidenceId,
    pub case_id: CaseId,
    /// Position in the case's chain, from 1.
    pub seq: u32,
    /// Who captured it (user id or login, as the server records users).
    pub captured_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub captured_at: OffsetDateTime,
    /// Why it was captured ("confirmed finding", "uploaded screenshot"...).
    pub note: String,
    pub parts: Vec<EvidencePart>,
    /// `hash` of the previous item of the case, or [`GENESIS_HASH`].
    pub prev_hash: String,
    /// SHA-256 over every field above (see [`EvidenceItem::compute_hash`]).
    pub hash: String,
}

/// What is wrong with a case's chain of items.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainError {
    #[error("evidence item #{seq} ({item}): its contents no longer match its hash")]
    ItemAltered { item: EvidenceId, seq: u32 },
    #[error("evidence item #{seq} ({item}): does not follow the previous item (chain broken)")]
    ChainBroken { item: EvidenceId, seq: u32 },
    #[error("evidence item #{seq} ({item}): expected position #{expected} in the chain")]
    OutOfOrder {
        item: EvidenceId,
        seq: u32,
        expected: u32,
    },
    #[error("evidence item #{seq} ({item}): belongs to another case")]
    WrongCase { item: EvidenceId, seq: u32 },
}

/// A capture that cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    #[error("an evidence item needs at least one part")]
    NoParts,
    #[error("the previous item belongs to another case")]
    WrongCase,
}

impl EvidenceItem {
    /// Freezes `parts` as the next item of the case after `prev` (`None` for the first item).
    pub fn capture(
        id: EvidenceId,
        case_id: CaseId,
        prev: Option<&EvidenceItem>,
        captured_by: &str,
        captured_at: OffsetDateTime,
        note: &str,
        parts: &[PartInput<'_>],
    ) -> Result<EvidenceItem, CaptureError> {
        if parts.is_empty() {
            return Err(CaptureError::NoParts);
        }
        if prev.is_some_and(|p| p.case_id != case_id) {
            return Err(CaptureError::WrongCase);
        }
        let mut names: Vec<String> = Vec::new();
        let parts = parts
            .iter()
            .map(|p| {
                let name = unique_name(sanitize_name(p.name), &names);
                names.push(name.clone());
                EvidencePart {
                    name,
                    media_type: p.media_type.trim().to_string(),
                    size: p.bytes.len() as u64,
                    sha256: sha256_hex(p.bytes),
                }
            })
            .collect();
        // Databases keep microseconds (PostgreSQL) at best: hash what will be read back.
        let captured_at = captured_at
            .replace_nanosecond(captured_at.nanosecond() / 1_000 * 1_000)
            .expect("a truncated nanosecond is in range");
        let mut item = EvidenceItem {
            id,
            case_id,
            seq: prev.map_or(1, |p| p.seq + 1),
            captured_by: captured_by.to_string(),
            captured_at,
            note: note.to_string(),
            parts,
            prev_hash: prev.map_or_else(|| GENESIS_HASH.to_string(), |p| p.hash.clone()),
            hash: String::new(),
        };
        item.hash = item.compute_hash();
        Ok(item)
    }

    /// The hash this item should carry. Fields are length-prefixed so that moving text from one
    /// field to the next changes the hash.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        field(b"patroli-evidence-item/1");
        field(self.id.0.as_bytes());
        field(self.case_id.0.as_bytes());
        field(&self.seq.to_be_bytes());
        field(self.captured_by.as_bytes());
        field(&self.captured_at.unix_timestamp_nanos().to_be_bytes());
        field(self.note.as_bytes());
        field(&(self.parts.len() as u64).to_be_bytes());
        for p in &self.parts {
            field(p.name.as_bytes());
            field(p.media_type.as_bytes());
            field(&p.size.to_be_bytes());
            field(p.sha256.as_bytes());
        }
        field(self.prev_hash.as_bytes());
        hex::encode(h.finalize())
    }
}

/// Checks a case's items in chain order: each hash, each link, positions and case. Returns every
/// problem found, not only the first, so a report can name all altered items.
pub fn verify_chain(items: &[EvidenceItem]) -> Result<(), Vec<ChainError>> {
    let mut problems = Vec::new();
    let mut prev_hash = GENESIS_HASH;
    let case = items.first().map(|i| i.case_id);
    for (i, item) in items.iter().enumerate() {
        let expected = i as u32 + 1;
        if item.seq != expected {
            problems.push(ChainError::OutOfOrder {
                item: item.id,
                seq: item.seq,
                expected,
            });
        }
        if Some(item.case_id) != case {
            problems.push(ChainError::WrongCase {
                item: item.id,
                seq: item.seq,
            });
        }
        if item.compute_hash() != item.hash {
            problems.push(ChainError::ItemAltered {
                item: item.id,
                seq: item.seq,
            });
        }
        if item.prev_hash != prev_hash {
            problems.push(ChainError::ChainBroken {
                item: item.id,
                seq: item.seq,
            });
        }
        prev_hash = &item.hash;
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A file name safe inside a zip and on any file system: no directories, no `..`, only
/// letters, digits, `.`, `-` and `_`, at most 80 characters, never empty.
pub fn sanitize_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut out: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    while out.starts_with('.') {
        out.remove(0);
    }
    if out.len() > 80 {
        // Keep the extension: a reader opens files by it.
        let ext = out
            .rfind('.')
            .map(|i| out[i..].to_string())
            .filter(|e| e.len() <= 10)
            .unwrap_or_default();
        out.truncate(80 - ext.len());
        out.push_str(&ext);
    }
    if out.is_empty() {
        out.push_str("file");
    }
    out
}

fn unique_name(name: String, taken: &[String]) -> String {
    if !taken.contains(&name) {
        return name;
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name.as_str(), ""),
    };
    (2..)
        .map(|n| format!("{stem}-{n}{ext}"))
        .find(|candidate| !taken.contains(candidate))
        .expect("an unused name exists")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use uuid::Uuid;

    fn chain() -> Vec<EvidenceItem> {
        let case = CaseId(Uuid::from_u128(1));
        let snapshot = br#"{"url":"https://example.invalid/p/1","text":"pil LL ready"}"#;
        let first = EvidenceItem::capture(
            EvidenceId(Uuid::from_u128(10)),
            case,
            None,
            "analis.kaltara",
            datetime!(2026-11-20 08:00 UTC),
            "confirmed finding",
            &[PartInput {
                name: SNAPSHOT_NAME,
                media_type: SNAPSHOT_MEDIA_TYPE,
                bytes: snapshot,
            }],
        )
        .unwrap();
        let second = EvidenceItem::capture(
            EvidenceId(Uuid::from_u128(11)),
            case,
            Some(&first),
            "penyidik.1",
            datetime!(2026-11-20 09:30 UTC),
            "screenshots",
            &[
                PartInput {
                    name: "../../etc/passwd",
                    media_type: "image/png",
                    bytes: b"\x89PNG fake",
                },
                PartInput {
                    name: "passwd",
                    media_type: "image/png",
                    bytes: b"second",
                },
            ],
        )
        .unwrap();
        vec![first, second]
    }

    #[test]
    fn items_chain_and_verify() {
        let items = chain();
        assert_eq!(items[0].prev_hash, GENESIS_HASH);
        assert_eq!(items[1].prev_hash, items[0].hash);
        assert_eq!(items[1].seq, 2);
        assert_eq!(items[1].parts[0].name, "passwd");
        assert_eq!(items[1].parts[1].name, "passwd-2");
        assert_eq!(items[1].parts[1].sha256, sha256_hex(b"second"));
        assert_eq!(verify_chain(&items), Ok(()));
    }

    #[test]
    fn capture_time_is_kept_to_the_microsecond_a_database_stores() {
        let item = EvidenceItem::capture(
            EvidenceId(Uuid::from_u128(30)),
            CaseId(Uuid::from_u128(1)),
            None,
            "analis",
            datetime!(2026-11-20 08:00:00.123456789 UTC),
            "",
            &[PartInput {
                name: "a.txt",
                media_type: "text/plain",
                bytes: b"a",
            }],
        )
        .unwrap();
        assert_eq!(item.captured_at, datetime!(2026-11-20 08:00:00.123456 UTC));
        assert_eq!(verify_chain(std::slice::from_ref(&item)), Ok(()));
    }

    #[test]
    fn an_edited_item_and_a_removed_item_are_named() {
        let mut items = chain();
        items[0].captured_by = "someone.else".into();
        assert_eq!(
            verify_chain(&items),
            Err(vec![ChainError::ItemAltered {
                item: items[0].id,
                seq: 1
            }])
        );
        let items = chain();
        let errs = verify_chain(&items[1..]).unwrap_err();
        assert!(errs.contains(&ChainError::ChainBroken {
            item: items[1].id,
            seq: 2
        }));
        assert!(
            errs.iter()
                .any(|e| matches!(e, ChainError::OutOfOrder { .. }))
        );
    }

    #[test]
    fn a_snapshot_is_a_readable_json_part() {
        let snap = PostSnapshot {
            post_id: crate::ids::PostId(Uuid::from_u128(3)),
            platform: "marketplace".into(),
            platform_post_id: Some("98765".into()),
            url: Some("https://example.invalid/p/98765".into()),
            account_handle: Some("toko_kaos_ll".into()),
            platform_account_id: None,
            title: Some("Kaos LL isi 1000".into()),
            text: "ready, kirim aman".into(),
            location_text: Some("Kota Tarakan".into()),
            posted_at: None,
            ingested_at: datetime!(2026-11-20 07:00 UTC),
        };
        let bytes = snap.to_json_bytes();
        let back: PostSnapshot = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, snap);
        let item = EvidenceItem::capture(
            EvidenceId(Uuid::from_u128(20)),
            CaseId(Uuid::from_u128(1)),
            None,
            "analis",
            datetime!(2026-11-20 08:00 UTC),
            "",
            &[PartInput {
                name: SNAPSHOT_NAME,
                media_type: SNAPSHOT_MEDIA_TYPE,
                bytes: &bytes,
            }],
        )
        .unwrap();
        assert_eq!(item.parts[0].sha256, sha256_hex(&bytes));
    }

    #[test]
    fn names_are_sanitized() {
        assert_eq!(sanitize_name("C:\\Users\\x\\bukti 1.png"), "bukti_1.png");
        assert_eq!(sanitize_name(".."), "file");
        assert_eq!(sanitize_name(".hidden"), "hidden");
        let long = format!("{}.jpeg", "a".repeat(200));
        let s = sanitize_name(&long);
        assert_eq!(s.len(), 80);
        assert!(s.ends_with(".jpeg"));
    }
}
