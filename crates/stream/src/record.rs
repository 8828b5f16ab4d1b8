//! Message formats on the wire: the post a publisher sends (the `patroli scan` input schema), the
//! result a worker publishes (the `patroli scan` output plus `platform`) and the rejection record
//! for a message that could not be screened. Parsing is shared by the publisher and the worker so a
//! line the publisher accepts is a message the worker can screen.

use patroli_detect::{Post, Screening};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// Longest accepted post id in bytes; ids become part of a Nats-Msg-Id header.
pub const MAX_ID_BYTES: usize = 512;

/// One post as published on the posts stream (JSON, one object per message). The rules are those
/// of `patroli scan`'s JSON Lines input, so a line `scan` accepts is a post the workers screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostRecord {
    pub id: PostId,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(
        default,
        deserialize_with = "account",
        skip_serializing_if = "Option::is_none"
    )]
    pub account: Option<Account>,
    /// Rupiah: a number, or text such as `"Rp 150.000"`.
    #[serde(
        default,
        deserialize_with = "price",
        skip_serializing_if = "Option::is_none"
    )]
    pub price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// RFC 3339, checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_at: Option<String>,
    /// The marketplace section the seller chose; feeds the engine's disguise check.
    #[serde(default, alias = "category", skip_serializing_if = "Option::is_none")]
    pub declared_category: Option<String>,
}

/// A post id as given: text, or an integer that stays a number in the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PostId {
    Text(String),
    Number(i64),
}

impl<'de> Deserialize<'de> for PostId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than an untagged enum: serde's message for a failed untagged enum
        // names no field, and a missing `id` must still read "missing field `id`".
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = PostId;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`id` as a string or an integer")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PostId, E> {
                Ok(PostId::Text(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<PostId, E> {
                Ok(PostId::Text(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PostId, E> {
                Ok(PostId::Number(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PostId, E> {
                i64::try_from(v)
                    .map(PostId::Number)
                    .map_err(|_| E::custom("`id` integer is too large"))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl fmt::Display for PostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PostId::Text(s) => f.write_str(s),
            PostId::Number(n) => write!(f, "{n}"),
        }
    }
}

/// `"account": "@handle"` or `"account": {"handle": "...", "name": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Account {
    Handle(String),
    Profile(AccountProfile),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountProfile {
    pub handle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Account {
    pub fn handle(&self) -> &str {
        match self {
            Account::Handle(h) => h,
            Account::Profile(p) => &p.handle,
        }
    }
}

fn account<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Account>, D::Error> {
    Option::<Account>::deserialize(d).map_err(|_| {
        serde::de::Error::custom(
            "`account` must be a handle string or an object with `handle` and optional `name`",
        )
    })
}

fn price<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Price {
        Number(f64),
        Text(String),
    }
    match Option::<Price>::deserialize(d) {
        Ok(None) => Ok(None),
        Ok(Some(Price::Number(n))) => Ok(Some(n)),
        Ok(Some(Price::Text(t))) => parse_price(&t).map(Some).map_err(serde::de::Error::custom),
        Err(_) => Err(serde::de::Error::custom(
            "`price` must be a number or a string such as \"Rp 150.000\"",
        )),
    }
}

/// "150000", "Rp 150.000", "Rp150,000": Indonesian writing uses `.` for thousands and listings
/// carry no decimals of rupiah, so both separators are dropped.
fn parse_price(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let digits = ["Rp", "rp", "RP"]
        .iter()
        .find_map(|p| trimmed.strip_prefix(p))
        .unwrap_or(trimmed)
        .trim();
    let plain: String = digits.chars().filter(char::is_ascii_digit).collect();
    let only_number_chars = digits
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',');
    match plain.parse::<f64>() {
        Ok(n) if only_number_chars => Ok(n),
        _ => Err(format!("`price` is not a number: {text:?}")),
    }
}

/// serde_json's message without its "at line 1 column N" suffix: the line number that matters is
/// the input file's, which the caller adds.
fn json_reason(err: serde_json::Error) -> String {
    let column = err.column();
    let mut msg = err.to_string();
    if let Some(at) = msg.rfind(" at line ") {
        msg.truncate(at);
    }
    match err.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("invalid JSON at column {column}: {msg}")
        }
        _ => msg,
    }
}

impl PostRecord {
    /// Parses and checks one post. The error is a short reason fit for a report line or a
    /// rejection record; it never quotes the post's text.
    pub fn parse(bytes: &[u8], max_bytes: usize) -> Result<PostRecord, String> {
        if bytes.len() > max_bytes {
            return Err(format!(
                "{} bytes, over the limit of {max_bytes}",
                bytes.len()
            ));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
        let record: PostRecord = serde_json::from_str(text).map_err(json_reason)?;
        if let PostId::Text(id) = &record.id {
            if id.trim().is_empty() {
                return Err("`id` is empty".into());
            }
            if id.len() > MAX_ID_BYTES {
                return Err(format!("`id` is longer than {MAX_ID_BYTES} bytes"));
            }
            if id.chars().any(char::is_control) {
                return Err("`id` contains control characters".into());
            }
        }
        if let Some(at) = &record.posted_at
            && time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                .is_err()
        {
            return Err(format!("`posted_at` is not an RFC 3339 timestamp: {at:?}"));
        }
        if record
            .account
            .as_ref()
            .is_some_and(|a| a.handle().trim().is_empty())
        {
            return Err("`account` handle is empty".into());
        }
        Ok(record)
    }

    /// What the engine screens.
    pub fn as_post(&self) -> Post<'_> {
        Post {
            text: &self.text,
            title: self.title.as_deref(),
            declared_category: self.declared_category.as_deref(),
            price: self.price,
        }
    }

    /// Nats-Msg-Id for this post and its result: `platform/id`, so re-publishing the same post,
    /// or re-publishing its result after a redelivery, is dropped by JetStream.
    pub fn message_id(&self) -> String {
        format!(
            "{}/{}",
            crate::platform_token(self.platform.as_deref()),
            self.id
        )
    }
}

/// What a worker publishes per post: the same object `patroli scan` writes, plus `platform`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenedRecord {
    pub id: PostId,
    pub platform: Option<String>,
    #[serde(flatten)]
    pub screening: Screening,
}

/// What a worker publishes on the rejected subject for a message it could not screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedRecord {
    pub reason: String,
    /// Stream and sequence the message had on the posts stream.
    pub stream: String,
    pub stream_sequence: u64,
    pub subject: String,
    /// Size of the original message in bytes.
    pub original_bytes: usize,
    /// The original message (lossy UTF-8), cut at [`REJECTED_KEEP_BYTES`].
    pub original: String,
    pub original_truncated: bool,
}

/// How much of a rejected message is kept in its rejection record.
pub const REJECTED_KEEP_BYTES: usize = 64 * 1024;

impl RejectedRecord {
    pub fn new(
        reason: String,
        stream: &str,
        sequence: u64,
        subject: &str,
        original: &[u8],
    ) -> Self {
        let keep = original.len().min(REJECTED_KEEP_BYTES);
        RejectedRecord {
            reason,
            stream: stream.to_string(),
            stream_sequence: sequence,
            subject: subject.to_string(),
            original_bytes: original.len(),
            original: String::from_utf8_lossy(&original[..keep]).into_owned(),
            original_truncated: keep < original.len(),
        }
    }

    /// Nats-Msg-Id: one rejection per original message, however often it is redelivered.
    pub fn message_id(&self) -> String {
        format!("rejected/{}/{}", self.stream, self.stream_sequence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 1024;

    #[test]
    fn parses_the_scan_schema() {
        let line = br#"{"id":"p1","text":"jual obat","title":"Kaos","platform":"Shopee","url":"https://x.invalid/1","account":{"handle":"toko","name":"Toko"},"price":15000,"location":"Kab. Bulungan","posted_at":"2026-01-02T03:04:05Z","extra":1}"#;
        let post = PostRecord::parse(line, MAX).unwrap();
        assert_eq!(post.id, PostId::Text("p1".into()));
        assert_eq!(post.title.as_deref(), Some("Kaos"));
        assert_eq!(
            post.account,
            Some(Account::Profile(AccountProfile {
                handle: "toko".into(),
                name: Some("Toko".into())
            }))
        );
        assert_eq!(post.price, Some(15000.0));
        assert_eq!(post.message_id(), "shopee/p1");
        assert_eq!(post.as_post().text, "jual obat");

        let line =
            br#"{"id":42,"text":"x","account":"@toko","price":"Rp 150.000","category":"Mainan"}"#;
        let post = PostRecord::parse(line, MAX).unwrap();
        assert_eq!(post.id, PostId::Number(42));
        assert_eq!(post.account, Some(Account::Handle("@toko".into())));
        assert_eq!(post.price, Some(150_000.0));
        assert_eq!(post.as_post().declared_category, Some("Mainan"));
        assert_eq!(post.message_id(), "unknown/42");
    }

    #[test]
    fn a_numeric_id_stays_a_number_in_the_result() {
        let post = PostRecord::parse(br#"{"id":-7,"text":"x"}"#, MAX).unwrap();
        let engine = patroli_detect::Engine::builtin();
        let record = ScreenedRecord {
            id: post.id.clone(),
            platform: None,
            screening: engine.screen(&post.as_post()),
        };
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["id"], -7);
        assert_eq!(json["platform"], serde_json::Value::Null);
        let back: ScreenedRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, record);
    }

    #[test]
    fn bad_messages_get_a_reason() {
        let reason = |b: &[u8]| PostRecord::parse(b, MAX).unwrap_err();
        assert!(reason(b"not json").starts_with("invalid JSON at column 2"));
        assert_eq!(reason(br#"{"id":"a"}"#), "missing field `text`");
        assert_eq!(reason(br#"{"text":"a"}"#), "missing field `id`");
        assert_eq!(reason(br#"{"id":" ","text":"a"}"#), "`id` is empty");
        assert!(reason(b"{\"id\":\"a\\nb\",\"text\":\"a\"}").contains("control"));
        assert_eq!(
            reason(br#"{"id":1.5,"text":"a"}"#),
            "invalid type: floating point `1.5`, expected `id` as a string or an integer"
        );
        assert!(
            reason(br#"{"id":"a","text":"b","account":{"handle":"h","x":1}}"#)
                .contains("`account` must be")
        );
        assert!(reason(br#"{"id":"a","text":"b","price":"murah"}"#).contains("`price`"));
        assert!(reason(br#"{"id":"a","text":"b","posted_at":"kemarin"}"#).contains("RFC 3339"));
        assert!(reason(br#"{"id":"a","text":"b","account":{"handle":""}}"#).contains("handle"));
        assert_eq!(
            reason(b"{\"id\":\"a\",\"text\":\"\xff\"}"),
            "invalid UTF-8 at byte 18"
        );
        assert!(reason(&vec![b' '; MAX + 1]).contains("over the limit of 1024"));
    }

    #[test]
    fn rejection_keeps_a_bounded_copy() {
        let big = vec![b'x'; REJECTED_KEEP_BYTES + 10];
        let r = RejectedRecord::new("too big".into(), "POSTS", 7, "patroli.posts.a", &big);
        assert_eq!(r.original_bytes, REJECTED_KEEP_BYTES + 10);
        assert_eq!(r.original.len(), REJECTED_KEEP_BYTES);
        assert!(r.original_truncated);
        assert_eq!(r.message_id(), "rejected/POSTS/7");
    }
}
