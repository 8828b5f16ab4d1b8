//! The enforcement workflow over real HTTP (issue 4): a server on port 0 over a temp-dir SQLite
//! store, and the same stories on PostgreSQL when `PATROLI_TEST_POSTGRES_URL` is set (required
//! under `CI=true`).
//!
//! Flagged posts are seeded straight into the store with hand-made screenings (so the stories do
//! not depend on the lexicon); everything else goes through the API as a client would.

use patroli_core::evidence::verify_package;
use patroli_core::{AgencyKind, Category, Role, Severity};
use patroli_detect::{Engine, Entity, EntityKind, Field, Reason, ReasonKind, Screening};
use patroli_server::{AppState, ServerConfig};
use patroli_store::{IngestPost, ScreenedPost, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

enum Db {
    Sqlite,
    Postgres,
}

struct Server {
    base: String,
    store: Arc<dyn Store>,
    http: reqwest::Client,
    /// Makes names unique so runs can share one PostgreSQL database.
    tag: String,
    /// A phone number of this run only, as written in posts (`0812...`).
    phone_local: String,
    _dir: tempfile::TempDir,
}

async fn start(db: Db) -> Option<Server> {
    let dir = tempfile::tempdir().unwrap();
    let location = match db {
        Db::Sqlite => dir.path().to_str().unwrap().to_string(),
        Db::Postgres => match std::env::var("PATROLI_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI=true requires PATROLI_TEST_POSTGRES_URL for the PostgreSQL tests"
                );
                eprintln!("skipped: PostgreSQL test (set PATROLI_TEST_POSTGRES_URL to run it)");
                return None;
            }
        },
    };
    let store = patroli_store::open(&location).await.expect("open store");
    let config = ServerConfig::default().with_login_attempts_per_minute(1000);
    let state = AppState::new(store.clone(), Arc::new(Engine::builtin()), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(patroli_server::serve(listener, state));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let digits = u64::from_str_radix(&tag, 16).unwrap() % 100_000_000;
    Some(Server {
        base: format!("http://{addr}"),
        store,
        http,
        tag,
        phone_local: format!("0812{digits:08}"),
        _dir: dir,
    })
}

macro_rules! on_both {
    ($story:ident, $sqlite:ident, $pg:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            $story(Db::Sqlite).await;
        }
        #[tokio::test]
        async fn $pg() {
            $story(Db::Postgres).await;
        }
    };
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn name(&self, base: &str) -> String {
        format!("{base}-{}", self.tag)
    }

    /// The run's phone number as the engine normalizes it.
    fn phone(&self) -> String {
        format!("+62{}", &self.phone_local[1..])
    }

    /// A post text naming the run's phone number.
    fn text(&self, template: &str) -> String {
        template.replace("{phone}", &self.phone_local)
    }

    /// A user of `agency` logged in; returns its bearer token.
    async fn user(&self, name: &str, role: Role, agency: AgencyKind) -> (String, String) {
        self.user_in(name, role, agency, None).await
    }

    /// Like [`Server::user`], in a unit of the agency.
    async fn user_in(
        &self,
        name: &str,
        role: Role,
        agency: AgencyKind,
        unit: Option<patroli_core::UnitId>,
    ) -> (String, String) {
        let username = self.name(name);
        self.store
            .create_user(patroli_store::NewUser {
                username: username.clone(),
                display_name: None,
                password_hash: patroli_server::hash_password("kata-sandi-rahasia"),
                role,
                agency,
                agency_id: None,
                unit_id: unit,
                region_code: None,
            })
            .await
            .unwrap();
        let res = self
            .http
            .post(self.url("/api/v1/login"))
            .json(&json!({"username": username, "password": "kata-sandi-rahasia"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        (username, body["token"].as_str().unwrap().to_string())
    }

    async fn platform_token(&self, platform: &str) -> String {
        let (plain, hash) = patroli_server::new_api_token();
        let p = self.store.ensure_platform(platform).await.unwrap();
        self.store
            .create_api_token(patroli_store::NewApiToken {
                token_hash: hash,
                name: format!("{platform} bot"),
                role: Role::Platform,
                platform_id: Some(p.id),
                user_id: None,
                created_by: None,
            })
            .await
            .unwrap();
        plain
    }

    /// A flagged drugs post on the test's shop platform, by `seller`, carrying the phone and URL
    /// entities.
    async fn seed(&self, id: &str, seller: &str, template: &str) -> String {
        let text = self.text(template);
        let text = text.as_str();
        let url = format!("https://toko.example/p/{}", self.name(id));
        let start = text.find("koplo").expect("test texts say koplo");
        let phone_at = text.find("0812").unwrap_or(0);
        let screening = Screening {
            flagged: true,
            score: 0.9,
            categories: vec![Category::Drugs],
            scores: BTreeMap::from([(Category::Drugs, 0.9)]),
            severity: Severity::High,
            reasons: vec![Reason {
                rule: "test.term".into(),
                kind: ReasonKind::Term,
                category: Some(Category::Drugs),
                field: Field::Text,
                start,
                end: start + 5,
                matched: "koplo".into(),
                weight: 0.9,
                note: "istilah uji".into(),
            }],
            entities: vec![
                Entity {
                    kind: EntityKind::Phone,
                    value: self.phone(),
                    field: Field::Text,
                    start: phone_at,
                    end: phone_at + 12,
                    attrs: BTreeMap::new(),
                },
                Entity {
                    kind: EntityKind::Url,
                    value: url.clone(),
                    field: Field::Text,
                    start: 0,
                    end: 0,
                    attrs: BTreeMap::new(),
                },
            ],
            lexicon_version: "test".into(),
        };
        let out = self
            .store
            .ingest_batch(
                &self.name("toko"),
                vec![ScreenedPost {
                    post: IngestPost {
                        external_id: self.name(id),
                        account_handle: Some(self.name(seller)),
                        text: text.into(),
                        url: Some(url),
                        ..Default::default()
                    },
                    screening,
                }],
            )
            .await
            .unwrap();
        out[0].post_id.to_string()
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    async fn get_json(&self, token: &str, path: &str) -> Value {
        let res = self.get(token, path).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.json().await.unwrap()
    }

    async fn public_status(&self, code: &str) -> Value {
        let res = self
            .http
            .get(self.url(&format!("/api/v1/reports/{code}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }
}

const TEXT: &str = "Ready pil koplo 1000 butir, COD area Tarakan, WA {phone}";

// ------------------------------------------------------------------ the whole story

on_both!(enforcement_story, enforcement_sqlite, enforcement_postgres);
async fn enforcement_story(db: Db) {
    let Some(s) = start(db).await else {
        return;
    };
    let (_, analyst) = s.user("analis", Role::Analyst, AgencyKind::Bpom).await;
    let (inv_name, inv) = s
        .user("penyidik", Role::Investigator, AgencyKind::Bpom)
        .await;
    let (_, viewer_other) = s.user("polisi", Role::Viewer, AgencyKind::Polri).await;
    let (_, bnn) = s.user("bnn", Role::Investigator, AgencyKind::Bnn).await;
    let platform = s.platform_token(&s.name("toko")).await;
    let other_platform = s.platform_token(&s.name("pasar")).await;
    let p1 = s.seed("p1", "penjual", TEXT).await;

    // The unit responsible for the region receives the report.
    let region = format!("98.{}", &s.phone_local[4..]);
    let bpom_agency = s
        .store
        .ensure_agency(AgencyKind::Bpom, "BPOM")
        .await
        .unwrap();
    let unit = s
        .store
        .create_unit(bpom_agency.id, &s.name("Loka POM"), Some(&region))
        .await
        .unwrap();

    // A citizen reports, without credentials; the answer is a tracking code and nothing else.
    let res = s
        .http
        .post(s.url("/api/v1/reports"))
        .json(&json!({
            "link": format!("https://toko.example/p/{}", s.name("p1")),
            "text": "Ada yang jual pil koplo di toko ini",
            "category": "drugs",
            "region_code": format!("{region}.02"),
            "contact": {"name": "Siti Pelapor", "phone": "0811000111"},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let code = body["tracking_code"].as_str().unwrap().to_string();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    assert!(code.starts_with("PTR-"), "{code}");
    let status = s.public_status(&code).await;
    assert_eq!(status, json!({"status": "received"}));
    // Typed in lower case without dashes, the code still works; a typo does not.
    let compact = code.replace('-', "").to_lowercase();
    assert_eq!(s.public_status(&compact).await["status"], "received");
    let mut typo = code.clone();
    let last = typo.pop().unwrap();
    typo.push(if last == 'A' { 'B' } else { 'A' });
    let res = s
        .http
        .get(s.url(&format!("/api/v1/reports/{typo}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let stored = s.store.get_report_by_code(&code).await.unwrap().unwrap();
    assert_eq!(
        stored.assigned_unit,
        Some(unit.id),
        "routed to the region's unit"
    );

    // Staff see the report (deduplicated against the known post), never the contact.
    let list = s.get_json(&analyst, "/api/v1/reports").await;
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tracking_code"] == code.as_str())
        .expect("report listed")
        .clone();
    assert_eq!(item["duplicate_of"], p1.as_str(), "{item}");
    // Screened like a post: the engine's reasons travel with the report.
    assert_eq!(item["screening"]["flagged"], true, "{item}");
    assert!(
        item["screening"]["categories"]
            .as_array()
            .unwrap()
            .contains(&json!("drugs")),
        "{item}"
    );
    assert_eq!(item["has_contact"], true);
    assert!(!item.to_string().contains("Siti"), "{item}");
    assert!(!item.to_string().contains("0811000111"), "{item}");

    // The analyst confirms the post and links the report to it: in review.
    let res = s
        .post(
            &analyst,
            &format!("/api/v1/posts/{p1}/verdict"),
            json!({"verdict": "confirmed", "reason": "pil koplo dijual bebas"}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let res = s
        .post(
            &analyst,
            &format!("/api/v1/reports/{code}/link"),
            json!({"post_id": p1}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(s.public_status(&code).await["status"], "in_review");

    // The investigator opens a case.
    let res = s
        .post(&inv, "/api/v1/cases", json!({"title": "Pil koplo Tarakan", "category": "drugs", "post_ids": [p1], "legal_basis": ["uu-17-2023-p435"]}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let case_id = res.json::<Value>().await.unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    let bad = s
        .post(
            &inv,
            "/api/v1/cases",
            json!({"title": "x", "category": "drugs", "legal_basis": ["pasal-karangan"]}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let unknown_post = s
        .post(
            &inv,
            "/api/v1/cases",
            json!({"title": "x", "category": "drugs", "post_ids": [uuid::Uuid::new_v4()]}),
        )
        .await;
    assert_eq!(unknown_post.status(), StatusCode::NOT_FOUND);
    let by_viewer = s
        .post(
            &viewer_other,
            "/api/v1/cases",
            json!({"title": "x", "category": "drugs"}),
        )
        .await;
    assert_eq!(by_viewer.status(), StatusCode::FORBIDDEN);

    // Other agencies do not see it (404, as for an unknown case) until it is shared.
    for token in [&viewer_other, &bnn] {
        let res = s.get(token, &format!("/api/v1/cases/{case_id}")).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = s
            .get(token, &format!("/api/v1/cases/{case_id}/evidence.zip"))
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let res = s
        .post(
            &inv,
            &format!("/api/v1/cases/{case_id}/share"),
            json!({"agency": "Atlantis", "reason": "x"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "unknown agency");
    let res = s
        .post(
            &inv,
            &format!("/api/v1/cases/{case_id}/share"),
            json!({"agency": "BNN", "reason": "narkotika"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        s.get(&bnn, &format!("/api/v1/cases/{case_id}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        s.get(&viewer_other, &format!("/api/v1/cases/{case_id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Evidence: the posts and an uploaded screenshot, chained.
    let shot = b"\x89PNG fake screenshot bytes";
    let res = s
        .post(
            &inv,
            &format!("/api/v1/cases/{case_id}/evidence"),
            json!({
                "note": "tangkapan layar",
                "post_ids": [p1],
                "attachments": [{"name": "../layar 1.png", "media_type": "image/png",
                    "content_base64": base64_encode(shot)}],
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let captured: Value = res.json().await.unwrap();
    let items = captured["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "one snapshot item and one attachment item");
    assert_eq!(items[1]["parts"][0]["name"], "layar_1.png");
    assert_eq!(items[1]["prev_hash"], items[0]["hash"]);

    // A recording over the 1 MiB default body limit, uploaded as multipart/form-data.
    let big = vec![7u8; 2 * 1024 * 1024];
    let mut form = Vec::new();
    form.extend_from_slice(
        b"--B0undary\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nrekaman layar\r\n\
--B0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rekaman.mp4\"\r\n\
Content-Type: video/mp4\r\n\r\n",
    );
    form.extend_from_slice(&big);
    form.extend_from_slice(b"\r\n--B0undary--\r\n");
    let res = s
        .http
        .post(s.url(&format!("/api/v1/cases/{case_id}/evidence")))
        .bearer_auth(&inv)
        .header("content-type", "multipart/form-data; boundary=B0undary")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let uploaded: Value = res.json().await.unwrap();
    let part = &uploaded["items"][0]["parts"][0];
    assert_eq!(part["name"], "rekaman.mp4");
    assert_eq!(part["media_type"], "video/mp4");
    assert_eq!(part["size"], big.len());
    assert_eq!(uploaded["items"][0]["note"], "rekaman layar");

    // Suspects, seizures, lab tests and status changes land on the timeline.
    let res = s
        .post(
            &inv,
            &format!("/api/v1/cases/{case_id}/seizures"),
            json!({"item": "pil LL", "quantity": 39935, "unit": "butir", "value_rupiah": 59902500}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = s
        .post(
            &inv,
            &format!("/api/v1/cases/{case_id}/seizures"),
            json!({"item": "pil", "quantity": -1, "unit": "butir"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = s
        .post(
            &inv,
            &format!("/api/v1/cases/{case_id}/suspects"),
            json!({"name": "AB", "role": "penjual"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = s
        .post(&inv, &format!("/api/v1/cases/{case_id}/lab-tests"), json!({"lab": "Balai Besar POM", "substance": "triheksifenidil", "method": "KLT", "tested_on": "2026-11-20",
            "report": {"name": "hasil-lab.pdf", "media_type": "application/pdf", "content_base64": base64_encode(b"%PDF-1.4 hasil uji")}}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = s
        .post(
            &inv,
            &format!("/api/v1/cases/{case_id}/actions"),
            json!({"action": "start_investigation"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = s
        .post(
            &inv,
            &format!("/api/v1/cases/{case_id}/actions"),
            json!({"action": "start_investigation"}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "investigating cannot start again"
    );
    let res = s
        .post(
            &inv,
            &format!("/api/v1/cases/{case_id}/notes"),
            json!({"text": "penjual aktif sejak Oktober"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // A takedown, urgent: due in four hours.
    let before = time::OffsetDateTime::now_utc();
    let res = s
        .post(&inv, "/api/v1/takedowns", json!({"post_ids": [p1], "urgency": "urgent", "legal_basis": "pp-71-2019", "case_id": case_id}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let t: Value = res.json().await.unwrap();
    let takedown_id = t["takedown_id"].as_str().unwrap().to_string();
    let due = time::OffsetDateTime::parse(
        t["due_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let hours = (due - before).as_seconds_f64() / 3600.0;
    assert!((3.99..=4.01).contains(&hours), "due in {hours} h");
    let res = s
        .post(
            &inv,
            "/api/v1/takedowns",
            json!({"post_ids": [p1], "urgency": "someday", "legal_basis": "pp-71-2019"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // The platform lists its own pending requests; another platform sees none and gets 404.
    let mine = s
        .get_json(&platform, "/api/v1/takedowns?status=pending")
        .await;
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["takedown_id"] == takedown_id.as_str())
    );
    let theirs = s
        .get_json(&other_platform, "/api/v1/takedowns?status=pending")
        .await;
    assert!(theirs["items"].as_array().unwrap().is_empty(), "{theirs}");
    let res = s
        .post(
            &other_platform,
            &format!("/api/v1/takedowns/{takedown_id}/response"),
            json!({"status": "taken_down"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = s
        .post(
            &inv,
            &format!("/api/v1/takedowns/{takedown_id}/response"),
            json!({"status": "taken_down"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "only platforms answer");
    let res = s
        .post(
            &platform,
            &format!("/api/v1/takedowns/{takedown_id}/response"),
            json!({"status": "rejected", "reason": " "}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "a rejection needs a reason"
    );
    let res = s
        .post(
            &platform,
            &format!("/api/v1/takedowns/{takedown_id}/response"),
            json!({"status": "acknowledged"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = s
        .post(
            &platform,
            &format!("/api/v1/takedowns/{takedown_id}/response"),
            json!({"status": "taken_down", "reason": "listing removed"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "taken_down");
    let res = s
        .post(
            &platform,
            &format!("/api/v1/takedowns/{takedown_id}/response"),
            json!({"status": "rejected", "reason": "changed our mind"}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "final answers do not change"
    );

    // The citizen's tracking code now says acted on, and still nothing else.
    assert_eq!(s.public_status(&code).await, json!({"status": "acted_on"}));

    // Statistics per platform.
    let stats = s.get_json(&inv, "/api/v1/takedowns/stats").await;
    let row = stats["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["platform"] == s.name("toko").as_str())
        .expect("platform row")
        .clone();
    assert_eq!(row["requests"], 1);
    assert_eq!(row["taken_down"], 1);
    assert_eq!(row["compliance_rate"], json!(1.0));
    assert!(row["median_hours_to_takedown"].as_f64().unwrap() < 1.0);

    // The exported package verifies with core, names the recorded head, and breaks on one byte.
    let res = s
        .get(&inv, &format!("/api/v1/cases/{case_id}/evidence.zip"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let head = res.headers()["x-patroli-chain-head"]
        .to_str()
        .unwrap()
        .to_string();
    let zip = res.bytes().await.unwrap().to_vec();
    let report = verify_package(&zip).expect("package verifies");
    assert_eq!(report.chain_head, head);
    assert_eq!(
        report.items, 4,
        "snapshot, screenshot, recording, lab report"
    );
    let detail = s.get_json(&inv, &format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(detail["chain_head"], head.as_str());
    assert_eq!(detail["status"], "investigating");
    assert_eq!(detail["seizures"][0]["quantity"], json!(39935.0));
    let kinds: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in [
        "created",
        "evidence",
        "seizure",
        "suspect",
        "lab_test",
        "status",
        "note",
        "takedown",
        "takedown_answer",
        "shared",
        "evidence_export",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let mut tampered = zip.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    let problems = verify_package(&tampered).expect_err("one changed byte must fail");
    assert!(!problems.is_empty());

    // The reporter's contact: only for the assigned investigator, and every view is audited.
    let res = s
        .get(&inv, &format!("/api/v1/reports/{code}/contact"))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = s
        .post(
            &analyst,
            &format!("/api/v1/reports/{code}/assign"),
            json!({"username": inv_name}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let contact = s
        .get_json(&inv, &format!("/api/v1/reports/{code}/contact"))
        .await;
    assert_eq!(contact["contact"]["name"], "Siti Pelapor");
    let res = s
        .get(&analyst, &format!("/api/v1/reports/{code}/contact"))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let audit = s
        .store
        .list_audit(&patroli_store::AuditFilter::default())
        .await
        .unwrap();
    assert!(audit.iter().any(|e| e.action == "report.contact_view"));
    assert!(audit.iter().any(|e| e.action == "case.share"));
    assert!(audit.iter().any(|e| e.action == "evidence.export"));
    assert!(
        !audit.iter().any(|e| e.detail.to_string().contains("Siti")),
        "the audit log never holds the reporter's contact"
    );
    // Sealed at rest: the stored row does not carry the name in clear.
    let stored = s.store.get_report_by_code(&code).await.unwrap().unwrap();
    assert!(!stored.contact_sealed.as_deref().unwrap().contains("Siti"));
    assert!(s.store.verify_audit().await.unwrap().is_ok());

    // Closing with guidance renders the letter from the template.
    let res = s
        .post(&inv, &format!("/api/v1/cases/{case_id}/actions"), json!({"action": "close", "outcome": "guidance", "reason": "usaha kecil, pertama kali"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let closed: Value = res.json().await.unwrap();
    let letter = closed["letter"].as_str().unwrap();
    assert!(
        letter.contains("SURAT PEMBINAAN") && letter.contains(&s.name("penjual")),
        "{letter}"
    );
    let res = s
        .post(
            &inv,
            &format!("/api/v1/cases/{case_id}/actions"),
            json!({"action": "start_investigation"}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "closed cases never change"
    );

    // Re-upload: the same text from another account after the takedown is flagged and linked.
    let res = s
        .post(&platform, "/api/v1/posts", json!([{"id": s.name("p1-again"), "text": s.text(TEXT).to_uppercase(), "account": s.name("akun-baru")}]))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let again = s
        .store
        .get_post_by_external_id(&s.name("toko"), &s.name("p1-again"))
        .await
        .unwrap()
        .expect("stored");
    let re = s.store.reupload_of_post(again.id).await.unwrap();
    assert_eq!(re.len(), 1, "{re:?}");
    assert_eq!(re[0].earlier_post_id.to_string(), p1);
    assert_eq!(re[0].case_id.map(|c| c.to_string()), Some(case_id.clone()));
    assert_eq!(re[0].matched_on, "text");
}

// ------------------------------------------------------------------ deconfliction

on_both!(
    deconfliction_story,
    deconfliction_sqlite,
    deconfliction_postgres
);
async fn deconfliction_story(db: Db) {
    let Some(s) = start(db).await else {
        return;
    };
    let (bpom_name, bpom) = s.user("bpom", Role::Investigator, AgencyKind::Bpom).await;
    let (polri_name, polri) = s.user("polri", Role::Investigator, AgencyKind::Polri).await;
    let (analyst_name, analyst) = s.user("analis", Role::Analyst, AgencyKind::Polri).await;
    let p1 = s
        .seed("d1", "bandar", "Jual pil koplo grosir, hubungi {phone}")
        .await;
    let p2 = s
        .seed("d2", "lain", "Obat koplo murah, order lewat WA {phone}")
        .await;

    let res = s
        .post(&bpom, "/api/v1/cases", json!({"title": "Rahasia BPOM: toko obat ilegal", "category": "unregistered_products", "post_ids": [p1]}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let bpom_case = res.json::<Value>().await.unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    // Nothing to deconflict yet.
    let d = s
        .get_json(&bpom, &format!("/api/v1/cases/{bpom_case}"))
        .await;
    assert!(d["notices"].as_array().unwrap().is_empty());

    // POLRI opens its own case on another post with the same phone number.
    let res = s
        .post(
            &polri,
            "/api/v1/cases",
            json!({"title": "Polri: jaringan pil", "category": "drugs", "post_ids": [p2]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let polri_case = res.json::<Value>().await.unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Both sides are told whom to contact, without the other's content.
    let d = s
        .get_json(&bpom, &format!("/api/v1/cases/{bpom_case}"))
        .await;
    let n = &d["notices"][0];
    assert_eq!(n["other_agency"], "POLRI");
    assert_eq!(n["other_contact"], polri_name.as_str());
    assert_eq!(n["matched_on"], s.phone().as_str());
    assert!(!n.to_string().contains("jaringan"), "{n}");
    let d = s
        .get_json(&polri, &format!("/api/v1/cases/{polri_case}"))
        .await;
    let n = &d["notices"][0];
    assert_eq!(n["other_agency"], "BPOM");
    assert_eq!(n["other_contact"], bpom_name.as_str());
    assert!(!n.to_string().contains("Rahasia"), "{n}");
    // ...and still cannot open each other's case.
    assert_eq!(
        s.get(&polri, &format!("/api/v1/cases/{bpom_case}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get(&bpom, &format!("/api/v1/cases/{polri_case}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let listed = s.get_json(&polri, "/api/v1/cases").await;
    assert!(!listed.to_string().contains("Rahasia"));

    // Confirming a post of a case freezes it into that case's evidence; notices are not repeated.
    let before = s
        .get_json(&bpom, &format!("/api/v1/cases/{bpom_case}"))
        .await["evidence"]
        .as_array()
        .unwrap()
        .len();
    let res = s
        .post(
            &analyst,
            &format!("/api/v1/posts/{p1}/verdict"),
            json!({"verdict": "confirmed", "reason": "nomor sama"}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let d = s
        .get_json(&bpom, &format!("/api/v1/cases/{bpom_case}"))
        .await;
    assert_eq!(d["evidence"].as_array().unwrap().len(), before + 1);
    assert_eq!(d["evidence"][before]["note"], "confirmed finding");
    assert_eq!(d["notices"].as_array().unwrap().len(), 1);

    // The confirming analyst's agency (POLRI) is told about BPOM's case, and BPOM who confirmed.
    let mine = s.get_json(&analyst, "/api/v1/notices").await;
    let about_bpom = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["other_case_id"] == bpom_case.as_str())
        .expect("notice about BPOM's case")
        .clone();
    assert_eq!(about_bpom["other_agency"], "BPOM");
    assert_eq!(about_bpom["other_contact"], bpom_name.as_str());
    assert!(!about_bpom.to_string().contains("Rahasia"), "{about_bpom}");
    let d = s
        .get_json(&bpom, &format!("/api/v1/cases/{bpom_case}"))
        .await;
    let by = &d["agency_notices"][0];
    assert_eq!(by["other_agency"], "POLRI");
    assert_eq!(by["other_contact"], analyst_name.as_str());

    // An analyst of an agency with no case at all (BNN) is told too.
    let (_, bnn) = s.user("bnn", Role::Analyst, AgencyKind::Bnn).await;
    let p3 = s.seed("d3", "bandar", "Ada koplo lagi, WA {phone}").await;
    let res = s
        .post(
            &bnn,
            &format!("/api/v1/posts/{p3}/verdict"),
            json!({"verdict": "confirmed", "reason": "akun sama"}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let bnn_notices = s.get_json(&bnn, "/api/v1/notices").await;
    let agencies: Vec<&str> = bnn_notices["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["other_agency"].as_str().unwrap())
        .collect();
    assert!(
        agencies.contains(&"BPOM") && agencies.contains(&"POLRI"),
        "{agencies:?}"
    );
    let page = s.get(&bnn, "/kasus").await.text().await.unwrap();
    assert!(
        page.contains("my-notices") && page.contains(&bpom_name),
        "notices shown on the page"
    );

    // Bulk confirmation from the queue API freezes too.
    let res = s
        .post(
            &analyst,
            "/api/v1/verdicts",
            json!({"post_ids": [p2], "verdict": "confirmed", "reason": "nomor sama"}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let d = s
        .get_json(&polri, &format!("/api/v1/cases/{polri_case}"))
        .await;
    let notes: Vec<&str> = d["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["note"].as_str().unwrap())
        .collect();
    assert_eq!(notes, ["confirmed finding"], "{notes:?}");
}

// ------------------------------------------------------------------ public pages and limits

on_both!(public_story, public_sqlite, public_postgres);
async fn public_story(db: Db) {
    let Some(s) = start(db).await else {
        return;
    };
    // The form without its token is refused.
    let res = s
        .http
        .post(s.url("/lapor"))
        .form(&[("text", "jual pil koplo")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // With the token from the page, in English, it files and shows the code.
    let res = s.http.get(s.url("/lapor?lang=en")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("patroli_lapor="))
        .expect("form token cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = res.text().await.unwrap();
    assert!(page.contains("Report an illegal post"), "English page");
    let token = cookie.trim_start_matches("patroli_lapor=").to_string();
    assert!(page.contains(&token));
    let res = s
        .http
        .post(s.url("/lapor"))
        .header("cookie", &cookie)
        .form(&[
            ("_lapor", token.as_str()),
            (
                "text",
                "Lowongan kerja ke luar negeri tanpa biaya, paspor ditahan agen",
            ),
            ("anonymous", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let code = page
        .split("id=\"tracking-code\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("tracking code on the page")
        .to_string();
    let stored = s.store.get_report_by_code(&code).await.unwrap().unwrap();
    assert!(
        stored.contact_sealed.is_none(),
        "anonymous reports keep no contact"
    );
    assert_eq!(stored.channel, "web");
    let page = s
        .http
        .get(s.url(&format!("/lapor/status?code={code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-status=\"received\""), "{page}");

    // Validation: nothing to report, a link that is not http(s).
    for body in [
        json!({}),
        json!({"link": "javascript:alert(1)"}),
        json!({"text": "x", "category": "senjata"}),
    ] {
        let res = s
            .http
            .post(s.url("/api/v1/reports"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
    }

    // The offer check explains and stores nothing.
    let offer = format!(
        "Dicari TKW ke Malaysia, gaji 15 juta, tanpa pengalaman, paspor diurus agen {}",
        s.tag
    );
    let res = s
        .http
        .post(s.url("/api/v1/cek"))
        .json(&json!({"text": offer}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let check: Value = res.json().await.unwrap();
    assert!(
        check["verify"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["where"].as_str().unwrap().contains("bp2mi")),
        "{check}"
    );
    let page = s
        .http
        .post(s.url("/cek"))
        .form(&[(
            "text",
            format!("Jual pil koplo <script>alert(1)</script> {}", s.tag),
        )])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("<script>alert(1)</script>"),
        "pasted text is escaped"
    );
    assert!(page.contains("cekbpom"));
    let stored = s.store.list_reports(None).await.unwrap();
    assert!(
        !stored.iter().any(|r| r.text.contains(&s.tag)),
        "checked offers are not stored"
    );

    // Operators record reports from other channels, with the channel.
    let (_, op) = s
        .user("operator", Role::Investigator, AgencyKind::Bpom)
        .await;
    let res = s
        .post(
            &op,
            "/api/v1/reports/intake",
            json!({"channel": "whatsapp", "text": "Laporan via WA: jual pil koplo"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let code = res.json::<Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        s.store
            .get_report_by_code(&code)
            .await
            .unwrap()
            .unwrap()
            .channel,
        "whatsapp"
    );
    // ...and from the reports page.
    let marker = format!("laporan telepon {}", s.tag);
    let res = s
        .http
        .post(s.url("/laporan"))
        .bearer_auth(&op)
        .form(&[
            ("channel", "call_centre"),
            ("text", marker.as_str()),
            ("contact_phone", "0811222333"),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let entered = s
        .store
        .list_reports(None)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.text == marker)
        .expect("entered report stored");
    assert_eq!(entered.channel, "call_centre");
    assert!(entered.has_contact);
    assert!(entered.entered_by.as_deref().unwrap().starts_with("user:"));
    let res = s
        .http
        .post(s.url("/api/v1/reports/intake"))
        .json(&json!({"channel": "sms", "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Rate limit per address (20 an hour by default): the 21st report from here is refused.
    let mut statuses = Vec::new();
    for i in 0..25 {
        let res = s
            .http
            .post(s.url("/api/v1/reports"))
            .json(&json!({"text": format!("laporan ke-{i}")}))
            .send()
            .await
            .unwrap();
        statuses.push(res.status());
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count()
            <= 20
    );
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ------------------------------------------------------------------ concurrent captures

on_both!(
    concurrent_capture_story,
    concurrent_capture_sqlite,
    concurrent_capture_postgres
);
async fn concurrent_capture_story(db: Db) {
    let Some(s) = start(db).await else {
        return;
    };
    let (_, inv) = s
        .user("penyidik", Role::Investigator, AgencyKind::Bpom)
        .await;
    let p = s.seed("c1", "penjual", "Pil koplo ready, WA {phone}").await;
    let res = s
        .post(
            &inv,
            "/api/v1/cases",
            json!({"title": "Serentak", "category": "drugs", "post_ids": [p]}),
        )
        .await;
    let case_id = res.json::<Value>().await.unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    // Eight captures at once must queue into one unbroken chain, never fork it.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let http = s.http.clone();
        let url = s.url(&format!("/api/v1/cases/{case_id}/evidence"));
        let inv = inv.clone();
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(inv)
                .json(&json!({"note": format!("tangkapan {i}"), "attachments": [
                    {"name": format!("layar-{i}.txt"), "content_base64": base64_encode(format!("bukti {i}").as_bytes())}
                ]}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    let zip = s
        .get(&inv, &format!("/api/v1/cases/{case_id}/evidence.zip"))
        .await
        .bytes()
        .await
        .unwrap();
    let report = verify_package(&zip).expect("the chain verifies");
    assert_eq!(report.items, 8);
    let seqs: Vec<u64> = s.get_json(&inv, &format!("/api/v1/cases/{case_id}")).await["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<u64>>());
}

// ------------------------------------------------------------------ webhooks

impl Server {
    /// A second server over the same store whose workflow has `config` (webhooks); returns its
    /// base URL. Tokens of the first server work here too (they live in the store).
    async fn with_workflow(&self, config: patroli_server::workflow::WorkflowConfig) -> String {
        let config = ServerConfig::default()
            .with_login_attempts_per_minute(1000)
            .with_workflow(config);
        let state = AppState::new(self.store.clone(), Arc::new(Engine::builtin()), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(patroli_server::serve(listener, state));
        base
    }

    /// Requests a takedown of `post` through the server at `base`; returns its id.
    async fn takedown_via(&self, base: &str, token: &str, post: &str) -> String {
        let res = self
            .http
            .post(format!("{base}/api/v1/takedowns"))
            .bearer_auth(token)
            .json(&json!({"post_ids": [post], "legal_basis": "pp-71-2019"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()["takedown_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The request's `deliveries` once there are `n` of them (the delivery runs in the
    /// background); fails after five seconds.
    async fn deliveries(&self, base: &str, token: &str, takedown: &str, n: usize) -> Vec<Value> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let res = self
                .http
                .get(format!("{base}/api/v1/takedowns/{takedown}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let body: Value = res.json().await.unwrap();
            let d = body["deliveries"].as_array().expect("deliveries").clone();
            if d.len() >= n {
                return d;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "only {} of {n} deliveries logged: {body}",
                d.len()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// HMAC-SHA256 computed here from its definition (RFC 2104), independently of the server.
fn hmac_sha256_hex(key: &[u8], body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let inner = Sha256::new()
        .chain_update(block.map(|b| b ^ 0x36))
        .chain_update(body)
        .finalize();
    let mac = Sha256::new()
        .chain_update(block.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize();
    hex::encode(mac)
}

fn rfc3339(v: &Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        v.as_str().expect("a time"),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

/// What the test's platform receiver saw of one delivery.
struct Received {
    at: std::time::Instant,
    signature: Option<String>,
    body: String,
}

/// A platform's webhook receiver on 127.0.0.1 (axum): `503` to the first delivery, `200` to
/// the others; every request is handed to the test.
async fn flaky_receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<Received>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let seen = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/patroli/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let tx = tx.clone();
            let seen = seen.clone();
            async move {
                let _ = tx.send(Received {
                    at: std::time::Instant::now(),
                    signature: headers
                        .get("x-patroli-signature")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string),
                    body,
                });
                if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/patroli/hook",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

/// A platform's receiver fails the first delivery and accepts the second: the retry comes after
/// the configured backoff, both carry a valid HMAC-SHA256 signature of the body, and both
/// attempts are in the delivery log (API and page) with status and next retry.
async fn webhook_retries_then_delivers(db: Db) {
    use patroli_server::workflow::{WebhookRetry, WebhookTarget, WorkflowConfig};
    let Some(s) = start(db).await else {
        return;
    };
    let (_, inv) = s
        .user("penyidik", Role::Investigator, AgencyKind::Bpom)
        .await;
    let platform = s.platform_token(&s.name("toko")).await;
    let p = s.seed("w1", "penjual", "Pil koplo ready, WA {phone}").await;
    let (hook_url, mut received) = flaky_receiver().await;
    let backoff = std::time::Duration::from_millis(300);
    let config = WorkflowConfig::new(patroli_core::crypto::SealingKey::from_bytes([9; 32]))
        .with_webhook(
            &s.name("toko"),
            WebhookTarget {
                url: hook_url.clone(),
                secret: "rahasia-platform".into(),
            },
        )
        .with_private_webhooks(true)
        .with_webhook_retry(WebhookRetry {
            attempts: 4,
            first_backoff: backoff,
        });
    let base = s.with_workflow(config).await;
    let takedown = s.takedown_via(&base, &inv, &p).await;

    let wait = std::time::Duration::from_secs(5);
    let first = tokio::time::timeout(wait, received.recv())
        .await
        .unwrap()
        .unwrap();
    let second = tokio::time::timeout(wait, received.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        second.at - first.at >= backoff,
        "retried after {:?}, before the {backoff:?} backoff",
        second.at - first.at
    );
    assert_eq!(first.body, second.body, "a retry sends the same body");
    let payload: Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(payload["event"], "takedown.requested");
    assert_eq!(payload["takedown_id"], takedown.as_str());
    assert_eq!(payload["post_ids"], json!([p]));
    let expected = format!(
        "sha256={}",
        hmac_sha256_hex(b"rahasia-platform", first.body.as_bytes())
    );
    assert_eq!(first.signature.as_deref(), Some(expected.as_str()));
    assert_eq!(second.signature.as_deref(), Some(expected.as_str()));

    let log = s.deliveries(&base, &inv, &takedown, 2).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["attempt"], 1);
    assert_eq!(log[0]["status_code"], 503);
    assert_eq!(log[0]["error"], Value::Null);
    assert_eq!(log[0]["url"], hook_url.as_str());
    let retry_at = rfc3339(&log[0]["next_retry_at"]);
    assert_eq!(retry_at - rfc3339(&log[0]["at"]), backoff);
    assert_eq!(log[1]["attempt"], 2);
    assert_eq!(log[1]["status_code"], 200);
    assert_eq!(log[1]["next_retry_at"], Value::Null);
    assert!(rfc3339(&log[1]["at"]) >= retry_at);
    // The platform sees the log of its own request too.
    let own = s.deliveries(&base, &platform, &takedown, 2).await;
    assert_eq!(own.len(), 2);
    // Nothing after the success.
    assert!(received.try_recv().is_err());

    let page = s.get(&inv, &format!("/takedown/{takedown}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Log pengiriman webhook"), "{html}");
    assert!(html.contains(r#"<tr data-attempt="1">"#), "{html}");
    assert!(
        html.contains(r#"<tr class="delivered" data-attempt="2">"#),
        "{html}"
    );
    assert!(html.contains("<td>503</td>") && html.contains("<td>200</td>"));
    assert!(html.contains("(terkirim)"));
    let en = s
        .get(&inv, &format!("/takedown/{takedown}?lang=en"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        en.contains("Webhook delivery log") && en.contains("(delivered)"),
        "{en}"
    );
    // The list links to the detail page.
    let list = s.get(&inv, "/takedown").await.text().await.unwrap();
    assert!(list.contains(&format!(r#"href="/takedown/{takedown}""#)));
}
on_both!(
    webhook_retries_then_delivers,
    webhook_retries_then_delivers_sqlite,
    webhook_retries_then_delivers_postgres
);

/// Without the explicit allowance (off by default) a webhook whose host resolves to an internal
/// address gets no connection: one logged attempt says why, and it is not retried. The page shows
/// the logged URL escaped.
async fn webhook_to_internal_address_is_refused(db: Db) {
    use patroli_server::workflow::{WebhookTarget, WorkflowConfig};
    let Some(s) = start(db).await else {
        return;
    };
    let (_, inv) = s
        .user("penyidik", Role::Investigator, AgencyKind::Bpom)
        .await;
    let p = s.seed("w2", "penjual", "Pil koplo ready, WA {phone}").await;
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = hook.local_addr().unwrap().port();
    let config = WorkflowConfig::new(patroli_core::crypto::SealingKey::from_bytes([9; 32]))
        .with_webhook(
            &s.name("toko"),
            WebhookTarget {
                // `localhost` is resolved and checked like any host name.
                url: format!("http://localhost:{port}/hook/<i>x</i>"),
                secret: "rahasia-platform".into(),
            },
        );
    assert!(!config.allow_private_webhooks, "off unless asked for");
    let base = s.with_workflow(config).await;
    let takedown = s.takedown_via(&base, &inv, &p).await;

    let log = s.deliveries(&base, &inv, &takedown, 1).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["attempt"], 1);
    assert_eq!(log[0]["status_code"], Value::Null);
    assert_eq!(log[0]["next_retry_at"], Value::Null, "a refusal is final");
    let error = log[0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("refused: ") && error.ends_with("is an internal address"),
        "{error}"
    );
    let connected =
        tokio::time::timeout(std::time::Duration::from_millis(300), hook.accept()).await;
    assert!(connected.is_err(), "the internal address was connected to");

    let html = s
        .get(&inv, &format!("/takedown/{takedown}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("refused: "), "{html}");
    assert!(html.contains("(tidak dicoba lagi)"));
    assert!(html.contains("/hook/&lt;i&gt;x&lt;/i&gt;"), "{html}");
    assert!(!html.contains("<i>x</i>"));
}
on_both!(
    webhook_to_internal_address_is_refused,
    webhook_to_internal_address_is_refused_sqlite,
    webhook_to_internal_address_is_refused_postgres
);

// ------------------------------------------------------------------ referral

/// A case referred over the API: a reason is required, not to the agency leading it; the
/// receiving agency leads and sees it, the referring one keeps seeing it; a referred case can
/// only be closed, and the outcome `referral` is then accepted.
async fn referral_story(db: Db) {
    let Some(s) = start(db).await else {
        return;
    };
    let (_, bpom) = s
        .user("penyidik", Role::Investigator, AgencyKind::Bpom)
        .await;
    let (_, bnn) = s.user("bnn", Role::Investigator, AgencyKind::Bnn).await;
    let bnn_agency = s
        .store
        .ensure_agency(AgencyKind::Bnn, AgencyKind::Bnn.as_str())
        .await
        .unwrap();
    let p = s.seed("r1", "penjual", TEXT).await;
    let res = s
        .post(
            &bpom,
            "/api/v1/cases",
            json!({"title": "Pil koplo", "category": "drugs", "post_ids": [p]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let case_id = res.json::<Value>().await.unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    let case = format!("/api/v1/cases/{case_id}");
    let actions = format!("{case}/actions");
    assert_eq!(s.get(&bnn, &case).await.status(), StatusCode::NOT_FOUND);
    let lead = s.get_json(&bpom, &case).await["state"]["lead_agency"].clone();

    let res = s
        .post(
            &bpom,
            &actions,
            json!({"action": "refer", "to_agency": bnn_agency.name, "reason": " "}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "a referral needs a reason"
    );
    let res = s
        .post(
            &bpom,
            &actions,
            json!({"action": "refer", "to_agency": lead, "reason": "x"}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "not to the leading agency"
    );
    assert_eq!(s.get(&bnn, &case).await.status(), StatusCode::NOT_FOUND);

    let res = s
        .post(
            &bpom,
            &actions,
            json!({"action": "refer", "to_agency": bnn_agency.name, "reason": "jaringan narkotika"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let detail = s.get_json(&bnn, &case).await;
    assert_eq!(detail["status"], "referred");
    assert_eq!(detail["state"]["lead_agency"], bnn_agency.id.to_string());
    let referral = &detail["state"]["referrals"][0];
    assert_eq!(referral["from_agency"], lead);
    assert_eq!(referral["reason"], "jaringan narkotika");
    assert_eq!(detail["allowed_actions"], json!(["close"]));
    assert_eq!(s.get(&bpom, &case).await.status(), StatusCode::OK);
    assert!(
        detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "status" && e["detail"]["action"] == "refer"),
        "{}",
        detail["timeline"]
    );

    let res = s
        .post(&bnn, &actions, json!({"action": "start_investigation"}))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = s
        .post(
            &bnn,
            &actions,
            json!({"action": "close", "outcome": "referral"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(s.get_json(&bpom, &case).await["status"], "closed");
    let audit = s
        .store
        .list_audit(&patroli_store::AuditFilter {
            target: Some(format!("case:{case_id}")),
            action: Some("case.status".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        audit.iter().any(|e| e.detail["action"] == "refer"),
        "{audit:?}"
    );
}
on_both!(referral_story, referral_sqlite, referral_postgres);

// ------------------------------------------------------------------ overdue takedowns

/// A request past its deadline and unanswered is overdue in the API, on both takedown pages and
/// in the platform's statistics.
async fn overdue_story(db: Db) {
    let Some(s) = start(db).await else {
        return;
    };
    let (_, inv) = s
        .user("penyidik", Role::Investigator, AgencyKind::Bpom)
        .await;
    let platform = s.platform_token(&s.name("toko")).await;
    let p = s.seed("o1", "penjual", TEXT).await;
    let pl = s
        .store
        .get_platform_by_name(&s.name("toko"))
        .await
        .unwrap()
        .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let t = s
        .store
        .create_takedown(patroli_store::NewTakedown {
            platform_id: pl.id,
            case_id: None,
            account_id: None,
            agency_id: None,
            requested_by: "user:test".into(),
            legal_basis: "PP 71/2019".into(),
            urgency: patroli_core::workflow::Urgency::Normal,
            category: None,
            requested_at: now - time::Duration::hours(30),
            due_at: now - time::Duration::hours(6),
            posts: vec![p.parse().unwrap()],
            marks: vec![],
        })
        .await
        .unwrap();
    let api = s
        .get_json(&platform, &format!("/api/v1/takedowns/{}", t.id))
        .await;
    assert_eq!(api["overdue"], true);
    assert!(api["seconds_left"].as_i64().unwrap() <= -6 * 3600 + 5);
    let pending = s
        .get_json(&platform, "/api/v1/takedowns?status=pending")
        .await;
    assert_eq!(pending["items"][0]["overdue"], true);

    let list = s.get(&inv, "/takedown").await.text().await.unwrap();
    let row = list
        .split("<tr")
        .find(|r| r.contains(&format!("/takedown/{}", t.id)))
        .expect("listed");
    assert!(row.starts_with(r#" class="overdue""#), "{row}");
    assert!(row.contains("TERLAMBAT") && row.contains("-6 jam"), "{row}");
    // The live countdown in static/app.js starts from the request's due time, in RFC 3339.
    let data_due = |html: &str| -> String {
        let marker = r#"class="countdown" data-due=""#;
        let at = html.find(marker).expect("countdown") + marker.len();
        html[at..at + html[at..].find('"').unwrap()].to_string()
    };
    let due = data_due(row);
    assert_eq!(due, api["due_at"].as_str().unwrap(), "{row}");
    let parsed =
        time::OffsetDateTime::parse(&due, &time::format_description::well_known::Rfc3339).unwrap();
    assert!((parsed - (now - time::Duration::hours(6))).abs() < time::Duration::seconds(1));
    assert!(row.contains(r#"data-overdue-label="TERLAMBAT""#), "{row}");
    let page = s
        .get(&inv, &format!("/takedown/{}?lang=en", t.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("OVERDUE") && page.contains("No webhook deliveries"),
        "{page}"
    );
    assert_eq!(data_due(&page), due);
    assert!(page.contains(r#"data-overdue-label="OVERDUE""#), "{page}");

    // Another platform cannot read it, nor count it.
    let other = s.platform_token(&s.name("pasar")).await;
    let res = s.get(&other, &format!("/api/v1/takedowns/{}", t.id)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let theirs = s.get_json(&other, "/api/v1/takedowns/stats").await;
    assert!(!theirs.to_string().contains(&s.name("toko")), "{theirs}");

    let stats = s.get_json(&platform, "/api/v1/takedowns/stats").await;
    assert_eq!(
        stats["platforms"].as_array().unwrap().len(),
        1,
        "own platform only"
    );
    let row = &stats["platforms"][0];
    assert_eq!(row["overdue"], 1);
    assert_eq!(row["compliance_rate"], json!(0.0));
}
on_both!(overdue_story, overdue_sqlite, overdue_postgres);

// ------------------------------------------------------------------ tracking-code lookups

/// Public status lookups are limited per address (API and page share the count), so the codes'
/// random bits cannot be walked through.
#[tokio::test]
async fn tracking_code_lookups_are_rate_limited() {
    use patroli_server::workflow::WorkflowConfig;
    let Some(s) = start(Db::Sqlite).await else {
        return;
    };
    let config = WorkflowConfig::new(patroli_core::crypto::SealingKey::from_bytes([9; 32]))
        .with_status_lookups_per_hour(3);
    let base = s.with_workflow(config).await;
    let res = s
        .http
        .post(format!("{base}/api/v1/reports"))
        .json(&json!({"text": "ada yang jual pil koplo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let code = res.json::<Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    let api = format!("{base}/api/v1/reports/{code}");
    let page = format!("{base}/lapor/status?code={code}");
    for url in [&api, &page, &api] {
        let res = s.http.get(url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{url}");
    }
    let res = s.http.get(&api).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "rate_limited"
    );
    let res = s.http.get(&page).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // The empty form is not a lookup.
    let res = s
        .http
        .get(format!("{base}/lapor/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

// ------------------------------------------------------------------ public pages, logged in

/// A logged-in user (session cookie) on `/cek`: the result page's forms carry the session's
/// CSRF token, so checking again and reporting the offer are not refused by the CSRF guard.
#[tokio::test]
async fn offer_check_works_with_a_session_cookie() {
    let Some(s) = start(Db::Sqlite).await else {
        return;
    };
    let username = s.name("analis");
    s.user("analis", Role::Analyst, AgencyKind::Bpom).await;
    let res = s
        .http
        .post(s.url("/api/v1/login"))
        .json(&json!({"username": username, "password": "kata-sandi-rahasia"}))
        .send()
        .await
        .unwrap();
    let cookie_of = |res: &reqwest::Response, name: &str| {
        res.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .and_then(|c| c.split(';').next())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no {name} cookie"))
    };
    let session = cookie_of(&res, "patroli_session");
    let csrf = res.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let offer = format!("Jual pil koplo murah, COD {}", s.tag);
    let res = s
        .http
        .post(s.url("/cek"))
        .header("cookie", &session)
        .form(&[("_csrf", csrf.as_str()), ("text", offer.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let lapor = cookie_of(&res, "patroli_lapor");
    let page = res.text().await.unwrap();
    let field = format!(r#"name="_csrf" value="{csrf}""#);
    assert_eq!(page.matches(&field).count(), 2, "both forms: {page}");
    let token = lapor.trim_start_matches("patroli_lapor=").to_string();
    // The page's "report it" form, as the browser would send it.
    let res = s
        .http
        .post(s.url("/lapor"))
        .header("cookie", format!("{session}; {lapor}"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("_lapor", token.as_str()),
            ("text", offer.as_str()),
            ("anonymous", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("id=\"tracking-code\""));
}

// ------------------------------------------------------------------ no fetching

/// Links in reports and pasted offers are stored and compared, never fetched: a listener named
/// by them gets no connection.
#[tokio::test]
async fn reported_links_are_never_fetched() {
    let Some(s) = start(Db::Sqlite).await else {
        return;
    };
    let (_, analyst) = s.user("analis", Role::Analyst, AgencyKind::Bpom).await;
    let target = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let link = format!(
        "http://127.0.0.1:{}/toko/pil",
        target.local_addr().unwrap().port()
    );
    let res = s
        .http
        .post(s.url("/api/v1/reports"))
        .json(&json!({"link": link, "text": "jual pil koplo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = s
        .http
        .post(s.url("/api/v1/cek"))
        .json(&json!({"text": format!("Lowongan kerja, daftar di {link}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let list = s.get_json(&analyst, "/api/v1/reports").await;
    assert!(
        list.to_string().contains(&link),
        "the link is stored as given"
    );
    let connected =
        tokio::time::timeout(std::time::Duration::from_millis(300), target.accept()).await;
    assert!(connected.is_err(), "a reported link was fetched");
}

// ------------------------------------------------------------------ units

/// A case of one unit is invisible to another unit of the same agency: 404 on the detail, and
/// not in its case list either; the agency-level user and the creator's unit see it.
#[tokio::test]
async fn another_unit_of_the_agency_does_not_list_the_case() {
    let Some(s) = start(Db::Sqlite).await else {
        return;
    };
    let bpom = s
        .store
        .ensure_agency(AgencyKind::Bpom, "BPOM")
        .await
        .unwrap();
    let tarakan = s
        .store
        .create_unit(bpom.id, &s.name("Loka POM Tarakan"), None)
        .await
        .unwrap();
    let surabaya = s
        .store
        .create_unit(bpom.id, &s.name("BBPOM Surabaya"), None)
        .await
        .unwrap();
    let (_, a) = s
        .user_in(
            "penyidik-a",
            Role::Investigator,
            AgencyKind::Bpom,
            Some(tarakan.id),
        )
        .await;
    let (_, b) = s
        .user_in(
            "penyidik-b",
            Role::Investigator,
            AgencyKind::Bpom,
            Some(surabaya.id),
        )
        .await;
    let (_, national) = s.user("pusat", Role::Viewer, AgencyKind::Bpom).await;
    let res = s
        .post(
            &a,
            "/api/v1/cases",
            json!({"title": "Kasus Tarakan", "category": "drugs"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let case_id = res.json::<Value>().await.unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = |list: &Value| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["case_id"] == case_id.as_str())
    };
    assert!(listed(&s.get_json(&a, "/api/v1/cases").await));
    assert!(listed(&s.get_json(&national, "/api/v1/cases").await));
    let other = s.get_json(&b, "/api/v1/cases").await;
    assert!(!listed(&other), "{other}");
    assert!(!other.to_string().contains("Kasus Tarakan"));
    let res = s.get(&b, &format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

// ------------------------------------------------------------------ re-upload marks

/// After a takedown, a new post of the same account, and one of another account naming the same
/// phone number, are recorded as re-uploads (matched on `account` and `contact`).
async fn reupload_marks_story(db: Db) {
    let Some(s) = start(db).await else {
        return;
    };
    let (_, inv) = s
        .user("penyidik", Role::Investigator, AgencyKind::Bpom)
        .await;
    let platform = s.platform_token(&s.name("toko")).await;
    let p = s.seed("u1", "penjual", TEXT).await;
    let res = s
        .post(
            &inv,
            "/api/v1/takedowns",
            json!({"post_ids": [p], "legal_basis": "pp-71-2019"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let takedown = res.json::<Value>().await.unwrap()["takedown_id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = s
        .post(
            &platform,
            &format!("/api/v1/takedowns/{takedown}/response"),
            json!({"status": "taken_down", "reason": "dihapus"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = s
        .post(
            &platform,
            "/api/v1/posts",
            json!([
                {"id": s.name("u-akun"), "text": "Barang baru datang, tanya stok", "account": s.name("penjual")},
                {"id": s.name("u-nomor"), "text": s.text("Info lengkap hubungi WA {phone} ya kak"), "account": s.name("akun-lain")},
            ]),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for (id, kind) in [("u-akun", "account"), ("u-nomor", "contact")] {
        let post = s
            .store
            .get_post_by_external_id(&s.name("toko"), &s.name(id))
            .await
            .unwrap()
            .expect("stored");
        let re = s.store.reupload_of_post(post.id).await.unwrap();
        assert!(
            re.iter().any(|r| r.matched_on == kind
                && r.earlier_post_id.to_string() == p
                && r.takedown_id.to_string() == takedown),
            "{id}: {re:?}"
        );
    }
}
on_both!(
    reupload_marks_story,
    reupload_marks_sqlite,
    reupload_marks_postgres
);

// ------------------------------------------------------------------ small refusals

/// The public route files `web` reports only, and a refused look at a reporter's contact is
/// audited like an allowed one.
#[tokio::test]
async fn public_channel_and_refused_contact_views() {
    let Some(s) = start(Db::Sqlite).await else {
        return;
    };
    let (_, inv) = s
        .user("penyidik", Role::Investigator, AgencyKind::Bpom)
        .await;
    let res = s
        .http
        .post(s.url("/api/v1/reports"))
        .json(&json!({"text": "jual pil koplo", "channel": "whatsapp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = s
        .http
        .post(s.url("/api/v1/reports"))
        .json(&json!({"text": "jual pil koplo", "contact": {"name": "Budi"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let code = res.json::<Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    let report = s.store.get_report_by_code(&code).await.unwrap().unwrap();
    assert_eq!(report.channel, "web");
    let res = s
        .get(&inv, &format!("/api/v1/reports/{code}/contact"))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!res.text().await.unwrap().contains("Budi"));
    let denied = s
        .store
        .list_audit(&patroli_store::AuditFilter {
            action: Some("report.contact_denied".into()),
            target: Some(format!("report:{}", report.id)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert!(!denied[0].detail.to_string().contains("Budi"));
}

// ------------------------------------------------------------------ report-to-report dedup

/// A report sharing a link or an extracted contact (of the reported party) with an earlier
/// report names that report for staff; the public answers stay as they were, and nothing about
/// the other reporter is shown. The reporter's own contact never ties reports together.
async fn report_dedup_story(db: Db) {
    let Some(s) = start(db).await else {
        return;
    };
    let (_, analyst) = s.user("analis", Role::Analyst, AgencyKind::Bpom).await;
    let (_, op) = s
        .user("operator", Role::Investigator, AgencyKind::Bpom)
        .await;
    let public = |body: Value| {
        let s = &s;
        async move {
            let res = s
                .http
                .post(s.url("/api/v1/reports"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
            let body: Value = res.json().await.unwrap();
            assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
            body["tracking_code"].as_str().unwrap().to_string()
        }
    };
    let link = format!("https://toko.example/p/{}", s.name("obat"));
    let a = public(json!({
        "link": link,
        "text": "Jual obat keras tanpa resep",
        "contact": {"name": "Siti Pelapor", "phone": "0811000111"},
    }))
    .await;
    let b = public(json!({"link": format!("  {link} "), "text": "Toko ini lagi"})).await;
    // The same shop, another page: a shared domain is not a shared link.
    let f =
        public(json!({"link": format!("https://toko.example/p/{}", s.name("lain")), "text": "x"}))
            .await;
    // The operator's entry names the seller's phone in the text; a citizen later gives it as the
    // reported phone, written differently.
    let res = s
        .post(
            &op,
            "/api/v1/reports/intake",
            json!({"channel": "whatsapp", "text": s.text("Penjual pil koplo, WA {phone}")}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let c = res.json::<Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    let d = public(json!({"text": "Dia jual pil", "phone_or_account": s.phone()})).await;
    // A reporter whose own phone is the seller's number: the sealed contact is never compared.
    let e = public(json!({
        "text": "Ada penjual di pasar",
        "contact": {"name": "Budi", "phone": s.phone_local},
    }))
    .await;

    let list = s.get_json(&analyst, "/api/v1/reports").await;
    let item = |code: &str| -> Value {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tracking_code"] == code)
            .unwrap_or_else(|| panic!("{code} listed"))
            .clone()
    };
    let (ia, ib, ic, id) = (item(&a), item(&b), item(&c), item(&d));
    assert_eq!(ia["duplicate_of_report"], Value::Null, "{ia}");
    assert_eq!(ib["duplicate_of_report"], ia["report_id"], "{ib}");
    assert_eq!(ic["duplicate_of_report"], Value::Null, "{ic}");
    assert_eq!(id["duplicate_of_report"], ic["report_id"], "{id}");
    assert_eq!(item(&e)["duplicate_of_report"], Value::Null);
    assert_eq!(item(&f)["duplicate_of_report"], Value::Null);
    let stored = s.store.get_report_by_code(&b).await.unwrap().unwrap();
    assert_eq!(
        stored.duplicate_of_report.map(|r| r.to_string()).as_deref(),
        ia["report_id"].as_str()
    );
    assert!(!ib.to_string().contains("Siti"), "{ib}");

    // The public lookup still answers the status only.
    assert_eq!(s.public_status(&b).await, json!({"status": "received"}));

    // /laporan names the earlier report by its code, and nothing of its reporter.
    let page = s
        .get(&analyst, "/laporan?lang=en")
        .await
        .text()
        .await
        .unwrap();
    let row = page
        .split("<tr")
        .find(|r| r.contains(&format!(r#"data-code="{b}""#)))
        .expect("row of b");
    assert!(
        row.contains(&format!("Same as earlier report {a}")),
        "{row}"
    );
    assert!(
        !row.contains("Siti") && !row.contains("0811000111"),
        "{row}"
    );
    let row_f = page
        .split("<tr")
        .find(|r| r.contains(&format!(r#"data-code="{f}""#)))
        .expect("row of f");
    assert!(!row_f.contains("duplicate-report"), "{row_f}");
}
on_both!(
    report_dedup_story,
    report_dedup_sqlite,
    report_dedup_postgres
);
