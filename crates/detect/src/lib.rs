//! Patroli's screening engine.
//!
//! Pipeline: normalize -> match lexicon (one Aho-Corasick pass) -> extract entities -> score -> explain.
//! This crate is pure: it never touches files, the network or a clock. Lexicons are handed in as text
//! (the built-in one is compiled in with `include_str!`); the binary decides where files come from.
//!
//! ```
//! use patroli_detect::{Category, Engine, Post};
//!
//! let engine = Engine::builtin();
//! let s = engine.screen(&Post { text: "open BO malam ini, ST 300 LT 800, wa aja", ..Post::default() });
//! assert!(s.categories.contains(&Category::SexualExploitation));
//! // Every reason points at the original text.
//! let r = &s.reasons[0];
//! assert_eq!(r.matched, "open BO malam ini, ST 300 LT 800, wa aja"[r.start..r.end].to_string());
//! ```
//!
//! Modules: [`normalize`] (folding with a byte map back to the original), [`lexicon`] (TOML data),
//! `matcher` (one automaton), `structure` (numbers next to words: session prices, pay, pill counts),
//! `entities` (phones, chat handles, bank accounts, BPOM numbers), `engine` (scoring and reasons) and
//! [`eval`] (precision/recall for labelled sets). See `crates/detect/README.md` for the lexicon format.

mod category;
mod screening;

pub use category::{Category, ParseCategoryError};
pub use screening::{Entity, EntityKind, Field, Post, Reason, ReasonKind, Screening, Severity};

mod engine;
mod entities;
pub mod lexicon;
mod matcher;
mod structure;
pub use engine::Engine;
pub use lexicon::{Lexicon, LexiconError, LexiconIssue};

pub mod eval;
pub mod normalize;

/// The contacts and identifiers in one piece of text, read exactly as [`Engine::screen`] reads a
/// post's text: the same patterns and the same normalized values ([`Entity::value`]: `+62...`
/// phones, `DANA:+62...` e-wallets, `BCA:123...` bank accounts, lower-case handles and e-mails).
/// Meant for values a person types into a search box, so that they are read the way the stored
/// posts were; spans are byte offsets into `text`.
pub fn extract_entities(text: &str) -> Vec<Entity> {
    let mut out = Vec::new();
    entities::extract(text, Field::Text, &mut out);
    out
}
