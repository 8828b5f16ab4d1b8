//! Password hashing, random tokens and their storage hashes.
//!
//! Plaintext secrets exist only in the request that carries them and in the one response that hands
//! a new token out. What goes to the store is an argon2id PHC string (passwords) or a SHA-256 hex
//! digest (session ids, API tokens): tokens are 256 random bits, so a fast hash is enough and lets
//! the store look them up by equality.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix of platform/admin API tokens, so a leaked one is recognisable in logs and scanners.
pub const API_TOKEN_PREFIX: &str = "ptk_";
/// Prefix of session tokens (cookie value and the `token` returned by log-in).
pub const SESSION_TOKEN_PREFIX: &str = "pts_";

/// Hash a password with argon2id and a fresh random salt (PHC string format).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts any password")
        .to_string()
}

/// Check a password against a stored PHC string. A malformed stored hash counts as a mismatch.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash computed once so that log-in with an unknown user name costs as much as with a known one
/// (otherwise response time tells an attacker which user names exist).
pub fn dummy_password_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("patroli-timing-equaliser"))
}

fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// SHA-256 hex of a token: the only form in which tokens and session ids are stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new API token: `(plaintext shown once, hash to store)`.
pub fn new_api_token() -> (String, String) {
    let token = random_token(API_TOKEN_PREFIX);
    let hash = token_hash(&token);
    (token, hash)
}

/// A new session token: `(plaintext for the cookie, hash to store)`.
pub fn new_session_token() -> (String, String) {
    let token = random_token(SESSION_TOKEN_PREFIX);
    let hash = token_hash(&token);
    (token, hash)
}

/// The CSRF token of a session. Derived from the secret session token (which scripts cannot read:
/// the cookie is HttpOnly), so it needs no storage and a cross-site page cannot compute it.
pub fn csrf_token(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"patroli-csrf\0");
    h.update(session_token.as_bytes());
    hex::encode(h.finalize())
}

/// Comparison whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip_and_salting() {
        let h1 = hash_password("rahasia-123");
        let h2 = hash_password("rahasia-123");
        assert!(h1.starts_with("$argon2id$"), "{h1}");
        assert_ne!(h1, h2, "each hash has its own salt");
        assert!(verify_password("rahasia-123", &h1));
        assert!(!verify_password("rahasia-124", &h1));
        assert!(!verify_password("rahasia-123", "not a phc string"));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (t1, h1) = new_api_token();
        let (t2, _) = new_api_token();
        assert!(t1.starts_with(API_TOKEN_PREFIX));
        assert_ne!(t1, t2);
        assert_eq!(h1, token_hash(&t1));
        assert_eq!(h1.len(), 64);
        assert!(!h1.contains(&t1[4..]));
    }

    #[test]
    fn csrf_depends_on_the_session() {
        let (s1, _) = new_session_token();
        let (s2, _) = new_session_token();
        assert_ne!(csrf_token(&s1), csrf_token(&s2));
        assert!(constant_time_eq(&csrf_token(&s1), &csrf_token(&s1)));
        assert!(!constant_time_eq(&csrf_token(&s1), &csrf_token(&s2)));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
