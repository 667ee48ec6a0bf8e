//! A suspended partner's verified namespaces lose the partner badge
//! (`revoked`); reinstatement gives back exactly those. The application
//! area calls these in the transaction that suspends or reinstates.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::audit::{self, Actor};

/// Revokes the partner's verified namespaces; returns how many.
pub async fn on_partner_suspended(
    tx: &mut PgConnection,
    partner_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let revoked = sqlx::query!(
        "update namespaces set state = 'revoked', revoked_at = $2, revoked_for = 'suspension'
          where partner_id = $1 and state = 'verified'
          returning id, url",
        partner_id,
        now
    )
    .fetch_all(&mut *tx)
    .await?;
    for ns in &revoked {
        audit::record(
            tx,
            now,
            &Actor::system("partner suspension"),
            audit::Entry {
                action: "namespace.revoked",
                partner_id: Some(partner_id),
                subject: Some(("namespace", ns.id)),
                before: Some(serde_json::json!({ "state": "verified", "url": ns.url })),
                after: Some(
                    serde_json::json!({ "state": "revoked", "because": "partner suspended" }),
                ),
            },
        )
        .await?;
    }
    Ok(revoked.len() as u64)
}

/// Verifies again the namespaces revoked by the suspension (not those
/// rejected or revoked for another reason); returns how many.
pub async fn on_partner_reinstated(
    tx: &mut PgConnection,
    partner_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let restored = sqlx::query!(
        "update namespaces set state = 'verified', revoked_at = null, revoked_for = null
          where partner_id = $1 and state = 'revoked' and revoked_for = 'suspension'
          returning id, url",
        partner_id
    )
    .fetch_all(&mut *tx)
    .await?;
    for ns in &restored {
        audit::record(
            tx,
            now,
            &Actor::system("partner reinstatement"),
            audit::Entry {
                action: "namespace.restored",
                partner_id: Some(partner_id),
                subject: Some(("namespace", ns.id)),
                before: Some(serde_json::json!({ "state": "revoked", "url": ns.url })),
                after: Some(
                    serde_json::json!({ "state": "verified", "because": "partner reinstated" }),
                ),
            },
        )
        .await?;
    }
    Ok(restored.len() as u64)
}
