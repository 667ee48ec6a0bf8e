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

/// What an entry of the thread is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// A history sentence written when something happened.
    Event,
    /// A partner update posted in the portal, and where its note stands.
    Update(NoteState),
    /// A comment made on the tracker.
    Comment {
        username: String,
        internal: bool,
        /// The comment on GitLab.
        url: Option<String>,
        edited: bool,
        /// By a GitLab user linked to a member of the owning partner.
        by_partner: bool,
    },
}

/// Where a partner update's note on the tracker stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteState {
    /// Not sent to GitLab (no token, or no tracker issue).
    NotSent,
    /// Queued; `retrying` holds the last failure when there was one.
    Waiting {
        retrying: Option<String>,
    },
    Posted {
        note_id: Option<i64>,
    },
    Failed(String),
}

/// One entry of an issue's thread: a history event, a partner update or a
/// tracker comment.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: String,
    pub actor: String,
    pub text: String,
    /// The text as safe HTML (updates and comments are Markdown).
    pub html: Option<String>,
    pub at: DateTime<Utc>,
    pub said: Said,
}

impl Entry {
    pub fn is_update(&self) -> bool {
        matches!(self.said, Said::Update(_))
    }
}

/// The thread of an issue, oldest first, at most `limit` entries (on a
/// tenant transaction, only the organisation's rows are seen).
pub async fn timeline(
    conn: &mut PgConnection,
    issue_id: i64,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select source as "source!", kind as "kind!", actor as "actor!", text as "text!", html,
                  at as "at!", username, internal, url, edited, by_partner, call_status, call_error,
                  note_id
             from (select 'event' as source, kind, actor, summary as text, null::text as html,
                          occurred_at as at, id, null::text as username, null::bool as internal,
                          null::text as url, null::bool as edited, null::bool as by_partner,
                          null::text as call_status, null::text as call_error, null::bigint as note_id
                     from issue_events where issue_id = $1
                   union all
                   select 'update', 'update', u.author_name, u.body, u.body_html, u.created_at, u.id,
                          null, null, null, null, null, c.status, c.last_error, u.gitlab_note_id
                     from issue_updates u
                     left join gitlab_calls c on c.kind = 'note' and c.issue_update_id = u.id
                    where u.issue_id = $1
                   union all
                   select 'comment', 'comment', author_name, body, body_html, tracker_created_at, id,
                          author_username, internal, url, edited_at is not null, by_partner,
                          null, null, null
                     from issue_comments where issue_id = $1) t
            order by at, source <> 'event', id
            limit $2"#,
        issue_id,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let said = match r.source.as_str() {
                "update" => Said::Update(match r.call_status.as_deref() {
                    None if r.note_id.is_some() => NoteState::Posted { note_id: r.note_id },
                    None => NoteState::NotSent,
                    Some("sent") => NoteState::Posted { note_id: r.note_id },
                    Some("dead") => NoteState::Failed(r.call_error.unwrap_or_default()),
                    Some(_) => NoteState::Waiting {
                        retrying: r.call_error,
                    },
                }),
                "comment" => Said::Comment {
                    username: r.username.unwrap_or_default(),
                    internal: r.internal.unwrap_or(false),
                    url: r.url,
                    edited: r.edited.unwrap_or(false),
                    by_partner: r.by_partner.unwrap_or(false),
                },
                _ => Said::Event,
            };
            Entry {
                kind: r.kind,
                actor: r.actor,
                html: match (&said, r.html) {
                    (Said::Event, _) => None,
                    // Updates posted before the thread rendered Markdown.
                    (_, None) => Some(crate::markdown::render(&r.text, None)),
                    (_, html) => html,
                },
                text: r.text,
                at: r.at,
                said,
            }
        })
        .collect())
}
