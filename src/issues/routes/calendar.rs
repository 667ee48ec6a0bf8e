//! The calendar feed: partner admins make or revoke the secret address at
//! `/issues/calendar`; calendar apps fetch `/calendar/{token}.ics` without
//! signing in. The feed is read on a tenant transaction for the address's
//! organisation, so it can only ever hold that organisation's items.

use askama::Template;
use axum::{
    Router,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

use crate::{
    audit,
    calendar::to_ics,
    dates::When,
    error::{AppError, AppResult},
    issues::feed,
    organizations::{Tenant, begin_tenant},
    state::AppState,
    views::{Layout, Page},
};

pub fn partner_router() -> Router<AppState> {
    Router::new()
        .route("/issues/calendar", get(show).post(create))
        .route("/issues/calendar/revoke", post(revoke))
}

pub fn public_router() -> Router<AppState> {
    Router::new().route("/calendar/{file}", get(ics))
}

#[derive(Template)]
#[template(path = "issues/calendar.html")]
pub struct CalendarPage {
    pub layout: Layout,
    pub active_since: Option<When>,
    pub is_admin: bool,
}

async fn show(State(state): State<AppState>, mut tenant: Tenant) -> AppResult<Page<CalendarPage>> {
    let now = state.clock.now();
    let since = feed::active_since(&mut tenant.tx).await?;
    tenant.tx.commit().await?;
    Ok(Page(CalendarPage {
        layout: Layout::for_visitor(&tenant.signed_in.visitor, "Calendar feed", "issues"),
        active_since: since.map(|t| When::new(now, t)),
        is_admin: tenant.role.is_admin(),
    }))
}

async fn create(State(state): State<AppState>, mut tenant: Tenant) -> AppResult<Response> {
    tenant.require_admin()?;
    let now = state.clock.now();
    let (partner_id, user_id, actor) = (tenant.partner_id, tenant.user_id(), tenant.actor());
    let token = feed::create(&mut tenant.tx, now, partner_id, user_id).await?;
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "calendar_feed.created",
            partner_id: Some(tenant.partner_id),
            ..Default::default()
        },
    )
    .await?;
    let url = state.config.link(&format!("/calendar/{token}.ics"));
    tenant
        .commit_with_flash(
            &state,
            &format!(
                "Your calendar address is {url} — copy it into your calendar app now: it is shown only once. Any earlier address no longer works."
            ),
        )
        .await?;
    Ok(Redirect::to("/issues/calendar").into_response())
}

async fn revoke(State(state): State<AppState>, mut tenant: Tenant) -> AppResult<Response> {
    tenant.require_admin()?;
    let now = state.clock.now();
    let actor = tenant.actor();
    let revoked = feed::revoke(&mut tenant.tx, now).await?;
    let message = if revoked {
        audit::record(
            &mut tenant.tx,
            now,
            &actor,
            audit::Entry {
                action: "calendar_feed.revoked",
                partner_id: Some(tenant.partner_id),
                ..Default::default()
            },
        )
        .await?;
        "The calendar address no longer works."
    } else {
        "There was no calendar address to revoke."
    };
    tenant.commit_with_flash(&state, message).await?;
    Ok(Redirect::to("/issues/calendar").into_response())
}

async fn ics(State(state): State<AppState>, Path(file): Path<String>) -> AppResult<Response> {
    let token = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    if token.is_empty() || token.len() > 100 {
        return Err(AppError::NotFound);
    }
    let partner_id = feed::partner_for_token(&state.pool, token)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = state.clock.now();
    let mut tx = begin_tenant(&state.pool, partner_id).await?;
    let company = sqlx::query_scalar!("select company_name from partners")
        .fetch_one(&mut *tx)
        .await?;
    let events = feed::events(&mut tx, &state.config, now).await?;
    tx.commit().await?;
    let body = to_ics(&format!("{company} — partner deadlines"), &events, now);
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response())
}
