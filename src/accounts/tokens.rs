//! Random secrets handed to people (cookies, emailed links) and their
//! stored form: only a SHA-256 hash is kept, so a database leak reveals no
//! usable token.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

/// 256 random bits, URL-safe.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Compares two secrets in constant time.
pub fn same(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// Compares two secrets (or their hashes) in constant time.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    StaffInvitation,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::StaffInvitation => "staff_invitation",
        }
    }

    pub fn lifetime(self) -> Duration {
        match self {
            Purpose::VerifyEmail => Duration::hours(48),
            Purpose::ResetPassword => Duration::hours(1),
            Purpose::StaffInvitation => Duration::days(7),
        }
    }
}

/// Issues a single-use token for `user_id`; earlier unused tokens of the same
/// purpose stop working.
pub async fn issue(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    user_id: i64,
    purpose: Purpose,
) -> Result<String, sqlx::Error> {
    sqlx::query!(
        "update user_tokens set used_at = $3 where user_id = $1 and purpose = $2 and used_at is null",
        user_id,
        purpose.as_str(),
        now
    )
    .execute(&mut *conn)
    .await?;
    let token = new_token();
    sqlx::query!(
        "insert into user_tokens (user_id, purpose, token_hash, created_at, expires_at)
         values ($1, $2, $3, $4, $5)",
        user_id,
        purpose.as_str(),
        hash(&token),
        now,
        now + purpose.lifetime()
    )
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// Uses up a token: the user it belongs to, if it is valid, unused and
/// unexpired. A second use finds nothing.
pub async fn consume(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    token: &str,
    purpose: Purpose,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "update user_tokens set used_at = $3
          where token_hash = $1 and purpose = $2 and used_at is null and expires_at > $3
          returning user_id",
        hash(token),
        purpose.as_str(),
        now
    )
    .fetch_optional(conn)
    .await
}

/// The user a token would belong to, without using it (to show a form).
pub async fn peek(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    token: &str,
    purpose: Purpose,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "select user_id from user_tokens
          where token_hash = $1 and purpose = $2 and used_at is null and expires_at > $3",
        hash(token),
        purpose.as_str(),
        now
    )
    .fetch_optional(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hash_stably() {
        let a = new_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_token());
        assert_eq!(hash(&a), hash(&a));
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &new_token()));
        assert!(!same("abc", "abcd"));
    }
}
