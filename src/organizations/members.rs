//! The members of an organisation and their roles. One owner per
//! organisation (a unique index holds it too); the owner's role changes only
//! by a transfer of ownership.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::MemberRole;

#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub role: MemberRole,
    pub joined_at: DateTime<Utc>,
}

struct Row {
    user_id: i64,
    name: String,
    email: String,
    role: String,
    joined_at: DateTime<Utc>,
}

impl From<Row> for Member {
    fn from(r: Row) -> Self {
        Self {
            user_id: r.user_id,
            name: r.name,
            email: r.email,
            role: r.role.parse().unwrap_or(MemberRole::Member),
            joined_at: r.joined_at,
        }
    }
}

/// Owner first, then admins, then members, by name.
pub async fn list(
    conn: &mut PgConnection,
    partner_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<Member>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Row,
        r#"select m.user_id, u.name, u.email, m.role, m.created_at as joined_at
             from partner_members m join users u on u.id = m.user_id
            where m.partner_id = $1
            order by case m.role when 'owner' then 0 when 'admin' then 1 else 2 end,
                     lower(u.name), m.user_id
            limit $2 offset $3"#,
        partner_id,
        limit,
        offset
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Member::from).collect())
}

pub async fn count(conn: &mut PgConnection, partner_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from partner_members where partner_id = $1"#,
        partner_id
    )
    .fetch_one(conn)
    .await
}

/// A member of the organisation, locked for a change.
pub async fn find(
    conn: &mut PgConnection,
    partner_id: i64,
    user_id: i64,
) -> Result<Option<Member>, sqlx::Error> {
    let row = sqlx::query_as!(
        Row,
        r#"select m.user_id, u.name, u.email, m.role, m.created_at as joined_at
             from partner_members m join users u on u.id = m.user_id
            where m.partner_id = $1 and m.user_id = $2
            for update of m"#,
        partner_id,
        user_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Member::from))
}

/// Sets the role of a member who is not the owner.
pub async fn set_role(
    conn: &mut PgConnection,
    partner_id: i64,
    user_id: i64,
    role: MemberRole,
) -> Result<bool, sqlx::Error> {
    debug_assert!(role != MemberRole::Owner, "owners are made by a transfer");
    sqlx::query!(
        "update partner_members set role = $3
          where partner_id = $1 and user_id = $2 and role <> 'owner' and $3 <> 'owner'",
        partner_id,
        user_id,
        role.as_str()
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Takes a member who is not the owner out of the organisation.
pub async fn remove(
    conn: &mut PgConnection,
    partner_id: i64,
    user_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query!(
        "delete from partner_members where partner_id = $1 and user_id = $2 and role <> 'owner'",
        partner_id,
        user_id
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// The owner becomes an admin and `to` the owner, in that order so that
/// there is never a second owner.
pub async fn transfer_ownership(
    conn: &mut PgConnection,
    partner_id: i64,
    from: i64,
    to: i64,
) -> Result<bool, sqlx::Error> {
    let demoted = sqlx::query!(
        "update partner_members set role = 'admin' where partner_id = $1 and user_id = $2 and role = 'owner'",
        partner_id,
        from
    )
    .execute(&mut *conn)
    .await?;
    if demoted.rows_affected() != 1 {
        return Ok(false);
    }
    let promoted = sqlx::query!(
        "update partner_members set role = 'owner' where partner_id = $1 and user_id = $2",
        partner_id,
        to
    )
    .execute(conn)
    .await?;
    Ok(promoted.rows_affected() == 1)
}
