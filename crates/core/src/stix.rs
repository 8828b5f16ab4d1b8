//! STIX 2.1 exchange with partners (MISP, OpenCTI, other agencies): export the contacts behind a
//! network or case as `indicator` objects, and read partners' indicators into watch-list entries.
//!
//! Ids are UUIDv5 of the indicator's kind and value, so exporting the same phone twice yields the
//! same `indicator--...` id and a partner's platform updates one object instead of adding a
//! duplicate. Phones have no standard STIX object; they go out as `x-patroli-phone:value` (and
//! bank accounts, e-wallets likewise as `x-patroli-*`), and on import `phone-number:value` (the
//! OpenCTI convention) is read too. Timestamps are passed in: this module never reads the clock.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::network::{ContactKind, ContactValue};

/// Namespace of Patroli's UUIDv5 ids (a fixed random UUID: never change it, or ids stop
/// deduplicating across exports).
const NAMESPACE: Uuid = Uuid::from_u128(0x6c1f_4a3e_93d2_4b57_8e0a_1d52_7f90_c2b4);
const TLP_CREATED: &str = "2022-10-01T00:00:00.000Z";
const TLP_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";
/// `created`/`modified` of the producer identity: it describes the installation, not an event.
const IDENTITY_CREATED: &str = "2026-01-01T00:00:00.000Z";

/// Traffic Light Protocol 2.0 levels, with their official STIX marking-definition ids.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Tlp {
    Clear,
    Green,
    /// The default: partners and their clients on a need-to-know basis.
    #[default]
    Amber,
    AmberStrict,
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    pub fn marking_id(self) -> &'static str {
        match self {
            Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
            Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        }
    }

    /// `TLP:AMBER+STRICT` etc.
    pub fn label(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }

    fn extension_value(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    fn from_marking_id(id: &str) -> Option<Tlp> {
        Tlp::ALL.into_iter().find(|t| t.marking_id() == id)
    }

    fn marking_definition(self) -> Value {
        json!({
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": self.marking_id(),
            "created": TLP_CREATED,
            "name": self.label(),
            "extensions": {
                TLP_EXTENSION: {
                    "extension_type": "property-extension",
                    "tlp_2_0": self.extension_value(),
                }
            }
        })
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One contact to export.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorInput {
    pub value: ContactValue,
    /// When Patroli first saw it: the indicator's `created` and `valid_from`, stable across
    /// exports so that re-exports are new versions of one object.
    pub first_seen: OffsetDateTime,
    /// Categories or other labels (`drugs`, `trafficking_recruitment`...).
    pub labels: Vec<String>,
    pub description: Option<String>,
}

/// What to export.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleInput<'a> {
    /// Name of the producing organization ("BPOM — Patroli Siber").
    pub producer: &'a str,
    pub tlp: Tlp,
    /// The export time: every indicator's `modified`.
    pub modified: OffsetDateTime,
    pub indicators: &'a [IndicatorInput],
}

/// Deterministic STIX id: `type--uuidv5(kind|value)`.
pub fn stix_id(object_type: &str, key: &str) -> String {
    format!(
        "{object_type}--{}",
        Uuid::new_v5(&NAMESPACE, format!("{object_type}|{key}").as_bytes())
    )
}

/// STIX timestamp: UTC, millisecond precision, `Z`.
pub fn stix_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A STIX pattern string literal: `'` and `\` escaped.
fn literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The STIX pattern for a contact, or `None` for kinds that are not indicators (text bands).
pub fn pattern_for(value: &ContactValue) -> Option<String> {
    let v = &value.value;
    let account = |account_type: &str, login: &str| {
        format!(
            "[user-account:account_login = {} AND user-account:account_type = {}]",
            literal(login),
            literal(account_type)
        )
    };
    Some(match value.kind {
        ContactKind::Phone => format!("[x-patroli-phone:value = {}]", literal(v)),
        ContactKind::Url => {
            // Normalized URLs drop the scheme; STIX url values carry one.
            let url = if v.contains("://") {
                v.clone()
            } else {
                format!("https://{v}")
            };
            format!("[url:value = {}]", literal(&url))
        }
        ContactKind::Domain => format!("[domain-name:value = {}]", literal(v)),
        ContactKind::Email => format!("[email-addr:value = {}]", literal(v)),
        ContactKind::Telegram => account("telegram", v),
        ContactKind::Line => account("line", v),
        ContactKind::Social => match v.split_once(':') {
            Some((platform, login)) => account(platform, login),
            None => format!("[user-account:account_login = {}]", literal(v)),
        },
        ContactKind::BankAccount => format!("[x-patroli-bank-account:value = {}]", literal(v)),
        ContactKind::Ewallet => format!("[x-patroli-ewallet:value = {}]", literal(v)),
        ContactKind::Text => return None,
    })
}

fn kind_label(kind: ContactKind) -> &'static str {
    match kind {
        ContactKind::Phone => "Nomor telepon/WhatsApp",
        ContactKind::Url => "Tautan",
        ContactKind::Domain => "Domain",
        ContactKind::Email => "E-mail",
        ContactKind::Telegram | ContactKind::Line | ContactKind::Social => "Akun",
        ContactKind::BankAccount => "Rekening bank",
        ContactKind::Ewallet => "Dompet elektronik",
        ContactKind::Text => "Teks",
    }
}

/// Builds a STIX 2.1 bundle: the producer `identity`, the TLP marking definition, and one
/// `indicator` per distinct exportable contact. The output is deterministic for a given input.
pub fn build_bundle(input: &BundleInput<'_>) -> Value {
    let identity_id = stix_id("identity", input.producer);
    let marking = input.tlp.marking_id();
    let modified = stix_time(input.modified);
    let mut seen = BTreeSet::new();
    let mut objects = vec![
        json!({
            "type": "identity",
            "spec_version": "2.1",
            "id": identity_id,
            "created": IDENTITY_CREATED,
            "modified": IDENTITY_CREATED,
            "name": input.producer,
            "identity_class": "organization",
            "sectors": ["government-national"],
        }),
        input.tlp.marking_definition(),
    ];
    for ind in input.indicators {
        let Some(pattern) = pattern_for(&ind.value) else {
            continue;
        };
        let id = stix_id(
            "indicator",
            &format!("{}|{}", ind.value.kind.as_str(), ind.value.value),
        );
        if !seen.insert(id.clone()) {
            continue;
        }
        let created = stix_time(ind.first_seen);
        // `modified` must not precede `created`.
        let modified = if ind.first_seen > input.modified {
            created.clone()
        } else {
            modified.clone()
        };
        let mut obj = json!({
            "type": "indicator",
            "spec_version": "2.1",
            "id": id,
            "created_by_ref": identity_id,
            "created": created,
            "modified": modified,
            "name": format!("{}: {}", kind_label(ind.value.kind), ind.value.value),
            "indicator_types": ["malicious-activity"],
            "pattern": pattern,
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": created,
            "object_marking_refs": [marking],
        });
        if !ind.labels.is_empty() {
            obj["labels"] = json!(ind.labels);
        }
        if let Some(d) = &ind.description {
            obj["description"] = json!(d);
        }
        objects.push(obj);
    }
    let bundle_key: Vec<&str> = seen.iter().map(String::as_str).collect();
    json!({
        "type": "bundle",
        "id": stix_id("bundle", &format!("{}|{}", bundle_key.join(","), modified)),
        "objects": objects,
    })
}

/// A watch-list entry read from a partner's indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchEntry {
    pub value: ContactValue,
    /// The partner's indicator id, to update or revoke the entry later.
    pub source_id: String,
    pub name: Option<String>,
    pub labels: Vec<String>,
    /// The strictest TLP marking on the indicator, if any.
    pub tlp: Option<Tlp>,
    /// `valid_until` as given: the caller drops expired entries.
    pub valid_until: Option<String>,
}

/// An indicator left out of the import, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub id: String,
    pub reason: String,
}

/// The result of reading a partner bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportResult {
    pub entries: Vec<WatchEntry>,
    /// Indicators that are well-formed but not usable (revoked, other pattern languages, file
    /// hashes and other observables Patroli does not watch).
    pub skipped: Vec<Skipped>,
}

/// A bundle that cannot be read at all, or an indicator that breaks the STIX 2.1 rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StixError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not a STIX bundle: {0}")]
    NotABundle(String),
    #[error("object #{index} ({id}): {problem}")]
    BadObject {
        index: usize,
        id: String,
        problem: String,
    },
}

/// Reads the indicators of a partner's STIX 2.1 bundle into watch-list entries. A malformed
/// bundle or indicator (missing required property, bad id, wrong spec version, unbalanced
/// pattern) is an error naming the object; indicators Patroli cannot use are listed as skipped.
pub fn parse_bundle(text: &str) -> Result<ImportResult, StixError> {
    let root: Value = serde_json::from_str(text).map_err(|e| StixError::NotJson(e.to_string()))?;
    let Some(obj) = root.as_object() else {
        return Err(StixError::NotABundle(
            "the top level is not an object".into(),
        ));
    };
    if obj.get("type").and_then(Value::as_str) != Some("bundle") {
        return Err(StixError::NotABundle("`type` is not \"bundle\"".into()));
    }
    let id = obj.get("id").and_then(Value::as_str).unwrap_or_default();
    if !valid_id(id, Some("bundle")) {
        return Err(StixError::NotABundle(format!(
            "`id` `{id}` is not bundle--<uuid>"
        )));
    }
    let objects = match obj.get("objects") {
        None => return Ok(ImportResult::default()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(StixError::NotABundle("`objects` is not a list".into())),
    };
    let mut result = ImportResult::default();
    for (index, o) in objects.iter().enumerate() {
        let bad = |id: &str, problem: String| StixError::BadObject {
            index,
            id: id.to_string(),
            problem,
        };
        let Some(o) = o.as_object() else {
            return Err(bad("?", "not an object".into()));
        };
        let Some(ty) = o.get("type").and_then(Value::as_str) else {
            return Err(bad("?", "missing `type`".into()));
        };
        let id = o.get("id").and_then(Value::as_str).unwrap_or_default();
        if !valid_id(id, Some(ty)) {
            return Err(bad(id, format!("`id` is not {ty}--<uuid>")));
        }
        if ty != "indicator" {
            continue;
        }
        let s = |key: &str| o.get(key).and_then(Value::as_str);
        for key in [
            "spec_version",
            "created",
            "modified",
            "pattern",
            "pattern_type",
            "valid_from",
        ] {
            if s(key).is_none() {
                return Err(bad(id, format!("missing required property `{key}`")));
            }
        }
        if s("spec_version") != Some("2.1") {
            return Err(bad(id, "`spec_version` is not \"2.1\"".into()));
        }
        for key in ["created", "modified", "valid_from"] {
            let v = s(key).unwrap_or_default();
            if OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339).is_err() {
                return Err(bad(id, format!("`{key}` is not a timestamp: `{v}`")));
            }
        }
        if o.get("revoked").and_then(Value::as_bool) == Some(true) {
            result.skipped.push(Skipped {
                id: id.into(),
                reason: "revoked".into(),
            });
            continue;
        }
        if s("pattern_type") != Some("stix") {
            result.skipped.push(Skipped {
                id: id.into(),
                reason: format!(
                    "pattern type `{}` is not read",
                    s("pattern_type").unwrap_or_default()
                ),
            });
            continue;
        }
        let comparisons =
            parse_pattern(s("pattern").unwrap_or_default()).map_err(|p| bad(id, p))?;
        let values = watch_values(&comparisons);
        if values.is_empty() {
            result.skipped.push(Skipped {
                id: id.into(),
                reason: "no phone, URL, domain, e-mail, account or bank value in the pattern"
                    .into(),
            });
            continue;
        }
        let labels = o
            .get("labels")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let tlp = o
            .get("object_marking_refs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(Tlp::from_marking_id)
            .max();
        let mut distinct = BTreeSet::new();
        for value in values {
            if distinct.insert(value.clone()) {
                result.entries.push(WatchEntry {
                    value,
                    source_id: id.into(),
                    name: s("name").map(str::to_string),
                    labels: Vec::clone(&labels),
                    tlp,
                    valid_until: s("valid_until").map(str::to_string),
                });
            }
        }
    }
    Ok(result)
}

fn valid_id(id: &str, expected_type: Option<&str>) -> bool {
    let Some((ty, uuid)) = id.split_once("--") else {
        return false;
    };
    expected_type.is_none_or(|t| t == ty) && !ty.is_empty() && Uuid::parse_str(uuid).is_ok()
}

/// Maps the comparisons `object:path = 'literal'` of a pattern to contact values Patroli can
/// watch. An account login is qualified by an `account_type` in the same pattern, the way
/// [`pattern_for`] writes it.
fn watch_values(comparisons: &[(String, String)]) -> Vec<ContactValue> {
    let account_type = comparisons
        .iter()
        .find(|(p, _)| p == "user-account:account_type")
        .map(|(_, t)| t.to_lowercase());
    comparisons
        .iter()
        .filter_map(|(path, lit)| {
            if path == "user-account:account_login" || path == "user-account:user_id" {
                return match account_type.as_deref() {
                    Some("telegram") => ContactValue::new(ContactKind::Telegram, lit),
                    Some("line") => ContactValue::new(ContactKind::Line, lit),
                    Some(t) => ContactValue::new(ContactKind::Social, &format!("{t}:{lit}")),
                    None => ContactValue::new(ContactKind::Social, lit),
                };
            }
            watch_value(path, lit)
        })
        .collect()
}

fn watch_value(path: &str, literal: &str) -> Option<ContactValue> {
    let kind = match path {
        "x-patroli-phone:value" | "phone-number:value" => ContactKind::Phone,
        "url:value" => ContactKind::Url,
        "domain-name:value" => ContactKind::Domain,
        "email-addr:value" => ContactKind::Email,
        "x-patroli-bank-account:value" => ContactKind::BankAccount,
        "x-patroli-ewallet:value" => ContactKind::Ewallet,
        _ => return None,
    };
    ContactValue::new(kind, literal)
}

#[derive(Debug, PartialEq)]
enum Token {
    Path(String),
    Word(String),
    Op(String),
    Str(String),
    Open(char),
    Close(char),
}

/// Extracts the equality comparisons (`path = 'literal'`) of a STIX pattern. Only enough of the
/// grammar to read indicator values: brackets must balance and strings must close, other
/// operators and qualifiers are tolerated and ignored.
fn parse_pattern(pattern: &str) -> Result<Vec<(String, String)>, String> {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars().peekable();
    let mut depth: Vec<char> = Vec::new();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '[' | '(' => {
                depth.push(c);
                tokens.push(Token::Open(c));
                chars.next();
            }
            ']' | ')' => {
                let want = if c == ']' { '[' } else { '(' };
                if depth.pop() != Some(want) {
                    return Err(format!("pattern has an unbalanced `{c}`"));
                }
                tokens.push(Token::Close(c));
                chars.next();
            }
            '\'' => {
                chars.next();
                let mut s = String::new();
                let mut closed = false;
                while let Some(ch) = chars.next() {
                    match ch {
                        '\\' => match chars.next() {
                            Some(e) => s.push(e),
                            None => break,
                        },
                        '\'' => {
                            closed = true;
                            break;
                        }
                        _ => s.push(ch),
                    }
                }
                if !closed {
                    return Err("pattern has an unterminated string".into());
                }
                tokens.push(Token::Str(s));
            }
            '=' | '!' | '<' | '>' => {
                let mut op = String::new();
                while let Some(&o) = chars.peek() {
                    if matches!(o, '=' | '!' | '<' | '>') {
                        op.push(o);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Op(op));
            }
            _ => {
                let mut w = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace()
                        || matches!(ch, '[' | ']' | '(' | ')' | '\'' | '=' | '!' | '<' | '>')
                    {
                        break;
                    }
                    w.push(ch);
                    chars.next();
                }
                if w.contains(':') {
                    tokens.push(Token::Path(w));
                } else {
                    tokens.push(Token::Word(w));
                }
            }
        }
    }
    if !depth.is_empty() {
        return Err("pattern has an unclosed bracket".into());
    }
    if !tokens.iter().any(|t| matches!(t, Token::Open('['))) {
        return Err("pattern has no observation expression `[...]`".into());
    }
    let mut out = Vec::new();
    for w in tokens.windows(3) {
        if let [Token::Path(p), Token::Op(op), Token::Str(s)] = w
            && op == "="
        {
            out.push((p.clone(), s.clone()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn patterns_escape_and_parse_back() {
        let v = ContactValue::new(ContactKind::Url, "https://evil.example/it's\\x").unwrap();
        let p = pattern_for(&v).unwrap();
        assert_eq!(p, r"[url:value = 'https://evil.example/it\'s\\x']");
        assert_eq!(
            parse_pattern(&p).unwrap(),
            vec![("url:value".into(), r"https://evil.example/it's\x".into())]
        );
        let both = "[domain-name:value = 'a.example'] OR [x-patroli-phone:value = '+62812']";
        assert_eq!(parse_pattern(both).unwrap().len(), 2);
        assert!(parse_pattern("[url:value = 'x'").is_err());
        assert!(parse_pattern("[url:value = 'x]").is_err());
        assert!(parse_pattern("url:value = 'x'").is_err());
    }

    #[test]
    fn ids_are_deterministic_and_well_formed() {
        let a = stix_id("indicator", "phone|+62812");
        assert_eq!(a, stix_id("indicator", "phone|+62812"));
        assert_ne!(a, stix_id("indicator", "phone|+62813"));
        assert!(valid_id(&a, Some("indicator")));
        assert!(!valid_id("indicator--nope", Some("indicator")));
        assert_eq!(
            stix_time(datetime!(2026-11-20 15:04:05.123456 +07:00)),
            "2026-11-20T08:04:05.123Z"
        );
    }
}
