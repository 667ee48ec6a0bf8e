//! A fingerprint of everything the portal keeps, to show that a refused
//! request changed nothing.

use sqlx::PgPool;

/// Tables that change on any request by design: a session records when it
/// was last seen and hands over its flash message.
const VOLATILE: &[&str] = &["sessions", "_sqlx_migrations"];

/// One line per table: its name and a hash of all its rows.
pub async fn fingerprint(pool: &PgPool) -> Vec<String> {
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables
          where table_schema = 'public' and table_type = 'BASE TABLE'
          order by table_name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut lines = Vec::new();
    for table in tables.iter().filter(|t| !VOLATILE.contains(&t.as_str())) {
        let sql = format!(
            "select count(*)::text || ' ' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '')
               from \"{table}\" t"
        );
        let hash: String = sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap();
        lines.push(format!("{table}: {hash}"));
    }
    lines
}

/// The tables whose rows differ between two fingerprints.
pub fn changed(before: &[String], after: &[String]) -> Vec<String> {
    after
        .iter()
        .filter(|line| !before.contains(line))
        .map(|line| line.split(':').next().unwrap_or_default().to_owned())
        .collect()
}
