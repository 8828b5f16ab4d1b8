//! The review story in a real headless Chromium, driven over WebDriver: log in through the form, see
//! the queue, open a post, press `c`, type a reason, and see the verdict recorded, while the post's
//! injected script never runs.
//!
//! Needs `PATROLI_TEST_CHROMEDRIVER` (path to chromedriver; CI sets it). Without it the test prints
//! that it was skipped, except under `CI=true`, where that is a failure.

use fantoccini::{ClientBuilder, Locator};
use patroli_core::{Category, Role, Severity};
use patroli_detect::{Engine, Field, Reason, ReasonKind, Screening};
use patroli_server::{AppState, ServerConfig};
use patroli_store::{IngestPost, ScreenedPost};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

const HOSTILE: &str =
    "<script>window.__pwned=1;alert(1)</script><img src=x onerror=\"window.__pwned=2;alert(2)\">";

fn chromedriver_path() -> Option<String> {
    match std::env::var("PATROLI_TEST_CHROMEDRIVER") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true requires PATROLI_TEST_CHROMEDRIVER for the browser test"
            );
            eprintln!("skipped: browser test (set PATROLI_TEST_CHROMEDRIVER to run it)");
            None
        }
    }
}

/// A chromedriver process on a free port, killed when dropped.
struct Driver {
    child: tokio::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn start_driver(path: &str) -> Driver {
    // Ask the OS for a free port, release it, and hand it to chromedriver.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    // Readiness: poll /status until it says ready (bounded: about 30 s in total).
    for _ in 0..600 {
        if let Ok(res) = http.get(format!("{url}/status")).send().await
            && let Ok(v) = res.json::<Value>().await
            && v["value"]["ready"] == json!(true)
        {
            return Driver { child, url };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not become ready");
}

#[tokio::test]
async fn review_story_in_headless_chromium() {
    let Some(driver_path) = chromedriver_path() else {
        return;
    };

    // Server on a temp-dir SQLite store, with an analyst and one hostile flagged post.
    let dir = tempfile::tempdir().unwrap();
    let store = patroli_store::open(dir.path().to_str().unwrap())
        .await
        .unwrap();
    store
        .create_user(patroli_store::NewUser {
            username: "analis".into(),
            display_name: None,
            password_hash: patroli_server::hash_password("kata-sandi-rahasia"),
            role: Role::Analyst,
            agency: patroli_core::AgencyKind::Bpom,
            agency_id: None,
            unit_id: None,
            region_code: None,
        })
        .await
        .unwrap();
    let text = format!("Ready pil koplo isi 1000 butir {HOSTILE} minat DM");
    let start = text.find("pil koplo").unwrap();
    let screening = Screening {
        flagged: true,
        score: 0.95,
        categories: vec![Category::Drugs],
        scores: BTreeMap::from([(Category::Drugs, 0.95)]),
        severity: Severity::High,
        reasons: vec![Reason {
            rule: "drugs.pil_koplo".into(),
            kind: ReasonKind::Term,
            category: Some(Category::Drugs),
            field: Field::Text,
            start,
            end: start + "pil koplo".len(),
            matched: "pil koplo".into(),
            weight: 0.9,
            note: "istilah pil koplo".into(),
        }],
        entities: vec![],
        lexicon_version: "test".into(),
    };
    let post_id = store
        .ingest_batch(
            "tokoku",
            vec![ScreenedPost {
                post: IngestPost {
                    external_id: "1".into(),
                    title: Some("Kaos polos".into()),
                    text: text.clone(),
                    ..Default::default()
                },
                screening,
            }],
        )
        .await
        .unwrap()[0]
        .post_id;
    let state = AppState::new(
        store.clone(),
        Arc::new(Engine::builtin()),
        ServerConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(patroli_server::serve(listener, state));
    // "localhost" is a secure context for browsers, so the Secure session cookie is kept over http.
    let base = format!("http://localhost:{port}");

    let driver = start_driver(&driver_path).await;
    let profile = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        format!("--user-data-dir={}", profile.path().display()),
    ];
    args.push("--window-size=1280,900".into());
    let mut chrome = json!({ "args": args });
    if let Ok(bin) = std::env::var("PATROLI_TEST_CHROMIUM") {
        chrome["binary"] = json!(bin);
    }
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert("goog:chromeOptions".into(), chrome);
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("WebDriver session");

    let result = story(&client, &base, post_id, &text).await;
    let _ = client.close().await;
    drop(driver);
    result.unwrap();

    // The verdict reached the store, with the analyst and the reason typed in the browser.
    let detail = store.post_detail(post_id, None).await.unwrap().unwrap();
    assert_eq!(detail.verdicts.len(), 1);
    assert_eq!(detail.verdicts[0].username, "analis");
    assert_eq!(
        detail.verdicts[0].reason,
        "jual pil koplo, disamarkan sebagai kaos"
    );
    assert_eq!(
        detail.verdicts[0].verdict,
        patroli_core::VerdictKind::Confirmed
    );
}

/// Saves a screenshot when `PATROLI_TEST_SCREENSHOTS` names a directory (for looking at the UI).
async fn snapshot(c: &fantoccini::Client, name: &str) -> Result<(), Box<dyn std::error::Error>> {
    if let Ok(dir) = std::env::var("PATROLI_TEST_SCREENSHOTS") {
        std::fs::write(format!("{dir}/{name}.png"), c.screenshot().await?)?;
    }
    Ok(())
}

fn wait(c: &fantoccini::Client) -> fantoccini::wait::Wait<'_> {
    c.wait().at_most(Duration::from_secs(20))
}

async fn story(
    c: &fantoccini::Client,
    base: &str,
    post_id: patroli_core::PostId,
    text: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    // Log in through the form.
    c.goto(&format!("{base}/antrian")).await?;
    let username = wait(c)
        .for_element(Locator::Css("input[name=username]"))
        .await?;
    username.send_keys("analis").await?;
    c.find(Locator::Css("input[name=password]"))
        .await?
        .send_keys("kata-sandi-rahasia")
        .await?;
    c.find(Locator::Css("form.login button[type=submit]"))
        .await?
        .click()
        .await?;

    // The queue shows the post.
    let row = wait(c).for_element(Locator::Css("tr.item")).await?;
    assert_eq!(
        row.attr("data-post-id").await?.as_deref(),
        Some(post_id.to_string().as_str())
    );
    assert!(c.current_url().await?.as_str().ends_with("/antrian"));
    assert!(row.text().await?.contains("pil koplo"));
    snapshot(c, "queue").await?;

    // Open it with the keyboard ('o'), which also proves app.js loaded under the CSP.
    c.find(Locator::Css("body")).await?.send_keys("o").await?;
    let shown = wait(c).for_element(Locator::Css("#post-text")).await?;
    assert!(
        c.current_url()
            .await?
            .as_str()
            .ends_with(&format!("/posts/{post_id}"))
    );

    // The hostile text is shown as text: identical to the original, no element created, nothing ran.
    assert_eq!(shown.text().await?, text);
    let injected = c
        .execute(
            "return [document.querySelectorAll('#post-text script, #post-text img').length, \
             window.__pwned === undefined, document.querySelectorAll('#post-text mark').length];",
            vec![],
        )
        .await?;
    assert_eq!(
        injected,
        json!([0, true, 1]),
        "no injected element, no execution, one highlight"
    );
    assert!(
        c.get_alert_text().await.is_err(),
        "no alert dialog may be open"
    );
    snapshot(c, "post").await?;

    // Press c, type a reason, Enter: the verdict is recorded and shown.
    c.find(Locator::Css("body")).await?.send_keys("c").await?;
    let focused = c.active_element().await?;
    assert_eq!(focused.attr("id").await?.as_deref(), Some("verdict-reason"));
    focused
        .send_keys("jual pil koplo, disamarkan sebagai kaos")
        .await?;
    focused.send_keys("\u{E007}").await?;
    let entry = wait(c).for_element(Locator::Css("ul#verdicts li")).await?;
    let entry = entry.text().await?;
    assert!(entry.contains("dikonfirmasi"), "{entry}");
    assert!(
        entry.contains("jual pil koplo, disamarkan sebagai kaos"),
        "{entry}"
    );
    assert_eq!(
        c.find(Locator::Css("#status")).await?.text().await?,
        "dikonfirmasi"
    );
    snapshot(c, "decided").await?;
    Ok(())
}
