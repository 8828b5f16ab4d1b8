//! The server's story over real HTTP: a server bound to port 0 on a temp-dir SQLite store, and the
//! same story on PostgreSQL when `PATROLI_TEST_POSTGRES_URL` is set (required under `CI=true`).
//!
//! Flagged findings are seeded straight into the store with hand-made screenings, so these tests
//! exercise the server's rules (roles, scopes, CSRF, escaping) whatever the lexicon says.

use patroli_core::{Category, Role, Severity};
use patroli_detect::{Engine, Field, Reason, ReasonKind, Screening};
use patroli_server::{AppState, ServerConfig};
use patroli_store::{IngestPost, ScreenedPost, Store};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(1)>";

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
    _dir: tempfile::TempDir,
}

/// `None` when the backend is not available here (PostgreSQL without its variable, outside CI).
async fn start(db: Db, config: ServerConfig) -> Option<Server> {
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
    let state = AppState::new(store.clone(), Arc::new(Engine::builtin()), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(patroli_server::serve(listener, state));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    Some(Server {
        base: format!("http://{addr}"),
        store,
        http,
        tag,
        _dir: dir,
    })
}

fn roomy() -> ServerConfig {
    // Every test logs in several times from 127.0.0.1; only the rate-limit test keeps the default.
    ServerConfig::default().with_login_attempts_per_minute(1000)
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn name(&self, base: &str) -> String {
        format!("{base}-{}", self.tag)
    }

    async fn add_user(&self, name: &str, role: Role, region: Option<&str>) -> String {
        let username = self.name(name);
        self.store
            .create_user(patroli_store::NewUser {
                username: username.clone(),
                display_name: None,
                password_hash: patroli_server::hash_password("kata-sandi-rahasia"),
                role,
                agency: patroli_core::AgencyKind::Bpom,
                agency_id: None,
                unit_id: None,
                region_code: region.map(str::to_string),
            })
            .await
            .unwrap();
        username
    }

    async fn login(&self, username: &str) -> Session {
        let res = self
            .http
            .post(self.url("/api/v1/login"))
            .json(&json!({"username": username, "password": "kata-sandi-rahasia"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = session_cookie(res.headers()).expect("session cookie");
        let body: Value = res.json().await.unwrap();
        Session {
            token: body["token"].as_str().unwrap().to_string(),
            csrf: body["csrf_token"].as_str().unwrap().to_string(),
            cookie,
        }
    }

    async fn platform_token(&self, platform: &str) -> String {
        let (plain, hash) = patroli_server::new_api_token();
        let p = self.store.ensure_platform(platform).await.unwrap();
        self.store
            .create_api_token(patroli_store::NewApiToken {
                token_hash: hash,
                name: format!("{platform} crawler"),
                role: Role::Platform,
                platform_id: Some(p.id),
                user_id: None,
                created_by: None,
            })
            .await
            .unwrap();
        plain
    }

    /// Store a flagged post directly, with a screening whose spans cover `marked` in `text`.
    async fn seed_flagged(
        &self,
        id: &str,
        text: &str,
        marked: &str,
        region: Option<&str>,
    ) -> String {
        let start = text.find(marked).expect("marked text is in the text");
        let reason = Reason {
            rule: "test.term".into(),
            kind: ReasonKind::Term,
            category: Some(Category::Drugs),
            field: Field::Text,
            start,
            end: start + marked.len(),
            matched: marked.into(),
            weight: 0.9,
            note: "istilah uji".into(),
        };
        let screening = Screening {
            flagged: true,
            score: 0.9,
            categories: vec![Category::Drugs],
            scores: BTreeMap::from([(Category::Drugs, 0.9)]),
            severity: Severity::High,
            reasons: vec![reason],
            entities: vec![],
            lexicon_version: "test".into(),
        };
        let out = self
            .store
            .ingest_batch(
                &self.name("seedshop"),
                vec![ScreenedPost {
                    post: IngestPost {
                        external_id: self.name(id),
                        account_handle: Some(self.name("seller")),
                        text: text.into(),
                        region_code: region.map(str::to_string),
                        location: region.map(|_| "Tarakan".to_string()),
                        ..Default::default()
                    },
                    screening,
                }],
            )
            .await
            .unwrap();
        out[0].post_id.to_string()
    }
}

struct Session {
    token: String,
    csrf: String,
    cookie: String,
}

fn session_cookie(h: &HeaderMap) -> Option<String> {
    h.get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("patroli_session="))
        .map(str::to_string)
}

fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

async fn error_code(res: reqwest::Response) -> String {
    let body: Value = res.json().await.expect("error body is JSON");
    assert!(body["error"]["message"].is_string(), "{body}");
    body["error"]["code"].as_str().unwrap().to_string()
}

/// Run a story on SQLite and, when configured, PostgreSQL.
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

// ------------------------------------------------------------------ stories

on_both!(login_story, login_sqlite, login_postgres);
async fn login_story(db: Db) {
    let Some(s) = start(db, roomy()).await else {
        return;
    };
    let user = s.add_user("ana", Role::Analyst, None).await;

    let res = s
        .http
        .post(s.url("/api/v1/login"))
        .json(&json!({"username": user, "password": "salah"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(res).await, "invalid_credentials");

    let res = s
        .http
        .post(s.url("/api/v1/login"))
        .json(&json!({"username": user, "password": "kata-sandi-rahasia"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = session_cookie(res.headers()).unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing from {cookie}");
    }
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert!(body["user"].get("password_hash").is_none());

    // The token works as a bearer token, and so does the cookie.
    let me: Value = s
        .http
        .get(s.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], user.as_str());
    assert_eq!(me["role"], "analyst");
    let res = s
        .http
        .get(s.url("/api/v1/me"))
        .header("cookie", cookie_pair(&cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Unauthenticated and bogus credentials are 401 with the error shape.
    let res = s.http.get(s.url("/api/v1/findings")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(res).await, "unauthenticated");
    let res = s
        .http
        .get(s.url("/api/v1/findings"))
        .bearer_auth("pts_forged")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Both attempts are in the audit chain, and the chain verifies.
    let entries = s
        .store
        .list_audit(&patroli_store::AuditFilter::default())
        .await
        .unwrap();
    let mine = |action: &str| {
        entries
            .iter()
            .any(|e| e.action == action && e.detail["username"] == user.as_str())
    };
    assert!(mine("login.failure"), "{entries:?}");
    assert!(mine("login.success"), "{entries:?}");
    assert!(s.store.verify_audit().await.unwrap().is_ok());

    // Log-out ends the session.
    let res = s
        .http
        .post(s.url("/api/v1/logout"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = s
        .http
        .get(s.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

on_both!(ingest_story, ingest_sqlite, ingest_postgres);
async fn ingest_story(db: Db) {
    let Some(s) = start(db, roomy()).await else {
        return;
    };
    let platform = s.name("tokoku");
    let token = s.platform_token(&platform).await;
    let batch = json!([
        {"id": "p-1", "text": "Jual kaos polos murah", "title": "Kaos", "account": "toko_baju",
         "price": 35000, "location": "kota tarakan", "posted_at": "2026-11-20T10:00:00Z"},
        {"id": "p-2", "account": {"handle": "apotek_x", "name": "Apotek X"}},
        {"id": 3, "text": "Obat flu, wajib resep dokter"},
        {"id": "p-4", "text": "lain platform", "platform": "bukan-punyaku"},
        "not an object"
    ]);
    let res = s
        .http
        .post(s.url("/api/v1/posts"))
        .bearer_auth(&token)
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let out: Vec<Value> = res.json().await.unwrap();
    assert_eq!(out.len(), 5, "{out:?}");
    assert_eq!(out[0]["status"], "created");
    assert!(out[0]["flagged"].is_boolean() && out[0]["categories"].is_array());
    assert_eq!(out[1]["index"], 1);
    assert!(
        out[1]["error"].as_str().unwrap().contains("text"),
        "{out:?}"
    );
    assert_eq!(out[2]["status"], "created");
    assert!(
        out[3]["error"].as_str().unwrap().contains("platform"),
        "{out:?}"
    );
    assert!(out[4]["error"].is_string());
    let first_id = out[0]["post_id"].as_str().unwrap().to_string();

    // Same content again: same post, nothing new.
    let again: Vec<Value> = s
        .http
        .post(s.url("/api/v1/posts"))
        .bearer_auth(&token)
        .json(&json!([batch[0]]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again[0]["post_id"], first_id.as_str());
    assert_eq!(again[0]["status"], "unchanged");

    // Changed text: a new version of the same post.
    let mut changed = batch[0].clone();
    changed["text"] = json!("Jual kaos polos murah, stok baru");
    let v2: Vec<Value> = s
        .http
        .post(s.url("/api/v1/posts"))
        .bearer_auth(&token)
        .json(&json!([changed]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v2[0]["post_id"], first_id.as_str());
    assert_eq!(v2[0]["status"], "new_version");

    let detail = s
        .store
        .post_detail(first_id.parse().unwrap(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.versions.len(), 2);
    assert_eq!(detail.post.text, "Jual kaos polos murah, stok baru");
    assert_eq!(detail.post.platform, platform);
    // "kota tarakan" resolves to Kota Tarakan, Kalimantan Utara.
    assert_eq!(detail.post.region_code.as_deref(), Some("65.71"));
    assert_eq!(detail.post.location.as_deref(), Some("kota tarakan"));

    // A batch of 1,000 fits in one request.
    // Long captions (about 2 MB in all) pass the ingest body limit, which is larger than the
    // 1 MiB of other endpoints.
    let filler = "kaos katun adem nyaman dipakai ".repeat(60);
    let big: Vec<Value> = (0..1000)
        .map(|i| json!({"id": format!("bulk-{i}"), "text": format!("produk nomor {i}: {filler}")}))
        .collect();
    assert!(serde_json::to_vec(&big).unwrap().len() > 1_500_000);
    let res = s
        .http
        .post(s.url("/api/v1/posts"))
        .bearer_auth(&token)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let out: Vec<Value> = res.json().await.unwrap();
    assert_eq!(out.len(), 1000);
    assert!(out.iter().all(|r| r["status"] == "created"));

    // Not an array, and not JSON at all.
    let res = s
        .http
        .post(s.url("/api/v1/posts"))
        .bearer_auth(&token)
        .json(&json!({"id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "invalid_json");
    let res = s
        .http
        .post(s.url("/api/v1/posts"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("[{")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Counters moved.
    let metrics = s
        .http
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("patroli_posts_ingested_total 1004"),
        "{metrics}"
    );
    assert!(
        metrics.contains("patroli_posts_rejected_total 3"),
        "{metrics}"
    );
}

on_both!(roles_story, roles_sqlite, roles_postgres);
async fn roles_story(db: Db) {
    let Some(s) = start(db, roomy()).await else {
        return;
    };
    let token = s.platform_token(&s.name("pasar")).await;
    let kaltara = s
        .seed_flagged(
            "kaltara",
            "jual pil koplo murah",
            "pil koplo",
            Some("65.71"),
        )
        .await;
    let jakarta = s
        .seed_flagged(
            "jakarta",
            "jual tramadol tanpa resep",
            "tramadol",
            Some("31.71"),
        )
        .await;

    // A platform token may ingest but never read the queue or a post.
    let res = s
        .http
        .get(s.url("/api/v1/findings?status=pending"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(res).await, "forbidden");
    let res = s
        .http
        .get(s.url(&format!("/api/v1/posts/{kaltara}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // An analyst scoped to Kalimantan Utara (65) sees Tarakan, and Jakarta is 404 like an unknown post.
    let regional = s.add_user("loka-tarakan", Role::Analyst, Some("65")).await;
    let r = s.login(&regional).await;
    let res = s
        .http
        .get(s.url(&format!("/api/v1/posts/{kaltara}")))
        .bearer_auth(&r.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = s
        .http
        .get(s.url(&format!("/api/v1/posts/{jakarta}")))
        .bearer_auth(&r.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let out_of_scope = res.text().await.unwrap();
    let res = s
        .http
        .get(s.url(&format!("/api/v1/posts/{}", patroli_core::PostId::new())))
        .bearer_auth(&r.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.text().await.unwrap(),
        out_of_scope,
        "out of scope must look exactly like unknown"
    );
    // Nor can it decide on it.
    let res = s
        .http
        .post(s.url(&format!("/api/v1/posts/{jakarta}/verdict")))
        .bearer_auth(&r.token)
        .json(&json!({"verdict": "confirmed", "reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let list: Value = s
        .http
        .get(s.url(&format!("/api/v1/findings?platform={}", s.name("seedshop"))))
        .bearer_auth(&r.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["post_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![kaltara.as_str()]);
    // A region filter cannot widen the scope.
    let list: Value = s
        .http
        .get(s.url(&format!(
            "/api/v1/findings?region=31&platform={}",
            s.name("seedshop")
        )))
        .bearer_auth(&r.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);

    // A national analyst sees both; a bad filter is a 400 naming the parameter.
    let national = s.add_user("pusat", Role::Analyst, None).await;
    let n = s.login(&national).await;
    let list: Value = s
        .http
        .get(s.url(&format!(
            "/api/v1/findings?status=pending&category=drugs&platform={}",
            s.name("seedshop")
        )))
        .bearer_auth(&n.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2, "{list}");
    let res = s
        .http
        .get(s.url("/api/v1/findings?category=narkoba"))
        .bearer_auth(&n.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "invalid_parameter");

    // Admin endpoints are admin-only.
    let res = s
        .http
        .get(s.url("/api/v1/users"))
        .bearer_auth(&n.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

on_both!(verdict_story, verdict_sqlite, verdict_postgres);
async fn verdict_story(db: Db) {
    let Some(s) = start(db, roomy()).await else {
        return;
    };
    let post = s
        .seed_flagged("v", "ready sabu pahe, COD", "sabu", None)
        .await;
    let other = s.seed_flagged("w", "inex happy five", "inex", None).await;
    let analyst = s.add_user("analis", Role::Analyst, None).await;
    let viewer = s.add_user("pemantau", Role::Viewer, None).await;
    let a = s.login(&analyst).await;
    let v = s.login(&viewer).await;

    let verdict_url = s.url(&format!("/api/v1/posts/{post}/verdict"));
    let res = s
        .http
        .post(&verdict_url)
        .bearer_auth(&v.token)
        .json(&json!({"verdict": "confirmed", "reason": "jelas"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "viewers cannot decide");
    let res = s
        .http
        .post(&verdict_url)
        .bearer_auth(&a.token)
        .json(&json!({"verdict": "maybe", "reason": "?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = s
        .http
        .post(&verdict_url)
        .bearer_auth(&a.token)
        .json(&json!({"verdict": "confirmed", "reason": " "}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "a reason is required"
    );

    let res = s
        .http
        .post(&verdict_url)
        .bearer_auth(&a.token)
        .json(&json!({"verdict": "confirmed", "reason": "sabu dijual eceran"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let rec: Value = res.json().await.unwrap();
    assert_eq!(rec["verdict"], "confirmed");
    assert_eq!(rec["username"], analyst.as_str());

    let detail: Value = s
        .http
        .get(s.url(&format!("/api/v1/posts/{post}")))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["verdicts"][0]["reason"], "sabu dijual eceran");
    assert_eq!(detail["findings"][0]["status"], "confirmed");

    // The pending queue no longer has it; bulk dismisses the other one.
    let pending: Value = s
        .http
        .get(s.url(&format!(
            "/api/v1/findings?status=pending&platform={}",
            s.name("seedshop")
        )))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["post_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![other.as_str()]);
    let bulk: Value = s
        .http
        .post(s.url("/api/v1/verdicts"))
        .bearer_auth(&a.token)
        .json(
            &json!({"post_ids": [other, "not-a-uuid"], "verdict": "dismissed", "reason": "berita"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bulk["results"][0]["verdict"], "dismissed");
    assert_eq!(bulk["results"][1]["error"]["code"], "not_found");

    let entries = s
        .store
        .list_audit(&patroli_store::AuditFilter::default())
        .await
        .unwrap();
    let target = format!("post:{post}");
    assert!(
        entries
            .iter()
            .any(|e| e.action == "verdict.record" && e.target.as_deref() == Some(target.as_str()))
    );
    assert!(
        entries
            .iter()
            .any(|e| e.action == "post.view" && e.target.as_deref() == Some(target.as_str()))
    );
    let metrics = s
        .http
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("patroli_verdicts_total{verdict=\"confirmed\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("patroli_verdicts_total{verdict=\"dismissed\"} 1"),
        "{metrics}"
    );
}

on_both!(csrf_story, csrf_sqlite, csrf_postgres);
async fn csrf_story(db: Db) {
    let Some(s) = start(db, roomy()).await else {
        return;
    };
    let post = s
        .seed_flagged("c", "jual obat aborsi cytotec", "cytotec", None)
        .await;
    let analyst = s.add_user("analis-c", Role::Analyst, None).await;
    let a = s.login(&analyst).await;
    let cookie = cookie_pair(&a.cookie);
    let form_url = s.url(&format!("/posts/{post}/verdict"));

    // A cross-site form post carries the cookie but cannot know the CSRF token.
    let res = s
        .http
        .post(&form_url)
        .header("cookie", &cookie)
        .form(&[("verdict", "dismissed"), ("reason", "dipaksa")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(res).await, "csrf_failed");
    let res = s
        .http
        .post(&form_url)
        .header("cookie", &cookie)
        .form(&[
            ("verdict", "dismissed"),
            ("reason", "dipaksa"),
            ("_csrf", "0000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // JSON with the cookie alone is refused too.
    let res = s
        .http
        .post(s.url(&format!("/api/v1/posts/{post}/verdict")))
        .header("cookie", &cookie)
        .json(&json!({"verdict": "dismissed", "reason": "dipaksa"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let detail = s
        .store
        .post_detail(post.parse().unwrap(), None)
        .await
        .unwrap()
        .unwrap();
    assert!(
        detail.verdicts.is_empty(),
        "no refused request may have recorded a verdict"
    );

    // The page's own form (token from the page) works.
    let page = s
        .http
        .get(s.url(&format!("/posts/{post}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("name=\"_csrf\" value=\"{}\"", a.csrf)),
        "the post page embeds the CSRF token"
    );
    let res = s
        .http
        .post(&form_url)
        .header("cookie", &cookie)
        .form(&[
            ("_csrf", a.csrf.as_str()),
            ("verdict", "confirmed"),
            ("reason", "iklan aborsi"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // So do the header form and a bearer token (which a foreign page cannot send).
    let res = s
        .http
        .post(s.url(&format!("/api/v1/posts/{post}/verdict")))
        .header("cookie", &cookie)
        .header("x-csrf-token", &a.csrf)
        .json(&json!({"verdict": "confirmed", "reason": "lagi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = s
        .http
        .post(s.url(&format!("/api/v1/posts/{post}/verdict")))
        .bearer_auth(&a.token)
        .json(&json!({"verdict": "confirmed", "reason": "sekali lagi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let detail = s
        .store
        .post_detail(post.parse().unwrap(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.verdicts.len(), 3);

    // Bulk decision from the queue form: every selected post, one reason.
    let p1 = s
        .seed_flagged("b1", "tembakau gorila ready", "tembakau gorila", None)
        .await;
    let p2 = s
        .seed_flagged("b2", "jual ganja kering", "ganja", None)
        .await;
    let form = [
        ("_csrf", a.csrf.as_str()),
        ("verdict", "dismissed"),
        ("reason", "iklan lama"),
        ("post_id", p1.as_str()),
        ("post_id", p2.as_str()),
    ];
    let res = s
        .http
        .post(s.url("/antrian/keputusan"))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    for p in [&p1, &p2] {
        let d = s
            .store
            .post_detail(p.parse().unwrap(), None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.verdicts.len(), 1);
        assert_eq!(d.findings[0].status, patroli_core::FindingStatus::Dismissed);
    }
    // A form missing its fields is a 400 page, not a crash or plain text.
    let res = s
        .http
        .post(&form_url)
        .header("cookie", &cookie)
        .form(&[("_csrf", a.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("<html"));
}

on_both!(rate_limit_story, rate_limit_sqlite, rate_limit_postgres);
async fn rate_limit_story(db: Db) {
    let Some(s) = start(
        db,
        ServerConfig::default().with_login_attempts_per_minute(3),
    )
    .await
    else {
        return;
    };
    let user = s.add_user("tebak", Role::Viewer, None).await;
    let attempt = |password: &'static str| {
        s.http
            .post(s.url("/api/v1/login"))
            .json(&json!({"username": user, "password": password}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            attempt("salah").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Over the limit even the right password is refused.
    let res = attempt("kata-sandi-rahasia").await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(res).await, "rate_limited");
    let metrics = s
        .http
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("patroli_logins_total{outcome=\"rate_limited\"} 1"),
        "{metrics}"
    );
}

on_both!(hostile_story, hostile_sqlite, hostile_postgres);
async fn hostile_story(db: Db) {
    let Some(s) = start(db, roomy()).await else {
        return;
    };
    let text = format!("jual pil koplo {HOSTILE} minat DM");
    // The highlighted span covers the injection too, so both highlight paths are exercised.
    let post = s
        .seed_flagged("xss", &text, &format!("pil koplo {HOSTILE}"), None)
        .await;
    let analyst = s.add_user("analis-x", Role::Analyst, None).await;
    let a = s.login(&analyst).await;
    let cookie = cookie_pair(&a.cookie);

    for path in [format!("/posts/{post}"), "/antrian?status=any".to_string()] {
        let res = s
            .http
            .get(s.url(&path))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert!(res.headers().contains_key("referrer-policy"));
        let html = res.text().await.unwrap();
        assert!(
            !html.contains("<script>alert(1)"),
            "{path} renders the script as markup"
        );
        assert!(
            !html.contains("<img src=x"),
            "{path} renders the img as markup"
        );
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}: text is shown escaped"
        );
        // The only script on the page is our own file.
        assert_eq!(html.matches("<script").count(), 1, "{path}");
        assert!(html.contains("<script src=\"/static/app.js\""));
    }
    let page = s
        .http
        .get(s.url(&format!("/posts/{post}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<mark class=\"hl-term\">pil koplo &lt;script&gt;"),
        "the span is highlighted, escaped"
    );
}

on_both!(ui_story, ui_sqlite, ui_postgres);
async fn ui_story(db: Db) {
    let Some(s) = start(db, roomy()).await else {
        return;
    };
    // Pages without a session redirect to the log-in page, which is Indonesian by default.
    let res = s.http.get(s.url("/antrian")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login");
    let login = s
        .http
        .get(s.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("Kata sandi"));
    let res = s.http.get(s.url("/login?lang=en")).send().await.unwrap();
    let lang_cookie = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("patroli_lang=en"))
        .expect("language remembered");
    assert!(res.text().await.unwrap().contains("Password"));

    // The form log-in sets the cookie and goes to the queue; English is remembered.
    let admin = s.add_user("admin", Role::Admin, None).await;
    let res = s
        .http
        .post(s.url("/login"))
        .form(&[
            ("username", admin.as_str()),
            ("password", "kata-sandi-rahasia"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session = cookie_pair(&session_cookie(res.headers()).unwrap());
    let cookies = format!("{session}; {}", cookie_pair(&lang_cookie));
    let queue = s
        .http
        .get(s.url("/antrian"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(queue.contains("Review queue"), "English from the cookie");
    let bad = s
        .http
        .post(s.url("/login"))
        .form(&[("username", admin.as_str()), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);

    // Admin page: create a platform token through the form; it is shown once and works.
    let page = s
        .http
        .get(s.url("/admin"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let crawler = s.name("crawler");
    let res = s
        .http
        .post(s.url("/admin/tokens"))
        .header("cookie", &cookies)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", crawler.as_str()),
            ("platform", &s.name("webshop")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    let token = html
        .split("id=\"new-token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(token.starts_with("ptk_"));
    let res = s
        .http
        .post(s.url("/api/v1/posts"))
        .bearer_auth(&token)
        .json(&json!([{"id": "1", "text": "halo"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Admin API: list tokens without secrets, revoke, and the token stops working.
    let a = s.login(&admin).await;
    let tokens: Value = s
        .http
        .get(s.url("/api/v1/tokens"))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = tokens.to_string();
    assert!(
        !listed.contains(&token) && !listed.contains("token_hash"),
        "{listed}"
    );
    let id = tokens["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == crawler.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = s
        .http
        .delete(s.url(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = s
        .http
        .post(s.url("/api/v1/posts"))
        .bearer_auth(&token)
        .json(&json!([]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Users through the API, with duplicate and bad input handled.
    let body = json!({"username": s.name("baru"), "password": "panjang-sekali", "role": "analyst", "agency": "BNN", "region": "65"});
    let res = s
        .http
        .post(s.url("/api/v1/users"))
        .bearer_auth(&a.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = s
        .http
        .post(s.url("/api/v1/users"))
        .bearer_auth(&a.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let mut bad = body.clone();
    bad["username"] = json!(s.name("lain"));
    bad["region"] = json!("99.99");
    let res = s
        .http
        .post(s.url("/api/v1/users"))
        .bearer_auth(&a.token)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let entries = s
        .store
        .list_audit(&patroli_store::AuditFilter::default())
        .await
        .unwrap();
    assert!(entries.iter().any(|e| e.action == "token.create"));
    assert!(entries.iter().any(|e| e.action == "token.revoke"));
    assert!(entries.iter().any(|e| e.action == "user.create"));

    // Disabling a user ends their log-ins; an admin cannot disable themselves.
    let created: Value = s
        .http
        .get(s.url("/api/v1/users"))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let find = |name: &str| {
        created["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (baru_id, admin_id) = (find(&s.name("baru")), find(&admin));
    let res = s
        .http
        .patch(s.url(&format!("/api/v1/users/{baru_id}")))
        .bearer_auth(&a.token)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = s
        .http
        .post(s.url("/api/v1/login"))
        .json(&json!({"username": s.name("baru"), "password": "panjang-sekali"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = s
        .http
        .patch(s.url(&format!("/api/v1/users/{admin_id}")))
        .bearer_auth(&a.token)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn service_endpoints_and_error_shape() {
    let s = start(Db::Sqlite, roomy()).await.unwrap();
    let health: Value = s
        .http
        .get(s.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let doc: Value = s
        .http
        .get(s.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/posts"]["post"].is_object());
    let res = s.http.get(s.url("/no/such/page")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(res).await, "not_found");
    let res = s
        .http
        .delete(s.url("/api/v1/findings"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let res = s
        .http
        .post(s.url("/api/v1/login"))
        .body("{}")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "invalid_json");
    let js = s.http.get(s.url("/static/app.js")).send().await.unwrap();
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
}
