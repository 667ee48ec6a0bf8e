//! The tenancy foundation checked in PostgreSQL itself, without the
//! application's own filters: every table with a `partner_id` has row-level
//! security enabled and forced, the tenant role can bypass nothing, and one
//! organisation's transaction reads and writes nothing of another's. The
//! list of tables comes from the catalog, so a new tenant table is covered
//! the day it is added.

use sqlx::{Connection, PgPool, Postgres, Row, Transaction};

use crate::{fixtures, helpers::spawn_app};

/// Every base table in `public` with a `partner_id` column.
async fn tenant_tables(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "select c.table_name::text
           from information_schema.columns c
           join information_schema.tables t
             on t.table_schema = c.table_schema and t.table_name = c.table_name
          where c.table_schema = 'public' and c.column_name = 'partner_id'
            and t.table_type = 'BASE TABLE'
          order by 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn count(tx: &mut Transaction<'_, Postgres>, sql: &str, partner_id: Option<i64>) -> i64 {
    let query = sqlx::query_scalar::<_, i64>(sql);
    let query = match partner_id {
        Some(id) => query.bind(id),
        None => query,
    };
    query.fetch_one(&mut **tx).await.unwrap()
}

/// A transaction as the tenant role, for `partner_id` if given.
async fn as_tenant(pool: &PgPool, partner_id: Option<i64>) -> Transaction<'static, Postgres> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("set local role portal_tenant")
        .execute(&mut *tx)
        .await
        .unwrap();
    if let Some(id) = partner_id {
        sqlx::query("select set_config('portal.partner_id', $1, true)")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx
}

#[tokio::test]
async fn every_tenant_table_has_row_level_security_enabled_and_forced() {
    let app = spawn_app().await;
    let tables = tenant_tables(&app.pool).await;
    for known in [
        "partner_members",
        "partner_invitations",
        "applications",
        "audit_log",
    ] {
        assert!(
            tables.iter().any(|t| t == known),
            "the catalog query finds {known}"
        );
    }

    for table in tables.iter().chain(&["partners".to_owned()]) {
        let (enabled, forced): (bool, bool) = sqlx::query_as(
            "select relrowsecurity, relforcerowsecurity from pg_class
              where oid = format('public.%I', $1::text)::regclass",
        )
        .bind(table)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert!(enabled, "{table}: row-level security is not enabled");
        assert!(forced, "{table}: row-level security is not forced");
        let policies: i64 = sqlx::query_scalar(
            "select count(*) from pg_policies
              where schemaname = 'public' and tablename = $1 and 'portal_tenant' = any(roles)",
        )
        .bind(table)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert!(policies >= 1, "{table}: no policy for portal_tenant");
    }

    let (superuser, bypass): (bool, bool) = sqlx::query_as(
        "select rolsuper, rolbypassrls from pg_roles where rolname = 'portal_tenant'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        !superuser && !bypass,
        "portal_tenant must not be superuser or BYPASSRLS"
    );
    let owned: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_roles r on r.oid = c.relowner
          where r.rolname = 'portal_tenant'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(owned.is_empty(), "portal_tenant owns {owned:?}");
}

#[tokio::test]
async fn row_level_security_holds_on_its_own() {
    let app = spawn_app().await;
    let (acme_owner, a) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    acme_owner.get("/team").await;
    acme_owner
        .post(
            "/team/invitations",
            &[("email", "bob@acme.test"), ("role", "member")],
        )
        .await
        .assert_redirect("/team");
    let (_, b) = fixtures::organisation(&app, "Globex", "gina@globex.test").await;
    app.partner_user("Zed", "zed@nowhere.test").await;
    let zed: i64 = sqlx::query_scalar("select id from users where email = 'zed@nowhere.test'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let tables = tenant_tables(&app.pool).await;

    // Organisation A has rows in the tables its pages filled.
    let mut privileged = app.pool.begin().await.unwrap();
    for table in [
        "partner_members",
        "partner_invitations",
        "applications",
        "agreement_acceptances",
        "audit_log",
    ] {
        let sql = format!("select count(*) from {table} where partner_id = $1");
        assert!(
            count(&mut privileged, &sql, Some(a)).await > 0,
            "{table} has A's rows"
        );
    }
    privileged.rollback().await.unwrap();

    // As B, a raw query asking for A's rows gets none, in every table.
    let mut tx = as_tenant(&app.pool, Some(b)).await;
    for table in &tables {
        let sql = format!("select count(*) from \"{table}\" where partner_id = $1");
        assert_eq!(
            count(&mut tx, &sql, Some(a)).await,
            0,
            "{table}: B reads A's rows"
        );
        let sql = format!("select count(*) from \"{table}\" where partner_id is distinct from $1");
        assert_eq!(
            count(&mut tx, &sql, Some(b)).await,
            0,
            "{table}: B reads others' rows"
        );
    }
    let sql = "select count(*) from partners where id = $1";
    assert_eq!(count(&mut tx, sql, Some(a)).await, 0, "partners: B reads A");
    let changed = sqlx::query("update partner_members set role = 'admin' where partner_id = $1")
        .bind(a)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 0, "B changes A's members");
    tx.rollback().await.unwrap();

    // Without a tenant, nothing at all.
    let mut tx = as_tenant(&app.pool, None).await;
    for table in tables.iter().chain(&["partners".to_owned()]) {
        let sql = format!("select count(*) from \"{table}\"");
        assert_eq!(
            count(&mut tx, &sql, None).await,
            0,
            "{table} without a tenant"
        );
    }
    tx.rollback().await.unwrap();

    // As B, writing a row into A fails.
    let mut tx = as_tenant(&app.pool, Some(b)).await;
    let error = sqlx::query(
        "insert into partner_members (partner_id, user_id, role, created_at) values ($1, $2, 'member', now())",
    )
    .bind(a)
    .bind(zed)
    .execute(&mut *tx)
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains("row-level security"), "{error}");
    tx.rollback().await.unwrap();
    let joined: i64 = sqlx::query_scalar("select count(*) from partner_members where user_id = $1")
        .bind(zed)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(joined, 0);
}

/// A pool of one connection, handed over unpinged at the first poll: every
/// statement of a test runs on the same server session.
async fn one_connection(url: &str) -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect(url)
        .await
        .unwrap()
}

/// A request dropped while its transaction begins (its client went away)
/// leaves the pooled connection as it found it: outside any transaction and
/// not running as the tenant role. Before the guard it came back inside a
/// transaction, still `portal_tenant`, and the outbox and the directory
/// failed on that connection from then on.
#[tokio::test]
async fn a_request_dropped_while_its_transaction_begins_leaves_the_connection_clean() {
    let app = spawn_app().await;
    let (_ada, acme) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    let pool = one_connection(&app.db.url).await;
    for round in 0..20 {
        // Polled once, so the statements go out, then dropped as axum drops
        // the future of a request whose client went away.
        let mut begin: std::pin::Pin<Box<dyn Future<Output = _>>> = if round % 2 == 0 {
            Box::pin(partner_portal::organizations::begin_tenant(&pool, acme))
        } else {
            Box::pin(partner_portal::db::begin(&pool))
        };
        let ready =
            std::future::poll_fn(|cx| std::task::Poll::Ready(begin.as_mut().poll(cx).is_ready()))
                .await;
        assert!(!ready, "a round trip cannot be over within the first poll");
        drop(begin);

        // Outside a transaction a simple query is a transaction of its own,
        // so the two clocks agree.
        let row = sqlx::raw_sql("select current_user::text, now() <> statement_timestamp()")
            .fetch_one(&pool)
            .await
            .unwrap();
        let (user, in_transaction): (String, bool) = (row.get(0), row.get(1));
        assert_eq!(
            user, "postgres",
            "round {round}: the tenant role stayed on the connection"
        );
        assert!(
            !in_transaction,
            "round {round}: a transaction stayed open on the connection"
        );
    }
}

/// A transaction begins on a pooled connection without pinging it first
/// (`db::pool_options`). When the database has ended every pooled
/// connection (a restart, a failover, an administrator), the opening
/// statement finds out, the transaction begins once more on a connection
/// that answers, and the person sees their page, not an error.
#[tokio::test]
async fn pages_are_served_after_the_database_ends_every_pooled_connection() {
    let app = spawn_app().await;
    let (agent, _) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    let mut admin = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
    for round in 0..3 {
        // Several idle connections, all of which the database then ends.
        let held: Vec<_> = futures_util::future::join_all((0..4).map(|_| app.pool.acquire())).await;
        drop(held);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // Remembered: the next partner page's first statement is its `begin`.
        assert_eq!(agent.get("/licenses").await.status, reqwest::StatusCode::OK);
        let ended: i64 = sqlx::query_scalar(
            "select count(*) filter (where pg_terminate_backend(pid, 5000))
               from pg_stat_activity
              where datname = current_database() and application_name = 'partner-portal'",
        )
        .fetch_one(&mut admin)
        .await
        .unwrap();
        assert!(ended >= 4, "round {round}: {ended} connections ended");

        for page in ["/licenses", "/dashboard", "/issues", "/readyz"] {
            let response = agent.get(page).await;
            assert_eq!(
                response.status,
                reqwest::StatusCode::OK,
                "round {round}, {page}: {}",
                response.snippet()
            );
        }
    }
}

/// A tenant transaction plans its statements once (generic plans: row-level
/// security confines each to one organisation), and the setting ends with
/// the transaction, so the staff lists, planned for each request's filters,
/// never run with it on a connection a partner page used before.
#[tokio::test]
async fn tenant_transactions_use_generic_plans_and_leave_the_setting_behind() {
    let app = spawn_app().await;
    let (_ada, acme) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    let pool = one_connection(&app.db.url).await;
    let mode = "select current_setting('plan_cache_mode')";

    let mut tx = partner_portal::organizations::begin_tenant(&pool, acme)
        .await
        .unwrap();
    let inside: String = sqlx::query_scalar(mode).fetch_one(&mut *tx).await.unwrap();
    assert_eq!(inside, "force_generic_plan");
    tx.commit().await.unwrap();

    let after: String = sqlx::query_scalar(mode).fetch_one(&pool).await.unwrap();
    assert_eq!(after, "auto", "the same connection, after the transaction");
}

/// Generic plans are made once per connection and reused by every tenant
/// transaction on it, whatever its organisation: the organisation is read
/// when the plan runs, never built into it, so two organisations taking
/// turns on one connection each see their own rows only.
#[tokio::test]
async fn organisations_taking_turns_on_one_connection_see_only_their_own_rows() {
    let app = spawn_app().await;
    let (_ada, acme) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    let (_bob, beta) = fixtures::organisation(&app, "Beta Labs", "bob@beta.test").await;
    let pool = one_connection(&app.db.url).await;
    // One prepared statement with a parameter, the shape every page uses.
    let names = "select company_name from partners where company_name <> $1";

    for round in 0..6 {
        for (partner_id, company) in [(acme, "Acme Corp"), (beta, "Beta Labs")] {
            let mut tx = partner_portal::organizations::begin_tenant(&pool, partner_id)
                .await
                .unwrap();
            let seen: Vec<String> = sqlx::query_scalar(names)
                .bind("")
                .fetch_all(&mut *tx)
                .await
                .unwrap();
            assert_eq!(seen, [company], "round {round}");
            tx.commit().await.unwrap();
        }
    }
}
