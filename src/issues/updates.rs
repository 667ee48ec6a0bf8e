//! A partner posts an update on one of its issues: the one function both
//! doors call (the page's form and the partner API). It checks the text,
//! stores the update, stops the "awaiting first response" clock, records
//! the history and the audit entry, and queues the update's note on the
//! tracker issue, all in the caller's tenant transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{
    history::{self, Event},
    notes, record,
};
use crate::{
    audit::{self, Actor},
    config::Config,
    error::{AppError, AppResult},
    limits, markdown,
};

/// The longest update, in characters.
pub const MAX_UPDATE_CHARS: usize = 10_000;

/// An update's text: trimmed, 1 to 10,000 characters, no control characters
/// other than line breaks and tabs.
pub fn parse_update(input: &str) -> Result<String, &'static str> {
    let text = input.trim();
    match text.chars().count() {
        0 => Err("Write your update before posting it."),
        n if n > MAX_UPDATE_CHARS => Err("Keep the update under 10,000 characters."),
        _ if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) =>
        {
            Err("The update contains characters that cannot be used.")
        }
        _ => Ok(text.to_owned()),
    }
}

/// Who posts: a partner user on the page, a token through the API.
pub struct Author<'a> {
    pub user_id: Option<i64>,
    pub name: &'a str,
    pub actor: &'a Actor,
}

/// Where a posted update goes besides the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Queued as a note on the tracker issue.
    ToGitLab,
    /// `PORTAL_GITLAB_API_TOKEN` is not set: it stays in the portal.
    NoToken,
    /// Entered by the alliance team, with no tracker issue to post on.
    NoTrackerIssue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posted {
    pub update_id: i64,
    pub delivery: Delivery,
    /// This update was the issue's first response.
    pub first_response: bool,
}

/// Posts `body` (already parsed with [`parse_update`]) on issue `issue_id`
/// of `partner_id`. Another organisation's issue is not found.
pub async fn post(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    partner_id: i64,
    issue_id: i64,
    author: Author<'_>,
    body: &str,
) -> AppResult<Posted> {
    let issue = record::load(conn, issue_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let update_id = sqlx::query_scalar!(
        "insert into issue_updates (partner_id, issue_id, author_user_id, author_name, body, body_html,
                                    created_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning id",
        partner_id,
        issue_id,
        author.user_id,
        author.name,
        body,
        markdown::render(body, issue.project_url().as_deref()),
        now
    )
    .fetch_one(&mut *conn)
    .await?;
    let first_response = issue.first_response_at.is_none();
    if first_response {
        sqlx::query!(
            "update issues set first_response_at = $2 where id = $1 and first_response_at is null",
            issue_id,
            now
        )
        .execute(&mut *conn)
        .await?;
        history::record(
            conn,
            now,
            Some(partner_id),
            issue_id,
            Event {
                kind: "first_response",
                summary: format!(
                    "First response from {}; the “awaiting first response” clock stopped.",
                    author.name
                ),
                actor: author.name,
                data: None,
            },
        )
        .await?;
    }
    let delivery = match (&config.gitlab.api_token, issue.iid) {
        (_, None) => Delivery::NoTrackerIssue,
        (None, Some(_)) => Delivery::NoToken,
        (Some(_), Some(_)) => {
            notes::enqueue(conn, now, partner_id, update_id).await?;
            Delivery::ToGitLab
        }
    };
    audit::record(
        conn,
        now,
        author.actor,
        audit::Entry {
            action: "issue.update_posted",
            partner_id: Some(partner_id),
            subject: Some(("issue", issue_id)),
            after: Some(serde_json::json!({
                "update_id": update_id,
                "to_gitlab": delivery == Delivery::ToGitLab,
            })),
            ..Default::default()
        },
    )
    .await?;
    // Last, as write limits want (their lock is the transaction's last):
    // every update counts, whichever door it came through.
    limits::spend(
        conn,
        &limits::ISSUE_UPDATES,
        partner_id,
        author.user_id,
        now,
    )
    .await?;
    Ok(Posted {
        update_id,
        delivery,
        first_response,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_are_trimmed_and_bounded() {
        assert_eq!(
            parse_update("  Fixed in 1.2.3\n"),
            Ok("Fixed in 1.2.3".into())
        );
        assert!(parse_update(" \n ").is_err());
        assert!(parse_update(&"x".repeat(MAX_UPDATE_CHARS)).is_ok());
        assert!(parse_update(&"x".repeat(MAX_UPDATE_CHARS + 1)).is_err());
        assert!(parse_update(&format!("  {}  ", "é".repeat(MAX_UPDATE_CHARS))).is_ok());
        assert!(parse_update("bad \u{0} byte").is_err());
        assert!(parse_update("line one\nline two\ttab").is_ok());
    }
}
