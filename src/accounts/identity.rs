//! GitLab identities linked to portal users (PRODUCT.md §9): one identity
//! per user, one user per identity (both unique in the table). With each
//! sign-in through GitLab the row takes what GitLab said then: username,
//! address, and the top-level groups the person owns, with the time, which
//! is what proves namespace ownership (§4).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::gitlab::GitLabPerson;

/// A linked identity as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIdentity {
    pub user_id: i64,
    pub gitlab_user_id: i64,
    pub username: String,
    pub linked_at: DateTime<Utc>,
    pub owner_groups: Vec<String>,
    pub groups_checked_at: Option<DateTime<Utc>>,
}

/// The identity linked to a portal user, if any.
pub async fn of_user(
    conn: &mut PgConnection,
    user_id: i64,
) -> Result<Option<LinkedIdentity>, sqlx::Error> {
    sqlx::query_as!(
        LinkedIdentity,
        "select user_id, gitlab_user_id, username, linked_at, owner_groups, groups_checked_at
           from gitlab_identities where user_id = $1",
        user_id
    )
    .fetch_optional(conn)
    .await
}

/// The portal user a GitLab account is linked to, if any.
pub async fn user_of(
    conn: &mut PgConnection,
    gitlab_user_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "select user_id from gitlab_identities where gitlab_user_id = $1 for update",
        gitlab_user_id
    )
    .fetch_optional(conn)
    .await
}

/// What linking asked for turned into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linked {
    /// A new link.
    New,
    /// The same identity again: what GitLab said was refreshed.
    Refreshed,
    /// The GitLab account is linked to another portal user.
    TakenByAnotherUser,
    /// This user already has another GitLab account linked.
    UserHasAnother,
}

/// Links `person` to `user_id`, or refreshes the link if it is the same.
/// Two requests linking at once: the unique keys let one in, the other
/// finds it taken.
pub async fn link(
    conn: &mut PgConnection,
    user_id: i64,
    person: &GitLabPerson,
    now: DateTime<Utc>,
) -> Result<Linked, sqlx::Error> {
    let inserted = sqlx::query_scalar!(
        "insert into gitlab_identities
                (user_id, gitlab_user_id, username, linked_at, email, owner_groups, groups_checked_at)
         values ($1, $2, $3, $4, $5, $6, $4)
         on conflict do nothing
         returning id",
        user_id,
        person.id,
        person.username,
        now,
        person.email,
        &person.owner_groups
    )
    .fetch_optional(&mut *conn)
    .await?;
    if inserted.is_some() {
        return Ok(Linked::New);
    }
    match user_of(conn, person.id).await? {
        Some(owner) if owner == user_id => {
            refresh(conn, person, now).await?;
            Ok(Linked::Refreshed)
        }
        Some(_) => Ok(Linked::TakenByAnotherUser),
        None => Ok(Linked::UserHasAnother),
    }
}

/// Keeps what GitLab said at this sign-in.
pub async fn refresh(
    conn: &mut PgConnection,
    person: &GitLabPerson,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update gitlab_identities
            set username = $2, email = $3, owner_groups = $4, groups_checked_at = $5
          where gitlab_user_id = $1",
        person.id,
        person.username,
        person.email,
        &person.owner_groups,
        now
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Removes the user's link; the identity removed, if there was one.
pub async fn unlink(
    conn: &mut PgConnection,
    user_id: i64,
) -> Result<Option<LinkedIdentity>, sqlx::Error> {
    sqlx::query_as!(
        LinkedIdentity,
        "delete from gitlab_identities where user_id = $1
         returning user_id, gitlab_user_id, username, linked_at, owner_groups, groups_checked_at",
        user_id
    )
    .fetch_optional(conn)
    .await
}
