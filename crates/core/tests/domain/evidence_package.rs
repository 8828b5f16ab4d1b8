//! Evidence packages as an investigator and a court would use them: export, verify, tamper.

use std::io::{Cursor, Read, Write};

use patroli_core::evidence::{
    CustodyEvent, EvidenceItem, PackageInput, PartInput, Problem, build_package, verify_package,
};
use patroli_core::{CaseId, EvidenceId};
use time::macros::datetime;
use uuid::Uuid;

const SNAPSHOT: &[u8] = br#"{"platform":"marketplace","url":"https://example.invalid/p/77","title":"Kaos polos LL","text":"isi 1000 butir, kirim aman"}"#;
const SCREENSHOT: &[u8] = b"\x89PNG\r\n\x1a\n not really a png, but bytes all the same";

struct Fixture {
    case: CaseId,
    items: Vec<EvidenceItem>,
}

fn fixture() -> Fixture {
    let case = CaseId(Uuid::from_u128(0xCA5E));
    let first = EvidenceItem::capture(
        EvidenceId(Uuid::from_u128(1)),
        case,
        None,
        "analis.loka-tarakan",
        datetime!(2026-11-20 08:00 UTC),
        "temuan dikonfirmasi",
        &[PartInput {
            name: "post.json",
            media_type: "application/json",
            bytes: SNAPSHOT,
        }],
    )
    .unwrap();
    let second = EvidenceItem::capture(
        EvidenceId(Uuid::from_u128(2)),
        case,
        Some(&first),
        "penyidik <b>1</b>",
        datetime!(2026-11-20 09:30 +07:00),
        "tangkapan layar & catatan",
        &[PartInput {
            name: "layar 1.png",
            media_type: "image/png",
            bytes: SCREENSHOT,
        }],
    )
    .unwrap();
    Fixture {
        case,
        items: vec![first, second],
    }
}

fn package(f: &Fixture) -> Vec<u8> {
    let files = [
        (f.items[0].id, "post.json", SNAPSHOT),
        (f.items[1].id, "layar_1.png", SCREENSHOT),
    ];
    let custody = [CustodyEvent {
        at: datetime!(2026-11-21 10:00 UTC),
        actor: "penyidik.1".into(),
        action: "exported".into(),
        item: None,
        note: "untuk JPU".into(),
    }];
    build_package(&PackageInput {
        case_id: f.case,
        case_title: "Pil LL <dikirim> sebagai kaos",
        exported_by: "penyidik.1",
        exported_at: datetime!(2026-11-21 10:00 UTC),
        items: &f.items,
        files: &files,
        custody: &custody,
    })
    .unwrap()
}

fn entries(zip_bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip_bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().to_string(), data)
        })
        .collect()
}

fn rezip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn a_fresh_package_verifies_and_is_readable() {
    let f = fixture();
    let bytes = package(&f);
    let report = verify_package(&bytes).expect("intact package verifies");
    assert_eq!(report.case_id, f.case);
    assert_eq!(report.items, 2);
    assert_eq!(report.chain_head, f.items[1].hash);
    let names: Vec<String> = entries(&bytes).into_iter().map(|(n, _)| n).collect();
    for expected in [
        "manifest.json",
        "manifest.sha256",
        "summary.html",
        "files/0001/post.json",
        "files/0002/layar_1.png",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    let all = entries(&bytes);
    let summary = &all.iter().find(|(n, _)| n == "summary.html").unwrap().1;
    let summary = String::from_utf8(summary.clone()).unwrap();
    assert!(summary.contains("Pil LL &lt;dikirim&gt; sebagai kaos"));
    assert!(summary.contains("penyidik &lt;b&gt;1&lt;/b&gt;"));
    assert!(!summary.contains("<b>1</b>"));
    assert!(summary.contains(&f.items[1].hash));
    // The same input gives the same bytes: packages can be re-exported and compared.
    assert_eq!(bytes, package(&f));
}

#[test]
fn flipping_any_byte_of_any_file_is_detected_and_named() {
    let f = fixture();
    let original = entries(&package(&f));
    for (idx, (name, data)) in original.iter().enumerate() {
        // First, middle and last byte of every file, the manifest and its digest included.
        for pos in [0, data.len() / 2, data.len() - 1] {
            let mut altered = original.clone();
            altered[idx].1[pos] ^= 0x01;
            let problems = verify_package(&rezip(&altered))
                .expect_err(&format!("flip of {name}[{pos}] must be detected"));
            let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
            let named = match name.as_str() {
                "manifest.json" | "manifest.sha256" => problems.iter().any(|p| {
                    matches!(
                        p,
                        Problem::ManifestAltered | Problem::ManifestInvalid { .. }
                    )
                }),
                other => problems
                    .iter()
                    .any(|p| matches!(p, Problem::FileAltered { path, .. } if path == other)),
            };
            assert!(named, "flip of {name}[{pos}] not named: {text:?}");
        }
    }
}

#[test]
fn an_altered_attachment_names_its_evidence_item() {
    let f = fixture();
    let mut altered = entries(&package(&f));
    let shot = altered
        .iter_mut()
        .find(|(n, _)| n == "files/0002/layar_1.png")
        .unwrap();
    shot.1[5] = b'X';
    let actual = patroli_core::evidence::sha256_hex(&shot.1);
    let problems = verify_package(&rezip(&altered)).unwrap_err();
    assert_eq!(
        problems,
        vec![Problem::FileAltered {
            path: "files/0002/layar_1.png".into(),
            item: Some(f.items[1].id),
            expected: f.items[1].parts[0].sha256.clone(),
            actual,
        }]
    );
    assert!(problems[0].to_string().contains("files/0002/layar_1.png"));
}

#[test]
fn a_rewritten_manifest_item_breaks_the_chain_at_that_item() {
    // Someone edits who captured item 1 and fixes manifest.sha256 so the digest matches.
    let f = fixture();
    let mut altered = entries(&package(&f));
    let manifest = altered
        .iter_mut()
        .find(|(n, _)| n == "manifest.json")
        .unwrap();
    let text = String::from_utf8(manifest.1.clone()).unwrap();
    manifest.1 = text
        .replace("analis.loka-tarakan", "analis.lain")
        .into_bytes();
    let digest = format!(
        "{}  manifest.json\n",
        patroli_core::evidence::sha256_hex(&manifest.1)
    );
    altered
        .iter_mut()
        .find(|(n, _)| n == "manifest.sha256")
        .unwrap()
        .1 = digest.into_bytes();
    let problems = verify_package(&rezip(&altered)).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.to_string().contains(&f.items[0].id.to_string())),
        "{problems:?}"
    );
}

#[test]
fn added_and_removed_files_are_named() {
    let f = fixture();
    let mut altered = entries(&package(&f));
    altered.retain(|(n, _)| n != "files/0001/post.json");
    altered.push(("files/0003/extra.txt".into(), b"planted".to_vec()));
    let problems = verify_package(&rezip(&altered)).unwrap_err();
    assert!(problems.contains(&Problem::Missing {
        path: "files/0001/post.json".into()
    }));
    assert!(problems.contains(&Problem::UnexpectedFile {
        path: "files/0003/extra.txt".into()
    }));
}

#[test]
fn a_corrupted_zip_is_reported_not_panicked_on() {
    let f = fixture();
    let mut bytes = package(&f);
    let mid = bytes.len() / 3;
    bytes[mid] ^= 0xFF;
    assert!(verify_package(&bytes).is_err());
    assert!(matches!(
        verify_package(b"not a zip").unwrap_err()[0],
        Problem::NotAZip { .. }
    ));
}
