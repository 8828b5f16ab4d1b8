//! Telling a platform about a new takedown request: `POST` of the JSON body to its webhook URL,
//! signed `X-Patroli-Signature: sha256=<hex HMAC-SHA256(secret, body)>`, retried with exponential
//! backoff, every attempt in the delivery log.
//!
//! Never delivers to loopback, private, link-local or otherwise internal addresses: the host is
//! resolved once, every address is checked, and the connection goes to a checked address (so a
//! DNS answer that changes between check and connect cannot redirect it). Plain HTTP/1.1 only;
//! TLS belongs to an egress proxy.

use super::WebhookTarget;
use crate::AppState;
use patroli_core::TakedownId;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Attempts per delivery, and the first wait (doubled after each failure).
const ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_secs(2);

pub(crate) fn spawn_delivery(
    state: AppState,
    target: WebhookTarget,
    allow_private: bool,
    takedown: TakedownId,
    body: serde_json::Value,
) {
    tokio::spawn(async move {
        let body = body.to_string();
        let mut wait = FIRST_BACKOFF;
        for attempt in 1..=ATTEMPTS {
            let result = deliver(&target, allow_private, &body).await;
            let (code, error) = match &result {
                Ok(code) => (Some(*code), None),
                Err(e) => (None, Some(e.clone())),
            };
            if let Err(e) = state
                .store()
                .record_webhook_delivery(takedown, &target.url, attempt, code, error.as_deref())
                .await
            {
                tracing::warn!(error = %e, "could not log a webhook delivery");
            }
            match result {
                Ok(c) if (200..300).contains(&c) => return,
                // A refused destination will not become acceptable by waiting.
                Err(e) if e.starts_with("refused") => return,
                _ => {}
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    });
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

/// One attempt; the HTTP status, or why it failed (`refused: ...` when the address is internal).
pub(crate) async fn deliver(
    target: &WebhookTarget,
    allow_private: bool,
    body: &str,
) -> Result<u16, String> {
    let (host, port, path) = parse_url(&target.url)?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot resolve host: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err("host has no address".into());
    }
    if !allow_private && let Some(bad) = addrs.iter().find(|a| is_internal(a.ip())) {
        return Err(format!("refused: {} is an internal address", bad.ip()));
    }
    let mut stream = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect(addrs[0]),
    )
    .await
    .map_err(|_| "connect timed out".to_string())?
    .map_err(|e| format!("connect failed: {e}"))?;
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
    let head = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| "response timed out".to_string())?
        .map_err(|e| format!("exchange failed: {e}"))?;
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| "no HTTP status in the answer".to_string())
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
        assert!(refused.starts_with("refused"), "{refused}");

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
}
