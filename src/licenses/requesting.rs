//! What a partner's request and renewal do: one license per product, issued
//! at once up to 10 users or left waiting for staff, with the history line,
//! the audit entry and the emails of the change in the caller's transaction.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;

use super::{
    LicenseRequest, LicenseState, Product,
    emails::{About, Change},
    lifecycle::{
        Who, insert_term, issue_new, issue_renewal, mark_term_issued, notify, users_phrase,
    },
    renewal::Renewal,
    rules::RENEWAL_CLOSES_DAYS_AFTER,
    store::{self, License},
};
use crate::{audit, config::Config, dates::long_date, error::AppResult};

/// Why a product cannot be requested while `live` holds its slot; `None`
/// when the license is past its renewal window and may be replaced.
fn slot_taken(live: &License, now: DateTime<Utc>) -> Option<String> {
    let product = live.product;
    match (live.state, live.expires_at) {
        (LicenseState::Pending, _) => Some(format!(
            "You already have a {product} request waiting for review; its decision comes by email."
        )),
        (_, Some(expires_at)) if expires_at > now => Some(format!(
            "You already have an active {product} license, until {}. Renew it from its page when renewal opens, 60 days before it expires.",
            long_date(expires_at)
        )),
        (_, Some(expires_at))
            if now <= expires_at + chrono::TimeDelta::days(RENEWAL_CLOSES_DAYS_AFTER) =>
        {
            Some(format!(
                "Your {product} license expired on {}; renew it from its page (until {}) instead of requesting a new one.",
                long_date(expires_at),
                long_date(expires_at + chrono::TimeDelta::days(RENEWAL_CLOSES_DAYS_AFTER))
            ))
        }
        _ => None,
    }
}

/// One license made by a request.
#[derive(Debug, Clone, Copy)]
pub struct Requested {
    pub license_id: i64,
    pub product: Product,
    pub issued: bool,
}

/// A partner's request: one license per product, issued at once up to 10
/// users, otherwise waiting for staff. `Err(message)` when a product already
/// has a waiting or active license; then nothing may be kept (roll back).
pub async fn request(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    partner_id: i64,
    who: &Who<'_>,
    req: &LicenseRequest,
) -> AppResult<Result<Vec<Requested>, String>> {
    let mut taken = Vec::new();
    for live in store::live_for_products(conn, partner_id, &req.products).await? {
        match slot_taken(&live, now) {
            Some(message) => taken.push(message),
            None => lapse(conn, now, who, &live).await?,
        }
    }
    if !taken.is_empty() {
        return Ok(Err(taken.join(" ")));
    }
    let users = req.users.get() as i32;
    let purposes: Vec<String> = req.purposes.iter().map(|p| p.as_str().to_owned()).collect();
    let mut made = Vec::new();
    for &product in &req.products {
        let id = sqlx::query_scalar!(
            "insert into licenses (partner_id, product, state, users, purposes, justification, requested_by, requested_at)
             values ($1, $2, 'pending', $3, $4, $5, $6, $7)
             on conflict (partner_id, product) where state in ('pending', 'active') do nothing
             returning id",
            partner_id,
            product.as_str(),
            users,
            &purposes,
            req.justification,
            who.user_id,
            now
        )
        .fetch_optional(&mut *conn)
        .await?;
        let Some(id) = id else {
            return Ok(Err(format!(
                "A {product} request was made a moment ago, perhaps in another tab; see it in the list."
            )));
        };
        let key = (partner_id, id);
        let term_id = insert_term(
            conn,
            key,
            "new",
            users,
            req.justification.as_deref(),
            who,
            now,
        )
        .await?;
        let detail = format!("Requested for {} by {}", users_phrase(users), who.shown_as);
        store::add_event(conn, key, now, "requested", who.shown_as, &detail, None).await?;
        let purposes_json: Vec<&str> = req.purposes.iter().map(|p| p.as_str()).collect();
        audit::record(
            conn,
            now,
            who.actor,
            audit::Entry {
                action: "license.requested",
                partner_id: Some(partner_id),
                subject: Some(("license", id)),
                after: Some(
                    json!({ "product": product.as_str(), "users": users, "purposes": purposes_json,
                                "justification": req.justification, "state": "pending" }),
                ),
                ..Default::default()
            },
        )
        .await?;
        let about = About {
            license_id: id,
            product,
            users,
        };
        let issued = !req.needs_review();
        if issued {
            let span = issue_new(conn, config, now, id, users).await?;
            mark_term_issued(conn, now, term_id, span, None).await?;
            let detail = format!(
                "Issued at once for {} until {}",
                users_phrase(users),
                long_date(span.1)
            );
            store::add_event(conn, key, now, "issued", "Partner Portal", &detail, None).await?;
            audit::record(conn, now, who.actor, audit::Entry {
                action: "license.issued",
                partner_id: Some(partner_id),
                subject: Some(("license", id)),
                before: Some(json!({ "state": "pending" })),
                after: Some(json!({ "state": "active", "users": users, "issued_at": span.0, "expires_at": span.1 })),
            })
            .await?;
            notify(
                conn,
                config,
                now,
                partner_id,
                &about,
                &Change::Issued {
                    expires_at: span.1,
                    approved: None,
                },
            )
            .await?;
        } else {
            notify(conn, config, now, partner_id, &about, &Change::Received).await?;
        }
        made.push(Requested {
            license_id: id,
            product,
            issued,
        });
    }
    Ok(Ok(made))
}

/// An expired license past its renewal window gives up its product's slot.
async fn lapse(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    who: &Who<'_>,
    license: &License,
) -> AppResult<()> {
    sqlx::query!(
        "update licenses set state = 'lapsed', next_reminder_at = null where id = $1",
        license.id
    )
    .execute(&mut *conn)
    .await?;
    let key = (license.partner_id, license.id);
    store::add_event(
        conn,
        key,
        now,
        "lapsed",
        "Partner Portal",
        "Closed: expired and past its renewal window",
        None,
    )
    .await?;
    audit::record(
        conn,
        now,
        who.actor,
        audit::Entry {
            action: "license.lapsed",
            partner_id: Some(license.partner_id),
            subject: Some(("license", license.id)),
            before: Some(json!({ "state": "active" })),
            after: Some(json!({ "state": "lapsed" })),
        },
    )
    .await?;
    Ok(())
}

/// A renewal the partner asked for on a license that may be renewed now
/// (the caller checked the window and that no renewal is waiting).
/// Returns whether it was issued at once.
pub async fn renew(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    license: &License,
    who: &Who<'_>,
    renewal: &Renewal,
) -> AppResult<bool> {
    let users = renewal.users.get() as i32;
    let key = (license.partner_id, license.id);
    let old_expiry = license.expires_at.unwrap_or(now);
    let term_id = insert_term(
        conn,
        key,
        "renewal",
        users,
        renewal.justification.as_deref(),
        who,
        now,
    )
    .await?;
    let detail = format!(
        "Renewal requested for {} by {}",
        users_phrase(users),
        who.shown_as
    );
    store::add_event(
        conn,
        key,
        now,
        "renewal_requested",
        who.shown_as,
        &detail,
        None,
    )
    .await?;
    let about = About {
        license_id: license.id,
        product: license.product,
        users,
    };
    let issued = !renewal.needs_review();
    let mut expires_after = license.expires_at;
    if issued {
        let span = issue_renewal(conn, config, now, license.id, old_expiry, users).await?;
        expires_after = Some(span.1);
        mark_term_issued(conn, now, term_id, span, None).await?;
        let detail = format!(
            "Renewed at once for {}: {} to {}",
            users_phrase(users),
            long_date(span.0),
            long_date(span.1)
        );
        store::add_event(conn, key, now, "renewed", "Partner Portal", &detail, None).await?;
        notify(
            conn,
            config,
            now,
            license.partner_id,
            &about,
            &Change::Renewed {
                starts_at: span.0,
                expires_at: span.1,
                approved: None,
            },
        )
        .await?;
    } else {
        notify(
            conn,
            config,
            now,
            license.partner_id,
            &about,
            &Change::RenewalReceived,
        )
        .await?;
    }
    audit::record(
        conn,
        now,
        who.actor,
        audit::Entry {
            action: if issued {
                "license.renewed"
            } else {
                "license.renewal_requested"
            },
            partner_id: Some(license.partner_id),
            subject: Some(("license", license.id)),
            before: Some(json!({ "users": license.users, "expires_at": license.expires_at })),
            after: Some(
                json!({ "users": users, "justification": renewal.justification, "issued": issued,
                            "expires_at": expires_after }),
            ),
        },
    )
    .await?;
    Ok(issued)
}
