//! `/integrations`: what a partner connects to the portal. Everyone in the
//! organisation can read it; only admins make or rotate secrets.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    endpoint_routes::{self, EndpointLine},
    tokens, webhook_secret,
    webhooks::{Event, endpoints},
};
use crate::{
    audit,
    dates::When,
    error::{AppError, AppResult},
    organizations::Tenant,
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

pub fn partner_router() -> Router<AppState> {
    Router::new()
        .route("/integrations", get(show))
        .route("/integrations/webhook-secret", post(rotate_secret))
        .route("/integrations/tokens", post(create_token))
        .route("/integrations/tokens/{id}/revoke", post(revoke_token))
        .route("/integrations/endpoints", post(endpoint_routes::create))
        .route("/integrations/endpoints/{id}", get(endpoint_routes::show))
        .route(
            "/integrations/endpoints/{id}/delete",
            post(endpoint_routes::delete),
        )
        .route(
            "/integrations/endpoints/{id}/test",
            post(endpoint_routes::send_test),
        )
        .route(
            "/integrations/endpoints/{id}/enable",
            post(endpoint_routes::enable),
        )
        .route(
            "/integrations/endpoints/{id}/deliveries/{delivery_id}/send-again",
            post(endpoint_routes::send_again),
        )
}

/// Tokens listed on the page (the newest; revoked ones stay for a record).
const TOKENS_SHOWN: i64 = 100;

/// A token in the list.
pub struct TokenLine {
    pub id: i64,
    pub name: String,
    pub scope: String,
    pub hint: String,
    pub created: When,
    pub created_by: Option<String>,
    pub expires: When,
    pub last_used: Option<When>,
    /// `Active`, `Expired` or `Revoked`.
    pub status: &'static str,
}

/// What was typed in the token form, kept when it comes back.
#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub expires_in_days: String,
}

/// What was typed in the endpoint form, kept when it comes back.
#[derive(Debug, Default)]
pub struct EndpointForm {
    pub url: String,
    pub events: Vec<String>,
}

/// An event in the endpoint form.
pub struct EventChoice {
    pub value: &'static str,
    pub description: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "integrations/page.html")]
pub struct IntegrationsPage {
    pub layout: Layout,
    pub is_admin: bool,
    /// Where GitLab sends its webhook.
    pub webhook_url: String,
    pub secret_since: Option<When>,
    /// The organisation's verified namespaces: the projects its secret is
    /// good for.
    pub namespaces: Vec<String>,
    pub tokens: Vec<TokenLine>,
    pub token_form: TokenForm,
    pub errors: FormErrors,
    pub api_url: String,
    pub openapi_url: String,
    pub endpoints: Vec<EndpointLine>,
    pub endpoint_url: String,
    pub event_choices: Vec<EventChoice>,
    pub endpoint_errors: FormErrors,
    pub endpoints_full: bool,
    pub max_endpoints: i64,
}

pub async fn page(
    state: &AppState,
    tenant: &mut Tenant,
    token_form: TokenForm,
    errors: FormErrors,
    endpoint_form: EndpointForm,
    endpoint_errors: FormErrors,
) -> AppResult<IntegrationsPage> {
    let now = state.clock.now();
    let since = webhook_secret::active_since(&mut tenant.tx).await?;
    let namespaces = sqlx::query_scalar!(
        "select url from namespaces where state = 'verified' order by url limit 200"
    )
    .fetch_all(&mut *tenant.tx)
    .await?;
    let tokens = tokens::list(&mut tenant.tx, TOKENS_SHOWN)
        .await?
        .into_iter()
        .map(|t| TokenLine {
            status: if t.revoked_at.is_some() {
                "Revoked"
            } else if t.expires_at <= now {
                "Expired"
            } else {
                "Active"
            },
            id: t.id,
            name: t.name,
            scope: t.scope,
            hint: t.hint,
            created: When::new(now, t.created_at),
            created_by: t.created_by,
            expires: When::new(now, t.expires_at),
            last_used: t.last_used_at.map(|u| When::new(now, u)),
        })
        .collect();
    let endpoints: Vec<EndpointLine> = endpoints::list(&mut tenant.tx)
        .await?
        .into_iter()
        .map(|row| EndpointLine::new(row, now))
        .collect();
    // A fresh form offers every event; one that came back keeps its choice.
    let fresh = endpoint_errors.is_empty();
    let event_choices = Event::ALL
        .into_iter()
        .map(|e| EventChoice {
            value: e.as_str(),
            description: e.description(),
            checked: if fresh {
                true
            } else {
                endpoint_form.events.iter().any(|c| c == e.as_str())
            },
        })
        .collect();
    Ok(IntegrationsPage {
        layout: Layout::for_visitor(&tenant.signed_in.visitor, "Integrations", "integrations"),
        is_admin: tenant.role.is_admin(),
        webhook_url: state.config.link("/webhooks/gitlab"),
        secret_since: since.map(|t| When::new(now, t)),
        namespaces,
        tokens,
        token_form,
        errors,
        api_url: state.config.link(crate::api::BASE),
        openapi_url: state.config.link("/api/v1/openapi.json"),
        endpoints_full: endpoints.len() as i64 >= endpoints::MAX_ENDPOINTS,
        endpoints,
        endpoint_url: endpoint_form.url,
        event_choices,
        endpoint_errors,
        max_endpoints: endpoints::MAX_ENDPOINTS,
    })
}

async fn show(
    State(state): State<AppState>,
    mut tenant: Tenant,
) -> AppResult<Page<IntegrationsPage>> {
    let page = page(
        &state,
        &mut tenant,
        TokenForm::default(),
        FormErrors::default(),
        EndpointForm::default(),
        FormErrors::default(),
    )
    .await?;
    crate::organizations::tenant::finish_reading(tenant.tx);
    Ok(Page(page))
}

async fn create_token(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Form(form): Form<TokenForm>,
) -> AppResult<Response> {
    tenant.require_admin()?;
    let new = match tokens::NewToken::parse(&form.name, &form.scope, &form.expires_in_days) {
        Ok(new) => new,
        Err(problems) => {
            let mut errors = FormErrors::default();
            for (field, message) in problems {
                errors.add(field, message.to_owned());
            }
            let page = page(
                &state,
                &mut tenant,
                form,
                errors,
                EndpointForm::default(),
                FormErrors::default(),
            )
            .await?;
            return Ok(Invalid(page).into_response());
        }
    };
    let now = state.clock.now();
    let (partner_id, user_id, actor) = (tenant.partner_id, tenant.user_id(), tenant.actor());
    let (id, token) = tokens::create(&mut tenant.tx, now, partner_id, user_id, &new).await?;
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "api_token.created",
            partner_id: Some(partner_id),
            subject: Some(("api_token", id)),
            after: Some(serde_json::json!({
                "name": new.name, "scope": new.scope.as_str(), "days": new.days,
            })),
            ..Default::default()
        },
    )
    .await?;
    tenant
        .commit_with_flash(
            &state,
            &format!(
                "Your API token “{}” is {token} — copy it into your tool now: it is shown only once.",
                new.name
            ),
        )
        .await?;
    Ok(Redirect::to("/integrations").into_response())
}

async fn revoke_token(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    tenant.require_admin()?;
    let now = state.clock.now();
    let (partner_id, user_id, actor) = (tenant.partner_id, tenant.user_id(), tenant.actor());
    let Some(name) = tokens::revoke(&mut tenant.tx, now, id, user_id).await? else {
        // Another organisation's token is simply not found.
        let exists = sqlx::query_scalar!("select id from api_tokens where id = $1", id)
            .fetch_optional(&mut *tenant.tx)
            .await?;
        return Err(match exists {
            Some(_) => AppError::Conflict("This token was already revoked.".into()),
            None => AppError::NotFound,
        });
    };
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "api_token.revoked",
            partner_id: Some(partner_id),
            subject: Some(("api_token", id)),
            before: Some(serde_json::json!({ "name": name })),
            ..Default::default()
        },
    )
    .await?;
    tenant
        .commit_with_flash(&state, &format!("The API token “{name}” no longer works."))
        .await?;
    Ok(Redirect::to("/integrations").into_response())
}

async fn rotate_secret(State(state): State<AppState>, mut tenant: Tenant) -> AppResult<Response> {
    tenant.require_admin()?;
    let now = state.clock.now();
    let (partner_id, user_id, actor) = (tenant.partner_id, tenant.user_id(), tenant.actor());
    let had_one = webhook_secret::active_since(&mut tenant.tx)
        .await?
        .is_some();
    let secret = webhook_secret::rotate(&mut tenant.tx, now, partner_id, user_id).await?;
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: if had_one {
                "webhook_secret.rotated"
            } else {
                "webhook_secret.created"
            },
            partner_id: Some(partner_id),
            ..Default::default()
        },
    )
    .await?;
    let message = format!(
        "Your webhook secret is {secret} — paste it into GitLab's \"Secret token\" field now: it is shown only once.{}",
        if had_one {
            " The previous secret no longer works."
        } else {
            ""
        }
    );
    tenant.commit_with_flash(&state, &message).await?;
    Ok(Redirect::to("/integrations").into_response())
}
