//! Reading licenses, their terms and their history. On a tenant transaction
//! row-level security keeps every query inside the organisation; staff and
//! the scheduler use the privileged pool.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{LicenseState, Product, Purpose};

/// One license of one product.
#[derive(Debug, Clone)]
pub struct License {
    pub id: i64,
    pub partner_id: i64,
    pub product: Product,
    pub state: LicenseState,
    pub users: i32,
    pub purposes: Vec<Purpose>,
    pub justification: Option<String>,
    pub license_key: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub requested_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// A license as stored; [`License`] once its text columns are parsed.
pub struct LicenseRow {
    pub id: i64,
    pub partner_id: i64,
    pub product: String,
    pub state: String,
    pub users: i32,
    pub purposes: Vec<String>,
    pub justification: Option<String>,
    pub license_key: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub requested_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

fn corrupt(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("licenses: unknown {what} {value:?}").into())
}

impl TryFrom<LicenseRow> for License {
    type Error = sqlx::Error;

    fn try_from(r: LicenseRow) -> Result<Self, Self::Error> {
        Ok(License {
            id: r.id,
            partner_id: r.partner_id,
            product: Product::parse(&r.product).ok_or_else(|| corrupt("product", &r.product))?,
            state: LicenseState::parse(&r.state).ok_or_else(|| corrupt("state", &r.state))?,
            users: r.users,
            purposes: r
                .purposes
                .iter()
                .map(|p| Purpose::parse(p).ok_or_else(|| corrupt("purpose", p)))
                .collect::<Result<_, _>>()?,
            justification: r.justification,
            license_key: r.license_key,
            issued_at: r.issued_at,
            expires_at: r.expires_at,
            requested_at: r.requested_at,
            decided_at: r.decided_at,
            reason: r.reason,
        })
    }
}

fn parse_all(rows: Vec<LicenseRow>) -> Result<Vec<License>, sqlx::Error> {
    rows.into_iter().map(License::try_from).collect()
}

/// One license, if this connection may see it.
pub async fn find(conn: &mut PgConnection, id: i64) -> Result<Option<License>, sqlx::Error> {
    sqlx::query_as!(
        LicenseRow,
        "select id, partner_id, product, state, users, purposes, justification, license_key,
                issued_at, expires_at, requested_at, decided_at, reason
           from licenses where id = $1",
        id
    )
    .fetch_optional(conn)
    .await?
    .map(License::try_from)
    .transpose()
}

/// One license, locked until the transaction ends, so decisions on it
/// happen one after the other.
pub async fn lock(conn: &mut PgConnection, id: i64) -> Result<Option<License>, sqlx::Error> {
    sqlx::query_as!(
        LicenseRow,
        "select id, partner_id, product, state, users, purposes, justification, license_key,
                issued_at, expires_at, requested_at, decided_at, reason
           from licenses where id = $1 for update",
        id
    )
    .fetch_optional(conn)
    .await?
    .map(License::try_from)
    .transpose()
}

/// The organisation's licenses, newest request first, one page of them.
pub async fn list_for_partner(
    conn: &mut PgConnection,
    partner_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<License>, sqlx::Error> {
    let rows = sqlx::query_as!(
        LicenseRow,
        "select id, partner_id, product, state, users, purposes, justification, license_key,
                issued_at, expires_at, requested_at, decided_at, reason
           from licenses where partner_id = $1
          order by requested_at desc, id desc
          limit $2 offset $3",
        partner_id,
        limit,
        offset
    )
    .fetch_all(conn)
    .await?;
    parse_all(rows)
}

/// The licenses that hold a product's slot (waiting or active), locked.
pub async fn live_for_products(
    conn: &mut PgConnection,
    partner_id: i64,
    products: &[Product],
) -> Result<Vec<License>, sqlx::Error> {
    let products: Vec<String> = products.iter().map(|p| p.as_str().to_owned()).collect();
    let rows = sqlx::query_as!(
        LicenseRow,
        "select id, partner_id, product, state, users, purposes, justification, license_key,
                issued_at, expires_at, requested_at, decided_at, reason
           from licenses
          where partner_id = $1 and product = any($2) and state in ('pending', 'active')
          order by product
          for update",
        partner_id,
        &products
    )
    .fetch_all(conn)
    .await?;
    parse_all(rows)
}

/// A term of a license and the request behind it.
#[derive(Debug, Clone)]
pub struct Term {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub users: i32,
    pub justification: Option<String>,
    pub requested_by: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub starts_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

impl Term {
    pub fn is_renewal(&self) -> bool {
        self.kind == "renewal"
    }

    pub fn is_pending(&self) -> bool {
        self.state == "pending"
    }
}

/// Every term of a license, oldest first.
pub async fn terms(conn: &mut PgConnection, license_id: i64) -> Result<Vec<Term>, sqlx::Error> {
    sqlx::query_as!(
        Term,
        "select t.id, t.kind, t.state, t.users, t.justification, u.name as \"requested_by?\",
                t.requested_at, t.starts_at, t.expires_at, t.decided_at, t.reason
           from license_terms t left join users u on u.id = t.requested_by
          where t.license_id = $1
          order by t.requested_at, t.id",
        license_id
    )
    .fetch_all(conn)
    .await
}

/// The request of a license waiting for staff, if any.
pub async fn pending_term(
    conn: &mut PgConnection,
    license_id: i64,
) -> Result<Option<Term>, sqlx::Error> {
    sqlx::query_as!(
        Term,
        "select t.id, t.kind, t.state, t.users, t.justification, u.name as \"requested_by?\",
                t.requested_at, t.starts_at, t.expires_at, t.decided_at, t.reason
           from license_terms t left join users u on u.id = t.requested_by
          where t.license_id = $1 and t.state = 'pending'",
        license_id
    )
    .fetch_optional(conn)
    .await
}

/// One line of a license's history.
#[derive(Debug, Clone)]
pub struct Event {
    pub occurred_at: DateTime<Utc>,
    pub kind: String,
    pub actor: String,
    pub detail: String,
    pub reason: Option<String>,
}

pub async fn events(conn: &mut PgConnection, license_id: i64) -> Result<Vec<Event>, sqlx::Error> {
    sqlx::query_as!(
        Event,
        "select occurred_at, kind, actor, detail, reason from license_events
          where license_id = $1 order by occurred_at desc, id desc",
        license_id
    )
    .fetch_all(conn)
    .await
}

/// Adds a line to the license's history.
pub async fn add_event(
    conn: &mut PgConnection,
    license: (i64, i64),
    now: DateTime<Utc>,
    kind: &str,
    actor: &str,
    detail: &str,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    let (partner_id, license_id) = license;
    sqlx::query!(
        "insert into license_events (partner_id, license_id, occurred_at, kind, actor, detail, reason)
         values ($1, $2, $3, $4, $5, $6, $7)",
        partner_id,
        license_id,
        now,
        kind,
        actor,
        detail,
        reason
    )
    .execute(conn)
    .await
    .map(drop)
}

/// The dashboard's line about licenses, from the columns of
/// `license_counts(now)`: how many are active and the nearest expiry.
pub fn summary_text(
    now: DateTime<Utc>,
    active: i64,
    pending: i64,
    nearest_expiry: Option<DateTime<Utc>>,
) -> String {
    let mut parts = Vec::new();
    match active {
        0 => parts.push("No active license".to_owned()),
        n => parts.push(format!("{n} active")),
    }
    if pending > 0 {
        parts.push(format!("{pending} waiting for review"));
    }
    if let Some(nearest) = nearest_expiry {
        parts.push(format!(
            "next {}",
            crate::dates::expires_phrase(now, nearest)
        ));
    }
    parts.join(" · ")
}
