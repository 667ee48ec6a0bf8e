//! Admins send an invitation again (a new link for 7 more days; the old
//! link stops working) or cancel it. An invitation of another organisation
//! is not found on the tenant transaction: 404, nothing changed.

use axum::{
    Router,
    extract::{Path, State},
    response::Response,
    routing::post,
};
use serde_json::json;

use super::team::{back_to_team, company_of};
use crate::{
    audit,
    error::{AppError, AppResult},
    mail::{self, Recipient},
    organizations::{MemberRole, Tenant, emails, invitations},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/team/invitations/{id}/resend", post(resend))
        .route("/team/invitations/{id}/cancel", post(cancel))
}

#[tracing::instrument(skip_all, fields(partner_id = tenant.partner_id, id))]
async fn resend(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    tenant.require_admin()?;
    let now = state.clock.now();
    let pid = tenant.partner_id;
    let invitation = invitations::find_open(&mut tenant.tx, pid, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let token = invitations::renew(&mut tenant.tx, now, pid, id).await?;
    let company = company_of(&mut tenant).await?;
    let role = invitation
        .role
        .parse::<MemberRole>()
        .map_or(invitation.role.clone(), |r| r.phrase().to_owned());
    let inviter = tenant.signed_in.user().name.clone();
    let notice = emails::team_invitation(&state.config, &company, &inviter, &role, &token);
    let to = Recipient {
        address: invitation.email.clone(),
        name: None,
    };
    mail::enqueue(&mut tenant.tx, now, &to, &notice).await?;
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "team.invitation_resent",
            partner_id: Some(pid),
            subject: Some(("invitation", id)),
            before: Some(json!({ "expires_at": invitation.expires_at })),
            after: Some(json!({ "expires_at": now + invitations::LIFETIME })),
        },
    )
    .await?;
    let message = format!(
        "Invitation sent again to {}. It works for 7 days; the earlier link no longer works.",
        invitation.email
    );
    crate::limits::spend_for(&mut tenant, &crate::limits::INVITATIONS, now).await?;
    tenant.commit_with_flash(&state, &message).await?;
    Ok(back_to_team())
}

#[tracing::instrument(skip_all, fields(partner_id = tenant.partner_id, id))]
async fn cancel(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    tenant.require_admin()?;
    let now = state.clock.now();
    let pid = tenant.partner_id;
    let invitation = invitations::find_open(&mut tenant.tx, pid, id)
        .await?
        .ok_or(AppError::NotFound)?;
    invitations::cancel(&mut tenant.tx, now, pid, id).await?;
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "team.invitation_cancelled",
            partner_id: Some(pid),
            subject: Some(("invitation", id)),
            before: Some(
                json!({ "email": invitation.email, "role": invitation.role, "cancelled": false }),
            ),
            after: Some(json!({ "cancelled": true })),
        },
    )
    .await?;
    let message = format!(
        "The invitation to {} is cancelled; its link no longer works.",
        invitation.email
    );
    tenant.commit_with_flash(&state, &message).await?;
    Ok(back_to_team())
}
