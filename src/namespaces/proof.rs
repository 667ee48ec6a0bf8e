//! Proven ownership (PRODUCT.md §4): a partner admin whose linked GitLab
//! identity is an Owner of the top-level group proves the namespace is
//! theirs, and it is verified without a staff step, through the same
//! [`decision::decide`] staff use. What counts is what GitLab said at the
//! person's latest sign-in with it (the owner-groups claim of userinfo,
//! kept on the identity), while it is fresh: after [`FRESH_FOR`] the person
//! signs in with GitLab again to prove. Not proven: the registration waits
//! for staff as before, with the reason shown to both.
//!
//! A proof only ever verifies a registration that is already this
//! partner's; registering a namespace another partner holds stays refused
//! before any proof is looked at.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

use super::{
    NamespaceState,
    decision::{self, By, Proven},
};
use crate::{
    accounts::identity::{self, LinkedIdentity},
    audit::{self, Actor},
    config::Config,
    error::AppResult,
};

/// How long the groups GitLab listed at a sign-in prove ownership.
pub const FRESH_FOR: Duration = Duration::hours(1);

/// What a linked identity says about one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    Proven(Proven),
    /// Why not, in words for the partner and staff.
    NotProven(String),
}

/// Whether `identity` proves ownership of the top-level group `path` at
/// `now`.
pub fn judge(identity: &LinkedIdentity, path: &str, now: DateTime<Utc>) -> Judgement {
    let who = format!("@{}", identity.username);
    let fresh = identity
        .groups_checked_at
        .filter(|checked| now - *checked < FRESH_FOR);
    let Some(_) = fresh else {
        let when = identity
            .groups_checked_at
            .map(|c| format!(" on {}", c.format("%-d %b %Y, %H:%M UTC")))
            .unwrap_or_default();
        return Judgement::NotProven(format!(
            "GitLab last listed the groups {who} owns{when}, more than an hour ago: sign in with GitLab again to prove ownership."
        ));
    };
    let path = path.to_lowercase();
    if identity.owner_groups.contains(&path) {
        Judgement::Proven(Proven {
            gitlab_user_id: identity.gitlab_user_id,
            username: identity.username.clone(),
        })
    } else {
        Judgement::NotProven(format!("{who} is not an Owner of {path} on GitLab."))
    }
}

/// Applies a judgement to the pending registration `id`: verified if
/// proven, else the reason is kept for the partner and staff. Audited
/// either way (a reason only when it changes).
async fn apply(
    tx: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    actor: &Actor,
    partner_id: i64,
    id: i64,
    judgement: &Judgement,
) -> AppResult<()> {
    match judgement {
        Judgement::Proven(proven) => {
            decision::decide(
                tx,
                config,
                now,
                actor,
                id,
                NamespaceState::Verified,
                "",
                By::Proof(proven),
            )
            .await?;
        }
        Judgement::NotProven(reason) => {
            // The same reason again (another sign-in) changes nothing.
            let changed = sqlx::query!(
                "update namespaces set proof_problem = $3
                  where partner_id = $1 and id = $2 and state = 'pending'
                    and proof_problem is distinct from $3",
                partner_id,
                id,
                reason
            )
            .execute(&mut *tx)
            .await?;
            if changed.rows_affected() == 0 {
                return Ok(());
            }
            audit::record(
                tx,
                now,
                actor,
                audit::Entry {
                    action: "namespace.ownership_not_proven",
                    partner_id: Some(partner_id),
                    subject: Some(("namespace", id)),
                    after: Some(serde_json::json!({ "state": "pending", "reason": reason })),
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// A registration just made by `user_id`: proven at once if their linked
/// identity owns the group. `None` when they have no linked identity
/// (staff verify by hand, as before).
#[allow(clippy::too_many_arguments)]
pub async fn on_registration(
    tx: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    actor: &Actor,
    partner_id: i64,
    id: i64,
    path: &str,
    user_id: i64,
) -> AppResult<Option<Judgement>> {
    let Some(identity) = identity::of_user(tx, user_id).await? else {
        return Ok(None);
    };
    let judgement = judge(&identity, path, now);
    apply(tx, config, now, actor, partner_id, id, &judgement).await?;
    Ok(Some(judgement))
}

/// After `user_id` signed in with GitLab or linked an identity: their
/// organisation's registrations still waiting for staff are judged with
/// what GitLab just said, if they are an admin of an approved partner.
/// Returns the namespaces proven.
pub async fn on_sign_in(
    tx: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    actor: &Actor,
    user_id: i64,
) -> AppResult<Vec<String>> {
    let Some(identity) = identity::of_user(tx, user_id).await? else {
        return Ok(Vec::new());
    };
    let pending = sqlx::query!(
        "select n.id, n.partner_id, n.url, n.path
           from partner_members m
           join applications a on a.partner_id = m.partner_id and a.state = 'approved'
           join namespaces n on n.partner_id = m.partner_id and n.state = 'pending'
          where m.user_id = $1 and m.role in ('owner', 'admin')
          order by n.created_at, n.id",
        user_id
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut proven = Vec::new();
    for ns in pending {
        let judgement = judge(&identity, &ns.path, now);
        apply(tx, config, now, actor, ns.partner_id, ns.id, &judgement).await?;
        if matches!(judgement, Judgement::Proven(_)) {
            proven.push(ns.url);
        }
    }
    Ok(proven)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(groups: &[&str], checked: Option<DateTime<Utc>>) -> LinkedIdentity {
        LinkedIdentity {
            user_id: 1,
            gitlab_user_id: 4242,
            username: "ada".into(),
            linked_at: checked.unwrap_or_default(),
            owner_groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            groups_checked_at: checked,
        }
    }

    #[test]
    fn an_owner_of_the_group_proves_it_while_gitlab_said_so_recently() {
        let now = Utc::now();
        let ada = identity(&["acme-corp", "tools"], Some(now - Duration::minutes(5)));
        assert_eq!(
            judge(&ada, "Acme-Corp", now),
            Judgement::Proven(Proven {
                gitlab_user_id: 4242,
                username: "ada".into()
            })
        );
    }

    #[test]
    fn anyone_else_is_told_why_not() {
        let now = Utc::now();
        let ada = identity(&["tools"], Some(now - Duration::minutes(5)));
        assert_eq!(
            judge(&ada, "acme-corp", now),
            Judgement::NotProven("@ada is not an Owner of acme-corp on GitLab.".into())
        );
        let stale = identity(&["acme-corp"], Some(now - FRESH_FOR));
        let Judgement::NotProven(reason) = judge(&stale, "acme-corp", now) else {
            panic!("an hour-old list proves nothing");
        };
        assert!(reason.contains("sign in with GitLab again"), "{reason}");
        assert!(matches!(
            judge(&identity(&["acme-corp"], None), "acme-corp", now),
            Judgement::NotProven(_)
        ));
    }
}
