//! The JetStream story against a real server: publish with dedupe, two workers sharing the durable
//! consumer, malformed messages going to the rejected subject, and acknowledgement only after the
//! result is stored. Runs when PATROLI_TEST_NATS_URL points at a server with JetStream enabled;
//! every test uses its own stream and subject names and deletes its streams at the end.

use async_nats::jetstream::{self, stream::Stream};
use patroli_detect::Engine;
use patroli_stream::{
    PublishReport, StreamConfig, Worker, WorkerStats, connect, ensure_streams, publish_posts,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// Upper bound for any wait on worker progress: a hung test fails instead of blocking CI.
const PROGRESS_LIMIT: Duration = Duration::from_secs(120);

/// The server URL, or `None` (after saying so) when the variable is unset outside CI.
fn server_url() -> Option<String> {
    match std::env::var("PATROLI_TEST_NATS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("PATROLI_TEST_NATS_URL must be set under CI=true")
        }
        _ => {
            println!("skipped: PATROLI_TEST_NATS_URL not set");
            None
        }
    }
}

struct Fixture {
    client: async_nats::Client,
    cfg: StreamConfig,
    /// Streams a test created beyond the two in `cfg`, deleted with them.
    extra_streams: Vec<String>,
}

impl Fixture {
    /// Connects (an unreachable server fails the test) and picks names no other run uses.
    async fn new() -> Option<Fixture> {
        let url = server_url()?;
        let tag = format!("{:08x}", rand::random::<u32>());
        let cfg = StreamConfig {
            url,
            stream_posts: format!("PT_POSTS_{tag}"),
            subject_posts: format!("pt{tag}.posts.>"),
            stream_results: format!("PT_SCREENED_{tag}"),
            subject_results: format!("pt{tag}.screened.>"),
            subject_rejected: format!("pt{tag}.rejected"),
            durable: format!("pt-workers-{tag}"),
            batch: 16,
            fetch_wait_ms: 200,
            retry_delay_ms: 50,
            // Should a test die before cleaning up, its results expire on their own.
            results_max_age_secs: 3600,
            ..StreamConfig::default()
        };
        let client = connect(&cfg)
            .await
            .expect("NATS server at PATROLI_TEST_NATS_URL reachable");
        let report = ensure_streams(&client, &cfg)
            .await
            .expect("streams created");
        assert_eq!(
            report.created,
            vec![cfg.stream_posts.clone(), cfg.stream_results.clone()]
        );
        Some(Fixture {
            client,
            cfg,
            extra_streams: Vec::new(),
        })
    }

    fn js(&self) -> jetstream::Context {
        jetstream::new(self.client.clone())
    }

    async fn stream(&self, name: &str) -> Stream {
        self.js().get_stream(name).await.expect("stream exists")
    }

    async fn message_count(&self, name: &str) -> u64 {
        self.stream(name)
            .await
            .info()
            .await
            .expect("stream info")
            .state
            .messages
    }

    /// Every stored message of a stream: (sequence, subject, Nats-Msg-Id, payload as JSON).
    async fn read_all(&self, name: &str) -> Vec<(u64, String, String, Value)> {
        let mut stream = self.stream(name).await;
        let state = stream.info().await.expect("stream info").state.clone();
        let mut out = Vec::new();
        if state.messages == 0 {
            return out;
        }
        for seq in state.first_sequence..=state.last_sequence {
            // Work-queue streams have gaps where acknowledged posts were removed.
            let Ok(msg) = stream.get_raw_message(seq).await else {
                continue;
            };
            let id = msg
                .headers
                .get("Nats-Msg-Id")
                .map(|v| v.as_str().to_string())
                .unwrap_or_default();
            let json = serde_json::from_slice(&msg.payload).unwrap_or(Value::Null);
            out.push((seq, msg.subject.to_string(), id, json));
        }
        out
    }

    /// (delivered but unacknowledged, not yet delivered) on the workers' consumer.
    async fn consumer_pending(&self) -> (usize, u64) {
        let mut consumer: jetstream::consumer::PullConsumer = self
            .stream(&self.cfg.stream_posts)
            .await
            .get_consumer(&self.cfg.durable)
            .await
            .expect("consumer exists");
        let info = consumer.info().await.expect("consumer info");
        (info.num_ack_pending, info.num_pending)
    }

    async fn publish(&self, input: &str) -> PublishReport {
        publish_posts(&self.client, &self.cfg, input.as_bytes())
            .await
            .expect("publish")
    }
}

/// Deletes the test's streams however the test ends, a failed assertion included: a panic unwinds
/// through here too. The async client cannot be driven from `drop`, so a short-lived thread with
/// its own runtime does it.
impl Drop for Fixture {
    fn drop(&mut self) {
        let cfg = self.cfg.clone();
        let mut names = vec![cfg.stream_posts.clone(), cfg.stream_results.clone()];
        names.append(&mut self.extra_streams);
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let Ok(runtime) = runtime else { return };
            runtime.block_on(async {
                let Ok(client) = connect(&cfg).await else {
                    return;
                };
                let js = jetstream::new(client);
                for name in names {
                    // Already gone is fine (the ack test deletes the results stream itself).
                    let _ = js.delete_stream(&name).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// A worker on its own connection (as on its own machine), stopped through the returned sender.
struct Running {
    stop: oneshot::Sender<()>,
    stats: watch::Receiver<WorkerStats>,
    task: tokio::task::JoinHandle<Result<WorkerStats, patroli_stream::StreamError>>,
}

async fn start_worker(cfg: &StreamConfig) -> Running {
    let client = connect(cfg).await.expect("worker connects");
    let worker = Worker::new(client, cfg.clone(), Arc::new(Engine::builtin()));
    let stats = worker.stats();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(worker.run(async move {
        let _ = stopped.await;
    }));
    Running { stop, stats, task }
}

impl Running {
    async fn stop(self) -> WorkerStats {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("worker task")
            .expect("worker ran without error")
    }
}

/// Waits until `done` holds for the workers' combined counters.
async fn wait_for(workers: &mut [&mut Running], done: impl Fn(&WorkerStats) -> bool) {
    let wait = async {
        loop {
            let total = workers.iter_mut().fold(WorkerStats::default(), |mut t, w| {
                let s = *w.stats.borrow_and_update();
                t.received += s.received;
                t.screened += s.screened;
                t.flagged += s.flagged;
                t.rejected += s.rejected;
                t.retried += s.retried;
                t
            });
            if done(&total) {
                return;
            }
            let changes: Vec<_> = workers
                .iter_mut()
                .map(|w| Box::pin(w.stats.changed()))
                .collect();
            let (changed, _, _) = futures_util::future::select_all(changes).await;
            changed.expect("worker still running");
        }
    };
    tokio::time::timeout(PROGRESS_LIMIT, wait)
        .await
        .expect("workers made the expected progress");
}

fn post(id: &str, platform: Option<&str>, text: &str) -> String {
    let mut v = serde_json::json!({ "id": id, "text": text });
    if let Some(p) = platform {
        v["platform"] = p.into();
    }
    v.to_string()
}

#[tokio::test]
async fn publish_stores_each_post_once_and_reports_bad_lines() {
    let Some(mut fx) = Fixture::new().await else {
        return;
    };
    fx.cfg.max_message_bytes = 1024;
    let long = post("big", None, &"x".repeat(2000));
    let input = [
        post("a1", Some("Tokopedia"), "jual kaos polos"),
        post("a2", None, "ready tramadol"),
        "not json".to_string(),
        "   ".to_string(),
        // Same platform and id as line 1 (platform case differs): the same post again.
        post("a1", Some("tokopedia"), "jual kaos polos, edit"),
        r#"{"text":"no id here"}"#.to_string(),
        long,
        post("a3", Some("Shopee"), "masker wajah"),
    ]
    .join("\n");

    let report = fx.publish(&input).await;
    assert_eq!(report.lines, 8);
    assert_eq!(report.stored, 3);
    assert_eq!(report.duplicates, 1);
    assert_eq!(report.blank, 1);
    let bad: Vec<(u64, &str)> = report
        .bad_lines
        .iter()
        .map(|b| (b.line, b.reason.as_str()))
        .collect();
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert_eq!(bad[0].0, 3);
    assert!(bad[0].1.contains("invalid JSON at column"), "{bad:?}");
    assert_eq!(bad[1].0, 6);
    assert!(bad[1].1.contains("missing field `id`"), "{bad:?}");
    assert_eq!(bad[2].0, 7);
    assert!(bad[2].1.contains("over the limit of 1024"), "{bad:?}");

    let stored = fx.read_all(&fx.cfg.stream_posts).await;
    let seen: Vec<(String, String)> = stored
        .iter()
        .map(|(_, subject, id, _)| (subject.clone(), id.clone()))
        .collect();
    let prefix = fx.cfg.subject_posts.trim_end_matches(".>");
    assert_eq!(
        seen,
        vec![
            (format!("{prefix}.tokopedia"), "tokopedia/a1".to_string()),
            (format!("{prefix}.unknown"), "unknown/a2".to_string()),
            (format!("{prefix}.shopee"), "shopee/a3".to_string()),
        ]
    );
    // The first copy is the one kept, byte for byte.
    assert_eq!(stored[0].3["text"], "jual kaos polos");

    // Publishing the whole file again stores nothing new.
    let again = fx.publish(&input).await;
    assert_eq!(
        (again.stored, again.duplicates, again.bad_lines.len()),
        (0, 4, 3)
    );
    assert_eq!(fx.message_count(&fx.cfg.stream_posts).await, 3);

    // Streams are only created once; a second call finds them as they should be.
    let report = ensure_streams(&fx.client, &fx.cfg).await.unwrap();
    assert!(
        report.created.is_empty() && report.updated.is_empty(),
        "{report:?}"
    );
}

#[tokio::test]
async fn two_workers_screen_every_post_exactly_once() {
    let Some(fx) = Fixture::new().await else {
        return;
    };
    const N: usize = 300;
    let platforms = ["tokopedia", "shopee", "facebook"];
    let input: Vec<String> = (0..N)
        .map(|i| {
            post(
                &format!("p{i}"),
                Some(platforms[i % 3]),
                &format!("postingan nomor {i}"),
            )
        })
        .collect();
    let report = fx.publish(&input.join("\n")).await;
    assert_eq!(report.stored, N as u64);

    let mut a = start_worker(&fx.cfg).await;
    let mut b = start_worker(&fx.cfg).await;
    wait_for(&mut [&mut a, &mut b], |t| t.screened >= N as u64).await;
    let (a, b) = (a.stop().await, b.stop().await);

    // No post was handed out twice (no redelivery happened) and none was rejected.
    assert_eq!(a.screened + b.screened, N as u64, "{a:?} {b:?}");
    assert_eq!(a.received + b.received, N as u64, "{a:?} {b:?}");
    assert_eq!(a.rejected + b.rejected, 0);

    let results = fx.read_all(&fx.cfg.stream_results).await;
    assert_eq!(results.len(), N);
    let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
    let mut flagged = 0;
    let prefix = fx.cfg.subject_results.trim_end_matches(".>");
    for (_, subject, msg_id, result) in &results {
        let id = result["id"].as_str().expect("result has id").to_string();
        let platform = result["platform"].as_str().expect("result has platform");
        assert_eq!(subject, &format!("{prefix}.{platform}"));
        assert_eq!(msg_id, &format!("{platform}/{id}"));
        for key in [
            "flagged",
            "score",
            "categories",
            "scores",
            "reasons",
            "entities",
            "severity",
            "lexicon_version",
        ] {
            assert!(result.get(key).is_some(), "result lacks {key}: {result}");
        }
        flagged += usize::from(result["flagged"] == Value::Bool(true));
        *per_id.entry(id).or_default() += 1;
    }
    let expected: BTreeSet<String> = (0..N).map(|i| format!("p{i}")).collect();
    assert_eq!(per_id.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(per_id.values().all(|&n| n == 1));
    assert_eq!(flagged as u64, a.flagged + b.flagged);

    // Every post was acknowledged, so the work queue is empty.
    assert_eq!(fx.message_count(&fx.cfg.stream_posts).await, 0);
    assert_eq!(fx.consumer_pending().await, (0, 0));
}

#[tokio::test]
async fn malformed_messages_go_to_rejected_with_reason_and_sequence() {
    let Some(fx) = Fixture::new().await else {
        return;
    };
    let mut cfg = fx.cfg.clone();
    cfg.max_message_bytes = 512;
    let js = fx.js();
    let subject = cfg.post_subject(Some("olx"));
    let big = post("huge", None, &"y".repeat(600));
    let cases: Vec<(Vec<u8>, Option<&str>)> = vec![
        (b"this is not json".to_vec(), Some("invalid JSON at column")),
        (br#"{"id":"m1"}"#.to_vec(), Some("missing field `text`")),
        (
            br#"{"text":"tanpa id"}"#.to_vec(),
            Some("missing field `id`"),
        ),
        (big.into_bytes(), Some("over the limit of 512")),
        (
            b"{\"id\":\"m2\",\"text\":\"\xc3\x28\"}".to_vec(),
            Some("invalid UTF-8"),
        ),
        (post("ok1", Some("olx"), "sepatu bekas").into_bytes(), None),
        (post("ok2", Some("olx"), "helm bogo").into_bytes(), None),
    ];
    let mut expected = BTreeMap::new();
    for (payload, reason) in &cases {
        let ack = js
            .publish(subject.clone(), payload.clone().into())
            .await
            .expect("publish")
            .await
            .expect("stored");
        if let Some(reason) = reason {
            expected.insert(ack.sequence, (*reason, payload.clone()));
        }
    }

    let mut w = start_worker(&cfg).await;
    wait_for(&mut [&mut w], |t| {
        t.screened + t.rejected >= cases.len() as u64
    })
    .await;
    let stats = w.stop().await;
    assert_eq!((stats.screened, stats.rejected), (2, 5), "{stats:?}");

    let results = fx.read_all(&cfg.stream_results).await;
    let rejected: Vec<&Value> = results
        .iter()
        .filter(|(_, subject, _, _)| subject == &cfg.subject_rejected)
        .map(|(_, _, _, json)| json)
        .collect();
    assert_eq!(rejected.len(), 5);
    for record in rejected {
        let seq = record["stream_sequence"].as_u64().expect("sequence");
        let (reason, original) = &expected[&seq];
        assert!(
            record["reason"].as_str().unwrap().contains(reason),
            "{record}"
        );
        assert_eq!(record["stream"], cfg.stream_posts.as_str());
        assert_eq!(record["subject"], subject.as_str());
        assert_eq!(
            record["original_bytes"].as_u64(),
            Some(original.len() as u64)
        );
        assert_eq!(
            record["original"],
            String::from_utf8_lossy(original).as_ref()
        );
    }
    let screened: BTreeSet<&str> = results
        .iter()
        .filter(|(_, subject, _, _)| subject != &cfg.subject_rejected)
        .map(|(_, _, _, json)| json["id"].as_str().unwrap())
        .collect();
    assert_eq!(screened, BTreeSet::from(["ok1", "ok2"]));
    // Rejected messages were acknowledged too: nothing is left to redeliver.
    assert_eq!(fx.message_count(&cfg.stream_posts).await, 0);
}

#[tokio::test]
async fn posts_are_acknowledged_only_after_their_result_is_stored() {
    let Some(fx) = Fixture::new().await else {
        return;
    };
    const N: usize = 20;
    let input: Vec<String> = (0..N)
        .map(|i| post(&format!("q{i}"), None, "obat kuat"))
        .collect();
    assert_eq!(fx.publish(&input.join("\n")).await.stored, N as u64);

    // With nowhere to store results, every attempt must fail and hand the post back.
    fx.js()
        .delete_stream(&fx.cfg.stream_results)
        .await
        .expect("results stream deleted");
    let mut w = start_worker(&fx.cfg).await;
    wait_for(&mut [&mut w], |t| t.retried >= N as u64).await;
    let stats = w.stop().await;
    assert_eq!((stats.screened, stats.rejected), (0, 0), "{stats:?}");
    // A work-queue stream drops a post when it is acknowledged: all are still there.
    assert_eq!(fx.message_count(&fx.cfg.stream_posts).await, N as u64);

    // Once results can be stored, the same posts go through and only then leave the queue.
    let report = ensure_streams(&fx.client, &fx.cfg).await.unwrap();
    assert_eq!(report.created, vec![fx.cfg.stream_results.clone()]);
    let mut w = start_worker(&fx.cfg).await;
    wait_for(&mut [&mut w], |t| t.screened >= N as u64).await;
    let stats = w.stop().await;
    assert_eq!(stats.screened, N as u64);
    assert_eq!(fx.message_count(&fx.cfg.stream_results).await, N as u64);
    assert_eq!(fx.message_count(&fx.cfg.stream_posts).await, 0);
}

#[tokio::test]
async fn existing_stream_with_wrong_storage_is_reported() {
    let Some(mut fx) = Fixture::new().await else {
        return;
    };
    let name = format!("{}_MEM", fx.cfg.stream_posts);
    fx.extra_streams.push(name.clone());
    let subject = format!(
        "{}.mem.>",
        fx.cfg
            .subject_posts
            .trim_end_matches(".>")
            .replace(".posts", "")
    );
    fx.js()
        .create_stream(jetstream::stream::Config {
            name: name.clone(),
            subjects: vec![subject.clone()],
            storage: jetstream::stream::StorageType::Memory,
            ..Default::default()
        })
        .await
        .expect("memory stream created");
    let cfg = StreamConfig {
        stream_posts: name.clone(),
        subject_posts: subject,
        ..fx.cfg.clone()
    };
    let err = ensure_streams(&fx.client, &cfg).await.unwrap_err();
    assert!(err.to_string().contains("storage Memory"), "{err}");
}

#[tokio::test]
async fn a_stopped_worker_leaves_no_post_unacknowledged() {
    let Some(fx) = Fixture::new().await else {
        return;
    };
    const N: usize = 5000;
    let input: Vec<String> = (0..N)
        .map(|i| post(&format!("s{i}"), None, "jual sepatu"))
        .collect();
    assert_eq!(fx.publish(&input.join("\n")).await.stored, N as u64);

    // Stop as soon as the first batch is through, with most of the queue still waiting.
    let mut w = start_worker(&fx.cfg).await;
    wait_for(&mut [&mut w], |t| t.screened > 0).await;
    let stats = w.stop().await;
    assert!(stats.screened < N as u64, "{stats:?}");
    assert_eq!(stats.received, stats.screened, "{stats:?}");
    // Whatever the worker had pulled is settled: nothing waits for ack_wait to run out, and the
    // queue holds exactly the posts it did not screen.
    let (unacked, waiting) = fx.consumer_pending().await;
    assert_eq!(unacked, 0);
    assert_eq!(waiting, N as u64 - stats.screened);
    assert_eq!(
        fx.message_count(&fx.cfg.stream_posts).await,
        N as u64 - stats.screened
    );
    assert_eq!(
        fx.message_count(&fx.cfg.stream_results).await,
        stats.screened
    );
}

#[tokio::test]
async fn a_post_over_the_server_limit_is_a_bad_line_not_the_end_of_the_file() {
    let Some(mut fx) = Fixture::new().await else {
        return;
    };
    // Our own limit above the server's, so the server's is the one that bites.
    let server_limit = fx.client.server_info().max_payload;
    fx.cfg.max_message_bytes = server_limit * 4;
    let input = [
        post("v1", None, "sepatu"),
        post("huge", None, &"z".repeat(server_limit + 10)),
        post("v2", None, "tas"),
    ]
    .join("\n");
    let report = fx.publish(&input).await;
    assert_eq!(report.stored, 2, "{report}");
    assert_eq!(report.bad_lines.len(), 1);
    assert_eq!(report.bad_lines[0].line, 2);
    assert!(
        report.bad_lines[0]
            .reason
            .contains("NATS server's message limit"),
        "{}",
        report.bad_lines[0]
    );
}
