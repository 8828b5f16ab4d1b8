//! Subcommands that work on a Patroli data directory or database: `serve`, `import`, `user add`,
//! `token create`, `audit verify`, `network`, `evidence verify`. They wire `patroli-store` and
//! `patroli-server` together; the rules themselves live in those crates.
//!
//! A database URL may carry a password, so the argument structs print it as `***` in `Debug`.

use crate::Outcome;
use crate::cli::EngineArgs;
use crate::engine_setup::build_engine;
use crate::input::{InputFormat, RawRecord, RecordReader};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use patroli_core::{AgencyKind, Role};
use patroli_server::auth::Principal;
use patroli_server::{AppState, ServerConfig};
use patroli_store::Store;
use std::fmt;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where Patroli keeps its data: a directory (SQLite `patroli.db`, the report sealing key) and,
/// for a multi-agency server, a PostgreSQL database instead of the SQLite file.
#[derive(Clone, Args)]
pub struct StoreArgs {
    /// Data directory; created and migrated on first use.
    #[arg(
        long,
        value_name = "DIR",
        env = "PATROLI_DATA",
        default_value = "patroli-data"
    )]
    pub data: PathBuf,
    /// PostgreSQL URL (`postgres://user@host/db`) used instead of the SQLite file in DIR.
    #[arg(long, value_name = "URL", env = "PATROLI_DATABASE_URL")]
    pub database: Option<String>,
}

impl fmt::Debug for StoreArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreArgs")
            .field("data", &self.data)
            .field("database", &self.database.as_ref().map(|_| "***"))
            .finish()
    }
}

impl StoreArgs {
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        std::fs::create_dir_all(&self.data)
            .with_context(|| format!("cannot create data directory {}", self.data.display()))?;
        let location = match &self.database {
            Some(url) => url.clone(),
            None => self.data.display().to_string(),
        };
        let shown = if self.database.is_some() {
            "the PostgreSQL database".to_string()
        } else {
            self.data.display().to_string()
        };
        patroli_store::open(&location)
            .await
            .with_context(|| format!("cannot open {shown}"))
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

// ------------------------------------------------------------------------------------------------
// serve

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// TOML file of platform webhooks, one table per platform name:
    /// `[toko] url = "http://hooks.example/patroli"` and `secret = "..."` (HMAC-SHA256 key).
    /// Keep it readable by the service only: it holds the secrets.
    #[arg(long, value_name = "FILE", env = "PATROLI_WEBHOOKS")]
    pub webhooks: Option<PathBuf>,
}

/// One platform's entry in the `--webhooks` file.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookEntry {
    url: String,
    secret: String,
}

/// Reads the `--webhooks` file: unknown keys, a URL that is not `http://` and an empty secret
/// are errors, so a typo does not silently leave a platform without its webhook.
pub fn load_webhooks(
    text: &str,
) -> anyhow::Result<std::collections::BTreeMap<String, patroli_server::workflow::WebhookTarget>> {
    let entries: std::collections::BTreeMap<String, WebhookEntry> =
        toml::from_str(text).context("webhooks file is not valid")?;
    let mut out = std::collections::BTreeMap::new();
    for (platform, e) in entries {
        if !e.url.starts_with("http://") {
            bail!(
                "webhook of `{platform}`: only http:// URLs are delivered (put TLS in an egress proxy)"
            );
        }
        if e.secret.trim().is_empty() {
            bail!("webhook of `{platform}`: `secret` is empty");
        }
        out.insert(
            platform,
            patroli_server::workflow::WebhookTarget {
                url: e.url,
                secret: e.secret,
            },
        );
    }
    Ok(out)
}

pub fn serve(args: ServeArgs) -> anyhow::Result<Outcome> {
    let engine = Arc::new(build_engine(&args.engine)?);
    let webhooks = match &args.webhooks {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            load_webhooks(&text).with_context(|| path.display().to_string())?
        }
        None => Default::default(),
    };
    runtime()?.block_on(async move {
        let store = args.store.open().await?;
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let state = app_state_with_webhooks(store, engine, &args.store.data, webhooks)?;
        eprintln!("Patroli is listening on http://{addr}/ (Ctrl-C stops it)");
        patroli_server::serve_with_shutdown(listener, state, shutdown_signal())
            .await
            .context("server stopped")?;
        Ok(Outcome::Success)
    })
}

/// The server state for a data directory: the report sealing key lives beside the database.
pub fn app_state(
    store: Arc<dyn Store>,
    engine: Arc<patroli_detect::Engine>,
    data: &Path,
) -> anyhow::Result<AppState> {
    app_state_with_webhooks(store, engine, data, Default::default())
}

/// [`app_state`] with platform webhooks (from `--webhooks`).
pub fn app_state_with_webhooks(
    store: Arc<dyn Store>,
    engine: Arc<patroli_detect::Engine>,
    data: &Path,
    webhooks: std::collections::BTreeMap<String, patroli_server::workflow::WebhookTarget>,
) -> anyhow::Result<AppState> {
    let key = patroli_server::workflow::load_or_create_key(data).with_context(|| {
        format!(
            "cannot read or create the sealing key in {}",
            data.display()
        )
    })?;
    let mut workflow = patroli_server::workflow::WorkflowConfig::new(key);
    for (platform, target) in webhooks {
        workflow = workflow.with_webhook(&platform, target);
    }
    Ok(AppState::new(
        store,
        engine,
        ServerConfig::default().with_workflow(workflow),
    ))
}

// ------------------------------------------------------------------------------------------------
// import

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// JSON Lines file of posts in the scan schema (`-` for stdin).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Platform the posts come from (used when a post has no `platform` field).
    #[arg(long, value_name = "NAME")]
    pub platform: String,
    /// Posts per batch (one transaction each).
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// The principal `import` acts as: the same ingest path as the API, recorded as `cli:import`.
fn cli_principal(name: &str, platform: Option<String>) -> Principal {
    Principal {
        actor: format!("cli:{name}"),
        name: format!("cli {name}"),
        role: Role::Admin,
        user_id: None,
        platform,
        scope: None,
        csrf: None,
    }
}

pub fn import(args: ImportArgs) -> anyhow::Result<Outcome> {
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let engine = Arc::new(build_engine(&args.engine)?);
    let (reader, len): (Box<dyn BufRead + Send>, Option<u64>) = if args.file.as_os_str() == "-" {
        (Box::new(std::io::BufReader::new(std::io::stdin())), None)
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        let len = file.metadata().ok().map(|m| m.len());
        (Box::new(std::io::BufReader::new(file)), len)
    };
    let name = args.file.display().to_string();
    let mut records = RecordReader::new(reader, InputFormat::Jsonl)?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(len.unwrap_or(0));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} importing [{bar:30}] {bytes}/{total_bytes} {msg}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    runtime()?.block_on(async move {
        let store = args.store.open().await?;
        let state = app_state(store, engine, &args.store.data)?;
        let who = cli_principal("import", None);
        let (mut stored, mut flagged, mut rejected) = (0u64, 0u64, 0u64);
        let mut read_bytes = 0u64;
        loop {
            // Cut the next batch: values plus the line each came from.
            let mut batch: Vec<(u64, serde_json::Value)> = Vec::with_capacity(args.batch);
            let mut done = false;
            while batch.len() < args.batch {
                match records.next_record()? {
                    None => {
                        done = true;
                        break;
                    }
                    Some(RawRecord::TooLong { line, len }) => {
                        rejected += 1;
                        read_bytes += len as u64;
                        bar.suspend(|| {
                            eprintln!(
                                "{name}: line {line}: record of {len} bytes is over the 10 MB limit"
                            )
                        });
                    }
                    Some(RawRecord::Data { line, bytes }) => {
                        read_bytes += bytes.len() as u64 + 1;
                        match parse_import_line(&bytes, &args.platform) {
                            Ok(v) => batch.push((line, v)),
                            Err(why) => {
                                rejected += 1;
                                bar.suspend(|| eprintln!("{name}: line {line}: {why}"));
                            }
                        }
                    }
                }
            }
            if !batch.is_empty() {
                let (lines, values): (Vec<u64>, Vec<serde_json::Value>) = batch.into_iter().unzip();
                let answers = patroli_server::ops::ingest(&state, &who, values)
                    .await
                    .map_err(|e| anyhow::anyhow!("ingest failed: {}", e.message))?;
                for (line, answer) in lines.iter().zip(answers) {
                    if let Some(err) = answer.get("error").and_then(|e| e.as_str()) {
                        rejected += 1;
                        bar.suspend(|| eprintln!("{name}: line {line}: {err}"));
                    } else {
                        stored += 1;
                        flagged += u64::from(answer["flagged"].as_bool().unwrap_or(false));
                    }
                }
            }
            bar.set_position(read_bytes);
            bar.set_message(format!("{stored} stored, {flagged} flagged"));
            if done {
                break;
            }
        }
        bar.finish_and_clear();
        eprintln!("imported {stored}, flagged {flagged}, rejected {rejected}");
        Ok(if rejected > 0 {
            Outcome::SomeRejected
        } else {
            Outcome::Success
        })
    })
}

/// One JSON Lines record as the ingest API takes it, with `--platform` filled in.
fn parse_import_line(bytes: &[u8], platform: &str) -> Result<serde_json::Value, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
    let mut value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let obj = value
        .as_object_mut()
        .ok_or_else(|| "expected a JSON object".to_string())?;
    if !obj.contains_key("platform") {
        obj.insert("platform".into(), serde_json::Value::from(platform));
    }
    Ok(value)
}

// ------------------------------------------------------------------------------------------------
// user, token

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from stdin (`--password-stdin`), never from a flag.
    Add(UserAddArgs),
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long)]
    pub username: String,
    /// admin, analyst, investigator, viewer or platform.
    #[arg(long)]
    pub role: String,
    /// BPOM, POLRI, BNN, KOMDIGI, KEMLU or PLATFORM.
    #[arg(long)]
    pub agency: String,
    /// Region scope (official code, e.g. 65 for Kalimantan Utara); none = national.
    #[arg(long)]
    pub region: Option<String>,
    /// Read the password from the first line of stdin.
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

pub fn user(cmd: UserCommand) -> anyhow::Result<Outcome> {
    let UserCommand::Add(args) = cmd;
    // Validate before reading secrets, so a typo in --role fails fast.
    args.role.parse::<Role>()?;
    args.agency.trim().to_uppercase().parse::<AgencyKind>()?;
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("cannot read the password from stdin")?;
    let password = password.lines().next().unwrap_or("").to_string();
    runtime()?.block_on(async move {
        let store = args.store.open().await?;
        let state = AppState::new(
            store,
            Arc::new(patroli_detect::Engine::builtin()),
            ServerConfig::default(),
        );
        let who = cli_principal("user", None);
        let user = patroli_server::ops::create_user(
            &state,
            &who,
            patroli_server::CreateUserBody {
                username: args.username.clone(),
                password,
                role: args.role.clone(),
                agency: args.agency.clone(),
                region: args.region.clone(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        println!(
            "created user {} ({}, {}{})",
            user.username,
            user.role,
            args.agency.to_uppercase(),
            args.region
                .as_deref()
                .map(|r| format!(", region {r}"))
                .unwrap_or_default()
        );
        Ok(Outcome::Success)
    })
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a platform; the token is printed alone on the last line.
    Create(TokenCreateArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The platform this token ingests for and answers takedowns of.
    #[arg(long)]
    pub platform: String,
    /// A label for the token (default: the platform name).
    #[arg(long)]
    pub name: Option<String>,
}

pub fn token(cmd: TokenCommand) -> anyhow::Result<Outcome> {
    let TokenCommand::Create(args) = cmd;
    runtime()?.block_on(async move {
        let store = args.store.open().await?;
        let state = AppState::new(
            store,
            Arc::new(patroli_detect::Engine::builtin()),
            ServerConfig::default(),
        );
        let who = cli_principal("token", None);
        let (plaintext, record) = patroli_server::ops::create_token(
            &state,
            &who,
            patroli_server::CreateTokenBody {
                name: args.name.clone().unwrap_or_else(|| args.platform.clone()),
                platform: Some(args.platform.clone()),
                username: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "token {} for platform {} (shown once; store it now):",
            record.id, args.platform
        )?;
        writeln!(out, "{plaintext}")?;
        Ok(Outcome::Success)
    })
}

// ------------------------------------------------------------------------------------------------
// audit, network, evidence

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain of the audit log; exit 1 naming the first edited or missing entry.
    Verify(StoreOnlyArgs),
}

#[derive(Debug, Args)]
pub struct StoreOnlyArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn audit(cmd: AuditCommand) -> anyhow::Result<Outcome> {
    let AuditCommand::Verify(args) = cmd;
    runtime()?.block_on(async move {
        let store = args.store.open().await?;
        match store.verify_audit().await? {
            Ok(n) => {
                println!("audit log intact: {n} entries, chain verified");
                Ok(Outcome::Success)
            }
            Err(broken) => bail!("audit log altered: {broken}"),
        }
    })
}

#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// A contact value in any usual form: phone, WhatsApp link, bank account, handle, URL.
    #[arg(long, value_name = "VALUE")]
    pub contact: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn network(args: NetworkArgs) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async move {
        let store = args.store.open().await?;
        let answer =
            patroli_server::intel::networks::network_for_contact(store.as_ref(), &args.contact)
                .await?;
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &answer)?;
        writeln!(out)?;
        Ok(Outcome::Success)
    })
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Check every hash and the custody chain of an exported evidence package (exit 0 only when
    /// intact; otherwise each altered part is named).
    Verify {
        #[arg(value_name = "PACKAGE.zip")]
        file: PathBuf,
    },
}

pub fn evidence(cmd: EvidenceCommand) -> anyhow::Result<Outcome> {
    let EvidenceCommand::Verify { file } = cmd;
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    match patroli_core::evidence::verify_package(&bytes) {
        Ok(report) => {
            println!(
                "{}: intact — case {} \"{}\", {} evidence item(s), {} file(s) checked, chain head {}",
                file.display(),
                report.case_id,
                report.case_title,
                report.items,
                report.files,
                report.chain_head
            );
            Ok(Outcome::Success)
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("{}: {p}", file.display());
            }
            bail!(
                "{}: evidence package NOT intact ({} problem(s))",
                file.display(),
                problems.len()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_file_is_read_strictly() {
        let hooks = load_webhooks(
            "[toko]\nurl = \"http://hooks.toko.example/patroli\"\nsecret = \"rahasia\"\n",
        )
        .unwrap();
        assert_eq!(hooks["toko"].url, "http://hooks.toko.example/patroli");
        assert_eq!(hooks["toko"].secret, "rahasia");
        // The secret never prints.
        assert!(!format!("{:?}", hooks["toko"]).contains("rahasia"));
        for (bad, why) in [
            (
                "[toko]\nurl = \"http://x/\"\nsecret = \"k\"\nretries = 3\n",
                "retries",
            ),
            ("[toko]\nurl = \"https://x/\"\nsecret = \"k\"\n", "http://"),
            ("[toko]\nurl = \"http://x/\"\nsecret = \" \"\n", "secret"),
            ("[toko]\nurl = \"http://x/\"\n", "secret"),
        ] {
            let e = format!("{:#}", load_webhooks(bad).unwrap_err());
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }
}
