//! `GET /licenses/{id}`: one license, its key, term and history;
//! `POST /licenses/{id}/renew` while renewal is open (60 days before expiry
//! to 30 days after). Another organisation's license is not found.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, Utc};

use super::view::{EventRow, LicenseFacts, TermRow, event_rows, term_rows};
use crate::{
    dates::long_date,
    error::{AppError, AppResult},
    licenses::{
        LicenseState,
        lifecycle::Who,
        renewal::{Renewal, RenewalForm, renewal_refusal},
        renewal_term, renewal_window, requesting,
        store::{self, License},
    },
    organizations::{Standing, Tenant},
    state::AppState,
    views::{FormErrors, Layout, Page},
};

#[derive(Template)]
#[template(path = "licenses/show.html")]
pub struct LicensePage {
    pub layout: Layout,
    pub license: LicenseFacts,
    /// The request waiting for staff: "Renewal for 15 users, requested …".
    pub pending: Option<String>,
    pub renewal: RenewalBox,
    pub terms: Vec<TermRow>,
    pub events: Vec<EventRow>,
}

/// The renewal part of the page: the form while renewal is open and this
/// person may renew, otherwise a sentence saying when or why not.
pub struct RenewalBox {
    pub open: bool,
    /// "The new term runs from 12 March 2027 to 12 March 2028."
    pub new_term: String,
    pub note: Option<String>,
    pub users: String,
    pub justification: String,
    pub errors: FormErrors,
}

fn renewal_box(
    license: &License,
    renewal_pending: bool,
    may_act: Result<(), String>,
    now: DateTime<Utc>,
    form: &RenewalForm,
    errors: FormErrors,
) -> RenewalBox {
    let refusal = renewal_refusal(license.state, license.expires_at, renewal_pending, now);
    let window_note = license
        .expires_at
        .filter(|_| license.state == LicenseState::Active)
        .map(|e| {
            let (opens, closes) = renewal_window(e);
            format!(
                "Renewal is open from {} to {}.",
                long_date(opens),
                long_date(closes)
            )
        });
    let (open, note) = match (refusal, may_act) {
        (Some(why), _) => (false, Some(why)),
        (None, Err(why)) => (
            false,
            Some(format!("{} {why}", window_note.unwrap_or_default())),
        ),
        (None, Ok(())) => (true, None),
    };
    let new_term = license
        .expires_at
        .map(|e| {
            let (s, e) = renewal_term(e, now);
            format!(
                "The new term runs from {} to {}.",
                long_date(s),
                long_date(e)
            )
        })
        .unwrap_or_default();
    RenewalBox {
        open,
        new_term,
        note: note.map(|n| n.trim().to_owned()),
        users: if form.users.is_empty() {
            license.users.to_string()
        } else {
            form.users.clone()
        },
        justification: form.justification.clone(),
        errors,
    }
}

async fn page(
    tenant: &mut Tenant,
    license: &License,
    now: DateTime<Utc>,
    form: &RenewalForm,
    errors: FormErrors,
) -> AppResult<LicensePage> {
    let standing = Standing::load(&mut tenant.tx, tenant.partner_id).await?;
    let may_act = standing.gate_for(tenant.role).map_err(|p| p.to_string());
    let terms = store::terms(&mut tenant.tx, license.id).await?;
    let events = store::events(&mut tenant.tx, license.id).await?;
    let pending = terms.iter().find(|t| t.is_pending()).map(|t| {
        format!(
            "{} for {} users, requested {}, is waiting for a decision by the alliance team. We will email you when they decide.",
            if t.is_renewal() { "A renewal" } else { "This request" },
            t.users,
            crate::dates::relative(now, t.requested_at)
        )
    });
    let renewal = renewal_box(license, pending.is_some(), may_act, now, form, errors);
    Ok(LicensePage {
        layout: Layout::for_visitor(
            &tenant.signed_in.visitor,
            format!("{} NFR license", license.product),
            "licenses",
        ),
        license: LicenseFacts::new(license, now),
        pending,
        renewal,
        terms: term_rows(&terms, now),
        events: event_rows(events, now),
    })
}

pub async fn show(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let license = store::find(&mut tenant.tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let page = page(
        &mut tenant,
        &license,
        now,
        &RenewalForm::default(),
        FormErrors::default(),
    )
    .await?;
    crate::organizations::tenant::finish_reading(tenant.tx);
    Ok(Page(page).into_response())
}

pub async fn renew(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(id): Path<i64>,
    Form(form): Form<RenewalForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    // Locked: two renewals at once are decided one after the other.
    let license = store::lock(&mut tenant.tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let standing = Standing::load(&mut tenant.tx, tenant.partner_id).await?;
    let pending = store::pending_term(&mut tenant.tx, id).await?.is_some();
    let mut errors = FormErrors::default();
    let status = if let Err(problem) = standing.gate_for(tenant.role) {
        errors.add("renewal", problem.to_string());
        StatusCode::FORBIDDEN
    } else if let Some(why) = renewal_refusal(license.state, license.expires_at, pending, now) {
        errors.add("renewal", why);
        StatusCode::CONFLICT
    } else {
        match Renewal::parse(&form, license.users, license.justification.as_deref()) {
            Err(problems) => {
                for field in ["users", "justification"] {
                    if let Some(message) = problems.get(field) {
                        errors.add(field, message);
                    }
                }
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Ok(renewal) => {
                let user = tenant.signed_in.user().clone();
                let actor = tenant.actor();
                let who = Who {
                    actor: &actor,
                    user_id: Some(user.id),
                    shown_as: &user.name,
                };
                let issued =
                    requesting::renew(&mut tenant.tx, &state.config, now, &license, &who, &renewal)
                        .await?;
                crate::limits::spend_for(&mut tenant, &crate::limits::LICENSE_REQUESTS, now)
                    .await?;
                let message = if issued {
                    "Renewed for 12 more months.".to_owned()
                } else {
                    "Your renewal is waiting for review by the alliance team; we will email you their decision.".to_owned()
                };
                tenant.commit_with_flash(&state, &message).await?;
                return Ok(Redirect::to(&format!("/licenses/{id}")).into_response());
            }
        }
    };
    let page = page(&mut tenant, &license, now, &form, errors).await?;
    tenant.tx.commit().await?;
    Ok((status, Page(page)).into_response())
}
