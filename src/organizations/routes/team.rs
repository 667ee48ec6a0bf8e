//! `GET /team`: everyone in the organisation sees its members and open
//! invitations; admins invite (`POST /team/invitations`, also `POST /team`)
//! and manage (`team_invitations`, `team_members`). Every query runs on the tenant transaction,
//! so another organisation's people are simply not there.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{team_invitations, team_members};
use crate::{
    accounts::EmailAddress,
    audit,
    dates::{When, expires_phrase},
    error::AppResult,
    mail::{self, Recipient},
    organizations::{
        MemberRole, Tenant, emails,
        invitations::{self, parse_invited_role},
        members,
    },
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

/// Rows of each list on one page.
const PER_PAGE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/team", get(show).post(invite))
        .route("/team/invitations", post(invite))
        .merge(team_invitations::router())
        .merge(team_members::router())
}

pub struct MemberView {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub role: MemberRole,
    pub joined: When,
    pub is_me: bool,
}

impl MemberView {
    pub fn is_owner(&self) -> bool {
        self.role == MemberRole::Owner
    }
}

pub struct InvitationView {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub sent: When,
    pub expires: String,
    pub expired: bool,
    pub invited_by: Option<String>,
}

/// "Page 2 of 3" with its neighbours.
pub struct PageNav {
    pub label: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "organizations/team.html")]
pub struct TeamPage {
    pub layout: Layout,
    pub company: String,
    pub is_admin: bool,
    pub is_owner: bool,
    pub members: Vec<MemberView>,
    pub member_count: i64,
    pub members_nav: Option<PageNav>,
    pub invitations: Vec<InvitationView>,
    pub invitation_count: i64,
    pub invitations_nav: Option<PageNav>,
    pub email: String,
    pub role: String,
    pub errors: FormErrors,
    /// Why the last action was refused.
    pub problem: Option<String>,
}

/// Which page of each list.
#[derive(Debug, Default, Deserialize)]
pub struct TeamQuery {
    #[serde(default)]
    members: String,
    #[serde(default)]
    invitations: String,
}

fn page_number(input: &str) -> i64 {
    input.trim().parse::<i64>().unwrap_or(1).clamp(1, 100_000)
}

fn nav(total: i64, page: i64, link: impl Fn(i64) -> String) -> Option<PageNav> {
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    (pages > 1).then(|| PageNav {
        label: format!("Page {} of {pages}", page.min(pages)),
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// The team page, with the invite form as typed and any problem to show.
pub async fn team_page(
    tenant: &mut Tenant,
    now: DateTime<Utc>,
    q: &TeamQuery,
    form: InviteForm,
    errors: FormErrors,
    problem: Option<String>,
) -> AppResult<TeamPage> {
    let partner_id = tenant.partner_id;
    let (mp, ip) = (page_number(&q.members), page_number(&q.invitations));
    let company = sqlx::query_scalar!(
        "select company_name from partners where id = $1",
        partner_id
    )
    .fetch_one(&mut *tenant.tx)
    .await?;
    let member_count = members::count(&mut tenant.tx, partner_id).await?;
    let listed = members::list(&mut tenant.tx, partner_id, PER_PAGE, (mp - 1) * PER_PAGE).await?;
    let invitation_count = invitations::count_open(&mut tenant.tx, partner_id).await?;
    let open =
        invitations::list_open(&mut tenant.tx, partner_id, PER_PAGE, (ip - 1) * PER_PAGE).await?;
    let me = tenant.user_id();
    Ok(TeamPage {
        layout: Layout::for_visitor(&tenant.signed_in.visitor, "Team", "team"),
        company,
        is_admin: tenant.role.is_admin(),
        is_owner: tenant.role == MemberRole::Owner,
        members: listed
            .into_iter()
            .map(|m| MemberView {
                is_me: m.user_id == me,
                user_id: m.user_id,
                name: m.name,
                email: m.email,
                role: m.role,
                joined: When::new(now, m.joined_at),
            })
            .collect(),
        member_count,
        members_nav: nav(member_count, mp, |n| {
            format!("/team?members={n}&invitations={ip}")
        }),
        invitations: open
            .into_iter()
            .map(|i| InvitationView {
                id: i.id,
                email: i.email,
                role: i
                    .role
                    .parse()
                    .map_or(i.role.clone(), |r: MemberRole| r.label().to_owned()),
                sent: When::new(now, i.created_at),
                expires: expires_phrase(now, i.expires_at),
                expired: i.expires_at <= now,
                invited_by: i.invited_by,
            })
            .collect(),
        invitation_count,
        invitations_nav: nav(invitation_count, ip, |n| {
            format!("/team?members={mp}&invitations={n}#invitations")
        }),
        email: form.email,
        role: form.role,
        errors,
        problem,
    })
}

async fn show(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Query(q): Query<TeamQuery>,
) -> AppResult<Page<TeamPage>> {
    let now = state.clock.now();
    let page = team_page(
        &mut tenant,
        now,
        &q,
        InviteForm::default(),
        FormErrors::default(),
        None,
    )
    .await?;
    tenant.tx.commit().await?;
    Ok(Page(page))
}

/// The team page again, with the refusal; nothing is changed.
pub async fn refuse(
    mut tenant: Tenant,
    now: DateTime<Utc>,
    form: InviteForm,
    errors: FormErrors,
    problem: Option<String>,
) -> AppResult<Response> {
    let page = team_page(
        &mut tenant,
        now,
        &TeamQuery::default(),
        form,
        errors,
        problem,
    )
    .await?;
    tenant.tx.rollback().await?;
    Ok(Invalid(page).into_response())
}

#[tracing::instrument(skip_all, fields(partner_id = tenant.partner_id))]
async fn invite(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Form(form): Form<InviteForm>,
) -> AppResult<Response> {
    tenant.require_admin()?;
    let now = state.clock.now();
    let mut errors = FormErrors::default();
    let email = errors.check("email", EmailAddress::parse(&form.email));
    let role = errors.check("role", parse_invited_role(&form.role));
    let (Some(email), Some(role)) = (email, role) else {
        return refuse(tenant, now, form, errors, None).await;
    };
    let partner_id = tenant.partner_id;
    let me = tenant.user_id();
    let created =
        match invitations::create(&mut tenant.tx, now, partner_id, &email, role, me).await? {
            Ok(created) => created,
            Err(problem) => {
                errors.add("email", problem.to_string());
                return refuse(tenant, now, form, errors, None).await;
            }
        };
    let company = sqlx::query_scalar!(
        "select company_name from partners where id = $1",
        partner_id
    )
    .fetch_one(&mut *tenant.tx)
    .await?;
    let role_name = role.phrase();
    let inviter = tenant.signed_in.user().name.clone();
    let notice =
        emails::team_invitation(&state.config, &company, &inviter, role_name, &created.token);
    let to = Recipient {
        address: email.as_str().to_owned(),
        name: None,
    };
    mail::enqueue(&mut tenant.tx, now, &to, &notice).await?;
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "team.invitation_sent",
            partner_id: Some(partner_id),
            subject: Some(("invitation", created.id)),
            after: Some(serde_json::json!({
                "email": email.as_str(),
                "role": role.as_str(),
                "expires_at": now + invitations::LIFETIME,
                "replaces_expired_invitation": created.replaced,
            })),
            ..Default::default()
        },
    )
    .await?;
    crate::limits::spend_for(&mut tenant, &crate::limits::INVITATIONS, now).await?;
    tenant
        .commit_with_flash(
            &state,
            &format!("Invitation sent to {email} as {role_name}. The link works once, for 7 days."),
        )
        .await?;
    Ok(Redirect::to("/team").into_response())
}

pub async fn refused(tenant: Tenant, state: &AppState, problem: &str) -> AppResult<Response> {
    let now = state.clock.now();
    refuse(
        tenant,
        now,
        InviteForm::default(),
        FormErrors::default(),
        Some(problem.to_owned()),
    )
    .await
}

pub async fn company_of(tenant: &mut Tenant) -> AppResult<String> {
    Ok(sqlx::query_scalar!(
        "select company_name from partners where id = $1",
        tenant.partner_id
    )
    .fetch_one(&mut *tenant.tx)
    .await?)
}

pub fn back_to_team() -> Response {
    Redirect::to("/team").into_response()
}
