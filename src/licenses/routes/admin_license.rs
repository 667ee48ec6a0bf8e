//! `GET /admin/licenses/{id}` and the staff decisions on it:
//! `POST …/approve` (optional note), `…/reject`, `…/reduce` (`users`) and
//! `…/revoke`, each with a `reason` that the partner receives by email.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use sqlx::PgConnection;

use super::view::{EventRow, LicenseFacts, TermRow, event_rows, term_rows};
use crate::{
    accounts::{guard::StaffUser, session},
    dates::When,
    error::{AppError, AppResult},
    licenses::{
        LicenseState,
        decisions::{self, Problem},
        store,
        terms::{parse_note, parse_reason},
    },
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

/// The request waiting on the license, as staff read it.
pub struct PendingView {
    pub kind: &'static str,
    pub users: i32,
    pub requested: When,
    pub requested_by: String,
    pub justification: Option<String>,
}

/// What was typed in the decision forms, kept when one is refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    pub reason: String,
    pub users: String,
}

#[derive(Template)]
#[template(path = "admin/license.html")]
pub struct AdminLicensePage {
    pub layout: Layout,
    pub company: String,
    pub license: LicenseFacts,
    pub active: bool,
    pub pending: Option<PendingView>,
    pub terms: Vec<TermRow>,
    pub events: Vec<EventRow>,
    /// Which form was refused (`approve`, `reject`, `reduce`, `revoke`) and
    /// what it held; its messages are keyed `<form>_<field>`.
    pub failed: &'static str,
    pub typed: DecisionForm,
    pub errors: FormErrors,
}

impl AdminLicensePage {
    /// What was typed in `form`'s field, if that form was the one refused.
    pub fn value(&self, form: &str, field: &str) -> &str {
        if self.failed != form {
            return "";
        }
        match field {
            "users" => &self.typed.users,
            _ => &self.typed.reason,
        }
    }
}

async fn page(
    conn: &mut PgConnection,
    staff: &crate::accounts::guard::SignedIn,
    now: chrono::DateTime<chrono::Utc>,
    id: i64,
    failed: &'static str,
    typed: DecisionForm,
    errors: FormErrors,
) -> AppResult<AdminLicensePage> {
    let license = store::find(conn, id).await?.ok_or(AppError::NotFound)?;
    let company = sqlx::query_scalar!(
        "select company_name from partners where id = $1",
        license.partner_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let terms = store::terms(conn, id).await?;
    let events = store::events(conn, id).await?;
    let pending = terms.iter().find(|t| t.is_pending()).map(|t| PendingView {
        kind: if t.is_renewal() {
            "Renewal"
        } else {
            "New license"
        },
        users: t.users,
        requested: When::new(now, t.requested_at),
        requested_by: t.requested_by.clone().unwrap_or_else(|| "—".to_owned()),
        justification: t.justification.clone(),
    });
    Ok(AdminLicensePage {
        layout: Layout::for_visitor(
            &staff.visitor,
            format!("{} license of {company}", license.product),
            "admin",
        ),
        company,
        active: license.state == LicenseState::Active,
        license: LicenseFacts::new(&license, now),
        pending,
        terms: term_rows(&terms, now),
        events: event_rows(events, now),
        failed,
        typed,
        errors,
    })
}

pub async fn show(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let mut conn = state.pool.acquire().await?;
    let now = state.clock.now();
    let page = page(
        &mut conn,
        &staff,
        now,
        id,
        "",
        DecisionForm::default(),
        FormErrors::default(),
    )
    .await?;
    Ok(Page(page).into_response())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Decision {
    Approve,
    Reject,
    Reduce,
    Revoke,
}

impl Decision {
    fn name(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            Decision::Reduce => "reduce",
            Decision::Revoke => "revoke",
        }
    }
}

/// Parses the form, takes the decision, and either redirects to the license
/// with a flash message or shows the page again with the problem.
async fn decide(
    state: AppState,
    staff: crate::accounts::guard::SignedIn,
    id: i64,
    decision: Decision,
    form: DecisionForm,
) -> AppResult<Response> {
    let now = state.clock.now();
    let name = decision.name();
    let key = |field: &str| -> &'static str {
        match (name, field) {
            (_, "decision") => "decision",
            ("approve", _) => "approve_reason",
            ("reject", _) => "reject_reason",
            ("reduce", "users") => "reduce_users",
            ("reduce", _) => "reduce_reason",
            _ => "revoke_reason",
        }
    };
    let mut errors = FormErrors::default();
    let (note, reason) = match decision {
        Decision::Approve => (
            errors
                .check(key("reason"), parse_note(&form.reason))
                .flatten(),
            None,
        ),
        _ => (
            None,
            errors.check(key("reason"), parse_reason(&form.reason)),
        ),
    };
    let mut tx = crate::db::begin(&state.pool).await?;
    if errors.is_empty() {
        let actor = staff.actor();
        let config = &state.config;
        let reason = reason.as_deref().unwrap_or_default();
        let outcome = match decision {
            Decision::Approve => {
                decisions::approve(&mut tx, config, now, &actor, id, note.as_deref()).await?
            }
            Decision::Reject => decisions::reject(&mut tx, config, now, &actor, id, reason).await?,
            Decision::Reduce => {
                decisions::reduce(&mut tx, config, now, &actor, id, &form.users, reason).await?
            }
            Decision::Revoke => decisions::revoke(&mut tx, config, now, &actor, id, reason).await?,
        };
        match outcome {
            Ok(message) => {
                session::set_flash(&mut tx, staff.session.id, &message).await?;
                tx.commit().await?;
                return Ok(Redirect::to(&format!("/admin/licenses/{id}")).into_response());
            }
            Err(Problem::Users(problem)) => errors.add(key("users"), problem.to_string()),
            Err(problem) => errors.add(key("decision"), problem.to_string()),
        }
    } else if decision == Decision::Reduce {
        // Say what is wrong with the number too, not only the reason.
        if let Some(license) = store::find(&mut tx, id).await?
            && let Err(problem) = crate::licenses::reduced_users(
                u32::try_from(license.users).unwrap_or(0),
                &form.users,
            )
        {
            errors.add(key("users"), problem.to_string());
        }
    }
    tx.rollback().await?;
    let mut conn = state.pool.acquire().await?;
    let page = page(&mut conn, &staff, now, id, name, form, errors).await?;
    Ok(Invalid(page).into_response())
}

pub async fn approve(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    decide(state, staff, id, Decision::Approve, form).await
}

pub async fn reject(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    decide(state, staff, id, Decision::Reject, form).await
}

pub async fn reduce(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    decide(state, staff, id, Decision::Reduce, form).await
}

pub async fn revoke(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    decide(state, staff, id, Decision::Revoke, form).await
}
