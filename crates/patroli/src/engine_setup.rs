//! Builds the screening engine from the flags: the built-in lexicon, optionally extended by the
//! `*.toml` files of a `--lexicon DIR`, and an optional threshold. This is the only place the CLI
//! reads lexicon files; the engine itself never does I/O.

use crate::cli::EngineArgs;
use anyhow::{Context, bail};
use patroli_detect::{Engine, Lexicon};
use std::path::Path;

/// Read every `*.toml` file of `dir` (sorted by name, so overrides apply in a stable order) as
/// (file name, contents) pairs for `Lexicon::parse`.
pub fn read_lexicon_dir(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read lexicon directory {}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list lexicon directory {}", dir.display()))?
            .path();
        if path.is_file() && path.extension().is_some_and(|e| e == "toml") {
            paths.push(path);
        }
    }
    paths.sort();
    if paths.is_empty() {
        bail!("lexicon directory {} holds no *.toml file", dir.display());
    }
    paths
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read lexicon file {}", path.display()))?;
            // Syntax first, so a broken file is named with line and key even before the engine
            // looks at its meaning.
            if let Err(err) = text.parse::<toml::Table>() {
                bail!(
                    "invalid lexicon file {}: {}",
                    path.display(),
                    err.to_string().trim_end()
                );
            }
            Ok((name, text))
        })
        .collect()
}

/// The lexicon the flags ask for: built-in, extended by `dir` when given.
pub fn load_lexicon(dir: Option<&Path>) -> anyhow::Result<Lexicon> {
    let mut lexicon = Lexicon::builtin();
    if let Some(dir) = dir {
        let files = read_lexicon_dir(dir)?;
        let extra = Lexicon::parse(&files)
            .with_context(|| format!("invalid lexicon in {}", dir.display()))?;
        lexicon.extend(extra);
    }
    Ok(lexicon)
}

pub fn build_engine(args: &EngineArgs) -> anyhow::Result<Engine> {
    let lexicon = load_lexicon(args.lexicon.as_deref())?;
    let mut engine = Engine::new(lexicon).context("cannot build the screening engine")?;
    if let Some(threshold) = args.threshold {
        if !(0.0..=1.0).contains(&threshold) || threshold.is_nan() {
            bail!("--threshold must be between 0 and 1, got {threshold}");
        }
        engine = engine.with_threshold(threshold);
    }
    Ok(engine)
}
