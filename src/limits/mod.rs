//! Write limits: how often a person, and their organisation together, may
//! make a write that notifies people or reaches other systems (an issue
//! update, an invitation, a namespace registration, a license request, a
//! listing submission). One mechanism for every such write: a handler
//! calls [`spend`] on its own transaction after it has written and just
//! before it commits, so a refused write changes nothing (the transaction
//! rolls back) and a write that is refused for another reason is not
//! counted. Called last, the limit's lock is the last lock its transaction
//! takes: a transaction holding it never waits for another lock, so it can
//! never be part of a deadlock.
//!
//! Writes are rows in `write_events`, counted over a sliding window in
//! PostgreSQL, so every instance counts the same writes. An advisory lock
//! per organisation and kind of write, held until the transaction ends,
//! makes the count and the new row one step: two requests at the boundary,
//! on two instances, cannot both pass.
//!
//! The numbers are set so that no real partner meets them: each is several
//! times the busiest honest use we can think of (see each limit), and far
//! below what a script does (11,600 issue updates in 9 minutes).

mod page;

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgConnection;

pub use page::LimitReached;

/// How long a window lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    Hour,
    Day,
}

impl Per {
    pub fn duration(self) -> TimeDelta {
        match self {
            Per::Hour => TimeDelta::hours(1),
            Per::Day => TimeDelta::days(1),
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Per::Hour => "hour",
            Per::Day => "day",
        }
    }
}

/// At most `max` writes per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub max: i64,
    pub per: Per,
}

/// The limits of one kind of write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteLimit {
    /// What is counted, as stored: `issue.update`.
    pub action: &'static str,
    /// What is counted, as people say it: "issue updates".
    pub what: &'static str,
    /// For each person.
    pub per_user: Quota,
    /// For everyone of one organisation together.
    pub per_partner: Quota,
}

/// Updates on issues (each reaches the tracker and the customer). One a
/// minute for an hour per person is more than anyone answering customers
/// writes; five people at once fit the organisation's share.
pub const ISSUE_UPDATES: WriteLimit = WriteLimit {
    action: "issue.update",
    what: "issue updates",
    per_user: Quota {
        max: 60,
        per: Per::Hour,
    },
    per_partner: Quota {
        max: 300,
        per: Per::Hour,
    },
};

/// Team invitations, sent and sent again (each emails an outside address).
/// An admin can invite a whole team of fifty in one sitting; the daily cap
/// keeps the portal from being a way to send mail to strangers.
pub const INVITATIONS: WriteLimit = WriteLimit {
    action: "team.invitation",
    what: "invitations",
    per_user: Quota {
        max: 50,
        per: Per::Hour,
    },
    per_partner: Quota {
        max: 200,
        per: Per::Day,
    },
};

/// Namespace registrations (each waits for, and notifies, staff). Partners
/// register one to a few groups, two on average in the demo data.
pub const NAMESPACE_REGISTRATIONS: WriteLimit = WriteLimit {
    action: "namespace.registration",
    what: "namespace registrations",
    per_user: Quota {
        max: 20,
        per: Per::Hour,
    },
    per_partner: Quota {
        max: 50,
        per: Per::Day,
    },
};

/// License requests and renewals (each issues a license or asks staff).
/// A partner holds at most one license per product, two products.
pub const LICENSE_REQUESTS: WriteLimit = WriteLimit {
    action: "license.request",
    what: "license requests",
    per_user: Quota {
        max: 10,
        per: Per::Hour,
    },
    per_partner: Quota {
        max: 30,
        per: Per::Day,
    },
};

/// Listing submissions (each goes to staff for review). A partner has one
/// listing and sends it again after a review, a few times at most.
pub const LISTING_SUBMISSIONS: WriteLimit = WriteLimit {
    action: "listing.submission",
    what: "listing submissions",
    per_user: Quota {
        max: 10,
        per: Per::Hour,
    },
    per_partner: Quota {
        max: 30,
        per: Per::Day,
    },
};

/// Every limit, for the documentation and the tests.
pub const ALL: &[WriteLimit] = &[
    ISSUE_UPDATES,
    INVITATIONS,
    NAMESPACE_REGISTRATIONS,
    LICENSE_REQUESTS,
    LISTING_SUBMISSIONS,
];

/// Whose writes a quota counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Person,
    Organisation,
}

/// [`spend`] for a partner page, on its tenant transaction.
pub async fn spend_for(
    tenant: &mut crate::organizations::Tenant,
    limit: &WriteLimit,
    now: DateTime<Utc>,
) -> Result<(), crate::error::AppError> {
    let (partner_id, user_id) = (tenant.partner_id, tenant.user_id());
    spend(&mut tenant.tx, limit, partner_id, Some(user_id), now).await
}

/// Counts one write of `limit` by `user_id` of `partner_id` at `now`, or
/// refuses it when the person or the organisation has reached a quota.
/// Call it on the transaction that made the write, just before commit.
pub async fn spend(
    conn: &mut PgConnection,
    limit: &WriteLimit,
    partner_id: i64,
    user_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), crate::error::AppError> {
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended('write_limit:' || $1 || ':' || $2::bigint, 0))",
        limit.action,
        partner_id
    )
    .execute(&mut *conn)
    .await?;
    let org = limit.per_partner;
    let (count, oldest) = organisation_window(conn, limit, partner_id, org, now).await?;
    if count >= org.max {
        return Err(reached(limit, Scope::Organisation, org, oldest, now));
    }
    if let Some(user_id) = user_id {
        let own = limit.per_user;
        let (count, oldest) = person_window(conn, limit, user_id, own, now).await?;
        if count >= own.max {
            return Err(reached(limit, Scope::Person, own, oldest, now));
        }
    }
    sqlx::query!(
        "insert into write_events (partner_id, user_id, action, occurred_at) values ($1, $2, $3, $4)",
        partner_id,
        user_id,
        limit.action,
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes in the window ending at `now`, and the time of the write that
/// leaves the window first once the quota is full (the `max`-th newest).
async fn organisation_window(
    conn: &mut PgConnection,
    limit: &WriteLimit,
    partner_id: i64,
    quota: Quota,
    now: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    let row = sqlx::query!(
        r#"select count(*) as "count!",
                  (select occurred_at from write_events
                    where partner_id = $1 and action = $2 and occurred_at > $3
                    order by occurred_at desc offset $4::bigint - 1 limit 1) as oldest
             from write_events
            where partner_id = $1 and action = $2 and occurred_at > $3"#,
        partner_id,
        limit.action,
        now - quota.per.duration(),
        quota.max
    )
    .fetch_one(conn)
    .await?;
    Ok((row.count, row.oldest))
}

async fn person_window(
    conn: &mut PgConnection,
    limit: &WriteLimit,
    user_id: i64,
    quota: Quota,
    now: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    let row = sqlx::query!(
        r#"select count(*) as "count!",
                  (select occurred_at from write_events
                    where user_id = $1 and action = $2 and occurred_at > $3
                    order by occurred_at desc offset $4::bigint - 1 limit 1) as oldest
             from write_events
            where user_id = $1 and action = $2 and occurred_at > $3"#,
        user_id,
        limit.action,
        now - quota.per.duration(),
        quota.max
    )
    .fetch_one(conn)
    .await?;
    Ok((row.count, row.oldest))
}

fn reached(
    limit: &WriteLimit,
    scope: Scope,
    quota: Quota,
    oldest: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> crate::error::AppError {
    // A slot frees when the oldest write that fills the quota leaves the
    // window.
    let free_at = oldest.map_or(now, |t| t + quota.per.duration());
    tracing::warn!(
        action = limit.action,
        scope = ?scope,
        max = quota.max,
        "write limit reached"
    );
    crate::error::AppError::LimitReached(Box::new(LimitReached {
        what: limit.what,
        scope,
        quota,
        free_at,
        now,
    }))
}

/// Removes counted writes older than any window.
pub async fn prune(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    sqlx::query!(
        "delete from write_events where occurred_at < $1",
        now - TimeDelta::days(1)
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_allows_less_to_a_person_than_to_the_organisation() {
        for limit in ALL {
            // A day's quota could be spent within one hour, so the counts
            // compare whatever their windows.
            assert!(limit.per_user.max <= limit.per_partner.max, "{limit:?}");
            assert!(limit.per_user.max > 0);
        }
        let actions: std::collections::HashSet<_> = ALL.iter().map(|l| l.action).collect();
        assert_eq!(actions.len(), ALL.len(), "each limit counts its own writes");
    }
}
