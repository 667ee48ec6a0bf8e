//! A partner's own secret for the GitLab webhook it installs on its group
//! (§6). Only a SHA-256 hash is stored (the secret is 256 random bits, so a
//! fast hash is enough); a new secret revokes the old one. A delivery
//! carrying it is accepted for projects under the partner's verified
//! namespaces only (`issues::routes::webhook`).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::accounts::tokens;

/// A recognisable prefix, so a leaked secret is easy to spot.
pub const PREFIX: &str = "ppwh_";

/// When the organisation's current secret was made, if it has one (tenant
/// transaction).
pub async fn active_since(conn: &mut PgConnection) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar!("select created_at from partner_webhook_secrets where revoked_at is null")
        .fetch_optional(conn)
        .await
}

/// A new secret for the organisation (tenant transaction); the previous one
/// stops working. Returned once, never stored.
pub async fn rotate(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: i64,
    user_id: i64,
) -> Result<String, sqlx::Error> {
    sqlx::query!(
        "update partner_webhook_secrets set revoked_at = $1 where revoked_at is null",
        now
    )
    .execute(&mut *conn)
    .await?;
    let secret = format!("{PREFIX}{}", tokens::new_token());
    sqlx::query!(
        "insert into partner_webhook_secrets (partner_id, secret_hash, created_by, created_at)
         values ($1, $2, $3, $4)",
        partner_id,
        tokens::hash(&secret),
        user_id,
        now
    )
    .execute(conn)
    .await?;
    Ok(secret)
}

/// The partner whose current secret `given` is (privileged path).
pub async fn partner_of(pool: &PgPool, given: &str) -> Result<Option<i64>, sqlx::Error> {
    if !given.starts_with(PREFIX) || given.len() > 200 {
        return Ok(None);
    }
    sqlx::query_scalar!(
        "select partner_id from partner_webhook_secrets where secret_hash = $1 and revoked_at is null",
        tokens::hash(given)
    )
    .fetch_optional(pool)
    .await
}
