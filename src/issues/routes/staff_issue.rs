//! One issue in the staff UI (`/admin/issues/{id}`) and what staff do to it:
//! assign it to a partner, set its severity, close or reopen it.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    thread::{TIMELINE_LIMIT, TimelineItem, kept_in_portal, timeline_items},
    view::IssueFacts,
};
use crate::{
    accounts::{guard::StaffUser, session},
    error::{AppError, AppResult},
    issues::{Severity, history, lists, record, share, triage},
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/issues/{id}", get(show))
        .route("/admin/issues/{id}/assign", post(assign))
        .route("/admin/issues/{id}/severity", post(severity))
        .route("/admin/issues/{id}/close", post(close))
        .route("/admin/issues/{id}/reopen", post(reopen))
}

/// A severity chosen in a form: `1`…`4`, or empty when optional.
pub fn parse_severity(input: &str, required: bool) -> Result<Option<Severity>, &'static str> {
    match input.trim() {
        "" if !required => Ok(None),
        "" => Err("Choose a severity."),
        s => s
            .parse::<i16>()
            .ok()
            .and_then(Severity::from_i16)
            .map(Some)
            .ok_or("Choose a severity from 1 to 4."),
    }
}

#[derive(Template)]
#[template(path = "admin/issues/detail.html")]
pub struct StaffIssuePage {
    pub layout: Layout,
    pub facts: IssueFacts,
    pub company: Option<String>,
    pub partner_id: Option<i64>,
    pub timeline: Vec<TimelineItem>,
    pub kept_in_portal: Option<&'static str>,
    /// What was typed in the partner field, kept when the form comes back.
    pub chosen_partner: String,
    pub errors: FormErrors,
}

async fn page(
    state: &AppState,
    staff: &session::Visitor,
    id: i64,
    chosen_partner: String,
    errors: FormErrors,
) -> AppResult<StaffIssuePage> {
    let now = state.clock.now();
    let mut conn = state.pool.acquire().await?;
    let issue = record::load(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let company = match issue.partner_id {
        Some(p) => Some(share::company_name(&mut conn, p).await?),
        None => None,
    };
    let entries = history::timeline(&mut conn, id, TIMELINE_LIMIT).await?;
    Ok(StaffIssuePage {
        layout: Layout::for_visitor(staff, issue.title.clone(), "admin"),
        facts: IssueFacts::new(&issue, now),
        company,
        partner_id: issue.partner_id,
        timeline: timeline_items(entries, &issue, now),
        kept_in_portal: kept_in_portal(&state.config, &issue),
        chosen_partner,
        errors,
    })
}

async fn show(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
) -> AppResult<Page<StaffIssuePage>> {
    Ok(Page(
        page(
            &state,
            &staff.visitor,
            id,
            String::new(),
            FormErrors::default(),
        )
        .await?,
    ))
}

async fn done(state: &AppState, session_id: i64, id: i64, message: &str) -> AppResult<Response> {
    let mut conn = state.pool.acquire().await?;
    session::set_flash(&mut conn, session_id, message).await?;
    Ok(Redirect::to(&format!("/admin/issues/{id}")).into_response())
}

#[derive(Deserialize)]
struct AssignForm {
    #[serde(default)]
    partner: String,
    #[serde(default)]
    severity: String,
}

async fn assign(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
    Form(form): Form<AssignForm>,
) -> AppResult<Response> {
    let mut errors = FormErrors::default();
    let partner = if form.partner.trim().is_empty() {
        errors.check(
            "partner",
            Err::<i64, _>("Enter the partner's name or number."),
        )
    } else {
        let mut conn = state.pool.acquire().await?;
        let pick = lists::pick_partner(&mut conn, &form.partner).await?;
        drop(conn);
        errors.check("partner", pick.into_result(&form.partner))
    };
    let severity = errors.check("severity", parse_severity(&form.severity, false));
    let (Some(partner_id), Some(severity)) = (partner, severity) else {
        let page = page(&state, &staff.visitor, id, form.partner, errors).await?;
        return Ok(Invalid(page).into_response());
    };
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    triage::assign(
        &mut tx,
        &state.config,
        now,
        id,
        partner_id,
        severity,
        &staff.actor(),
    )
    .await?;
    tx.commit().await?;
    done(
        &state,
        staff.session.id,
        id,
        "The issue is assigned; the partner has been emailed.",
    )
    .await
}

#[derive(Deserialize)]
struct SeverityForm {
    #[serde(default)]
    severity: String,
}

async fn severity(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
    Form(form): Form<SeverityForm>,
) -> AppResult<Response> {
    let mut errors = FormErrors::default();
    let Some(Some(severity)) = errors.check("severity", parse_severity(&form.severity, true))
    else {
        let page = page(&state, &staff.visitor, id, String::new(), errors).await?;
        return Ok(Invalid(page).into_response());
    };
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let changed = triage::set_severity(&mut tx, now, id, severity, &staff.actor()).await?;
    tx.commit().await?;
    let message = if changed {
        format!(
            "Severity set to {}; the deadline is recomputed.",
            severity.as_i16()
        )
    } else {
        format!("The issue already has severity {}.", severity.as_i16())
    };
    done(&state, staff.session.id, id, &message).await
}

async fn close(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let mut tx = crate::db::begin(&state.pool).await?;
    let changed = triage::close(
        &mut tx,
        &state.config,
        state.clock.now(),
        id,
        &staff.actor(),
    )
    .await?;
    tx.commit().await?;
    let message = if changed {
        "The issue is closed."
    } else {
        "The issue was already closed."
    };
    done(&state, staff.session.id, id, message).await
}

async fn reopen(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let mut tx = crate::db::begin(&state.pool).await?;
    let changed = triage::reopen(&mut tx, state.clock.now(), id, &staff.actor()).await?;
    tx.commit().await?;
    let message = if changed {
        "The issue is open again; its deadline is unchanged."
    } else {
        "The issue was already open."
    };
    done(&state, staff.session.id, id, message).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_are_one_to_four() {
        assert_eq!(parse_severity("2", true), Ok(Some(Severity::S2)));
        assert_eq!(parse_severity("", false), Ok(None));
        assert!(parse_severity("", true).is_err());
        assert!(parse_severity("5", false).is_err());
        assert!(parse_severity("high", false).is_err());
    }
}
