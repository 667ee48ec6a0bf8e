//! Connecting to PostgreSQL: the database is created when missing and the
//! embedded migrations are applied, so a fresh machine needs no manual step.

use std::{
    str::FromStr,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use secrecy::ExposeSecret;
use sqlx::{
    ConnectOptions, Connection, PgConnection, PgPool, Postgres, Transaction,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::config::Config;

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Why the database could not be made ready, phrased for the person starting
/// the portal.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL: {0}")]
    BadUrl(String),
    #[error("DATABASE_URL: cannot reach PostgreSQL at {target} ({cause})")]
    Unreachable { target: String, cause: String },
    #[error("DATABASE_URL: could not create database {name:?} ({cause})")]
    CannotCreate { name: String, cause: String },
    #[error("database migration failed: {0}")]
    Migration(String),
}

/// Connection options from the configured URL.
pub fn connect_options(config: &Config) -> Result<PgConnectOptions, DbError> {
    PgConnectOptions::from_str(config.database_url.expose_secret())
        .map_err(|e| DbError::BadUrl(e.to_string()))
        .map(|o| {
            let o = o
                .application_name("partner-portal")
                .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(250));
            // Where the portal publishes badges to a catalog, the trigger
            // on namespaces turns a new wish into a call (migration
            // 20261203220001).
            match crate::namespaces::catalog::catalog_host(config) {
                Some(host) => o.options([("portal.catalog_host", host)]),
                None => o,
            }
        })
}

/// Creates the database if it does not exist, runs migrations, and returns a pool.
pub async fn prepare(config: &Config) -> Result<PgPool, DbError> {
    prepare_with(connect_options(config)?, config).await
}

/// [`prepare`] for bulk work whose long statements are expected
/// (`demo-data`): no slow-statement warnings.
pub async fn prepare_quiet(config: &Config) -> Result<PgPool, DbError> {
    let options = connect_options(config)?
        .log_slow_statements(tracing::log::LevelFilter::Off, Duration::from_secs(3600));
    prepare_with(options, config).await
}

async fn prepare_with(options: PgConnectOptions, config: &Config) -> Result<PgPool, DbError> {
    ensure_database_exists(&options).await?;
    let pool = pool_options(config.db_pool_size)
        .connect_with(options.clone())
        .await
        .map_err(|e| unreachable(&options, e))?;
    migrate(&pool).await?;
    Ok(pool)
}

tokio::task_local! {
    /// Set while a transaction begins: its opening statement is the test
    /// that the connection is alive, so the pool does not ping first.
    static OPENING_TRANSACTION: ();
}

/// The pool every part of the portal shares.
///
/// sqlx pings an idle connection before handing it out, one round trip
/// before the first statement. A transaction does without it: [`begin_with`]
/// sends its opening statement unpinged and, should the connection turn out
/// to be gone, begins once more on a pinged one. Everything else (single
/// statements, `/readyz`) is pinged as before, since nothing retries it.
///
/// `size` (`PORTAL_DB_POOL_SIZE`) counts every connection of the instance,
/// the two `LISTEN` ones included: what PostgreSQL's `max_connections`
/// must make room for, instance by instance.
pub fn pool_options(size: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(size)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .before_acquire(|conn, _meta| {
            Box::pin(async move {
                if OPENING_TRANSACTION.try_with(|_| ()).is_err() {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

/// Whether `e` says the connection itself is gone (closed, reset, or the
/// server ended the session), rather than anything about the statement.
fn is_connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) => true,
        // Class 08: connection exception; 57P01–57P03: the server is shutting
        // down or ended this session.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

/// Begins a transaction that a dropped request cannot leave half-begun.
///
/// sqlx rolls a transaction back when it is dropped, but only once `begin`
/// has returned. A future dropped while `BEGIN` is on the wire leaves the
/// connection inside a transaction sqlx does not know about, and the pool
/// hands it on: later statements of other requests would run inside it,
/// and one failing statement would leave the connection aborted for every
/// later user. Axum drops a request's future whenever its client goes away,
/// so the statement runs in a task that always finishes it; a transaction
/// nobody waits for any more is then dropped, which rolls it back before the
/// connection is pooled again.
pub async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    begin_with(pool, None).await
}

/// [`begin`] with a statement of its own that opens the transaction
/// (`select set_config(…, true); begin`), sent in the same round trip.
pub async fn begin_with(
    pool: &PgPool,
    statement: Option<String>,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let pool = pool.clone();
    let _waiting = Waiting::start();
    tokio::spawn(async move {
        // Unpinged (see `pool_options`): the opening statement finds out.
        match OPENING_TRANSACTION
            .scope((), open(&pool, statement.clone()))
            .await
        {
            Err(e) if is_connection_lost(&e) => {
                tracing::info!(error = %e, "a pooled connection was gone; beginning on another");
                open(&pool, statement).await
            }
            begun => begun,
        }
    })
    .await
    .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
}

/// Transactions waiting to begin right now, in this process: the wait for
/// a pooled connection and the opening round trip
/// (`portal_db_pool_waiting`). Statements outside a transaction are not
/// counted.
pub fn waiting() -> usize {
    WAITING.load(Ordering::Relaxed)
}

static WAITING: AtomicUsize = AtomicUsize::new(0);

struct Waiting;

impl Waiting {
    fn start() -> Self {
        WAITING.fetch_add(1, Ordering::Relaxed);
        Waiting
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Takes a connection from the pool and begins on it.
// The one place the pool's own `begin` is called (clippy.toml refuses it
// elsewhere).
#[allow(clippy::disallowed_methods)]
async fn open(
    pool: &PgPool,
    statement: Option<String>,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    match statement {
        Some(statement) => pool.begin_with(statement).await,
        None => pool.begin().await,
    }
}

/// Applies every embedded migration that has not run yet.
pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| DbError::Migration(e.to_string()))
}

async fn ensure_database_exists(options: &PgConnectOptions) -> Result<(), DbError> {
    match PgConnection::connect_with(options).await {
        Ok(conn) => {
            let _ = conn.close().await;
            Ok(())
        }
        Err(e) if is_missing_database(&e) => create_database(options).await,
        Err(e) => Err(unreachable(options, e)),
    }
}

async fn create_database(options: &PgConnectOptions) -> Result<(), DbError> {
    let name = options
        .get_database()
        .ok_or_else(|| DbError::BadUrl("names no database".into()))?
        .to_owned();
    let maintenance = options.clone().database("postgres");
    let mut conn = PgConnection::connect_with(&maintenance)
        .await
        .map_err(|e| unreachable(options, e))?;
    let statement = format!("create database {}", quote_ident(&name));
    match sqlx::raw_sql(&statement).execute(&mut conn).await {
        Ok(_) => {
            tracing::info!(database = %name, "created the database");
            Ok(())
        }
        // Another instance created it in the meantime.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => Ok(()),
        Err(e) => Err(DbError::CannotCreate {
            name,
            cause: e.to_string(),
        }),
    }
}

fn is_missing_database(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("3D000"))
}

fn unreachable(options: &PgConnectOptions, e: sqlx::Error) -> DbError {
    let cause = match &e {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::PoolTimedOut => "timed out".to_owned(),
        other => other.to_string(),
    };
    DbError::Unreachable {
        target: format!("{}:{}", options.get_host(), options.get_port()),
        cause,
    }
}

/// Quotes an SQL identifier (a database name from the URL).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
