//! Comments made on the tracker issue (§6 "one thread, both sides"), applied
//! from the Note Hook in the inbox's transaction: stored once per note,
//! replaced by an edit, recognised when they are the portal's own notes
//! coming back, counted as the partner's first response when a GitLab user
//! linked to one of its members wrote them, and otherwise told to the
//! partner's contacts as a customer's comment.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

use super::{
    alerts,
    history::{self, Event},
    notes,
};
use crate::{
    config::Config,
    error::AppResult,
    gitlab::hooks::{NoteAction, NoteHook},
    integrations::webhooks,
    markdown,
};

/// How long a note that names a partner update whose own call has not come
/// back yet waits for it before it is taken as an ordinary comment.
pub const OWN_NOTE_WAIT: Duration = Duration::minutes(15);

/// What a comment event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Stored {
        issue_id: i64,
        comment_id: i64,
    },
    Edited {
        issue_id: i64,
        comment_id: i64,
    },
    /// Already stored (the same delivery again), or an edit older than
    /// what is stored.
    Unchanged {
        issue_id: i64,
    },
    /// The portal's own note for a partner update, back through the hook.
    OwnNote {
        issue_id: i64,
        update_id: i64,
    },
    /// Names a partner update whose call has not recorded its note yet:
    /// try again shortly.
    NotYet,
    /// On an issue the portal does not hold.
    UnknownIssue,
}

impl Applied {
    /// The issue it was about, if the portal holds it.
    pub fn issue_id(self) -> Option<i64> {
        match self {
            Self::Stored { issue_id, .. }
            | Self::Edited { issue_id, .. }
            | Self::Unchanged { issue_id }
            | Self::OwnNote { issue_id, .. } => Some(issue_id),
            Self::NotYet | Self::UnknownIssue => None,
        }
    }
}

/// The issue a comment is on, if the portal holds it.
async fn issue_of(
    conn: &mut PgConnection,
    note: &NoteHook,
) -> Result<Option<(i64, Option<i64>)>, sqlx::Error> {
    let (id, iid) = (note.issue.id, note.issue.iid);
    if let Some(external) = id
        && let Some(row) = sqlx::query!(
            "select id, partner_id from issues where external_id = $1 for update",
            external
        )
        .fetch_optional(&mut *conn)
        .await?
    {
        return Ok(Some((row.id, row.partner_id)));
    }
    let row = sqlx::query!(
        "select id, partner_id from issues
          where source = 'tracker' and project_path = $1 and iid = $2
          order by id limit 1 for update",
        note.project_path,
        iid
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| (r.id, r.partner_id)))
}

/// Applies one comment event. `received_at` is when its delivery arrived
/// (a note naming an update waits [`OWN_NOTE_WAIT`] from then at most).
pub async fn apply(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    received_at: DateTime<Utc>,
    note: &NoteHook,
) -> AppResult<Applied> {
    let Some((issue_id, partner_id)) = issue_of(conn, note).await? else {
        return Ok(Applied::UnknownIssue);
    };
    if let Some(update_id) = notes::update_named_in(&note.body) {
        match own_note(conn, issue_id, update_id, note.note_id).await? {
            Own::Yes => {
                return Ok(Applied::OwnNote {
                    issue_id,
                    update_id,
                });
            }
            Own::NotKnownYet if now - received_at < OWN_NOTE_WAIT => return Ok(Applied::NotYet),
            Own::NotKnownYet | Own::No => {}
        }
    }
    let existing = sqlx::query!(
        "select id, tracker_updated_at from issue_comments where external_id = $1",
        note.note_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(existing) = existing {
        if note.action != NoteAction::Update || note.updated_at <= existing.tracker_updated_at {
            return Ok(Applied::Unchanged { issue_id });
        }
        sqlx::query!(
            "update issue_comments set body = $2, body_html = $3, internal = $4, tracker_updated_at = $5,
                    edited_at = $5
              where id = $1",
            existing.id,
            note.body,
            markdown::render(&note.body, note.project_web_url.as_deref()),
            note.internal,
            note.updated_at
        )
        .execute(&mut *conn)
        .await?;
        return Ok(Applied::Edited {
            issue_id,
            comment_id: existing.id,
        });
    }
    let by_partner = match partner_id {
        Some(partner) => is_partner_member(conn, partner, note.author.id).await?,
        None => false,
    };
    let comment_id = sqlx::query_scalar!(
        "insert into issue_comments (partner_id, issue_id, external_id, author_gitlab_id,
                                     author_username, author_name, body, body_html, internal, url,
                                     by_partner, tracker_created_at, tracker_updated_at, received_at,
                                     edited_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         returning id",
        partner_id,
        issue_id,
        note.note_id,
        note.author.id,
        note.author.username,
        note.author.name,
        note.body,
        markdown::render(&note.body, note.project_web_url.as_deref()),
        note.internal,
        note.url,
        by_partner,
        note.created_at,
        note.updated_at,
        now,
        (note.action == NoteAction::Update).then_some(note.updated_at),
    )
    .fetch_one(&mut *conn)
    .await?;
    if let Some(partner_id) = partner_id {
        if by_partner {
            first_response(conn, now, partner_id, issue_id, note).await?;
        } else if !note.internal {
            alerts::customer_commented(conn, config, now, issue_id).await?;
        }
        webhooks::emit_issue(
            conn,
            config,
            now,
            partner_id,
            issue_id,
            webhooks::Event::IssueComment,
            serde_json::json!({ "comment": {
                "id": comment_id,
                "gitlab_note_id": note.note_id,
                "author": {
                    "username": note.author.username,
                    "name": note.author.name,
                    "of_your_organisation": by_partner,
                },
                "body": note.body,
                "internal": note.internal,
                "url": note.url,
                "created_at": note.created_at,
            }}),
        )
        .await?;
    }
    Ok(Applied::Stored {
        issue_id,
        comment_id,
    })
}

enum Own {
    Yes,
    No,
    /// The update's call has not recorded its note yet.
    NotKnownYet,
}

/// Whether note `note_id`, which names update `update_id`, is the portal's
/// note for it: only the note the call recorded is (a customer quoting the
/// portal's note copies its marker, not its id).
async fn own_note(
    conn: &mut PgConnection,
    issue_id: i64,
    update_id: i64,
    note_id: i64,
) -> Result<Own, sqlx::Error> {
    let update = sqlx::query!(
        "select u.gitlab_note_id, c.status as \"status?\"
           from issue_updates u
           left join gitlab_calls c on c.kind = 'note' and c.issue_update_id = u.id
          where u.id = $1 and u.issue_id = $2",
        update_id,
        issue_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match update {
        None => Own::No,
        Some(u) if u.gitlab_note_id == Some(note_id) => Own::Yes,
        Some(u) if u.gitlab_note_id.is_none() && u.status.as_deref() == Some("pending") => {
            Own::NotKnownYet
        }
        Some(_) => Own::No,
    })
}

/// Whether GitLab user `gitlab_user_id` is linked to a member of
/// `partner_id`.
pub async fn is_partner_member(
    conn: &mut PgConnection,
    partner_id: i64,
    gitlab_user_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from gitlab_identities g
                            join partner_members m on m.user_id = g.user_id
                           where g.gitlab_user_id = $1 and m.partner_id = $2) as "linked!""#,
        gitlab_user_id,
        partner_id
    )
    .fetch_one(conn)
    .await
}

/// A comment by the partner on the tracker: the first response is the
/// earlier of it and the first update in the portal.
async fn first_response(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: i64,
    issue_id: i64,
    note: &NoteHook,
) -> AppResult<()> {
    let before = sqlx::query_scalar!(
        "update issues i set first_response_at = least(coalesce(i.first_response_at, $2), $2)
           from issues old
          where i.id = $1 and old.id = i.id
      returning old.first_response_at",
        issue_id,
        note.created_at
    )
    .fetch_one(&mut *conn)
    .await?;
    let summary = match before {
        None => format!(
            "First response from @{} on GitLab; the “awaiting first response” clock stopped.",
            note.author.username
        ),
        Some(earlier) if earlier > note.created_at => format!(
            "@{} had answered on GitLab before the first update here; the first response is now that comment.",
            note.author.username
        ),
        Some(_) => return Ok(()),
    };
    history::record(
        conn,
        now,
        Some(partner_id),
        issue_id,
        Event {
            kind: "first_response",
            summary,
            actor: &note.author.name,
            data: Some(serde_json::json!({ "note_id": note.note_id })),
        },
    )
    .await?;
    Ok(())
}

/// When staff or routing give an issue to `partner_id`: its comments move
/// with it, those by the partner's linked members are marked, and the first
/// response is the earliest of them if none was recorded.
pub async fn follow_share(
    conn: &mut PgConnection,
    issue_id: i64,
    partner_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update issue_comments c
            set partner_id = $2,
                by_partner = exists (select 1 from gitlab_identities g
                                       join partner_members m on m.user_id = g.user_id
                                      where g.gitlab_user_id = c.author_gitlab_id
                                        and m.partner_id = $2)
          where c.issue_id = $1 and c.partner_id is null",
        issue_id,
        partner_id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update issues set first_response_at = (select min(tracker_created_at) from issue_comments
                                                  where issue_id = $1 and by_partner)
          where id = $1 and first_response_at is null",
        issue_id
    )
    .execute(conn)
    .await?;
    Ok(())
}
