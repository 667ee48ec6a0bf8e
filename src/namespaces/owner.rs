//! Which partner owns a project: the issues area routes tracker events with
//! this (PRODUCT.md §6).

use sqlx::PgConnection;

use super::NamespaceUrl;

/// The `(partner_id, namespace_id)` whose verified namespace on `host`
/// contains `project_path` (GitLab's `path_with_namespace`), if its partner
/// is approved and not suspended. `acme-corpx/tool` is not in `acme-corp`.
///
/// Call it on the privileged path (pool or staff transaction): a tenant
/// transaction only sees its own namespaces.
pub async fn owner_of_project(
    conn: &mut PgConnection,
    host: &str,
    project_path: &str,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let host = host.trim().to_ascii_lowercase();
    let project = project_path.trim().trim_matches('/').to_ascii_lowercase();
    let Some(root) = project.split('/').next().filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let row = sqlx::query!(
        r#"select n.id, n.partner_id, n.url
             from namespaces n
             join applications a on a.partner_id = n.partner_id
            where n.host = $1 and n.path = $2 and n.state = 'verified'
              and a.state = 'approved'"#,
        host,
        root
    )
    .fetch_optional(conn)
    .await?;
    Ok(row
        .filter(|r| NamespaceUrl::from_stored(&r.url).is_ok_and(|ns| ns.owns_project(&project)))
        .map(|r| (r.partner_id, r.id)))
}
