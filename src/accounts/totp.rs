//! The staff second factor: time-based one-time passwords (RFC 6238, the
//! kind every authenticator app reads) and single-use recovery codes.

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use qrcode::{QrCode, render::svg};
use rand::Rng;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret, TOTP};

const STEP_SECONDS: u64 = 30;
pub const RECOVERY_CODE_COUNT: usize = 10;

fn totp(secret_base32: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_base32.to_owned()).to_bytes().ok()?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECONDS,
        bytes,
        Some("Partner Portal".to_owned()),
        account.to_owned(),
    )
    .ok()
}

/// The time step a 6-digit `code` is valid for at `now` (one step of clock
/// drift either way), if it is later than `last_step` (no replay).
pub fn accepted_step(
    secret_base32: &str,
    code: &str,
    now: DateTime<Utc>,
    last_step: Option<i64>,
) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret_base32, "staff")?;
    let now_step = now.timestamp().max(0) as u64 / STEP_SECONDS;
    [now_step.saturating_sub(1), now_step, now_step + 1]
        .into_iter()
        .find(|step| crate::accounts::tokens::same(&totp.generate(step * STEP_SECONDS), &code))
        .map(|step| step as i64)
        .filter(|step| last_step.is_none_or(|last| *step > last))
}

/// The current code (for tests and for automation that holds the secret).
pub fn current_code(secret_base32: &str, now: DateTime<Utc>) -> Option<String> {
    Some(totp(secret_base32, "staff")?.generate(now.timestamp().max(0) as u64))
}

/// An `otpauth://` URL as a QR code, as a data URL for an `<img>`.
pub fn qr_data_url(secret_base32: &str, account: &str) -> Option<String> {
    let url = totp(secret_base32, account)?.get_url();
    let code = QrCode::new(url.as_bytes()).ok()?;
    let svg = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        STANDARD.encode(svg)
    ))
}

/// Ten codes like `k7p2m-x9q4w`, easy to read aloud, 50 random bits each.
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let mut s: String = (0..10)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            s.insert(5, '-');
            s
        })
        .collect()
}

/// The stored form of a recovery code, forgiving case, spaces and dashes.
pub fn recovery_code_hash(code: &str) -> Vec<u8> {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Sha256::digest(normal.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::accounts::staff::generate_totp_secret;

    #[test]
    fn current_code_is_accepted_once() {
        let secret = generate_totp_secret();
        let now = Utc::now();
        let code = current_code(&secret, now).unwrap();
        let step = accepted_step(&secret, &code, now, None).expect("accepted");
        assert_eq!(
            accepted_step(&secret, &code, now, Some(step)),
            None,
            "replay refused"
        );
    }

    #[test]
    fn old_and_malformed_codes_are_refused() {
        let secret = generate_totp_secret();
        let now = Utc::now();
        let old = current_code(&secret, now - Duration::minutes(5)).unwrap();
        assert_eq!(accepted_step(&secret, &old, now, None), None);
        assert_eq!(accepted_step(&secret, "12345", now, None), None);
        assert_eq!(accepted_step(&secret, "abcdef", now, None), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_forgiving() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let mut unique = codes.clone();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        assert_eq!(
            recovery_code_hash(&codes[0]),
            recovery_code_hash(&codes[0].to_uppercase().replace('-', " "))
        );
    }

    #[test]
    fn qr_code_is_an_svg_data_url() {
        let url = qr_data_url(&generate_totp_secret(), "ada@example.com").unwrap();
        assert!(url.starts_with("data:image/svg+xml;base64,"));
    }
}
