//! Another organisation's namespaces and components answer 404 on every
//! route, GET and POST, and change nothing.

use reqwest::StatusCode;

use super::{add_component, verified};
use crate::{fixtures, helpers::spawn_app};

#[tokio::test]
async fn another_partners_namespaces_and_components_are_404_everywhere() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let (bo, _) = fixtures::approved_partner(&app, "Beta Systems", "bo@beta.test").await;
    let ns = verified(&app, &ada, "https://gitlab.com/acme-corp").await;
    add_component(&ada, ns, "acme-corp/sast", "SAST")
        .await
        .assert_redirect(&format!("/namespaces/{ns}"));
    let cid: i64 = sqlx::query_scalar("select id from components")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    let list = bo.get("/namespaces").await;
    assert!(
        !list.body.contains("href=\"/namespaces/"),
        "Beta lists no namespace"
    );
    for path in [
        format!("/namespaces/{ns}"),
        format!("/namespaces/{ns}/components/{cid}"),
    ] {
        assert_eq!(
            bo.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "GET {path}"
        );
    }
    for (path, fields) in [
        (format!("/namespaces/{ns}/withdraw"), vec![]),
        (
            format!("/namespaces/{ns}/components"),
            vec![("path", "acme-corp/evil"), ("name", "Evil")],
        ),
        (
            format!("/namespaces/{ns}/components/{cid}"),
            vec![("path", "acme-corp/evil"), ("name", "Evil")],
        ),
        (format!("/namespaces/{ns}/components/{cid}/delete"), vec![]),
    ] {
        let res = bo.post(&path, &fields).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "POST {path}");
        assert!(
            !res.body.contains("acme"),
            "POST {path} says nothing about it"
        );
    }
    let (count, name): (i64, String) =
        sqlx::query_as("select count(*) over (), name from components")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((count, name.as_str()), (1, "SAST"));
}
