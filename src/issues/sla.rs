//! The staff-editable table of resolution windows, as stored.

use sqlx::PgConnection;

use super::severity::SlaTable;

/// The current table. A row out of range (impossible by the table's checks)
/// falls back to the program's defaults rather than stopping the portal.
pub async fn load(conn: &mut PgConnection) -> Result<SlaTable, sqlx::Error> {
    let row = sqlx::query!("select s1_days, s2_days, s3_days, s4_days from sla_settings")
        .fetch_optional(conn)
        .await?;
    Ok(row
        .and_then(|r| {
            let days = |d: i16| u16::try_from(d).unwrap_or(0);
            SlaTable::new(
                days(r.s1_days),
                days(r.s2_days),
                days(r.s3_days),
                days(r.s4_days),
            )
            .ok()
        })
        .unwrap_or_default())
}

pub async fn save(
    conn: &mut PgConnection,
    table: &SlaTable,
    by_user: i64,
) -> Result<(), sqlx::Error> {
    use super::Severity::{S1, S2, S3, S4};
    let days = |s| table.days(s) as i16;
    sqlx::query!(
        "insert into sla_settings (id, s1_days, s2_days, s3_days, s4_days, updated_by, updated_at)
         values (true, $1, $2, $3, $4, $5, now())
         on conflict (id) do update set s1_days = $1, s2_days = $2, s3_days = $3, s4_days = $4,
                                        updated_by = $5, updated_at = now()",
        days(S1),
        days(S2),
        days(S3),
        days(S4),
        by_user
    )
    .execute(conn)
    .await
    .map(drop)
}
