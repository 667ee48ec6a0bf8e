//! The staff review of listings: `GET /admin/listings/{id}` (one submitted
//! version beside the approved one), `POST /admin/listings/{id}/approve`
//! (also `/reject`).

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::logo_response;
use crate::{
    accounts::{guard::StaffUser, session},
    applications::form::{PARTNER_TYPES, STAGES, label_of},
    audit,
    dates::When,
    error::{AppError, AppResult},
    listings::{
        emails, store,
        version::{Version, VersionState, changed_fields},
    },
    organizations::emails as org_emails,
    state::AppState,
    views::{Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/listings/{id}", get(review))
        .route("/admin/listings/{id}/logo", get(logo))
        .route("/admin/listings/{id}/approve", post(approve))
        .route("/admin/listings/{id}/reject", post(reject))
}

/// The version's partner, read on the privileged path.
struct Owner {
    partner_id: i64,
    company: String,
    slug: String,
    application_id: Option<i64>,
    application_state: Option<String>,
    partner_type: Option<String>,
    published_version_id: Option<i64>,
}

async fn owner(conn: &mut sqlx::PgConnection, id: i64) -> AppResult<Owner> {
    let r = sqlx::query!(
        r#"select v.partner_id, p.company_name, p.slug, a.id as "application_id?", a.state as "application_state?",
                  a.partner_type, l.published_version_id
             from listing_versions v
             join partners p on p.id = v.partner_id
             join listings l on l.partner_id = v.partner_id and l.id = v.listing_id
             left join applications a on a.partner_id = v.partner_id
            where v.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(Owner {
        partner_id: r.partner_id,
        company: r.company_name,
        slug: r.slug,
        application_id: r.application_id,
        application_state: r.application_state,
        partner_type: r.partner_type,
        published_version_id: r.published_version_id,
    })
}

#[derive(Template)]
#[template(path = "admin/listing.html")]
pub struct ReviewPage {
    pub layout: Layout,
    pub v: Version,
    pub submitted: When,
    pub decided: Option<When>,
    pub company: String,
    pub slug: String,
    pub application_id: Option<i64>,
    pub application_state: String,
    pub type_label: &'static str,
    /// The version the directory shows now, when it is another one.
    pub published: Option<Version>,
    pub is_published: bool,
    pub changed: Vec<&'static str>,
}

impl ReviewPage {
    pub fn stage_labels(&self, v: &Version) -> String {
        v.content
            .stages
            .iter()
            .map(|s| label_of(&STAGES, s))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn changed(&self, field: &str) -> bool {
        self.changed.contains(&field)
    }
}

async fn review(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
) -> AppResult<Page<ReviewPage>> {
    let now = state.clock.now();
    let mut conn = state.pool.acquire().await?;
    let o = owner(&mut conn, id).await?;
    let v = store::version(&mut conn, o.partner_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let published = match o.published_version_id {
        Some(p) if p != id => store::version(&mut conn, o.partner_id, p).await?,
        _ => None,
    };
    let changed = published
        .as_ref()
        .map(|p| changed_fields(&p.content, p.logo_id, &v.content, v.logo_id))
        .unwrap_or_default();
    Ok(Page(ReviewPage {
        layout: Layout::for_visitor(&staff.visitor, format!("Listing of {}", o.company), "admin"),
        submitted: When::new(now, v.submitted_at),
        decided: v.decided_at.map(|d| When::new(now, d)),
        is_published: o.published_version_id == Some(id),
        type_label: o
            .partner_type
            .as_deref()
            .map_or("", |t| label_of(&PARTNER_TYPES, t)),
        company: o.company,
        slug: o.slug,
        application_id: o.application_id,
        application_state: o.application_state.unwrap_or_default(),
        published,
        changed,
        v,
    }))
}

async fn logo(
    State(state): State<AppState>,
    StaffUser(_staff): StaffUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let mut conn = state.pool.acquire().await?;
    let o = owner(&mut conn, id).await?;
    let v = store::version(&mut conn, o.partner_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let logo = store::logo(
        &mut conn,
        o.partner_id,
        v.logo_id.ok_or(AppError::NotFound)?,
    )
    .await?
    .ok_or(AppError::NotFound)?;
    let etag = format!("\"{}\"", &logo.sha256[..16]);
    Ok(logo_response(
        &logo.content_type,
        logo.bytes,
        &etag,
        "private, max-age=3600",
    ))
}

#[derive(Deserialize)]
struct Decision {
    #[serde(default)]
    reason: String,
}

async fn approve(
    state: State<AppState>,
    staff: StaffUser,
    id: Path<i64>,
    Form(d): Form<Decision>,
) -> AppResult<Response> {
    decide(state, staff, id, VersionState::Approved, d.reason).await
}

async fn reject(
    state: State<AppState>,
    staff: StaffUser,
    id: Path<i64>,
    Form(d): Form<Decision>,
) -> AppResult<Response> {
    decide(state, staff, id, VersionState::Rejected, d.reason).await
}

/// Approves (it becomes the public version) or rejects (the public version,
/// if any, stays) a submission waiting for review.
async fn decide(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
    to: VersionState,
    reason: String,
) -> AppResult<Response> {
    let reason = crate::decisions::staff_reason(&reason, to == VersionState::Rejected)?;
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let o = owner(&mut tx, id).await?;
    // Locks the listing: two decisions on one listing happen one after the other.
    sqlx::query!(
        "select id from listings where partner_id = $1 for update",
        o.partner_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let v = store::version(&mut tx, o.partner_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if v.state != VersionState::Submitted {
        return Err(AppError::Conflict(format!(
            "This submission was already decided: {}.",
            v.state.label().to_lowercase()
        )));
    }
    if to == VersionState::Approved && o.application_state.as_deref() != Some("approved") {
        return Err(AppError::Conflict(
            "This partner is not an approved partner in good standing, so its listing cannot be approved now.".into(),
        ));
    }
    let note = (!reason.is_empty()).then_some(reason.as_str());
    sqlx::query!(
        "update listing_versions set state = $2, reason = $3, decided_by = $4, decided_at = $5 where id = $1",
        id,
        to.as_str(),
        note,
        staff.user().id,
        now
    )
    .execute(&mut *tx)
    .await?;
    if to == VersionState::Approved {
        sqlx::query!(
            "update listings set published_version_id = $2, published_at = $3 where partner_id = $1",
            o.partner_id,
            id,
            now
        )
        .execute(&mut *tx)
        .await?;
    }
    audit::record(&mut tx, now, &staff.actor(), audit::Entry {
        action: if to == VersionState::Approved { "listing.approved" } else { "listing.rejected" },
        partner_id: Some(o.partner_id),
        subject: Some(("listing_version", id)),
        before: Some(serde_json::json!({ "state": "submitted", "published_version": o.published_version_id })),
        after: Some(serde_json::json!({ "state": to.as_str(), "reason": note })),
    })
    .await?;
    let admins = org_emails::admins(&mut tx, o.partner_id).await?;
    let name = &v.content.display_name;
    org_emails::send_each(&mut tx, now, &admins, |person| match to {
        VersionState::Approved => emails::approved(&state.config, person, name, &o.slug, note),
        _ => emails::rejected(
            &state.config,
            person,
            name,
            &reason,
            o.published_version_id.is_some(),
        ),
    })
    .await?;
    session::set_flash(
        &mut tx,
        staff.session.id,
        &format!(
            "The listing of {} is {}. The partner's admins were emailed.",
            o.company,
            to.as_str()
        ),
    )
    .await?;
    tx.commit().await?;
    state.directory.invalidate();
    Ok(Redirect::to(&format!("/admin/listings/{id}")).into_response())
}
