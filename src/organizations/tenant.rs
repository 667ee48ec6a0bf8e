//! The tenant of a request comes from the signed-in session, never from the
//! request itself. [`Tenant`] hands a partner handler its organisation and a
//! transaction running as `portal_tenant` with `portal.partner_id` set, so
//! row-level security keeps every query inside the organisation even if the
//! query forgets its filter.

use axum::{
    extract::FromRequestParts,
    http::request::Parts,
    response::{IntoResponse, Redirect, Response},
};
use sqlx::{PgPool, Postgres, Transaction};

use super::MemberRole;
use crate::{
    accounts::{
        guard::{PartnerUser, Refusal, SignedIn},
        remembered::{self, Outcome},
        session,
    },
    audit::Actor,
    error::{AppError, AppResult},
    state::AppState,
};

/// Begins a transaction confined to `partner_id`, in one round trip: the
/// role and the setting are local to the transaction, so they end with it
/// and a pooled connection never carries them to another request.
pub async fn begin_tenant(
    pool: &PgPool,
    partner_id: i64,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    begin_confirming(pool, partner_id, None).await
}

/// [`begin_tenant`], first confirming a remembered session in the same
/// statement (see `accounts::remembered`).
///
/// The one statement comes before `begin`, in the same message: PostgreSQL
/// runs the message's statements in one implicit transaction, and `begin`
/// makes that transaction the explicit one, so the local role and setting
/// last exactly as long as the transaction sqlx gets. If the confirmation
/// fails, the statement fails before `begin` and the connection is left
/// outside any transaction (after `begin`, it would go back to the pool
/// inside an aborted one).
///
/// The transaction's statements use generic plans from their first run.
/// Row-level security confines each one to a single organisation, read when
/// the plan runs, so one plan fits every partner; PostgreSQL's default
/// plans a prepared statement five times on each connection before it
/// settles, which made the first seconds under load slow. Staff lists,
/// planned for each request's filters, are outside these transactions and
/// keep the default.
async fn begin_confirming(
    pool: &PgPool,
    partner_id: i64,
    confirm: Option<String>,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    // An `i64` formats as digits only, and the confirmation is made of
    // numbers and timestamps: nothing here comes from the request.
    let confirm = confirm.map(|c| format!("{c}, ")).unwrap_or_default();
    let begin = format!(
        "select {confirm}set_config('role', 'portal_tenant', true), \
                set_config('portal.partner_id', '{partner_id}', true), \
                set_config('plan_cache_mode', 'force_generic_plan', true); \
         begin"
    );
    crate::db::begin_with(pool, Some(begin)).await
}

/// Ends a transaction that only read. Dropping it queues its `ROLLBACK`
/// (there is nothing to keep), which sqlx sends together with the check it
/// makes when the connection goes back to the pool: one round trip fewer
/// per page than a `COMMIT` of its own. Not for a transaction that wrote.
pub fn finish_reading(tx: Transaction<'static, Postgres>) {
    drop(tx);
}

pub struct Tenant {
    pub signed_in: SignedIn,
    pub partner_id: i64,
    pub role: MemberRole,
    pub tx: Transaction<'static, Postgres>,
}

impl Tenant {
    pub fn user_id(&self) -> i64 {
        self.signed_in.user().id
    }

    pub fn actor(&self) -> Actor {
        self.signed_in.actor()
    }

    /// Refuses people who are not admins of their organisation.
    pub fn require_admin(&self) -> AppResult<()> {
        if self.role.is_admin() {
            Ok(())
        } else {
            Err(AppError::NotPermitted(
                "Only your organisation's admins can do this.",
            ))
        }
    }

    pub fn require_owner(&self) -> AppResult<()> {
        if self.role == MemberRole::Owner {
            Ok(())
        } else {
            Err(AppError::NotPermitted(
                "Only your organisation's owner can do this.",
            ))
        }
    }

    /// Commits, then leaves `message` for the next page.
    pub async fn commit_with_flash(self, state: &AppState, message: &str) -> AppResult<()> {
        let session_id = self.signed_in.session.id;
        self.tx.commit().await?;
        let mut conn = state.pool.acquire().await?;
        session::set_flash(&mut conn, session_id, message).await?;
        Ok(())
    }
}

/// Why a partner route cannot go on.
pub enum TenantRefusal {
    Auth(Refusal),
    /// Signed in, but not (yet) in any organisation.
    NoOrganization(Box<SignedIn>),
    Failed(AppError),
}

impl IntoResponse for TenantRefusal {
    fn into_response(self) -> Response {
        match self {
            TenantRefusal::Auth(r) => r.into_response(),
            TenantRefusal::NoOrganization(_) => Redirect::to("/dashboard").into_response(),
            TenantRefusal::Failed(e) => e.into_response(),
        }
    }
}

/// The organisation a user belongs to, read on the privileged path.
pub async fn membership(
    pool: &PgPool,
    user_id: i64,
) -> Result<Option<(i64, MemberRole)>, sqlx::Error> {
    let row = sqlx::query!(
        "select partner_id, role from partner_members where user_id = $1",
        user_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.partner_id, r.role.parse().unwrap_or(MemberRole::Member))))
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = TenantRefusal;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(pending) = session::unconfirmed(parts) else {
            return Self::begin(parts, state, None).await;
        };
        let confirm = session::confirm_call(state, &pending);
        match Self::begin(parts, state, Some(confirm)).await {
            Ok(tenant) => {
                pending.settle(Outcome::Confirmed);
                Ok(tenant)
            }
            Err(TenantRefusal::Failed(AppError::Database(e))) if remembered::is_changed(&e) => {
                // Signed out, moved, or a message waiting: read the session
                // as if it had never been remembered, and start again.
                session::read_again(parts, state, &pending)
                    .await
                    .map_err(|e| TenantRefusal::Failed(e.into()))?;
                Self::begin(parts, state, None).await
            }
            Err(refusal) => Err(refusal),
        }
    }
}

impl Tenant {
    async fn begin(
        parts: &mut Parts,
        state: &AppState,
        confirm: Option<String>,
    ) -> Result<Self, TenantRefusal> {
        let PartnerUser(signed_in) = PartnerUser::from_request_parts(parts, state)
            .await
            .map_err(TenantRefusal::Auth)?;
        let Some((partner_id, role)) = signed_in
            .user()
            .membership
            .as_ref()
            .map(|(id, role)| (*id, role.parse().unwrap_or(MemberRole::Member)))
        else {
            return Err(TenantRefusal::NoOrganization(Box::new(signed_in)));
        };
        let tx = begin_confirming(&state.pool, partner_id, confirm)
            .await
            .map_err(|e| TenantRefusal::Failed(e.into()))?;
        Ok(Tenant {
            signed_in,
            partner_id,
            role,
            tx,
        })
    }
}
