//! Invitations to join an organisation's team. The emailed link carries a
//! random token; only its hash is stored. A link works once, for 7 days;
//! sending it again replaces the token, so the old link stops working.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

use super::MemberRole;
use crate::accounts::{EmailAddress, tokens};

/// How long an invitation link works.
pub const LIFETIME: Duration = Duration::days(7);

/// The roles an invitation can give: the owner is made only by a transfer.
pub fn parse_invited_role(input: &str) -> Result<MemberRole, &'static str> {
    match input.parse() {
        Ok(role @ (MemberRole::Admin | MemberRole::Member)) => Ok(role),
        _ => Err("Choose admin or member."),
    }
}

/// An invitation not yet accepted or cancelled (possibly expired).
#[derive(Debug, Clone)]
pub struct OpenInvitation {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub invited_by: Option<String>,
}

pub async fn list_open(
    conn: &mut PgConnection,
    partner_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<OpenInvitation>, sqlx::Error> {
    sqlx::query_as!(
        OpenInvitation,
        r#"select i.id, i.email, i.role, i.created_at, i.expires_at, u.name as "invited_by?"
             from partner_invitations i
             left join users u on u.id = i.invited_by
            where i.partner_id = $1 and i.accepted_at is null and i.cancelled_at is null
            order by i.created_at desc, i.id desc
            limit $2 offset $3"#,
        partner_id,
        limit,
        offset
    )
    .fetch_all(conn)
    .await
}

pub async fn count_open(conn: &mut PgConnection, partner_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from partner_invitations
            where partner_id = $1 and accepted_at is null and cancelled_at is null"#,
        partner_id
    )
    .fetch_one(conn)
    .await
}

/// Why an invitation was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InviteProblem {
    #[error("This person is already a member of your team.")]
    AlreadyMember,
    #[error(
        "An invitation to this address is already waiting. Send it again from the list of invitations if it got lost."
    )]
    AlreadyInvited,
}

/// A new invitation: its id, the token for the link, and the expired
/// invitation to the same address it replaced, if any.
#[derive(Debug)]
pub struct Created {
    pub id: i64,
    pub token: String,
    pub replaced: Option<i64>,
}

pub async fn create(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: i64,
    email: &EmailAddress,
    role: MemberRole,
    invited_by: i64,
) -> Result<Result<Created, InviteProblem>, sqlx::Error> {
    // Only the organisation's own members are visible here.
    let member = sqlx::query_scalar!(
        r#"select exists (select 1 from partner_members m join users u on u.id = m.user_id
                           where m.partner_id = $1 and lower(u.email) = $2) as "member!""#,
        partner_id,
        email.normalized()
    )
    .fetch_one(&mut *conn)
    .await?;
    if member {
        return Ok(Err(InviteProblem::AlreadyMember));
    }
    let open = sqlx::query!(
        "select id, expires_at from partner_invitations
          where partner_id = $1 and lower(email) = $2 and accepted_at is null and cancelled_at is null
          for update",
        partner_id,
        email.normalized()
    )
    .fetch_optional(&mut *conn)
    .await?;
    let replaced = match open {
        Some(o) if o.expires_at > now => return Ok(Err(InviteProblem::AlreadyInvited)),
        Some(o) => {
            sqlx::query!(
                "update partner_invitations set cancelled_at = $2 where id = $1",
                o.id,
                now
            )
            .execute(&mut *conn)
            .await?;
            Some(o.id)
        }
        None => None,
    };
    let token = tokens::new_token();
    let id = sqlx::query_scalar!(
        "insert into partner_invitations (partner_id, email, role, token_hash, invited_by, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (partner_id, lower(email)) where accepted_at is null and cancelled_at is null
         do nothing
         returning id",
        partner_id,
        email.as_str(),
        role.as_str(),
        tokens::hash(&token),
        invited_by,
        now,
        now + LIFETIME
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match id {
        Some(id) => Ok(Created {
            id,
            token,
            replaced,
        }),
        // Sent from another tab a moment ago.
        None => Err(InviteProblem::AlreadyInvited),
    })
}

/// An open invitation of the organisation, locked for a change.
pub async fn find_open(
    conn: &mut PgConnection,
    partner_id: i64,
    id: i64,
) -> Result<Option<OpenInvitation>, sqlx::Error> {
    sqlx::query_as!(
        OpenInvitation,
        r#"select i.id, i.email, i.role, i.created_at, i.expires_at, null::text as "invited_by?"
             from partner_invitations i
            where i.partner_id = $1 and i.id = $2 and i.accepted_at is null and i.cancelled_at is null
            for update"#,
        partner_id,
        id
    )
    .fetch_optional(conn)
    .await
}

/// A fresh token and 7 more days; the old link stops working. Returns the token.
pub async fn renew(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: i64,
    id: i64,
) -> Result<String, sqlx::Error> {
    let token = tokens::new_token();
    sqlx::query!(
        "update partner_invitations set token_hash = $3, created_at = $4, expires_at = $5
          where partner_id = $1 and id = $2",
        partner_id,
        id,
        tokens::hash(&token),
        now,
        now + LIFETIME
    )
    .execute(conn)
    .await?;
    Ok(token)
}

pub async fn cancel(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: i64,
    id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update partner_invitations set cancelled_at = $3 where partner_id = $1 and id = $2",
        partner_id,
        id,
        now
    )
    .execute(conn)
    .await
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitations_give_admin_or_member_never_owner() {
        assert_eq!(parse_invited_role("admin"), Ok(MemberRole::Admin));
        assert_eq!(parse_invited_role("member"), Ok(MemberRole::Member));
        assert!(parse_invited_role("owner").is_err());
        assert!(parse_invited_role("").is_err());
    }
}
