//! One story, told to both backends: a platform sends posts, sends them again, edits one; analysts
//! filter the queue, search it, decide; the audit chain grows, is tampered with and says where; the
//! store is reopened and still holds everything.
//!
//! SQLite always runs (temporary directory). PostgreSQL runs when `PATROLI_TEST_POSTGRES_URL` is set,
//! in a fresh database dropped at the end; under `CI=true` a missing or unreachable server fails.

use patroli_core::{AgencyKind, Category, FindingStatus, PostId, Role, Severity, VerdictKind};
use patroli_detect::{Entity, EntityKind, Field, Reason, ReasonKind, Screening};
use patroli_store::{
    AuditBreak, AuditFilter, FindingFilter, IngestPost, IngestStatus, NewApiToken, NewAuditEntry,
    NewSession, NewUser, NewVerdict, PgStore, RegionLevel, RegionRecord, ScreenedPost, SqliteStore,
    Store, StoreError, UserUpdate,
};
use serde_json::json;
use sqlx::AssertSqlSafe;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

const PHONE: &str = "+6281234567890";

fn screening(
    cats: &[(Category, f32)],
    severity: Severity,
    entities: &[(EntityKind, &str)],
) -> Screening {
    let flagged = !cats.is_empty();
    let scores: BTreeMap<Category, f32> = cats.iter().copied().collect();
    Screening {
        flagged,
        score: cats.iter().map(|c| c.1).fold(0.0, f32::max),
        categories: cats.iter().map(|c| c.0).collect(),
        scores,
        severity,
        reasons: cats
            .iter()
            .map(|(c, w)| Reason {
                rule: format!("term:{}", c.id()),
                kind: ReasonKind::Term,
                category: Some(*c),
                field: Field::Text,
                start: 0,
                end: 4,
                matched: "jual".into(),
                weight: *w,
                note: "istilah dagang".into(),
            })
            .collect(),
        entities: entities
            .iter()
            .map(|(k, v)| Entity {
                kind: *k,
                value: v.to_string(),
                field: Field::Text,
                start: 0,
                end: 1,
                attrs: BTreeMap::new(),
            })
            .collect(),
        lexicon_version: "test-1".into(),
    }
}

fn post(ext: &str, handle: Option<&str>, text: &str, region: Option<&str>) -> IngestPost {
    IngestPost {
        external_id: ext.into(),
        url: Some(format!("https://shop.example/{ext}")),
        account_handle: handle.map(str::to_string),
        account_name: handle.map(|h| format!("Toko {h}")),
        title: Some(format!("Judul {ext}")),
        text: text.into(),
        price: Some(150_000.0),
        declared_category: None,
        posted_at: None,
        location: region.map(|r| format!("lokasi {r}")),
        region_code: region.map(str::to_string),
    }
}

/// The first batch of the platform "tokomurah".
fn first_batch() -> Vec<ScreenedPost> {
    use Category::*;
    vec![
        ScreenedPost {
            post: post(
                "A1",
                Some("@Obat_Murah"),
                "jual tramadol tanpa resep, COD Tarakan",
                Some("65.71"),
            ),
            screening: screening(
                &[(Drugs, 0.9)],
                Severity::High,
                &[(EntityKind::Phone, PHONE)],
            ),
        },
        ScreenedPost {
            post: post(
                "A2",
                Some("obat_murah"),
                "pil koplo hexymer grosir",
                Some("65.01"),
            ),
            screening: screening(&[(Drugs, 0.7)], Severity::Critical, &[]),
        },
        ScreenedPost {
            post: post(
                "A3",
                Some("obat_murah"),
                "kaos polos murah tramadol-free",
                Some("64.71"),
            ),
            screening: screening(&[], Severity::None, &[]),
        },
        ScreenedPost {
            post: post(
                "A4",
                Some("glowing_skin"),
                "krim pemutih tanpa izin edar",
                Some("64.71"),
            ),
            screening: screening(
                &[(UnregisteredProducts, 0.6)],
                Severity::Medium,
                &[(EntityKind::Phone, PHONE), (EntityKind::Phone, PHONE)],
            ),
        },
        ScreenedPost {
            post: post("A5", None, "lowongan kerja luar negeri gaji besar", None),
            screening: screening(&[(TraffickingRecruitment, 0.8)], Severity::High, &[]),
        },
    ]
}

/// Raw access past the trait, to tamper with rows the way an attacker with the database would.
enum Raw {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

impl Raw {
    async fn exec(&self, sql: &str) -> u64 {
        match self {
            Raw::Sqlite(p) => sqlx::query(AssertSqlSafe(sql.to_string()))
                .execute(p)
                .await
                .expect("raw sql")
                .rows_affected(),
            Raw::Pg(p) => sqlx::query(AssertSqlSafe(sql.to_string()))
                .execute(p)
                .await
                .expect("raw sql")
                .rows_affected(),
        }
    }
}

fn ids(items: &[patroli_store::QueueItem]) -> Vec<String> {
    items.iter().map(|i| i.external_id.clone()).collect()
}

async fn queue(store: &dyn Store, f: FindingFilter) -> Vec<String> {
    ids(&store.list_findings(&f).await.unwrap().items)
}

/// Everything up to the reopen. Returns the ids the durability check looks for.
async fn story(store: Arc<dyn Store>, raw: &Raw) -> (PostId, u64) {
    let s = store.as_ref();
    s.ping().await.unwrap();

    // Regions: bulk upsert, idempotent, later values win.
    let mut regions = vec![
        RegionRecord {
            code: "65".into(),
            name: "Kalimantan Utara".into(),
            level: RegionLevel::Province,
            parent_code: None,
        },
        RegionRecord {
            code: "65.01".into(),
            name: "Kab. Bulungan".into(),
            level: RegionLevel::Regency,
            parent_code: Some("65".into()),
        },
        RegionRecord {
            code: "65.71".into(),
            name: "Tarakan".into(),
            level: RegionLevel::City,
            parent_code: Some("65".into()),
        },
        RegionRecord {
            code: "64".into(),
            name: "Kalimantan Timur".into(),
            level: RegionLevel::Province,
            parent_code: None,
        },
    ];
    assert_eq!(s.upsert_regions(regions.clone()).await.unwrap(), 4);
    regions[2].name = "Kota Tarakan".into();
    s.upsert_regions(regions).await.unwrap();
    let provinces = s.list_regions(None).await.unwrap();
    assert_eq!(
        provinces
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>(),
        ["64", "65"]
    );
    let kaltara = s.list_regions(Some("65")).await.unwrap();
    assert_eq!(kaltara.len(), 2);
    assert_eq!(
        s.get_region("65.71").await.unwrap().unwrap().name,
        "Kota Tarakan"
    );

    // A refused batch rolls back whole and leaves the store writable.
    let mut bad = first_batch();
    bad[2].post.external_id = " ".into();
    let err = s.ingest_batch("tokomurah", bad).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(s.get_platform_by_name("tokomurah").await.unwrap().is_none());

    // Ingest: everything new.
    let out = s.ingest_batch("tokomurah", first_batch()).await.unwrap();
    assert_eq!(out.len(), 5);
    assert!(
        out.iter()
            .all(|o| o.status == IngestStatus::Created && o.version == 1)
    );
    assert_eq!(
        out.iter()
            .map(|o| o.finding_id.is_some())
            .collect::<Vec<_>>(),
        [true, true, false, true, true]
    );
    let a1 = out[0].post_id;
    let a2 = out[1].post_id;
    let a3 = out[2].post_id;
    let a4 = out[3].post_id;

    // Same batch again: nothing new, ids stable.
    let again = s.ingest_batch("tokomurah", first_batch()).await.unwrap();
    assert!(
        again
            .iter()
            .all(|o| o.status == IngestStatus::Unchanged && o.finding_id.is_none())
    );
    assert_eq!(
        again.iter().map(|o| o.post_id).collect::<Vec<_>>(),
        out.iter().map(|o| o.post_id).collect::<Vec<_>>()
    );
    let all = FindingFilter::default();
    assert_eq!(s.list_findings(&all).await.unwrap().total, 4);

    // The same account handle in other spellings is one account.
    let p1 = s.get_post(a1).await.unwrap().unwrap();
    let p2 = s.get_post(a2).await.unwrap().unwrap();
    assert_eq!(p1.account_id, p2.account_id);
    assert_eq!(p1.account_handle.as_deref(), Some("obat_murah"));
    assert!(p1.last_seen >= p1.first_seen);

    // A changed text is a new version with a new finding; the old finding leaves the queue.
    let mut edited = first_batch();
    edited.truncate(1);
    edited[0].post.text = "jual tramadol dan tramadol generik, kirim ke Tarakan".into();
    // A post repeated inside one batch behaves as if sent twice.
    edited.push(edited[0].clone());
    let out2 = s.ingest_batch("tokomurah", edited).await.unwrap();
    assert_eq!(out2[0].status, IngestStatus::NewVersion);
    assert_eq!(out2[0].version, 2);
    assert_eq!(out2[0].post_id, a1);
    assert!(out2[0].finding_id.is_some());
    assert_eq!(out2[1].status, IngestStatus::Unchanged);
    assert_eq!(out2[1].version_id, out2[0].version_id);
    assert_eq!(s.list_findings(&all).await.unwrap().total, 4);
    let with_old = FindingFilter {
        include_superseded: true,
        ..FindingFilter::default()
    };
    assert_eq!(s.list_findings(&with_old).await.unwrap().total, 5);

    // Another platform, same external id: a different post.
    let other = s
        .ingest_batch(
            "pasarbebas",
            vec![ScreenedPost {
                post: post("A1", Some("obat_murah"), "sabu paket hemat", Some("65.01")),
                screening: screening(&[(Category::Drugs, 0.95)], Severity::High, &[]),
            }],
        )
        .await
        .unwrap();
    assert_eq!(other[0].status, IngestStatus::Created);
    assert_ne!(other[0].post_id, a1);

    // Queue order: severity, then score.
    assert_eq!(queue(s, all.clone()).await, ["A2", "A1", "A1", "A5", "A4"]);
    let top = s.list_findings(&all).await.unwrap().items;
    assert_eq!(top[0].finding.severity, Severity::Critical);
    assert_eq!(top[1].platform, "pasarbebas");
    assert_eq!(top[1].finding.score, 0.95);
    assert_eq!(top[0].finding.reasons[0].note, "istilah dagang");
    assert!(top.iter().all(|i| i.finding.current));

    // Filters.
    let f = |g: fn(&mut FindingFilter)| {
        let mut f = FindingFilter::default();
        g(&mut f);
        f
    };
    assert_eq!(
        queue(s, f(|f| f.category = Some(Category::UnregisteredProducts))).await,
        ["A4"]
    );
    assert_eq!(
        queue(s, f(|f| f.platform = Some("pasarbebas".into()))).await,
        ["A1"]
    );
    assert_eq!(
        queue(s, f(|f| f.region_prefix = Some("65".into()))).await,
        ["A2", "A1", "A1"]
    );
    assert_eq!(
        queue(s, f(|f| f.region_prefix = Some("65.71".into()))).await,
        ["A1"]
    );
    // A code is matched by segment: "6" is no region, so it holds nothing.
    assert!(
        queue(s, f(|f| f.region_prefix = Some("6".into())))
            .await
            .is_empty()
    );
    // Region scope: Kalimantan Timur's analyst sees only its post; a UI filter cannot widen it.
    assert_eq!(
        queue(s, f(|f| f.scope_prefix = Some("64".into()))).await,
        ["A4"]
    );
    assert!(
        queue(
            s,
            f(|f| {
                f.scope_prefix = Some("64".into());
                f.region_prefix = Some("65".into());
            })
        )
        .await
        .is_empty()
    );
    assert_eq!(
        queue(s, f(|f| f.min_severity = Some(Severity::High))).await,
        ["A2", "A1", "A1", "A5"]
    );
    let later = OffsetDateTime::now_utc() + Duration::hours(1);
    let from_later = FindingFilter {
        from: Some(later),
        ..FindingFilter::default()
    };
    assert!(queue(s, from_later).await.is_empty());
    let to_later = FindingFilter {
        to: Some(later),
        ..FindingFilter::default()
    };
    assert_eq!(s.list_findings(&to_later).await.unwrap().total, 5);

    // Full-text search over flagged text, whole words, case-insensitive; operators are text.
    assert_eq!(
        queue(s, f(|f| f.text = Some("TRAMADOL".into()))).await,
        ["A1"]
    );
    assert_eq!(
        queue(s, f(|f| f.text = Some("hexymer grosir".into()))).await,
        ["A2"]
    );
    assert!(
        queue(s, f(|f| f.text = Some("hexymer tramadol".into())))
            .await
            .is_empty()
    );
    // "kaos" is only in an unflagged post; quotes, stars and brackets are not query syntax.
    assert!(
        queue(s, f(|f| f.text = Some("kaos".into())))
            .await
            .is_empty()
    );
    assert_eq!(
        queue(s, f(|f| f.text = Some("\"izin*\" (edar".into()))).await,
        ["A4"]
    );
    assert!(
        queue(s, f(|f| f.text = Some("*\"()".into())))
            .await
            .is_empty()
    );

    // Pages.
    let mut page = FindingFilter {
        limit: 2,
        ..FindingFilter::default()
    };
    let first = s.list_findings(&page).await.unwrap();
    assert_eq!((first.items.len(), first.total), (2, 5));
    page.offset = 4;
    assert_eq!(queue(s, page).await, ["A4"]);

    // Agencies, units, users.
    let bpom = s.ensure_agency(AgencyKind::Bpom, "BPOM").await.unwrap();
    assert_eq!(
        s.ensure_agency(AgencyKind::Bpom, "BPOM").await.unwrap().id,
        bpom.id
    );
    let unit = s
        .create_unit(bpom.id, "Loka POM Tarakan", Some("65"))
        .await
        .unwrap();
    assert_eq!(
        s.list_units(Some(bpom.id)).await.unwrap(),
        vec![unit.clone()]
    );
    let analyst = s
        .create_user(NewUser {
            username: "analis.tarakan".into(),
            display_name: Some("Analis Tarakan".into()),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            role: Role::Analyst,
            agency: AgencyKind::Bpom,
            agency_id: Some(bpom.id),
            unit_id: Some(unit.id),
            region_code: Some("65".into()),
        })
        .await
        .unwrap();
    let dup = s
        .create_user(NewUser {
            username: "analis.tarakan".into(),
            display_name: None,
            password_hash: "x".into(),
            role: Role::Viewer,
            agency: AgencyKind::Polri,
            agency_id: None,
            unit_id: None,
            region_code: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Conflict { .. }), "{dup:?}");
    let found = s
        .get_user_by_username("analis.tarakan")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, analyst);
    assert!(!format!("{found:?}").contains("argon2"));
    let updated = s
        .update_user(
            analyst.id,
            UserUpdate {
                display_name: Some(None),
                role: Some(Role::Investigator),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.role, Role::Investigator);
    assert_eq!(updated.display_name, None);
    assert_eq!(s.get_user(analyst.id).await.unwrap().unwrap(), updated);

    // Verdicts: decide the critical post; it leaves the pending queue, history keeps it.
    let v = s
        .record_post_verdict(
            a2,
            analyst.id,
            VerdictKind::Confirmed,
            "obat keras dijual bebas",
        )
        .await
        .unwrap();
    assert_eq!(v.username, "analis.tarakan");
    let pending = f(|f| f.status = Some(FindingStatus::Pending));
    assert_eq!(queue(s, pending.clone()).await, ["A1", "A1", "A5", "A4"]);
    assert_eq!(
        queue(s, f(|f| f.status = Some(FindingStatus::Confirmed))).await,
        ["A2"]
    );
    let finding_a4 = s.latest_finding_for_post(a4).await.unwrap().unwrap();
    s.record_verdict(NewVerdict {
        finding_id: finding_a4.id,
        user_id: analyst.id,
        verdict: VerdictKind::Dismissed,
        reason: "produk terdaftar".into(),
    })
    .await
    .unwrap();
    assert_eq!(
        s.get_finding(finding_a4.id).await.unwrap().unwrap().status,
        FindingStatus::Dismissed
    );
    let missing = s
        .record_post_verdict(a3, analyst.id, VerdictKind::Confirmed, "x")
        .await
        .unwrap_err();
    assert!(
        matches!(missing, StoreError::NotFound { .. }),
        "{missing:?}"
    );

    // Post page: versions, findings (newest first), verdicts, the account's other posts; scoped.
    let d = s.post_detail(a1, Some("65")).await.unwrap().unwrap();
    assert_eq!(
        d.versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(d.versions[1].text.contains("generik"));
    assert_eq!(d.findings.len(), 2);
    assert!(d.findings[0].current && !d.findings[1].current);
    assert_eq!(d.findings[0].to_screening().categories, [Category::Drugs]);
    assert_eq!(d.account.as_ref().unwrap().handle, "obat_murah");
    let others: BTreeSet<PostId> = d.account_posts.iter().map(|p| p.id).collect();
    assert_eq!(others, BTreeSet::from([a2, a3]));
    assert!(s.post_detail(a1, Some("64")).await.unwrap().is_none());
    let d2 = s.post_detail(a2, None).await.unwrap().unwrap();
    assert_eq!(d2.verdicts.len(), 1);
    assert_eq!(d2.findings[0].status, FindingStatus::Confirmed);
    assert!(s.post_detail(PostId::new(), None).await.unwrap().is_none());

    // Entities link posts that share a contact (deduplicated within a post).
    let linked: BTreeSet<PostId> = s
        .find_entity(Some(EntityKind::Phone), PHONE, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.post_id)
        .collect();
    assert_eq!(linked, BTreeSet::from([a1, a4]));
    assert_eq!(s.entities_of_post(a4).await.unwrap().len(), 1);

    // Tokens.
    let platform = s.get_platform_by_name("tokomurah").await.unwrap().unwrap();
    let token = s
        .create_api_token(NewApiToken {
            token_hash: "ab".repeat(32),
            name: "crawler".into(),
            role: Role::Platform,
            platform_id: Some(platform.id),
            user_id: None,
            created_by: Some(analyst.id),
        })
        .await
        .unwrap();
    assert_eq!(token.platform.as_deref(), Some("tokomurah"));
    let again = s
        .create_api_token(NewApiToken {
            token_hash: "ab".repeat(32),
            name: "dup".into(),
            role: Role::Platform,
            platform_id: Some(platform.id),
            user_id: None,
            created_by: None,
        })
        .await
        .unwrap_err();
    assert!(again.is_conflict());
    let used = OffsetDateTime::now_utc();
    s.touch_api_token(token.id, used).await.unwrap();
    s.revoke_api_token(token.id).await.unwrap();
    let t = s.find_api_token(&"ab".repeat(32)).await.unwrap().unwrap();
    assert!(t.revoked_at.is_some());
    assert_eq!(
        t.last_used_at,
        Some(patroli_core::audit::truncate_time(used))
    );
    assert!(s.find_api_token("nope").await.unwrap().is_none());

    // Sessions: live, expired, and a disabled user's.
    let now = OffsetDateTime::now_utc();
    s.create_session(NewSession {
        id_hash: "cd".repeat(32),
        user_id: analyst.id,
        csrf_token: "csrf".into(),
        expires_at: now + Duration::hours(1),
    })
    .await
    .unwrap();
    let (sess, user) = s
        .session_user(&"cd".repeat(32), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((sess.csrf_token.as_str(), user.id), ("csrf", analyst.id));
    assert!(
        s.session_user(&"cd".repeat(32), now + Duration::hours(2))
            .await
            .unwrap()
            .is_none()
    );
    s.set_user_disabled(analyst.id, true).await.unwrap();
    assert!(
        s.session_user(&"cd".repeat(32), now)
            .await
            .unwrap()
            .is_none()
    );
    s.set_user_disabled(analyst.id, false).await.unwrap();
    assert_eq!(
        s.delete_expired_sessions(now + Duration::hours(2))
            .await
            .unwrap(),
        1
    );
    assert!(
        s.find_session(&"cd".repeat(32), now)
            .await
            .unwrap()
            .is_none()
    );

    // Audit: sequential and concurrent appends form one unbroken chain.
    for i in 0..5 {
        s.append_audit(NewAuditEntry {
            actor: format!("user:{}", analyst.id),
            action: "post.view".into(),
            target: Some(format!("post:{a1}")),
            detail: json!({"i": i, "ua": "test", "nested": {"b": 1.5, "a": [1, 2]}}),
        })
        .await
        .unwrap();
    }
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .append_audit(NewAuditEntry {
                    actor: "system".into(),
                    action: "login.ok".into(),
                    target: None,
                    detail: json!({"n": i}),
                })
                .await
                .unwrap()
                .seq
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (6..=25).collect::<Vec<i64>>());
    assert_eq!(s.verify_audit().await.unwrap(), Ok(25));
    let views = s
        .list_audit(&AuditFilter {
            action: Some("post.view".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(views.len(), 5);
    assert_eq!(views[0].detail["nested"]["b"], json!(1.5));

    // Tamper: edit a row behind the store's back; verify names it. Then put it back.
    raw.exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
        .await;
    assert_eq!(
        s.verify_audit().await.unwrap(),
        Err(AuditBreak {
            seq: 3,
            kind: patroli_core::audit::BreakKind::Edited
        })
    );
    let original = format!("user:{}", analyst.id);
    raw.exec(&format!(
        "UPDATE audit_log SET actor = '{original}' WHERE seq = 3"
    ))
    .await;
    assert_eq!(s.verify_audit().await.unwrap(), Ok(25));
    assert_eq!(raw.exec("DELETE FROM audit_log WHERE seq = 10").await, 1);
    let broken = s.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 10);
    assert_eq!(broken.kind, patroli_core::audit::BreakKind::Missing);

    (
        a1,
        s.list_findings(&FindingFilter::default())
            .await
            .unwrap()
            .total,
    )
}

/// After reopening: the data and the (still broken) chain are as they were.
async fn after_reopen(s: &dyn Store, a1: PostId, total: u64) {
    let p = s.get_post(a1).await.unwrap().expect("post survives reopen");
    assert_eq!(p.version_count, 2);
    assert_eq!(p.region_code.as_deref(), Some("65.71"));
    assert_eq!(
        s.list_findings(&FindingFilter::default())
            .await
            .unwrap()
            .total,
        total
    );
    assert!(
        s.get_user_by_username("analis.tarakan")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(s.verify_audit().await.unwrap().unwrap_err().seq, 10);
    // Ingest stays idempotent across restarts.
    let out = s.ingest_batch("tokomurah", first_batch()).await.unwrap();
    assert_eq!(out[1].status, IngestStatus::Unchanged);
}

#[tokio::test]
async fn story_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = Arc::new(SqliteStore::open(&data).await.unwrap());
    let raw = Raw::Sqlite(store.sqlite_pool().clone());
    let (a1, total) = story(store.clone(), &raw).await;
    store.close().await;
    drop(store);
    assert!(data.join(patroli_store::SQLITE_FILE).exists());
    let reopened = patroli_store::open(&format!("sqlite://{}", data.display()))
        .await
        .unwrap();
    after_reopen(reopened.as_ref(), a1, total).await;
    reopened.close().await;
}

fn postgres_url() -> Option<String> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    match std::env::var("PATROLI_TEST_POSTGRES_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ if ci => panic!("CI=true but PATROLI_TEST_POSTGRES_URL is not set"),
        _ => {
            println!("skipped: PATROLI_TEST_POSTGRES_URL not set");
            None
        }
    }
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    format!("{}/{db}{query}", &base[..host_end])
}

#[tokio::test]
async fn story_postgres() {
    let Some(url) = postgres_url() else { return };
    let admin = sqlx::PgPool::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at PATROLI_TEST_POSTGRES_URL unreachable: {e}"));
    let db = format!("patroli_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&admin)
        .await
        .unwrap();
    let test_url = with_database(&url, &db);
    // Run the story in its own task so a failure still drops the database below.
    let result = tokio::spawn(async move {
        let store = Arc::new(PgStore::connect(&test_url).await.unwrap());
        let raw = Raw::Pg(store.pg_pool().clone());
        let (a1, total) = story(store.clone(), &raw).await;
        store.close().await;
        let reopened = patroli_store::open(&test_url).await.unwrap();
        after_reopen(reopened.as_ref(), a1, total).await;
        reopened.close().await;
    })
    .await;
    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The webhook delivery log of a takedown: appended per attempt, read back in attempt order with
/// status, error and when the next attempt is due, and kept apart from other requests' logs.
async fn webhook_delivery_log(s: &dyn Store) {
    use patroli_core::workflow::Urgency;
    use patroli_store::{NewTakedown, WebhookDelivery};
    let platform = format!("toko-{}", uuid::Uuid::new_v4().simple());
    let out = s.ingest_batch(&platform, first_batch()).await.unwrap();
    let pl = s.get_platform_by_name(&platform).await.unwrap().unwrap();
    let at = OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
    let new = |post| NewTakedown {
        platform_id: pl.id,
        case_id: None,
        account_id: None,
        agency_id: None,
        requested_by: "user:test".into(),
        legal_basis: "PP 71/2019".into(),
        urgency: Urgency::Normal,
        category: None,
        requested_at: at,
        due_at: at + Duration::hours(24),
        posts: vec![post],
        marks: vec![],
    };
    let t = s.create_takedown(new(out[0].post_id)).await.unwrap();
    let other = s.create_takedown(new(out[1].post_id)).await.unwrap();
    assert!(s.webhook_deliveries(t.id).await.unwrap().is_empty());
    let failed = WebhookDelivery {
        takedown_id: t.id,
        url: "http://hooks.example/patroli".into(),
        attempt: 1,
        at,
        status_code: None,
        error: Some("connect failed: connection refused".into()),
        next_retry_at: Some(at + Duration::seconds(1)),
    };
    let answered = WebhookDelivery {
        attempt: 2,
        at: at + Duration::seconds(1),
        status_code: Some(503),
        error: None,
        next_retry_at: Some(at + Duration::seconds(3)),
        ..failed.clone()
    };
    let delivered = WebhookDelivery {
        attempt: 3,
        at: at + Duration::seconds(3),
        status_code: Some(200),
        next_retry_at: None,
        ..answered.clone()
    };
    // Written out of order: read back by attempt.
    for d in [&delivered, &failed, &answered] {
        s.record_webhook_delivery(d).await.unwrap();
    }
    s.record_webhook_delivery(&WebhookDelivery {
        takedown_id: other.id,
        ..failed.clone()
    })
    .await
    .unwrap();
    assert_eq!(
        s.webhook_deliveries(t.id).await.unwrap(),
        vec![failed, answered, delivered]
    );
    assert_eq!(s.webhook_deliveries(other.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn webhook_delivery_log_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("data")).await.unwrap();
    webhook_delivery_log(&store).await;
    store.close().await;
}

/// On a fresh database, like the story: the shared one may be used by a branch with other
/// migrations.
#[tokio::test]
async fn webhook_delivery_log_postgres() {
    let Some(url) = postgres_url() else { return };
    let admin = sqlx::PgPool::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at PATROLI_TEST_POSTGRES_URL unreachable: {e}"));
    let db = format!("patroli_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&admin)
        .await
        .unwrap();
    let test_url = with_database(&url, &db);
    let result = tokio::spawn(async move {
        let store = PgStore::connect(&test_url).await.unwrap();
        webhook_delivery_log(&store).await;
        store.close().await;
    })
    .await;
    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[test]
fn database_name_is_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "x"),
        "postgres://h:5432/x"
    );
}

/// The official region table from `patroli-core` loads through the bulk upsert.
#[tokio::test]
async fn official_regions_load() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let table = patroli_core::region::Regions::builtin();
    let rows: Vec<RegionRecord> = table.all().iter().map(RegionRecord::from).collect();
    let n = store.upsert_regions(rows).await.unwrap();
    assert_eq!(n as usize, table.all().len());
    assert_eq!(store.list_regions(None).await.unwrap().len(), 38);
    let kaltara = store.list_regions(Some("65")).await.unwrap();
    assert!(
        kaltara
            .iter()
            .any(|r| r.code == "65.71" && r.level == RegionLevel::City)
    );
    assert!(
        kaltara
            .iter()
            .any(|r| r.code == "65.01" && r.level == RegionLevel::Regency)
    );
    store.close().await;
}

const CHILD_DIR_ENV: &str = "PATROLI_STORE_TEST_CHILD_DIR";

fn kill_batch(i: usize) -> Vec<ScreenedPost> {
    (0..50)
        .map(|j| ScreenedPost {
            post: post(
                &format!("K{i}-{j}"),
                Some("writer"),
                "jual tramadol",
                Some("65"),
            ),
            screening: screening(&[(Category::Drugs, 0.9)], Severity::High, &[]),
        })
        .collect()
}

/// Child half of `sqlite_acknowledged_writes_survive_kill_9`: writes batches and acknowledges each
/// on stdout once `ingest_batch` has returned. Does nothing unless started by the parent.
#[tokio::test]
async fn kill_9_child_writer() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    use std::io::Write;
    let store = SqliteStore::open(&dir).await.unwrap();
    // Bounded: the parent kills us long before this ends.
    for i in 0..2_000 {
        store.ingest_batch("killshop", kill_batch(i)).await.unwrap();
        let mut out = std::io::stdout().lock();
        writeln!(out, "ACK {i}").unwrap();
        out.flush().unwrap();
    }
}

/// A process killed with SIGKILL right after acknowledging writes loses none of them.
#[tokio::test]
async fn sqlite_acknowledged_writes_survive_kill_9() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "kill_9_child_writer",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut last_ack = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("ACK ") {
            let n: usize = n.trim().parse().unwrap();
            last_ack = Some(n);
            if n >= 20 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix: no destructors, no checkpoint, no clean close.
    child.wait().unwrap();
    let last = last_ack.expect("child acknowledged writes");
    let store = SqliteStore::open(dir.path()).await.unwrap();
    for i in 0..=last {
        for j in [0, 49] {
            assert!(
                store
                    .get_post_by_external_id("killshop", &format!("K{i}-{j}"))
                    .await
                    .unwrap()
                    .is_some(),
                "acknowledged post K{i}-{j} lost"
            );
        }
    }
    store.close().await;
}
