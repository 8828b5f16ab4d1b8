//! `patroli check "TEXT"`: screen one text and explain the result for a person (or as JSON).

use crate::Outcome;
use crate::cli::{ColorChoice, EngineArgs};
use crate::engine_setup::build_engine;
use crate::explain::explain;
use crate::input::InputId;
use crate::scan::ScanResult;
use anyhow::Context;
use patroli_detect::Post;
use std::io::Write as _;
use std::io::{IsTerminal, Read};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The text to screen; `-` or none reads it from stdin.
    #[arg(value_name = "TEXT")]
    pub text: Option<String>,
    /// Listing title, screened with the text.
    #[arg(long)]
    pub title: Option<String>,
    /// Marketplace category the seller declared (helps spot disguised listings).
    #[arg(long, value_name = "NAME")]
    pub declared_category: Option<String>,
    /// Price in rupiah.
    #[arg(long)]
    pub price: Option<f64>,
    /// Print the screening as one JSON object instead of an explanation.
    #[arg(long)]
    pub json: bool,
    /// When to use colours.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: CheckArgs) -> anyhow::Result<Outcome> {
    let engine = build_engine(&args.engine)?;
    let text = match args.text.as_deref() {
        Some(text) if text != "-" => text.to_owned(),
        _ => {
            if std::io::stdin().is_terminal() {
                eprintln!("reading the text from stdin; end it with Ctrl-D");
            }
            let mut buf = String::new();
            std::io::stdin()
                .read_to_string(&mut buf)
                .context("cannot read the text from stdin (is it UTF-8?)")?;
            buf
        }
    };
    let post = Post {
        text: &text,
        title: args.title.as_deref(),
        declared_category: args.declared_category.as_deref(),
        price: args.price,
    };
    let screening = engine.screen(&post);
    let mut out = std::io::stdout().lock();
    if args.json {
        let id = InputId::Text("check".into());
        writeln!(
            out,
            "{}",
            serde_json::to_string(&ScanResult::new(&id, &screening))?
        )?;
    } else {
        write!(
            out,
            "{}",
            explain(
                &text,
                args.title.as_deref(),
                &screening,
                args.color.enabled()
            )
        )?;
    }
    Ok(Outcome::Success)
}
