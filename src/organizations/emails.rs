//! Emails about the organisation and its team.

use sqlx::PgConnection;

use crate::{
    config::Config,
    error::AppResult,
    mail::{self, Notice, Recipient},
};

pub fn team_invitation(
    config: &Config,
    company: &str,
    inviter: &str,
    role: &str,
    token: &str,
) -> Notice {
    Notice::new("team_invitation", format!("Join {company} on the Partner Portal"), "there")
        .paragraph(format!("{inviter} invited you to join {company} on the Alliance Partner Portal as {role}."))
        .paragraph("Sign up or sign in with this email address, then accept the invitation.")
        .action("Accept the invitation", config.link(&format!("/invitations/accept?token={token}")))
        .footnote("The invitation works once and expires in 7 days. If you did not expect it, ignore this email.")
}

pub fn member_removed(config: &Config, name: &str, company: &str, by: &str) -> Notice {
    Notice::new("team_member_removed", format!("You no longer have access to {company}"), name)
        .paragraph(format!("{by} removed you from the team of {company} on the Alliance Partner Portal."))
        .paragraph("Your account stays: you can sign in, create an organisation of your own, or join another one when invited.")
        .action("Go to the portal", config.link("/dashboard"))
        .footnote("If you think this is a mistake, contact an admin of your organisation.")
}

pub fn role_changed(config: &Config, name: &str, company: &str, role: &str, by: &str) -> Notice {
    Notice::new(
        "team_role_changed",
        format!("Your role in {company} is now {role}"),
        name,
    )
    .paragraph(format!(
        "{by} changed your role in {company} on the Alliance Partner Portal to {role}."
    ))
    .action("See your team", config.link("/team"))
}

pub fn ownership_transferred(config: &Config, name: &str, company: &str, by: &str) -> Notice {
    Notice::new("team_ownership_transferred", format!("You are now the owner of {company}"), name)
        .paragraph(format!("{by} transferred the ownership of {company} on the Alliance Partner Portal to you, and is now an admin."))
        .paragraph("As the owner you manage the team like an admin, and you alone can transfer the ownership again.")
        .action("See your team", config.link("/team"))
}

pub fn member_joined(config: &Config, name: &str, company: &str, who: &str, role: &str) -> Notice {
    Notice::new("team_member_joined", format!("{who} joined {company}"), name)
        .paragraph(format!("{who} accepted the invitation and joined {company} on the Alliance Partner Portal as {role}."))
        .action("See your team", config.link("/team"))
}

/// The owner and admins of an organisation, as recipients.
pub async fn admins(
    conn: &mut PgConnection,
    partner_id: i64,
) -> Result<Vec<Recipient>, sqlx::Error> {
    let rows = sqlx::query!(
        "select u.email, u.name from partner_members m join users u on u.id = m.user_id
          where m.partner_id = $1 and m.role in ('owner', 'admin') and u.disabled_at is null
          order by m.role = 'owner' desc, u.id",
        partner_id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Recipient::new(r.email, r.name))
        .collect())
}

/// Every active member of an organisation, as recipients.
pub async fn members(
    conn: &mut PgConnection,
    partner_id: i64,
) -> Result<Vec<Recipient>, sqlx::Error> {
    let rows = sqlx::query!(
        "select u.email, u.name from partner_members m join users u on u.id = m.user_id
          where m.partner_id = $1 and u.disabled_at is null order by u.id",
        partner_id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Recipient::new(r.email, r.name))
        .collect())
}

/// Queues `build(name)` for each recipient, greeting each by name.
pub async fn send_each(
    conn: &mut PgConnection,
    now: chrono::DateTime<chrono::Utc>,
    recipients: &[Recipient],
    build: impl Fn(&str) -> Notice,
) -> AppResult<()> {
    for r in recipients {
        let notice = build(r.name.as_deref().unwrap_or("there"));
        mail::enqueue(conn, now, r, &notice).await?;
    }
    Ok(())
}
