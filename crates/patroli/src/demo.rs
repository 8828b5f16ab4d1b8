//! `patroli demo`: the one-command tour. Scans a sample compiled into the binary, prints a summary
//! table (posts, flagged per category) and explains the three strongest findings; then (unless
//! `--no-serve`) creates a demo data directory, loads the sample through the ingest path, creates
//! demo users and starts the server, printing the URL and the log-ins.
//!
//! The sample is `samples/demo.jsonl`, compiled in, so the demo runs anywhere without files. Its
//! posts carry labels, so the summary shows expected next to flagged counts.

use crate::Outcome;
use crate::cli::{ColorChoice, EngineArgs};
use crate::engine_setup::build_engine;
use crate::explain::explain;
use crate::input::{InputFormat, InputPost, Source};
use crate::scan::{Tally, progress_bar, screen_sources};
use patroli_detect::{Category, Screening};
use std::fmt::Write;
use std::io::Write as _;

/// The bundled, labelled sample (see samples/README.md), compiled in so the demo needs no files.
pub const SAMPLE: &str = include_str!("../../../samples/demo.jsonl");

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How many findings to explain.
    #[arg(long, default_value_t = 3)]
    pub explain: usize,
    /// When to use colours.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Only scan and explain; do not start the demo server.
    #[arg(long)]
    pub no_serve: bool,
    /// Data directory of the demo server (SQLite). Reused when it exists.
    #[arg(long, value_name = "DIR", default_value = "patroli-demo")]
    pub data: std::path::PathBuf,
    /// Address of the demo server.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
}

/// Demo log-ins: (user name, role, agency, region scope). The password is printed at start; the
/// demo binds to localhost by default and is not for real data.
const DEMO_USERS: &[(&str, &str, &str, Option<&str>)] = &[
    ("admin", "admin", "BPOM", None),
    ("analis", "analyst", "BPOM", None),
    ("analis.kaltara", "analyst", "BPOM", Some("65")),
    ("penyidik", "investigator", "POLRI", None),
];
const DEMO_PASSWORD: &str = "patroli-demo-2026";

pub fn run(args: DemoArgs) -> anyhow::Result<Outcome> {
    let engine = build_engine(&args.engine)?;
    let source = Source {
        name: "demo sample".into(),
        format: InputFormat::Jsonl,
        len: None,
        reader: Box::new(std::io::Cursor::new(SAMPLE.as_bytes())),
    };
    let mut tally = Tally::default();
    let mut results: Vec<(InputPost, Screening)> = Vec::new();
    screen_sources(
        &engine,
        vec![source],
        &progress_bar(None).with_finish(indicatif::ProgressFinish::AndClear),
        &mut tally,
        |_, post, screening| Ok((post, screening)),
        |pair| {
            results.push(pair);
            Ok(())
        },
        |_| Ok(()),
    )?;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", summary(&results, &tally))?;
    let color = args.color.enabled();
    for (post, screening) in pick_findings(&results, args.explain) {
        writeln!(
            out,
            "\n── {} ({}) ──",
            post.id,
            post.platform.as_deref().unwrap_or("-")
        )?;
        write!(
            out,
            "{}",
            explain(&post.text, post.title.as_deref(), screening, color)
        )?;
    }
    drop(out);
    if args.no_serve {
        return Ok(tally.outcome());
    }
    serve_demo(&args, engine)?;
    Ok(tally.outcome())
}

/// Load the sample into a demo data directory through the ingest path and serve it.
fn serve_demo(args: &DemoArgs, engine: patroli_detect::Engine) -> anyhow::Result<()> {
    use crate::service::{StoreArgs, app_state};
    use anyhow::Context;
    let store_args = StoreArgs {
        data: args.data.clone(),
        database: None,
    };
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    rt.block_on(async move {
        let store = store_args.open().await?;
        let state = app_state(store, std::sync::Arc::new(engine), &args.data)?;
        let who = patroli_server::auth::Principal {
            actor: "cli:demo".into(),
            name: "cli demo".into(),
            role: patroli_core::Role::Admin,
            user_id: None,
            platform: None,
            scope: None,
            csrf: None,
        };
        for (username, role, agency, region) in DEMO_USERS {
            if state
                .store()
                .get_user_by_username(username)
                .await?
                .is_some()
            {
                continue;
            }
            patroli_server::ops::create_user(
                &state,
                &who,
                patroli_server::CreateUserBody {
                    username: username.to_string(),
                    password: DEMO_PASSWORD.into(),
                    role: role.to_string(),
                    agency: agency.to_string(),
                    region: region.map(str::to_string),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("cannot create demo user {username}: {}", e.message))?;
        }
        let posts: Vec<serde_json::Value> = SAMPLE
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()
            .context("the bundled sample is not valid JSON Lines")?;
        let answers = patroli_server::ops::ingest(&state, &who, posts)
            .await
            .map_err(|e| anyhow::anyhow!("cannot load the sample: {}", e.message))?;
        let flagged = answers.iter().filter(|a| a["flagged"] == true).count();
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {} (try --listen 127.0.0.1:0)",
                    args.listen
                )
            })?;
        let addr = listener.local_addr()?;
        println!(
            "\nDemo server: {} posts loaded into {} ({flagged} flagged).",
            answers.len(),
            args.data.display()
        );
        println!("Open http://{addr}/ and log in (password for all: {DEMO_PASSWORD}):");
        for (username, role, agency, region) in DEMO_USERS {
            println!(
                "  {username:<16} {role:<13} {agency:<6} {}",
                region
                    .map(|r| format!("region {r}"))
                    .unwrap_or_else(|| "national".into())
            );
        }
        println!("Public pages: http://{addr}/lapor  http://{addr}/cek  http://{addr}/statistik");
        println!("Ctrl-C stops the server.");
        patroli_server::serve_with_shutdown(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server stopped")
    })
}

fn summary(results: &[(InputPost, Screening)], tally: &Tally) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Patroli demo: {} posts scanned, {} flagged, lexicon {}\n",
        tally.scanned,
        tally.flagged,
        results
            .first()
            .map(|(_, s)| s.lexicon_version.as_str())
            .unwrap_or("-")
    );
    let _ = writeln!(
        out,
        "{:<24} {:<30} {:>8} {:>7}",
        "CATEGORY", "", "LABELLED", "FLAGGED"
    );
    for category in Category::ALL {
        let flagged = results
            .iter()
            .filter(|(_, s)| s.categories.contains(&category))
            .count();
        let labelled = results
            .iter()
            .filter(|(p, _)| p.labels.as_ref().is_some_and(|l| l.contains(&category)))
            .count();
        let _ = writeln!(
            out,
            "{:<24} {:<30} {labelled:>8} {flagged:>7}",
            category.id(),
            category.label_id()
        );
    }
    let clean = results.iter().filter(|(_, s)| !s.flagged).count();
    let labelled_clean = results
        .iter()
        .filter(|(p, _)| p.labels.as_ref().is_some_and(|l| l.is_empty()))
        .count();
    let _ = writeln!(
        out,
        "{:<24} {:<30} {labelled_clean:>8} {clean:>7}",
        "(clean / not flagged)", ""
    );
    out
}

/// The `n` findings to explain: the strongest of each category first (so the tour shows different
/// kinds of evidence), then the strongest of the rest.
fn pick_findings(results: &[(InputPost, Screening)], n: usize) -> Vec<&(InputPost, Screening)> {
    let mut flagged: Vec<&(InputPost, Screening)> =
        results.iter().filter(|(_, s)| s.flagged).collect();
    flagged.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
    let mut picked: Vec<&(InputPost, Screening)> = Vec::new();
    for category in Category::ALL {
        if let Some(best) = flagged
            .iter()
            .find(|(_, s)| s.categories.first() == Some(&category))
        {
            picked.push(best);
        }
    }
    picked.truncate(n);
    for candidate in &flagged {
        if picked.len() >= n {
            break;
        }
        if !picked.iter().any(|p| std::ptr::eq(*p, *candidate)) {
            picked.push(candidate);
        }
    }
    picked
}
