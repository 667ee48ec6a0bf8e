//! A suspended partner's licenses (PRODUCT.md §5). Suspension suspends
//! every active license (no reminders, no renewal, a renewal waiting on it
//! is refused); reinstatement makes active again those whose term has not
//! ended, and lapses the others. Each license gets a history line, an audit
//! entry and an email to the organisation's admins. The application area
//! calls these in the transaction that suspends or reinstates.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;

use super::{
    ExpiryReminder, Product,
    emails::{About, Change},
    lifecycle::{STAFF, notify},
    reminders::next_reminder_at,
    store,
};
use crate::{
    audit::{self, Actor},
    config::Config,
    dates::long_date,
    error::AppResult,
};

/// What reinstatement did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reinstated {
    pub restored: u64,
    pub lapsed: u64,
}

fn about(id: i64, product: &str, users: i32) -> About {
    About {
        license_id: id,
        product: Product::parse(product).unwrap_or(Product::Saas),
        users,
    }
}

/// Suspends the partner's active licenses; returns how many.
pub async fn on_partner_suspended(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    actor: &Actor,
    partner_id: i64,
) -> AppResult<u64> {
    let suspended = sqlx::query!(
        r#"update licenses set state = 'suspended', suspended_at = $2, next_reminder_at = null
            where partner_id = $1 and state = 'active'
            returning id, product, users, expires_at as "expires_at!""#,
        partner_id,
        now
    )
    .fetch_all(&mut *conn)
    .await?;
    for l in &suspended {
        let refused = sqlx::query!(
            "update license_terms set state = 'rejected', decided_at = $2,
                    reason = 'The partnership was suspended.'
              where license_id = $1 and state = 'pending'",
            l.id,
            now
        )
        .execute(&mut *conn)
        .await?
        .rows_affected();
        let detail = if refused > 0 {
            "Suspended with the partnership; the renewal waiting for review was refused"
        } else {
            "Suspended with the partnership"
        };
        store::add_event(
            conn,
            (partner_id, l.id),
            now,
            "suspended",
            STAFF,
            detail,
            None,
        )
        .await?;
        audit::record(
            conn,
            now,
            actor,
            audit::Entry {
                action: "license.suspended",
                partner_id: Some(partner_id),
                subject: Some(("license", l.id)),
                before: Some(json!({ "state": "active", "expires_at": l.expires_at })),
                after: Some(
                    json!({ "state": "suspended", "because": "partner suspended",
                                    "renewal_refused": refused > 0 }),
                ),
            },
        )
        .await?;
        let change = Change::Suspended {
            expires_at: l.expires_at,
        };
        notify(
            conn,
            config,
            now,
            partner_id,
            &about(l.id, &l.product, l.users),
            &change,
        )
        .await?;
    }
    Ok(suspended.len() as u64)
}

/// Makes the suspended licenses whose term has not ended active again, and
/// lapses the others.
pub async fn on_partner_reinstated(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    actor: &Actor,
    partner_id: i64,
) -> AppResult<Reinstated> {
    let suspended = sqlx::query!(
        r#"select id, product, users, expires_at as "expires_at!" from licenses
            where partner_id = $1 and state = 'suspended'
            order by id
            for update"#,
        partner_id
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut done = Reinstated::default();
    for l in suspended {
        let key = (partner_id, l.id);
        let about = about(l.id, &l.product, l.users);
        if l.expires_at > now {
            // Reminders carry on where they were: one that fell due during
            // the suspension goes out at the next pass.
            let last_sent = sqlx::query_scalar!(
                "select kind from license_reminders where license_id = $1 and term_expires_at = $2",
                l.id,
                l.expires_at
            )
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .filter_map(|k| ExpiryReminder::parse(k))
            .max();
            sqlx::query!(
                "update licenses set state = 'active', suspended_at = null, next_reminder_at = $2
                  where id = $1",
                l.id,
                next_reminder_at(l.expires_at, last_sent)
            )
            .execute(&mut *conn)
            .await?;
            let detail = format!(
                "Active again with the partnership, until {}",
                long_date(l.expires_at)
            );
            store::add_event(conn, key, now, "restored", STAFF, &detail, None).await?;
            record(
                conn,
                now,
                actor,
                partner_id,
                l.id,
                "license.restored",
                "active",
            )
            .await?;
            let change = Change::Restored {
                expires_at: l.expires_at,
            };
            notify(conn, config, now, partner_id, &about, &change).await?;
            done.restored += 1;
        } else {
            sqlx::query!(
                "update licenses set state = 'lapsed', suspended_at = null where id = $1",
                l.id
            )
            .execute(&mut *conn)
            .await?;
            let detail = format!(
                "Not restored: its term ended on {} during the suspension",
                long_date(l.expires_at)
            );
            store::add_event(conn, key, now, "lapsed", STAFF, &detail, None).await?;
            record(
                conn,
                now,
                actor,
                partner_id,
                l.id,
                "license.lapsed",
                "lapsed",
            )
            .await?;
            let change = Change::EndedWhileSuspended {
                expired_at: l.expires_at,
            };
            notify(conn, config, now, partner_id, &about, &change).await?;
            done.lapsed += 1;
        }
    }
    Ok(done)
}

async fn record(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    partner_id: i64,
    license_id: i64,
    action: &'static str,
    to: &str,
) -> AppResult<()> {
    audit::record(
        conn,
        now,
        actor,
        audit::Entry {
            action,
            partner_id: Some(partner_id),
            subject: Some(("license", license_id)),
            before: Some(json!({ "state": "suspended" })),
            after: Some(json!({ "state": to, "because": "partner reinstated" })),
        },
    )
    .await?;
    Ok(())
}
