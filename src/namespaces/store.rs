//! Queries of the namespaces area on the partner side. Each takes the
//! partner explicitly as well: row-level security confines a tenant
//! transaction anyway, and the filter keeps the indexes in use.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{Component, NamespaceState, NamespaceUrl, catalog::CatalogFacts};

#[derive(Debug, Clone)]
pub struct Namespace {
    pub id: i64,
    pub partner_id: i64,
    pub url: String,
    pub path: String,
    pub state: NamespaceState,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub verified_at: Option<DateTime<Utc>>,
    pub components: i64,
    pub catalog: CatalogFacts,
    /// Ownership proven through GitLab: by whom (username) and when.
    pub proven: Option<(String, DateTime<Utc>)>,
    /// Why a registration was not proven through GitLab.
    pub proof_problem: Option<String>,
}

impl Namespace {
    /// "ownership proven by @ada on 3 Dec 2026", when it was.
    pub fn proof_line(&self) -> Option<String> {
        self.proven
            .as_ref()
            .map(|(who, at)| format!("ownership proven by @{who} on {}", at.format("%-d %b %Y")))
    }

    /// The stored URL as the domain type (for parsing components under it).
    pub fn parsed_url(&self) -> Option<NamespaceUrl> {
        NamespaceUrl::from_stored(&self.url).ok()
    }
}

/// What became of a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    Registered(i64),
    /// This partner registered it already (and it was not rejected).
    AlreadyOurs(NamespaceState),
    /// Another partner holds it; who is never said.
    TakenByAnother,
}

/// Registers `url` for `partner_id` as pending. Two partners registering the
/// same namespace at once: the unique index lets one insert, the other waits
/// for its commit and then inserts nothing.
pub async fn register(
    conn: &mut PgConnection,
    partner_id: i64,
    url: &NamespaceUrl,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Registration, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "insert into namespaces (partner_id, url, host, path, registered_by, created_at)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (url) where state <> 'rejected' do nothing
         returning id",
        partner_id,
        url.as_str(),
        url.host(),
        url.path(),
        user_id,
        now
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = id {
        return Ok(Registration::Registered(id));
    }
    let ours = sqlx::query_scalar!(
        "select state from namespaces where partner_id = $1 and url = $2 and state <> 'rejected'",
        partner_id,
        url.as_str()
    )
    .fetch_optional(conn)
    .await?;
    Ok(match ours.and_then(|s| s.parse().ok()) {
        Some(state) => Registration::AlreadyOurs(state),
        None => Registration::TakenByAnother,
    })
}

pub async fn count(conn: &mut PgConnection, partner_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from namespaces where partner_id = $1"#,
        partner_id
    )
    .fetch_one(conn)
    .await
}

/// One page of the partner's namespaces, newest first.
pub async fn page(
    conn: &mut PgConnection,
    partner_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<Namespace>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select n.id, n.partner_id, n.url, n.path, n.state, n.reason, n.created_at, n.decided_at, n.verified_at,
                  (select count(*) from components c where c.partner_id = n.partner_id and c.namespace_id = n.id) as "components!",
                  n.host, n.catalog_wish, n.catalog_level, n.catalog_published_at, n.catalog_error,
                  exists (select 1 from gitlab_calls g
                           where g.kind = 'catalog' and g.namespace_id = n.id and g.status = 'pending') as "catalog_waiting!",
                  n.proven_by_username, n.proven_at, n.proof_problem
             from namespaces n
            where n.partner_id = $1
            order by n.created_at desc, n.id desc
            limit $2 offset $3"#,
        partner_id,
        limit,
        offset
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Namespace {
            id: r.id,
            partner_id: r.partner_id,
            url: r.url,
            path: r.path,
            state: r.state.parse().unwrap_or(NamespaceState::Pending),
            reason: r.reason,
            created_at: r.created_at,
            decided_at: r.decided_at,
            verified_at: r.verified_at,
            components: r.components,
            catalog: CatalogFacts {
                host: r.host,
                wish: r.catalog_wish,
                level: r.catalog_level,
                published_at: r.catalog_published_at,
                error: r.catalog_error,
                waiting: r.catalog_waiting,
            },
            proven: r.proven_by_username.zip(r.proven_at),
            proof_problem: r.proof_problem,
        })
        .collect())
}

pub async fn get(
    conn: &mut PgConnection,
    partner_id: i64,
    id: i64,
) -> Result<Option<Namespace>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select n.id, n.partner_id, n.url, n.path, n.state, n.reason, n.created_at, n.decided_at, n.verified_at,
                  (select count(*) from components c where c.partner_id = n.partner_id and c.namespace_id = n.id) as "components!",
                  n.host, n.catalog_wish, n.catalog_level, n.catalog_published_at, n.catalog_error,
                  exists (select 1 from gitlab_calls g
                           where g.kind = 'catalog' and g.namespace_id = n.id and g.status = 'pending') as "catalog_waiting!",
                  n.proven_by_username, n.proven_at, n.proof_problem
             from namespaces n
            where n.partner_id = $1 and n.id = $2"#,
        partner_id,
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Namespace {
        id: r.id,
        partner_id: r.partner_id,
        url: r.url,
        path: r.path,
        state: r.state.parse().unwrap_or(NamespaceState::Pending),
        reason: r.reason,
        created_at: r.created_at,
        decided_at: r.decided_at,
        verified_at: r.verified_at,
        components: r.components,
        catalog: CatalogFacts {
            host: r.host,
            wish: r.catalog_wish,
            level: r.catalog_level,
            published_at: r.catalog_published_at,
            error: r.catalog_error,
            waiting: r.catalog_waiting,
        },
        proven: r.proven_by_username.zip(r.proven_at),
        proof_problem: r.proof_problem,
    }))
}

/// Takes back a registration still waiting for staff. False if it is not
/// pending (any more).
pub async fn withdraw(
    conn: &mut PgConnection,
    partner_id: i64,
    id: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "delete from namespaces where partner_id = $1 and id = $2 and state = 'pending'",
        partner_id,
        id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone)]
pub struct ComponentRow {
    pub id: i64,
    pub path: String,
    pub name: String,
    pub description: Option<String>,
    pub version: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// One page of a namespace's components, by path.
pub async fn components(
    conn: &mut PgConnection,
    partner_id: i64,
    namespace_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<ComponentRow>, sqlx::Error> {
    sqlx::query_as!(
        ComponentRow,
        "select id, path, name, description, version, updated_at from components
          where partner_id = $1 and namespace_id = $2
          order by path limit $3 offset $4",
        partner_id,
        namespace_id,
        limit,
        offset
    )
    .fetch_all(conn)
    .await
}

pub async fn component(
    conn: &mut PgConnection,
    partner_id: i64,
    namespace_id: i64,
    id: i64,
) -> Result<Option<ComponentRow>, sqlx::Error> {
    sqlx::query_as!(
        ComponentRow,
        "select id, path, name, description, version, updated_at from components
          where partner_id = $1 and namespace_id = $2 and id = $3",
        partner_id,
        namespace_id,
        id
    )
    .fetch_optional(conn)
    .await
}

/// Lists a component; `None` when the namespace already lists that path.
pub async fn add_component(
    conn: &mut PgConnection,
    partner_id: i64,
    namespace_id: i64,
    component: &Component,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into components (partner_id, namespace_id, path, name, description, version, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (namespace_id, path) do nothing
         returning id",
        partner_id,
        namespace_id,
        component.path(),
        component.name(),
        component.description(),
        component.version(),
        now
    )
    .fetch_optional(conn)
    .await
}

/// Whether another component of the namespace has this path.
pub async fn path_taken(
    conn: &mut PgConnection,
    partner_id: i64,
    namespace_id: i64,
    path: &str,
    except_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from components
                          where partner_id = $1 and namespace_id = $2 and path = $3 and id <> $4) as "taken!""#,
        partner_id,
        namespace_id,
        path,
        except_id
    )
    .fetch_one(conn)
    .await
}

pub async fn update_component(
    conn: &mut PgConnection,
    partner_id: i64,
    namespace_id: i64,
    id: i64,
    component: &Component,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update components set path = $4, name = $5, description = $6, version = $7
          where partner_id = $1 and namespace_id = $2 and id = $3",
        partner_id,
        namespace_id,
        id,
        component.path(),
        component.name(),
        component.description(),
        component.version()
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_component(
    conn: &mut PgConnection,
    partner_id: i64,
    namespace_id: i64,
    id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "delete from components where partner_id = $1 and namespace_id = $2 and id = $3 returning path",
        partner_id,
        namespace_id,
        id
    )
    .fetch_optional(conn)
    .await
}
