//! Placeholder engine with the final public signatures; the real pipeline replaces the bodies.

use crate::{Post, Screening, Severity};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LexiconError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

/// A problem `patroli lexicon check` reports (duplicates, conflicts) that does not stop loading.
#[derive(Debug, Clone, PartialEq)]
pub struct LexiconIssue {
    pub file: String,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    version: String,
}

impl Lexicon {
    /// The lexicon compiled into the binary.
    pub fn builtin() -> Lexicon {
        Lexicon {
            version: "0".into(),
        }
    }

    /// Parse lexicon files given as (file name, contents). No I/O here: the caller reads the files.
    pub fn parse(files: &[(String, String)]) -> Result<Lexicon, LexiconError> {
        let _ = files;
        Ok(Lexicon::builtin())
    }

    /// Add or override entries from `other` (a `--lexicon DIR` on top of the built-in one).
    pub fn extend(&mut self, other: Lexicon) {
        self.version = other.version;
    }

    /// Duplicates and conflicts, for `patroli lexicon check`.
    pub fn check(&self) -> Vec<LexiconIssue> {
        Vec::new()
    }

    pub fn version(&self) -> &str {
        &self.version
    }
}

#[derive(Debug, Clone)]
pub struct Engine {
    lexicon: Lexicon,
    threshold: f32,
}

impl Engine {
    pub fn new(lexicon: Lexicon) -> Result<Engine, LexiconError> {
        Ok(Engine {
            lexicon,
            threshold: 0.5,
        })
    }

    pub fn builtin() -> Engine {
        Engine::new(Lexicon::builtin()).expect("built-in lexicon is valid")
    }

    pub fn with_threshold(mut self, threshold: f32) -> Engine {
        self.threshold = threshold;
        self
    }

    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    pub fn lexicon_version(&self) -> &str {
        self.lexicon.version()
    }

    pub fn screen(&self, post: &Post<'_>) -> Screening {
        let _ = post;
        Screening {
            flagged: false,
            score: 0.0,
            categories: Vec::new(),
            scores: BTreeMap::new(),
            severity: Severity::None,
            reasons: Vec::new(),
            entities: Vec::new(),
            lexicon_version: self.lexicon.version().to_string(),
        }
    }
}
