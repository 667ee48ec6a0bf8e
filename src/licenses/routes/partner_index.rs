//! `GET,POST /licenses`: the organisation's licenses and the request form.
//! Only admins of approved partners with the current agreement accepted see
//! the form; everyone else reads why not and where to fix it.

use askama::Template;
use axum::{
    Form,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use super::view::{LicenseItem, PageQuery, Pager};
use crate::{
    error::AppResult,
    licenses::{
        LicenseRequest, LicenseRequestForm, Product, Purpose, lifecycle::Who, requesting, store,
        terms::NFR_TERMS,
    },
    organizations::{GateProblem, Standing, Tenant, begin_tenant},
    state::AppState,
    views::{FormErrors, Layout, Page},
};

const PER_PAGE: i64 = 20;

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// Why the form is not shown, and where to go about it.
pub struct Gate {
    pub message: String,
    pub href: &'static str,
    pub label: &'static str,
}

impl From<GateProblem> for Gate {
    fn from(problem: GateProblem) -> Self {
        let (href, label) = problem.link();
        Self {
            message: problem.to_string(),
            href,
            label,
        }
    }
}

#[derive(Template)]
#[template(path = "licenses/index.html")]
pub struct LicensesPage {
    pub layout: Layout,
    pub licenses: Vec<LicenseItem>,
    pub pager: Pager,
    pub gate: Option<Gate>,
    pub products: Vec<Choice>,
    pub purposes: Vec<Choice>,
    pub users: String,
    pub justification: String,
    pub terms_accepted: bool,
    pub terms: &'static [&'static str],
    pub errors: FormErrors,
}

impl LicensesPage {
    fn build(
        tenant: &Tenant,
        licenses: Vec<LicenseItem>,
        pager: Pager,
        gate: Result<(), GateProblem>,
        form: &LicenseRequestForm,
        errors: FormErrors,
    ) -> Self {
        let chosen = |values: &[String], v: &str| values.iter().any(|c| c == v);
        Self {
            layout: Layout::for_visitor(&tenant.signed_in.visitor, "NFR licenses", "licenses"),
            licenses,
            pager,
            gate: gate.err().map(Gate::from),
            products: Product::ALL
                .iter()
                .map(|p| Choice {
                    value: p.as_str(),
                    label: p.label(),
                    checked: chosen(&form.products, p.as_str()),
                })
                .collect(),
            purposes: Purpose::ALL
                .iter()
                .map(|p| Choice {
                    value: p.as_str(),
                    label: p.label(),
                    checked: chosen(&form.purposes, p.as_str()),
                })
                .collect(),
            users: form.users.clone(),
            justification: form.justification.clone(),
            terms_accepted: form.terms_accepted.is_some(),
            terms: NFR_TERMS,
            errors,
        }
    }
}

async fn list(tenant: &mut Tenant, page: &str) -> AppResult<(Vec<store::License>, Pager)> {
    let mut pager = Pager::new(page, PER_PAGE);
    let mut rows = store::list_for_partner(
        &mut tenant.tx,
        tenant.partner_id,
        pager.fetch(),
        pager.offset(),
    )
    .await?;
    pager.keep(&mut rows);
    Ok((rows, pager))
}

pub async fn show(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let standing = Standing::load(&mut tenant.tx, tenant.partner_id).await?;
    let (rows, pager) = list(&mut tenant, &q.page).await?;
    let items = rows.iter().map(|l| LicenseItem::new(l, now)).collect();
    let form = LicenseRequestForm {
        users: "5".to_owned(),
        ..Default::default()
    };
    let page = LicensesPage::build(
        &tenant,
        items,
        pager,
        standing.gate_for(tenant.role),
        &form,
        FormErrors::default(),
    );
    crate::organizations::tenant::finish_reading(tenant.tx);
    Ok(Page(page).into_response())
}

/// The form's problems in the order of its fields.
fn form_errors(problems: &crate::licenses::FieldErrors) -> FormErrors {
    let mut errors = FormErrors::default();
    for field in [
        "products",
        "users",
        "purposes",
        "justification",
        "terms_accepted",
    ] {
        if let Some(message) = problems.get(field) {
            errors.add(field, message);
        }
    }
    errors
}

pub async fn request(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let form = LicenseRequestForm::from_pairs(pairs);
    let standing = Standing::load(&mut tenant.tx, tenant.partner_id).await?;
    let gate = standing.gate_for(tenant.role);
    let parsed = LicenseRequest::parse(&form);
    let (status, errors) = match (&gate, parsed) {
        (Err(_), _) => (StatusCode::FORBIDDEN, FormErrors::default()),
        (Ok(()), Err(problems)) => (StatusCode::UNPROCESSABLE_ENTITY, form_errors(&problems)),
        (Ok(()), Ok(req)) => {
            let user = tenant.signed_in.user().clone();
            let actor = tenant.actor();
            let who = Who {
                actor: &actor,
                user_id: Some(user.id),
                shown_as: &user.name,
            };
            match requesting::request(
                &mut tenant.tx,
                &state.config,
                now,
                tenant.partner_id,
                &who,
                &req,
            )
            .await?
            {
                Ok(made) => {
                    crate::limits::spend_for(&mut tenant, &crate::limits::LICENSE_REQUESTS, now)
                        .await?;
                    let message = flash(&made);
                    let to = match made.as_slice() {
                        [one] => format!("/licenses/{}", one.license_id),
                        _ => "/licenses".to_owned(),
                    };
                    tenant.commit_with_flash(&state, &message).await?;
                    return Ok(Redirect::to(&to).into_response());
                }
                Err(message) => {
                    // Nothing of this request may stay: start over read-only.
                    let mut errors = FormErrors::default();
                    errors.add("products", message);
                    tenant.tx.rollback().await?;
                    tenant.tx = begin_tenant(&state.pool, tenant.partner_id).await?;
                    (StatusCode::UNPROCESSABLE_ENTITY, errors)
                }
            }
        }
    };
    let (rows, pager) = list(&mut tenant, "1").await?;
    let items = rows.iter().map(|l| LicenseItem::new(l, now)).collect();
    let page = LicensesPage::build(&tenant, items, pager, gate, &form, errors);
    tenant.tx.commit().await?;
    Ok((status, Page(page)).into_response())
}

fn flash(made: &[requesting::Requested]) -> String {
    made.iter()
        .map(|r| {
            if r.issued {
                format!("Your {} license is issued.", r.product)
            } else {
                format!(
                    "Your {} request is waiting for review by the alliance team; we will email you their decision.",
                    r.product
                )
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
