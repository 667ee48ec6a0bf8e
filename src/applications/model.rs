//! Reading and changing applications. Partner code passes its tenant
//! transaction (row-level security applies); staff code passes the pool.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{
    form::Answers,
    state::{ApplicationState, Transition},
};
use crate::{
    audit::{self, Actor},
    error::{AppError, AppResult},
};

/// What staff confirm before approving a Secure Partner Integration.
pub const SECURE_CHECKLIST: [(&str, &str); 4] = [
    (
        "findings_format",
        "Security findings are reported in the platform's vulnerability report format",
    ),
    (
        "public_apis",
        "The integration uses only documented, public APIs and webhooks",
    ),
    (
        "disclosure_policy",
        "The partner publishes a vulnerability disclosure policy",
    ),
    (
        "data_handling",
        "How the integration stores and transmits customer data has been reviewed",
    ),
];

#[derive(Debug, Clone)]
pub struct Application {
    pub id: i64,
    pub partner_id: i64,
    pub answers: Answers,
    pub state: ApplicationState,
    pub secure_track: bool,
    pub secure_checklist: Vec<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

struct Row {
    id: i64,
    partner_id: i64,
    company_name: String,
    website: String,
    country: String,
    partner_type: Option<String>,
    integration_description: String,
    stages: Vec<String>,
    offerings: Vec<String>,
    primary_contact_name: String,
    primary_contact_email: String,
    primary_contact_phone: String,
    technical_contact_name: String,
    technical_contact_email: String,
    state: String,
    secure_track: Option<bool>,
    secure_checklist: Vec<String>,
    submitted_at: Option<DateTime<Utc>>,
    decided_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Application {
    fn from(r: Row) -> Self {
        Application {
            id: r.id,
            partner_id: r.partner_id,
            state: r.state.parse().unwrap_or(ApplicationState::Draft),
            secure_track: r.secure_track.unwrap_or(false),
            secure_checklist: r.secure_checklist,
            submitted_at: r.submitted_at,
            decided_at: r.decided_at,
            updated_at: r.updated_at,
            answers: Answers {
                company_name: r.company_name,
                website: r.website,
                country: r.country,
                partner_type: r.partner_type,
                integration_description: r.integration_description,
                stages: r.stages,
                offerings: r.offerings,
                primary_contact_name: r.primary_contact_name,
                primary_contact_email: r.primary_contact_email,
                primary_contact_phone: r.primary_contact_phone,
                technical_contact_name: r.technical_contact_name,
                technical_contact_email: r.technical_contact_email,
            },
        }
    }
}

/// The application of an organisation.
pub async fn of_partner(
    conn: &mut PgConnection,
    partner_id: i64,
) -> Result<Option<Application>, sqlx::Error> {
    let row = sqlx::query_as!(
        Row,
        "select id, partner_id, company_name, website, country, partner_type, integration_description, stages,
                offerings, primary_contact_name, primary_contact_email, primary_contact_phone,
                technical_contact_name, technical_contact_email, state, secure_track, secure_checklist,
                submitted_at, decided_at, updated_at
           from applications where partner_id = $1",
        partner_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Application::from))
}

/// An application by its id (staff).
pub async fn by_id(conn: &mut PgConnection, id: i64) -> Result<Option<Application>, sqlx::Error> {
    let row = sqlx::query_as!(
        Row,
        "select id, partner_id, company_name, website, country, partner_type, integration_description, stages,
                offerings, primary_contact_name, primary_contact_email, primary_contact_phone,
                technical_contact_name, technical_contact_email, state, secure_track, secure_checklist,
                submitted_at, decided_at, updated_at
           from applications where id = $1",
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Application::from))
}

pub async fn save_answers(
    conn: &mut PgConnection,
    id: i64,
    a: &Answers,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update applications set company_name = $2, website = $3, country = $4, partner_type = $5,
                integration_description = $6, stages = $7, offerings = $8, primary_contact_name = $9,
                primary_contact_email = $10, primary_contact_phone = $11, technical_contact_name = $12,
                technical_contact_email = $13
          where id = $1",
        id,
        a.company_name,
        a.website,
        a.country,
        a.partner_type,
        a.integration_description,
        &a.stages,
        &a.offerings,
        a.primary_contact_name,
        a.primary_contact_email,
        a.primary_contact_phone,
        a.technical_contact_name,
        a.technical_contact_email,
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Moves the application on, if the action fits its state; records the
/// event with its reason and audits it.
pub async fn transition(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    app: &Application,
    action: Transition,
    actor: &Actor,
    reason: Option<&str>,
    checklist: &[String],
) -> AppResult<ApplicationState> {
    let to = app
        .state
        .apply(action)
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    let changed = sqlx::query!(
        "update applications
            set state = $3,
                submitted_at = case when $3 = 'submitted' then $4 else submitted_at end,
                decided_at = case when $3 in ('approved', 'rejected', 'changes_requested') then $4 else decided_at end,
                secure_checklist = case when $3 = 'approved' then $5 else secure_checklist end
          where id = $1 and state = $2",
        app.id,
        app.state.as_str(),
        to.as_str(),
        now,
        checklist
    )
    .execute(&mut *conn)
    .await?;
    if changed.rows_affected() == 0 {
        return Err(AppError::Conflict(
            "The application changed in the meantime. Reload the page to see it.".into(),
        ));
    }
    sqlx::query!(
        "insert into application_events (partner_id, application_id, from_state, to_state, reason, actor_user_id, actor, occurred_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
        app.partner_id,
        app.id,
        app.state.as_str(),
        action.as_str(),
        reason,
        actor.user_id,
        actor.label,
        now
    )
    .execute(&mut *conn)
    .await?;
    audit::record(conn, now, actor, audit::Entry {
        action: match action {
            Transition::Submit => "application.submitted",
            Transition::Withdraw => "application.withdrawn",
            Transition::Approve => "application.approved",
            Transition::Reject => "application.rejected",
            Transition::RequestChanges => "application.changes_requested",
            Transition::Suspend => "partner.suspended",
            Transition::Reinstate => "partner.reinstated",
        },
        partner_id: Some(app.partner_id),
        subject: Some(("application", app.id)),
        before: Some(serde_json::json!({ "state": app.state.as_str() })),
        after: Some(serde_json::json!({ "state": to.as_str(), "reason": reason, "checklist": checklist })),
    })
    .await?;
    // A suspended partner's namespaces lose the badge until reinstatement.
    match action {
        Transition::Suspend => {
            crate::namespaces::on_partner_suspended(conn, app.partner_id, now).await?;
        }
        Transition::Reinstate => {
            crate::namespaces::on_partner_reinstated(conn, app.partner_id, now).await?;
        }
        _ => {}
    }
    Ok(to)
}

#[derive(Debug)]
pub struct Event {
    pub to_state: String,
    pub reason: Option<String>,
    pub actor: String,
    pub occurred_at: DateTime<Utc>,
}

impl Event {
    pub fn label(&self) -> &'static str {
        match self.to_state.as_str() {
            "submitted" => "Submitted",
            "withdrawn" => "Withdrawn",
            "approved" => "Approved",
            "rejected" => "Rejected",
            "changes_requested" => "Changes requested",
            "suspended" => "Suspended",
            "reinstated" => "Reinstated",
            _ => "Updated",
        }
    }
}

pub async fn events(
    conn: &mut PgConnection,
    partner_id: i64,
    application_id: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    sqlx::query_as!(
        Event,
        "select to_state, reason, actor, occurred_at from application_events
          where partner_id = $1 and application_id = $2 order by occurred_at desc, id desc limit 200",
        partner_id,
        application_id
    )
    .fetch_all(conn)
    .await
}

/// Records acceptance of the current agreement version.
pub async fn accept_agreement(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: i64,
    actor: &Actor,
) -> AppResult<String> {
    let version = sqlx::query!(
        "select id, version from agreement_versions order by published_at desc, id desc limit 1"
    )
    .fetch_one(&mut *conn)
    .await?;
    let inserted = sqlx::query!(
        "insert into agreement_acceptances (partner_id, version_id, user_id, accepted_at, ip)
         values ($1, $2, $3, $4, $5) on conflict (partner_id, version_id) do nothing",
        partner_id,
        version.id,
        actor.user_id,
        now,
        actor.ip.map(sqlx::types::ipnetwork::IpNetwork::from)
    )
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        audit::record(
            conn,
            now,
            actor,
            audit::Entry {
                action: "agreement.accepted",
                partner_id: Some(partner_id),
                subject: Some(("agreement_version", version.id)),
                after: Some(serde_json::json!({ "version": version.version })),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(version.version)
}
