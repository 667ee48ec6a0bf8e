//! Counting every row the portal writes, table by table, so a refused
//! request can be shown to have written none: a row trigger on each table
//! (the test database only) counts into `fuzz_writes`.

use std::collections::BTreeMap;

use sqlx::PgPool;

/// Tables written on any request by design: a session records when it was
/// last seen and hands over its flash message.
const UNCOUNTED: &[&str] = &["sessions", "_sqlx_migrations", "fuzz_writes"];

pub async fn track(pool: &PgPool) {
    sqlx::query("create table fuzz_writes (tbl text primary key, n bigint not null)")
        .execute(pool)
        .await
        .unwrap();
    // Security definer: it runs as the test's superuser whatever role the
    // writing transaction has taken (the tenant role has no grant here).
    sqlx::query(
        "create function fuzz_count() returns trigger language plpgsql security definer as $$
         begin
           insert into fuzz_writes (tbl, n) values (tg_table_name, 1)
             on conflict (tbl) do update set n = fuzz_writes.n + 1;
           return null;
         end $$",
    )
    .execute(pool)
    .await
    .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables
          where table_schema = 'public' and table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for table in tables.iter().filter(|t| !UNCOUNTED.contains(&t.as_str())) {
        sqlx::query(&format!(
            "create trigger fuzz_count after insert or update or delete on \"{table}\"
               for each row execute function fuzz_count()"
        ))
        .execute(pool)
        .await
        .unwrap();
    }
}

/// Rows written so far, per table.
pub async fn counts(pool: &PgPool) -> BTreeMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>("select tbl, n from fuzz_writes")
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// The tables written between two counts.
pub fn written(before: &BTreeMap<String, i64>, after: &BTreeMap<String, i64>) -> Vec<String> {
    after
        .iter()
        .filter(|(table, n)| before.get(*table) != Some(n))
        .map(|(table, _)| table.clone())
        .collect()
}

/// The counting works: a write through the tenant role is counted.
pub async fn assert_counting(pool: &PgPool) {
    let before = counts(pool).await;
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("set local role portal_tenant")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("select set_config('portal.partner_id', '0', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("insert into throttle_events (key, occurred_at) values ('fuzz', now())")
        .execute(&mut *tx)
        .await
        .ok();
    tx.rollback().await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("insert into throttle_events (key, occurred_at) values ('fuzz', now())")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("delete from throttle_events where key = 'fuzz'")
        .execute(&mut *conn)
        .await
        .unwrap();
    assert_eq!(written(&before, &counts(pool).await), ["throttle_events"]);
}
