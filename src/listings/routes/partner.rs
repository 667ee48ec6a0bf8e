//! `GET,POST /listing`: the partner's directory listing, as a multipart form
//! with an optional logo. A submission waits for staff review; while it
//! waits, an approved version stays public unchanged.

use askama::Template;
use axum::{
    Router,
    extract::{Multipart, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};

use super::logo_response;
use crate::{
    applications::form::STAGES,
    audit,
    dates::When,
    error::{AppError, AppResult},
    listings::{
        ListingInput, Logo,
        store::{self, ListingStatus},
        version::{VersionState, changed_fields},
    },
    namespaces::routes::GateView,
    organizations::{Standing, Tenant},
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/listing", get(show).post(submit))
        .route("/listing/logo", get(logo))
}

#[derive(Template)]
#[template(path = "listings/edit.html")]
pub struct ListingPage {
    pub layout: Layout,
    pub gate: Option<GateView>,
    /// Approved partners list once a namespace is verified.
    pub needs_namespace: bool,
    pub is_admin: bool,
    pub slug: String,
    pub live_since: Option<When>,
    pub pending_since: Option<When>,
    /// The newest submission was rejected: why and when.
    pub rejection: Option<(String, When)>,
    pub form: ListingInput,
    pub errors: FormErrors,
    /// The logo the next submission keeps unless replaced.
    pub has_logo: bool,
    pub stages: &'static [(&'static str, &'static str)],
}

impl ListingPage {
    pub fn can_edit(&self) -> bool {
        self.gate.is_none() && !self.needs_namespace && self.is_admin
    }

    pub fn has_stage(&self, stage: &&str) -> bool {
        self.form.stages.iter().any(|s| s == stage)
    }
}

async fn verified_namespaces(tenant: &mut Tenant) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from namespaces where partner_id = $1 and state = 'verified'"#,
        tenant.partner_id
    )
    .fetch_one(&mut *tenant.tx)
    .await
}

/// The form as last submitted, or else filled from the application.
async fn prefill(tenant: &mut Tenant, status: &ListingStatus) -> Result<ListingInput, sqlx::Error> {
    if let Some(v) = &status.latest {
        let c = &v.content;
        return Ok(ListingInput {
            display_name: c.display_name.clone(),
            short_description: c.short_description.clone(),
            long_description: c.long_description.clone(),
            website: c.website.clone(),
            documentation_url: c.documentation_url.clone(),
            demo_url: c.demo_url.clone().unwrap_or_default(),
            value_messaging: c.value_messaging.clone(),
            use_cases: c.use_cases.clone(),
            stages: c.stages.clone(),
        });
    }
    let app = sqlx::query!(
        "select company_name, website, stages from applications where partner_id = $1",
        tenant.partner_id
    )
    .fetch_optional(&mut *tenant.tx)
    .await?;
    Ok(app.map_or_else(ListingInput::default, |a| ListingInput {
        display_name: a.company_name,
        website: a.website,
        stages: a.stages,
        ..ListingInput::default()
    }))
}

async fn page(
    state: &AppState,
    tenant: &mut Tenant,
    form: Option<ListingInput>,
    errors: FormErrors,
) -> AppResult<ListingPage> {
    let now = state.clock.now();
    let standing = Standing::load(&mut tenant.tx, tenant.partner_id).await?;
    let status = store::status(&mut tenant.tx, tenant.partner_id).await?;
    let slug = sqlx::query_scalar!("select slug from partners where id = $1", tenant.partner_id)
        .fetch_one(&mut *tenant.tx)
        .await?;
    let form = match form {
        Some(f) => f,
        None => prefill(tenant, &status).await?,
    };
    let rejection = status
        .latest
        .as_ref()
        .and_then(|v| match (v.state, &v.reason, v.decided_at) {
            (VersionState::Rejected, Some(r), Some(at)) => Some((r.clone(), When::new(now, at))),
            _ => None,
        });
    Ok(ListingPage {
        layout: Layout::for_visitor(&tenant.signed_in.visitor, "Directory listing", "dashboard"),
        gate: standing.gate().err().map(GateView::from),
        needs_namespace: verified_namespaces(tenant).await? == 0,
        is_admin: tenant.role.is_admin(),
        slug,
        live_since: status
            .published
            .as_ref()
            .and(status.published_at)
            .map(|at| When::new(now, at)),
        pending_since: status
            .latest
            .as_ref()
            .filter(|v| v.state == VersionState::Submitted)
            .map(|v| When::new(now, v.submitted_at)),
        rejection,
        form,
        errors,
        has_logo: status.latest.as_ref().is_some_and(|v| v.logo_id.is_some()),
        stages: &STAGES,
    })
}

async fn show(State(state): State<AppState>, mut tenant: Tenant) -> AppResult<Response> {
    let page = page(&state, &mut tenant, None, FormErrors::default()).await?;
    tenant.tx.commit().await?;
    Ok(Page(page).into_response())
}

/// What the multipart form carried.
#[derive(Default)]
struct Submitted {
    input: ListingInput,
    logo: Option<Vec<u8>>,
    remove_logo: bool,
}

async fn read_form(mut multipart: Multipart) -> AppResult<Submitted> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        AppError::BadRequest(format!("unreadable form: {e}"))
    };
    let mut out = Submitted::default();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "logo" {
            let chosen = field.file_name().is_some_and(|f| !f.is_empty());
            let bytes = field.bytes().await.map_err(bad)?;
            if chosen || !bytes.is_empty() {
                out.logo = Some(bytes.to_vec());
            }
            continue;
        }
        let value = field.text().await.map_err(bad)?;
        let i = &mut out.input;
        match name.as_str() {
            "display_name" => i.display_name = value,
            "short_description" => i.short_description = value,
            "long_description" => i.long_description = value,
            "website" => i.website = value,
            "documentation_url" => i.documentation_url = value,
            "demo_url" => i.demo_url = value,
            "value_messaging" => i.value_messaging = value,
            "use_cases" => i.use_cases = value,
            "stages" => i.stages.push(value),
            "remove_logo" => out.remove_logo = !value.is_empty(),
            _ => {}
        }
    }
    Ok(out)
}

async fn submit(
    State(state): State<AppState>,
    mut tenant: Tenant,
    multipart: Multipart,
) -> AppResult<Response> {
    tenant.require_admin()?;
    let form = read_form(multipart).await?;
    let standing = Standing::load(&mut tenant.tx, tenant.partner_id).await?;
    if standing.gate_for(tenant.role).is_err() || verified_namespaces(&mut tenant).await? == 0 {
        let page = page(&state, &mut tenant, Some(form.input), FormErrors::default()).await?;
        return Ok((StatusCode::FORBIDDEN, Page(page)).into_response());
    }
    let parsed = form.input.parse();
    let mut errors = parsed.as_ref().err().cloned().unwrap_or_default();
    let logo = match &form.logo {
        Some(bytes) => errors.check("logo", Logo::parse(bytes)),
        None => None,
    };
    let draft = match parsed {
        Ok(d) if errors.is_empty() => d,
        _ => {
            if logo.is_some() {
                errors.add("logo", "The logo is fine, but a form cannot keep a file: choose it again before sending.");
            }
            let page = page(&state, &mut tenant, Some(form.input), errors).await?;
            return Ok(Invalid(page).into_response());
        }
    };
    let now = state.clock.now();
    let status = store::status(&mut tenant.tx, tenant.partner_id).await?;
    let logo_id = match logo {
        Some(logo) => Some(store::save_logo(&mut tenant.tx, tenant.partner_id, &logo, now).await?),
        None if form.remove_logo => None,
        None => status.latest.as_ref().and_then(|v| v.logo_id),
    };
    // Sending the same listing again changes nothing.
    if let Some(latest) = &status.latest {
        let same = changed_fields(&latest.content, latest.logo_id, &draft, logo_id).is_empty();
        let live = status.published.as_ref().is_some_and(|p| p.id == latest.id);
        let message = match latest.state {
            VersionState::Submitted if same => {
                Some("Nothing changed: your listing is already waiting for review.")
            }
            VersionState::Approved if same && live => {
                Some("Nothing changed: your listing is live as it is.")
            }
            _ => None,
        };
        if let Some(message) = message {
            tenant.commit_with_flash(&state, message).await?;
            return Ok(Redirect::to("/listing").into_response());
        }
    }
    let changed = match &status.published {
        Some(p) => changed_fields(&p.content, p.logo_id, &draft, logo_id),
        None => Vec::new(),
    };
    let user_id = tenant.user_id();
    let (id, replaced) = store::submit(
        &mut tenant.tx,
        tenant.partner_id,
        user_id,
        &draft,
        logo_id,
        now,
    )
    .await?;
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "listing.submitted",
            partner_id: Some(tenant.partner_id),
            subject: Some(("listing_version", id)),
            before: replaced.map(|r| serde_json::json!({ "replaced_submission": r })),
            after: Some(serde_json::json!({
                "display_name": draft.display_name,
                "stages": draft.stages,
                "logo_id": logo_id,
                "changed_since_approved": changed,
            })),
        },
    )
    .await?;
    let message = if status.published.is_some() {
        "Your changes were sent for review. Your approved listing stays in the directory until the alliance team approves the new version."
    } else {
        "Your listing was sent for review. You will get an email when the alliance team decides."
    };
    crate::limits::spend_for(&mut tenant, &crate::limits::LISTING_SUBMISSIONS, now).await?;
    tenant.commit_with_flash(&state, message).await?;
    Ok(Redirect::to("/listing").into_response())
}

/// The logo of the newest submission, for the partner's own preview.
async fn logo(mut tenant: Tenant) -> AppResult<Response> {
    let status = store::status(&mut tenant.tx, tenant.partner_id).await?;
    let logo_id = status
        .latest
        .and_then(|v| v.logo_id)
        .ok_or(AppError::NotFound)?;
    let logo = store::logo(&mut tenant.tx, tenant.partner_id, logo_id)
        .await?
        .ok_or(AppError::NotFound)?;
    tenant.tx.commit().await?;
    let etag = format!("\"{}\"", &logo.sha256[..16]);
    Ok(logo_response(
        &logo.content_type,
        logo.bytes,
        &etag,
        "private, no-cache",
    ))
}
