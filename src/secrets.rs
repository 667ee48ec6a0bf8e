//! Secrets the portal must read back (TOTP secrets, and the tokens and
//! webhook secrets of the areas that need them), sealed at rest.
//!
//! A value is sealed with XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`:
//! an AEAD whose 192-bit nonces are safe to draw at random) under the key of
//! `PORTAL_SECRET_KEY`. The associated data names what is sealed, the column
//! and the row ([`Purpose`]), so a sealed value copied to another column or
//! another row does not open: a database writer cannot swap one staff
//! member's secret for another's. The stored form is text,
//! `sealed1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`, so the key that
//! sealed a value is known without trying every key.
//!
//! Rotation without downtime (README, "Secrets at rest"): the new key becomes
//! `PORTAL_SECRET_KEY` and the old one moves to `PORTAL_OLD_SECRET_KEYS`,
//! which still opens what it sealed; `partner-portal rotate-secret-key`
//! re-seals every value of [`SEALED_COLUMNS`] under the new key; then the old
//! key can go.
//!
//! A local run without `PORTAL_SECRET_KEY` uses (and at first creates, mode
//! 0600) the key file `./var/secret-key`, and says so in the log.

mod columns;
mod key_file;

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub use columns::{ResealReport, SEALED_COLUMNS, SealedColumn, reseal_all};
pub use key_file::KEY_FILE;

use crate::config::{Config, SecretKeys};

const PREFIX: &str = "sealed1";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// 32 bytes of key, wiped when dropped.
#[derive(Clone)]
pub struct KeyBytes(Zeroizing<[u8; 32]>);

impl KeyBytes {
    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// Standard or URL-safe base64 of exactly 32 bytes (`openssl rand -base64 32`).
    pub fn from_base64(text: &str) -> Result<Self, &'static str> {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE};
        let text = text.trim();
        let decoded = Zeroizing::new(
            STANDARD
                .decode(text)
                .or_else(|_| URL_SAFE.decode(text))
                .or_else(|_| URL_SAFE_NO_PAD.decode(text))
                .map_err(|_| "is not base64")?,
        );
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| "must be 32 bytes (44 characters of base64)")?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    pub fn to_base64(&self) -> Zeroizing<String> {
        use base64::engine::general_purpose::STANDARD;
        Zeroizing::new(STANDARD.encode(self.0.as_ref()))
    }

    /// A short public name for the key: what stored values record.
    fn id(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"partner-portal secret key id\0")
            .chain_update(self.0.as_ref())
            .finalize();
        hex::encode(&digest[..4])
    }
}

/// What a sealed value is, bound into it: a value sealed for one purpose
/// and row opens for that purpose and row only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purpose {
    what: &'static str,
    row: String,
}

impl Purpose {
    /// `what` names the column (`"users.totp_secret"`), `row` the row
    /// (its `id`).
    pub fn new(what: &'static str, row: impl fmt::Display) -> Self {
        Self {
            what,
            row: row.to_string(),
        }
    }

    fn associated_data(&self) -> Vec<u8> {
        format!("partner-portal/{PREFIX}\0{}\0{}", self.what, self.row).into_bytes()
    }
}

/// Why a sealed value did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("not a sealed value")]
    Malformed,
    #[error(
        "sealed under key {0}, which is neither PORTAL_SECRET_KEY nor in PORTAL_OLD_SECRET_KEYS"
    )]
    UnknownKey(String),
    /// Tampered with, or sealed for another purpose or row.
    #[error("does not open for {0} (altered, or moved from another row or column)")]
    Refused(String),
}

/// Why the keys could not be loaded, as one line for the person starting
/// the portal.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    File(String),
    #[error("PORTAL_OLD_SECRET_KEYS: two keys share the id {0}; leave out the duplicate")]
    DuplicateId(String),
}

struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl Key {
    fn new(bytes: &KeyBytes) -> Self {
        Self {
            id: bytes.id(),
            cipher: XChaCha20Poly1305::new(bytes.0.as_ref().into()),
        }
    }
}

/// The keys of this instance: one that seals, and every one that opens.
pub struct Secrets {
    current: Key,
    old: Vec<Key>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("current", &self.current.id)
            .field("old", &self.old.iter().map(|k| &k.id).collect::<Vec<_>>())
            .finish()
    }
}

impl Secrets {
    /// The keys of `PORTAL_SECRET_KEY` / `PORTAL_OLD_SECRET_KEYS`, or the
    /// local key file when the variable is unset.
    pub fn load(config: &Config) -> Result<Self, KeyError> {
        match &config.secret_keys {
            Some(keys) => Self::from_keys(keys),
            None => Self::from_keys(&SecretKeys {
                current: key_file::read_or_create(std::path::Path::new(KEY_FILE))
                    .map_err(KeyError::File)?,
                old: Vec::new(),
            }),
        }
    }

    pub fn from_keys(keys: &SecretKeys) -> Result<Self, KeyError> {
        let current = Key::new(&keys.current);
        let mut old: Vec<Key> = Vec::new();
        for bytes in &keys.old {
            let key = Key::new(bytes);
            if key.id == current.id {
                // The current key listed among the old: harmless.
                continue;
            }
            if old.iter().any(|k| k.id == key.id) {
                return Err(KeyError::DuplicateId(key.id));
            }
            old.push(key);
        }
        Ok(Self { current, old })
    }

    /// The id of the key that seals, as stored values name it.
    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `plaintext` for `purpose` under the current key.
    pub fn seal(&self, purpose: &Purpose, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = purpose.associated_data();
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 seals any message under 256 GiB");
        let mut body = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        body.extend_from_slice(&nonce);
        body.extend_from_slice(&ciphertext);
        format!(
            "{PREFIX}:{}:{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(&body)
        )
    }

    pub fn seal_str(&self, purpose: &Purpose, plaintext: &str) -> String {
        self.seal(purpose, plaintext.as_bytes())
    }

    /// Opens a value sealed for `purpose` under any known key.
    pub fn open(&self, purpose: &Purpose, sealed: &str) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let (key_id, body) = split(sealed).ok_or(OpenError::Malformed)?;
        let key = std::iter::once(&self.current)
            .chain(&self.old)
            .find(|k| k.id == key_id)
            .ok_or_else(|| OpenError::UnknownKey(key_id.to_owned()))?;
        let body = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| OpenError::Malformed)?;
        if body.len() < NONCE_LEN + TAG_LEN {
            return Err(OpenError::Malformed);
        }
        let (nonce, ciphertext) = body.split_at(NONCE_LEN);
        let aad = purpose.associated_data();
        key.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| OpenError::Refused(format!("{} of row {}", purpose.what, purpose.row)))
    }

    pub fn open_str(
        &self,
        purpose: &Purpose,
        sealed: &str,
    ) -> Result<Zeroizing<String>, OpenError> {
        let bytes = self.open(purpose, sealed)?;
        String::from_utf8(bytes.to_vec())
            .map(Zeroizing::new)
            .map_err(|_| OpenError::Malformed)
    }

    /// True when `sealed` was sealed under a key other than the current one.
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        split(sealed).is_none_or(|(id, _)| id != self.current.id)
    }

    /// The start of every value sealed under the current key (for `like`).
    pub fn current_prefix(&self) -> String {
        format!("{PREFIX}:{}:", self.current.id)
    }
}

fn split(sealed: &str) -> Option<(&str, &str)> {
    let rest = sealed.strip_prefix(PREFIX)?.strip_prefix(':')?;
    rest.split_once(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(current: &KeyBytes, old: &[&KeyBytes]) -> Secrets {
        Secrets::from_keys(&SecretKeys {
            current: current.clone(),
            old: old.iter().map(|k| (*k).clone()).collect(),
        })
        .unwrap()
    }

    #[test]
    fn a_sealed_value_opens_for_its_purpose_and_row_only() {
        let s = secrets(&KeyBytes::generate(), &[]);
        let purpose = Purpose::new("users.totp_secret", 42);
        let sealed = s.seal_str(&purpose, "JBSWY3DPEHPK3PXP");
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(*s.open_str(&purpose, &sealed).unwrap(), "JBSWY3DPEHPK3PXP");
        assert!(matches!(
            s.open(&Purpose::new("users.totp_secret", 43), &sealed),
            Err(OpenError::Refused(_))
        ));
        assert!(matches!(
            s.open(&Purpose::new("endpoints.secret", 42), &sealed),
            Err(OpenError::Refused(_))
        ));
    }

    #[test]
    fn each_seal_is_different_and_tampering_is_refused() {
        let s = secrets(&KeyBytes::generate(), &[]);
        let p = Purpose::new("t.c", 1);
        let a = s.seal(&p, b"same");
        let b = s.seal(&p, b"same");
        assert_ne!(a, b, "a fresh nonce each time");
        let mut bytes = a.clone().into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        assert!(matches!(s.open(&p, &altered), Err(OpenError::Refused(_))));
        for junk in ["", "JBSWY3DPEHPK3PXP", "sealed1:abcd", "sealed1:x:!!"] {
            assert!(s.open(&p, junk).is_err(), "{junk}");
        }
    }

    #[test]
    fn old_keys_open_and_the_current_one_seals() {
        let (old, new) = (KeyBytes::generate(), KeyBytes::generate());
        let p = Purpose::new("t.c", 7);
        let before = secrets(&old, &[]).seal(&p, b"kept");
        let after = secrets(&new, &[&old]);
        assert!(after.needs_reseal(&before));
        assert_eq!(after.open(&p, &before).unwrap().as_slice(), b"kept");
        let resealed = after.seal(&p, b"kept");
        assert!(!after.needs_reseal(&resealed));
        assert!(resealed.starts_with(&after.current_prefix()));
        // Without the old key the value names the key it needs.
        assert!(matches!(
            secrets(&new, &[]).open(&p, &before),
            Err(OpenError::UnknownKey(id)) if id == old.id()
        ));
    }

    #[test]
    fn keys_are_read_from_base64_of_32_bytes() {
        let k = KeyBytes::generate();
        assert_eq!(KeyBytes::from_base64(&k.to_base64()).unwrap().id(), k.id());
        assert!(KeyBytes::from_base64("c2hvcnQ=").is_err());
        assert!(KeyBytes::from_base64("not base64!").is_err());
    }
}
