//! The partner badge in GitLab's CI/CD Catalog (§4, §9). A namespace's
//! wish (`badged` while verified, `unbadged` once it lost the badge) is
//! kept by a database trigger whatever changes its state, and, where the
//! portal publishes (PORTAL_GITLAB_ADMIN_TOKEN set, the namespace on the
//! host of PORTAL_GITLAB_URL), becomes a row of `gitlab_calls`. This module
//! makes that call, records what the catalog was told, compares daily with
//! what the catalog shows, and says all of it in words for the pages.

use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

use crate::{
    calls::GITLAB_CALLS,
    config::{Config, GitLabConfig},
    dates::date_time,
    error::AppResult,
    gitlab::{GitLab, catalog::Level},
    outbox::{self, Claimed, Outcome},
    state::AppState,
};

/// A badge call: the root namespace and the wish when the call is made.
#[derive(Debug, Clone)]
pub struct CatalogCall {
    pub namespace_id: i64,
    pub path: String,
    pub badged: bool,
}

impl CatalogCall {
    fn level(&self) -> Level {
        if self.badged {
            Level::PartnerMaintained
        } else {
            Level::Unverified
        }
    }
}

/// `badged` / `unbadged`, as stored.
fn wish_name(badged: bool) -> &'static str {
    if badged { "badged" } else { "unbadged" }
}

/// The level GitLab names for a wish.
pub fn level_of(wish: &str) -> &'static str {
    if wish == "badged" {
        Level::PartnerMaintained.as_graphql()
    } else {
        Level::Unverified.as_graphql()
    }
}

/// The catalog calls among `ids`, each with the namespace's wish now: a
/// second change before the call went out is the one sent.
pub async fn load(pool: &PgPool, ids: &[i64]) -> Result<Vec<(i64, CatalogCall)>, sqlx::Error> {
    let rows = sqlx::query!(
        "select c.id, n.id as namespace_id, n.path, n.catalog_wish
           from gitlab_calls c
           join namespaces n on n.partner_id = c.partner_id and n.id = c.namespace_id
          where c.id = any($1) and c.kind = 'catalog'",
        ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.id,
                CatalogCall {
                    namespace_id: r.namespace_id,
                    path: r.path,
                    badged: r.catalog_wish.as_deref() == Some("badged"),
                },
            )
        })
        .collect())
}

pub async fn send(gitlab: &GitLab, claimed: &Claimed<CatalogCall>) -> Outcome {
    let Some(token) = gitlab.config.admin_token.as_ref() else {
        return Outcome::Dead("PORTAL_GITLAB_ADMIN_TOKEN is not set".into());
    };
    let call = &claimed.item;
    // Setting a level twice does no harm: a call whose answer was lost is
    // simply made again.
    match gitlab
        .set_catalog_level(token, &call.path, call.level())
        .await
    {
        Ok(()) => Outcome::Sent(Some(serde_json::json!({ "badged": call.badged }))),
        Err(error) => error.into(),
    }
}

/// Records what the catalog was told (or why not); if the wish changed
/// while the call was under way, the new wish gets its own call.
pub async fn settle(
    tx: &mut PgConnection,
    claimed: &Claimed<CatalogCall>,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let call = &claimed.item;
    match outcome {
        Outcome::Sent(_) => {
            sqlx::query!(
                "update namespaces set catalog_level = $2, catalog_published_at = $3, catalog_error = null
                  where id = $1",
                call.namespace_id,
                wish_name(call.badged),
                now
            )
            .execute(&mut *tx)
            .await?;
        }
        Outcome::Dead(reason) => {
            sqlx::query!(
                "update namespaces set catalog_error = $2 where id = $1",
                call.namespace_id,
                reason
            )
            .execute(&mut *tx)
            .await?;
        }
        Outcome::Retry { .. } | Outcome::Wait { .. } => return Ok(()),
    }
    let wish = sqlx::query_scalar!(
        "select catalog_wish from namespaces where id = $1",
        call.namespace_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if wish.as_deref() != Some(wish_name(call.badged)) {
        enqueue(tx, now, call.namespace_id).await?;
    }
    Ok(())
}

/// Queues a call telling the catalog the namespace's wish (unless one is
/// waiting already).
pub async fn enqueue(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    namespace_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into gitlab_calls (partner_id, kind, namespace_id, next_attempt_at, created_at)
         select partner_id, 'catalog', id, $2, $2 from namespaces where id = $1
         on conflict (namespace_id) where kind = 'catalog' and status = 'pending' do nothing",
        namespace_id,
        now
    )
    .execute(&mut *conn)
    .await?;
    outbox::notify(conn, &GITLAB_CALLS).await
}

/// What a namespace's page says about the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogState {
    /// On another GitLab than PORTAL_GITLAB_URL's.
    AnotherInstance,
    NoToken,
    /// Never badged: nothing to tell the catalog.
    NothingToPublish,
    Waiting,
    Failed(String),
    Published {
        badged: bool,
        at: DateTime<Utc>,
    },
}

/// The catalog columns of a namespace, as read with it.
#[derive(Debug, Clone, Default)]
pub struct CatalogFacts {
    pub host: String,
    pub wish: Option<String>,
    pub level: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub waiting: bool,
}

impl CatalogState {
    pub fn of(config: &GitLabConfig, facts: &CatalogFacts) -> Self {
        if facts.host != config.host() {
            return Self::AnotherInstance;
        }
        if config.admin_token.is_none() {
            return Self::NoToken;
        }
        let Some(wish) = facts.wish.as_deref() else {
            return Self::NothingToPublish;
        };
        if facts.waiting {
            return Self::Waiting;
        }
        if let Some(error) = &facts.error {
            return Self::Failed(error.clone());
        }
        match (facts.level.as_deref(), facts.published_at) {
            (Some(level), Some(at)) if level == wish => Self::Published {
                badged: level == "badged",
                at,
            },
            _ => Self::Waiting,
        }
    }

    /// A style and the words.
    pub fn words(&self) -> (&'static str, String) {
        match self {
            Self::AnotherInstance => ("muted", "On another instance: not published".into()),
            Self::NoToken => ("muted", "Not published (no catalog token)".into()),
            Self::NothingToPublish => ("muted", "Not published".into()),
            Self::Waiting => ("waiting", "Waiting to be published".into()),
            Self::Failed(why) => ("failed", format!("Publishing failed: {why}")),
            Self::Published { badged: true, at } => {
                ("posted", format!("Badge published on {}", date_time(*at)))
            }
            Self::Published { badged: false, at } => (
                "posted",
                format!("Badge removed from the catalog on {}", date_time(*at)),
            ),
        }
    }
}

/// How many namespaces one pass of the comparison reads at most: spread
/// over the day, well inside GitLab's rate limits.
const CHECKS_PER_PASS: i64 = 20;
/// Each namespace is compared with the catalog once a day.
const CHECK_EVERY: Duration = Duration::days(1);

/// The scheduler's daily comparison: for namespaces not read in a day, what
/// the catalog shows for one of their listed components. Where nothing can
/// be read (no component listed, or none is a catalog resource yet), the
/// wish is told again instead. Returns how many were looked at.
pub async fn compare(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let config = &state.config.gitlab;
    let Some(token) = config.admin_token.as_ref() else {
        return Ok(0);
    };
    // Claimed by stamping them, so another instance takes others; no
    // transaction stays open while GitLab is asked.
    let due = sqlx::query!(
        r#"update namespaces n set catalog_checked_at = $1
             from (select id from namespaces
                    where host = $2 and catalog_wish is not null
                      and (catalog_checked_at is null or catalog_checked_at <= $3)
                    order by catalog_checked_at nulls first, id
                    limit $4
                    for update skip locked) due
            where n.id = due.id
        returning n.id, n.catalog_wish as "wish!",
                  (select c.path from components c
                    where c.partner_id = n.partner_id and c.namespace_id = n.id
                    order by c.id limit 1) as component"#,
        now,
        config.host(),
        now - CHECK_EVERY,
        CHECKS_PER_PASS
    )
    .fetch_all(&state.pool)
    .await?;
    for ns in &due {
        let read = match &ns.component {
            Some(path) => Some(state.gitlab.catalog_level_of(token, path).await),
            None => None,
        };
        let (observed, note, tell_again) = match read {
            Some(Ok(Some(level))) => (Some(level), None, false),
            Some(Ok(None)) => (
                None,
                Some(format!(
                    "{} is not a catalog resource GitLab shows; the wish was told again.",
                    ns.component.as_deref().unwrap_or_default()
                )),
                true,
            ),
            Some(Err(e)) => (
                None,
                Some(format!("The catalog could not be read: {e}")),
                false,
            ),
            None => (
                None,
                Some(
                    "No component is listed to read the catalog by; the wish was told again."
                        .into(),
                ),
                true,
            ),
        };
        let mut tx = crate::db::begin(&state.pool).await?;
        sqlx::query!(
            "update namespaces set catalog_observed = $2, catalog_observed_note = $3 where id = $1",
            ns.id,
            observed,
            note
        )
        .execute(&mut *tx)
        .await?;
        if tell_again {
            enqueue(&mut tx, now, ns.id).await?;
        }
        tx.commit().await?;
    }
    Ok(due.len())
}

/// Whether the catalog shows something other than the portal's wish.
pub fn disagrees(wish: &str, observed: Option<&str>) -> bool {
    observed.is_some_and(|o| o != level_of(wish))
}

/// `PORTAL_GITLAB_ADMIN_TOKEN` set: connections tell the database trigger
/// which host the catalog is on.
pub fn catalog_host(config: &Config) -> Option<String> {
    config
        .gitlab
        .admin_token
        .as_ref()
        .map(|_| config.gitlab.host())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn config(token: bool) -> GitLabConfig {
        GitLabConfig {
            url: url::Url::parse("https://gitlab.com").unwrap(),
            api_token: None,
            admin_token: token.then(|| secrecy::SecretString::from("t")),
            oauth: None,
        }
    }

    fn facts() -> CatalogFacts {
        CatalogFacts {
            host: "gitlab.com".into(),
            wish: Some("badged".into()),
            ..CatalogFacts::default()
        }
    }

    #[test]
    fn a_namespace_elsewhere_or_without_a_token_is_not_published() {
        let elsewhere = CatalogFacts {
            host: "gitlab.example.com".into(),
            ..facts()
        };
        assert_eq!(
            CatalogState::of(&config(true), &elsewhere),
            CatalogState::AnotherInstance
        );
        assert_eq!(
            CatalogState::of(&config(false), &facts()),
            CatalogState::NoToken
        );
        let never = CatalogFacts {
            wish: None,
            ..facts()
        };
        assert_eq!(
            CatalogState::of(&config(true), &never),
            CatalogState::NothingToPublish
        );
    }

    #[test]
    fn published_only_when_the_catalog_was_told_the_current_wish() {
        let at = Utc.with_ymd_and_hms(2027, 3, 1, 9, 30, 0).unwrap();
        let told = CatalogFacts {
            level: Some("badged".into()),
            published_at: Some(at),
            ..facts()
        };
        assert_eq!(
            CatalogState::of(&config(true), &told),
            CatalogState::Published { badged: true, at }
        );
        assert_eq!(
            CatalogState::of(&config(true), &told).words().1,
            "Badge published on 1 March 2027, 09:30 UTC"
        );
        let changed = CatalogFacts {
            wish: Some("unbadged".into()),
            ..told.clone()
        };
        assert_eq!(
            CatalogState::of(&config(true), &changed),
            CatalogState::Waiting
        );
        let waiting = CatalogFacts {
            waiting: true,
            error: Some("old".into()),
            ..told.clone()
        };
        assert_eq!(
            CatalogState::of(&config(true), &waiting),
            CatalogState::Waiting
        );
        let failed = CatalogFacts {
            error: Some("GitLab refused: Must be a root namespace".into()),
            ..told
        };
        assert_eq!(
            CatalogState::of(&config(true), &failed).words().1,
            "Publishing failed: GitLab refused: Must be a root namespace"
        );
    }

    #[test]
    fn the_catalog_disagrees_only_when_it_shows_another_level() {
        assert!(!disagrees("badged", Some("GITLAB_PARTNER_MAINTAINED")));
        assert!(disagrees("badged", Some("UNVERIFIED")));
        assert!(disagrees("unbadged", Some("GITLAB_PARTNER_MAINTAINED")));
        assert!(!disagrees("unbadged", Some("UNVERIFIED")));
        assert!(!disagrees("badged", None));
    }
}
