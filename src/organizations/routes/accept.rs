//! `GET,POST /invitations/accept`: the public end of a team invitation. The
//! invitee may not be signed in yet, so the route is outside the partner
//! group; the token finds the invitation on the privileged path, and
//! joining happens in one transaction that uses the invitation up.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;
use serde_json::json;

use crate::{
    accounts::session::{self, Visitor},
    audit::{self, Actor},
    error::AppResult,
    organizations::{
        acceptance::{Found, Situation, Viewer, assess, current_organisation, lookup},
        emails,
    },
    state::AppState,
    views::{Invalid, Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/invitations/accept", get(show).post(accept))
}

#[derive(Template)]
#[template(path = "organizations/accept.html")]
pub struct AcceptPage {
    pub layout: Layout,
    pub situation: Situation,
    pub company: String,
    pub role: String,
    pub invited: String,
    pub token: String,
}

impl AcceptPage {
    fn new(visitor: &Visitor, found: Option<&Found>, situation: Situation, token: &str) -> Self {
        let title = match situation {
            Situation::Ready | Situation::SignedOut { .. } => "Join your team",
            Situation::AlreadyMember => "You are already a member",
            _ => "This invitation cannot be used",
        };
        // Nothing of the invitation is shown for a link that matches none.
        Self {
            layout: Layout::for_visitor(visitor, title, ""),
            company: found.map(|f| f.company.clone()).unwrap_or_default(),
            role: found
                .map(|f| f.role.phrase().to_owned())
                .unwrap_or_default(),
            invited: found.map(|f| f.email.clone()).unwrap_or_default(),
            token: if situation == Situation::Ready {
                token.to_owned()
            } else {
                String::new()
            },
            situation,
        }
    }
}

#[derive(Deserialize)]
struct TokenParams {
    #[serde(default)]
    token: String,
}

async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<TokenParams>,
) -> AppResult<Page<AcceptPage>> {
    let now = state.clock.now();
    let found = lookup(&state.pool, &q.token).await?;
    let organisation = current_organisation(&state.pool, &visitor).await?;
    let situation = assess(
        found.as_ref(),
        now,
        Viewer::of(&visitor),
        organisation.as_ref(),
        &q.token,
    );
    Ok(Page(AcceptPage::new(
        &visitor,
        found.as_ref(),
        situation,
        &q.token,
    )))
}

#[tracing::instrument(skip_all)]
async fn accept(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<TokenParams>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let found = lookup(&state.pool, &form.token).await?;
    let organisation = current_organisation(&state.pool, &visitor).await?;
    let situation = assess(
        found.as_ref(),
        now,
        Viewer::of(&visitor),
        organisation.as_ref(),
        &form.token,
    );
    let (Situation::Ready, Some(inv), Some(session)) = (&situation, &found, &visitor.session)
    else {
        return Ok(Invalid(AcceptPage::new(
            &visitor,
            found.as_ref(),
            situation,
            &form.token,
        ))
        .into_response());
    };
    let user = &session.user;
    let mut tx = crate::db::begin(&state.pool).await?;
    // Single use: only one request can take an open, unexpired invitation.
    let claimed = sqlx::query_scalar!(
        "update partner_invitations set accepted_at = $2
          where id = $1 and accepted_at is null and cancelled_at is null and expires_at > $2
          returning id",
        inv.id,
        now
    )
    .fetch_optional(&mut *tx)
    .await?;
    let joined = match claimed {
        Some(_) => sqlx::query!(
            "insert into partner_members (partner_id, user_id, role, created_at) values ($1, $2, $3, $4)
             on conflict (user_id) do nothing",
            inv.partner_id,
            user.id,
            inv.role.as_str(),
            now
        )
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1,
        None => false,
    };
    if !joined {
        // Used, or another organisation joined, a moment ago in another tab.
        tx.rollback().await?;
        let found = lookup(&state.pool, &form.token).await?;
        let organisation = current_organisation(&state.pool, &visitor).await?;
        let situation = assess(
            found.as_ref(),
            now,
            Viewer::of(&visitor),
            organisation.as_ref(),
            &form.token,
        );
        return Ok(Invalid(AcceptPage::new(
            &visitor,
            found.as_ref(),
            situation,
            &form.token,
        ))
        .into_response());
    }
    let actor = Actor {
        user_id: Some(user.id),
        label: user.email.clone(),
        ip: visitor.ip,
    };
    audit::record(&mut tx, now, &actor, audit::Entry {
        action: "team.invitation_accepted",
        partner_id: Some(inv.partner_id),
        subject: Some(("invitation", inv.id)),
        before: None,
        after: Some(json!({ "user_id": user.id, "email": user.email, "name": user.name, "role": inv.role.as_str() })),
    })
    .await?;
    let role = inv.role.phrase();
    let admins = emails::admins(&mut tx, inv.partner_id).await?;
    let others: Vec<_> = admins
        .into_iter()
        .filter(|r| !r.address.eq_ignore_ascii_case(&user.email))
        .collect();
    emails::send_each(&mut tx, now, &others, |name| {
        emails::member_joined(&state.config, name, &inv.company, &user.name, role)
    })
    .await?;
    session::set_flash(
        &mut tx,
        session.id,
        &format!("Welcome to {}! You joined the team as {role}.", inv.company),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/dashboard").into_response())
}
