//! The Technology Partner Agreement: partners read and (admins) accept the
//! current version at `/agreement`; staff admins publish new versions at
//! `/admin/agreements`, after which approved partners must accept again
//! before using licenses, namespaces and the listing.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;

use crate::{
    accounts::{
        guard::{StaffAdmin, StaffUser},
        session,
    },
    applications::model,
    audit,
    dates::When,
    error::{AppError, AppResult},
    mail::{Notice, Recipient},
    organizations::{Tenant, emails},
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

pub fn partner_router() -> Router<AppState> {
    Router::new().route("/agreement", get(show).post(accept))
}

pub fn staff_router() -> Router<AppState> {
    Router::new().route("/admin/agreements", get(list).post(publish))
}

#[derive(Template)]
#[template(path = "applications/agreement.html")]
pub struct AgreementPage {
    pub layout: Layout,
    pub version: String,
    pub body: String,
    pub accepted: Option<When>,
    pub is_admin: bool,
    pub error: Option<&'static str>,
}

async fn page(
    state: &AppState,
    tenant: &mut Tenant,
    error: Option<&'static str>,
) -> AppResult<AgreementPage> {
    let row = sqlx::query!(
        "select v.version, v.body, a.accepted_at as \"accepted_at?\"
           from agreement_versions v
           left join agreement_acceptances a on a.version_id = v.id and a.partner_id = $1
          order by v.published_at desc, v.id desc limit 1",
        tenant.partner_id
    )
    .fetch_one(&mut *tenant.tx)
    .await?;
    Ok(AgreementPage {
        layout: Layout::for_visitor(
            &tenant.signed_in.visitor,
            "Technology Partner Agreement",
            "dashboard",
        ),
        version: row.version,
        body: row.body,
        accepted: row.accepted_at.map(|t| When::new(state.clock.now(), t)),
        is_admin: tenant.role.is_admin(),
        error,
    })
}

async fn show(State(state): State<AppState>, mut tenant: Tenant) -> AppResult<Page<AgreementPage>> {
    let page = page(&state, &mut tenant, None).await?;
    tenant.tx.commit().await?;
    Ok(Page(page))
}

#[derive(Deserialize)]
struct AcceptForm {
    agreement_accepted: Option<String>,
}

async fn accept(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Form(form): Form<AcceptForm>,
) -> AppResult<Response> {
    tenant.require_admin()?;
    if form.agreement_accepted.as_deref() != Some("on") {
        let page = page(
            &state,
            &mut tenant,
            Some("Tick the box to accept the agreement."),
        )
        .await?;
        return Ok(Invalid(page).into_response());
    }
    let actor = tenant.actor();
    let version =
        model::accept_agreement(&mut tenant.tx, state.clock.now(), tenant.partner_id, &actor)
            .await?;
    tenant
        .commit_with_flash(
            &state,
            &format!("Thank you: version {version} of the agreement is accepted."),
        )
        .await?;
    Ok(Redirect::to("/dashboard").into_response())
}

pub struct VersionRow {
    pub version: String,
    pub published: When,
    pub acceptances: i64,
}

#[derive(Template)]
#[template(path = "admin/agreements.html")]
pub struct VersionsPage {
    pub layout: Layout,
    pub versions: Vec<VersionRow>,
    pub can_publish: bool,
    pub version: String,
    pub body: String,
    pub errors: FormErrors,
}

async fn versions_page(
    state: &AppState,
    staff: &crate::accounts::guard::SignedIn,
    version: String,
    body: String,
    errors: FormErrors,
) -> AppResult<VersionsPage> {
    let now = state.clock.now();
    let rows = sqlx::query!(
        r#"select v.version, v.published_at, (select count(*) from agreement_acceptances a where a.version_id = v.id) as "n!"
             from agreement_versions v order by v.published_at desc, v.id desc limit 100"#
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(VersionsPage {
        layout: Layout::for_visitor(&staff.visitor, "Agreement versions", "admin"),
        versions: rows
            .into_iter()
            .map(|r| VersionRow {
                version: r.version,
                published: When::new(now, r.published_at),
                acceptances: r.n,
            })
            .collect(),
        can_publish: staff.user().is_staff_admin(),
        version,
        body,
        errors,
    })
}

async fn list(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
) -> AppResult<Page<VersionsPage>> {
    Ok(Page(
        versions_page(
            &state,
            &staff,
            String::new(),
            String::new(),
            FormErrors::default(),
        )
        .await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PublishForm {
    version: String,
    body: String,
}

async fn publish(
    State(state): State<AppState>,
    StaffAdmin(admin): StaffAdmin,
    Form(form): Form<PublishForm>,
) -> AppResult<Response> {
    let mut errors = FormErrors::default();
    let version = form.version.trim().to_owned();
    let body = form.body.trim().replace("\r\n", "\n");
    if version.is_empty() || version.chars().count() > 40 {
        errors.add(
            "version",
            "Name the version, e.g. 2027-01 (at most 40 characters).",
        );
    }
    if body.chars().count() < 200 {
        errors.add(
            "body",
            "Paste the full text of the agreement (at least 200 characters).",
        );
    }
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let taken = sqlx::query_scalar!(
        "select exists (select 1 from agreement_versions where version = $1) as \"e!\"",
        version
    )
    .fetch_one(&mut *tx)
    .await?;
    if taken {
        errors.add("version", "That version name is already used.");
    }
    if !errors.is_empty() {
        return Ok(
            Invalid(versions_page(&state, &admin, form.version, form.body, errors).await?)
                .into_response(),
        );
    }
    let id = sqlx::query_scalar!(
        "insert into agreement_versions (version, body, published_at, published_by) values ($1, $2, $3, $4) returning id",
        version,
        body,
        now,
        admin.user().id
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &admin.actor(),
        audit::Entry {
            action: "agreement.published",
            subject: Some(("agreement_version", id)),
            after: Some(serde_json::json!({ "version": version })),
            ..Default::default()
        },
    )
    .await?;
    // Tell the admins of every approved partner that they must accept it:
    // all of them in one query, not one query per partner.
    let approved = sqlx::query_scalar!(
        r#"select count(*) as "n!" from applications where state = 'approved'"#
    )
    .fetch_one(&mut *tx)
    .await?;
    let admins: Vec<Recipient> = sqlx::query!(
        "select u.email, u.name from applications a
           join partner_members m on m.partner_id = a.partner_id and m.role in ('owner', 'admin')
           join users u on u.id = m.user_id and u.disabled_at is null
          where a.state = 'approved'
          order by a.partner_id, u.id"
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| Recipient::new(r.email, r.name))
    .collect();
    let link = state.config.link("/agreement");
    emails::send_each(&mut tx, now, &admins, |name| {
        Notice::new("agreement_published", "A new Technology Partner Agreement needs your acceptance", name)
            .paragraph(format!("Version {version} of the Technology Partner Agreement was published."))
            .paragraph("Until an admin of your organisation accepts it, requesting licenses, registering namespaces and changing your directory listing are paused.")
            .action("Read and accept the agreement", link.clone())
    })
    .await?;
    session::set_flash(
        &mut tx,
        admin.session.id,
        &format!(
            "Version {version} is published; {} approved partner{} must accept it.",
            approved,
            if approved == 1 { "" } else { "s" }
        ),
    )
    .await?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(Redirect::to("/admin/agreements").into_response())
}
