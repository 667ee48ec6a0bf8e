//! A partner's calendar feed: its issue deadlines and license expiries at a
//! secret address. Only a hash of the address's token is stored; making a
//! new address revokes the old one.

use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

use super::record::reference;
use crate::{accounts::tokens, calendar::CalendarEvent, config::Config};

/// Events older than this are left out of the feed.
const PAST_DAYS: i64 = 90;
const MAX_EVENTS: i64 = 2000;

/// When the organisation's current address was made, if it has one (tenant
/// transaction).
pub async fn active_since(conn: &mut PgConnection) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar!("select created_at from calendar_feeds where revoked_at is null")
        .fetch_optional(conn)
        .await
}

/// A new address for the organisation; the previous one stops working.
/// Returns the token, which is never stored and shown once.
pub async fn create(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: i64,
    user_id: i64,
) -> Result<String, sqlx::Error> {
    revoke(conn, now).await?;
    let token = tokens::new_token();
    sqlx::query!(
        "insert into calendar_feeds (partner_id, token_hash, created_by, created_at)
         values ($1, $2, $3, $4)",
        partner_id,
        tokens::hash(&token),
        user_id,
        now
    )
    .execute(conn)
    .await?;
    Ok(token)
}

/// Stops the organisation's address from working. `false` if it had none.
pub async fn revoke(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "update calendar_feeds set revoked_at = $1 where revoked_at is null",
        now
    )
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

/// The organisation a feed token opens, if it is current.
pub async fn partner_for_token(pool: &PgPool, token: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "select partner_id from calendar_feeds where token_hash = $1 and revoked_at is null",
        tokens::hash(token)
    )
    .fetch_optional(pool)
    .await
}

fn uid_domain(config: &Config) -> String {
    config
        .public_url
        .host_str()
        .unwrap_or("partner-portal")
        .to_owned()
}

/// The feed's events, read on a tenant transaction (row-level security
/// keeps them to the organisation).
pub async fn events(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<CalendarEvent>, sqlx::Error> {
    let mut events = issue_deadline_events(conn, config, now).await?;
    events.extend(license_expiry_events(conn, config, now).await?);
    Ok(events)
}

async fn issue_deadline_events(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<CalendarEvent>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select id, title, iid, project_path, severity, confidential, state,
                  deadline_at as "deadline_at!"
             from issues
            where deadline_at is not null and (state = 'open' or deadline_at >= $1)
            order by deadline_at, id
            limit $2"#,
        now - Duration::days(PAST_DAYS),
        MAX_EVENTS
    )
    .fetch_all(conn)
    .await?;
    let domain = uid_domain(config);
    Ok(rows
        .into_iter()
        .map(|r| {
            let reference = reference(r.project_path.as_deref(), r.iid);
            let name = if r.confidential {
                format!("confidential issue {reference}")
            } else {
                format!("{} ({reference})", r.title)
            };
            let severity = r
                .severity
                .map(|s| format!("Severity {s}"))
                .unwrap_or_default();
            let closed = if r.state == "closed" {
                " [resolved]"
            } else {
                ""
            };
            let link = config.link(&format!("/issues/{}", r.id));
            CalendarEvent {
                uid: format!("issue-{}@{domain}", r.id),
                summary: format!("Issue deadline: {name}{closed}"),
                description: Some(format!("{severity} resolution deadline. {link}")),
                url: Some(link),
                at: r.deadline_at,
                all_day: false,
            }
        })
        .collect())
}

/// License expiries (active licenses) as all-day events.
pub async fn license_expiry_events(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<CalendarEvent>, sqlx::Error> {
    // Row-level security limits this to the feed's organisation.
    let rows = sqlx::query!(
        r#"select id, product, users, expires_at as "expires_at!"
             from licenses
            where state = 'active' and expires_at is not null and expires_at >= $1
            order by expires_at, id
            limit $2"#,
        now - Duration::days(PAST_DAYS),
        MAX_EVENTS
    )
    .fetch_all(conn)
    .await?;
    let domain = uid_domain(config);
    Ok(rows
        .into_iter()
        .map(|r| {
            let product = crate::licenses::Product::parse(&r.product).map_or("NFR", |p| p.label());
            let link = config.link(&format!("/licenses/{}", r.id));
            CalendarEvent {
                // The expiry in the uid: a renewal makes a new event.
                uid: format!("license-{}-{}@{domain}", r.id, r.expires_at.timestamp()),
                summary: format!("{product} NFR license expires ({} users)", r.users),
                description: Some(format!("Renew it from 60 days before expiry: {link}")),
                url: Some(link),
                at: r.expires_at,
                all_day: true,
            }
        })
        .collect())
}
