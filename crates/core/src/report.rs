//! Public-report tracking codes: what a citizen writes down after filing a report and types
//! back to check its status, e.g. `PTR-7KQM-X3VD`.
//!
//! Codes use 32 symbols with no look-alikes (no 0/O, 1/I) and end with a Luhn mod 32 check
//! character, so a mistyped symbol or two swapped neighbours is caught before any lookup.
//! Seven random symbols give 35 bits: guessing is hopeless behind the server's rate limit, and
//! the code reveals only a status. Randomness is passed in (this crate does no I/O).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The symbols, in value order.
pub const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Printed before every code.
pub const PREFIX: &str = "PTR";
const DATA_LEN: usize = 7;

/// A valid tracking code in canonical form `PTR-XXXX-XXXX`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrackingCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackingCodeError {
    #[error("a tracking code has 8 characters after PTR (like PTR-7KQM-X3VD)")]
    WrongLength,
    #[error("`{0}` cannot appear in a tracking code")]
    BadCharacter(char),
    #[error("the tracking code has a typo (check character does not match)")]
    BadCheck,
}

impl TrackingCode {
    /// A new code from random bytes (use a CSPRNG, e.g. `rand::random::<[u8; 8]>()`).
    pub fn from_random(bytes: [u8; 8]) -> TrackingCode {
        let mut bits = u64::from_le_bytes(bytes);
        let mut data = [0u8; DATA_LEN];
        for d in &mut data {
            *d = (bits & 31) as u8;
            bits >>= 5;
        }
        TrackingCode::from_values(&data)
    }

    fn from_values(data: &[u8; DATA_LEN]) -> TrackingCode {
        let check = luhn_check(data);
        let symbols: Vec<char> = data
            .iter()
            .chain(std::iter::once(&check))
            .map(|&v| ALPHABET[v as usize] as char)
            .collect();
        let first: String = symbols[..4].iter().collect();
        let second: String = symbols[4..].iter().collect();
        TrackingCode(format!("{PREFIX}-{first}-{second}"))
    }

    /// Reads a code as people type it: any case, with or without `PTR` and dashes or spaces.
    pub fn parse(input: &str) -> Result<TrackingCode, TrackingCodeError> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_uppercase)
            .collect();
        let body = compact.strip_prefix(PREFIX).unwrap_or(&compact);
        if body.chars().count() != DATA_LEN + 1 {
            return Err(TrackingCodeError::WrongLength);
        }
        let mut values = Vec::with_capacity(DATA_LEN + 1);
        for c in body.chars() {
            let v = ALPHABET
                .iter()
                .position(|&a| a as char == c)
                .ok_or(TrackingCodeError::BadCharacter(c))?;
            values.push(v as u8);
        }
        let data: [u8; DATA_LEN] = values[..DATA_LEN].try_into().expect("length checked");
        if luhn_check(&data) != values[DATA_LEN] {
            return Err(TrackingCodeError::BadCheck);
        }
        Ok(TrackingCode::from_values(&data))
    }

    /// Canonical form, `PTR-XXXX-XXXX`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Luhn mod N check symbol (N = 32) over the data values.
fn luhn_check(data: &[u8]) -> u8 {
    const N: u32 = 32;
    let mut factor = 2;
    let mut sum = 0;
    for &v in data.iter().rev() {
        let addend = factor * u32::from(v);
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / N + addend % N;
    }
    ((N - sum % N) % N) as u8
}

impl fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TrackingCode {
    type Err = TrackingCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TrackingCode::parse(s)
    }
}

impl Serialize for TrackingCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TrackingCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TrackingCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: u64) -> TrackingCode {
        TrackingCode::from_random(n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes())
    }

    #[test]
    fn codes_have_the_documented_shape_and_parse_back() {
        for n in 0..200 {
            let code = sample(n);
            let s = code.as_str();
            assert_eq!(s.len(), 13, "{s}");
            assert!(s.starts_with("PTR-") && s.as_bytes()[8] == b'-', "{s}");
            assert!(!s[4..].contains(['0', 'O', '1', 'I']), "{s}");
            assert_eq!(TrackingCode::parse(s), Ok(code.clone()));
            let sloppy = s.to_lowercase().replace('-', " ");
            assert_eq!(TrackingCode::parse(&sloppy), Ok(code.clone()));
            assert_eq!(TrackingCode::parse(&s[4..]), Ok(code));
        }
        assert_ne!(sample(1), sample(2));
    }

    #[test]
    fn every_single_typo_and_neighbour_swap_is_caught() {
        for n in 0..20 {
            check_typos(&sample(n));
        }
    }

    fn check_typos(code: &TrackingCode) {
        let symbols: Vec<u8> = code
            .as_str()
            .bytes()
            .filter(|b| *b != b'-')
            .skip(3)
            .collect();
        for i in 0..symbols.len() {
            for &other in ALPHABET.iter().filter(|&&a| a != symbols[i]) {
                let mut typo = symbols.clone();
                typo[i] = other;
                let typo = String::from_utf8(typo).unwrap();
                assert_eq!(
                    TrackingCode::parse(&typo),
                    Err(TrackingCodeError::BadCheck),
                    "{typo}"
                );
            }
            if i + 1 < symbols.len() && symbols[i] != symbols[i + 1] {
                let mut swapped = symbols.clone();
                swapped.swap(i, i + 1);
                let swapped = String::from_utf8(swapped).unwrap();
                // Luhn mod N misses only the swap of the first and last symbol ("2" and "Z").
                if TrackingCode::parse(&swapped).is_ok() {
                    let a = ALPHABET.iter().position(|&x| x == symbols[i]).unwrap();
                    let b = ALPHABET.iter().position(|&x| x == symbols[i + 1]).unwrap();
                    assert_eq!(a.min(b) + a.max(b) * 100, 3100, "undetected swap {swapped}");
                }
            }
        }
    }

    #[test]
    fn bad_input_is_explained() {
        assert_eq!(
            TrackingCode::parse("PTR-ABCD"),
            Err(TrackingCodeError::WrongLength)
        );
        assert_eq!(
            TrackingCode::parse("PTR-AB0D-EFGH"),
            Err(TrackingCodeError::BadCharacter('0'))
        );
        let json = serde_json::to_string(&sample(7)).unwrap();
        let back: TrackingCode = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sample(7));
        assert!(serde_json::from_str::<TrackingCode>("\"PTR-2222-2223\"").is_err());
    }
}
