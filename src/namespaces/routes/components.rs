//! `GET /namespaces/{id}`: one namespace and the catalog components listed
//! under it; adding, editing and removing components.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

use super::{GateView, partner::PageQuery};
use crate::{
    audit,
    dates::When,
    error::{AppError, AppResult},
    namespaces::{
        Component, ComponentInput,
        store::{self, ComponentRow, Namespace},
    },
    organizations::{GateProblem, Standing, Tenant},
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page, paging},
};

const PER_PAGE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/namespaces/{id}", get(show))
        .route("/namespaces/{id}/components", post(add))
        .route("/namespaces/{id}/components/{cid}", get(edit).post(update))
        .route("/namespaces/{id}/components/{cid}/delete", post(delete))
}

#[derive(Template)]
#[template(path = "namespaces/show.html")]
pub struct NamespacePage {
    pub layout: Layout,
    pub ns: Namespace,
    /// The badge in the CI/CD Catalog: a style and the words.
    pub catalog: (&'static str, String),
    pub registered: When,
    pub decided: Option<When>,
    pub components: Vec<ComponentRow>,
    pub page: i64,
    pub pages: i64,
    /// Admins of a partner in good standing may change components.
    pub can_edit: bool,
    pub gate: Option<GateView>,
    pub form: ComponentInput,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "namespaces/component.html")]
pub struct ComponentPage {
    pub layout: Layout,
    pub ns: Namespace,
    pub component: ComponentRow,
    pub form: ComponentInput,
    pub errors: FormErrors,
}

fn path_hint(ns: &Namespace) -> String {
    format!(
        "The project's path under your namespace, like {}/components/sast, or its address.",
        ns.path
    )
}

impl NamespacePage {
    pub fn path_hint(&self) -> String {
        path_hint(&self.ns)
    }
}

impl ComponentPage {
    pub fn path_hint(&self) -> String {
        path_hint(&self.ns)
    }
}

/// The namespace (404 if not this organisation's) and whether the person
/// may change its components.
async fn load(tenant: &mut Tenant, id: i64) -> AppResult<(Namespace, Result<(), GateProblem>)> {
    let ns = store::get(&mut tenant.tx, tenant.partner_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let standing = Standing::load(&mut tenant.tx, tenant.partner_id).await?;
    let allowed = standing.gate_for(tenant.role);
    Ok((ns, allowed))
}

async fn page(
    state: &AppState,
    tenant: &mut Tenant,
    ns: Namespace,
    allowed: Result<(), GateProblem>,
    requested: Option<i64>,
    form: ComponentInput,
    errors: FormErrors,
) -> AppResult<NamespacePage> {
    let now = state.clock.now();
    let (page, pages, offset) = paging(requested, ns.components, PER_PAGE);
    let components =
        store::components(&mut tenant.tx, tenant.partner_id, ns.id, PER_PAGE, offset).await?;
    Ok(NamespacePage {
        catalog: crate::namespaces::catalog::CatalogState::of(&state.config.gitlab, &ns.catalog)
            .words(),
        layout: Layout::for_visitor(&tenant.signed_in.visitor, ns.url.clone(), "dashboard"),
        registered: When::new(now, ns.created_at),
        decided: ns.decided_at.map(|d| When::new(now, d)),
        can_edit: allowed.is_ok() && ns.state.takes_components(),
        gate: allowed.err().map(GateView::from),
        ns,
        components,
        page,
        pages,
        form,
        errors,
    })
}

async fn show(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let (ns, allowed) = load(&mut tenant, id).await?;
    let page = page(
        &state,
        &mut tenant,
        ns,
        allowed,
        q.page,
        ComponentInput::default(),
        FormErrors::default(),
    )
    .await?;
    tenant.tx.commit().await?;
    Ok(Page(page).into_response())
}

fn errors_of(problems: Vec<(&'static str, String)>) -> FormErrors {
    let mut errors = FormErrors::default();
    for (field, message) in problems {
        errors.add(field, message);
    }
    errors
}

/// Refuses a change the person may not make: another role, a partner not
/// in good standing, a namespace not verified.
fn refuse_change(ns: &Namespace, allowed: &Result<(), GateProblem>) -> Option<AppError> {
    match allowed {
        Err(GateProblem::NotAdmin) => Some(AppError::NotPermitted(
            "Only your organisation's admins can do this.",
        )),
        Err(problem) => Some(AppError::Conflict(problem.to_string())),
        Ok(()) if !ns.state.takes_components() => Some(AppError::Conflict(format!(
            "Components can be listed once {} is verified; it is {}.",
            ns.url,
            ns.state.label().to_lowercase()
        ))),
        Ok(()) => None,
    }
}

async fn add(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(id): Path<i64>,
    Form(form): Form<ComponentInput>,
) -> AppResult<Response> {
    let (ns, allowed) = load(&mut tenant, id).await?;
    if let Some(refusal) = refuse_change(&ns, &allowed) {
        return Err(refusal);
    }
    let url = ns
        .parsed_url()
        .ok_or_else(|| AppError::internal("stored namespace URL unreadable"))?;
    let component = match Component::parse(&form, &url) {
        Ok(c) => c,
        Err(problems) => {
            let page = page(
                &state,
                &mut tenant,
                ns,
                allowed,
                None,
                form,
                errors_of(problems),
            )
            .await?;
            return Ok(Invalid(page).into_response());
        }
    };
    let now = state.clock.now();
    let Some(cid) =
        store::add_component(&mut tenant.tx, tenant.partner_id, ns.id, &component, now).await?
    else {
        let mut errors = FormErrors::default();
        errors.add(
            "path",
            format!(
                "{} is already listed under this namespace.",
                component.path()
            ),
        );
        let page = page(&state, &mut tenant, ns, allowed, None, form, errors).await?;
        return Ok(Invalid(page).into_response());
    };
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "component.added",
            partner_id: Some(tenant.partner_id),
            subject: Some(("component", cid)),
            after: Some(component_json(&component)),
            ..Default::default()
        },
    )
    .await?;
    tenant
        .commit_with_flash(
            &state,
            &format!("{} is listed with the partner badge.", component.name()),
        )
        .await?;
    state.directory.invalidate();
    Ok(Redirect::to(&format!("/namespaces/{id}")).into_response())
}

fn component_json(c: &Component) -> serde_json::Value {
    serde_json::json!({
        "path": c.path(), "name": c.name(), "description": c.description(), "version": c.version()
    })
}

fn row_json(c: &ComponentRow) -> serde_json::Value {
    serde_json::json!({
        "path": c.path, "name": c.name, "description": c.description, "version": c.version
    })
}

async fn load_component(
    tenant: &mut Tenant,
    id: i64,
    cid: i64,
) -> AppResult<(Namespace, Result<(), GateProblem>, ComponentRow)> {
    let (ns, allowed) = load(tenant, id).await?;
    let component = store::component(&mut tenant.tx, tenant.partner_id, ns.id, cid)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((ns, allowed, component))
}

async fn edit(
    State(_state): State<AppState>,
    mut tenant: Tenant,
    Path((id, cid)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let (ns, allowed, component) = load_component(&mut tenant, id, cid).await?;
    if let Some(refusal) = refuse_change(&ns, &allowed) {
        return Err(refusal);
    }
    let form = ComponentInput {
        path: component.path.clone(),
        name: component.name.clone(),
        description: component.description.clone().unwrap_or_default(),
        version: component.version.clone().unwrap_or_default(),
    };
    tenant.tx.commit().await?;
    Ok(Page(ComponentPage {
        layout: Layout::for_visitor(
            &tenant.signed_in.visitor,
            format!("Edit {}", component.name),
            "dashboard",
        ),
        ns,
        component,
        form,
        errors: FormErrors::default(),
    })
    .into_response())
}

async fn update(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path((id, cid)): Path<(i64, i64)>,
    Form(form): Form<ComponentInput>,
) -> AppResult<Response> {
    let (ns, allowed, before) = load_component(&mut tenant, id, cid).await?;
    if let Some(refusal) = refuse_change(&ns, &allowed) {
        return Err(refusal);
    }
    let url = ns
        .parsed_url()
        .ok_or_else(|| AppError::internal("stored namespace URL unreadable"))?;
    let parsed = Component::parse(&form, &url).map_err(errors_of);
    let problems = match &parsed {
        Ok(c)
            if store::path_taken(&mut tenant.tx, tenant.partner_id, ns.id, c.path(), cid)
                .await? =>
        {
            let mut errors = FormErrors::default();
            errors.add(
                "path",
                format!("{} is already listed under this namespace.", c.path()),
            );
            Some(errors)
        }
        Ok(_) => None,
        Err(errors) => Some(errors.clone()),
    };
    let component = match (parsed, problems) {
        (Ok(c), None) => c,
        (_, errors) => {
            let layout = Layout::for_visitor(
                &tenant.signed_in.visitor,
                format!("Edit {}", before.name),
                "dashboard",
            );
            let page = ComponentPage {
                layout,
                ns,
                component: before,
                form,
                errors: errors.unwrap_or_default(),
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Page(page)).into_response());
        }
    };
    store::update_component(&mut tenant.tx, tenant.partner_id, ns.id, cid, &component).await?;
    let now = state.clock.now();
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "component.updated",
            partner_id: Some(tenant.partner_id),
            subject: Some(("component", cid)),
            before: Some(row_json(&before)),
            after: Some(component_json(&component)),
        },
    )
    .await?;
    tenant
        .commit_with_flash(&state, &format!("{} is updated.", component.name()))
        .await?;
    state.directory.invalidate();
    Ok(Redirect::to(&format!("/namespaces/{id}")).into_response())
}

async fn delete(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path((id, cid)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let (ns, allowed, before) = load_component(&mut tenant, id, cid).await?;
    if let Some(refusal) = refuse_change(&ns, &allowed) {
        return Err(refusal);
    }
    store::delete_component(&mut tenant.tx, tenant.partner_id, ns.id, cid).await?;
    let now = state.clock.now();
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "component.removed",
            partner_id: Some(tenant.partner_id),
            subject: Some(("component", cid)),
            before: Some(row_json(&before)),
            ..Default::default()
        },
    )
    .await?;
    tenant
        .commit_with_flash(&state, &format!("{} is no longer listed.", before.name))
        .await?;
    state.directory.invalidate();
    Ok(Redirect::to(&format!("/namespaces/{id}")).into_response())
}
