//! Aggressive text normalization for term matching, with a byte map back to the original text.
//!
//! Sellers disguise words with Unicode tricks (fullwidth, mathematical letters, Cyrillic look-alikes,
//! zero-width characters, emoji between letters), leetspeak (`tr4m4d0l`), split letters
//! (`t r a m a d o l`, `d.o.u.b.l.e`), stretched letters (`traaamadoool`) and chat abbreviations. This
//! module folds all of that into a plain lower-case text of words separated by single spaces, so the
//! lexicon (normalized with the very same function) can be matched in one automaton pass.
//!
//! Every output byte remembers the original char span it came from, so a match in the normalized text
//! maps back to an exact, char-aligned byte span of the original field. The map is monotone: output order
//! never reorders the original.
//!
//! This text is for term matching only: it destroys things entities need (phone separators, `@`, dots
//! in domains), so entity extraction reads the original text instead. Leet conversion leaves numbers with
//! units alone (`50mg`, `120rb`, `15th`, `tm50`) so counts, prices and ages survive.

use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The result of normalizing one field. Reused across posts to avoid allocations.
#[derive(Debug, Default, Clone)]
pub struct Normalized {
    /// Lower-case words separated by single spaces, no leading/trailing space.
    pub text: String,
    /// For each byte of `text`: start of the original char span it came from.
    starts: Vec<u32>,
    /// For each byte of `text`: end of the original char span it came from.
    ends: Vec<u32>,
}

impl Normalized {
    /// Map a byte range of the normalized text (`start < end`, both on char boundaries of `text`)
    /// to the byte range of the original text it came from.
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        debug_assert!(start < end && end <= self.text.len());
        (self.starts[start] as usize, self.ends[end - 1] as usize)
    }

    fn clear(&mut self) {
        self.text.clear();
        self.starts.clear();
        self.ends.clear();
    }

    fn push(&mut self, c: char, start: u32, end: u32) {
        let before = self.text.len();
        self.text.push(c);
        for _ in before..self.text.len() {
            self.starts.push(start);
            self.ends.push(end);
        }
    }
}

/// One folded character and the original byte span it came from.
#[derive(Debug, Clone, Copy)]
struct Unit {
    c: char,
    start: u32,
    end: u32,
}

/// A word in the unit stream, with the separator that preceded it (for split-letter detection).
#[derive(Debug, Clone, Copy)]
struct Token {
    from: usize,
    to: usize,
    /// The separator chars before this token: first char and count (0 = start of text).
    sep: (char, u8),
}

/// Suffixes that make a leading number a quantity, price, size or age rather than leetspeak.
const UNIT_SUFFIXES: &[&str] = &[
    "rb", "ribu", "k", "jt", "juta", "m", "mg", "ml", "gr", "g", "gram", "kg", "x", "th", "thn",
    "tahun", "yo", "an", "pcs", "btr", "cm", "mm", "gb", "tb", "mb", "hr", "hari", "jam", "mnt",
    "menit", "s", "st", "nd", "rd", "lt", "pm", "am", "d", "h", "km", "l", "lbr", "box", "bh",
    "buah", "strip", "tab", "mgr", "mcg", "iu", "ons", "kali", "orang", "org", "bln", "bulan",
    "minggu", "w", "v", "mah", "inch", "inci", "rbu", "jtan", "usd", "ok", "kb", "p", "r",
];

/// Folds text for matching. Holds the abbreviation table (from the lexicon's shared file).
#[derive(Debug, Clone, Default)]
pub struct Normalizer {
    abbreviations: HashMap<String, String>,
}

#[derive(Default)]
struct Scratch {
    units: Vec<Unit>,
    tokens: Vec<Token>,
    word: Vec<Unit>,
    merged: Vec<Unit>,
    key: String,
}

impl Normalizer {
    /// `abbreviations` maps a chat abbreviation (already in normalized form) to its expansion.
    pub fn new(abbreviations: HashMap<String, String>) -> Normalizer {
        let mut n = Normalizer {
            abbreviations: HashMap::new(),
        };
        // Expansions are themselves normalized (without abbreviations) so both sides agree.
        let mut folded = HashMap::new();
        for (k, v) in abbreviations {
            let key = n.normalize(&k).text;
            let val = n.normalize(&v).text;
            if !key.is_empty() && !val.is_empty() && !key.contains(' ') {
                folded.insert(key, val);
            }
        }
        n.abbreviations = folded;
        n
    }

    /// Normalize into a fresh value (tests and lexicon compilation).
    pub fn normalize(&self, input: &str) -> Normalized {
        let mut out = Normalized::default();
        self.normalize_into(input, &mut out);
        out
    }

    /// Normalize `input` into `out`, reusing its buffers.
    pub fn normalize_into(&self, input: &str, out: &mut Normalized) {
        thread_local! {
            static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
        }
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            self.run(input, out, &mut s);
        });
    }

    fn run(&self, input: &str, out: &mut Normalized, s: &mut Scratch) {
        out.clear();
        let Scratch {
            units,
            tokens,
            word,
            merged,
            key,
        } = s;
        units.clear();
        tokens.clear();
        fold_chars(input, units);
        split_tokens(units, tokens);

        let mut i = 0;
        let mut first = true;
        while i < tokens.len() {
            // Split letters: a run of >= 3 one-char tokens with the same short separator.
            let mut j = i;
            if is_split_piece(units, &tokens[i]) {
                j = i + 1;
                while j < tokens.len()
                    && is_split_piece(units, &tokens[j])
                    && split_sep(tokens[j].sep)
                    && (j == i + 1 || tokens[j].sep == tokens[i + 1].sep)
                {
                    j += 1;
                }
                let letters = (i..j)
                    .filter(|&k| units[tokens[k].from].c.is_alphabetic())
                    .count();
                // Two letters count as a split word only when a symbol also closes them, as in
                // "B🔥O🔥 malam ini" (plain "a b" stays two words).
                let closed_pair = j - i == 2
                    && !tokens[i + 1].sep.0.is_ascii()
                    && match tokens.get(j) {
                        Some(next) => next.sep == tokens[i + 1].sep,
                        None => units[tokens[j - 1].to..]
                            .iter()
                            .any(|u| u.c == tokens[i + 1].sep.0),
                    };
                if (j - i < 3 && !closed_pair) || letters * 2 < j - i {
                    j = i;
                }
            }
            merged.clear();
            if j > i {
                for t in &tokens[i..j] {
                    merged.extend_from_slice(&units[t.from..t.to]);
                }
                i = j;
            } else {
                merged.extend_from_slice(&units[tokens[i].from..tokens[i].to]);
                i += 1;
            }
            fold_word(merged, word);
            if word.is_empty() {
                continue;
            }
            // Indonesian reduplication written with a 2 ("apa2", "hati2"): spell both halves.
            let redup = word.len() >= 3
                && word[word.len() - 1].c == '2'
                && word[..word.len() - 1].iter().all(|u| u.c.is_alphabetic());
            if redup {
                let two = word.pop().expect("non-empty");
                let half = word.len();
                word.push(Unit {
                    c: ' ',
                    start: two.start,
                    end: two.start,
                });
                for k in 0..half {
                    let u = word[k];
                    word.push(Unit {
                        c: u.c,
                        start: two.start,
                        end: two.end,
                    });
                }
            }
            let (w_start, w_end) = (word[0].start, word[word.len() - 1].end);
            if !first {
                let prev_end = *out.ends.last().unwrap_or(&0);
                out.push(' ', prev_end.min(w_start), w_start.max(prev_end));
            }
            first = false;
            key.clear();
            key.extend(word.iter().map(|u| u.c));
            if let Some(exp) = self.abbreviations.get(key.as_str()) {
                for c in exp.chars() {
                    out.push(c, w_start, w_end);
                }
            } else {
                for u in word.iter() {
                    out.push(u.c, u.start, u.end);
                }
            }
        }
    }
}

/// A separator that can split the letters of one word: one or two chars ("t.r", "t - r"), or a
/// symbol with a space on each side ("t 🔥 r").
fn split_sep(sep: (char, u8)) -> bool {
    sep.1 <= 2 || (sep.1 == 3 && !sep.0.is_ascii())
}

fn is_split_piece(units: &[Unit], t: &Token) -> bool {
    t.to - t.from == 1 && {
        let c = units[t.from].c;
        c.is_alphabetic() || matches!(c, '0' | '1' | '3' | '4' | '5' | '7' | '8' | '@')
    }
}

/// Characters that are removed without leaving a separator (they hide inside words).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0000}'..='\u{E007F}')
}

/// Look-alike letters from other scripts, folded to the Latin letter they imitate.
fn confusable(c: char) -> char {
    match c {
        'а' | 'α' => 'a',
        'в' | 'β' => 'b',
        'с' | 'ϲ' => 'c',
        'е' | 'ё' | 'ε' | 'є' => 'e',
        'н' | 'η' => 'h',
        'і' | 'ї' | 'ι' | 'ı' => 'i',
        'ј' => 'j',
        'к' | 'κ' => 'k',
        'м' => 'm',
        'п' => 'n',
        'о' | 'ο' | 'σ' | 'ө' => 'o',
        'р' | 'ρ' => 'p',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' | 'μ' => 'u',
        'ν' | 'ѵ' => 'v',
        'ш' | 'ω' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        'ℓ' => 'l',
        // Latin letters with hooks (Ɗ Ο U Β L Ε) have no decomposition either.
        'ɗ' | 'đ' => 'd',
        'ɓ' => 'b',
        'ƙ' => 'k',
        'ƴ' => 'y',
        // Small capitals (ᴋᴇʀᴊᴀ) have no compatibility decomposition.
        'ᴀ' => 'a',
        'ʙ' => 'b',
        'ᴄ' => 'c',
        'ᴅ' => 'd',
        'ᴇ' => 'e',
        'ꜰ' => 'f',
        'ɢ' => 'g',
        'ʜ' => 'h',
        'ɪ' => 'i',
        'ᴊ' => 'j',
        'ᴋ' => 'k',
        'ʟ' => 'l',
        'ᴍ' => 'm',
        'ɴ' => 'n',
        'ᴏ' => 'o',
        'ᴘ' => 'p',
        'ʀ' => 'r',
        'ꜱ' => 's',
        'ᴛ' => 't',
        'ᴜ' => 'u',
        'ᴠ' => 'v',
        'ᴡ' => 'w',
        'ʏ' => 'y',
        'ᴢ' => 'z',
        _ => c,
    }
}

/// Letters hidden in emoji blocks: squared, circled-negative and regional-indicator letters.
fn emoji_letter(c: char) -> Option<char> {
    let base = match c {
        '\u{1F130}'..='\u{1F149}' => 0x1F130,
        '\u{1F150}'..='\u{1F169}' => 0x1F150,
        '\u{1F170}'..='\u{1F189}' => 0x1F170,
        '\u{1F1E6}'..='\u{1F1FF}' => 0x1F1E6,
        _ => return None,
    };
    char::from_u32('a' as u32 + (c as u32 - base))
}

/// Fold each original char into zero or more units; separators become ' '.
fn fold_chars(input: &str, units: &mut Vec<Unit>) {
    for (at, ch) in input.char_indices() {
        let start = at as u32;
        let end = (at + ch.len_utf8()) as u32;
        if ch.is_ascii() {
            let c = ch.to_ascii_lowercase();
            // Separators keep their own char (not ' ') so split-letter runs can require one kind.
            units.push(Unit { c, start, end });
            continue;
        }
        if is_invisible(ch) {
            continue;
        }
        if let Some(l) = emoji_letter(ch) {
            units.push(Unit { c: l, start, end });
            continue;
        }
        let spelled = match ch {
            '💊' => Some("pil"),
            '🔞' => Some("konten dewasa"),
            // Prohibition marks read as "no": "🚫BPOM", "❌ merkuri".
            '🚫' | '❌' | '⛔' | '✖' => Some("no"),
            _ => None,
        };
        if let Some(word) = spelled {
            // A pill or 18+ emoji is vocabulary: spell it as a word of its own.
            units.push(Unit {
                c: ' ',
                start,
                end: start,
            });
            for c in word.chars() {
                units.push(Unit { c, start, end });
            }
            units.push(Unit {
                c: ' ',
                start: end,
                end,
            });
            continue;
        }
        let before = units.len();
        for d in std::iter::once(ch).nfkd() {
            if is_combining_mark(d) || is_invisible(d) {
                continue;
            }
            for l in d.to_lowercase() {
                let l = confusable(l);
                units.push(Unit { c: l, start, end });
            }
        }
        if units.len() == before {
            // Whatever it was (a lone combining mark), keep it as a separator so words do not glue.
            units.push(Unit { c: ' ', start, end });
        }
    }
}

fn is_word_unit(units: &[Unit], i: usize) -> bool {
    let c = units[i].c;
    if c.is_alphanumeric() {
        return true;
    }
    if matches!(c, '@' | '$' | '!' | '|' | '\'' | '’') {
        // Leet symbols count as letters only between two word chars (tr@madol), so handles
        // (@name), prices ($5) and exclamations stay separators. An apostrophe inside a word
        // (they'll, Jum'at) is dropped rather than splitting it ("ll" is a drug code).
        let prev = i > 0 && units[i - 1].c.is_alphanumeric();
        let next = i + 1 < units.len() && units[i + 1].c.is_alphanumeric();
        return prev && next;
    }
    false
}

fn split_tokens(units: &[Unit], tokens: &mut Vec<Token>) {
    let mut i = 0;
    let mut sep: (char, u8) = (' ', 0);
    let mut sep_started = false;
    while i < units.len() {
        if is_word_unit(units, i) {
            let from = i;
            while i < units.len() && is_word_unit(units, i) {
                i += 1;
            }
            tokens.push(Token { from, to: i, sep });
            sep = (' ', 0);
            sep_started = false;
        } else {
            // Record the ORIGINAL separator char (space, dot, dash, emoji) for split-letter runs;
            // a symbol wins over the spaces around it ("s 💎 a 💎 b" is split by 💎).
            if !sep_started || (sep.0 == ' ' && units[i].c != ' ') {
                sep.0 = units[i].c;
                sep_started = true;
            }
            sep.1 = sep.1.saturating_add(1);
            i += 1;
        }
    }
}

fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        '8' => 'b',
        '!' => 'i',
        '|' => 'l',
        _ => return None,
    })
}

/// Leetspeak, stretched letters: fold one word into `word`.
fn fold_word(src: &[Unit], word: &mut Vec<Unit>) {
    word.clear();
    let letters = src.iter().filter(|u| u.c.is_alphabetic()).count();
    let others = src.len() - letters;
    // Heavy leet ("g4j1", "n3g3r1", "1j4z4h") has as many digits as letters: still a word when
    // every non-letter is a leet symbol.
    let heavy = letters == others
        && src.len() >= 4
        && src
            .iter()
            .all(|u| u.c.is_alphabetic() || leet(u.c).is_some());
    let convert = others > 0 && letters >= 2 && (letters > others || heavy) && !is_quantity(src);
    let mut i = 0;
    while i < src.len() {
        let mut u = src[i];
        if let Some(l) = leet(u.c).filter(|_| convert) {
            u.c = l;
        }
        if !u.c.is_alphanumeric() {
            // Unconverted leet symbol: drop it rather than keep punctuation in a word.
            i += 1;
            continue;
        }
        // Stretched letters: a vowel repeated twice or more, or a consonant three times or more,
        // folds into one. Doubled consonants stay (pil "LL", "SS"); the lexicon is folded the same way.
        let mut j = i + 1;
        while j < src.len() {
            let mut c = src[j].c;
            if convert {
                c = leet(c).unwrap_or(c);
            }
            if c != u.c {
                break;
            }
            j += 1;
        }
        let run = j - i;
        let vowel = matches!(u.c, 'a' | 'e' | 'i' | 'o' | 'u');
        if u.c.is_alphabetic() && ((vowel && run >= 2) || run >= 3) {
            word.push(Unit {
                c: u.c,
                start: u.start,
                end: src[j - 1].end,
            });
        } else {
            for x in &src[i..j] {
                word.push(Unit {
                    c: u.c,
                    start: x.start,
                    end: x.end,
                });
            }
        }
        i = j;
    }
}

/// `50mg`, `120rb`, `15th`, `tm50`, `covid19`: numbers with a unit or a code suffix are not leet.
fn is_quantity(src: &[Unit]) -> bool {
    let lead_digits = src.iter().take_while(|u| u.c.is_ascii_digit()).count();
    if lead_digits >= 1 {
        let rest: String = src[lead_digits..].iter().map(|u| u.c).collect();
        if lead_digits >= 2 || UNIT_SUFFIXES.contains(&rest.as_str()) {
            return true;
        }
    }
    let trail_digits = src
        .iter()
        .rev()
        .take_while(|u| u.c.is_ascii_digit())
        .count();
    trail_digits >= 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn norm(s: &str) -> String {
        Normalizer::default().normalize(s).text
    }

    #[test]
    fn folds_case_unicode_and_separators() {
        assert_eq!(norm("Jual  TRAMADOL!!"), "jual tramadol");
        assert_eq!(norm("ｔｒａｍａｄｏｌ"), "tramadol");
        assert_eq!(norm("𝐭𝐫𝐚𝐦𝐚𝐝𝐨𝐥"), "tramadol");
        assert_eq!(norm("trаmаdоl"), "tramadol", "Cyrillic a and o");
        assert_eq!(norm("tra\u{200b}ma\u{200d}dol"), "tramadol");
        assert_eq!(norm("Café"), "cafe");
    }

    #[test]
    fn undoes_leet_but_keeps_quantities() {
        assert_eq!(norm("tr4m4d0l"), "tramadol");
        assert_eq!(norm("g4nj4 h4ppy"), "ganja happy");
        assert_eq!(norm("tr@madol"), "tramadol");
        assert_eq!(
            norm("50mg 120rb 15th tm50 1000"),
            "50mg 120rb 15th tm50 1000"
        );
        assert_eq!(norm("@tokoku"), "tokoku");
        assert_eq!(norm("they'll Jum’at 'es'"), "theyll jumat es");
    }

    #[test]
    fn joins_split_letters_and_squeezes_stretches() {
        assert_eq!(norm("t r a m a d o l"), "tramadol");
        assert_eq!(norm("d.o.u.b.l.e L"), "double l");
        assert_eq!(norm("t🔥r🔥a🔥m"), "tram");
        assert_eq!(norm("s 💎 a 💎 b 💎 u ready"), "sabu ready");
        assert_eq!(norm("B 🔥 O 🔥 malam"), "bo malam");
        assert_eq!(norm("B🔥O🔥"), "bo");
        assert_eq!(norm("a 🔥 b"), "a b", "an unclosed pair stays two words");
        assert_eq!(
            norm("a - b - c"),
            "a b c",
            "an ASCII separator of three is not a split"
        );
        assert_eq!(norm("traaamadoool"), "tramadol");
        assert_eq!(norm("tramadolll"), "tramadol");
        assert_eq!(norm("pil LL"), "pil ll");
        assert_eq!(norm("a b"), "a b", "two letters are not a split word");
        assert_eq!(norm("hati2 ya"), "hati hati ya");
        assert_eq!(norm("ᴋᴇʀᴊᴀ"), "kerja");
    }

    #[test]
    fn heavy_leet_hooked_letters_and_prohibition_marks() {
        assert_eq!(norm("g4j1 15jt t4np4 1j4z4h"), "gaji 15jt tanpa ijazah");
        assert_eq!(norm("n3g3r1"), "negeri");
        // Codes and quantities with as many digits as letters stay as written.
        assert_eq!(norm("a1b2 covid19 b2b"), "a1b2 covid19 b2b");
        assert_eq!(norm("Ɗ Ο U Β L Ε"), "double");
        assert_eq!(norm("🚫BPOM ❌ merkuri"), "no bpom no merkuri");
    }

    #[test]
    fn expands_abbreviations() {
        let n = Normalizer::new(HashMap::from([("tnp".to_string(), "tanpa".to_string())]));
        let out = n.normalize("obat TNP resep");
        assert_eq!(out.text, "obat tanpa resep");
        let at = out.text.find("tanpa").unwrap();
        assert_eq!(out.original_span(at, at + 5), (5, 8));
    }

    #[test]
    fn spans_point_at_original_words() {
        let input = "Jual ｔｒａｍａｄｏｌ murah";
        let out = Normalizer::default().normalize(input);
        let at = out.text.find("tramadol").unwrap();
        let (s, e) = out.original_span(at, at + "tramadol".len());
        assert_eq!(&input[s..e], "ｔｒａｍａｄｏｌ");
    }

    proptest! {
        #[test]
        fn span_map_is_in_bounds_aligned_and_ordered(input in "\\PC{0,60}") {
            let out = Normalizer::default().normalize(&input);
            prop_assert_eq!(out.starts.len(), out.text.len());
            let mut last = 0usize;
            for i in 0..out.text.len() {
                let (s, e) = (out.starts[i] as usize, out.ends[i] as usize);
                prop_assert!(s <= e && e <= input.len());
                prop_assert!(input.is_char_boundary(s) && input.is_char_boundary(e));
                prop_assert!(s >= last || out.text.as_bytes()[i] == b' ');
                last = last.max(s);
            }
            // Every word maps to an aligned span; spans are ordered by start and by end (two words
            // may share one original char, e.g. the NFKD of "¼").
            let mut prev = (0usize, 0usize);
            let mut at = 0usize;
            for w in out.text.split(' ') {
                if !w.is_empty() {
                    let (s, e) = out.original_span(at, at + w.len());
                    prop_assert!(s < e || input.is_empty());
                    prop_assert!(s >= prev.0 && e >= prev.1);
                    prop_assert!(input.is_char_boundary(s) && input.is_char_boundary(e));
                    prev = (s, e);
                }
                at += w.len() + 1;
            }
        }

        #[test]
        fn split_and_leet_text_maps_back(words in proptest::collection::vec("[a-z0-9 .\\-]{1,8}", 1..8)) {
            let input = words.join("\u{200b} 🔥");
            let out = Normalizer::default().normalize(&input);
            let mut at = 0usize;
            for w in out.text.split(' ') {
                if !w.is_empty() {
                    let (s, e) = out.original_span(at, at + w.len());
                    prop_assert!(s < e && e <= input.len());
                    prop_assert!(input.is_char_boundary(s) && input.is_char_boundary(e));
                }
                at += w.len() + 1;
            }
        }
    }
}
