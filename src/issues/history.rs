//! An issue's history: what happened to it, in sentences written when it
//! happened, shown to its partner and to staff.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Who acted, as history shows it to partners: never a staff address.
pub const TRACKER: &str = "Issue tracker";
pub const SCHEDULER: &str = "Partner Portal";
pub const ALLIANCE_TEAM: &str = "Alliance team";

pub struct Event<'a> {
    pub kind: &'a str,
    pub summary: String,
    pub actor: &'a str,
    pub data: Option<serde_json::Value>,
}

/// Appends to the history of `issue_id`, owned by `partner_id` (or none
/// while it waits for triage).
pub async fn record(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: Option<i64>,
    issue_id: i64,
    event: Event<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into issue_events (partner_id, issue_id, kind, summary, actor, occurred_at, data)
         values ($1, $2, $3, $4, $5, $6, $7)",
        partner_id,
        issue_id,
        event.kind,
        event.summary,
        event.actor,
        now,
        event.data,
    )
    .execute(conn)
    .await
    .map(drop)
}

/// One entry of the timeline on an issue's page: an event or an update.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: String,
    pub actor: String,
    pub text: String,
    pub at: DateTime<Utc>,
    pub is_update: bool,
}

/// The timeline of an issue, oldest first, at most `limit` entries (on a
/// tenant transaction, only the organisation's rows are seen).
pub async fn timeline(
    conn: &mut PgConnection,
    issue_id: i64,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select kind as "kind!", actor as "actor!", text as "text!", at as "at!", is_update as "is_update!"
             from (select kind, actor, summary as text, occurred_at as at, false as is_update, id
                     from issue_events where issue_id = $1
                   union all
                   select 'update', author_name, body, created_at, true, id
                     from issue_updates where issue_id = $1) t
            order by at, is_update, id
            limit $2"#,
        issue_id,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Entry {
            kind: r.kind,
            actor: r.actor,
            text: r.text,
            at: r.at,
            is_update: r.is_update,
        })
        .collect())
}
