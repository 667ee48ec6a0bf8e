//! Webhooks to partners' own endpoints (§10). An event is written, in the
//! transaction of the change that causes it, as one delivery per endpoint
//! of the organisation that asked for its type; the outbox worker delivers
//! them signed as Standard Webhooks do, retries for up to three days, and
//! then disables the endpoint and tells the partner's admins.

pub mod delivery;
pub mod endpoints;
pub mod guard;
pub mod signing;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::{config::Config, outbox};

pub use delivery::ENDPOINT_DELIVERIES;

/// The type of the event "Send a test event" sends; never sent otherwise.
pub const TEST_EVENT: &str = "endpoint.test";

/// The events an endpoint can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    IssueShared,
    IssueComment,
    IssueDeadlineApproaching,
    IssueOverdue,
    IssueClosed,
    LicenseIssued,
    LicenseExpiring,
}

impl Event {
    pub const ALL: [Event; 7] = [
        Event::IssueShared,
        Event::IssueComment,
        Event::IssueDeadlineApproaching,
        Event::IssueOverdue,
        Event::IssueClosed,
        Event::LicenseIssued,
        Event::LicenseExpiring,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::IssueShared => "issue.shared",
            Event::IssueComment => "issue.comment",
            Event::IssueDeadlineApproaching => "issue.deadline_approaching",
            Event::IssueOverdue => "issue.overdue",
            Event::IssueClosed => "issue.closed",
            Event::LicenseIssued => "license.issued",
            Event::LicenseExpiring => "license.expiring",
        }
    }

    /// What the form says about it.
    pub fn description(self) -> &'static str {
        match self {
            Event::IssueShared => "a customer's issue becomes yours",
            Event::IssueComment => "a comment is made on one of your issues on GitLab",
            Event::IssueDeadlineApproaching => {
                "half, 80 % or all but a day of an issue's window has passed"
            }
            Event::IssueOverdue => "an issue's deadline passes",
            Event::IssueClosed => "an issue is closed",
            Event::LicenseIssued => "an NFR license is issued or renewed",
            Event::LicenseExpiring => "an NFR license expires in 30 or 7 days, or today",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == text.trim())
    }
}

/// The body of a delivery: `{"type", "timestamp", "data"}`.
pub fn body(event_type: &str, at: DateTime<Utc>, data: Value) -> Value {
    json!({
        "type": event_type,
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "data": data,
    })
}

/// Queues `event` for every endpoint of `partner_id` that asked for it, in
/// the caller's transaction; returns how many deliveries.
pub async fn emit(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: i64,
    event: Event,
    data: Value,
) -> Result<u64, sqlx::Error> {
    emit_to(conn, now, partner_id, None, event.as_str(), data).await
}

/// [`emit`] for one endpoint (a test event), or every endpoint that asked
/// for the type.
pub async fn emit_to(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: i64,
    endpoint_id: Option<i64>,
    event_type: &str,
    data: Value,
) -> Result<u64, sqlx::Error> {
    let message_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let queued = sqlx::query!(
        "insert into endpoint_deliveries (partner_id, endpoint_id, message_id, event_type, payload,
                                          next_attempt_at, created_at)
         select partner_id, id, $3, $4, $5, $6, $6 from webhook_endpoints
          where partner_id = $1 and disabled_at is null
            and ($2::bigint is null and $4 = any(events) or id = $2)",
        partner_id,
        endpoint_id,
        message_id,
        event_type,
        body(event_type, now, data),
        now
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if queued > 0 {
        outbox::notify(conn, &ENDPOINT_DELIVERIES).await?;
    }
    Ok(queued)
}

/// Whether any endpoint of `partner_id` wants `event`: the event's data is
/// read only when one does.
async fn wanted(
    conn: &mut PgConnection,
    partner_id: i64,
    event: Event,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from webhook_endpoints
                           where partner_id = $1 and disabled_at is null and $2 = any(events)) as "wanted!""#,
        partner_id,
        event.as_str()
    )
    .fetch_one(conn)
    .await
}

/// An issue as events describe it (read on the caller's connection).
pub async fn issue_data(
    conn: &mut PgConnection,
    config: &Config,
    issue_id: i64,
) -> Result<Value, sqlx::Error> {
    let i = sqlx::query!(
        "select id, title, iid, project_path, url, severity, state, clock_started_at, deadline_at,
                resolved_at, confidential, first_response_at, created_at
           from issues where id = $1",
        issue_id
    )
    .fetch_one(conn)
    .await?;
    Ok(json!({
        "id": i.id,
        "reference": crate::issues::record::reference(i.project_path.as_deref(), i.iid),
        "title": i.title,
        "state": i.state,
        "severity": i.severity,
        "clock_started_at": i.clock_started_at,
        "deadline_at": i.deadline_at,
        "resolved_at": i.resolved_at,
        "first_response_at": i.first_response_at,
        "confidential": i.confidential,
        "created_at": i.created_at,
        "gitlab_url": i.url,
        "portal_url": config.link(&format!("/issues/{}", i.id)),
    }))
}

/// Emits an issue event with the issue, and `extra` fields beside it.
pub async fn emit_issue(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    partner_id: i64,
    issue_id: i64,
    event: Event,
    extra: Value,
) -> Result<u64, sqlx::Error> {
    if !wanted(conn, partner_id, event).await? {
        return Ok(0);
    }
    let mut data = json!({ "issue": issue_data(conn, config, issue_id).await? });
    if let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) {
        data.extend(extra);
    }
    emit(conn, now, partner_id, event, data).await
}

/// Emits a license event with the license, and `extra` fields beside it.
pub async fn emit_license(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    license_id: i64,
    event: Event,
    extra: Value,
) -> Result<u64, sqlx::Error> {
    let l = sqlx::query!(
        "select id, partner_id, product, state, users, issued_at, expires_at from licenses where id = $1",
        license_id
    )
    .fetch_one(&mut *conn)
    .await?;
    if !wanted(conn, l.partner_id, event).await? {
        return Ok(0);
    }
    let mut data = json!({ "license": {
        "id": l.id,
        "product": l.product,
        "state": l.state,
        "users": l.users,
        "issued_at": l.issued_at,
        "expires_at": l.expires_at,
        "portal_url": config.link(&format!("/licenses/{}", l.id)),
    }});
    if let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) {
        data.extend(extra);
    }
    emit(conn, now, l.partner_id, event, data).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_the_products_and_parse_back() {
        let names: Vec<&str> = Event::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            names,
            [
                "issue.shared",
                "issue.comment",
                "issue.deadline_approaching",
                "issue.overdue",
                "issue.closed",
                "license.issued",
                "license.expiring"
            ]
        );
        for e in Event::ALL {
            assert_eq!(Event::parse(e.as_str()), Some(e));
        }
        assert_eq!(Event::parse("issue.deleted"), None);
    }

    #[test]
    fn a_body_has_type_timestamp_and_data() {
        use chrono::TimeZone;
        let at = Utc.with_ymd_and_hms(2027, 3, 1, 9, 30, 0).unwrap();
        assert_eq!(
            body("issue.closed", at, json!({ "issue": { "id": 4 } })),
            json!({ "type": "issue.closed", "timestamp": "2027-03-01T09:30:00Z", "data": { "issue": { "id": 4 } } })
        );
    }
}
