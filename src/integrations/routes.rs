//! `/integrations`: what a partner connects to the portal. Everyone in the
//! organisation can read it; only admins make or rotate secrets.

use askama::Template;
use axum::{
    Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

use super::webhook_secret;
use crate::{
    audit,
    dates::When,
    error::AppResult,
    organizations::Tenant,
    state::AppState,
    views::{Layout, Page},
};

pub fn partner_router() -> Router<AppState> {
    Router::new()
        .route("/integrations", get(show))
        .route("/integrations/webhook-secret", post(rotate_secret))
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
}

async fn show(
    State(state): State<AppState>,
    mut tenant: Tenant,
) -> AppResult<Page<IntegrationsPage>> {
    let now = state.clock.now();
    let since = webhook_secret::active_since(&mut tenant.tx).await?;
    let namespaces = sqlx::query_scalar!(
        "select url from namespaces where state = 'verified' order by url limit 200"
    )
    .fetch_all(&mut *tenant.tx)
    .await?;
    crate::organizations::tenant::finish_reading(tenant.tx);
    Ok(Page(IntegrationsPage {
        layout: Layout::for_visitor(&tenant.signed_in.visitor, "Integrations", "integrations"),
        is_admin: tenant.role.is_admin(),
        webhook_url: state.config.link("/webhooks/gitlab"),
        secret_since: since.map(|t| When::new(now, t)),
        namespaces,
    }))
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
