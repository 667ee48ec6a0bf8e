//! Admins change a member's role or remove a member; the owner alone
//! transfers the ownership; anyone but the owner may leave. A person of
//! another organisation is not found on the tenant transaction: 404,
//! nothing changed.

use axum::{
    Form, Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use serde::Deserialize;
use serde_json::json;

use super::team::{back_to_team, company_of, refused};
use crate::{
    audit,
    error::{AppError, AppResult},
    mail::{self, Recipient},
    organizations::{MemberRole, Tenant, emails, invitations::parse_invited_role, members},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/team/members/{user_id}/role", post(change_role))
        .route("/team/members/{user_id}/remove", post(remove))
        .route("/team/transfer-ownership", post(transfer))
        .route("/team/leave", post(leave))
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
}

#[tracing::instrument(skip_all, fields(partner_id = tenant.partner_id, user_id))]
async fn change_role(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(user_id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> AppResult<Response> {
    tenant.require_admin()?;
    let now = state.clock.now();
    let pid = tenant.partner_id;
    let member = members::find(&mut tenant.tx, pid, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let role = match parse_invited_role(&form.role) {
        Ok(role) => role,
        Err(problem) => return refused(tenant, &state, problem).await,
    };
    if member.role == MemberRole::Owner {
        return refused(
            tenant,
            &state,
            "The owner's role changes only when the owner transfers the ownership to someone else.",
        )
        .await;
    }
    if user_id == tenant.user_id() {
        return refused(
            tenant,
            &state,
            "You cannot change your own role. Ask another admin of your organisation.",
        )
        .await;
    }
    if member.role == role {
        let message = format!("{} is already {}.", member.name, role.phrase());
        tenant.commit_with_flash(&state, &message).await?;
        return Ok(back_to_team());
    }
    members::set_role(&mut tenant.tx, pid, user_id, role).await?;
    let company = company_of(&mut tenant).await?;
    let by = tenant.signed_in.user().name.clone();
    let role_name = role.phrase();
    let notice = emails::role_changed(&state.config, &member.name, &company, role_name, &by);
    mail::enqueue(
        &mut tenant.tx,
        now,
        &Recipient::new(&member.email, &member.name),
        &notice,
    )
    .await?;
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "team.role_changed",
            partner_id: Some(pid),
            subject: Some(("user", user_id)),
            before: Some(json!({ "email": member.email, "role": member.role.as_str() })),
            after: Some(json!({ "email": member.email, "role": role.as_str() })),
        },
    )
    .await?;
    let message = format!("{} is now {role_name}.", member.name);
    tenant.commit_with_flash(&state, &message).await?;
    Ok(back_to_team())
}

#[tracing::instrument(skip_all, fields(partner_id = tenant.partner_id, user_id))]
async fn remove(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(user_id): Path<i64>,
) -> AppResult<Response> {
    tenant.require_admin()?;
    let now = state.clock.now();
    let pid = tenant.partner_id;
    let member = members::find(&mut tenant.tx, pid, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if member.role == MemberRole::Owner {
        return refused(tenant, &state, "The owner cannot be removed. The owner can transfer the ownership to someone else first.").await;
    }
    if user_id == tenant.user_id() {
        return refused(
            tenant,
            &state,
            "To take yourself out of the organisation, use “Leave” at the bottom of this page.",
        )
        .await;
    }
    members::remove(&mut tenant.tx, pid, user_id).await?;
    let company = company_of(&mut tenant).await?;
    let by = tenant.signed_in.user().name.clone();
    let notice = emails::member_removed(&state.config, &member.name, &company, &by);
    mail::enqueue(
        &mut tenant.tx,
        now,
        &Recipient::new(&member.email, &member.name),
        &notice,
    )
    .await?;
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "team.member_removed",
            partner_id: Some(pid),
            subject: Some(("user", user_id)),
            before: Some(
                json!({ "email": member.email, "name": member.name, "role": member.role.as_str() }),
            ),
            after: None,
        },
    )
    .await?;
    let message = format!("{} no longer has access to {company}.", member.name);
    tenant.commit_with_flash(&state, &message).await?;
    Ok(back_to_team())
}

#[derive(Deserialize)]
struct TransferForm {
    #[serde(default)]
    user_id: String,
}

#[tracing::instrument(skip_all, fields(partner_id = tenant.partner_id))]
async fn transfer(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Form(form): Form<TransferForm>,
) -> AppResult<Response> {
    tenant.require_owner()?;
    let now = state.clock.now();
    let pid = tenant.partner_id;
    let me = tenant.user_id();
    let to: i64 = form
        .user_id
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let member = members::find(&mut tenant.tx, pid, to)
        .await?
        .ok_or(AppError::NotFound)?;
    if to == me {
        return refused(
            tenant,
            &state,
            "You are already the owner. Choose another member of your team.",
        )
        .await;
    }
    if !members::transfer_ownership(&mut tenant.tx, pid, me, to).await? {
        return Err(AppError::internal(
            "the ownership changed during the transfer",
        ));
    }
    let company = company_of(&mut tenant).await?;
    let by = tenant.signed_in.user().name.clone();
    let notice = emails::ownership_transferred(&state.config, &member.name, &company, &by);
    mail::enqueue(
        &mut tenant.tx,
        now,
        &Recipient::new(&member.email, &member.name),
        &notice,
    )
    .await?;
    let my_email = tenant.signed_in.user().email.clone();
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "team.ownership_transferred",
            partner_id: Some(pid),
            subject: Some(("user", to)),
            before: Some(json!({ "owner": my_email, "new_owner_role": member.role.as_str() })),
            after: Some(json!({ "owner": member.email, "previous_owner_role": "admin" })),
        },
    )
    .await?;
    let message = format!(
        "{} is now the owner of {company}. You are an admin.",
        member.name
    );
    tenant.commit_with_flash(&state, &message).await?;
    Ok(back_to_team())
}

#[tracing::instrument(skip_all, fields(partner_id = tenant.partner_id))]
async fn leave(State(state): State<AppState>, mut tenant: Tenant) -> AppResult<Response> {
    if tenant.role == MemberRole::Owner {
        return refused(
            tenant,
            &state,
            "As the owner, transfer the ownership to another member before you leave.",
        )
        .await;
    }
    let now = state.clock.now();
    let pid = tenant.partner_id;
    let me = tenant.user_id();
    let company = company_of(&mut tenant).await?;
    members::remove(&mut tenant.tx, pid, me).await?;
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "team.member_left",
            partner_id: Some(pid),
            subject: Some(("user", me)),
            before: Some(
                json!({ "email": tenant.signed_in.user().email, "role": tenant.role.as_str() }),
            ),
            after: None,
        },
    )
    .await?;
    tenant
        .commit_with_flash(
            &state,
            &format!(
                "You left {company}. You can create an organisation or join one by invitation."
            ),
        )
        .await?;
    Ok(Redirect::to("/dashboard").into_response())
}
