//! The staff decision on a namespace: the evidence at
//! `GET /admin/namespaces/{id}`, and `POST /admin/namespaces/{id}/verify`
//! (also `/reject`, with a reason the partner receives), and
//! `POST /admin/namespaces/{id}/revoke` to take a verified one back.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use crate::{
    accounts::{guard::StaffUser, session},
    dates::When,
    error::{AppError, AppResult},
    namespaces::{
        NamespaceState,
        catalog::{self, CatalogFacts, CatalogState},
        decision,
    },
    state::AppState,
    views::{Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/namespaces/{id}", get(review))
        .route("/admin/namespaces/{id}/verify", post(verify))
        .route("/admin/namespaces/{id}/reject", post(reject))
        .route("/admin/namespaces/{id}/revoke", post(revoke))
}

pub struct Sibling {
    pub id: i64,
    pub url: String,
    pub state: NamespaceState,
}

#[derive(Template)]
#[template(path = "admin/namespace.html")]
pub struct ReviewPage {
    pub layout: Layout,
    pub id: i64,
    pub url: String,
    pub host: String,
    pub state: NamespaceState,
    pub reason: Option<String>,
    pub registered: When,
    pub registered_by: Option<(String, String)>,
    pub decided: Option<When>,
    pub decided_by: Option<String>,
    pub company: String,
    pub application_id: Option<i64>,
    pub application_state: String,
    pub website: String,
    pub components: i64,
    pub others: Vec<Sibling>,
    /// The badge in the CI/CD Catalog: a style and the words.
    pub catalog: (&'static str, String),
    /// What the daily comparison read from the catalog, and when.
    pub observed: Option<(String, When)>,
    /// Ownership proven through GitLab: who, their GitLab id, and when.
    pub proof: Option<String>,
    /// Why GitLab did not prove it.
    pub proof_problem: Option<String>,
}

async fn review(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
) -> AppResult<Page<ReviewPage>> {
    let now = state.clock.now();
    let r = sqlx::query!(
        r#"select n.id, n.partner_id, n.url, n.host, n.state, n.reason, n.created_at, n.decided_at,
                  n.proven_by_username, n.proven_by_gitlab_user_id, n.proven_at, n.proof_problem,
                  p.company_name, a.id as "application_id?", a.state as "application_state?",
                  a.website as "website?", ru.name as "registered_name?", ru.email as "registered_email?",
                  du.name as "decided_name?",
                  (select count(*) from components c where c.namespace_id = n.id) as "components!",
                  n.catalog_wish, n.catalog_level, n.catalog_published_at, n.catalog_error,
                  n.catalog_checked_at, n.catalog_observed, n.catalog_observed_note,
                  exists (select 1 from gitlab_calls g
                           where g.kind = 'catalog' and g.namespace_id = n.id and g.status = 'pending') as "catalog_waiting!"
             from namespaces n
             join partners p on p.id = n.partner_id
             left join applications a on a.partner_id = n.partner_id
             left join users ru on ru.id = n.registered_by
             left join users du on du.id = n.decided_by
            where n.id = $1"#,
        id
    )
    .fetch_optional(&state.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    let others = sqlx::query!(
        "select id, url, state from namespaces where partner_id = $1 and id <> $2 order by created_at desc limit 20",
        r.partner_id,
        id
    )
    .fetch_all(&state.pool)
    .await?
    .into_iter()
    .map(|o| Sibling {
        id: o.id,
        url: o.url,
        state: o.state.parse().unwrap_or(NamespaceState::Pending),
    })
    .collect();
    let facts = CatalogFacts {
        host: r.host.clone(),
        wish: r.catalog_wish.clone(),
        level: r.catalog_level,
        published_at: r.catalog_published_at,
        error: r.catalog_error,
        waiting: r.catalog_waiting,
    };
    let observed = r.catalog_checked_at.map(|at| {
        let seen = match (&r.catalog_observed, &r.catalog_observed_note) {
            (Some(level), _)
                if catalog::disagrees(r.catalog_wish.as_deref().unwrap_or(""), Some(level)) =>
            {
                format!("The catalog shows {level}, not what the portal told it.")
            }
            (Some(level), _) => format!("The catalog shows {level}, as told."),
            (None, Some(note)) => note.clone(),
            (None, None) => "Nothing could be read.".to_owned(),
        };
        (seen, When::new(now, at))
    });
    Ok(Page(ReviewPage {
        catalog: CatalogState::of(&state.config.gitlab, &facts).words(),
        observed,
        layout: Layout::for_visitor(&staff.visitor, format!("Namespace {}", r.url), "admin"),
        id: r.id,
        url: r.url,
        host: r.host,
        state: r.state.parse().unwrap_or(NamespaceState::Pending),
        reason: r.reason,
        registered: When::new(now, r.created_at),
        registered_by: r.registered_name.zip(r.registered_email),
        decided: r.decided_at.map(|d| When::new(now, d)),
        decided_by: r.decided_name,
        company: r.company_name,
        application_id: r.application_id,
        application_state: r.application_state.unwrap_or_default(),
        website: r.website.unwrap_or_default(),
        components: r.components,
        others,
        proof: r
            .proven_by_username
            .zip(r.proven_by_gitlab_user_id)
            .zip(r.proven_at)
            .map(|((who, gitlab_id), at)| {
                format!(
                    "Ownership proven by @{who} (GitLab user {gitlab_id}), an Owner of the group on GitLab, on {}",
                    at.format("%-d %b %Y, %H:%M UTC")
                )
            }),
        proof_problem: r.proof_problem,
    }))
}

#[derive(Deserialize)]
struct Decision {
    #[serde(default)]
    reason: String,
}

async fn verify(
    state: State<AppState>,
    staff: StaffUser,
    id: Path<i64>,
    Form(d): Form<Decision>,
) -> AppResult<Response> {
    decide(state, staff, id, NamespaceState::Verified, d.reason).await
}

async fn reject(
    state: State<AppState>,
    staff: StaffUser,
    id: Path<i64>,
    Form(d): Form<Decision>,
) -> AppResult<Response> {
    decide(state, staff, id, NamespaceState::Rejected, d.reason).await
}

/// Verifies or rejects a pending registration; a rejection needs a reason.
/// The partner's admins are emailed, the change audited
/// ([`decision::decide`], the same function a proof of ownership calls).
async fn decide(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
    to: NamespaceState,
    reason: String,
) -> AppResult<Response> {
    let reason = crate::decisions::staff_reason(&reason, to == NamespaceState::Rejected)?;
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let by = decision::By::Staff {
        user_id: staff.user().id,
    };
    let decided = decision::decide(
        &mut tx,
        &state.config,
        now,
        &staff.actor(),
        id,
        to,
        &reason,
        by,
    )
    .await?;
    session::set_flash(
        &mut tx,
        staff.session.id,
        &format!(
            "{} is {}. The partner's admins were emailed.",
            decided.url,
            to.label().to_lowercase()
        ),
    )
    .await?;
    tx.commit().await?;
    state.directory.invalidate();
    Ok(Redirect::to(&format!("/admin/namespaces/{id}")).into_response())
}

/// Takes the badge back from a verified namespace, proven or verified by
/// hand; the reason goes to the partner.
async fn revoke(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
    Form(d): Form<Decision>,
) -> AppResult<Response> {
    let reason = crate::decisions::staff_reason(&d.reason, true)?;
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let revoked = decision::revoke(
        &mut tx,
        &state.config,
        now,
        &staff.actor(),
        staff.user().id,
        id,
        &reason,
    )
    .await?;
    session::set_flash(
        &mut tx,
        staff.session.id,
        &format!(
            "{} lost its verification. The partner's admins were emailed.",
            revoked.url
        ),
    )
    .await?;
    tx.commit().await?;
    state.directory.invalidate();
    Ok(Redirect::to(&format!("/admin/namespaces/{id}")).into_response())
}
