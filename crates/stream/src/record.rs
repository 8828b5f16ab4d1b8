//! Message formats on the wire: the post a publisher sends (the `patroli scan` input schema), the
//! result a worker publishes (the `patroli scan` output plus `platform`) and the rejection record
//! for a message that could not be screened. Parsing is shared by the publisher and the worker so a
//! line the publisher accepts is a message the worker can screen.

use patroli_detect::{Post, Screening};
use serde::{Deserialize, Deserializer, Serialize};

/// Longest accepted post id in bytes; ids become part of a Nats-Msg-Id header.
pub const MAX_ID_BYTES: usize = 512;

/// One post as published on the posts stream (JSON, one object per message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostRecord {
    /// The platform's id for the post; numbers are accepted and kept as their decimal text.
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_at: Option<String>,
    /// The marketplace section the seller chose; feeds the engine's disguise check.
    #[serde(default, alias = "category", skip_serializing_if = "Option::is_none")]
    pub declared_category: Option<String>,
}

/// `"account": "@handle"` or `"account": {"handle": "...", "name": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Account {
    Handle(String),
    Profile {
        handle: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Int(u64),
    }
    match Id::deserialize(d) {
        Ok(Id::Text(s)) => Ok(s),
        Ok(Id::Int(n)) => Ok(n.to_string()),
        Err(_) => Err(serde::de::Error::custom(
            "`id` must be a string or a non-negative integer",
        )),
    }
}

impl PostRecord {
    /// Parses and checks one post. The error is a short reason fit for a report line or a
    /// rejection record; it never quotes the post.
    pub fn parse(bytes: &[u8], max_bytes: usize) -> Result<PostRecord, String> {
        if bytes.len() > max_bytes {
            return Err(format!(
                "{} bytes, over the limit of {max_bytes}",
                bytes.len()
            ));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
        let record: PostRecord =
            serde_json::from_str(text).map_err(|e| format!("invalid post JSON: {e}"))?;
        if record.id.trim().is_empty() {
            return Err("empty `id`".into());
        }
        if record.id.len() > MAX_ID_BYTES {
            return Err(format!("`id` longer than {MAX_ID_BYTES} bytes"));
        }
        if record.id.chars().any(char::is_control) {
            return Err("`id` contains control characters".into());
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
    pub id: String,
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
        assert_eq!(post.id, "p1");
        assert_eq!(post.title.as_deref(), Some("Kaos"));
        assert_eq!(
            post.account,
            Some(Account::Profile {
                handle: "toko".into(),
                name: Some("Toko".into())
            })
        );
        assert_eq!(post.price, Some(15000.0));
        assert_eq!(post.message_id(), "shopee/p1");
        assert_eq!(post.as_post().text, "jual obat");

        let post = PostRecord::parse(br#"{"id":42,"text":"x","account":"@toko"}"#, MAX).unwrap();
        assert_eq!(post.id, "42");
        assert_eq!(post.account, Some(Account::Handle("@toko".into())));
        assert_eq!(post.message_id(), "unknown/42");
    }

    #[test]
    fn bad_messages_get_a_reason() {
        let reason = |b: &[u8]| PostRecord::parse(b, MAX).unwrap_err();
        assert!(reason(b"not json").contains("invalid post JSON"));
        assert!(reason(br#"{"id":"a"}"#).contains("missing field `text`"));
        assert!(reason(br#"{"text":"a"}"#).contains("missing field `id`"));
        assert!(reason(br#"{"id":"","text":"a"}"#).contains("empty `id`"));
        assert!(reason(b"{\"id\":\"a\\nb\",\"text\":\"a\"}").contains("control"));
        assert!(reason(br#"{"id":-1,"text":"a"}"#).contains("`id` must be"));
        assert!(reason(b"{\"id\":\"a\",\"text\":\"\xff\"}").contains("invalid UTF-8 at byte 18"));
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
