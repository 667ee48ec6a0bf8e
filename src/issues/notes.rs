//! A partner update becomes a comment on the tracker issue (§6, §9): the
//! call is a row of `gitlab_calls` written with the update, and this module
//! says what the note reads, how it is sent, and what its success records.
//! The note names the partner and the author and carries a marker naming
//! the update, so the hook can tell the portal's own note when it comes
//! back, and a retry can find a note whose answer was lost instead of
//! posting it twice.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::{
    calls::GITLAB_CALLS,
    gitlab::GitLab,
    outbox::{self, Claimed, Outcome},
};

/// A note to post: the update and where it goes.
#[derive(Debug, Clone)]
pub struct NoteCall {
    pub update_id: i64,
    pub project_path: String,
    pub iid: i64,
    pub body: String,
}

const MARKER_PREFIX: &str = "<!-- partner-portal update ";
const MARKER_SUFFIX: &str = " -->";

/// What the note reads on GitLab: who posted it, the update as written, and
/// the marker (an HTML comment, which GitLab does not show).
pub fn note_body(author: &str, company: &str, update_id: i64, text: &str) -> String {
    format!(
        "Posted by {} of {} through the Partner Portal:\n\n{}\n\n{MARKER_PREFIX}{update_id}{MARKER_SUFFIX}",
        plain(author),
        plain(company),
        text.trim_end()
    )
}

/// A name as literal text in Markdown: its punctuation escaped, and `@` kept
/// from reading as a mention of somebody on GitLab.
fn plain(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '@' => out.push_str("@\u{200B}"),
            c if "\\`*_{}[]()#+!|<>~".contains(c) => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The update a note names in its marker (its last line), if any.
pub fn update_named_in(body: &str) -> Option<i64> {
    let last = body.trim_end().lines().last()?.trim();
    last.strip_prefix(MARKER_PREFIX)?
        .strip_suffix(MARKER_SUFFIX)?
        .parse()
        .ok()
}

/// Queues the note of update `update_id` (in the transaction that wrote the
/// update).
pub async fn enqueue(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: i64,
    update_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into gitlab_calls (partner_id, kind, issue_update_id, next_attempt_at, created_at)
         values ($1, 'note', $2, $3, $3)",
        partner_id,
        update_id,
        now
    )
    .execute(&mut *conn)
    .await?;
    outbox::notify(conn, &GITLAB_CALLS).await
}

/// The note calls among `ids`, with what they post.
pub async fn load(pool: &PgPool, ids: &[i64]) -> Result<Vec<(i64, NoteCall)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select c.id, u.id as update_id, u.body, u.author_name, p.company_name,
                  i.project_path as "project_path?", i.iid as "iid?"
             from gitlab_calls c
             join issue_updates u on u.partner_id = c.partner_id and u.id = c.issue_update_id
             join issues i on i.id = u.issue_id
             join partners p on p.id = c.partner_id
            where c.id = any($1) and c.kind = 'note'"#,
        ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some((
                r.id,
                NoteCall {
                    update_id: r.update_id,
                    project_path: r.project_path?,
                    iid: r.iid?,
                    body: note_body(&r.author_name, &r.company_name, r.update_id, &r.body),
                },
            ))
        })
        .collect())
}

/// Posts the note. A call tried before may have reached GitLab with its
/// answer lost (a timeout, an instance killed mid-call): then the note is
/// looked for first, and found means sent.
pub async fn send(gitlab: &GitLab, claimed: &Claimed<NoteCall>) -> Outcome {
    let Some(token) = gitlab.config.api_token.as_ref() else {
        return Outcome::Dead("PORTAL_GITLAB_API_TOKEN is not set".into());
    };
    let call = &claimed.item;
    if claimed.attempts > 1 || claimed.uncertain {
        match gitlab
            .recent_notes(token, &call.project_path, call.iid)
            .await
        {
            Ok(notes) => {
                if let Some(note) = notes.iter().find(|n| n.body.trim() == call.body.trim()) {
                    return sent(note.id);
                }
            }
            Err(error) => return error.into(),
        }
    }
    match gitlab
        .create_note(token, &call.project_path, call.iid, &call.body)
        .await
    {
        Ok(note) => sent(note.id),
        Err(error) => error.into(),
    }
}

fn sent(note_id: i64) -> Outcome {
    Outcome::Sent(Some(serde_json::json!({ "note_id": note_id })))
}

/// A posted note's id is kept with its update (unless the hook brought it
/// first).
pub async fn settle(
    tx: &mut PgConnection,
    claimed: &Claimed<NoteCall>,
    outcome: &Outcome,
) -> Result<(), sqlx::Error> {
    let Outcome::Sent(Some(answer)) = outcome else {
        return Ok(());
    };
    let Some(note_id) = answer.get("note_id").and_then(serde_json::Value::as_i64) else {
        return Ok(());
    };
    sqlx::query!(
        "update issue_updates set gitlab_note_id = $2 where id = $1 and gitlab_note_id is null",
        claimed.item.update_id,
        note_id
    )
    .execute(tx)
    .await
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_partner_and_author_and_carries_the_marker() {
        let body = note_body("Ada Lovelace", "Acme Corp", 42, "Fixed in **2.3.1**.\n");
        assert_eq!(
            body,
            "Posted by Ada Lovelace of Acme Corp through the Partner Portal:\n\nFixed in **2.3.1**.\n\n<!-- partner-portal update 42 -->"
        );
        assert_eq!(update_named_in(&body), Some(42));
    }

    #[test]
    fn names_cannot_format_or_mention() {
        let body = note_body("*Eve* @root", "[Acme](https://evil.test)", 1, "x");
        assert!(body.starts_with(
            "Posted by \\*Eve\\* @\u{200B}root of \\[Acme\\]\\(https://evil.test\\) through"
        ));
    }

    #[test]
    fn only_a_marker_on_the_last_line_names_an_update() {
        assert_eq!(
            update_named_in("hello\n<!-- partner-portal update 7 -->\n"),
            Some(7)
        );
        assert_eq!(
            update_named_in("> <!-- partner-portal update 7 -->\n\nI disagree"),
            None
        );
        assert_eq!(update_named_in("<!-- partner-portal update x -->"), None);
        assert_eq!(update_named_in(""), None);
    }
}
