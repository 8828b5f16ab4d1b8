//! The enforcement story in a real headless Chromium, driven over WebDriver: a citizen files a
//! report on `/lapor`; an analyst links it to a confirmed post on `/laporan`; an investigator opens
//! a case on `/kasus`, freezes evidence and requests a takedown with the page's buttons; the
//! platform answers through the API; the citizen's tracking page shows "acted on"; the package
//! behind the export button verifies with core's `verify_package` and fails after one byte changes.
//!
//! Needs `PATROLI_TEST_CHROMEDRIVER` (path to chromedriver; CI sets it). Without it the test prints
//! that it was skipped, except under `CI=true`, where that is a failure.

use fantoccini::{ClientBuilder, Locator};
use patroli_core::{AgencyKind, Category, Role, Severity, VerdictKind};
use patroli_detect::{Engine, Entity, EntityKind, Field, Reason, ReasonKind, Screening};
use patroli_server::{AppState, ServerConfig};
use patroli_store::{IngestPost, ScreenedPost, Store};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

const POST_URL: &str = "https://tokoku.example/produk/pil-koplo-1000";

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

async fn add_user(store: &Arc<dyn Store>, name: &str, role: Role) {
    store
        .create_user(patroli_store::NewUser {
            username: name.into(),
            display_name: None,
            password_hash: patroli_server::hash_password("kata-sandi-rahasia"),
            role,
            agency: AgencyKind::Bpom,
            agency_id: None,
            unit_id: None,
            region_code: None,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn enforcement_story_in_headless_chromium() {
    let Some(driver_path) = chromedriver_path() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = patroli_store::open(dir.path().to_str().unwrap())
        .await
        .unwrap();
    add_user(&store, "analis", Role::Analyst).await;
    add_user(&store, "penyidik", Role::Investigator).await;

    // A flagged post the analyst has confirmed, and the platform's token.
    let text = "Ready pil koplo isi 1000 butir, COD Tarakan";
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
        entities: vec![Entity {
            kind: EntityKind::Url,
            value: POST_URL.into(),
            field: Field::Text,
            start: 0,
            end: 0,
            attrs: BTreeMap::new(),
        }],
        lexicon_version: "test".into(),
    };
    let post_id = store
        .ingest_batch(
            "tokoku",
            vec![ScreenedPost {
                post: IngestPost {
                    external_id: "1".into(),
                    account_handle: Some("penjual_obat".into()),
                    text: text.into(),
                    url: Some(POST_URL.into()),
                    ..Default::default()
                },
                screening,
            }],
        )
        .await
        .unwrap()[0]
        .post_id;
    let analyst = store.get_user_by_username("analis").await.unwrap().unwrap();
    store
        .record_post_verdict(post_id, analyst.id, VerdictKind::Confirmed, "pil koplo")
        .await
        .unwrap();
    let (platform_token, hash) = patroli_server::new_api_token();
    let platform = store.ensure_platform("tokoku").await.unwrap();
    store
        .create_api_token(patroli_store::NewApiToken {
            token_hash: hash,
            name: "tokoku bot".into(),
            role: Role::Platform,
            platform_id: Some(platform.id),
            user_id: None,
            created_by: None,
        })
        .await
        .unwrap();

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
    let args = vec![
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--window-size=1280,900".into(),
        format!("--user-data-dir={}", profile.path().display()),
    ];
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

    let result = story(&client, &base, post_id, &platform_token).await;
    let _ = client.close().await;
    drop(driver);
    let (code, zip) = result.unwrap();

    // The export verifies with core and names the chain head the server recorded.
    let report = patroli_core::evidence::verify_package(&zip).expect("package verifies");
    assert!(report.items >= 1);
    let stored = store.get_report_by_code(&code).await.unwrap().unwrap();
    let linked = store.report_links(stored.id).await.unwrap()[0].post_id;
    assert_eq!(linked, post_id);
    let case = store.list_cases(None).await.unwrap().remove(0);
    assert_eq!(report.chain_head, case.chain_head);
    // One changed byte anywhere in the package fails the check.
    let mut tampered = zip.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x20;
    assert!(patroli_core::evidence::verify_package(&tampered).is_err());
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

async fn log_in(
    c: &fantoccini::Client,
    base: &str,
    user: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    c.delete_all_cookies().await?;
    c.goto(&format!("{base}/login")).await?;
    wait(c)
        .for_element(Locator::Css("input[name=username]"))
        .await?
        .send_keys(user)
        .await?;
    c.find(Locator::Css("input[name=password]"))
        .await?
        .send_keys("kata-sandi-rahasia")
        .await?;
    c.find(Locator::Css("form.login button[type=submit]"))
        .await?
        .click()
        .await?;
    wait(c).for_element(Locator::Css("header.top nav")).await?;
    Ok(())
}

/// Returns the tracking code and the exported package.
async fn story(
    c: &fantoccini::Client,
    base: &str,
    post_id: patroli_core::PostId,
    platform_token: &str,
) -> Result<(String, Vec<u8>), Box<dyn std::error::Error>> {
    let http = reqwest::Client::new();

    // 1. A citizen files a report in the page, without logging in.
    c.goto(&format!("{base}/lapor")).await?;
    wait(c)
        .for_element(Locator::Css("#link"))
        .await?
        .send_keys(POST_URL)
        .await?;
    c.find(Locator::Css("#text"))
        .await?
        .send_keys("Toko ini menjual pil koplo tanpa resep")
        .await?;
    c.find(Locator::Css("#category"))
        .await?
        .select_by_value("drugs")
        .await?;
    snapshot(c, "lapor").await?;
    c.find(Locator::Css("#report-submit"))
        .await?
        .click()
        .await?;
    let code = wait(c)
        .for_element(Locator::Css("#tracking-code"))
        .await?
        .text()
        .await?;
    assert!(code.starts_with("PTR-"), "{code}");
    snapshot(c, "lapor-done").await?;

    // 2. The analyst links it to the confirmed post (the form is prefilled: same link).
    log_in(c, base, "analis").await?;
    c.goto(&format!("{base}/laporan")).await?;
    let row = wait(c)
        .for_element(Locator::Css(&format!("tr.report[data-code='{code}']")))
        .await?;
    let input = row.find(Locator::Css("input.link-post")).await?;
    assert_eq!(
        input.prop("value").await?.as_deref(),
        Some(post_id.to_string().as_str())
    );
    row.find(Locator::Css("button.link-submit"))
        .await?
        .click()
        .await?;
    wait(c).for_element(Locator::Css("table#reports")).await?;
    snapshot(c, "laporan").await?;

    // 3. The investigator opens a case, freezes evidence and requests a takedown.
    log_in(c, base, "penyidik").await?;
    c.goto(&format!("{base}/kasus")).await?;
    wait(c)
        .for_element(Locator::Css("#case-title"))
        .await?
        .send_keys("Pil koplo tokoku")
        .await?;
    c.find(Locator::Css("#case-category"))
        .await?
        .select_by_value("drugs")
        .await?;
    c.find(Locator::Css("#case-posts"))
        .await?
        .send_keys(&post_id.to_string())
        .await?;
    c.find(Locator::Css("#case-submit")).await?.click().await?;
    wait(c)
        .for_element(Locator::Css("#capture-evidence"))
        .await?;
    c.find(Locator::Css("#capture-evidence"))
        .await?
        .click()
        .await?;
    wait(c).for_element(Locator::Css("#evidence li")).await?;
    c.find(Locator::Css("#takedown-urgency"))
        .await?
        .select_by_value("urgent")
        .await?;
    c.find(Locator::Css("#request-takedown"))
        .await?
        .click()
        .await?;
    let pending = wait(c)
        .for_element(Locator::Css("#case-takedowns li .status"))
        .await?;
    assert_eq!(
        pending.attr("data-status").await?.as_deref(),
        Some("pending")
    );
    snapshot(c, "kasus").await?;

    // 4. The platform answers through the API with its token.
    let list: Value = http
        .get(format!("{base}/api/v1/takedowns?status=pending"))
        .bearer_auth(platform_token)
        .send()
        .await?
        .json()
        .await?;
    let takedown_id = list["items"][0]["takedown_id"]
        .as_str()
        .ok_or("no pending takedown for the platform")?
        .to_string();
    // The countdown on the request's page ticks (static/app.js), seconds included.
    let case_url = c.current_url().await?;
    c.goto(&format!("{base}/takedown/{takedown_id}")).await?;
    let countdown = wait(c)
        .for_element(Locator::Css(".countdown[data-due]"))
        .await?;
    let before = countdown.text().await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = countdown.text().await?;
    assert_ne!(before, after, "the countdown did not tick");
    assert!(
        after.starts_with("3 jam 59 menit") || after.starts_with("4 jam 0 menit"),
        "{after}"
    );
    c.goto(case_url.as_str()).await?;
    let res = http
        .post(format!("{base}/api/v1/takedowns/{takedown_id}/response"))
        .bearer_auth(platform_token)
        .json(&json!({"status": "taken_down", "reason": "listing dihapus"}))
        .send()
        .await?;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    c.refresh().await?;
    let answered = wait(c)
        .for_element(Locator::Css("#case-takedowns li .status"))
        .await?;
    assert_eq!(
        answered.attr("data-status").await?.as_deref(),
        Some("taken_down")
    );

    // 5. The export button's package, fetched with the investigator's session.
    let href = c
        .find(Locator::Css("#export-evidence"))
        .await?
        .attr("href")
        .await?
        .ok_or("export button has no link")?;
    let session = c.get_named_cookie("patroli_session").await?;
    let zip = http
        .get(format!("{base}{href}"))
        .header("cookie", format!("patroli_session={}", session.value()))
        .send()
        .await?;
    assert_eq!(zip.status(), reqwest::StatusCode::OK);
    let zip = zip.bytes().await?.to_vec();

    // 6. The citizen's tracking page shows "acted on" (in English, with ?lang=en).
    c.delete_all_cookies().await?;
    c.goto(&format!("{base}/lapor/status?lang=en")).await?;
    wait(c)
        .for_element(Locator::Css("#code"))
        .await?
        .send_keys(&code)
        .await?;
    c.find(Locator::Css("#status-submit"))
        .await?
        .click()
        .await?;
    let status = wait(c).for_element(Locator::Css("#report-status")).await?;
    assert_eq!(
        status.attr("data-status").await?.as_deref(),
        Some("acted_on")
    );
    assert_eq!(status.text().await?, "Acted on");
    snapshot(c, "status").await?;
    Ok((code, zip))
}
