//! The staff export of the issue list as CSV (`GET /admin/issues.csv`):
//! the list's filters and order, streamed from one query so a large export
//! never sits in memory, and capped at [`EXPORT_LIMIT`] rows.

use axum::body::{Body, Bytes};
use chrono::{DateTime, Utc};
use futures_util::{TryStreamExt, stream};
use sqlx::PgPool;
use tokio::sync::mpsc;

use super::{
    lists::{self, ListRow, StaffFilter},
    routes::view::severity_words,
};
use crate::{csv::record, dates::iso};

/// Rows in one export at most: more than a spreadsheet opens comfortably;
/// narrower filters give the rest.
pub const EXPORT_LIMIT: i64 = 100_000;
/// Bytes gathered before a chunk goes to the client.
const CHUNK: usize = 64 * 1024;

const HEADER: &str = "id,reference,title,partner,severity,status,deadline_state,clock_started_at,deadline_at,resolved_at,first_response_at,created_at\r\n";

pub fn line(row: &ListRow, now: DateTime<Utc>) -> String {
    let time = |t: Option<DateTime<Utc>>| t.map(iso).unwrap_or_default();
    let fields = [
        row.id.to_string(),
        row.reference(),
        row.title.clone(),
        row.company.clone().unwrap_or_default(),
        severity_words(row.severity()),
        row.state.clone(),
        row.deadline_state(now).label().to_owned(),
        time(row.clock_started_at),
        time(row.deadline_at),
        time(row.resolved_at),
        time(row.first_response_at),
        iso(row.created_at),
    ];
    record(&fields)
}

/// The whole export. A task runs the list's query (unnamed, so planned for
/// these filters) and sends the rows in chunks; when the client goes away
/// the channel closes and the task stops reading. A failure midway ends the
/// download with an error rather than a silently short file.
pub fn body(pool: PgPool, filter: StaffFilter, now: DateTime<Utc>) -> Body {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        if let Err(e) = send_rows(&pool, &filter, now, &tx).await {
            tracing::error!(error = %e, "issue export failed midway");
            let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
        }
    });
    let chunks = stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    crate::csv::streamed(chunks)
}

async fn send_rows(
    pool: &PgPool,
    filter: &StaffFilter,
    now: DateTime<Utc>,
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<(), sqlx::Error> {
    let mut buf = String::from(HEADER);
    let mut conn = pool.acquire().await?;
    let sql = lists::staff_sql(filter.order);
    let mut rows = lists::staff_query(&sql, filter, now, EXPORT_LIMIT, 0).fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        buf.push_str(&line(&row, now));
        if buf.len() >= CHUNK
            && tx
                .send(Ok(Bytes::from(std::mem::take(&mut buf))))
                .await
                .is_err()
        {
            return Ok(());
        }
    }
    let _ = tx.send(Ok(Bytes::from(buf))).await;
    Ok(())
}
