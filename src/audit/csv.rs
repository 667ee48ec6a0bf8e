//! The staff export of the audit log as CSV, streamed a batch at a time so a
//! long history never sits in memory.

use axum::body::Body;
use futures_util::stream;
use sqlx::PgPool;

use super::{
    names,
    query::{self, Cursor, Filters, Row},
};
use crate::dates::iso;

const BATCH: i64 = 500;

use crate::csv::record;

const HEADER: &str = "id,occurred_at,actor,actor_user_id,ip,partner_id,organisation,action,action_label,subject_type,subject_id,before,after\r\n";

pub fn line(row: &Row) -> String {
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let json =
        |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    let fields = [
        row.id.to_string(),
        iso(row.occurred_at),
        row.actor.clone(),
        opt(row.actor_user_id),
        row.ip.map(|ip| ip.ip().to_string()).unwrap_or_default(),
        opt(row.partner_id),
        row.company_name.clone().unwrap_or_default(),
        row.action.clone(),
        names::label(&row.action),
        row.subject_type.clone().unwrap_or_default(),
        opt(row.subject_id),
        json(&row.before),
        json(&row.after),
    ];
    record(&fields)
}

enum Next {
    Header,
    After(Option<Cursor>),
    Done,
}

/// The whole export: the header, then batches until the log runs out.
pub fn body(pool: PgPool, filters: Filters, partner_id: Option<i64>) -> Body {
    let batches = stream::unfold(Next::Header, move |next| {
        let pool = pool.clone();
        let filters = filters.clone();
        async move {
            let after = match next {
                Next::Header => return Some((Ok(HEADER.to_owned()), Next::After(None))),
                Next::After(after) => after,
                Next::Done => return None,
            };
            let rows = async {
                let mut tx = crate::db::begin(&pool).await?;
                match partner_id {
                    Some(id) => query::page_for_partner(&mut tx, id, &filters, after, BATCH).await,
                    None => query::page_all(&mut tx, &filters, after, BATCH).await,
                }
            }
            .await;
            match rows {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let next = if (rows.len() as i64) < BATCH {
                        Next::Done
                    } else {
                        Next::After(rows.last().map(Row::cursor))
                    };
                    Some((Ok(rows.iter().map(line).collect::<String>()), next))
                }
                Err(e) => {
                    tracing::error!(error = %e, "audit export failed midway");
                    Some((Err(e), Next::Done))
                }
            }
        }
    });
    crate::csv::streamed(batches)
}
