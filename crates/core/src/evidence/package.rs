//! The evidence package: one zip per case export, checkable by anyone with `sha256sum`.
//!
//! ```text
//! manifest.json     machine-readable: case, items (the hash chain), file list, custody log
//! manifest.sha256   SHA-256 of manifest.json in `sha256sum -c` format
//! summary.html      the same for a person (Bahasa Indonesia), hashed in the manifest
//! files/0001/post.json, files/0002/screenshot.png ...   the parts, by chain position
//! ```
//!
//! Every byte is covered: parts by their item's hash (and so by the chain), `summary.html` by the
//! manifest, the manifest by `manifest.sha256`. Someone who rewrites the whole chain and both
//! digests can fool the file alone, which is why [`VerifyReport::chain_head`] should be compared
//! with the head the server recorded. Building and checking work on bytes in memory.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Cursor, Read, Write};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::{ChainError, EvidenceItem, GENESIS_HASH, sha256_hex, verify_chain};
use crate::ids::{CaseId, EvidenceId};

/// `format` of manifests this version writes and reads.
pub const PACKAGE_FORMAT: &str = "patroli-evidence-package/1";
pub const MANIFEST_PATH: &str = "manifest.json";
pub const MANIFEST_DIGEST_PATH: &str = "manifest.sha256";
pub const SUMMARY_PATH: &str = "summary.html";
/// Refuse to unpack more than this (a hostile zip can expand a thousandfold).
pub const MAX_UNPACKED_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// One entry of the custody log: who did what with the evidence, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    /// `captured`, `viewed`, `exported`, `shared`, `transferred`...
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<EvidenceId>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A file listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub sha256: String,
    pub size: u64,
    /// The evidence item the file is a part of (`None` for `summary.html`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<EvidenceId>,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub case_id: CaseId,
    pub case_title: String,
    pub exported_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    /// Hash of the last item: compare with the server's record.
    pub chain_head: String,
    pub items: Vec<EvidenceItem>,
    pub files: Vec<ManifestFile>,
    pub custody: Vec<CustodyEvent>,
}

/// What to package. `files` holds the bytes of every part of every item.
#[derive(Debug, Clone)]
pub struct PackageInput<'a> {
    pub case_id: CaseId,
    pub case_title: &'a str,
    pub exported_by: &'a str,
    pub exported_at: OffsetDateTime,
    /// The case's items in chain order.
    pub items: &'a [EvidenceItem],
    /// `(item, part name, bytes)` for every part.
    pub files: &'a [(EvidenceId, &'a str, &'a [u8])],
    pub custody: &'a [CustodyEvent],
}

/// Why a package cannot be built (the stored evidence is itself inconsistent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    #[error("the stored chain does not verify: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Chain(Vec<ChainError>),
    #[error("evidence item {item} belongs to another case")]
    WrongCase { item: EvidenceId },
    #[error("no bytes given for part `{name}` of evidence item {item}")]
    MissingPart { item: EvidenceId, name: String },
    #[error("the bytes given for part `{name}` of evidence item {item} do not match its hash")]
    PartMismatch { item: EvidenceId, name: String },
    #[error("writing the zip failed: {0}")]
    Zip(String),
}

/// One thing wrong with a package. The message names the file or item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    #[error("not a readable zip archive: {reason}")]
    NotAZip { reason: String },
    #[error("{path}: cannot be read from the archive ({reason})")]
    Unreadable { path: String, reason: String },
    #[error("the archive unpacks to more than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("{path}: missing")]
    Missing { path: String },
    #[error("{path}: not in the manifest (added after export)")]
    UnexpectedFile { path: String },
    #[error("manifest.json: unreadable ({reason})")]
    ManifestInvalid { reason: String },
    #[error("manifest.json: unsupported format `{format}`")]
    UnsupportedFormat { format: String },
    #[error("manifest.json or manifest.sha256 was altered (digest mismatch)")]
    ManifestAltered,
    #[error("{path}: altered (SHA-256 {actual}, expected {expected}){}", item.map(|i| format!(", part of evidence item {i}")).unwrap_or_default())]
    FileAltered {
        path: String,
        item: Option<EvidenceId>,
        expected: String,
        actual: String,
    },
    #[error("manifest.json: file list disagrees with evidence item {item} for {path}")]
    FileListInconsistent { path: String, item: EvidenceId },
    #[error("manifest.json: {0}")]
    Chain(ChainError),
    #[error("manifest.json: evidence item {item} belongs to another case")]
    WrongCase { item: EvidenceId },
    #[error("manifest.json: chain_head does not match the last item's hash")]
    ChainHeadMismatch,
}

/// A package that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub case_id: CaseId,
    pub case_title: String,
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    pub items: usize,
    /// Files checked, the manifest pair included.
    pub files: usize,
    /// Compare with the server's record of the case's chain head.
    pub chain_head: String,
}

/// Path of a part inside the package.
pub fn part_path(item: &EvidenceItem, part_name: &str) -> String {
    format!("files/{:04}/{part_name}", item.seq)
}

/// Builds the zip. Fails when the items do not chain or a part's bytes are missing or differ:
/// a package must never be produced from evidence that would not verify.
pub fn build_package(input: &PackageInput<'_>) -> Result<Vec<u8>, PackageError> {
    verify_chain(input.items).map_err(PackageError::Chain)?;
    let mut files: Vec<(ManifestFile, &[u8])> = Vec::new();
    for item in input.items {
        if item.case_id != input.case_id {
            return Err(PackageError::WrongCase { item: item.id });
        }
        for part in &item.parts {
            let bytes = input
                .files
                .iter()
                .find(|(id, name, _)| *id == item.id && *name == part.name)
                .map(|(_, _, b)| *b)
                .ok_or_else(|| PackageError::MissingPart {
                    item: item.id,
                    name: part.name.clone(),
                })?;
            if sha256_hex(bytes) != part.sha256 {
                return Err(PackageError::PartMismatch {
                    item: item.id,
                    name: part.name.clone(),
                });
            }
            files.push((
                ManifestFile {
                    path: part_path(item, &part.name),
                    sha256: part.sha256.clone(),
                    size: part.size,
                    item: Some(item.id),
                },
                bytes,
            ));
        }
    }
    let chain_head = input
        .items
        .last()
        .map_or_else(|| GENESIS_HASH.to_string(), |i| i.hash.clone());
    let mut manifest = Manifest {
        format: PACKAGE_FORMAT.to_string(),
        case_id: input.case_id,
        case_title: input.case_title.to_string(),
        exported_by: input.exported_by.to_string(),
        exported_at: input.exported_at,
        chain_head,
        items: input.items.to_vec(),
        files: files.iter().map(|(f, _)| f.clone()).collect(),
        custody: input.custody.to_vec(),
    };
    let summary = render_summary(&manifest);
    manifest.files.push(ManifestFile {
        path: SUMMARY_PATH.to_string(),
        sha256: sha256_hex(summary.as_bytes()),
        size: summary.len() as u64,
        item: None,
    });
    let manifest_json =
        serde_json::to_vec_pretty(&manifest).map_err(|e| PackageError::Zip(e.to_string()))?;
    let digest = format!("{}  {MANIFEST_PATH}\n", sha256_hex(&manifest_json));

    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(zip_time(input.exported_at));
    let zerr = |e: zip::result::ZipError| PackageError::Zip(e.to_string());
    let ioerr = |e: std::io::Error| PackageError::Zip(e.to_string());
    let mut put = |path: &str, bytes: &[u8]| -> Result<(), PackageError> {
        zip.start_file(path, options).map_err(zerr)?;
        zip.write_all(bytes).map_err(ioerr)
    };
    put(MANIFEST_PATH, &manifest_json)?;
    put(MANIFEST_DIGEST_PATH, digest.as_bytes())?;
    put(SUMMARY_PATH, summary.as_bytes())?;
    for (file, bytes) in &files {
        put(&file.path, bytes)?;
    }
    Ok(zip.finish().map_err(zerr)?.into_inner())
}

/// Checks every hash, the chain and the file list. On failure returns every problem found, each
/// naming the altered file or item.
pub fn verify_package(bytes: &[u8]) -> Result<VerifyReport, Vec<Problem>> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        vec![Problem::NotAZip {
            reason: e.to_string(),
        }]
    })?;
    let mut problems = Vec::new();
    let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut budget = MAX_UNPACKED_BYTES;
    for i in 0..archive.len() {
        let mut file = match archive.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                problems.push(Problem::Unreadable {
                    path: format!("entry #{i}"),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let path = file.name().to_string();
        if file.is_dir() {
            continue;
        }
        let mut data = Vec::new();
        // Reading to the end makes the zip reader check the entry's CRC.
        match (&mut file).take(budget + 1).read_to_end(&mut data) {
            Ok(n) if n as u64 > budget => {
                return Err(vec![Problem::TooLarge {
                    limit: MAX_UNPACKED_BYTES,
                }]);
            }
            Ok(n) => {
                budget -= n as u64;
                entries.insert(path, data);
            }
            Err(e) => problems.push(Problem::Unreadable {
                path,
                reason: e.to_string(),
            }),
        }
    }

    let Some(manifest_bytes) = entries.get(MANIFEST_PATH) else {
        if !problems
            .iter()
            .any(|p| matches!(p, Problem::Unreadable { path, .. } if path == MANIFEST_PATH))
        {
            problems.push(Problem::Missing {
                path: MANIFEST_PATH.into(),
            });
        }
        return Err(problems);
    };
    match entries.get(MANIFEST_DIGEST_PATH) {
        None => problems.push(Problem::Missing {
            path: MANIFEST_DIGEST_PATH.into(),
        }),
        Some(d) => {
            // Compared byte for byte: any change to the digest file is a change.
            let expected = format!("{}  {MANIFEST_PATH}\n", sha256_hex(manifest_bytes));
            if d.as_slice() != expected.as_bytes() {
                problems.push(Problem::ManifestAltered);
            }
        }
    }
    let manifest: Manifest = match serde_json::from_slice(manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            problems.push(Problem::ManifestInvalid {
                reason: e.to_string(),
            });
            return Err(problems);
        }
    };
    if manifest.format != PACKAGE_FORMAT {
        problems.push(Problem::UnsupportedFormat {
            format: manifest.format.clone(),
        });
        return Err(problems);
    }
    if let Err(errs) = verify_chain(&manifest.items) {
        problems.extend(errs.into_iter().map(Problem::Chain));
    }
    let head = manifest
        .items
        .last()
        .map_or(GENESIS_HASH, |i| i.hash.as_str());
    if manifest.chain_head != head {
        problems.push(Problem::ChainHeadMismatch);
    }

    // The files the chain vouches for, then the summary the manifest vouches for.
    let mut expected: Vec<(String, String, Option<EvidenceId>)> = Vec::new();
    for item in &manifest.items {
        if item.case_id != manifest.case_id {
            problems.push(Problem::WrongCase { item: item.id });
        }
        for part in &item.parts {
            let path = part_path(item, &part.name);
            let listed = manifest.files.iter().find(|f| f.path == path);
            if listed.is_none_or(|f| f.sha256 != part.sha256 || f.item != Some(item.id)) {
                problems.push(Problem::FileListInconsistent {
                    path: path.clone(),
                    item: item.id,
                });
            }
            expected.push((path, part.sha256.clone(), Some(item.id)));
        }
    }
    for f in &manifest.files {
        if f.item.is_none() {
            expected.push((f.path.clone(), f.sha256.clone(), None));
        } else if !expected.iter().any(|(p, _, _)| *p == f.path) {
            problems.push(Problem::UnexpectedFile {
                path: f.path.clone(),
            });
        }
    }
    if !expected.iter().any(|(p, _, _)| p == SUMMARY_PATH) {
        problems.push(Problem::Missing {
            path: SUMMARY_PATH.into(),
        });
    }
    let unreadable: Vec<String> = problems
        .iter()
        .filter_map(|p| match p {
            Problem::Unreadable { path, .. } => Some(path.clone()),
            _ => None,
        })
        .collect();
    for (path, sha, item) in &expected {
        match entries.get(path) {
            None if unreadable.contains(path) => {}
            None => problems.push(Problem::Missing { path: path.clone() }),
            Some(data) => {
                let actual = sha256_hex(data);
                if actual != *sha {
                    problems.push(Problem::FileAltered {
                        path: path.clone(),
                        item: *item,
                        expected: sha.clone(),
                        actual,
                    });
                }
            }
        }
    }
    for path in entries.keys() {
        let known = path == MANIFEST_PATH
            || path == MANIFEST_DIGEST_PATH
            || expected.iter().any(|(p, _, _)| p == path);
        if !known {
            problems.push(Problem::UnexpectedFile { path: path.clone() });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(VerifyReport {
        case_id: manifest.case_id,
        case_title: manifest.case_title,
        exported_at: manifest.exported_at,
        items: manifest.items.len(),
        files: entries.len(),
        chain_head: manifest.chain_head,
    })
}

fn zip_time(t: OffsetDateTime) -> zip::DateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    zip::DateTime::from_date_and_time(
        t.year().clamp(1980, 2107) as u16,
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second().min(58),
    )
    .unwrap_or_default()
}

fn fmt_time(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// The human-readable summary. Every value is escaped: titles, names and notes are user input.
fn render_summary(m: &Manifest) -> String {
    use crate::network::escape_xml as e;
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"id\"><head><meta charset=\"utf-8\"><title>Paket bukti: {}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #999;padding:4px 8px;text-align:left;vertical-align:top}}\
         code{{font-size:0.85em;word-break:break-all}}</style></head><body>\n",
        e(&m.case_title)
    );
    let _ = write!(
        s,
        "<h1>Paket bukti perkara</h1>\n<p><b>Perkara:</b> {} (<code>{}</code>)<br>\
         <b>Diekspor oleh:</b> {} pada {}<br><b>Jumlah bukti:</b> {}<br>\
         <b>Kepala rantai hash:</b> <code>{}</code></p>\n",
        e(&m.case_title),
        m.case_id,
        e(&m.exported_by),
        fmt_time(m.exported_at),
        m.items.len(),
        e(&m.chain_head)
    );
    s.push_str(
        "<p>Setiap berkas tercatat dengan SHA-256. Setiap bukti memuat hash bukti sebelumnya, \
         sehingga perubahan apa pun memutus rantai. Periksa dengan <code>patroli evidence verify \
         PAKET.zip</code> atau <code>sha256sum -c manifest.sha256</code>, lalu bandingkan kepala \
         rantai dengan catatan server.</p>\n<h2>Bukti</h2>\n<table><tr><th>#</th><th>Diambil</th>\
         <th>Oleh</th><th>Catatan</th><th>Berkas (SHA-256)</th><th>Hash bukti</th></tr>\n",
    );
    for item in &m.items {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>",
            item.seq,
            fmt_time(item.captured_at),
            e(&item.captured_by),
            e(&item.note)
        );
        for part in &item.parts {
            let _ = write!(
                s,
                "{} ({}, {} bita)<br><code>{}</code><br>",
                e(&part_path(item, &part.name)),
                e(&part.media_type),
                part.size,
                e(&part.sha256)
            );
        }
        let _ = writeln!(s, "</td><td><code>{}</code></td></tr>", e(&item.hash));
    }
    s.push_str("</table>\n<h2>Log penguasaan (chain of custody)</h2>\n<table><tr><th>Waktu</th><th>Pelaku</th><th>Tindakan</th><th>Bukti</th><th>Catatan</th></tr>\n");
    for ev in &m.custody {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            fmt_time(ev.at),
            e(&ev.actor),
            e(&ev.action),
            ev.item.map(|i| i.to_string()).unwrap_or_default(),
            e(&ev.note)
        );
    }
    s.push_str("</table>\n</body></html>\n");
    s
}
