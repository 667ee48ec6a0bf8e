//! What staff decide about a license: approve or reject the request waiting
//! on it (a new license or a renewal), reduce its users after an audit, or
//! revoke it. Each decision locks the license, writes its history line and
//! audit entry, and emails the organisation's admins, in one transaction.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;

use super::{
    LicenseState, ReduceProblem,
    emails::{About, Change},
    lifecycle::{STAFF, issue_new, issue_renewal, mark_term_issued, notify, users_phrase},
    reduced_users,
    store::{self, License},
};
use crate::{
    audit::{self, Actor},
    config::Config,
    dates::long_date,
    error::{AppError, AppResult},
};

/// Why a decision cannot be taken on this license as it is now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("This license has no request waiting for a decision.")]
    NothingPending,
    #[error("Only an active license can be reduced or revoked.")]
    NotActive,
    #[error("{0}")]
    Users(ReduceProblem),
    #[error(
        "The partner is suspended: reject the request, or decide once the partnership is reinstated."
    )]
    PartnerSuspended,
}

async fn locked(conn: &mut PgConnection, id: i64) -> AppResult<License> {
    store::lock(conn, id).await?.ok_or(AppError::NotFound)
}

async fn partner_suspended(conn: &mut PgConnection, partner_id: i64) -> AppResult<bool> {
    Ok(sqlx::query_scalar!(
        r#"select exists (select 1 from applications
                           where partner_id = $1 and state = 'suspended') as "suspended!""#,
        partner_id
    )
    .fetch_one(conn)
    .await?)
}

fn about(license: &License, users: i32) -> About {
    About {
        license_id: license.id,
        product: license.product,
        users,
    }
}

/// Issues the request waiting on the license. Returns the flash message.
pub async fn approve(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
    note: Option<&str>,
) -> AppResult<Result<String, Problem>> {
    let license = locked(conn, id).await?;
    let Some(term) = store::pending_term(conn, id).await? else {
        return Ok(Err(Problem::NothingPending));
    };
    if partner_suspended(conn, license.partner_id).await? {
        return Ok(Err(Problem::PartnerSuspended));
    }
    let key = (license.partner_id, license.id);
    let renewal = term.is_renewal();
    let span = match (renewal, license.state, license.expires_at) {
        (false, LicenseState::Pending, _) => issue_new(conn, config, now, id, term.users).await?,
        (true, LicenseState::Active, Some(expiry)) => {
            issue_renewal(conn, config, now, id, expiry, term.users).await?
        }
        _ => return Ok(Err(Problem::NothingPending)),
    };
    mark_term_issued(conn, now, term.id, span, note).await?;
    let detail = format!(
        "{} for {}: {} to {}",
        if renewal {
            "Renewal approved"
        } else {
            "Approved"
        },
        users_phrase(term.users),
        long_date(span.0),
        long_date(span.1)
    );
    store::add_event(conn, key, now, "approved", STAFF, &detail, note).await?;
    audit::record(
        conn,
        now,
        actor,
        audit::Entry {
            action: if renewal {
                "license.renewal_approved"
            } else {
                "license.approved"
            },
            partner_id: Some(license.partner_id),
            subject: Some(("license", id)),
            before: Some(
                json!({ "state": license.state.as_str(), "expires_at": license.expires_at }),
            ),
            after: Some(
                json!({ "state": "active", "users": term.users, "starts_at": span.0,
                                "expires_at": span.1, "note": note }),
            ),
        },
    )
    .await?;
    let approved = Some(note.map(str::to_owned));
    let change = if renewal {
        Change::Renewed {
            starts_at: span.0,
            expires_at: span.1,
            approved,
        }
    } else {
        Change::Issued {
            expires_at: span.1,
            approved,
        }
    };
    notify(
        conn,
        config,
        now,
        license.partner_id,
        &about(&license, term.users),
        &change,
    )
    .await?;
    Ok(Ok(format!(
        "{} {} license approved until {}; the partner's admins were emailed.",
        if renewal { "Renewal of the" } else { "The" },
        license.product,
        long_date(span.1)
    )))
}

/// Refuses the request waiting on the license, with a reason.
pub async fn reject(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> AppResult<Result<String, Problem>> {
    let license = locked(conn, id).await?;
    let Some(term) = store::pending_term(conn, id).await? else {
        return Ok(Err(Problem::NothingPending));
    };
    let renewal = term.is_renewal();
    sqlx::query!(
        "update license_terms set state = 'rejected', decided_at = $2, reason = $3 where id = $1",
        term.id,
        now,
        reason
    )
    .execute(&mut *conn)
    .await?;
    if !renewal {
        sqlx::query!(
            "update licenses set state = 'rejected', decided_at = $2, reason = $3 where id = $1",
            id,
            now,
            reason
        )
        .execute(&mut *conn)
        .await?;
    }
    let key = (license.partner_id, license.id);
    let detail = format!(
        "{} for {} rejected",
        if renewal { "Renewal" } else { "Request" },
        users_phrase(term.users)
    );
    store::add_event(conn, key, now, "rejected", STAFF, &detail, Some(reason)).await?;
    audit::record(
        conn,
        now,
        actor,
        audit::Entry {
            action: if renewal {
                "license.renewal_rejected"
            } else {
                "license.rejected"
            },
            partner_id: Some(license.partner_id),
            subject: Some(("license", id)),
            before: Some(json!({ "state": license.state.as_str(), "request": "pending" })),
            after: Some(json!({ "request": "rejected", "reason": reason })),
        },
    )
    .await?;
    let change = match (renewal, license.expires_at) {
        (true, Some(expires_at)) => Change::RenewalRejected {
            expires_at,
            reason: reason.to_owned(),
        },
        _ => Change::Rejected {
            reason: reason.to_owned(),
        },
    };
    notify(
        conn,
        config,
        now,
        license.partner_id,
        &about(&license, term.users),
        &change,
    )
    .await?;
    Ok(Ok(format!(
        "{} rejected; the partner's admins were emailed the reason.",
        if renewal { "Renewal" } else { "Request" }
    )))
}

/// Lowers the users of an active license after an audit (never below 1).
pub async fn reduce(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
    users_input: &str,
    reason: &str,
) -> AppResult<Result<String, Problem>> {
    let license = locked(conn, id).await?;
    if license.state != LicenseState::Active {
        return Ok(Err(Problem::NotActive));
    }
    let users = match reduced_users(u32::try_from(license.users).unwrap_or(0), users_input) {
        Ok(n) => n as i32,
        Err(problem) => return Ok(Err(Problem::Users(problem))),
    };
    sqlx::query!("update licenses set users = $2 where id = $1", id, users)
        .execute(&mut *conn)
        .await?;
    let key = (license.partner_id, license.id);
    let detail = format!("Reduced from {} to {} users", license.users, users);
    store::add_event(conn, key, now, "reduced", STAFF, &detail, Some(reason)).await?;
    audit::record(
        conn,
        now,
        actor,
        audit::Entry {
            action: "license.reduced",
            partner_id: Some(license.partner_id),
            subject: Some(("license", id)),
            before: Some(json!({ "users": license.users })),
            after: Some(json!({ "users": users, "reason": reason })),
        },
    )
    .await?;
    let change = Change::Reduced {
        from: license.users,
        reason: reason.to_owned(),
    };
    notify(
        conn,
        config,
        now,
        license.partner_id,
        &about(&license, users),
        &change,
    )
    .await?;
    Ok(Ok(format!(
        "Reduced to {}; the partner's admins were emailed the reason.",
        users_phrase(users)
    )))
}

/// Ends an active license for good; a renewal waiting on it is refused.
pub async fn revoke(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> AppResult<Result<String, Problem>> {
    let license = locked(conn, id).await?;
    if license.state != LicenseState::Active {
        return Ok(Err(Problem::NotActive));
    }
    sqlx::query!(
        "update licenses set state = 'revoked', reason = $2, next_reminder_at = null where id = $1",
        id,
        reason
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update license_terms set state = 'rejected', decided_at = $2, reason = 'The license was revoked.'
          where license_id = $1 and state = 'pending'",
        id,
        now
    )
    .execute(&mut *conn)
    .await?;
    let key = (license.partner_id, license.id);
    store::add_event(conn, key, now, "revoked", STAFF, "Revoked", Some(reason)).await?;
    audit::record(
        conn,
        now,
        actor,
        audit::Entry {
            action: "license.revoked",
            partner_id: Some(license.partner_id),
            subject: Some(("license", id)),
            before: Some(json!({ "state": "active" })),
            after: Some(json!({ "state": "revoked", "reason": reason })),
        },
    )
    .await?;
    let change = Change::Revoked {
        reason: reason.to_owned(),
    };
    notify(
        conn,
        config,
        now,
        license.partner_id,
        &about(&license, license.users),
        &change,
    )
    .await?;
    Ok(Ok(format!(
        "The {} license is revoked; the partner's admins were emailed the reason.",
        license.product
    )))
}
