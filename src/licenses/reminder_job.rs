//! The scheduler's license job: expiry reminders 30 and 7 days before a
//! license expires and on expiry.
//!
//! Each license carries `next_reminder_at`; the job reads only the licenses
//! whose reminder is due (a partial index), locks them with `FOR UPDATE SKIP
//! LOCKED` so instances share the work, and records each reminder sent in
//! `license_reminders` (one row per license, term and kind, inserted with
//! `on conflict do nothing`) in the same transaction as its emails. Running it
//! again, on several instances at once or after a restart sends nothing
//! twice; after downtime only the latest reminder due is sent.

use chrono::{DateTime, Utc};

use super::{
    ExpiryReminder, Product, due_expiry_reminder,
    emails::{About, Change},
    lifecycle::notify,
    reminders::next_reminder_at,
    store,
};
use crate::{error::AppResult, integrations::webhooks, state::AppState};

/// Licenses handled per transaction.
const BATCH: i64 = 100;

/// Sends the reminders due at `now`; returns how many licenses got one.
pub async fn send_expiry_reminders(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let mut sent = 0;
    loop {
        let mut tx = crate::db::begin(&state.pool).await?;
        let due = sqlx::query!(
            r#"select id, partner_id, product, users, expires_at as "expires_at!"
                 from licenses
                where state = 'active' and next_reminder_at is not null and next_reminder_at <= $1
                order by next_reminder_at, id
                limit $2
                for update skip locked"#,
            now,
            BATCH
        )
        .fetch_all(&mut *tx)
        .await?;
        let claimed = due.len();
        for license in due {
            let expires_at = license.expires_at;
            let last_sent = sqlx::query_scalar!(
                "select kind from license_reminders where license_id = $1 and term_expires_at = $2",
                license.id,
                expires_at
            )
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .filter_map(|k| ExpiryReminder::parse(k))
            .max();
            let mut latest = last_sent;
            if let Some(kind) = due_expiry_reminder(expires_at, now, last_sent) {
                latest = Some(kind);
                let recorded = sqlx::query!(
                    "insert into license_reminders (partner_id, license_id, term_expires_at, kind, sent_at)
                     values ($1, $2, $3, $4, $5) on conflict do nothing",
                    license.partner_id,
                    license.id,
                    expires_at,
                    kind.as_str(),
                    now
                )
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if recorded == 1 {
                    let product = Product::parse(&license.product).unwrap_or(Product::Saas);
                    let about = About {
                        license_id: license.id,
                        product,
                        users: license.users,
                    };
                    let change = Change::Reminder {
                        kind,
                        expires_at,
                        now,
                    };
                    notify(
                        &mut tx,
                        &state.config,
                        now,
                        license.partner_id,
                        &about,
                        &change,
                    )
                    .await?;
                    webhooks::emit_license(
                        &mut tx,
                        &state.config,
                        now,
                        license.id,
                        webhooks::Event::LicenseExpiring,
                        serde_json::json!({ "reminder": kind.as_str() }),
                    )
                    .await?;
                    let detail = match kind {
                        ExpiryReminder::ThirtyDays => "Reminder sent: expires in 30 days",
                        ExpiryReminder::SevenDays => "Reminder sent: expires in 7 days",
                        ExpiryReminder::Expired => "Expiry notice sent",
                    };
                    let key = (license.partner_id, license.id);
                    store::add_event(
                        &mut tx,
                        key,
                        now,
                        "reminder",
                        "Partner Portal",
                        detail,
                        None,
                    )
                    .await?;
                    sent += 1;
                }
            }
            sqlx::query!(
                "update licenses set next_reminder_at = $2 where id = $1",
                license.id,
                next_reminder_at(expires_at, latest)
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        if claimed < BATCH as usize {
            return Ok(sent);
        }
    }
}
