//! `GET,POST /application`, `POST /application/submit`, withdraw, delete:
//! the partner's side of the application.

use askama::Template;
use axum::{
    Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_extra::extract::Form;

use crate::{
    applications::{
        countries::COUNTRIES,
        form::{self, ApplicationForm, OFFERINGS, PARTNER_TYPES, Purpose, STAGES},
        model::{self, Application, Event},
        state::{ApplicationState, Transition},
    },
    audit,
    dates::When,
    error::{AppError, AppResult},
    mail::Notice,
    organizations::{MemberRole, Tenant, emails},
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/application", get(show).post(save_draft))
        .route("/application/submit", post(submit))
        .route("/application/withdraw", post(withdraw))
        .route("/application/delete", post(delete_draft))
        .route("/application/start", post(start))
}

pub struct HistoryRow {
    pub label: &'static str,
    pub reason: Option<String>,
    pub actor: String,
    pub when: When,
}

#[derive(Template)]
#[template(path = "applications/application.html")]
pub struct ApplicationPage {
    pub layout: Layout,
    pub exists: bool,
    pub state: ApplicationState,
    pub form: ApplicationForm,
    pub errors: FormErrors,
    pub can_edit: bool,
    pub is_admin: bool,
    pub is_owner: bool,
    pub secure_track: bool,
    pub staff_note: Option<(String, String)>,
    pub agreement_version: String,
    pub agreement_body: String,
    pub history: Vec<HistoryRow>,
    pub countries: &'static [(&'static str, &'static str)],
    pub stages: &'static [(&'static str, &'static str)],
    pub offerings: &'static [(&'static str, &'static str)],
    pub partner_types: &'static [(&'static str, &'static str)],
}

impl ApplicationPage {
    pub fn country_name(&self) -> &'static str {
        crate::applications::countries::name(&self.form.country).unwrap_or("")
    }
    pub fn type_label(&self) -> &'static str {
        form::label_of(&PARTNER_TYPES, &self.form.partner_type)
    }
    pub fn stage_labels(&self) -> String {
        self.form
            .stages
            .iter()
            .map(|s| form::label_of(&STAGES, s))
            .collect::<Vec<_>>()
            .join(", ")
    }
    pub fn offering_labels(&self) -> String {
        self.form
            .offerings
            .iter()
            .map(|s| form::label_of(&OFFERINGS, s))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ApplicationForm {
    pub fn has_stage(&self, v: &&str) -> bool {
        self.stages.iter().any(|s| s == v)
    }
    pub fn has_offering(&self, v: &&str) -> bool {
        self.offerings.iter().any(|s| s == v)
    }
}

async fn page(
    state: &AppState,
    tenant: &mut Tenant,
    app: Option<&Application>,
    form: Option<ApplicationForm>,
    errors: FormErrors,
) -> AppResult<ApplicationPage> {
    let now = state.clock.now();
    let agreement = sqlx::query!(
        "select version, body from agreement_versions order by published_at desc, id desc limit 1"
    )
    .fetch_one(&mut *tenant.tx)
    .await?;
    let events: Vec<Event> = match app {
        Some(a) => model::events(&mut tenant.tx, tenant.partner_id, a.id).await?,
        None => Vec::new(),
    };
    let state_now = app.map_or(ApplicationState::Draft, |a| a.state);
    let staff_note = match state_now {
        ApplicationState::ChangesRequested
        | ApplicationState::Rejected
        | ApplicationState::Suspended => events
            .iter()
            .find(|e| e.reason.is_some())
            .map(|e| (e.label().to_owned(), e.reason.clone().unwrap_or_default())),
        _ => None,
    };
    let form = form
        .or_else(|| app.map(|a| a.answers.to_form()))
        .unwrap_or_default();
    Ok(ApplicationPage {
        layout: Layout::for_visitor(&tenant.signed_in.visitor, "Your application", "dashboard"),
        exists: app.is_some(),
        state: state_now,
        secure_track: form.stages.iter().any(|s| s == "secure" || s == "govern"),
        form,
        errors,
        can_edit: app.is_some_and(|a| a.state.is_editable()) && tenant.role.is_admin(),
        is_admin: tenant.role.is_admin(),
        is_owner: tenant.role == MemberRole::Owner,
        staff_note,
        agreement_version: agreement.version,
        agreement_body: agreement.body,
        history: events
            .into_iter()
            .map(|e| HistoryRow {
                label: e.label(),
                when: When::new(now, e.occurred_at),
                reason: e.reason,
                actor: e.actor,
            })
            .collect(),
        countries: COUNTRIES,
        stages: &STAGES,
        offerings: &OFFERINGS,
        partner_types: &PARTNER_TYPES,
    })
}

async fn show(
    State(state): State<AppState>,
    mut tenant: Tenant,
) -> AppResult<Page<ApplicationPage>> {
    let app = model::of_partner(&mut tenant.tx, tenant.partner_id).await?;
    let page = page(
        &state,
        &mut tenant,
        app.as_ref(),
        None,
        FormErrors::default(),
    )
    .await?;
    crate::organizations::tenant::finish_reading(tenant.tx);
    Ok(Page(page))
}

/// The application an admin may edit now.
async fn editable(tenant: &mut Tenant) -> AppResult<Application> {
    tenant.require_admin()?;
    let app = model::of_partner(&mut tenant.tx, tenant.partner_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !app.state.is_editable() {
        return Err(AppError::Conflict(format!(
            "Your application is {} and can no longer be changed.",
            app.state.label().to_lowercase()
        )));
    }
    Ok(app)
}

async fn save_draft(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Form(input): Form<ApplicationForm>,
) -> AppResult<Response> {
    let app = editable(&mut tenant).await?;
    let answers = match form::parse(&input, Purpose::Draft) {
        Ok(a) => a,
        Err(errors) => {
            let page = page(&state, &mut tenant, Some(&app), Some(input), errors).await?;
            return Ok(Invalid(page).into_response());
        }
    };
    model::save_answers(&mut tenant.tx, app.id, &answers).await?;
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        state.clock.now(),
        &actor,
        audit::Entry {
            action: "application.draft_saved",
            partner_id: Some(tenant.partner_id),
            subject: Some(("application", app.id)),
            ..Default::default()
        },
    )
    .await?;
    tenant
        .commit_with_flash(&state, "Draft saved. Submit it when every answer is ready.")
        .await?;
    Ok(Redirect::to("/application").into_response())
}

async fn submit(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Form(input): Form<ApplicationForm>,
) -> AppResult<Response> {
    let app = editable(&mut tenant).await?;
    let answers = match form::parse(&input, Purpose::Submit) {
        Ok(a) => a,
        Err(errors) => {
            let page = page(&state, &mut tenant, Some(&app), Some(input), errors).await?;
            return Ok(Invalid(page).into_response());
        }
    };
    let now = state.clock.now();
    let actor = tenant.actor();
    model::save_answers(&mut tenant.tx, app.id, &answers).await?;
    let version = model::accept_agreement(&mut tenant.tx, now, tenant.partner_id, &actor).await?;
    model::transition(
        &mut tenant.tx,
        now,
        &app,
        Transition::Submit,
        &actor,
        None,
        &[],
    )
    .await?;
    let admins = emails::admins(&mut tenant.tx, tenant.partner_id).await?;
    let link = state.config.link("/application");
    let company = answers.company_name.clone();
    emails::send_each(&mut tenant.tx, now, &admins, |name| {
        Notice::new("application_submitted", "Your partner application was submitted", name)
            .paragraph(format!("The application of {company} to the Alliance Partner Program was submitted, with the Technology Partner Agreement version {version} accepted."))
            .paragraph("The alliance team reviews applications within 5 business days. We will email you their decision.")
            .action("See your application", link.clone())
    })
    .await?;
    tenant
        .commit_with_flash(
            &state,
            "Application submitted — we'll email you when the alliance team has decided.",
        )
        .await?;
    Ok(Redirect::to("/application").into_response())
}

async fn withdraw(State(state): State<AppState>, mut tenant: Tenant) -> AppResult<Response> {
    tenant.require_admin()?;
    let app = model::of_partner(&mut tenant.tx, tenant.partner_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let actor = tenant.actor();
    model::transition(
        &mut tenant.tx,
        state.clock.now(),
        &app,
        Transition::Withdraw,
        &actor,
        None,
        &[],
    )
    .await?;
    tenant
        .commit_with_flash(
            &state,
            "Application withdrawn. You can change it and submit it again.",
        )
        .await?;
    Ok(Redirect::to("/application").into_response())
}

/// The owner may delete a draft application (and start again later).
async fn delete_draft(State(state): State<AppState>, mut tenant: Tenant) -> AppResult<Response> {
    tenant.require_owner()?;
    let app = model::of_partner(&mut tenant.tx, tenant.partner_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if app.state != ApplicationState::Draft {
        return Err(AppError::Conflict(
            "Only a draft application can be deleted.".into(),
        ));
    }
    sqlx::query!(
        "delete from applications where id = $1 and state = 'draft'",
        app.id
    )
    .execute(&mut *tenant.tx)
    .await?;
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        state.clock.now(),
        &actor,
        audit::Entry {
            action: "application.deleted",
            partner_id: Some(tenant.partner_id),
            subject: Some(("application", app.id)),
            ..Default::default()
        },
    )
    .await?;
    tenant
        .commit_with_flash(&state, "The draft application was deleted.")
        .await?;
    Ok(Redirect::to("/application").into_response())
}

async fn start(State(state): State<AppState>, mut tenant: Tenant) -> AppResult<Response> {
    tenant.require_admin()?;
    let company = sqlx::query_scalar!("select company_name from partners")
        .fetch_one(&mut *tenant.tx)
        .await?;
    sqlx::query!(
        "insert into applications (partner_id, company_name, created_at) values ($1, $2, $3) on conflict (partner_id) do nothing",
        tenant.partner_id,
        company,
        state.clock.now()
    )
    .execute(&mut *tenant.tx)
    .await?;
    tenant
        .commit_with_flash(&state, "A new draft application is ready.")
        .await?;
    Ok(Redirect::to("/application").into_response())
}
