//! Networks, statistics and STIX sharing over real HTTP (issue 5): a server on port 0 with a
//! temp-dir SQLite store, and the same story on PostgreSQL when `PATROLI_TEST_POSTGRES_URL` is set
//! (required under `CI=true`).
//!
//! Contact values are random per run so that runs can share one PostgreSQL database; counts are
//! asserted exactly only on the fresh SQLite store.

use patroli_core::{Category, Role, Severity};
use patroli_detect::{Engine, Screening};
use patroli_server::{AppState, ServerConfig};
use patroli_store::{IngestPost, ScreenedPost, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

struct Server {
    base: String,
    store: Arc<dyn Store>,
    http: reqwest::Client,
    tag: String,
    /// Eight random digits: phone numbers of this run.
    digits: String,
    fresh: bool,
    _dir: tempfile::TempDir,
}

async fn start(postgres: bool) -> Option<Server> {
    let dir = tempfile::tempdir().unwrap();
    let location = if postgres {
        match std::env::var("PATROLI_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI=true requires PATROLI_TEST_POSTGRES_URL for the PostgreSQL tests"
                );
                eprintln!("skipped: PostgreSQL test (set PATROLI_TEST_POSTGRES_URL to run it)");
                return None;
            }
        }
    } else {
        dir.path().to_str().unwrap().to_string()
    };
    let store = patroli_store::open(&location).await.expect("open store");
    let state = AppState::new(
        store.clone(),
        Arc::new(Engine::builtin()),
        ServerConfig::default().with_login_attempts_per_minute(1000),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(patroli_server::serve(listener, state));
    let id = uuid::Uuid::new_v4();
    let digits: String = id.as_u128().to_string().chars().rev().take(8).collect();
    Some(Server {
        base: format!("http://{addr}"),
        store,
        http: reqwest::Client::new(),
        tag: id.simple().to_string()[..8].to_string(),
        digits,
        fresh: !postgres,
        _dir: dir,
    })
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn name(&self, base: &str) -> String {
        format!("{base}-{}", self.tag)
    }

    /// `08{prefix}{digits}` written as `08xx-xxxx-xxxx`.
    fn phone(&self, prefix: &str) -> String {
        let n = format!("8{prefix}{}", self.digits);
        format!("0{}-{}-{}", &n[..3], &n[3..7], &n[7..])
    }

    fn e164(&self, prefix: &str) -> String {
        format!("+628{prefix}{}", self.digits)
    }

    async fn token(&self, role: Role, region: Option<&str>) -> String {
        let username = self.name(&format!("{role}-{}", region.unwrap_or("all")));
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
        let res = self
            .http
            .post(self.url("/api/v1/login"))
            .json(&json!({"username": username, "password": "kata-sandi-rahasia"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    async fn ingest(&self, token: &str, posts: Value) -> Vec<Value> {
        let res = self
            .http
            .post(self.url("/api/v1/posts"))
            .bearer_auth(token)
            .json(&posts)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let out: Vec<Value> = res.json().await.unwrap();
        for r in &out {
            assert!(r["error"].is_null(), "ingest error: {r}");
        }
        out
    }

    async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// `GET /api/v1/networks?contact=` with the value URL-encoded as a browser would.
    async fn search(&self, token: &str, contact: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .get(self.url("/api/v1/networks"))
            .query(&[("contact", contact)])
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// The `/jaringan` page for a typed contact.
    async fn search_page(&self, token: &str, contact: &str, lang: &str) -> (StatusCode, String) {
        let res = self
            .http
            .get(self.url("/jaringan"))
            .query(&[("contact", contact), ("lang", lang)])
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    }

    /// A flagged drugs post stored directly, with a hand-made screening (independent of the lexicon).
    async fn seed_flagged(&self, id: &str, region: &str, location: &str, text: &str) {
        let screening = Screening {
            flagged: true,
            score: 0.9,
            categories: vec![Category::Drugs],
            scores: BTreeMap::from([(Category::Drugs, 0.9)]),
            severity: Severity::High,
            reasons: vec![],
            entities: vec![],
            lexicon_version: "test".into(),
        };
        self.store
            .ingest_batch(
                &self.name("seedshop"),
                vec![ScreenedPost {
                    post: IngestPost {
                        external_id: self.name(id),
                        account_handle: Some(self.name(id)),
                        text: text.into(),
                        location: Some(location.into()),
                        region_code: Some(region.into()),
                        ..Default::default()
                    },
                    screening,
                }],
            )
            .await
            .unwrap();
    }
}

fn handles(network: &Value) -> Vec<String> {
    let mut h: Vec<String> = network["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["handle"].as_str().unwrap().to_string())
        .collect();
    h.sort();
    h
}

async fn networks_story(s: Server) {
    let admin = s.token(Role::Admin, None).await;
    let (a, b) = (s.name("toko_a"), s.name("akun_b"));
    // One seller on two platforms, the same number written two ways, located in Tarakan.
    s.ingest(
        &admin,
        json!([
            {"id": s.name("p1"), "platform": s.name("shopee"), "account": {"handle": a, "name": "Toko A"},
             "text": format!("Ready stok, order via WA {} ya kak", s.phone("12")), "location": "Kota Tarakan"},
            {"id": s.name("p2"), "platform": s.name("facebook"), "account": b,
             "text": format!("minat hubungi +62 8{} {} {}", &s.e164("12")[4..6], &s.e164("12")[6..10], &s.e164("12")[10..]), "location": "Tarakan"}
        ]),
    )
    .await;
    // Typed a third way: 62812... without a plus or separators.
    let query = s.e164("12").trim_start_matches('+').to_string();
    let (status, body) = s
        .get(&admin, &format!("/api/v1/networks?contact={query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let networks = body["networks"].as_array().unwrap();
    assert_eq!(networks.len(), 1, "{body}");
    let net = &networks[0];
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(handles(net), expected);
    let platforms: Vec<&str> = net["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["platform"].as_str().unwrap())
        .collect();
    assert!(platforms.contains(&s.name("shopee").as_str()));
    assert!(platforms.contains(&s.name("facebook").as_str()));
    assert_eq!(net["posts"], 2);
    assert!(
        net["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "phone" && c["value"] == s.e164("12")),
        "{net}"
    );
    assert!(
        net["regions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["province_code"] == "65"),
        "{net}"
    );

    // The network page: by id, and by contact, with the SVG graph.
    let id = net["id"].as_str().unwrap();
    let page = s
        .http
        .get(s.url(&format!("/networks/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<svg"), "no graph on the network page");
    assert!(html.contains(&a) && html.contains(&b));

    // Region scope: Kalimantan Utara sees it, Jawa Timur gets 404 like an unknown network.
    let kaltara = s.token(Role::Analyst, Some("65")).await;
    let jatim = s.token(Role::Analyst, Some("35")).await;
    assert_eq!(
        s.get(&kaltara, &format!("/api/v1/networks/{id}")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        s.get(&jatim, &format!("/api/v1/networks/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get(&jatim, &format!("/api/v1/networks?contact={query}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // A super-node: one number on 30 unrelated accounts (a courier's call centre) links none of
    // them. Two of them also have their own numbers; they must stay apart.
    let mut posts = Vec::new();
    for i in 0..30 {
        let own = if i < 2 {
            format!(" atau WA pribadi {}", s.phone(&format!("5{}", i + 2)))
        } else {
            String::new()
        };
        posts.push(json!({
            "id": s.name(&format!("kurir{i}")), "platform": s.name("olx"), "account": s.name(&format!("jualan{i}")),
            "text": format!("Pengiriman cek resi hubungi {}{own}", s.phone("57")),
        }));
    }
    s.ingest(&admin, Value::Array(posts)).await;
    let (status, body) = s
        .get(
            &admin,
            &format!("/api/v1/networks?contact={}", s.phone("57")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["common"][0]["value"], s.e164("57"), "{body}");
    assert!(body["common"][0]["accounts"].as_u64().unwrap() >= 30);
    assert_eq!(body["networks"].as_array().unwrap().len(), 0, "{body}");
    let (_, own) = s
        .get(
            &admin,
            &format!("/api/v1/networks?contact={}", s.phone("52")),
        )
        .await;
    let net = &own["networks"][0];
    assert_eq!(handles(net), vec![s.name("jualan0")], "{own}");
    assert!(
        net["common_values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["value"] == s.e164("57")),
        "the super-node shows as a common value: {net}"
    );

    // STIX export of the planted network's contact.
    let res = s
        .http
        .get(s.url(&format!("/api/v1/export/stix?contact={query}&tlp=amber")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/stix+json")
    );
    let bundle: Value = res.json().await.unwrap();
    assert_eq!(bundle["type"], "bundle");
    let objects = bundle["objects"].as_array().unwrap();
    assert!(objects.iter().all(|o| o["spec_version"] == "2.1"));
    let phone_pattern = format!("[x-patroli-phone:value = '{}']", s.e164("12"));
    let indicator = objects
        .iter()
        .find(|o| o["type"] == "indicator" && o["pattern"] == phone_pattern.as_str())
        .unwrap_or_else(|| panic!("no phone indicator in {bundle}"));
    assert_eq!(
        indicator["object_marking_refs"][0],
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    );
    // Unknown case: 404, not an empty bundle.
    assert_eq!(
        s.get(
            &admin,
            &format!("/api/v1/export/stix?case_id={}", uuid::Uuid::new_v4())
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

async fn watchlist_story(s: Server) {
    let admin = s.token(Role::Admin, None).await;
    let text = |phone: &str| format!("Halo kak, info lanjut hubungi {phone} ya");
    let before = s
        .ingest(
            &admin,
            json!([{"id": s.name("w1"), "platform": s.name("ig"), "account": s.name("w_a"), "text": text(&s.phone("13"))}]),
        )
        .await;
    assert_eq!(before[0]["flagged"], false, "neutral text is not flagged");

    let bundle = json!({
        "type": "bundle",
        "id": format!("bundle--{}", uuid::Uuid::new_v4()),
        "objects": [{
            "type": "indicator", "spec_version": "2.1",
            "id": format!("indicator--{}", uuid::Uuid::new_v4()),
            "created": "2026-01-05T00:00:00.000Z", "modified": "2026-01-05T00:00:00.000Z",
            "name": "Nomor perekrut", "labels": ["trafficking_recruitment"],
            "pattern": format!("[phone-number:value = '{}']", s.e164("13")),
            "pattern_type": "stix", "valid_from": "2026-01-05T00:00:00.000Z"
        }]
    });
    let res = s
        .http
        .post(s.url("/api/v1/watchlist/stix"))
        .bearer_auth(&admin)
        .json(&bundle)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let imported: Value = res.json().await.unwrap();
    assert_eq!(imported["imported"], 1, "{imported}");

    let after = s
        .ingest(
            &admin,
            json!([{"id": s.name("w2"), "platform": s.name("ig"), "account": s.name("w_b"), "text": text(&s.phone("13"))}]),
        )
        .await;
    assert_eq!(after[0]["flagged"], true, "{after:?}");
    assert_eq!(after[0]["categories"][0], "trafficking_recruitment");
    let post_id = after[0]["post_id"].as_str().unwrap();
    let (_, detail) = s.get(&admin, &format!("/api/v1/posts/{post_id}")).await;
    let finding = &detail["findings"][0];
    assert!(finding["score"].as_f64().unwrap() >= 0.6, "{finding}");
    assert!(
        finding["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "watchlist"),
        "{finding}"
    );

    // Not a bundle: 400 naming the problem.
    let res = s
        .http
        .post(s.url("/api/v1/watchlist/stix"))
        .bearer_auth(&admin)
        .json(&json!({"type": "report"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn stats_story(s: Server) {
    let admin = s.token(Role::Admin, None).await;
    for i in 0..3 {
        s.seed_flagged(&format!("kaltara{i}"), "65.71", "Kota Tarakan", "teks uji")
            .await;
    }
    for i in 0..6 {
        s.seed_flagged(&format!("jatim{i}"), "35.78", "Surabaya", "teks uji")
            .await;
    }
    // A post flagged again in a new version still counts once.
    s.seed_flagged("kaltara0", "65.71", "Kota Tarakan", "teks uji, versi kedua")
        .await;
    let (status, body) = s.get(&admin, "/api/v1/stats?by=province").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows = body.as_array().unwrap();
    assert_eq!(rows.len(), 38, "every province has a row");
    let row = |code: &str| rows.iter().find(|r| r["region_code"] == code).unwrap();
    assert_eq!(row("65")["region_name"], "Kalimantan Utara");
    assert_eq!(row("35")["region_name"], "Jawa Timur");
    assert!(row("65")["posts_flagged"].as_i64().unwrap() >= 3);
    // Workflow-derived counts are not invented.
    assert!(row("65")["median_hours_to_takedown"].is_null());
    if s.fresh {
        assert_eq!(row("65")["posts_flagged"], 3);
        assert_eq!(row("35")["posts_flagged"], 6);
        assert_eq!(row("35")["rank"], 1);
        assert_eq!(row("65")["rank"], 2);
    }

    // A Kalimantan Utara analyst sees that province only.
    let kaltara = s.token(Role::Analyst, Some("65")).await;
    let (_, scoped) = s.get(&kaltara, "/api/v1/stats?by=province").await;
    let scoped = scoped.as_array().unwrap();
    assert_eq!(scoped.len(), 1);
    assert_eq!(scoped[0]["region_code"], "65");

    // Units: a unit covers its region; a regional caller sees the units inside it only.
    let agency = s
        .store
        .ensure_agency(patroli_core::AgencyKind::Polri, &s.name("Polri"))
        .await
        .unwrap();
    let unit = s
        .store
        .create_unit(agency.id, &s.name("Ditsiber Polda Kaltara"), Some("65"))
        .await
        .unwrap();
    s.store
        .create_unit(agency.id, &s.name("Ditsiber Polda Jatim"), Some("35"))
        .await
        .unwrap();
    let (_, units) = s.get(&admin, "/api/v1/stats?by=unit").await;
    let unit_row = units
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_id"] == unit.id.to_string())
        .expect("the unit has a row");
    assert_eq!(unit_row["region_name"], "Kalimantan Utara");
    if s.fresh {
        assert_eq!(unit_row["posts_flagged"], 3);
        assert_eq!(unit_row["rank"], 2);
    }
    let (_, scoped_units) = s.get(&kaltara, "/api/v1/stats?by=unit").await;
    assert!(
        scoped_units
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["region_code"] == "65"),
        "{scoped_units}"
    );

    // CSV by Accept header: RFC 4180 with a header row.
    let res = s
        .http
        .get(s.url("/api/v1/stats?by=category"))
        .bearer_auth(&admin)
        .header(reqwest::header::ACCEPT, "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = res.text().await.unwrap();
    let mut lines = csv.split("\r\n");
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("rank,region_code,region_name,"),
        "{header}"
    );
    let drugs = lines.find(|l| l.contains(",drugs,")).expect("a drugs row");
    assert_eq!(drugs.split(',').count(), header.split(',').count());

    // `region=`: one province (or regency) and what lies inside it, for every `by`.
    let (status, one) = s.get(&admin, "/api/v1/stats?by=province&region=65").await;
    assert_eq!(status, StatusCode::OK, "{one}");
    let one = one.as_array().unwrap();
    assert_eq!(one.len(), 1, "{one:?}");
    assert_eq!(one[0]["region_code"], "65");
    assert!(one[0]["posts_flagged"].as_i64().unwrap() >= 3);
    if s.fresh {
        assert_eq!(one[0]["posts_flagged"], row("65")["posts_flagged"]);
    }
    let drugs_in = |rows: &Value| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["category"] == "drugs")
            .map(|r| r["posts_flagged"].as_i64().unwrap())
            .unwrap()
    };
    // Inner region first: other tests may add posts meanwhile, never remove them.
    let (_, tarakan_cats) = s
        .get(&admin, "/api/v1/stats?by=category&region=65.71")
        .await;
    let (_, kaltara_cats) = s.get(&admin, "/api/v1/stats?by=category&region=65").await;
    let (_, all_cats) = s.get(&admin, "/api/v1/stats?by=category").await;
    assert!(drugs_in(&kaltara_cats) >= 3);
    assert!(drugs_in(&kaltara_cats) <= drugs_in(&all_cats));
    assert!(drugs_in(&tarakan_cats) <= drugs_in(&kaltara_cats));
    if s.fresh {
        assert_eq!(drugs_in(&all_cats), 9);
        assert_eq!(drugs_in(&kaltara_cats), 3);
        assert_eq!(drugs_in(&tarakan_cats), 3);
        let (_, jatim_cats) = s.get(&admin, "/api/v1/stats?by=category&region=35").await;
        assert_eq!(drugs_in(&jatim_cats), 6);
        let (_, months) = s.get(&admin, "/api/v1/stats?by=month&region=35").await;
        let total: i64 = months
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["posts_flagged"].as_i64().unwrap())
            .sum();
        assert_eq!(total, 6);
    }
    let (_, region_units) = s.get(&admin, "/api/v1/stats?by=unit&region=65").await;
    let region_units = region_units.as_array().unwrap();
    assert!(
        region_units
            .iter()
            .any(|r| r["unit_id"] == unit.id.to_string())
    );
    assert!(
        region_units.iter().all(|r| r["region_code"]
            .as_str()
            .is_some_and(|c| c == "65" || c.starts_with("65."))),
        "{region_units:?}"
    );
    // Not an official code, or beside the caller's own region: 400 naming `region`.
    for (token, query) in [
        (&admin, "/api/v1/stats?by=province&region=99"),
        (&admin, "/api/v1/stats?by=province&region=Kaltara"),
        (&kaltara, "/api/v1/stats?by=category&region=35"),
    ] {
        let (status, body) = s.get(token, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("`region`"),
            "{body}"
        );
    }
    // Inside the caller's region it narrows further; the whole province keeps the caller's own.
    let (status, inner) = s
        .get(&kaltara, "/api/v1/stats?by=province&region=65.71")
        .await;
    assert_eq!(status, StatusCode::OK, "{inner}");
    assert_eq!(inner.as_array().unwrap().len(), 1);
    // CSV keeps the filter.
    let res = s
        .http
        .get(s.url("/api/v1/stats?by=province&region=65&format=csv"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csv = res.text().await.unwrap();
    assert_eq!(csv.trim_end().split("\r\n").count(), 2, "{csv}");
    assert!(csv.contains(",65,Kalimantan Utara,"), "{csv}");
    // The public page ignores `region`: still the national table.
    let res = s
        .http
        .get(s.url("/statistik?region=65"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("35 Jawa Timur"));

    // Months and bad parameters.
    let (_, months) = s.get(&admin, "/api/v1/stats?by=month").await;
    assert!(
        months.as_array().unwrap()[0]["month"]
            .as_str()
            .unwrap()
            .len()
            == 7
    );
    assert_eq!(
        s.get(&admin, "/api/v1/stats?by=galaxy").await.0,
        StatusCode::BAD_REQUEST
    );

    // The public page needs no log-in and hides small counts.
    let res = s.http.get(s.url("/statistik")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("Kalimantan Utara"));
    if s.fresh {
        let kaltara_row = html
            .split("<tr>")
            .find(|r| r.contains("65 Kalimantan Utara"))
            .expect("Kalimantan Utara row");
        assert!(kaltara_row.contains("&lt;5"), "{kaltara_row}");
        assert!(!kaltara_row.contains(">3<"), "{kaltara_row}");
        let jatim_row = html
            .split("<tr>")
            .find(|r| r.contains("35 Jawa Timur"))
            .expect("Jawa Timur row");
        // 6 is published rounded to the nearest multiple of five.
        assert!(jatim_row.contains(">5<"), "{jatim_row}");
        assert!(!jatim_row.contains(">6<"), "{jatim_row}");
    }
    // Every published count is 0, "<5" or a multiple of five, on any data.
    for cell in html.split("<td class=\"count\">").skip(1) {
        let v = &cell[..cell.find('<').unwrap()];
        assert!(
            v == "&lt;5" || v.parse::<i64>().is_ok_and(|n| n % 5 == 0),
            "published count {v:?}"
        );
    }
    // Whole months only: a day-precise window is refused with the field named.
    let res = s
        .http
        .get(s.url("/statistik?from=2026-03-14"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("from"));
    let res = s
        .http
        .get(s.url("/statistik?from=2026-01&to=2026-12"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // The internal page needs a log-in and carries the charts and export links.
    let res = s
        .http
        .get(s.url("/statistik/internal"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(
        html.matches("<svg").count() >= 3,
        "map, bar and line charts"
    );
    assert!(html.contains("/api/v1/stats?by=province&amp;format=csv"));

    // Its form has a region filter: "all" and the 38 provinces for a national user...
    let region_select = |html: &str| -> Vec<(String, bool, String)> {
        let start = html
            .find("<select name=\"region\">")
            .expect("region select");
        let end = start + html[start..].find("</select>").unwrap();
        html[start..end]
            .split("<option value=\"")
            .skip(1)
            .map(|o| {
                let code = o[..o.find('"').unwrap()].to_string();
                let open = &o[..o.find('>').unwrap()];
                let label = o[o.find('>').unwrap() + 1..o.find("</option>").unwrap()].to_string();
                (code, open.contains(" selected"), label)
            })
            .collect()
    };
    let options = region_select(&html);
    assert_eq!(options.len(), 39, "{options:?}");
    assert_eq!(options[0], (String::new(), true, "Semua provinsi".into()));
    assert!(
        options.contains(&("65".into(), false, "65 Kalimantan Utara".into())),
        "{options:?}"
    );
    // ...the chosen one stays selected, in English with the language switch, and the export
    // links keep it.
    let page = |token: &str, query: &str| {
        let req = s
            .http
            .get(s.url(&format!("/statistik/internal{query}")))
            .bearer_auth(token);
        let query = query.to_string();
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{query}");
            res.text().await.unwrap()
        }
    };
    let html = page(&admin, "?region=65&lang=en").await;
    let options = region_select(&html);
    assert_eq!(options[0], (String::new(), false, "All provinces".into()));
    let selected: Vec<_> = options.iter().filter(|o| o.1).collect();
    assert_eq!(
        selected,
        [&("65".to_string(), true, "65 Kalimantan Utara".to_string())]
    );
    assert!(html.contains(">Region "), "English label");
    assert!(html.contains("/api/v1/stats?by=unit&amp;format=csv&amp;region=65\""));
    // A regency asked in the URL is offered too, so that it stays selected.
    let options = region_select(&page(&admin, "?region=65.71").await);
    assert!(options.contains(&("65.71".into(), true, "65.71 Kota Tarakan".into())));
    // A Kaltara-scoped user is offered only Kaltara and what lies inside it.
    let options = region_select(&page(&kaltara, "").await);
    let provinces: Vec<_> = options.iter().filter(|o| !o.0.contains('.')).collect();
    assert_eq!(
        provinces,
        [&("65".to_string(), true, "65 Kalimantan Utara".to_string())],
        "{options:?}"
    );
    assert!(
        options
            .iter()
            .all(|o| o.0 == "65" || o.0.starts_with("65."))
    );
    assert!(
        options.iter().any(|o| o.0 == "65.71" && !o.1),
        "{options:?}"
    );
    let options = region_select(&page(&kaltara, "?region=65.71&category=drugs").await);
    assert_eq!(
        options
            .iter()
            .filter(|o| o.1)
            .map(|o| o.0.as_str())
            .collect::<Vec<_>>(),
        ["65.71"]
    );
}

/// Handles of every network in a search answer, sorted.
fn all_handles(body: &Value) -> Vec<String> {
    let mut h: Vec<String> = body["networks"]
        .as_array()
        .unwrap_or_else(|| panic!("no networks in {body}"))
        .iter()
        .flat_map(handles)
        .collect();
    h.sort();
    h
}

async fn contact_search_story(s: Server) {
    let admin = s.token(Role::Admin, None).await;
    let phone = s.phone("14"); // 0814-xxxx-xxxx
    let e164 = s.e164("14");
    let national = &e164[3..]; // 814...
    let bank = format!("7{}3", s.digits); // ten digits
    let handle = format!("toko_{}", s.tag);
    let domain = format!("obat-{}.xyz", s.tag);
    let email = format!("admin.{}@toko-{}.id", s.tag, s.tag);
    let acc = |n: &str| s.name(n);
    s.ingest(
        &admin,
        json!([
            {"id": s.name("c1"), "platform": s.name("ig"), "account": acc("wallet_a"),
             "text": format!("Bayar via DANA {phone} a.n. Budi atau transfer BCA {bank} ya kak")},
            {"id": s.name("c2"), "platform": s.name("fb"), "account": acc("wa_b"),
             "text": format!("Order langsung chat wa.me/62{national} kak")},
            {"id": s.name("c3"), "platform": s.name("x"), "account": acc("tele_c"),
             "text": format!("Info lowongan gabung tele @{handle} sekarang")},
            {"id": s.name("c4"), "platform": s.name("tiktok"), "account": acc("ig_d"),
             "text": format!("Cek katalog di ig: @{handle} ya")},
            {"id": s.name("c5"), "platform": s.name("web"), "account": acc("url_e"),
             "text": format!("Katalog lengkap https://{domain}/p/Katalog1 kak")},
            {"id": s.name("c6"), "platform": s.name("web"), "account": acc("mail_f"),
             "text": format!("Kirim CV ke {email} segera")},
            {"id": s.name("c7"), "platform": s.name("ig"), "account": acc("mail_g"),
             "text": format!("Pertanyaan kirim ke {} saja", email.to_uppercase())},
        ]),
    )
    .await;

    // The wallet and the WhatsApp link carry the same number: one network of two accounts,
    // found by every usual way of writing the number or the wallet.
    let mut wallet_net = vec![acc("wa_b"), acc("wallet_a")];
    wallet_net.sort();
    let spaced = format!("0{} {} {}", &national[..3], &national[3..7], &national[7..]);
    for typed in [
        format!("DANA:{phone}"),
        format!("dana {spaced}"),
        format!("GoPay {phone}"),
        format!("OVO {spaced}"),
        format!("wa.me/62{national}"),
        format!("https://wa.me/62{national}"),
        format!(
            "+62 {}-{}-{}",
            &national[..3],
            &national[3..7],
            &national[7..]
        ),
        format!("0{national}"),
        format!("62{national}"),
        format!("BCA {bank}"),
        format!("bca:{bank}"),
    ] {
        let (status, body) = s.search(&admin, &typed).await;
        assert_eq!(status, StatusCode::OK, "{typed}: {body}");
        assert_eq!(all_handles(&body), wallet_net, "{typed}: {body}");
        assert_eq!(body["contact"], typed.as_str());
    }
    let (_, body) = s.search(&admin, &format!("dana {spaced}")).await;
    let readings: Vec<&str> = body["readings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        readings.contains(&format!("ewallet:DANA:{e164}").as_str())
            && readings.contains(&format!("phone:{e164}").as_str()),
        "{readings:?}"
    );

    // A bare @handle is the handle on every platform: the Telegram and the Instagram mention
    // (two separate one-account networks); a t.me link names Telegram only.
    let mut both = vec![acc("ig_d"), acc("tele_c")];
    both.sort();
    let (status, body) = s
        .search(&admin, &format!("@{}", handle.to_uppercase()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(all_handles(&body), both, "{body}");
    let (_, body) = s.search(&admin, &handle).await;
    assert_eq!(all_handles(&body), both, "a handle without @: {body}");
    let (_, body) = s.search(&admin, &format!("t.me/{handle}")).await;
    assert_eq!(all_handles(&body), vec![acc("tele_c")], "{body}");

    // E-mail in any case: both posts wrote it differently, one network.
    let mut mails = vec![acc("mail_f"), acc("mail_g")];
    mails.sort();
    for typed in [email.clone(), email.to_uppercase()] {
        let (status, body) = s.search(&admin, &typed).await;
        assert_eq!(status, StatusCode::OK, "{typed}: {body}");
        assert_eq!(all_handles(&body), mails, "{typed}: {body}");
    }

    // A link with or without scheme, host in any case.
    for typed in [
        format!("https://{domain}/p/Katalog1"),
        format!("{domain}/p/Katalog1"),
        format!("http://WWW.{}/p/Katalog1/", domain.to_uppercase()),
    ] {
        let (status, body) = s.search(&admin, &typed).await;
        assert_eq!(status, StatusCode::OK, "{typed}: {body}");
        assert_eq!(all_handles(&body), vec![acc("url_e")], "{typed}: {body}");
    }

    // Nothing readable: 400 naming the field, with examples; a readable but unknown value: 404.
    for typed in ["halo kak apa kabar", "???", "1234567890"] {
        let (status, body) = s.search(&admin, typed).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{typed}: {body}");
        assert_eq!(body["error"]["code"], "invalid_parameter");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("`contact`"),
            "{body}"
        );
        assert!(body["error"]["hint"].as_str().unwrap().contains("@handle"));
    }
    let (status, _) = s.search(&admin, &format!("@nobody_{}", s.tag)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The page reads the same way, and explains a query it cannot read in the page's language.
    let (status, html) = s.search_page(&admin, &format!("dana {spaced}"), "id").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&acc("wallet_a")) && html.contains(&acc("wa_b")),
        "the page lists the network's accounts"
    );
    let (status, html) = s.search_page(&admin, "<b>halo</b> kak", "id").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("tidak terbaca"), "{html}");
    assert!(
        html.contains("&lt;b&gt;halo&lt;/b&gt; kak"),
        "typed text kept, escaped"
    );
    assert!(!html.contains("<b>halo</b>"));
    let (status, html) = s.search_page(&admin, "halo kak", "en").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("was not read as a phone number"), "{html}");
}

async fn network_posts_story(s: Server) {
    let admin = s.token(Role::Admin, None).await;
    let phone = s.phone("16");
    let (a, b) = (s.name("posts_a"), s.name("posts_b"));
    let hostile = "<script>alert('x')</script> Obat kuat & \"asli\"";
    // Words of this run only: flagged posts are also linked by near-identical text, and the
    // same ad from an earlier run on the shared PostgreSQL database would join this network.
    let letters: String = s
        .tag
        .chars()
        .map(|c| (b'g' + c.to_digit(16).unwrap() as u8) as char)
        .collect();
    let [w1, w2, w3, w4, w5, w6] =
        ["kode", "toko", "gudang", "cabang", "promo", "admin"].map(|w| format!("{w}{letters}"));
    let first = s
        .ingest(
            &admin,
            json!([
                {"id": s.name("n1"), "platform": s.name("shopee"), "account": a, "title": hostile,
                 "text": format!("{w1} {w2} jual sabu ready {w3} {w4} pil double L 100 butir {w5} {w6} WA {phone}"), "location": "Kota Tarakan"},
                {"id": s.name("n2"), "platform": s.name("fb"), "account": b,
                 "text": format!("Kaos polos ukuran L dan XL, tanya-tanya WA {phone}"), "location": "Surabaya"},
            ]),
        )
        .await;
    assert_eq!(first[0]["flagged"], true, "{first:?}");
    // Seven more posts of account a: the list keeps five per account, flagged first.
    let more: Vec<Value> = (0..7)
        .map(|i| {
            json!({"id": s.name(&format!("n_more{i}")), "platform": s.name("shopee"), "account": a,
                   "text": format!("Kaos polos nomor {i}, info WA {phone}"), "location": "Kota Tarakan"})
        })
        .collect();
    s.ingest(&admin, Value::Array(more)).await;

    let (status, body) = s.search(&admin, &phone).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let net = &body["networks"][0];
    // Existing fields stay.
    for field in [
        "id",
        "accounts",
        "posts",
        "flagged_posts",
        "contacts",
        "categories",
        "regions",
        "cases",
    ] {
        assert!(!net[field].is_null(), "{field} missing: {net}");
    }
    assert!(net["posts"].as_i64().unwrap() >= 9, "{net}");
    if s.fresh {
        assert_eq!(net["posts"], 9);
    }
    let list = net["post_list"].as_array().unwrap();
    let of = |handle: &str| list.iter().filter(|p| p["handle"] == handle).count();
    assert_eq!(of(&a), 5, "five posts per account: {list:?}");
    assert_eq!(of(&b), 1);
    let flagged_id = first[0]["post_id"].as_str().unwrap();
    let top = list
        .iter()
        .find(|p| p["id"] == flagged_id)
        .unwrap_or_else(|| panic!("flagged post not listed: {list:?}"));
    assert_eq!(
        list.iter().position(|p| p["handle"] == a.as_str()),
        list.iter().position(|p| p["id"] == flagged_id),
        "account a's flagged post comes before its others: {list:?}"
    );
    assert_eq!(top["link"], format!("/posts/{flagged_id}"));
    assert_eq!(top["platform"], s.name("shopee"));
    assert_eq!(top["title"], hostile);
    assert!(
        top["snippet"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{w1} {w2} jual sabu ready"))
    );
    assert!(
        top["categories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "drugs"),
        "{top}"
    );
    assert_eq!(top["flagged"], true);
    assert!(top["first_seen"].as_str().unwrap().contains('T'));
    let seen: Vec<bool> = list
        .iter()
        .map(|p| p["flagged"].as_bool().unwrap())
        .collect();
    assert!(
        seen.windows(2).all(|w| w[0] >= w[1]),
        "flagged first: {seen:?}"
    );
    assert!(list.iter().any(|p| p["id"] == first[1]["post_id"]));

    // The page lists them with links to the post pages, escapes the hostile title, and draws
    // the graph with its legend in the page's language.
    let id = net["id"].as_str().unwrap();
    for (lang, words) in [
        ("id", ["Simpul", "Unggahan", "telepon/WhatsApp"]),
        ("en", ["Nodes", "Posts", "phone/WhatsApp"]),
    ] {
        let res = s
            .http
            .get(s.url(&format!("/networks/{id}?lang={lang}")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!("href=\"/posts/{flagged_id}\"")),
            "no link to the post"
        );
        assert!(
            !html.contains("<script>alert"),
            "unescaped title on the page"
        );
        assert!(html.contains("&lt;script&gt;alert("), "escaped title shown");
        assert!(html.contains("class=\"legend\""), "graph legend");
        for w in words {
            assert!(html.contains(w), "{lang}: {w} missing");
        }
    }
    // The contact search page shows the same list.
    let (_, html) = s.search_page(&admin, &phone, "id").await;
    assert!(html.contains(&format!("href=\"/posts/{flagged_id}\"")));
    assert!(!html.contains("<script>alert"));

    // A Kalimantan Utara analyst sees the network but not the Surabaya post (404 on its page).
    let kaltara = s.token(Role::Analyst, Some("65")).await;
    let (status, scoped) = s.get(&kaltara, &format!("/api/v1/networks/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{scoped}");
    let ids: Vec<&Value> = scoped["post_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["id"])
        .collect();
    assert!(ids.contains(&&first[0]["post_id"]));
    assert!(!ids.contains(&&first[1]["post_id"]), "{scoped}");
}

#[tokio::test]
async fn network_posts_on_sqlite() {
    network_posts_story(start(false).await.unwrap()).await;
}

#[tokio::test]
async fn network_posts_on_postgres() {
    if let Some(s) = start(true).await {
        network_posts_story(s).await;
    }
}

#[tokio::test]
async fn contact_search_on_sqlite() {
    contact_search_story(start(false).await.unwrap()).await;
}

#[tokio::test]
async fn contact_search_on_postgres() {
    if let Some(s) = start(true).await {
        contact_search_story(s).await;
    }
}

#[tokio::test]
async fn networks_on_sqlite() {
    networks_story(start(false).await.unwrap()).await;
}

#[tokio::test]
async fn networks_on_postgres() {
    if let Some(s) = start(true).await {
        networks_story(s).await;
    }
}

#[tokio::test]
async fn watchlist_on_sqlite() {
    watchlist_story(start(false).await.unwrap()).await;
}

#[tokio::test]
async fn watchlist_on_postgres() {
    if let Some(s) = start(true).await {
        watchlist_story(s).await;
    }
}

/// `?contact=@handle` finds the network of the account whose own handle it is, not only of the
/// accounts that name it in a post.
async fn own_handle_story(s: Server) {
    let admin = s.token(Role::Admin, None).await;
    let kaltara = s.token(Role::Analyst, Some("65")).await;
    let own = format!("own_{}", s.tag);
    let other = format!("other_{}", s.tag);
    let lone = format!("lone_{}", s.tag);
    let phone = s.phone("18");
    s.ingest(
        &admin,
        json!([
            {"id": s.name("h1"), "platform": s.name("ig"), "account": format!("@{own}"),
             "text": format!("Order chat {phone} kak")},
            {"id": s.name("h2"), "platform": s.name("fb"), "account": other,
             "text": format!("Minat hubungi {phone} saja")},
            // No contact and not flagged: the index never sees this account.
            {"id": s.name("h3"), "platform": s.name("x"), "account": lone,
             "text": "halo semua"},
        ]),
    )
    .await;
    let mut both = vec![other.clone(), own.clone()];
    both.sort();
    // No post names the handle; the account record holds it, in any case, with or without `@`.
    for typed in [format!("@{own}"), own.to_uppercase(), format!("t.me/{own}")] {
        let (status, body) = s.search(&admin, &typed).await;
        assert_eq!(status, StatusCode::OK, "{typed}: {body}");
        assert_eq!(all_handles(&body), both, "{typed}: {body}");
        assert_eq!(body["networks"].as_array().unwrap().len(), 1, "{body}");
    }
    // The account's network is outside a Kaltara scope (its posts have no region): 404.
    let (status, body) = s.search(&kaltara, &format!("@{own}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // An account the index holds nothing of has no network.
    let (status, body) = s.search(&admin, &format!("@{lone}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // The page finds it too.
    let (status, html) = s.search_page(&admin, &format!("@{own}"), "id").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("@{other}")), "{html}");
}

#[tokio::test]
async fn own_handle_on_sqlite() {
    own_handle_story(start(false).await.unwrap()).await;
}

#[tokio::test]
async fn own_handle_on_postgres() {
    if let Some(s) = start(true).await {
        own_handle_story(s).await;
    }
}

#[tokio::test]
async fn stats_on_sqlite() {
    stats_story(start(false).await.unwrap()).await;
}

#[tokio::test]
async fn stats_on_postgres() {
    if let Some(s) = start(true).await {
        stats_story(s).await;
    }
}
