//! Patroli's screening engine.
//!
//! Pipeline: normalize -> match lexicon (one Aho-Corasick pass) -> extract entities -> score -> explain.
//! This crate is pure: it never touches files, the network or a clock. Lexicons are handed in as text
//! (the built-in one is compiled in with `include_str!`); the binary decides where files come from.

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
