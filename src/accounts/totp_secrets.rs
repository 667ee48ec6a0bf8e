//! Where staff TOTP secrets are kept: sealed (`crate::secrets`) in
//! `users.totp_secret_sealed`, bound to the user's row.
//!
//! Before this, secrets were kept in plain text in `users.totp_secret`.
//! [`seal_plain`] moves them over, each row in one statement that seals it
//! and clears the plain text together, and only if the plain text is still
//! the one it read: every instance runs it at start, the scheduler's
//! housekeeping runs it again (for rows an older instance wrote during a
//! rolling upgrade), and any number of them may run it at once. Until a row
//! is moved, [`read`] still accepts its plain text.

use sqlx::{PgConnection, PgPool};
use zeroize::Zeroizing;

use crate::secrets::{OpenError, Purpose, Secrets};

/// What the users' TOTP secrets are sealed for (with the user's id).
pub const SEALED_PURPOSE: &str = "users.totp_secret";

fn purpose(user_id: i64) -> Purpose {
    Purpose::new(SEALED_PURPOSE, user_id)
}

/// Keeps `secret_base32` as the user's TOTP secret, sealed.
pub async fn store(
    conn: &mut PgConnection,
    secrets: &Secrets,
    user_id: i64,
    secret_base32: &str,
) -> Result<(), sqlx::Error> {
    let sealed = secrets.seal_str(&purpose(user_id), secret_base32);
    sqlx::query!(
        "update users set totp_secret_sealed = $2, totp_secret = null where id = $1",
        user_id,
        sealed
    )
    .execute(conn)
    .await
    .map(drop)
}

/// The user's TOTP secret from the columns of their row; `Ok(None)` when
/// they have none.
pub fn read(
    secrets: &Secrets,
    user_id: i64,
    sealed: Option<&str>,
    plain: Option<&str>,
) -> Result<Option<Zeroizing<String>>, OpenError> {
    match (sealed, plain) {
        (Some(sealed), _) => secrets.open_str(&purpose(user_id), sealed).map(Some),
        (None, Some(plain)) => Ok(Some(Zeroizing::new(plain.to_owned()))),
        (None, None) => Ok(None),
    }
}

/// The user's TOTP secret, read from the database.
pub async fn load(
    conn: &mut PgConnection,
    secrets: &Secrets,
    user_id: i64,
) -> Result<Option<Zeroizing<String>>, crate::error::AppError> {
    let row = sqlx::query!(
        "select totp_secret_sealed, totp_secret from users where id = $1",
        user_id
    )
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    read(
        secrets,
        user_id,
        row.totp_secret_sealed.as_deref(),
        row.totp_secret.as_deref(),
    )
    .map_err(|e| crate::error::AppError::internal(format!("TOTP secret of user {user_id}: {e}")))
}

/// Rows moved per statement batch.
const BATCH: i64 = 200;

/// Seals every TOTP secret still kept in plain text; returns how many this
/// call moved.
pub async fn seal_plain(pool: &PgPool, secrets: &Secrets) -> Result<u64, sqlx::Error> {
    let mut moved = 0;
    let mut after = 0i64;
    loop {
        let rows = sqlx::query!(
            r#"select id, totp_secret as "totp_secret!" from users
                where totp_secret is not null and id > $1
                order by id limit $2"#,
            after,
            BATCH
        )
        .fetch_all(pool)
        .await?;
        let Some(last) = rows.last().map(|r| r.id) else {
            break;
        };
        for row in rows {
            let plain = Zeroizing::new(row.totp_secret);
            let sealed = secrets.seal_str(&purpose(row.id), &plain);
            moved += sqlx::query!(
                "update users set totp_secret_sealed = $3, totp_secret = null
                  where id = $1 and totp_secret = $2",
                row.id,
                plain.as_str(),
                sealed
            )
            .execute(pool)
            .await?
            .rows_affected();
        }
        after = last;
    }
    if moved > 0 {
        tracing::info!(moved, "sealed TOTP secrets that were kept in plain text");
    }
    Ok(moved)
}
