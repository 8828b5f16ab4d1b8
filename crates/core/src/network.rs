//! Seller and recruiter networks: accounts linked by the contact values they share (phone and
//! WhatsApp numbers, Telegram handles, bank and e-wallet accounts, e-mail, links, domains and
//! near-identical text), grouped with an incremental union-find.
//!
//! Two rules keep the networks honest:
//! - a value shared by more than `max_accounts_per_value` distinct accounts (a courier's call
//!   centre, a marketplace domain, a template text) is a *common value*: it does not link anyone,
//!   and networks it had merged are split again;
//! - toll-free and call-centre numbers, and values an analyst flags, are common from the start.
//!
//! Memory matters (the index holds every screened post's contacts): values are interned in one
//! byte arena and referred to by `u32`, accounts by `u32`, and a value seen by one account costs
//! no allocation beyond its bytes. This module does no I/O; [`render_svg`] returns a string.

mod svg;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;
use serde::{Deserialize, Serialize};

use crate::ids::AccountId;
pub use svg::{Legend, escape as escape_xml, render_svg, render_svg_with_legend};

/// What kind of contact value links accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    /// A phone number in E.164 form. WhatsApp numbers are stored as phones so that a number
    /// written as "0812..." in one post and "wa.me/62812..." in another links both accounts.
    Phone,
    Telegram,
    Line,
    /// Instagram, TikTok or other social handle, as `platform:handle` or a bare handle.
    Social,
    Email,
    Url,
    Domain,
    /// `BANK:number`, e.g. `BCA:1234567890`.
    BankAccount,
    /// `WALLET:id`, e.g. `DANA:+6281234567890`.
    Ewallet,
    /// One locality-sensitive band of a text fingerprint (see [`ContactValue::text_fingerprint`]).
    Text,
}

impl ContactKind {
    pub const ALL: [ContactKind; 10] = [
        ContactKind::Phone,
        ContactKind::Telegram,
        ContactKind::Line,
        ContactKind::Social,
        ContactKind::Email,
        ContactKind::Url,
        ContactKind::Domain,
        ContactKind::BankAccount,
        ContactKind::Ewallet,
        ContactKind::Text,
    ];

    /// How strongly a shared value of this kind suggests one operator. A bank account or phone is
    /// nearly proof; a shared domain or similar text is a hint.
    pub fn default_weight(self) -> f32 {
        match self {
            ContactKind::Phone | ContactKind::BankAccount => 1.0,
            ContactKind::Telegram | ContactKind::Email | ContactKind::Ewallet => 0.9,
            ContactKind::Line => 0.8,
            ContactKind::Social => 0.7,
            ContactKind::Url => 0.6,
            ContactKind::Domain => 0.5,
            ContactKind::Text => 0.4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ContactKind::Phone => "phone",
            ContactKind::Telegram => "telegram",
            ContactKind::Line => "line",
            ContactKind::Social => "social",
            ContactKind::Email => "email",
            ContactKind::Url => "url",
            ContactKind::Domain => "domain",
            ContactKind::BankAccount => "bank_account",
            ContactKind::Ewallet => "ewallet",
            ContactKind::Text => "text",
        }
    }

    fn index(self) -> u8 {
        ContactKind::ALL
            .iter()
            .position(|k| *k == self)
            .unwrap_or(0) as u8
    }

    fn from_index(i: u8) -> ContactKind {
        ContactKind::ALL[(i as usize) % ContactKind::ALL.len()]
    }
}

/// A normalized contact value. Build it with [`ContactValue::new`] so that the same number or
/// handle written two ways compares equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ContactValue {
    pub kind: ContactKind,
    pub value: String,
}

impl ContactValue {
    /// Normalizes `raw` for its kind; `None` when nothing usable is left.
    ///
    /// Phones: `0812-3456-7890`, `62812...`, `+62 812...` all become `+62812...`; short service
    /// numbers (`1500123`) keep their digits. Handles lose `@` and `t.me/`; hosts, e-mails and
    /// domains are lower-cased; bank and wallet ids are upper-cased without spaces.
    pub fn new(kind: ContactKind, raw: &str) -> Option<ContactValue> {
        let raw = raw.trim();
        let value = match kind {
            ContactKind::Phone => normalize_phone(raw)?,
            ContactKind::Telegram | ContactKind::Line | ContactKind::Social => {
                let v = raw.to_lowercase();
                let v = v
                    .trim_start_matches("https://")
                    .trim_start_matches("http://")
                    .trim_start_matches("t.me/")
                    .trim_start_matches('@');
                v.trim_end_matches('/').to_string()
            }
            ContactKind::Email => raw.to_lowercase(),
            ContactKind::Url => normalize_url(raw),
            ContactKind::Domain => {
                let v = raw.to_lowercase();
                let v = v.trim_end_matches('.');
                v.strip_prefix("www.").unwrap_or(v).to_string()
            }
            ContactKind::BankAccount | ContactKind::Ewallet => raw
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-' && *c != '.')
                .flat_map(char::to_uppercase)
                .collect(),
            ContactKind::Text => raw.to_string(),
        };
        (!value.is_empty()).then_some(ContactValue { kind, value })
    }

    /// The readings of a contact typed by a person without saying its kind (`patroli network
    /// --contact`, the search box, `GET /api/v1/networks?contact=`). Several readings may come
    /// back; look each up. Empty when nothing in `raw` reads as a contact.
    ///
    /// The query goes through the screening engine's own entity extraction
    /// ([`patroli_detect::extract_entities`]), so it is normalized exactly as the stored posts
    /// were: `DANA:0812-3456-7890`, `dana 0812 3456 7890` and `GoPay 0812...` read as the
    /// e-wallet (`DANA:+62812...`) and its phone; `BCA 1234567890` as the bank account;
    /// `wa.me/62812...`, `+62 812-...` and `0812...` as the phone; `t.me/x` as the Telegram
    /// handle; e-mails in any case. On top of what a post would give:
    /// - a bare `@handle` (or a single word that is a valid handle) is looked up on every
    ///   platform — Telegram, LINE, Instagram, TikTok and the unlabelled social handle — because a
    ///   post may have named it any of those ways;
    /// - a link reads as the URL and its host (a domain), with or without `https://`, and even
    ///   when the top-level domain is not one the engine recognizes in running text.
    pub fn readings(raw: &str) -> Vec<ContactValue> {
        use patroli_detect::EntityKind as E;
        let raw = raw.trim();
        let mut out: Vec<ContactValue> = Vec::new();
        let mut push = |values: &mut dyn Iterator<Item = ContactValue>| {
            for v in values {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        };
        let found = patroli_detect::extract_entities(raw);
        for e in &found {
            match e.kind {
                E::Handle => push(&mut ContactValue::handle_everywhere(&e.value).into_iter()),
                E::Url => push(&mut link_readings(ContactValue::from_entity(e)).into_iter()),
                _ => push(&mut ContactValue::from_entity(e).into_iter()),
            }
        }
        let one_word = !raw.is_empty() && !raw.contains(char::is_whitespace);
        // A link typed without its scheme: in running text the engine reads `toko.xyz/p/1` as
        // the domain only; with the scheme put back it is also the URL a post may have carried.
        if one_word
            && raw.contains('.')
            && !raw.contains('@')
            && !raw.contains("://")
            && found.iter().all(|e| e.kind == E::Domain)
        {
            for e in patroli_detect::extract_entities(&format!("https://{raw}")) {
                if e.kind == E::Url {
                    push(&mut link_readings(ContactValue::from_entity(&e)).into_iter());
                }
            }
        }
        // A handle typed without `@`: read with the engine's handle pattern, but only when the
        // whole word is the handle and it has a letter (digits alone are an account number
        // without its bank, not a handle).
        if found.is_empty()
            && one_word
            && !raw.starts_with('@')
            && raw.chars().any(char::is_alphabetic)
        {
            let at = format!("@{raw}");
            if let [e] = patroli_detect::extract_entities(&at).as_slice()
                && e.kind == E::Handle
                && e.start == 0
                && e.end == at.len()
            {
                push(&mut ContactValue::handle_everywhere(&e.value).into_iter());
            }
        }
        out
    }

    /// A handle as every platform's entity would store it (Telegram, unlabelled social handle,
    /// `instagram:`, `tiktok:`, LINE), built through [`ContactValue::from_entity`] so the
    /// platform prefixes stay in one place.
    fn handle_everywhere(handle: &str) -> Vec<ContactValue> {
        use patroli_detect::EntityKind as E;
        [E::Telegram, E::Handle, E::Instagram, E::Tiktok, E::Line]
            .into_iter()
            .filter_map(|kind| {
                ContactValue::from_entity(&patroli_detect::Entity {
                    kind,
                    value: handle.to_string(),
                    field: patroli_detect::Field::Text,
                    start: 0,
                    end: 0,
                    attrs: Default::default(),
                })
            })
            .collect()
    }

    /// The contact value behind an entity the screening engine extracted; `None` for entities
    /// that are not contacts (BPOM registration numbers).
    pub fn from_entity(entity: &patroli_detect::Entity) -> Option<ContactValue> {
        use patroli_detect::EntityKind as E;
        let (kind, raw) = match entity.kind {
            E::Phone | E::Whatsapp => (ContactKind::Phone, entity.value.clone()),
            E::Telegram => (ContactKind::Telegram, entity.value.clone()),
            E::Line => (ContactKind::Line, entity.value.clone()),
            E::Instagram => (ContactKind::Social, format!("instagram:{}", entity.value)),
            E::Tiktok => (ContactKind::Social, format!("tiktok:{}", entity.value)),
            E::Handle => (ContactKind::Social, entity.value.clone()),
            E::Email => (ContactKind::Email, entity.value.clone()),
            E::Url => (ContactKind::Url, entity.value.clone()),
            E::Domain => (ContactKind::Domain, entity.value.clone()),
            E::BankAccount => (ContactKind::BankAccount, entity.value.clone()),
            E::Ewallet => (ContactKind::Ewallet, entity.value.clone()),
            E::BpomNumber => return None,
        };
        ContactValue::new(kind, &raw)
    }

    /// Locality-sensitive fingerprint of a post's text: [`TEXT_BANDS`] values of kind
    /// [`ContactKind::Text`]. Two texts share at least one band with high probability when their
    /// word-pair sets overlap strongly (MinHash with banding: ~89 % at Jaccard 0.9, ~2 % at 0.5),
    /// so near-identical ads from different accounts link like a shared phone, with a low weight.
    /// Texts shorter than a few words give no fingerprint: "ready COD" is not a signature.
    ///
    /// The hash is fixed (not seeded per process) so fingerprints can be stored and compared later.
    pub fn text_fingerprint(text: &str) -> Vec<ContactValue> {
        let tokens: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(|t| {
                // Digits vary between copies of a template (prices, counts); letters carry it.
                let mut folded = String::with_capacity(t.len());
                for c in t.chars().flat_map(char::to_lowercase) {
                    if !c.is_ascii_digit() {
                        folded.push(c);
                    } else if !folded.ends_with('#') {
                        folded.push('#');
                    }
                }
                folded
            })
            .collect();
        if tokens.len() < MIN_TEXT_TOKENS {
            return Vec::new();
        }
        let shingles: HashSet<u64> = tokens
            .windows(2)
            .map(|w| fnv1a(w[0].as_bytes()) ^ fnv1a(w[1].as_bytes()).rotate_left(29))
            .collect();
        let mut mins = [u64::MAX; TEXT_BANDS * TEXT_ROWS];
        for &s in &shingles {
            for (i, m) in mins.iter_mut().enumerate() {
                let h = splitmix64(s ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                if h < *m {
                    *m = h;
                }
            }
        }
        mins.chunks(TEXT_ROWS)
            .enumerate()
            .map(|(band, rows)| {
                let mut h = 0xcbf2_9ce4_8422_2325u64 ^ band as u64;
                for r in rows {
                    h = splitmix64(h ^ r);
                }
                ContactValue {
                    kind: ContactKind::Text,
                    value: format!("b{band}:{h:016x}"),
                }
            })
            .collect()
    }
}

impl std::fmt::Display for ContactValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.value)
    }
}

/// Bands and rows of the text fingerprint (see [`ContactValue::text_fingerprint`]).
pub const TEXT_BANDS: usize = 4;
const TEXT_ROWS: usize = 8;
const MIN_TEXT_TOKENS: usize = 6;

fn normalize_phone(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 5 {
        return None;
    }
    let national = if let Some(rest) = digits.strip_prefix("62") {
        rest
    } else if let Some(rest) = digits.strip_prefix('0') {
        rest
    } else if raw.trim_start().starts_with('+') {
        // Foreign number: keep it as written.
        return Some(format!("+{digits}"));
    } else {
        // Service numbers (1500xxx, 14xxx) have no area or mobile prefix.
        return Some(digits);
    };
    Some(format!("+62{national}"))
}

fn normalize_url(raw: &str) -> String {
    let no_scheme = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .or_else(|| raw.strip_prefix("HTTPS://"))
        .or_else(|| raw.strip_prefix("HTTP://"))
        .unwrap_or(raw);
    // Hosts are case-insensitive, paths are not (short links are case-sensitive).
    let (host, path) = match no_scheme.find('/') {
        Some(i) => no_scheme.split_at(i),
        None => (no_scheme, ""),
    };
    let host = host.to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    format!("{host}{}", path.trim_end_matches('/'))
}

/// A URL reading and the domain of its host: a link with a path first as the URL, a bare host
/// first as the domain (that is how the engine stores a host seen in running text).
fn link_readings(url: Option<ContactValue>) -> Vec<ContactValue> {
    let Some(url) = url else {
        return Vec::new();
    };
    let host = url.value.split(['/', '?', '#']).next().unwrap_or_default();
    let domain = ContactValue::new(ContactKind::Domain, host);
    let bare = host == url.value;
    let mut out = Vec::new();
    if bare {
        out.extend(domain);
        out.push(url);
    } else {
        out.push(url);
        out.extend(domain);
    }
    out
}

/// First byte of a compact text-band key: 0xF8 + band. Bytes 0xF8..=0xFF never occur in UTF-8,
/// so compact keys cannot collide with any stored text.
const BAND_KEY: u8 = 0xF8;

/// The stored form of a value. Text-fingerprint bands (`b3:0123456789abcdef`, the bulk of all
/// values) take 9 bytes instead of 19; everything else is stored as its text.
fn encode_key(value: &ContactValue) -> std::borrow::Cow<'_, [u8]> {
    if value.kind == ContactKind::Text
        && let Some((band, hash)) = value
            .value
            .strip_prefix('b')
            .and_then(|rest| rest.split_once(':'))
        && let (Ok(band), true) = (band.parse::<u8>(), hash.len() == 16)
        && band < 8
        && let Ok(hash) = u64::from_str_radix(hash, 16)
    {
        let mut key = Vec::with_capacity(9);
        key.push(BAND_KEY + band);
        key.extend_from_slice(&hash.to_be_bytes());
        return std::borrow::Cow::Owned(key);
    }
    std::borrow::Cow::Borrowed(value.value.as_bytes())
}

fn decode_key(bytes: &[u8]) -> String {
    if let [first, rest @ ..] = bytes
        && *first >= BAND_KEY
        && let Ok(hash) = <[u8; 8]>::try_from(rest)
    {
        return format!("b{}:{:016x}", first - BAND_KEY, u64::from_be_bytes(hash));
    }
    String::from_utf8_lossy(bytes).into_owned()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Tunables of [`NetworkIndex`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// A value shared by more than this many distinct accounts is a common value, not a link.
    pub max_accounts_per_value: u32,
    /// Link weight per kind; kinds left out use [`ContactKind::default_weight`].
    pub weights: BTreeMap<ContactKind, f32>,
    /// Phone numbers whose national part (after `+62`/`0`) or digits start with one of these
    /// are shared service numbers: toll-free `0800...`, call centres `1500...`.
    pub shared_number_prefixes: Vec<String>,
    /// Values flagged as shared (a marketplace's customer-service e-mail...): never links.
    pub shared_values: Vec<ContactValue>,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            max_accounts_per_value: 25,
            weights: BTreeMap::new(),
            shared_number_prefixes: vec!["800".into(), "1500".into()],
            shared_values: Vec::new(),
        }
    }
}

impl NetworkConfig {
    /// The weight of a link of this kind.
    pub fn weight(&self, kind: ContactKind) -> f32 {
        self.weights
            .get(&kind)
            .copied()
            .unwrap_or_else(|| kind.default_weight())
    }

    /// True for values that must never link accounts, whatever their count.
    pub fn is_flagged_shared(&self, value: &ContactValue) -> bool {
        if self.shared_values.contains(value) {
            return true;
        }
        if value.kind == ContactKind::Phone {
            let national = value.value.strip_prefix("+62").unwrap_or(&value.value);
            return self
                .shared_number_prefixes
                .iter()
                .any(|p| !p.is_empty() && national.starts_with(p.as_str()));
        }
        false
    }
}

/// Why a value does not link the accounts that show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommonReason {
    /// Shared by more accounts than `max_accounts_per_value`.
    TooManyAccounts,
    /// Toll-free, call-centre or analyst-flagged value.
    Flagged,
}

/// A value shown by many accounts, reported instead of used as a link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommonValue {
    pub value: ContactValue,
    /// Distinct accounts that showed it.
    pub accounts: u32,
    pub reason: CommonReason,
}

/// One shared value inside a network and the member accounts that showed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub value: ContactValue,
    pub weight: f32,
    pub accounts: Vec<AccountId>,
}

/// A snapshot of one network. Taken from the index at query time: later `add` calls may merge or
/// split it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// The member added to the index first: a stable handle while the network only grows.
    pub anchor: AccountId,
    /// Members in the order they were first added.
    pub members: Vec<AccountId>,
    /// Values shared by two or more members, strongest first.
    pub links: Vec<Link>,
    /// Common values shown by members (not used as links).
    pub common_values: Vec<CommonValue>,
}

impl Network {
    /// Pairwise link strength (sum of the weights of the values two accounts share), strongest
    /// first. Quadratic in the accounts per value, which `max_accounts_per_value` bounds.
    pub fn pair_strengths(&self) -> Vec<(AccountId, AccountId, f32)> {
        let mut pairs: HashMap<(AccountId, AccountId), f32> = HashMap::new();
        for link in &self.links {
            for (i, a) in link.accounts.iter().enumerate() {
                for b in &link.accounts[i + 1..] {
                    let key = if a < b { (*a, *b) } else { (*b, *a) };
                    *pairs.entry(key).or_default() += link.weight;
                }
            }
        }
        let mut out: Vec<_> = pairs.into_iter().map(|((a, b), w)| (a, b, w)).collect();
        out.sort_by(|x, y| y.2.total_cmp(&x.2).then(x.0.cmp(&y.0)).then(x.1.cmp(&y.1)));
        out
    }
}

/// What the index knows about one contact value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueLookup {
    pub value: ContactValue,
    /// Distinct accounts that showed it.
    pub accounts: u32,
    /// Set when the value is common: it links nobody.
    pub common: Option<CommonReason>,
    /// The network the value links (one at most), or for a common value the networks of the
    /// first accounts that showed it (up to `max_accounts_per_value + 1` of them).
    pub networks: Vec<Network>,
}

/// What one [`NetworkIndex::add`] changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddOutcome {
    /// Size of the account's network after the call.
    pub network_size: u32,
    /// True when the call joined previously separate networks.
    pub merged: bool,
    /// Values that crossed `max_accounts_per_value` in this call (their networks were split).
    pub newly_common: Vec<ContactValue>,
}

/// Counts for monitoring and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexStats {
    pub accounts: u32,
    pub values: u32,
    /// Networks with two or more accounts.
    pub networks: u32,
    pub common_values: u32,
    pub largest_network: u32,
}

const NONE: u32 = u32::MAX;
const FLAG_SUPPRESSED: u8 = 0x80;
const FLAG_FLAGGED: u8 = 0x40;
const KIND_MASK: u8 = 0x0f;

/// Incremental account-network index. See the module documentation.
#[derive(Debug, Clone)]
pub struct NetworkIndex {
    config: NetworkConfig,
    hasher: RandomState,

    // Accounts, by internal id.
    account_ids: Vec<AccountId>,
    account_lookup: HashMap<AccountId, u32>,
    account_values: Vec<Vec<u32>>,
    // Union-find by size; `next` threads each set into a ring so members can be listed.
    parent: Vec<u32>,
    size: Vec<u32>,
    next: Vec<u32>,

    // Values, by internal id: stored key (see `encode_key`) in `arena[ends[i-1]..ends[i]]`;
    // the arena is limited to 4 GiB (some 200M distinct values).
    arena: Vec<u8>,
    ends: Vec<u32>,
    value_meta: Vec<u8>,
    value_count: Vec<u32>,
    value_first: Vec<u32>,
    /// Accounts beyond the first, only for values seen by two or more accounts; capped at
    /// `max_accounts_per_value + 1` entries in total.
    value_more: HashMap<u32, Vec<u32>>,
    value_table: HashTable<u32>,
    /// Common values seen at least once, in the order they became common.
    common_ids: Vec<u32>,
}

impl NetworkIndex {
    pub fn new(config: NetworkConfig) -> Self {
        NetworkIndex {
            config,
            hasher: RandomState::new(),
            account_ids: Vec::new(),
            account_lookup: HashMap::new(),
            account_values: Vec::new(),
            parent: Vec::new(),
            size: Vec::new(),
            next: Vec::new(),
            arena: Vec::new(),
            ends: Vec::new(),
            value_meta: Vec::new(),
            value_count: Vec::new(),
            value_first: Vec::new(),
            value_more: HashMap::new(),
            value_table: HashTable::new(),
            common_ids: Vec::new(),
        }
    }

    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// Records that `account` showed `values` (one post's contacts, or several posts' at once)
    /// and updates the networks. Cost is proportional to the values given, except when a value
    /// becomes common: then only the one network it had joined is rebuilt.
    pub fn add(&mut self, account: AccountId, values: &[ContactValue]) -> AddOutcome {
        let a = self.intern_account(account);
        let cap = self.config.max_accounts_per_value;
        let mut outcome = AddOutcome::default();
        let mut to_split: Vec<u32> = Vec::new();
        for value in values {
            let v = self.intern_value(value);
            if self.account_values[a as usize].contains(&v) {
                continue;
            }
            self.account_values[a as usize].push(v);
            let count = self.value_count[v as usize];
            self.value_count[v as usize] = count.saturating_add(1);
            if count <= cap {
                // Keep up to cap+1 accounts: all of them while the value links, a sample after.
                if count == 0 {
                    self.value_first[v as usize] = a;
                } else {
                    self.value_more.entry(v).or_default().push(a);
                }
            }
            let meta = self.value_meta[v as usize];
            if meta & FLAG_FLAGGED != 0 && count == 0 {
                self.common_ids.push(v);
            }
            if meta & (FLAG_SUPPRESSED | FLAG_FLAGGED) != 0 {
                continue;
            }
            if count + 1 > cap {
                self.value_meta[v as usize] |= FLAG_SUPPRESSED;
                self.common_ids.push(v);
                outcome.newly_common.push(self.value(v));
                // The accounts it had linked are those before this one, all in one network.
                to_split.push(self.value_first[v as usize]);
            } else if count > 0 {
                let other = self.value_first[v as usize];
                if self.union(a, other) {
                    outcome.merged = true;
                }
            }
        }
        for member in to_split {
            self.rebuild(member);
        }
        outcome.network_size = self.size[self.find(a) as usize];
        outcome
    }

    /// The network of `account` (a one-member network when it shares nothing), or `None` when
    /// the account was never added.
    pub fn network_of(&self, account: &AccountId) -> Option<Network> {
        let a = *self.account_lookup.get(account)?;
        Some(self.snapshot(self.find(a)))
    }

    /// Member accounts of the network of `account`, in the order they were added.
    pub fn members(&self, account: &AccountId) -> Vec<AccountId> {
        let Some(&a) = self.account_lookup.get(account) else {
            return Vec::new();
        };
        self.ring(self.find(a))
            .into_iter()
            .map(|m| self.account_ids[m as usize])
            .collect()
    }

    /// True when both accounts are in the same network.
    pub fn same_network(&self, a: &AccountId, b: &AccountId) -> bool {
        match (self.account_lookup.get(a), self.account_lookup.get(b)) {
            (Some(&x), Some(&y)) => self.find(x) == self.find(y),
            _ => false,
        }
    }

    /// Looks up every reading of a contact typed by a person (see [`ContactValue::readings`]);
    /// readings the index has never seen are left out.
    pub fn search(&self, raw: &str) -> Vec<ValueLookup> {
        ContactValue::readings(raw)
            .iter()
            .filter_map(|v| self.lookup(v))
            .collect()
    }

    /// The network(s) holding a contact value ("search by any contact").
    pub fn lookup(&self, value: &ContactValue) -> Option<ValueLookup> {
        let normalized = ContactValue::new(value.kind, &value.value)?;
        let v = self.find_value(&normalized)?;
        let meta = self.value_meta[v as usize];
        let common = if meta & FLAG_FLAGGED != 0 {
            Some(CommonReason::Flagged)
        } else if meta & FLAG_SUPPRESSED != 0 {
            Some(CommonReason::TooManyAccounts)
        } else {
            None
        };
        let mut roots: Vec<u32> = self.value_accounts(v).map(|a| self.find(a)).collect();
        roots.sort_unstable();
        roots.dedup();
        Some(ValueLookup {
            value: normalized,
            accounts: self.value_count[v as usize],
            common,
            networks: roots.into_iter().map(|r| self.snapshot(r)).collect(),
        })
    }

    /// Every common value, most widely shared first.
    pub fn common_values(&self) -> Vec<CommonValue> {
        let mut out: Vec<CommonValue> = self
            .common_ids
            .iter()
            .filter_map(|&v| self.common_value(v))
            .collect();
        out.sort_by(|a, b| b.accounts.cmp(&a.accounts).then(a.value.cmp(&b.value)));
        out
    }

    pub fn stats(&self) -> IndexStats {
        let mut networks = 0;
        let mut largest = 0;
        for (i, &p) in self.parent.iter().enumerate() {
            if p == i as u32 {
                let s = self.size[i];
                largest = largest.max(s);
                if s >= 2 {
                    networks += 1;
                }
            }
        }
        IndexStats {
            accounts: self.account_ids.len() as u32,
            values: self.ends.len() as u32,
            networks,
            common_values: self.common_ids.len() as u32,
            largest_network: largest,
        }
    }

    /// Every network with at least `min_members` accounts, largest first (for listings).
    pub fn networks(&self, min_members: u32) -> Vec<Network> {
        let mut roots: Vec<u32> = (0..self.parent.len() as u32)
            .filter(|&i| self.parent[i as usize] == i && self.size[i as usize] >= min_members)
            .collect();
        roots.sort_by_key(|&r| std::cmp::Reverse(self.size[r as usize]));
        roots.into_iter().map(|r| self.snapshot(r)).collect()
    }

    // ---- internals ----

    fn intern_account(&mut self, account: AccountId) -> u32 {
        if let Some(&a) = self.account_lookup.get(&account) {
            return a;
        }
        let a = u32::try_from(self.account_ids.len()).expect("fewer than 2^32 accounts");
        self.account_ids.push(account);
        self.account_lookup.insert(account, a);
        self.account_values.push(Vec::new());
        self.parent.push(a);
        self.size.push(1);
        self.next.push(a);
        a
    }

    fn value_bytes<'a>(arena: &'a [u8], ends: &[u32], v: u32) -> &'a [u8] {
        let end = ends[v as usize] as usize;
        let start = if v == 0 {
            0
        } else {
            ends[v as usize - 1] as usize
        };
        &arena[start..end]
    }

    fn key_hash(&self, kind: u8, bytes: &[u8]) -> u64 {
        self.hasher.hash_one((kind, bytes))
    }

    fn find_value(&self, value: &ContactValue) -> Option<u32> {
        let kind = value.kind.index();
        let key = encode_key(value);
        let bytes: &[u8] = &key;
        let hash = self.key_hash(kind, bytes);
        self.value_table
            .find(hash, |&v| {
                self.value_meta[v as usize] & KIND_MASK == kind
                    && Self::value_bytes(&self.arena, &self.ends, v) == bytes
            })
            .copied()
    }

    fn intern_value(&mut self, value: &ContactValue) -> u32 {
        if let Some(v) = self.find_value(value) {
            return v;
        }
        let kind = value.kind.index();
        let v = u32::try_from(self.ends.len()).expect("fewer than 2^32 values");
        let key = encode_key(value);
        self.arena.extend_from_slice(&key);
        self.ends
            .push(u32::try_from(self.arena.len()).expect("contact value arena under 4 GiB"));
        let flagged = if self.config.is_flagged_shared(value) {
            FLAG_FLAGGED
        } else {
            0
        };
        self.value_meta.push(kind | flagged);
        self.value_count.push(0);
        self.value_first.push(NONE);
        let hash = self.key_hash(kind, &key);
        let (arena, ends, meta, hasher) = (&self.arena, &self.ends, &self.value_meta, &self.hasher);
        self.value_table.insert_unique(hash, v, |&x| {
            hasher.hash_one((
                meta[x as usize] & KIND_MASK,
                Self::value_bytes(arena, ends, x),
            ))
        });
        v
    }

    fn value(&self, v: u32) -> ContactValue {
        ContactValue {
            kind: ContactKind::from_index(self.value_meta[v as usize] & KIND_MASK),
            value: decode_key(Self::value_bytes(&self.arena, &self.ends, v)),
        }
    }

    fn value_accounts(&self, v: u32) -> impl Iterator<Item = u32> + '_ {
        let first = self.value_first[v as usize];
        (first != NONE).then_some(first).into_iter().chain(
            self.value_more
                .get(&v)
                .into_iter()
                .flat_map(|m| m.iter().copied()),
        )
    }

    fn common_value(&self, v: u32) -> Option<CommonValue> {
        let meta = self.value_meta[v as usize];
        let reason = if meta & FLAG_FLAGGED != 0 {
            CommonReason::Flagged
        } else if meta & FLAG_SUPPRESSED != 0 {
            CommonReason::TooManyAccounts
        } else {
            return None;
        };
        Some(CommonValue {
            value: self.value(v),
            accounts: self.value_count[v as usize],
            reason,
        })
    }

    fn find(&self, mut a: u32) -> u32 {
        // No path compression (queries take `&self`); union by size keeps trees O(log n) deep.
        while self.parent[a as usize] != a {
            a = self.parent[a as usize];
        }
        a
    }

    fn union(&mut self, a: u32, b: u32) -> bool {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
        self.next.swap(ra as usize, rb as usize);
        true
    }

    fn ring(&self, root: u32) -> Vec<u32> {
        let mut out = vec![root];
        let mut m = self.next[root as usize];
        while m != root {
            out.push(m);
            m = self.next[m as usize];
        }
        out.sort_unstable();
        out
    }

    /// Splits the network containing `member` into the networks its remaining links justify.
    fn rebuild(&mut self, member: u32) {
        let members = self.ring(self.find(member));
        for &m in &members {
            self.parent[m as usize] = m;
            self.size[m as usize] = 1;
            self.next[m as usize] = m;
        }
        for &m in &members {
            for i in 0..self.account_values[m as usize].len() {
                let v = self.account_values[m as usize][i];
                if self.value_meta[v as usize] & (FLAG_SUPPRESSED | FLAG_FLAGGED) == 0 {
                    let first = self.value_first[v as usize];
                    self.union(m, first);
                }
            }
        }
    }

    fn snapshot(&self, root: u32) -> Network {
        let members = self.ring(root);
        let mut shared: BTreeMap<u32, Vec<AccountId>> = BTreeMap::new();
        let mut common: BTreeMap<u32, CommonValue> = BTreeMap::new();
        for &m in &members {
            for &v in &self.account_values[m as usize] {
                if let Some(c) = self.common_value(v) {
                    common.entry(v).or_insert(c);
                } else if self.value_count[v as usize] >= 2 {
                    shared
                        .entry(v)
                        .or_default()
                        .push(self.account_ids[m as usize]);
                }
            }
        }
        let mut links: Vec<Link> = shared
            .into_iter()
            .filter(|(_, accounts)| accounts.len() >= 2)
            .map(|(v, accounts)| {
                let value = self.value(v);
                Link {
                    weight: self.config.weight(value.kind),
                    value,
                    accounts,
                }
            })
            .collect();
        links.sort_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then(b.accounts.len().cmp(&a.accounts.len()))
                .then(a.value.cmp(&b.value))
        });
        let mut common_values: Vec<CommonValue> = common.into_values().collect();
        common_values.sort_by(|a, b| b.accounts.cmp(&a.accounts).then(a.value.cmp(&b.value)));
        Network {
            anchor: self.account_ids[members[0] as usize],
            members: members
                .iter()
                .map(|&m| self.account_ids[m as usize])
                .collect(),
            links,
            common_values,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn acc(n: u128) -> AccountId {
        AccountId(Uuid::from_u128(n))
    }

    fn phone(raw: &str) -> ContactValue {
        ContactValue::new(ContactKind::Phone, raw).unwrap()
    }

    #[test]
    fn phone_forms_normalize_alike() {
        assert_eq!(phone("0812-3456-7890").value, "+6281234567890");
        assert_eq!(phone("62 812 3456 7890").value, "+6281234567890");
        assert_eq!(phone("+62.812.3456.7890").value, "+6281234567890");
        assert_eq!(phone("1500123").value, "1500123");
        assert_eq!(ContactValue::new(ContactKind::Phone, "12"), None);
        let tg = ContactValue::new(ContactKind::Telegram, "https://t.me/Obat_Murah/").unwrap();
        assert_eq!(tg.value, "obat_murah");
        let url = ContactValue::new(ContactKind::Url, "HTTPS://WWW.Example.com/AbC/").unwrap();
        assert_eq!(url.value, "example.com/AbC");
        let bank = ContactValue::new(ContactKind::BankAccount, "bca: 123-456 7890").unwrap();
        assert_eq!(bank.value, "BCA:1234567890");
    }

    #[test]
    fn shared_values_link_accounts_transitively() {
        let mut idx = NetworkIndex::new(NetworkConfig::default());
        idx.add(acc(1), &[phone("081234567890")]);
        let out = idx.add(
            acc(2),
            &[
                phone("+6281234567890"),
                ContactValue::new(ContactKind::BankAccount, "BCA:1111111111").unwrap(),
            ],
        );
        assert!(out.merged);
        assert_eq!(out.network_size, 2);
        idx.add(
            acc(3),
            &[ContactValue::new(ContactKind::BankAccount, "bca:1111111111").unwrap()],
        );
        idx.add(acc(4), &[phone("0899999999")]);
        assert!(idx.same_network(&acc(1), &acc(3)));
        assert!(!idx.same_network(&acc(1), &acc(4)));
        let net = idx.network_of(&acc(3)).unwrap();
        assert_eq!(net.members, vec![acc(1), acc(2), acc(3)]);
        assert_eq!(net.anchor, acc(1));
        assert_eq!(net.links.len(), 2);
        let strengths = net.pair_strengths();
        assert_eq!(strengths.len(), 2);
        assert!(strengths.iter().all(|(_, _, w)| (*w - 1.0).abs() < 1e-6));

        let found = idx.lookup(&phone("0812 3456 7890")).unwrap();
        assert_eq!(found.accounts, 2);
        assert_eq!(found.common, None);
        assert_eq!(found.networks.len(), 1);
        assert_eq!(found.networks[0].members.len(), 3);
        assert_eq!(idx.stats().networks, 1);
        assert!(idx.lookup(&phone("0811000000")).is_none());
    }

    #[test]
    fn super_node_splits_the_networks_it_had_merged() {
        let config = NetworkConfig {
            max_accounts_per_value: 3,
            ..NetworkConfig::default()
        };
        let mut idx = NetworkIndex::new(config);
        let courier = ContactValue::new(ContactKind::Email, "cs@kurir.example").unwrap();
        // Accounts 1+2 share a real phone; 3 and 4 are unrelated; all show the courier e-mail.
        idx.add(acc(1), &[phone("081111111111"), courier.clone()]);
        idx.add(acc(2), &[phone("081111111111"), courier.clone()]);
        idx.add(acc(3), std::slice::from_ref(&courier));
        assert!(idx.same_network(&acc(1), &acc(3)), "below the cap it links");
        let out = idx.add(acc(4), std::slice::from_ref(&courier));
        assert_eq!(out.newly_common, vec![courier.clone()]);
        assert!(
            idx.same_network(&acc(1), &acc(2)),
            "the phone still links them"
        );
        assert!(!idx.same_network(&acc(1), &acc(3)));
        assert!(!idx.same_network(&acc(3), &acc(4)));
        let net = idx.network_of(&acc(1)).unwrap();
        assert_eq!(net.common_values.len(), 1);
        assert_eq!(net.common_values[0].accounts, 4);
        assert_eq!(net.common_values[0].reason, CommonReason::TooManyAccounts);
        let look = idx.lookup(&courier).unwrap();
        assert_eq!(look.common, Some(CommonReason::TooManyAccounts));
        assert_eq!(look.networks.len(), 3);
        // A fifth account showing it changes nothing but the count.
        idx.add(acc(5), std::slice::from_ref(&courier));
        assert_eq!(idx.common_values()[0].accounts, 5);
        assert_eq!(idx.stats().networks, 1);
    }

    #[test]
    fn toll_free_and_call_centre_numbers_never_link() {
        let mut idx = NetworkIndex::new(NetworkConfig::default());
        idx.add(acc(1), &[phone("0800-1-234567")]);
        idx.add(acc(2), &[phone("0800 1234567")]);
        idx.add(acc(3), &[phone("1500123")]);
        idx.add(acc(4), &[phone("1500123")]);
        assert!(!idx.same_network(&acc(1), &acc(2)));
        assert!(!idx.same_network(&acc(3), &acc(4)));
        let common = idx.common_values();
        assert_eq!(common.len(), 2);
        assert!(common.iter().all(|c| c.reason == CommonReason::Flagged));
    }

    #[test]
    fn near_identical_texts_share_a_band_and_different_ones_do_not() {
        let a =
            "Ready pil LL isi 1000 butir kirim aman rahasia packing rapi minat langsung WA admin";
        let b =
            "Ready pil LL isi 500 butir kirim aman rahasia packing rapi minat langsung WA admin";
        let c = "Dijual kaos polos cotton combed ukuran L XL XXL warna hitam putih grosir murah";
        let (fa, fb, fc) = (
            ContactValue::text_fingerprint(a),
            ContactValue::text_fingerprint(b),
            ContactValue::text_fingerprint(c),
        );
        assert_eq!(fa.len(), TEXT_BANDS);
        // Digit runs are folded, so a changed count is the same text.
        assert_eq!(fa, fb);
        assert!(fa.iter().all(|v| !fc.contains(v)));
        assert!(ContactValue::text_fingerprint("ready COD").is_empty());
        let mut idx = NetworkIndex::new(NetworkConfig::default());
        idx.add(acc(1), &fa);
        idx.add(acc(2), &fb);
        idx.add(acc(3), &fc);
        assert!(idx.same_network(&acc(1), &acc(2)));
        assert!(!idx.same_network(&acc(1), &acc(3)));
    }

    #[test]
    fn typed_contacts_are_read_as_their_likely_kinds() {
        let kinds = |raw: &str| -> Vec<(ContactKind, String)> {
            ContactValue::readings(raw)
                .into_iter()
                .map(|v| (v.kind, v.value))
                .collect()
        };
        assert_eq!(
            kinds("+62 812-3456-7890"),
            [(ContactKind::Phone, "+6281234567890".to_string())]
        );
        assert_eq!(
            kinds("bca:1234567890"),
            [(ContactKind::BankAccount, "BCA:1234567890".to_string())]
        );
        // The wallet id carries the phone in E.164, as the engine stores it.
        assert_eq!(
            kinds("DANA:081234567890"),
            [
                (ContactKind::Ewallet, "DANA:+6281234567890".to_string()),
                (ContactKind::Phone, "+6281234567890".to_string())
            ]
        );
        assert_eq!(
            kinds("Admin@Toko.example"),
            [(ContactKind::Email, "admin@toko.example".to_string())]
        );
        assert_eq!(
            kinds("https://t.me/Loker_Kamboja"),
            [(ContactKind::Telegram, "loker_kamboja".to_string())]
        );
        assert_eq!(kinds("@loker").len(), 5);
        assert_eq!(kinds("toko.example")[0].0, ContactKind::Domain);
        assert_eq!(
            kinds("https://toko.example/p/1")[0],
            (ContactKind::Url, "toko.example/p/1".to_string())
        );
        let mut idx = NetworkIndex::new(NetworkConfig::default());
        idx.add(acc(1), &[phone("081234567890")]);
        idx.add(acc(2), &[phone("081234567890")]);
        let found = idx.search("0812 3456 7890");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].networks[0].members, vec![acc(1), acc(2)]);
        assert!(idx.search("@nobody").is_empty());
    }

    /// What the engine stores for `text`, as the index holds it.
    fn stored(text: &str) -> Vec<ContactValue> {
        patroli_detect::extract_entities(text)
            .iter()
            .filter_map(ContactValue::from_entity)
            .collect()
    }

    #[test]
    fn a_contact_typed_any_way_finds_what_the_engine_stored() {
        // (text a post carried, what a person types into the search box)
        let cases = [
            (
                "bayar ke DANA 0812-3456-7890 a.n. Budi",
                "DANA:0812-3456-7890",
            ),
            ("bayar ke DANA 0812-3456-7890", "dana 0812 3456 7890"),
            ("gopay: 081234567890", "GoPay 0812-3456-7890"),
            ("OVO 0812 3456 7890", "ovo 081234567890"),
            ("transfer BCA 123-456-7890", "BCA 1234567890"),
            ("transfer BCA 1234567890", "bca:1234567890"),
            ("chat wa.me/6281234567890", "0812-3456-7890"),
            ("WA 0812 3456 7890", "wa.me/6281234567890"),
            ("WA 0812 3456 7890", "https://wa.me/6281234567890"),
            ("WA 0812 3456 7890", "+62 812-3456-7890"),
            ("WA +62 812 3456 7890", "081234567890"),
            ("join https://t.me/Loker_Kamboja", "t.me/loker_kamboja"),
            ("tele: @loker_kamboja", "@Loker_Kamboja"),
            ("ig: @toko.obat", "@toko.obat"),
            ("tiktok @toko_obat", "@toko_obat"),
            ("id line: @tokoline", "@tokoline"),
            ("DM @tokoobat88", "@tokoobat88"),
            ("DM @tokoobat88", "tokoobat88"),
            ("kirim ke Admin@Toko-Obat.id", "ADMIN@toko-obat.ID"),
            (
                "order https://www.toko-obat.xyz/p/Abc",
                "toko-obat.xyz/p/Abc",
            ),
            ("order toko-obat.xyz/p/Abc", "https://toko-obat.xyz/p/Abc"),
            (
                "order https://toko-obat.xyz/p/Abc",
                "http://TOKO-OBAT.xyz/p/Abc/",
            ),
            ("cek toko-obat.xyz", "https://toko-obat.xyz"),
            ("cek toko-obat.xyz", "www.toko-obat.xyz"),
        ];
        for (text, typed) in cases {
            let kept = stored(text);
            assert!(!kept.is_empty(), "nothing stored for {text:?}");
            let read = ContactValue::readings(typed);
            assert!(
                read.iter().any(|r| kept.contains(r)),
                "{typed:?} read as {read:?}, but {text:?} stored {kept:?}"
            );
            // And through the index, as the API searches.
            let mut idx = NetworkIndex::new(NetworkConfig::default());
            idx.add(acc(1), &kept);
            idx.add(acc(2), &kept);
            let found = idx.search(typed);
            assert!(
                found
                    .iter()
                    .any(|l| l.networks.iter().any(|n| n.members == vec![acc(1), acc(2)])),
                "{typed:?} finds no network of {text:?}"
            );
        }
    }

    #[test]
    fn a_bare_handle_is_looked_up_on_every_platform() {
        let read = ContactValue::readings("@Toko_Obat");
        for text in [
            "tele @toko_obat",
            "ig: @toko_obat",
            "tiktok @toko_obat",
            "line id: @toko_obat",
            "DM @toko_obat",
        ] {
            let kept = stored(text);
            assert!(
                read.iter().any(|r| kept.contains(r)),
                "{text:?} stored {kept:?}, @Toko_Obat read as {read:?}"
            );
        }
        // A Telegram link names Telegram only.
        assert_eq!(
            ContactValue::readings("t.me/toko_obat"),
            [ContactValue::new(ContactKind::Telegram, "toko_obat").unwrap()]
        );
    }

    #[test]
    fn what_is_no_contact_gives_no_reading() {
        // Digits alone are neither a phone nor, without the bank's name, a bank account.
        for raw in [
            "",
            "   ",
            "???",
            "halo kak apa kabar",
            "12345",
            "1234567890",
            "@",
        ] {
            let read = ContactValue::readings(raw);
            assert!(read.is_empty(), "{raw:?} read as {read:?}");
        }
    }

    #[test]
    fn text_bands_are_stored_compactly_and_read_back() {
        let bands = ContactValue::text_fingerprint(
            "lowongan kerja admin kamboja gaji besar tiket visa ditanggung tanpa pengalaman",
        );
        for b in &bands {
            assert_eq!(encode_key(b).len(), 9);
            assert_eq!(decode_key(&encode_key(b)), b.value);
        }
        let odd = ContactValue::new(ContactKind::Text, "b9:not-a-band").unwrap();
        assert_eq!(decode_key(&encode_key(&odd)), "b9:not-a-band");
        let mut idx = NetworkIndex::new(NetworkConfig::default());
        idx.add(acc(1), &bands);
        idx.add(acc(2), &bands[..1]);
        let found = idx.lookup(&bands[0]).unwrap();
        assert_eq!(found.value, bands[0]);
        assert_eq!(found.networks[0].links[0].value, bands[0]);
    }

    #[test]
    fn repeated_values_from_one_account_count_once() {
        let config = NetworkConfig {
            max_accounts_per_value: 2,
            ..NetworkConfig::default()
        };
        let mut idx = NetworkIndex::new(config);
        for _ in 0..5 {
            idx.add(acc(1), &[phone("081234500000")]);
        }
        idx.add(acc(2), &[phone("081234500000")]);
        assert!(idx.same_network(&acc(1), &acc(2)));
        assert!(idx.common_values().is_empty());
    }
}
