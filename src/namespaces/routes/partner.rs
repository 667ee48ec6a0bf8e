//! `GET,POST /namespaces`: a partner's namespaces and the registration of a
//! new one; `POST /namespaces/{id}/withdraw` takes back a pending one.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::GateView;
use crate::{
    audit,
    dates::When,
    error::{AppError, AppResult},
    namespaces::{
        NamespaceState, NamespaceUrl,
        catalog::CatalogState,
        proof::{self, Judgement},
        store::{self, Registration},
    },
    organizations::{Standing, Tenant},
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page, paging},
};

const PER_PAGE: i64 = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/namespaces", get(show).post(register))
        .route("/namespaces/{id}/withdraw", post(withdraw))
}

pub struct Row {
    pub id: i64,
    pub url: String,
    pub state: NamespaceState,
    pub registered: When,
    pub decided: Option<When>,
    pub reason: Option<String>,
    pub components: i64,
    /// The badge in the CI/CD Catalog: a style and the words.
    pub catalog: (&'static str, String),
    /// "ownership proven by @ada on 3 Dec 2026".
    pub proof: Option<String>,
    /// Why GitLab did not prove it (while it waits for staff).
    pub proof_problem: Option<String>,
}

#[derive(Template)]
#[template(path = "namespaces/list.html")]
pub struct NamespacesPage {
    pub layout: Layout,
    pub rows: Vec<Row>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    /// Why the organisation cannot register (not approved, agreement…).
    pub gate: Option<GateView>,
    pub is_admin: bool,
    pub url: String,
    pub errors: FormErrors,
    pub hosts: String,
    /// "Sign in with GitLab" is configured: a linked Owner proves at once.
    pub gitlab_available: bool,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    pub page: Option<i64>,
}

async fn page(
    state: &AppState,
    tenant: &mut Tenant,
    requested: Option<i64>,
    url: String,
    errors: FormErrors,
) -> AppResult<NamespacesPage> {
    let now = state.clock.now();
    let standing = Standing::load(&mut tenant.tx, tenant.partner_id).await?;
    let total = store::count(&mut tenant.tx, tenant.partner_id).await?;
    let (page, pages, offset) = paging(requested, total, PER_PAGE);
    let list = store::page(&mut tenant.tx, tenant.partner_id, PER_PAGE, offset).await?;
    let rows = list
        .into_iter()
        .map(|n| Row {
            proof: n.proof_line(),
            proof_problem: n.proof_problem.clone(),
            id: n.id,
            url: n.url,
            state: n.state,
            registered: When::new(now, n.created_at),
            decided: n.decided_at.map(|d| When::new(now, d)),
            reason: n.reason,
            components: n.components,
            catalog: CatalogState::of(&state.config.gitlab, &n.catalog).words(),
        })
        .collect();
    Ok(NamespacesPage {
        layout: Layout::for_visitor(&tenant.signed_in.visitor, "Namespaces", "dashboard"),
        rows,
        total,
        page,
        pages,
        gate: standing.gate().err().map(GateView::from),
        is_admin: tenant.role.is_admin(),
        url,
        errors,
        hosts: either_of(&state.config.namespace_hosts),
        gitlab_available: state.config.gitlab.oauth.is_some(),
    })
}

impl NamespacesPage {
    pub fn hint(&self) -> String {
        format!(
            "The address of your top-level group on {}, like https://gitlab.com/acme-corp.",
            self.hosts
        )
    }
}

fn either_of(hosts: &[String]) -> String {
    match hosts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, init)) => format!("{} or {last}", init.join(", ")),
        None => String::new(),
    }
}

async fn show(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let page = page(
        &state,
        &mut tenant,
        q.page,
        String::new(),
        FormErrors::default(),
    )
    .await?;
    tenant.tx.commit().await?;
    Ok(Page(page).into_response())
}

#[derive(Deserialize)]
struct RegisterForm {
    #[serde(default)]
    url: String,
}

async fn register(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Form(form): Form<RegisterForm>,
) -> AppResult<Response> {
    tenant.require_admin()?;
    let standing = Standing::load(&mut tenant.tx, tenant.partner_id).await?;
    if standing.gate_for(tenant.role).is_err() {
        let page = page(&state, &mut tenant, None, form.url, FormErrors::default()).await?;
        return Ok((StatusCode::FORBIDDEN, Page(page)).into_response());
    }
    let mut errors = FormErrors::default();
    let Some(url) = errors.check(
        "url",
        NamespaceUrl::parse(&form.url, &state.config.namespace_hosts),
    ) else {
        return Ok(
            Invalid(page(&state, &mut tenant, None, form.url, errors).await?).into_response(),
        );
    };
    let now = state.clock.now();
    let user_id = tenant.user_id();
    let outcome = store::register(&mut tenant.tx, tenant.partner_id, &url, user_id, now).await?;
    let id = match outcome {
        Registration::Registered(id) => id,
        Registration::AlreadyOurs(state_now) => {
            errors.add(
                "url",
                format!(
                    "Your organisation has already registered {url} (status: {}).",
                    state_now.label().to_lowercase()
                ),
            );
            return Ok(
                Invalid(page(&state, &mut tenant, None, form.url, errors).await?).into_response(),
            );
        }
        Registration::TakenByAnother => {
            errors.add(
                "url",
                format!("{url} is already registered by another partner. If it belongs to your organisation, contact the alliance team."),
            );
            return Ok(
                Invalid(page(&state, &mut tenant, None, form.url, errors).await?).into_response(),
            );
        }
    };
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "namespace.registered",
            partner_id: Some(tenant.partner_id),
            subject: Some(("namespace", id)),
            after: Some(serde_json::json!({ "url": url.as_str(), "state": "pending" })),
            ..Default::default()
        },
    )
    .await?;
    // A linked GitLab identity that owns the group proves it at once.
    let judgement = proof::on_registration(
        &mut tenant.tx,
        &state.config,
        now,
        &actor,
        tenant.partner_id,
        id,
        url.path(),
        user_id,
    )
    .await?;
    let proven = matches!(judgement, Some(Judgement::Proven(_)));
    let message = match judgement {
        Some(Judgement::Proven(p)) => format!(
            "{url} is verified: @{} is an Owner of the group on GitLab, which proves it belongs to your organisation.",
            p.username
        ),
        Some(Judgement::NotProven(reason)) => format!(
            "{url} is registered, but ownership is not proven: {reason} The alliance team will verify it by hand; you will get an email."
        ),
        None => format!(
            "{url} is registered. The alliance team will verify that it belongs to your organisation; you will get an email."
        ),
    };
    crate::limits::spend_for(&mut tenant, &crate::limits::NAMESPACE_REGISTRATIONS, now).await?;
    tenant.commit_with_flash(&state, &message).await?;
    if proven {
        state.directory.invalidate();
    }
    Ok(Redirect::to("/namespaces").into_response())
}

async fn withdraw(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let ns = store::get(&mut tenant.tx, tenant.partner_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tenant.require_admin()?;
    if !store::withdraw(&mut tenant.tx, tenant.partner_id, id).await? {
        return Err(AppError::Conflict(format!(
            "{} is {} and can no longer be withdrawn.",
            ns.url,
            ns.state.label().to_lowercase()
        )));
    }
    let now = state.clock.now();
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "namespace.withdrawn",
            partner_id: Some(tenant.partner_id),
            subject: Some(("namespace", id)),
            before: Some(serde_json::json!({ "url": ns.url, "state": "pending" })),
            ..Default::default()
        },
    )
    .await?;
    tenant
        .commit_with_flash(
            &state,
            &format!("You withdrew the registration of {}.", ns.url),
        )
        .await?;
    Ok(Redirect::to("/namespaces").into_response())
}
