//! Outbound webhook endpoints on `/integrations` (§10): registering one
//! (its secret shown once), its delivery log, "send again", "send a test
//! event", enabling it after it was disabled, deleting it. Everyone in the
//! organisation reads the log; only admins change anything.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use serde_json::json;

use super::{
    routes::{EndpointForm, page},
    webhooks::endpoints::{self, DeliveryLine, EndpointRow, MAX_ENDPOINTS, NewEndpoint},
};
use crate::{
    audit,
    dates::When,
    error::{AppError, AppResult},
    organizations::Tenant,
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

/// An endpoint as the list and its page show it.
pub struct EndpointLine {
    pub id: i64,
    pub url: String,
    pub events: String,
    /// `Active`, `Failing` or `Disabled`.
    pub status: &'static str,
    pub status_note: Option<String>,
    pub created: When,
    pub created_by: Option<String>,
    pub last_attempt: Option<When>,
    /// The last answer: `200`, or `no answer`.
    pub last_answer: Option<String>,
    pub disabled: bool,
}

impl EndpointLine {
    pub fn new(row: EndpointRow, now: chrono::DateTime<chrono::Utc>) -> Self {
        let (status, status_note) = match (row.disabled_at, row.failing_since) {
            (Some(at), _) => (
                "Disabled",
                Some(format!(
                    "Disabled {}. {}",
                    When::new(now, at).relative,
                    row.disabled_reason.unwrap_or_default()
                )),
            ),
            (None, Some(since)) => (
                "Failing",
                Some(format!(
                    "Every delivery has failed since {}; after three days of failures the endpoint is disabled.",
                    When::new(now, since).exact
                )),
            ),
            (None, None) => ("Active", None),
        };
        Self {
            id: row.id,
            url: row.url,
            events: row.events.join(", "),
            status,
            status_note,
            created: When::new(now, row.created_at),
            created_by: row.created_by,
            last_attempt: row.last_attempt_at.map(|at| When::new(now, at)),
            last_answer: row.last_attempt_at.map(|_| match row.last_status {
                Some(code) => code.to_string(),
                None => "no answer".to_owned(),
            }),
            disabled: row.disabled_at.is_some(),
        }
    }
}

/// The form's fields, repeated `events` included.
fn endpoint_form(pairs: Vec<(String, String)>) -> EndpointForm {
    let mut form = EndpointForm::default();
    for (name, value) in pairs {
        match name.as_str() {
            "url" => form.url = value,
            "events" => form.events.push(value),
            _ => {}
        }
    }
    form
}

pub async fn create(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    tenant.require_admin()?;
    let form = endpoint_form(pairs);
    let allow_loopback = state.config.webhook_allow_loopback;
    let mut problems = match NewEndpoint::parse(&form.url, &form.events, allow_loopback) {
        Ok(new) => match endpoints::resolves_publicly(&new.url, allow_loopback).await {
            Ok(()) => Ok(new),
            Err(message) => Err(vec![("url", message)]),
        },
        Err(problems) => Err(problems),
    };
    if problems.is_ok() && endpoints::count(&mut tenant.tx).await? >= MAX_ENDPOINTS {
        problems = Err(vec![(
            "url",
            format!(
                "Your organisation has {MAX_ENDPOINTS} endpoints, the most it may have: delete one first."
            ),
        )]);
    }
    let new = match problems {
        Ok(new) => new,
        Err(problems) => {
            let mut errors = FormErrors::default();
            for (field, message) in problems {
                errors.add(field, message);
            }
            let page = page(
                &state,
                &mut tenant,
                Default::default(),
                FormErrors::default(),
                form,
                errors,
            )
            .await?;
            return Ok(Invalid(page).into_response());
        }
    };
    let now = state.clock.now();
    let (partner_id, user_id, actor) = (tenant.partner_id, tenant.user_id(), tenant.actor());
    let (id, secret) = endpoints::create(
        &mut tenant.tx,
        &state.secrets,
        now,
        partner_id,
        user_id,
        &new,
    )
    .await?;
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "webhook_endpoint.created",
            partner_id: Some(partner_id),
            subject: Some(("webhook_endpoint", id)),
            after: Some(json!({ "url": new.url.as_str(), "events": new.event_names() })),
            ..Default::default()
        },
    )
    .await?;
    tenant
        .commit_with_flash(
            &state,
            &format!(
                "Deliveries to {} are signed with the secret {secret} — copy it into your tool now: it is shown only once.",
                new.url
            ),
        )
        .await?;
    Ok(Redirect::to(&format!("/integrations/endpoints/{id}")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    tenant.require_admin()?;
    let now = state.clock.now();
    let (partner_id, actor) = (tenant.partner_id, tenant.actor());
    let url = endpoints::delete(&mut tenant.tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "webhook_endpoint.deleted",
            partner_id: Some(partner_id),
            subject: Some(("webhook_endpoint", id)),
            before: Some(json!({ "url": url })),
            ..Default::default()
        },
    )
    .await?;
    tenant
        .commit_with_flash(&state, &format!("Nothing more is sent to {url}."))
        .await?;
    Ok(Redirect::to("/integrations").into_response())
}

/// A delivery in the log.
pub struct LogLine {
    pub id: i64,
    pub message_id: String,
    pub event_type: String,
    pub created: When,
    /// `Delivered`, `Retrying`, `Queued` or `Gave up`.
    pub status: &'static str,
    pub status_note: Option<String>,
    pub tries: Vec<TryLine>,
}

pub struct TryLine {
    pub at: When,
    pub answer: String,
    pub duration_ms: i32,
    pub excerpt: Option<String>,
    pub error: Option<String>,
}

impl LogLine {
    fn new(line: DeliveryLine, now: chrono::DateTime<chrono::Utc>) -> Self {
        let (status, status_note) = match line.status.as_str() {
            "sent" => ("Delivered", None),
            "dead" => ("Gave up", line.last_error),
            _ if line.attempts == 0 => ("Queued", None),
            _ => (
                "Retrying",
                Some(format!(
                    "Next attempt {}{}",
                    When::new(now, line.next_attempt_at).relative,
                    line.last_error
                        .map(|e| format!("; the last {e}"))
                        .unwrap_or_default()
                )),
            ),
        };
        Self {
            id: line.id,
            message_id: line.message_id,
            event_type: line.event_type,
            created: When::new(now, line.created_at),
            status,
            status_note,
            tries: line
                .tries
                .into_iter()
                .map(|t| TryLine {
                    at: When::new(now, t.attempted_at),
                    answer: t
                        .status_code
                        .map_or_else(|| "No answer".to_owned(), |c| c.to_string()),
                    duration_ms: t.duration_ms,
                    excerpt: t.response_excerpt,
                    error: t.error,
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "integrations/endpoint.html")]
pub struct EndpointPage {
    pub layout: Layout,
    pub is_admin: bool,
    pub endpoint: EndpointLine,
    pub log: Vec<LogLine>,
    pub shown: i64,
}

pub async fn show(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(id): Path<i64>,
) -> AppResult<Page<EndpointPage>> {
    let now = state.clock.now();
    let row = endpoints::find(&mut tenant.tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let log = endpoints::log(&mut tenant.tx, id).await?;
    let page = EndpointPage {
        layout: Layout::for_visitor(
            &tenant.signed_in.visitor,
            "Webhook endpoint",
            "integrations",
        ),
        is_admin: tenant.role.is_admin(),
        endpoint: EndpointLine::new(row, now),
        log: log.into_iter().map(|l| LogLine::new(l, now)).collect(),
        shown: endpoints::LOG_SHOWN,
    };
    crate::organizations::tenant::finish_reading(tenant.tx);
    Ok(Page(page))
}

/// Runs an admin's action on one endpoint of the organisation, audits it,
/// and goes back to the endpoint's page with `done`.
async fn act(
    state: &AppState,
    mut tenant: Tenant,
    id: i64,
    action: &str,
    done: &str,
    run: impl AsyncFnOnce(&mut Tenant, chrono::DateTime<chrono::Utc>) -> AppResult<Result<(), String>>,
) -> AppResult<Response> {
    tenant.require_admin()?;
    let now = state.clock.now();
    endpoints::find(&mut tenant.tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Err(message) = run(&mut tenant, now).await? {
        return Err(AppError::Conflict(message));
    }
    let (partner_id, actor) = (tenant.partner_id, tenant.actor());
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action,
            partner_id: Some(partner_id),
            subject: Some(("webhook_endpoint", id)),
            ..Default::default()
        },
    )
    .await?;
    tenant.commit_with_flash(state, done).await?;
    Ok(Redirect::to(&format!("/integrations/endpoints/{id}")).into_response())
}

const DISABLED: &str = "This endpoint is disabled: enable it first.";

pub async fn send_test(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let done = "A test event is on its way; its answer appears below in a moment.";
    act(
        &state,
        tenant,
        id,
        "webhook_endpoint.tested",
        done,
        async |t, now| {
            let partner_id = t.partner_id;
            Ok(endpoints::send_test(&mut t.tx, now, partner_id, id)
                .await?
                .then_some(())
                .ok_or_else(|| DISABLED.to_owned()))
        },
    )
    .await
}

pub async fn enable(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let done = "The endpoint is enabled: new events are sent to it again. Send again any delivery it missed.";
    act(
        &state,
        tenant,
        id,
        "webhook_endpoint.enabled",
        done,
        async |t, _| {
            Ok(endpoints::enable(&mut t.tx, id)
                .await?
                .then_some(())
                .ok_or_else(|| "This endpoint is not disabled.".to_owned()))
        },
    )
    .await
}

pub async fn send_again(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((id, delivery_id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let done = "The delivery is sent again, with the same webhook-id.";
    act(
        &state,
        tenant,
        id,
        "webhook_endpoint.redelivered",
        done,
        async |t, now| {
            if endpoints::send_again(&mut t.tx, now, id, delivery_id).await? {
                return Ok(Ok(()));
            }
            let of_endpoint = sqlx::query_scalar!(
                "select id from endpoint_deliveries where id = $1 and endpoint_id = $2",
                delivery_id,
                id
            )
            .fetch_optional(&mut *t.tx)
            .await?;
            match of_endpoint {
                Some(_) => Ok(Err(DISABLED.to_owned())),
                None => Err(AppError::NotFound),
            }
        },
    )
    .await
}
