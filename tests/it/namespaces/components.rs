//! Components listed under a verified namespace.

use reqwest::StatusCode;

use super::{add_component, namespace_id, register, verified};
use crate::{fixtures, helpers::spawn_app};

async fn components(app: &crate::helpers::TestApp) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as("select path, name, version from components order by path")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn components_are_listed_under_a_verified_namespace_in_their_normal_form() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let ns = verified(&app, &ada, "https://gitlab.com/acme-corp").await;

    ada.get(&format!("/namespaces/{ns}")).await;
    ada.post(
        &format!("/namespaces/{ns}/components"),
        &[
            ("path", "https://gitlab.com/Acme-Corp/CI/Sast/-/tree/main"),
            ("name", "SAST scanner"),
            ("description", "Finds vulnerabilities."),
            ("version", "v1.4.0"),
        ],
    )
    .await
    .assert_redirect(&format!("/namespaces/{ns}"));

    assert_eq!(
        components(&app).await,
        [(
            "acme-corp/ci/sast".to_owned(),
            "SAST scanner".to_owned(),
            Some("1.4.0".to_owned())
        )]
    );
    let page = ada.get(&format!("/namespaces/{ns}")).await;
    assert!(
        page.body
            .contains("SAST scanner is listed with the partner badge.")
    );
    assert!(page.body.contains("acme-corp/ci/sast"));
}

#[tokio::test]
async fn component_problems_are_shown_next_to_their_fields_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let ns = verified(&app, &ada, "https://gitlab.com/acme-corp").await;
    ada.get(&format!("/namespaces/{ns}")).await;
    let page = ada
        .post(
            &format!("/namespaces/{ns}/components"),
            &[
                ("path", "acme-corpx/sast"),
                ("name", ""),
                ("description", ""),
                ("version", "1.4"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("The component must be in your namespace: start its path with acme-corp/")
    );
    assert!(page.body.contains("id=\"name-error\""));
    assert!(
        page.body
            .contains("Enter a semantic version with three numbers")
    );
    assert!(page.body.contains("value=\"acme-corpx/sast\""));
    assert!(components(&app).await.is_empty());

    add_component(&ada, ns, "acme-corp/sast", "SAST")
        .await
        .assert_redirect(&format!("/namespaces/{ns}"));
    let page = add_component(&ada, ns, "Acme-Corp/SAST/", "SAST again").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("acme-corp/sast is already listed under this namespace.")
    );
    assert_eq!(components(&app).await.len(), 1);
}

#[tokio::test]
async fn components_wait_for_the_namespace_to_be_verified() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    register(&ada, "https://gitlab.com/acme-corp")
        .await
        .assert_redirect("/namespaces");
    let ns = namespace_id(&app, "https://gitlab.com/acme-corp").await;
    let page = ada.get(&format!("/namespaces/{ns}")).await;
    assert!(
        page.body.contains(
            "The alliance team is checking that this group belongs to your organisation."
        )
    );
    assert!(
        !page
            .body
            .contains(&format!("action=\"/namespaces/{ns}/components\""))
    );
    let res = add_component(&ada, ns, "acme-corp/sast", "SAST").await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(components(&app).await.is_empty());
}

#[tokio::test]
async fn a_component_is_edited_and_removed() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let ns = verified(&app, &ada, "https://gitlab.com/acme-corp").await;
    add_component(&ada, ns, "acme-corp/sast", "SAST")
        .await
        .assert_redirect(&format!("/namespaces/{ns}"));
    let cid: i64 = sqlx::query_scalar("select id from components")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    let form = ada.get(&format!("/namespaces/{ns}/components/{cid}")).await;
    assert!(form.body.contains("value=\"acme-corp/sast\""));
    ada.post(
        &format!("/namespaces/{ns}/components/{cid}"),
        &[
            ("path", "acme-corp/sast-v2"),
            ("name", "SAST 2"),
            ("description", ""),
            ("version", "2.0.0"),
        ],
    )
    .await
    .assert_redirect(&format!("/namespaces/{ns}"));
    assert_eq!(
        components(&app).await,
        [(
            "acme-corp/sast-v2".to_owned(),
            "SAST 2".to_owned(),
            Some("2.0.0".to_owned())
        )]
    );

    ada.get(&format!("/namespaces/{ns}")).await;
    ada.post(&format!("/namespaces/{ns}/components/{cid}/delete"), &[])
        .await
        .assert_redirect(&format!("/namespaces/{ns}"));
    assert!(components(&app).await.is_empty());
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where subject_type = 'component' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        ["component.added", "component.updated", "component.removed"]
    );
}
