//! How a registration is decided, whoever decides it: staff by hand
//! (`POST /admin/namespaces/{id}/verify`, `/reject`), or the partner admin's
//! GitLab identity proving ownership (§4). One function changes the state,
//! records the proof, audits and emails the partner's admins, so both ways
//! to "verified" do exactly the same (and whatever verifying comes to do,
//! publishing the badge for one, is written once, here). Staff can also
//! take back a verified namespace ([`revoke`]).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{NamespaceState, emails};
use crate::{
    audit::{self, Actor},
    config::Config,
    error::{AppError, AppResult},
    organizations::emails as org_emails,
};

/// The GitLab identity that proved ownership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    pub gitlab_user_id: i64,
    pub username: String,
}

/// Who decides.
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    /// A staff member, by hand.
    Staff { user_id: i64 },
    /// The partner admin's linked identity owns the group on GitLab.
    Proof(&'a Proven),
}

/// The namespace a decision was about.
#[derive(Debug, Clone)]
pub struct Decided {
    pub partner_id: i64,
    pub url: String,
}

/// Verifies or rejects the pending registration `id`; a rejection needs a
/// reason (`reason` may be empty for a verification: a note otherwise).
/// Not found, already decided, or a partner not in good standing: an error
/// that says so, and nothing changes.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    tx: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
    to: NamespaceState,
    reason: &str,
    by: By<'_>,
) -> AppResult<Decided> {
    let ns = sqlx::query!(
        r#"select n.partner_id, n.url, n.state, a.state as "application_state?"
             from namespaces n left join applications a on a.partner_id = n.partner_id
            where n.id = $1 for update of n"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let from: NamespaceState = ns.state.parse().unwrap_or(NamespaceState::Pending);
    if !from.is_decidable() {
        return Err(AppError::Conflict(format!(
            "{} was already decided: it is {}.",
            ns.url,
            from.label().to_lowercase()
        )));
    }
    if to == NamespaceState::Verified && ns.application_state.as_deref() != Some("approved") {
        return Err(AppError::Conflict(
            "This partner is not an approved partner in good standing, so its namespace cannot be verified now.".into(),
        ));
    }
    let note = (!reason.is_empty()).then_some(reason);
    let (staff_id, proof) = match by {
        By::Staff { user_id } => (Some(user_id), None),
        By::Proof(proven) => (None, Some(proven)),
    };
    sqlx::query!(
        "update namespaces
            set state = $2, reason = $3, decided_at = $4, decided_by = $5,
                verified_at = case when $2 = 'verified' then $4 else verified_at end,
                proven_by_gitlab_user_id = $6, proven_by_username = $7,
                proven_at = case when $6::bigint is null then null else $4 end,
                proof_problem = case when $6::bigint is null then proof_problem end
          where id = $1",
        id,
        to.as_str(),
        note,
        now,
        staff_id,
        proof.map(|p| p.gitlab_user_id),
        proof.map(|p| p.username.as_str())
    )
    .execute(&mut *tx)
    .await?;
    let action = match (to, proof) {
        (NamespaceState::Verified, Some(_)) => "namespace.ownership_proven",
        (NamespaceState::Verified, None) => "namespace.verified",
        _ => "namespace.rejected",
    };
    let mut after = serde_json::json!({ "state": to.as_str(), "reason": note });
    if let Some(p) = proof {
        after["proven_by"] = serde_json::json!({
            "gitlab_user_id": p.gitlab_user_id,
            "username": p.username,
        });
    }
    audit::record(
        tx,
        now,
        actor,
        audit::Entry {
            action,
            partner_id: Some(ns.partner_id),
            subject: Some(("namespace", id)),
            before: Some(serde_json::json!({ "state": from.as_str(), "url": ns.url })),
            after: Some(after),
        },
    )
    .await?;
    let admins = org_emails::admins(tx, ns.partner_id).await?;
    org_emails::send_each(tx, now, &admins, |name| match to {
        NamespaceState::Verified => {
            let notice = emails::verified(config, name, &ns.url, id);
            match (proof, note) {
                (Some(p), _) => notice.paragraph(format!(
                    "Ownership was proven by @{} on GitLab, an Owner of the group: no staff check was needed.",
                    p.username
                )),
                (None, Some(n)) => notice.paragraph(format!("Note from the alliance team: {n}")),
                (None, None) => notice,
            }
        }
        _ => emails::rejected(config, name, &ns.url, reason),
    })
    .await?;
    Ok(Decided {
        partner_id: ns.partner_id,
        url: ns.url,
    })
}

/// Staff take back a verified namespace (a proof that no longer holds, a
/// mistake): it loses the badge and is rejected with the reason, which the
/// partner's admins receive; the address is free to be registered again.
pub async fn revoke(
    tx: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    actor: &Actor,
    staff_id: i64,
    id: i64,
    reason: &str,
) -> AppResult<Decided> {
    let ns = sqlx::query!(
        "select partner_id, url, state, proven_by_username from namespaces where id = $1 for update",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    if ns.state != NamespaceState::Verified.as_str() {
        return Err(AppError::Conflict(format!(
            "{} is not verified, so there is nothing to revoke.",
            ns.url
        )));
    }
    sqlx::query!(
        "update namespaces set state = 'rejected', reason = $2, decided_at = $3, decided_by = $4
          where id = $1",
        id,
        reason,
        now,
        staff_id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        tx,
        now,
        actor,
        audit::Entry {
            action: "namespace.revoked",
            partner_id: Some(ns.partner_id),
            subject: Some(("namespace", id)),
            before: Some(serde_json::json!({
                "state": "verified", "url": ns.url, "proven_by": ns.proven_by_username,
            })),
            after: Some(serde_json::json!({ "state": "rejected", "reason": reason })),
        },
    )
    .await?;
    let admins = org_emails::admins(tx, ns.partner_id).await?;
    org_emails::send_each(tx, now, &admins, |name| {
        emails::revoked(config, name, &ns.url, reason)
    })
    .await?;
    Ok(Decided {
        partner_id: ns.partner_id,
        url: ns.url,
    })
}
