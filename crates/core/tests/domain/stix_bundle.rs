//! STIX 2.1 export and import as a partner platform would see them.

use patroli_core::network::{ContactKind, ContactValue};
use patroli_core::stix::{BundleInput, IndicatorInput, StixError, Tlp, build_bundle, parse_bundle};
use serde_json::Value;
use time::macros::datetime;

fn indicators() -> Vec<IndicatorInput> {
    let v = |k, s| ContactValue::new(k, s).unwrap();
    let seen = datetime!(2026-11-01 10:00 +07:00);
    [
        v(ContactKind::Phone, "0812-3456-7890"),
        v(ContactKind::Url, "https://toko-obat.example/p/LL-1000"),
        v(ContactKind::Domain, "www.toko-obat.example"),
        v(ContactKind::Social, "instagram:obat_kuat_murah"),
        v(ContactKind::Telegram, "@lowongan_kamboja"),
        v(ContactKind::BankAccount, "BCA:1234567890"),
        // A duplicate of the first: exported once.
        v(ContactKind::Phone, "+62 812 3456 7890"),
    ]
    .into_iter()
    .map(|value| IndicatorInput {
        value,
        first_seen: seen,
        labels: vec!["drugs".into()],
        description: Some("Kontak penjual <pil LL>".into()),
    })
    .collect()
}

fn export(tlp: Tlp) -> Value {
    let inds = indicators();
    build_bundle(&BundleInput {
        producer: "BPOM - Patroli Siber",
        tlp,
        modified: datetime!(2026-11-21 08:00 UTC),
        indicators: &inds,
    })
}

fn is_stix_id(v: &Value, ty: &str) -> bool {
    let Some(s) = v.as_str() else { return false };
    let Some((t, u)) = s.split_once("--") else {
        return false;
    };
    t == ty && uuid::Uuid::parse_str(u).is_ok()
}

fn is_timestamp(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.ends_with('Z')
            && time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .is_ok()
    })
}

#[test]
fn exported_bundle_has_the_required_stix_properties() {
    let bundle = export(Tlp::default());
    let text = serde_json::to_string_pretty(&bundle).unwrap();
    let bundle: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(bundle["type"], "bundle");
    assert!(is_stix_id(&bundle["id"], "bundle"));
    let objects = bundle["objects"].as_array().unwrap();
    let indicators: Vec<&Value> = objects
        .iter()
        .filter(|o| o["type"] == "indicator")
        .collect();
    assert_eq!(indicators.len(), 6, "the duplicate phone is exported once");
    let identity = objects.iter().find(|o| o["type"] == "identity").unwrap();
    assert!(is_stix_id(&identity["id"], "identity"));
    assert_eq!(identity["name"], "BPOM - Patroli Siber");
    let marking = objects
        .iter()
        .find(|o| o["type"] == "marking-definition")
        .unwrap();
    assert_eq!(
        marking["id"], "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "TLP:AMBER by default"
    );
    for ind in &indicators {
        assert_eq!(ind["spec_version"], "2.1");
        assert!(is_stix_id(&ind["id"], "indicator"), "{ind}");
        for key in ["created", "modified", "valid_from"] {
            assert!(is_timestamp(&ind[key]), "{key} in {ind}");
        }
        assert_eq!(ind["created"], "2026-11-01T03:00:00.000Z");
        assert_eq!(ind["modified"], "2026-11-21T08:00:00.000Z");
        assert_eq!(ind["pattern_type"], "stix");
        let pattern = ind["pattern"].as_str().unwrap();
        assert!(
            pattern.starts_with('[') && pattern.ends_with(']'),
            "{pattern}"
        );
        assert_eq!(ind["created_by_ref"], identity["id"]);
        assert_eq!(ind["object_marking_refs"][0], marking["id"]);
    }
    let patterns: Vec<&str> = indicators
        .iter()
        .map(|i| i["pattern"].as_str().unwrap())
        .collect();
    assert!(patterns.contains(&"[x-patroli-phone:value = '+6281234567890']"));
    assert!(patterns.contains(&"[url:value = 'https://toko-obat.example/p/LL-1000']"));
    assert!(patterns.contains(&"[domain-name:value = 'toko-obat.example']"));
    assert!(patterns.contains(
        &"[user-account:account_login = 'obat_kuat_murah' AND user-account:account_type = 'instagram']"
    ));
}

#[test]
fn re_exports_keep_ids_so_partners_dedupe() {
    let a = export(Tlp::Amber);
    let b = export(Tlp::Amber);
    assert_eq!(a, b);
    let red = export(Tlp::Red);
    let ids = |v: &Value| -> Vec<String> {
        v["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["type"] == "indicator")
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&a), ids(&red));
    assert!(
        red.to_string()
            .contains("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1")
    );
}

#[test]
fn our_bundle_imports_back_as_the_same_watch_list() {
    let bundle = export(Tlp::Green).to_string();
    let imported = parse_bundle(&bundle).unwrap();
    assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
    let mut got: Vec<ContactValue> = imported.entries.iter().map(|e| e.value.clone()).collect();
    got.sort();
    let mut want: Vec<ContactValue> = indicators().into_iter().map(|i| i.value).collect();
    want.sort();
    want.dedup();
    assert_eq!(got, want);
    assert!(imported.entries.iter().all(|e| e.tlp == Some(Tlp::Green)));
    assert!(imported.entries.iter().all(|e| e.labels == ["drugs"]));
}

#[test]
fn partner_indicators_are_read_or_skipped_with_reasons() {
    let partner = r#"{
      "type": "bundle",
      "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
      "objects": [
        {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
         "created": "2026-10-01T00:00:00Z", "modified": "2026-10-01T00:00:00Z",
         "valid_from": "2026-10-01T00:00:00Z", "pattern_type": "stix",
         "pattern": "[phone-number:value = '081299998888'] OR [email-addr:value = 'HR@Scam.example']"},
        {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade",
         "created": "2026-10-01T00:00:00Z", "modified": "2026-10-01T00:00:00Z",
         "valid_from": "2026-10-01T00:00:00Z", "pattern_type": "stix",
         "pattern": "[file:hashes.'SHA-256' = 'aa']"},
        {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--b1a6cbb9-6b0f-4a39-9bfc-7e0ca4f8f0a1",
         "created": "2026-10-01T00:00:00Z", "modified": "2026-10-01T00:00:00Z",
         "valid_from": "2026-10-01T00:00:00Z", "pattern_type": "sigma", "pattern": "x"},
        {"type": "malware", "spec_version": "2.1",
         "id": "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061", "name": "x", "is_family": false}
      ]
    }"#;
    let r = parse_bundle(partner).unwrap();
    let values: Vec<String> = r.entries.iter().map(|e| e.value.to_string()).collect();
    assert_eq!(values, ["phone:+6281299998888", "email:hr@scam.example"]);
    assert_eq!(r.skipped.len(), 2);
    assert!(r.skipped.iter().any(|s| s.reason.contains("sigma")));
}

#[test]
fn malformed_bundles_are_rejected_with_clear_errors() {
    assert!(matches!(parse_bundle("{"), Err(StixError::NotJson(_))));
    assert!(matches!(
        parse_bundle(r#"{"type":"report"}"#),
        Err(StixError::NotABundle(_))
    ));
    assert!(matches!(
        parse_bundle(r#"{"type":"bundle","id":"bundle--x"}"#),
        Err(StixError::NotABundle(_))
    ));
    let missing_pattern = r#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
      "objects":[{"type":"indicator","spec_version":"2.1",
      "id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-10-01T00:00:00Z",
      "modified":"2026-10-01T00:00:00Z","valid_from":"2026-10-01T00:00:00Z","pattern_type":"stix"}]}"#;
    let err = parse_bundle(missing_pattern).unwrap_err();
    assert!(err.to_string().contains("pattern"), "{err}");
    assert!(err.to_string().contains("indicator--8e2e2d2b"), "{err}");
    let old_spec = missing_pattern.replace("\"2.1\"", "\"2.0\"").replace(
        "\"pattern_type\":\"stix\"",
        "\"pattern_type\":\"stix\",\"pattern\":\"[url:value = 'x']\"",
    );
    let err = parse_bundle(&old_spec).unwrap_err();
    assert!(err.to_string().contains("spec_version"), "{err}");
    let broken_pattern = missing_pattern.replace(
        "\"pattern_type\":\"stix\"",
        "\"pattern_type\":\"stix\",\"pattern\":\"[url:value = 'x'\"",
    );
    let err = parse_bundle(&broken_pattern).unwrap_err();
    assert!(err.to_string().contains("unclosed"), "{err}");
}
