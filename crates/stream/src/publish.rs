//! `patroli publish FILE`: JSON Lines in the scan schema -> the posts stream.
//!
//! Every line is either stored (JetStream acknowledged it), recognised as a duplicate of a post
//! already stored (same `platform/id` within the duplicate window), or reported as a bad line with
//! its number and reason. Nothing is dropped silently. Publishes are pipelined with a bounded
//! window of unacknowledged messages so a large file neither waits one round trip per post nor
//! buffers unboundedly.

use crate::{PostRecord, StreamConfig, StreamError};
use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use bytes::Bytes;
use std::collections::VecDeque;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// A line that was not published, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number in the input.
    pub line: u64,
    pub reason: String,
}

/// Counts from one [`publish_posts`] run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// Lines read, including blank and bad ones.
    pub lines: u64,
    /// Posts newly stored in the posts stream.
    pub stored: u64,
    /// Posts JetStream recognised as already stored (same `platform/id`) and did not store again.
    pub duplicates: u64,
    /// Empty or whitespace-only lines, skipped.
    pub blank: u64,
    /// Lines that were not posts, in input order.
    pub bad_lines: Vec<BadLine>,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// One summary line for the end of `patroli publish`.
impl std::fmt::Display for PublishReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} lines: {} stored, {} already stored (duplicates), {} blank, {} rejected",
            self.lines,
            self.stored,
            self.duplicates,
            self.blank,
            self.bad_lines.len()
        )
    }
}

/// How often a publish whose acknowledgement failed (timeout, server restart) is sent again.
/// Re-sending is safe: the Nats-Msg-Id makes JetStream drop the copy if the first one did land.
const PUBLISH_ATTEMPTS: u32 = 3;

/// Bytes of a message's headers besides the Nats-Msg-Id value (header names and framing).
const HEADER_MARGIN: usize = 64;

struct InFlight {
    line: u64,
    subject: String,
    msg_id: String,
    payload: Bytes,
    ack: PublishAckFuture,
}

/// Publishes every post in `reader` (JSON Lines) to the posts stream and waits for JetStream to
/// acknowledge each one. Returns an error only when the stream itself refuses posts after retries
/// (server gone, stream full or missing); bad input lines are in the report instead.
pub async fn publish_posts<R>(
    client: &async_nats::Client,
    cfg: &StreamConfig,
    reader: R,
) -> Result<PublishReport, StreamError>
where
    R: AsyncBufRead + Unpin,
{
    cfg.validate()?;
    // The client holds one permit per unacknowledged publish; with fewer permits than our window
    // the next send would wait for an acknowledgement we have not started awaiting yet.
    let js = jetstream::ContextBuilder::new()
        .max_ack_inflight(cfg.publish_window + 1)
        .build(client.clone());
    let max_payload = client.server_info().max_payload;
    let mut reader = reader;
    let mut report = PublishReport::default();
    let mut window: VecDeque<InFlight> = VecDeque::with_capacity(cfg.publish_window);
    let mut buf = Vec::new();

    while let Some(len) = read_line_bounded(&mut reader, &mut buf, cfg.max_message_bytes).await? {
        report.lines += 1;
        let line_no = report.lines;
        if len > cfg.max_message_bytes {
            report.bad_lines.push(BadLine {
                line: line_no,
                reason: format!("{len} bytes, over the limit of {}", cfg.max_message_bytes),
            });
            continue;
        }
        let mut line = buf.as_slice();
        if line_no == 1 {
            line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            report.blank += 1;
            continue;
        }
        let post = match PostRecord::parse(line, cfg.max_message_bytes) {
            Ok(post) => post,
            Err(reason) => {
                report.bad_lines.push(BadLine {
                    line: line_no,
                    reason,
                });
                continue;
            }
        };
        if window.len() >= cfg.publish_window {
            let oldest = window.pop_front().expect("window is full");
            settle(&js, oldest, &mut report).await?;
        }
        let subject = cfg.post_subject(post.platform.as_deref());
        let msg_id = post.message_id();
        // The server refuses a message over its own limit (headers included): that is a bad line,
        // not a reason to stop publishing the rest of the file.
        if line.len() + msg_id.len() + HEADER_MARGIN > max_payload {
            report.bad_lines.push(BadLine {
                line: line_no,
                reason: format!(
                    "{} bytes, over the NATS server's message limit of {max_payload}",
                    line.len()
                ),
            });
            continue;
        }
        // The original line is forwarded untouched: fields this version does not know survive.
        let payload = Bytes::copy_from_slice(line);
        let ack = send(&js, &subject, &msg_id, payload.clone(), line_no).await?;
        window.push_back(InFlight {
            line: line_no,
            subject,
            msg_id,
            payload,
            ack,
        });
    }
    while let Some(pending) = window.pop_front() {
        settle(&js, pending, &mut report).await?;
    }
    Ok(report)
}

async fn send(
    js: &jetstream::Context,
    subject: &str,
    msg_id: &str,
    payload: Bytes,
    line: u64,
) -> Result<PublishAckFuture, StreamError> {
    js.send_publish(
        subject.to_string(),
        PublishMessage::build().payload(payload).message_id(msg_id),
    )
    .await
    .map_err(|e| StreamError::PublishFailed {
        line,
        attempts: 1,
        source: e.into(),
    })
}

/// Waits for one acknowledgement, re-sending the post if it did not come.
async fn settle(
    js: &jetstream::Context,
    pending: InFlight,
    report: &mut PublishReport,
) -> Result<(), StreamError> {
    let mut ack = pending.ack;
    let mut attempt = 1;
    loop {
        match ack.await {
            Ok(ack) => {
                if ack.duplicate {
                    report.duplicates += 1;
                } else {
                    report.stored += 1;
                }
                return Ok(());
            }
            Err(e) if attempt >= PUBLISH_ATTEMPTS => {
                return Err(StreamError::PublishFailed {
                    line: pending.line,
                    attempts: attempt,
                    source: e.into(),
                });
            }
            Err(e) => {
                tracing::warn!(line = pending.line, error = %e, "post not acknowledged, sending again");
                attempt += 1;
                ack = send(
                    js,
                    &pending.subject,
                    &pending.msg_id,
                    pending.payload.clone(),
                    pending.line,
                )
                .await?;
            }
        }
    }
}

/// Reads one line (without its `\n` / `\r\n`) into `buf`, keeping at most `max + 1` bytes of it so
/// a gigantic line cannot exhaust memory. Returns the line's full length, or `None` at the end of
/// input.
pub(crate) async fn read_line_bounded<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<usize>> {
    buf.clear();
    let mut len = 0usize;
    let mut read_any = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            break;
        }
        read_any = true;
        let (chunk, consumed, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        let room = (max + 1).saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        len += chunk.len();
        reader.consume(consumed);
        if done {
            break;
        }
    }
    if !read_any {
        return Ok(None);
    }
    if len == buf.len() && buf.last() == Some(&b'\r') {
        buf.pop();
        len -= 1;
    }
    Ok(Some(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<(usize, Vec<u8>)> {
        // A tiny buffer so lines straddle several fill_buf calls.
        let mut reader = tokio::io::BufReader::with_capacity(3, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(len) = read_line_bounded(&mut reader, &mut buf, max).await.unwrap() {
            out.push((len, buf.clone()));
        }
        out
    }

    #[test]
    fn report_reads_as_one_line() {
        let report = PublishReport {
            lines: 8,
            stored: 3,
            duplicates: 1,
            blank: 1,
            bad_lines: vec![BadLine {
                line: 3,
                reason: "missing field `id`".into(),
            }],
        };
        assert_eq!(
            report.to_string(),
            "8 lines: 3 stored, 1 already stored (duplicates), 1 blank, 1 rejected"
        );
        assert_eq!(
            report.bad_lines[0].to_string(),
            "line 3: missing field `id`"
        );
    }

    #[tokio::test]
    async fn reads_lines_and_bounds_long_ones() {
        let got = lines(b"ab\r\n\nlong-line\nlast", 4).await;
        assert_eq!(
            got,
            vec![
                (2, b"ab".to_vec()),
                (0, b"".to_vec()),
                (9, b"long-".to_vec()),
                (4, b"last".to_vec()),
            ]
        );
        assert!(lines(b"", 4).await.is_empty());
    }
}
