//! The engine's input and output types. These are what every later layer (CLI JSON, store, API, UI)
//! consumes, so fields are added, never renamed.

use crate::Category;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the engine reads. Borrowed so the CLI can screen straight out of its line buffer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Post<'a> {
    pub text: &'a str,
    pub title: Option<&'a str>,
    /// The marketplace category or section the seller declared ("Fashion Pria", "Mainan").
    pub declared_category: Option<&'a str>,
    /// Price in rupiah if the platform gave one.
    pub price: Option<f64>,
}

/// Which input field a span points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Title,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
    /// Child exploitation and similar: the 4-hour takedown class.
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// A lexicon term for a category.
    Term,
    /// Context that raised the score (sale signals, contact invitations...).
    Boost,
    /// Context that lowered the score (news, health education, official programmes...).
    Dampen,
    /// A listing whose declared goods do not match its content.
    Disguise,
    /// A sign that a minor is involved.
    Minor,
    /// A structural signal from an extracted entity (malformed BPOM number, chat-only contact...).
    Entity,
    /// A term that was recognised but judged benign in context (e.g. "LL" next to clothing sizes).
    Suppressed,
}

/// One explained piece of evidence. `start..end` are byte offsets into the ORIGINAL field text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub rule: String,
    pub kind: ReasonKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    pub field: Field,
    pub start: usize,
    pub end: usize,
    /// The original text of the span.
    pub matched: String,
    pub weight: f32,
    /// Short human explanation (Bahasa Indonesia).
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Phone,
    Whatsapp,
    Telegram,
    Instagram,
    Tiktok,
    Line,
    Handle,
    Email,
    Url,
    Domain,
    BankAccount,
    Ewallet,
    BpomNumber,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub kind: EntityKind,
    /// Normalized value: E.164 for phones (`+62812...`), lower-case handles without `@`,
    /// `BCA:1234567890` for bank accounts, `DANA:+62812...` for e-wallets, compact BPOM numbers.
    pub value: String,
    pub field: Field,
    pub start: usize,
    pub end: usize,
    /// Extra facts: `valid`/`malformed`/`claimed_absent` for BPOM numbers, bank or wallet name,
    /// operator hint for phones, `a.n.` holder name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

/// The engine's verdict on one post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Screening {
    pub flagged: bool,
    /// The highest category score.
    pub score: f32,
    /// Categories whose score passed the threshold, highest first.
    pub categories: Vec<Category>,
    pub scores: BTreeMap<Category, f32>,
    pub severity: Severity,
    pub reasons: Vec<Reason>,
    pub entities: Vec<Entity>,
    pub lexicon_version: String,
}
