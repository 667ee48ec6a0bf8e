//! Every column that holds sealed values, and re-sealing them under the
//! current key (`partner-portal rotate-secret-key`).
//!
//! An area that keeps a secret adds one line to [`SEALED_COLUMNS`] and
//! seals with `Purpose::new(column.purpose, id)`.

use sqlx::PgPool;

use super::{Purpose, Secrets};

/// A text column of sealed values, in a table keyed by a bigint `id`.
#[derive(Debug, Clone, Copy)]
pub struct SealedColumn {
    pub table: &'static str,
    pub column: &'static str,
    /// The purpose its values are sealed for (with the row's `id`).
    pub purpose: &'static str,
}

pub const SEALED_COLUMNS: &[SealedColumn] = &[
    SealedColumn {
        table: "users",
        column: "totp_secret_sealed",
        purpose: crate::accounts::totp_secrets::SEALED_PURPOSE,
    },
    SealedColumn {
        table: "webhook_endpoints",
        column: "secret_sealed",
        purpose: crate::integrations::webhooks::delivery::SEALED_PURPOSE,
    },
];

/// What re-sealing did, column by column.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResealReport {
    pub resealed: u64,
    /// Values no key at hand opens: (table.column, id, why).
    pub unreadable: Vec<(String, i64, String)>,
}

const BATCH: i64 = 500;

/// Re-seals every value not sealed under the current key. Safe to run while
/// the portal serves, on several machines at once, and again after an
/// interruption: each value is replaced only if it is still the one read
/// (a value written meanwhile is under the current key already).
pub async fn reseal_all(pool: &PgPool, secrets: &Secrets) -> Result<ResealReport, sqlx::Error> {
    let mut report = ResealReport::default();
    for column in SEALED_COLUMNS {
        reseal_column(pool, secrets, column, &mut report).await?;
    }
    Ok(report)
}

async fn reseal_column(
    pool: &PgPool,
    secrets: &Secrets,
    column: &SealedColumn,
    report: &mut ResealReport,
) -> Result<(), sqlx::Error> {
    let SealedColumn {
        table,
        column: col,
        purpose,
    } = *column;
    // Names from the constant list above, never from input.
    let select = format!(
        "select id, {col} as sealed from {table}
          where {col} is not null and {col} not like $1 and id > $2
          order by id limit $3"
    );
    let update = format!("update {table} set {col} = $3 where id = $1 and {col} = $2");
    let mut after = 0i64;
    loop {
        let rows: Vec<(i64, String)> = sqlx::query_as(&select)
            .bind(format!("{}%", secrets.current_prefix()))
            .bind(after)
            .bind(BATCH)
            .fetch_all(pool)
            .await?;
        let Some(&(last, _)) = rows.last() else {
            return Ok(());
        };
        for (id, sealed) in rows {
            let purpose = Purpose::new(purpose, id);
            match secrets.open(&purpose, &sealed) {
                Ok(plain) => {
                    let resealed = secrets.seal(&purpose, &plain);
                    let done = sqlx::query(&update)
                        .bind(id)
                        .bind(&sealed)
                        .bind(&resealed)
                        .execute(pool)
                        .await?;
                    report.resealed += done.rows_affected();
                }
                Err(e) => report
                    .unreadable
                    .push((format!("{table}.{col}"), id, e.to_string())),
            }
        }
        after = last;
    }
}
