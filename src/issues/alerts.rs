//! A customer's comment on the tracker emails the owning partner's contacts
//! (§6), at most once per issue per [`ALERT_GAP`]: the first comment goes at
//! once, later ones in the window are gathered into one email when it ends
//! (sent by the scheduler's pass).

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

use super::{record, share};
use crate::{config::Config, error::AppResult, mail::Notice, organizations, state::AppState};

/// The least time between two comment emails about one issue.
pub const ALERT_GAP: Duration = Duration::minutes(15);
/// The longest comment quoted in an email; the link leads to the rest.
const QUOTE_CHARS: usize = 1500;

/// A customer comment on `issue_id` was stored: email now, or make sure an
/// email goes when the window since the last one ends.
pub async fn customer_commented(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    issue_id: i64,
) -> AppResult<()> {
    let issue = sqlx::query!(
        "select comment_alert_sent_at, comment_alert_due_at from issues where id = $1",
        issue_id
    )
    .fetch_one(&mut *conn)
    .await?;
    if issue.comment_alert_due_at.is_some() {
        // Already waiting for the window to end: this comment goes with it.
        return Ok(());
    }
    match issue.comment_alert_sent_at {
        Some(sent) if now - sent < ALERT_GAP => {
            sqlx::query!(
                "update issues set comment_alert_due_at = $2 where id = $1",
                issue_id,
                sent + ALERT_GAP
            )
            .execute(conn)
            .await?;
            Ok(())
        }
        _ => send_waiting(conn, config, now, issue_id).await.map(drop),
    }
}

/// The email of an issue whose comments wait, if it is time: every customer
/// comment not told yet, in one email to the partner's contacts. Called in
/// the transaction that stored a comment (from the inbox) and by the
/// scheduler for windows that ended.
pub async fn send_waiting(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    issue_id: i64,
) -> AppResult<bool> {
    let issue = record::load_for_update(conn, issue_id).await?;
    let Some(issue) = issue else { return Ok(false) };
    let Some(partner_id) = issue.partner_id else {
        return Ok(false);
    };
    let waiting = sqlx::query!(
        "select id, author_username, author_name, body, tracker_created_at
           from issue_comments
          where issue_id = $1 and notified_at is null and not by_partner and not internal
          order by tracker_created_at, id",
        issue_id
    )
    .fetch_all(&mut *conn)
    .await?;
    let timing = sqlx::query!(
        "select comment_alert_sent_at, comment_alert_due_at from issues where id = $1",
        issue_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let window_open = timing
        .comment_alert_sent_at
        .is_some_and(|sent| now - sent < ALERT_GAP);
    if waiting.is_empty() || window_open {
        return Ok(false);
    }
    let company = share::company_name(conn, partner_id).await?;
    let brief = share::brief(&issue, &company);
    let quotes: Vec<String> = waiting
        .iter()
        .map(|c| {
            let mut text: String = c.body.chars().take(QUOTE_CHARS).collect();
            if c.body.chars().count() > QUOTE_CHARS {
                text.push_str(" …");
            }
            format!(
                "{} (@{}) wrote:\n{}",
                c.author_name, c.author_username, text
            )
        })
        .collect();
    let subject = match waiting.len() {
        1 => format!("New comment on {}", brief.subject_name()),
        n => format!("{n} new comments on {}", brief.subject_name()),
    };
    let people = organizations::emails::members(conn, partner_id).await?;
    organizations::emails::send_each(conn, now, &people, |name| {
        let mut notice = Notice::new("issue_comment", subject.clone(), name).paragraph(format!(
            "A comment was made on GitLab about {}:",
            brief.name()
        ));
        for quote in &quotes {
            notice = notice.paragraph(quote.clone());
        }
        notice
            .action(
                "Read the thread and answer",
                config.link(&format!("/issues/{issue_id}")),
            )
            .footnote(format!(
                "Your answer in the portal is posted on GitLab for the customer to see. At most one such email per issue every {} minutes.",
                ALERT_GAP.num_minutes()
            ))
    })
    .await?;
    let ids: Vec<i64> = waiting.iter().map(|c| c.id).collect();
    sqlx::query!(
        "update issue_comments set notified_at = $2 where id = any($1)",
        &ids,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update issues set comment_alert_sent_at = $2, comment_alert_due_at = null where id = $1",
        issue_id,
        now
    )
    .execute(conn)
    .await?;
    Ok(true)
}

/// The scheduler's part: every issue whose window ended with comments
/// waiting. Returns how many emails went (one per issue).
pub async fn run_due(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let mut sent = 0;
    loop {
        let mut tx = crate::db::begin(&state.pool).await?;
        let due = sqlx::query_scalar!(
            "select id from issues
              where comment_alert_due_at is not null and comment_alert_due_at <= $1
              order by comment_alert_due_at, id
              limit 1
              for update skip locked",
            now
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(issue_id) = due else {
            return Ok(sent);
        };
        if send_waiting(&mut tx, &state.config, now, issue_id).await? {
            sent += 1;
        } else {
            sqlx::query!(
                "update issues set comment_alert_due_at = null where id = $1",
                issue_id
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
}
