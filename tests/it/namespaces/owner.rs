//! `owner_of_project`: which partner's verified namespace owns a project.

use partner_portal::namespaces::owner_of_project;

use crate::{fixtures, helpers::spawn_app};

async fn namespace(app: &crate::helpers::TestApp, partner_id: i64, path: &str, state: &str) -> i64 {
    sqlx::query_scalar(
        "insert into namespaces (partner_id, url, host, path, state, created_at, verified_at)
         values ($1, 'https://gitlab.com/' || $2, 'gitlab.com', $2, $3, now(), now()) returning id",
    )
    .bind(partner_id)
    .bind(path)
    .bind(state)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn projects_belong_to_the_partner_whose_verified_namespace_contains_them() {
    let app = spawn_app().await;
    let (_, acme) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let (_, beta) = fixtures::approved_partner(&app, "Beta", "bo@beta.test").await;
    let acme_ns = namespace(&app, acme, "acme-corp", "verified").await;
    namespace(&app, beta, "beta-pending", "pending").await;
    let mut conn = app.pool.acquire().await.unwrap();

    for (host, project, owner) in [
        ("gitlab.com", "acme-corp/tool", Some((acme, acme_ns))),
        ("GitLab.com", "Acme-Corp/CI/Sast", Some((acme, acme_ns))),
        ("gitlab.com", "acme-corp", Some((acme, acme_ns))),
        ("gitlab.com", "acme-corpx/tool", None),
        ("gitlab.com", "acme-cor/tool", None),
        ("gitlab.example.com", "acme-corp/tool", None),
        ("gitlab.com", "beta-pending/tool", None),
        ("gitlab.com", "", None),
    ] {
        assert_eq!(
            owner_of_project(&mut conn, host, project).await.unwrap(),
            owner,
            "{host} {project}"
        );
    }
}

#[tokio::test]
async fn a_suspended_partner_owns_no_project() {
    let app = spawn_app().await;
    let (_, acme) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    namespace(&app, acme, "acme-corp", "verified").await;
    sqlx::query("update applications set state = 'suspended' where partner_id = $1")
        .bind(acme)
        .execute(&app.pool)
        .await
        .unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    assert_eq!(
        owner_of_project(&mut conn, "gitlab.com", "acme-corp/tool")
            .await
            .unwrap(),
        None
    );
}
