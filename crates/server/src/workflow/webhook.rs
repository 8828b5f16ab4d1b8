//! Telling a platform about a new takedown request: `POST` of the JSON body to its webhook URL,
//! signed `X-Patroli-Signature: sha256=<hex HMAC-SHA256(secret, body)>`, retried with exponential
//! backoff, every attempt in the delivery log.
//!
//! Never delivers to loopback, private, link-local or otherwise internal addresses: the host is
//! resolved once, every address is checked, and the connection goes to a checked address (so a
//! DNS answer that changes between check and connect cannot redirect it). Plain HTTP/1.1 only;
//! TLS belongs to an egress proxy.

use super::{WebhookRetry, WebhookTarget};
use crate::AppState;
use patroli_core::TakedownId;
use patroli_store::{CaseStore, WebhookDelivery};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Limits of one attempt's connect and of its exchange.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an attempt got no 2xx status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttemptError {
    pub message: String,
    /// Waiting will not help: the address is internal or the URL is unusable.
    pub permanent: bool,
}

impl AttemptError {
    fn transient(message: impl Into<String>) -> Self {
        AttemptError {
            message: message.into(),
            permanent: false,
        }
    }

    fn permanent(message: impl Into<String>) -> Self {
        AttemptError {
            message: message.into(),
            permanent: true,
        }
    }
}

pub(crate) fn spawn_delivery(
    state: AppState,
    target: WebhookTarget,
    allow_private: bool,
    retry: WebhookRetry,
    takedown: TakedownId,
    body: serde_json::Value,
) {
    tokio::spawn(async move {
        let body = body.to_string();
        run_delivery(
            state.store(),
            &target,
            allow_private,
            retry,
            takedown,
            &body,
            OffsetDateTime::now_utc,
            tokio::time::sleep,
        )
        .await;
    });
}

/// Tries until a 2xx status, a permanent failure or the last attempt, logging every attempt
/// with when the next one is due. The clock and the wait are passed in so tests need not wait.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_delivery<W, F>(
    log: &dyn CaseStore,
    target: &WebhookTarget,
    allow_private: bool,
    retry: WebhookRetry,
    takedown: TakedownId,
    body: &str,
    now: impl Fn() -> OffsetDateTime,
    mut wait: W,
) where
    W: FnMut(Duration) -> F,
    F: Future<Output = ()>,
{
    for attempt in 1.. {
        let result = deliver(target, allow_private, body).await;
        let at = now();
        let delivered = matches!(result, Ok(c) if (200..300).contains(&c));
        let permanent = matches!(&result, Err(e) if e.permanent);
        let next = if delivered || permanent {
            None
        } else {
            retry.wait_after(attempt)
        };
        let (status_code, error) = match result {
            Ok(code) => (Some(code), None),
            Err(e) => (None, Some(e.message)),
        };
        let entry = WebhookDelivery {
            takedown_id: takedown,
            url: target.url.clone(),
            attempt,
            at,
            status_code,
            error,
            next_retry_at: next.map(|d| at + d),
        };
        if let Err(e) = log.record_webhook_delivery(&entry).await {
            tracing::warn!(error = %e, "could not log a webhook delivery");
        }
        match next {
            Some(d) => {
                tracing::info!(takedown = %takedown, attempt, status = ?entry.status_code,
                    error = ?entry.error, retry_in = ?d, "webhook delivery failed, retrying");
                wait(d).await;
            }
            None => {
                if !delivered {
                    tracing::warn!(takedown = %takedown, attempt, status = ?entry.status_code,
                        error = ?entry.error, "webhook delivery given up");
                }
                return;
            }
        }
    }
}

/// HMAC-SHA256 (RFC 2104) with SHA-256's 64-byte block.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

pub(crate) fn signature(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), body))
    )
}

/// True for addresses a webhook must never reach.
pub(crate) fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // carrier-grade NAT
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 can reach IPv4 internals
        }
    }
}

/// `http://host[:port]/path` -> (host, port, path).
pub(crate) fn parse_url(url: &str) -> Result<(String, u16, String), String> {
    if url.chars().any(|c| c.is_control() || c == ' ') {
        return Err("webhook URL contains spaces or control characters".into());
    }
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// webhook URLs are delivered (put TLS in an egress proxy)")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err("webhook URL has no host or carries credentials".into());
    }
    let (host, port) = if let Some(stripped) = authority.strip_prefix('[') {
        let (h, p) = stripped.split_once(']').ok_or("bad IPv6 host")?;
        (h.to_string(), p.strip_prefix(':').unwrap_or("80"))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p),
            None => (authority.to_string(), "80"),
        }
    };
    let port: u16 = port.parse().map_err(|_| "bad port in webhook URL")?;
    Ok((host, port, path.to_string()))
}

/// One attempt: the HTTP status, or why there is none (permanent when the address is internal
/// or the URL unusable).
pub(crate) async fn deliver(
    target: &WebhookTarget,
    allow_private: bool,
    body: &str,
) -> Result<u16, AttemptError> {
    let (host, port, path) = parse_url(&target.url).map_err(AttemptError::permanent)?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| AttemptError::transient(format!("cannot resolve host: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(AttemptError::transient("host has no address"));
    }
    if !allow_private && let Some(bad) = addrs.iter().find(|a| is_internal(a.ip())) {
        return Err(AttemptError::permanent(format!(
            "refused: {} is an internal address",
            bad.ip()
        )));
    }
    let mut stream =
        tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addrs[0]))
            .await
            .map_err(|_| AttemptError::transient("connect timed out"))?
            .map_err(|e| AttemptError::transient(format!("connect failed: {e}")))?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nX-Patroli-Signature: {}\r\nConnection: close\r\n\r\n{body}",
        body.len(),
        signature(&target.secret, body.as_bytes()),
    );
    let exchange = async {
        stream.write_all(request.as_bytes()).await?;
        let mut head = Vec::new();
        let mut buf = [0u8; 512];
        // The status line is all we need; stop reading after it.
        while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 8192 {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(head)
    };
    let head = tokio::time::timeout(EXCHANGE_TIMEOUT, exchange)
        .await
        .map_err(|_| AttemptError::transient("response timed out"))?
        .map_err(|e| AttemptError::transient(format!("exchange failed: {e}")))?;
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| AttemptError::transient("no HTTP status in the answer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(signature("k", b"x").starts_with("sha256="));
    }

    #[test]
    fn internal_addresses_are_recognized() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2001:4860:4860::8888", "1.1.1.1"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_parse() {
        assert_eq!(
            parse_url("http://hooks.example:8080/a/b").unwrap(),
            ("hooks.example".into(), 8080, "/a/b".into())
        );
        assert_eq!(
            parse_url("http://[::1]:9/x").unwrap(),
            ("::1".into(), 9, "/x".into())
        );
        assert!(parse_url("https://x/").is_err());
        assert!(parse_url("http://user:pw@x/").is_err());
        // No request smuggling through the path.
        assert!(parse_url("http://x/a\r\nX-Evil: 1").is_err());
        assert!(parse_url("http://x/a b").is_err());
    }

    #[tokio::test]
    async fn loopback_is_refused_unless_allowed_and_signature_is_sent() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let target = WebhookTarget {
            url: format!("http://127.0.0.1:{}/hook", addr.port()),
            secret: "rahasia".into(),
        };
        let refused = deliver(&target, false, "{}").await.unwrap_err();
        assert!(refused.message.starts_with("refused"), "{refused:?}");
        assert!(refused.permanent);

        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            while !String::from_utf8_lossy(&got).contains("{\"a\":1}") {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                .await
                .unwrap();
            String::from_utf8(got).unwrap()
        });
        let code = deliver(&target, true, "{\"a\":1}").await.unwrap();
        assert_eq!(code, 202);
        let request = server.await.unwrap();
        let expected = signature("rahasia", b"{\"a\":1}");
        assert!(
            request.contains(&format!("X-Patroli-Signature: {expected}")),
            "{request}"
        );
    }

    /// A receiver on 127.0.0.1 answering each connection with the next status of `statuses`;
    /// yields the requests it read.
    async fn receiver(statuses: Vec<u16>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://127.0.0.1:{}/hook",
            listener.local_addr().unwrap().port()
        );
        let task = tokio::spawn(async move {
            let mut requests = Vec::new();
            for status in statuses {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut got = Vec::new();
                let mut buf = [0u8; 1024];
                while !String::from_utf8_lossy(&got).ends_with('}') {
                    let n = s.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                let answer = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
                s.write_all(answer.as_bytes()).await.unwrap();
                requests.push(String::from_utf8(got).unwrap());
            }
            requests
        });
        (url, task)
    }

    /// Runs a delivery on a fake clock whose waits only advance the clock; returns the log and
    /// the waits asked for.
    async fn run_fake(
        url: String,
        allow_private: bool,
        retry: WebhookRetry,
    ) -> (Vec<WebhookDelivery>, Vec<Duration>, OffsetDateTime) {
        use patroli_store::{NewTakedown, Store};
        use std::cell::{Cell, RefCell};
        let dir = tempfile::tempdir().unwrap();
        let store = patroli_store::SqliteStore::open(dir.path()).await.unwrap();
        let text = "jual pil koplo";
        let engine = patroli_detect::Engine::builtin();
        let screening = engine.screen(&patroli_detect::Post {
            text,
            ..Default::default()
        });
        let out = store
            .ingest_batch(
                "toko",
                vec![patroli_store::ScreenedPost {
                    post: patroli_store::IngestPost {
                        external_id: "1".into(),
                        url: None,
                        account_handle: None,
                        account_name: None,
                        title: None,
                        text: text.into(),
                        price: None,
                        declared_category: None,
                        posted_at: None,
                        location: None,
                        region_code: None,
                    },
                    screening,
                }],
            )
            .await
            .unwrap();
        let post = out[0].post_id;
        let platform = store.get_platform_by_name("toko").await.unwrap().unwrap();
        let start = OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
        let t = store
            .create_takedown(NewTakedown {
                platform_id: platform.id,
                case_id: None,
                account_id: None,
                agency_id: None,
                requested_by: "user:test".into(),
                legal_basis: "PP 71/2019".into(),
                urgency: patroli_core::workflow::Urgency::Normal,
                category: None,
                requested_at: start,
                due_at: start + time::Duration::hours(24),
                posts: vec![post],
                marks: vec![],
            })
            .await
            .unwrap();
        let clock = Cell::new(start);
        let waits = RefCell::new(Vec::new());
        let target = WebhookTarget {
            url,
            secret: "rahasia".into(),
        };
        run_delivery(
            &store,
            &target,
            allow_private,
            retry,
            t.id,
            "{\"a\":1}",
            || clock.get(),
            |d| {
                waits.borrow_mut().push(d);
                clock.set(clock.get() + d);
                std::future::ready(())
            },
        )
        .await;
        (
            store.webhook_deliveries(t.id).await.unwrap(),
            waits.into_inner(),
            start,
        )
    }

    #[tokio::test]
    async fn failures_are_retried_with_doubling_waits_then_given_up() {
        let (url, rx) = receiver(vec![500; 5]).await;
        let (log, waits, start) = run_fake(url, true, WebhookRetry::default()).await;
        let s = Duration::from_secs;
        assert_eq!(waits, vec![s(1), s(2), s(4), s(8)]);
        assert_eq!(log.len(), 5);
        let mut at = start;
        for (i, d) in log.iter().enumerate() {
            assert_eq!(d.attempt, i as u32 + 1);
            assert_eq!(d.status_code, Some(500));
            assert_eq!(d.error, None);
            assert_eq!(d.at, at);
            match waits.get(i) {
                Some(w) => {
                    assert_eq!(d.next_retry_at, Some(at + *w));
                    at += *w;
                }
                None => assert_eq!(d.next_retry_at, None, "the last attempt has no next"),
            }
        }
        let requests = rx.await.unwrap();
        assert_eq!(requests.len(), 5);
        let sig = signature("rahasia", b"{\"a\":1}");
        assert!(
            requests
                .iter()
                .all(|r| r.contains(&format!("X-Patroli-Signature: {sig}")))
        );
    }

    #[tokio::test]
    async fn retrying_stops_at_the_first_success() {
        let (url, rx) = receiver(vec![503, 200]).await;
        let retry = WebhookRetry {
            attempts: 4,
            first_backoff: Duration::from_millis(250),
        };
        let (log, waits, _) = run_fake(url, true, retry).await;
        assert_eq!(waits, vec![Duration::from_millis(250)]);
        let codes: Vec<_> = log.iter().map(|d| (d.attempt, d.status_code)).collect();
        assert_eq!(codes, vec![(1, Some(503)), (2, Some(200))]);
        assert!(log[0].next_retry_at.is_some());
        assert_eq!(log[1].next_retry_at, None);
        assert_eq!(rx.await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn an_internal_address_is_refused_once_and_not_retried() {
        let (url, _rx) = receiver(vec![200]).await;
        let (log, waits, _) = run_fake(url, false, WebhookRetry::default()).await;
        assert!(waits.is_empty());
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].status_code, None);
        assert_eq!(log[0].next_retry_at, None);
        let error = log[0].error.as_deref().unwrap();
        assert!(error.starts_with("refused: 127.0.0.1"), "{error}");
    }

    #[tokio::test]
    async fn connection_failures_are_logged_and_retried() {
        // A port nobody listens on (bound, then closed).
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let retry = WebhookRetry {
            attempts: 2,
            first_backoff: Duration::from_secs(1),
        };
        let (log, waits, _) = run_fake(format!("http://127.0.0.1:{port}/hook"), true, retry).await;
        assert_eq!(waits, vec![Duration::from_secs(1)]);
        assert_eq!(log.len(), 2);
        for d in &log {
            assert_eq!(d.status_code, None);
            assert!(
                d.error.as_deref().unwrap().starts_with("connect failed"),
                "{d:?}"
            );
        }
    }
}
