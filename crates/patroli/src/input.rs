//! Reading posts from JSON Lines or CSV, shared by `scan`, `eval` and `demo`.
//!
//! Two stages, so the expensive one can run in parallel:
//! 1. [`RecordReader`] cuts a byte stream into records (one line, or for CSV one possibly multi-line
//!    quoted record) with a hard size cap: a record over [`MAX_RECORD_BYTES`] is skipped while it is
//!    read, never buffered whole, so a 1 GB file without newlines costs at most the cap in memory.
//! 2. [`RecordParser::parse`] turns one record's bytes into an [`InputPost`] or a one-line reason
//!    (bad JSON, missing `id`/`text`, wrong types, invalid UTF-8, unknown label).
//!
//! Nothing here decides what to do with a rejected record; the caller reports it with its line number.

use anyhow::{Context, bail};
use patroli_detect::{Category, Post};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, BufRead};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest record accepted. Longer records are rejected (and skipped without being buffered).
pub const MAX_RECORD_BYTES: usize = 10 * 1024 * 1024;

/// How an input file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

impl InputFormat {
    /// The format for `path`: the flag wins, otherwise `.csv` means CSV and anything else JSON Lines.
    pub fn for_path(flag: Option<InputFormat>, path: &Path) -> InputFormat {
        flag.unwrap_or_else(|| {
            let is_csv = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            if is_csv {
                InputFormat::Csv
            } else {
                InputFormat::Jsonl
            }
        })
    }
}

/// A post identifier as given: a string, or an integer kept as a number in the output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum InputId {
    Text(String),
    Number(i64),
}

impl fmt::Display for InputId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputId::Text(s) => f.write_str(s),
            InputId::Number(n) => write!(f, "{n}"),
        }
    }
}

/// The account that published a post: `"handle"` or `{"handle": ..., "name": ...}` in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputAccount {
    pub handle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One post read from input, owned so it can cross threads.
#[derive(Debug, Clone, PartialEq)]
pub struct InputPost {
    pub id: InputId,
    pub text: String,
    pub title: Option<String>,
    pub platform: Option<String>,
    pub url: Option<String>,
    pub account: Option<InputAccount>,
    pub price: Option<f64>,
    pub location: Option<String>,
    /// Validated RFC 3339 timestamp, as written.
    pub posted_at: Option<String>,
    /// The marketplace category the seller declared (`declared_category` or `category`).
    pub declared_category: Option<String>,
    /// Expected categories, for `eval` (`None` when the record has no `labels`).
    pub labels: Option<Vec<Category>>,
}

impl InputPost {
    /// The borrowed view the engine screens.
    pub fn as_post(&self) -> Post<'_> {
        Post {
            text: &self.text,
            title: self.title.as_deref(),
            declared_category: self.declared_category.as_deref(),
            price: self.price,
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Stage 1: cutting a stream into size-capped records.

/// One record cut from the stream. `line` is the 1-based line where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawRecord {
    Data {
        line: u64,
        bytes: Vec<u8>,
    },
    /// Longer than the cap; its bytes were skipped. `len` is its full length.
    TooLong {
        line: u64,
        len: usize,
    },
}

impl RawRecord {
    pub fn line(&self) -> u64 {
        match self {
            RawRecord::Data { line, .. } | RawRecord::TooLong { line, .. } => *line,
        }
    }
}

/// What one physical line looked like.
struct LineInfo {
    /// Full length, even when only a prefix was kept.
    len: usize,
    /// Number of `"` in the whole line (CSV needs the parity to find multi-line records).
    quotes: usize,
}

/// Append one line (without its `\n`) to `buf`, keeping at most `room` bytes of it and skipping
/// the rest in place. Returns `None` at end of input.
fn read_line_capped(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    room: usize,
    count_quotes: bool,
) -> io::Result<Option<LineInfo>> {
    let mut info = LineInfo { len: 0, quotes: 0 };
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(any.then_some(info));
        }
        any = true;
        let (chunk, used, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        let kept = info.len.min(room);
        let keep = chunk.len().min(room - kept);
        buf.extend_from_slice(&chunk[..keep]);
        if count_quotes {
            info.quotes += memchr::memchr_iter(b'"', chunk).count();
        }
        info.len += chunk.len();
        reader.consume(used);
        if done {
            return Ok(Some(info));
        }
    }
}

/// Cuts one input stream into [`RawRecord`]s. For CSV it reads the header first.
pub struct RecordReader {
    reader: Box<dyn BufRead + Send>,
    parser: RecordParser,
    /// Lines consumed so far.
    line: u64,
    cap: usize,
}

impl RecordReader {
    pub fn new(reader: Box<dyn BufRead + Send>, format: InputFormat) -> anyhow::Result<Self> {
        Self::with_cap(reader, format, MAX_RECORD_BYTES)
    }

    pub fn with_cap(
        reader: Box<dyn BufRead + Send>,
        format: InputFormat,
        cap: usize,
    ) -> anyhow::Result<Self> {
        let mut this = RecordReader {
            reader,
            parser: RecordParser::Jsonl,
            line: 0,
            cap,
        };
        if format == InputFormat::Csv {
            let header = match this.next_raw(true)? {
                Some(RawRecord::Data { bytes, .. }) => CsvHeader::parse(&bytes)?,
                Some(RawRecord::TooLong { .. }) => bail!("CSV header is longer than the size cap"),
                None => bail!("CSV input is empty (a header row is required)"),
            };
            this.parser = RecordParser::Csv(Arc::new(header));
        }
        Ok(this)
    }

    /// The parser matching this stream (cheap to clone into worker threads).
    pub fn parser(&self) -> RecordParser {
        self.parser.clone()
    }

    /// The next non-blank record, or `None` at end of input.
    pub fn next_record(&mut self) -> io::Result<Option<RawRecord>> {
        let csv = matches!(self.parser, RecordParser::Csv(_));
        self.next_raw(csv)
    }

    fn next_raw(&mut self, csv: bool) -> io::Result<Option<RawRecord>> {
        loop {
            let start = self.line + 1;
            let mut bytes = Vec::new();
            let mut total = 0usize;
            let mut quotes = 0usize;
            let mut first = true;
            // A CSV record continues on the next line while a quoted field is open (odd quote count;
            // an escaped `""` keeps the parity).
            while first || (csv && quotes % 2 == 1) {
                if !first {
                    total += 1;
                    if total <= self.cap {
                        bytes.push(b'\n');
                    }
                }
                let room = self.cap.saturating_sub(total);
                match read_line_capped(&mut *self.reader, &mut bytes, room, csv)? {
                    Some(info) => {
                        self.line += 1;
                        total += info.len;
                        quotes += info.quotes;
                        if bytes.last() == Some(&b'\r') && total <= self.cap {
                            bytes.pop();
                        }
                    }
                    None if first => return Ok(None),
                    // An unterminated quote at end of input: hand over what there is; the CSV
                    // parser reports it.
                    None => break,
                }
                first = false;
            }
            if total > self.cap {
                return Ok(Some(RawRecord::TooLong {
                    line: start,
                    len: total,
                }));
            }
            if start == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
                bytes.drain(..3);
            }
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(RawRecord::Data { line: start, bytes }));
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Stage 2: parsing one record.

/// Turns one record's bytes into a post. Cloned into worker threads.
#[derive(Debug, Clone)]
pub enum RecordParser {
    Jsonl,
    Csv(Arc<CsvHeader>),
}

impl RecordParser {
    /// Parse one record. The error is a short reason for the `line N: reason` report.
    pub fn parse(&self, bytes: &[u8]) -> Result<InputPost, String> {
        if let Err(e) = std::str::from_utf8(bytes) {
            return Err(format!("invalid UTF-8 at byte {}", e.valid_up_to()));
        }
        match self {
            RecordParser::Jsonl => parse_json(bytes),
            RecordParser::Csv(header) => header.parse_record(bytes),
        }
    }
}

/// Render a serde_json error without its "at line 1 column N" suffix (the line is ours, not its).
fn json_reason(err: serde_json::Error) -> String {
    let column = err.column();
    let mut msg = err.to_string();
    if let Some(at) = msg.rfind(" at line ") {
        msg.truncate(at);
    }
    match err.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("invalid JSON at column {column}: {msg}")
        }
        _ => msg,
    }
}

fn parse_json(bytes: &[u8]) -> Result<InputPost, String> {
    let raw: JsonPost = serde_json::from_slice(bytes).map_err(json_reason)?;
    raw.into_post()
}

#[derive(Deserialize)]
struct JsonPost {
    id: IdField,
    text: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    account: Option<AccountField>,
    #[serde(default)]
    price: Option<PriceField>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    posted_at: Option<String>,
    #[serde(default, alias = "category")]
    declared_category: Option<String>,
    #[serde(default)]
    labels: Option<Vec<String>>,
}

impl JsonPost {
    fn into_post(self) -> Result<InputPost, String> {
        let price = match self.price {
            None => None,
            Some(PriceField(Ok(n))) => Some(n),
            Some(PriceField(Err(text))) => Some(parse_price(&text)?),
        };
        finish(InputPost {
            id: self.id.0,
            text: self.text,
            title: self.title,
            platform: self.platform,
            url: self.url,
            account: self.account.map(|a| a.0),
            price,
            location: self.location,
            posted_at: self.posted_at,
            declared_category: self.declared_category,
            labels: None,
        })
        .and_then(|mut post| {
            post.labels = self.labels.map(|l| parse_labels(&l)).transpose()?;
            Ok(post)
        })
    }
}

/// Checks shared by both formats.
fn finish(post: InputPost) -> Result<InputPost, String> {
    if let InputId::Text(id) = &post.id
        && id.trim().is_empty()
    {
        return Err("`id` is empty".into());
    }
    if let Some(at) = &post.posted_at {
        use time::format_description::well_known::Rfc3339;
        if time::OffsetDateTime::parse(at, &Rfc3339).is_err() {
            return Err(format!("`posted_at` is not an RFC 3339 timestamp: {at:?}"));
        }
    }
    if let Some(account) = &post.account
        && account.handle.trim().is_empty()
    {
        return Err("`account` handle is empty".into());
    }
    Ok(post)
}

fn parse_labels<S: AsRef<str>>(labels: &[S]) -> Result<Vec<Category>, String> {
    let mut out = Vec::new();
    for label in labels {
        let label = label.as_ref().trim();
        let category: Category = label
            .parse()
            .map_err(|_| format!("`labels`: unknown category {label:?}"))?;
        if !out.contains(&category) {
            out.push(category);
        }
    }
    out.sort();
    Ok(out)
}

/// A price written as text: "150000", "Rp 150.000", "Rp150,000". Indonesian writing uses `.` as the
/// thousands separator, so both separators are dropped; decimals of rupiah do not occur in listings.
fn parse_price(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let digits = trimmed
        .strip_prefix("Rp")
        .or_else(|| trimmed.strip_prefix("rp"))
        .or_else(|| trimmed.strip_prefix("RP"))
        .unwrap_or(trimmed)
        .trim();
    if !digits.is_empty()
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
    {
        let plain: String = digits.chars().filter(char::is_ascii_digit).collect();
        if let Ok(n) = plain.parse::<f64>() {
            return Ok(n);
        }
    }
    Err(format!("`price` is not a number: {text:?}"))
}

/// `id`: a string or an integer.
struct IdField(InputId);

impl<'de> Deserialize<'de> for IdField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IdField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`id` as a string or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IdField, E> {
                Ok(IdField(InputId::Text(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<IdField, E> {
                Ok(IdField(InputId::Text(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IdField, E> {
                Ok(IdField(InputId::Number(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IdField, E> {
                i64::try_from(v)
                    .map(|n| IdField(InputId::Number(n)))
                    .map_err(|_| E::custom("`id` integer is too large"))
            }
        }
        d.deserialize_any(V)
    }
}

/// `account`: a handle string or `{"handle", "name"?}`.
struct AccountField(InputAccount);

impl<'de> Deserialize<'de> for AccountField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AccountField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`account` as a handle string or an object with `handle` and `name`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AccountField, E> {
                Ok(AccountField(InputAccount {
                    handle: v.to_owned(),
                    name: None,
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<AccountField, A::Error> {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Obj {
                    handle: String,
                    #[serde(default)]
                    name: Option<String>,
                }
                let obj = Obj::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(AccountField(InputAccount {
                    handle: obj.handle,
                    name: obj.name,
                }))
            }
        }
        d.deserialize_any(V)
    }
}

/// `price`: a number, or text still to be parsed (kept as `Err(text)` until then).
struct PriceField(Result<f64, String>);

impl<'de> Deserialize<'de> for PriceField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PriceField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`price` as a number or a string such as \"Rp 150.000\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PriceField, E> {
                Ok(PriceField(Ok(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PriceField, E> {
                Ok(PriceField(Ok(v as f64)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PriceField, E> {
                Ok(PriceField(Ok(v as f64)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PriceField, E> {
                Ok(PriceField(Err(v.to_owned())))
            }
        }
        d.deserialize_any(V)
    }
}

/// Column positions of a CSV file, from its header row.
#[derive(Debug, Clone)]
pub struct CsvHeader {
    width: usize,
    id: usize,
    text: usize,
    title: Option<usize>,
    platform: Option<usize>,
    url: Option<usize>,
    account: Option<usize>,
    account_name: Option<usize>,
    price: Option<usize>,
    location: Option<usize>,
    posted_at: Option<usize>,
    declared_category: Option<usize>,
    labels: Option<usize>,
}

fn csv_reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(bytes.len().clamp(64, 64 * 1024))
        .from_reader(bytes)
}

impl CsvHeader {
    fn parse(bytes: &[u8]) -> anyhow::Result<CsvHeader> {
        let record = csv_reader(bytes)
            .records()
            .next()
            .transpose()
            .context("cannot parse the CSV header")?
            .context("CSV header is empty")?;
        let names: Vec<String> = record
            .iter()
            .map(|n| n.trim().to_ascii_lowercase())
            .collect();
        let find = |name: &str| names.iter().position(|n| n == name);
        let required =
            |name: &str| find(name).with_context(|| format!("CSV header has no `{name}` column"));
        Ok(CsvHeader {
            width: names.len(),
            id: required("id")?,
            text: required("text")?,
            title: find("title"),
            platform: find("platform"),
            url: find("url"),
            account: find("account").or_else(|| find("account_handle")),
            account_name: find("account_name"),
            price: find("price"),
            location: find("location"),
            posted_at: find("posted_at"),
            declared_category: find("declared_category").or_else(|| find("category")),
            labels: find("labels"),
        })
    }

    fn parse_record(&self, bytes: &[u8]) -> Result<InputPost, String> {
        let record = csv_reader(bytes)
            .records()
            .next()
            .transpose()
            .map_err(|e| format!("invalid CSV: {e}"))?
            .ok_or("empty CSV record")?;
        if record.len() != self.width {
            return Err(format!(
                "expected {} CSV fields (as in the header), got {}",
                self.width,
                record.len()
            ));
        }
        // Empty optional cells mean "absent".
        let get = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .filter(|v| !v.trim().is_empty())
                .map(str::to_owned)
        };
        let price = get(self.price).map(|p| parse_price(&p)).transpose()?;
        let labels = match self.labels {
            None => None,
            Some(i) => {
                let cell = record.get(i).unwrap_or("").trim();
                let parts: Vec<&str> = cell
                    .split([';', ',', '|'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                Some(parse_labels(&parts)?)
            }
        };
        finish(InputPost {
            id: InputId::Text(record.get(self.id).unwrap_or("").to_owned()),
            text: record.get(self.text).unwrap_or("").to_owned(),
            title: get(self.title),
            platform: get(self.platform),
            url: get(self.url),
            account: get(self.account).map(|handle| InputAccount {
                handle,
                name: get(self.account_name),
            }),
            price,
            location: get(self.location),
            posted_at: get(self.posted_at),
            declared_category: get(self.declared_category),
            labels,
        })
    }
}

// ---------------------------------------------------------------------------------------------------
// Opening sources.

/// One input to read: a file or stdin (`-`).
pub struct Source {
    /// Name for messages: the path as given, or `<stdin>`.
    pub name: String,
    pub format: InputFormat,
    /// Size in bytes when known (for the progress bar).
    pub len: Option<u64>,
    pub reader: Box<dyn BufRead + Send>,
}

/// Open every path up front, so a typo fails before any output is written. No paths means stdin.
pub fn open_sources(paths: &[PathBuf], flag: Option<InputFormat>) -> anyhow::Result<Vec<Source>> {
    const BUF: usize = 256 * 1024;
    let stdin_path = [PathBuf::from("-")];
    let paths = if paths.is_empty() {
        &stdin_path[..]
    } else {
        paths
    };
    paths
        .iter()
        .map(|path| {
            if path.as_os_str() == "-" {
                return Ok(Source {
                    name: "<stdin>".into(),
                    format: flag.unwrap_or(InputFormat::Jsonl),
                    len: None,
                    reader: Box::new(io::BufReader::with_capacity(BUF, io::stdin())),
                });
            }
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            let len = file
                .metadata()
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len());
            Ok(Source {
                name: path.display().to_string(),
                format: InputFormat::for_path(flag, path),
                len,
                reader: Box::new(io::BufReader::with_capacity(BUF, file)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &str, format: InputFormat, cap: usize) -> Vec<RawRecord> {
        let reader = Box::new(io::Cursor::new(input.as_bytes().to_vec()));
        let mut r = RecordReader::with_cap(reader, format, cap).unwrap();
        std::iter::from_fn(|| r.next_record().unwrap()).collect()
    }

    #[test]
    fn lines_are_numbered_and_blank_lines_skipped() {
        let got = records("a\r\n\n  \nb\nccc", InputFormat::Jsonl, 100);
        assert_eq!(
            got,
            vec![
                RawRecord::Data {
                    line: 1,
                    bytes: b"a".to_vec()
                },
                RawRecord::Data {
                    line: 4,
                    bytes: b"b".to_vec()
                },
                RawRecord::Data {
                    line: 5,
                    bytes: b"ccc".to_vec()
                },
            ]
        );
    }

    #[test]
    fn oversized_line_is_skipped_not_kept() {
        let long = "x".repeat(50);
        let got = records(&format!("ok\n{long}\nafter\n"), InputFormat::Jsonl, 10);
        assert_eq!(got[1], RawRecord::TooLong { line: 2, len: 50 });
        assert_eq!(
            got[2],
            RawRecord::Data {
                line: 3,
                bytes: b"after".to_vec()
            }
        );
    }

    #[test]
    fn csv_quoted_newlines_stay_in_one_record() {
        let input = "id,text\n1,\"two\nlines \"\"quoted\"\"\"\n2,plain\n";
        let reader = Box::new(io::Cursor::new(input.as_bytes().to_vec()));
        let mut r = RecordReader::new(reader, InputFormat::Csv).unwrap();
        let parser = r.parser();
        let first = r.next_record().unwrap().unwrap();
        let second = r.next_record().unwrap().unwrap();
        assert_eq!((first.line(), second.line()), (2, 4));
        let RawRecord::Data { bytes, .. } = first else {
            panic!("too long")
        };
        assert_eq!(parser.parse(&bytes).unwrap().text, "two\nlines \"quoted\"");
    }

    #[test]
    fn json_fields_and_account_forms() {
        let p = RecordParser::Jsonl;
        let a = p
            .parse(br#"{"id":"a","text":"t","account":"@seller","price":"Rp 150.000"}"#)
            .unwrap();
        assert_eq!(a.account.unwrap().handle, "@seller");
        assert_eq!(a.price, Some(150_000.0));
        let b = p
            .parse(br#"{"id":7,"text":"t","account":{"handle":"h","name":"N"},"category":"Kaos"}"#)
            .unwrap();
        assert_eq!(b.id, InputId::Number(7));
        assert_eq!(b.account.unwrap().name.as_deref(), Some("N"));
        assert_eq!(b.declared_category.as_deref(), Some("Kaos"));
    }

    #[test]
    fn json_rejections_have_reasons() {
        let p = RecordParser::Jsonl;
        let reason = |s: &[u8]| p.parse(s).unwrap_err();
        assert!(reason(br#"{"id":"a"}"#).contains("missing field `text`"));
        assert!(reason(br#"{"text":"a"}"#).contains("missing field `id`"));
        assert!(reason(br#"{"id":"a","text":5}"#).contains("invalid type"));
        assert!(reason(br#"{"id":"a","text":"t""#).starts_with("invalid JSON"));
        assert!(reason(b"{\"id\":\"a\",\"text\":\"\xff\"}").contains("invalid UTF-8"));
        assert!(reason(br#"{"id":"a","text":"t","posted_at":"kemarin"}"#).contains("RFC 3339"));
        assert!(reason(br#"{"id":"a","text":"t","labels":["narkoba"]}"#).contains("unknown"));
        assert!(reason(br#"{"id":"a","text":"t","account":{"name":"x"}}"#).contains("handle"));
    }

    #[test]
    fn price_text_forms() {
        assert_eq!(parse_price("Rp 1.250.000"), Ok(1_250_000.0));
        assert_eq!(parse_price("99000"), Ok(99_000.0));
        assert!(parse_price("nego").is_err());
    }
}
