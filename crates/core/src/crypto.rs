//! Sealing a reporter's contact details (UU 27/2022 PDP: reporter data must be protected).
//!
//! XChaCha20-Poly1305 with the report id as associated data, so a sealed blob copied onto another
//! report does not open. The key comes from the server's configuration (32 bytes, base64) and
//! never prints: its `Debug` shows `***`. The 24-byte nonce is passed in; callers draw it from a
//! CSPRNG (`rand::random::<[u8; 24]>()`), and with 192-bit random nonces reuse is not a concern.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Deserializer, Serialize};

use crate::ids::ReportId;

/// Version tag at the start of every sealed blob, so the format can change later.
const VERSION: u8 = 1;
pub const NONCE_LEN: usize = 24;

/// The 32-byte key that seals reporter contacts.
#[derive(Clone, PartialEq, Eq)]
pub struct SealingKey([u8; 32]);

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(***)")
    }
}

impl Drop for SealingKey {
    fn drop(&mut self) {
        // Best effort: do not leave the key in freed memory.
        self.0 = [0; 32];
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Never includes the key text.
    #[error("the sealing key must be 32 bytes encoded in base64 (e.g. `openssl rand -base64 32`)")]
    BadKey,
    #[error("sealed data is malformed")]
    Malformed,
    #[error("sealed data does not open with this key and report (wrong key, or altered)")]
    OpenFailed,
}

impl SealingKey {
    pub fn from_bytes(bytes: [u8; 32]) -> SealingKey {
        SealingKey(bytes)
    }

    /// Reads the key as written in configuration (standard base64, padding optional).
    pub fn from_base64(text: &str) -> Result<SealingKey, CryptoError> {
        let trimmed = text.trim().trim_end_matches('=');
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(trimmed)
            .map_err(|_| CryptoError::BadKey)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(SealingKey(arr))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }

    /// Encrypts `plaintext` bound to `aad`. Output: version byte, nonce, ciphertext with tag.
    pub fn seal(&self, nonce: [u8; NONCE_LEN], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let ct = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory input");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Decrypts a blob from [`SealingKey::seal`]; fails if the key, the `aad` or any byte differs.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ct) = sealed[1..].split_at(NONCE_LEN);
        self.cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| CryptoError::OpenFailed)
    }
}

impl<'de> Deserialize<'de> for SealingKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        SealingKey::from_base64(&s).map_err(serde::de::Error::custom)
    }
}

/// What a reporter may leave so an investigator can reach them. Sealed at rest; `Debug` redacts.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReporterContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
}

impl fmt::Debug for ReporterContact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReporterContact(***)")
    }
}

impl ReporterContact {
    /// True when nothing was given (an anonymous report: store nothing).
    pub fn is_empty(&self) -> bool {
        [&self.name, &self.phone, &self.email, &self.other]
            .iter()
            .all(|v| v.as_deref().is_none_or(|s| s.trim().is_empty()))
    }
}

/// Seals a reporter's contact for storage, bound to its report. Returns base64 text (fits a
/// TEXT column in either database).
pub fn seal_contact(
    key: &SealingKey,
    nonce: [u8; NONCE_LEN],
    report: ReportId,
    contact: &ReporterContact,
) -> String {
    let json = serde_json::to_vec(contact).expect("a struct of strings serializes");
    B64.encode(key.seal(nonce, &json, report.0.as_bytes()))
}

/// Opens what [`seal_contact`] produced for the same report.
pub fn open_contact(
    key: &SealingKey,
    report: ReportId,
    sealed: &str,
) -> Result<ReporterContact, CryptoError> {
    let blob = B64
        .decode(sealed.trim())
        .map_err(|_| CryptoError::Malformed)?;
    let json = key.open(&blob, report.0.as_bytes())?;
    serde_json::from_slice(&json).map_err(|_| CryptoError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn key(b: u8) -> SealingKey {
        SealingKey::from_bytes([b; 32])
    }

    fn contact() -> ReporterContact {
        ReporterContact {
            name: Some("Siti".into()),
            phone: Some("+6281234567890".into()),
            ..ReporterContact::default()
        }
    }

    #[test]
    fn round_trip_and_binding_to_the_report() {
        let report = ReportId(Uuid::from_u128(5));
        let sealed = seal_contact(&key(7), [9; NONCE_LEN], report, &contact());
        assert!(!sealed.contains("Siti") && !sealed.contains("812"));
        assert_eq!(open_contact(&key(7), report, &sealed), Ok(contact()));
        assert_eq!(
            open_contact(&key(8), report, &sealed),
            Err(CryptoError::OpenFailed)
        );
        let other = ReportId(Uuid::from_u128(6));
        assert_eq!(
            open_contact(&key(7), other, &sealed),
            Err(CryptoError::OpenFailed)
        );
        // Different nonces give different ciphertexts of the same contact.
        let again = seal_contact(&key(7), [10; NONCE_LEN], report, &contact());
        assert_ne!(sealed, again);
    }

    #[test]
    fn every_altered_byte_is_detected() {
        let k = key(1);
        let blob = k.seal([3; NONCE_LEN], b"kontak pelapor", b"report-1");
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x80;
            assert!(k.open(&bad, b"report-1").is_err(), "byte {i}");
        }
        assert_eq!(
            k.open(&blob[..10], b"report-1"),
            Err(CryptoError::Malformed)
        );
        assert_eq!(k.open(&blob, b"report-1").unwrap(), b"kontak pelapor");
    }

    #[test]
    fn keys_load_from_base64_and_never_print() {
        let text = B64.encode([42u8; 32]);
        let k = SealingKey::from_base64(&text).unwrap();
        assert_eq!(k, key(42));
        assert_eq!(format!("{k:?}"), "SealingKey(***)");
        assert_eq!(
            SealingKey::from_base64("c2hvcnQ="),
            Err(CryptoError::BadKey)
        );
        let from_json: SealingKey = serde_json::from_str(&format!("\"{text}\"")).unwrap();
        assert_eq!(from_json, k);
        let err = serde_json::from_str::<SealingKey>("\"bm90IGEga2V5\"").unwrap_err();
        assert!(!err.to_string().contains("bm90IGEga2V5"));
        assert_eq!(format!("{:?}", contact()), "ReporterContact(***)");
        assert!(ReporterContact::default().is_empty());
        assert!(!contact().is_empty());
    }
}
