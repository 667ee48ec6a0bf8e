//! Registering a namespace: the normal form, every refusal, uniqueness
//! across partners, who may register.

use reqwest::StatusCode;

use super::{member_of, namespace_id, register};
use crate::{
    fixtures,
    helpers::{Spawn, spawn_app, spawn_app_with},
};

async fn count(app: &crate::helpers::TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from namespaces")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_partner_admin_registers_a_namespace_stored_in_its_normal_form() {
    let app = spawn_app().await;
    let (ada, partner_id) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;

    register(&ada, "https://GitLab.com/Acme-Corp/")
        .await
        .assert_redirect("/namespaces");

    let (url, host, path, state, owner): (String, String, String, String, i64) =
        sqlx::query_as("select url, host, path, state, partner_id from namespaces")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (
            url.as_str(),
            host.as_str(),
            path.as_str(),
            state.as_str(),
            owner
        ),
        (
            "https://gitlab.com/acme-corp",
            "gitlab.com",
            "acme-corp",
            "pending",
            partner_id
        )
    );
    let page = ada.get("/namespaces").await;
    assert!(
        page.body
            .contains("is registered. The alliance team will verify"),
        "flash"
    );
    assert!(page.body.contains("https://gitlab.com/acme-corp"));
    assert!(page.body.contains("Waiting for verification"));
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'namespace.registered' and partner_id = $1",
    )
    .bind(partner_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn every_way_to_be_wrong_is_refused_next_to_the_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    for (input, message) in [
        ("", "Enter the address of your GitLab group"),
        (
            "http://gitlab.com/acme-corp",
            "Use the group&#39;s https:// address; http:// addresses are not accepted.",
        ),
        (
            "gitlab.com/acme/sub",
            "Register the top-level group only: https://gitlab.com/acme.",
        ),
        (
            "https://github.com/acme-corp",
            "Namespaces on github.com cannot be registered. Use a group on gitlab.com.",
        ),
        (
            "https://gitlab.com/acme-corp?tab=projects",
            "Remove everything from the ? or # onwards",
        ),
        (
            "https://gitlab.com/acme-corp#top",
            "Remove everything from the ? or # onwards",
        ),
        ("https://gitlab.com", "Add your group to the address"),
        (
            "https://gitlab.com:8443/acme-corp",
            "Remove the port number (:8443)",
        ),
        (
            "git@gitlab.com:acme-corp/tool.git",
            "That is a Git clone address.",
        ),
        (
            "https://gitlab.com/explore",
            "/explore is a GitLab page, not a group.",
        ),
        (
            "gitlab.com/acme.",
            "is not a valid GitLab group path: it must not end with &#39;.&#39;.",
        ),
    ] {
        let page = register(&ada, input).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{input:?}");
        assert!(
            page.body.contains(message),
            "{input:?}: expected {message:?} in the page"
        );
        assert!(
            page.body.contains("id=\"url-error\""),
            "{input:?}: the message is next to the field"
        );
        assert!(page.body.contains("aria-invalid=\"true\""), "{input:?}");
    }
    let page = register(&ada, "http://gitlab.com/keep-me").await;
    assert!(
        page.body.contains("value=\"http://gitlab.com/keep-me\""),
        "the form keeps what was typed"
    );
    assert_eq!(count(&app).await, 0);
}

#[tokio::test]
async fn a_namespace_registered_by_another_partner_is_refused_without_naming_it() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let (bo, _) = fixtures::approved_partner(&app, "Beta Systems", "bo@beta.test").await;
    register(&ada, "https://gitlab.com/acme-corp")
        .await
        .assert_redirect("/namespaces");

    let page = register(&bo, "https://GITLAB.com/ACME-CORP/").await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains(
        "https://gitlab.com/acme-corp is already registered by another partner. If it belongs to your organisation, contact the alliance team."
    ));
    assert!(
        !page.body.contains("Acme"),
        "the other partner is never named"
    );
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn registering_a_namespace_twice_says_it_is_already_yours() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    register(&ada, "https://gitlab.com/acme-corp")
        .await
        .assert_redirect("/namespaces");
    let page = register(&ada, "gitlab.com/Acme-Corp").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains(
        "Your organisation has already registered https://gitlab.com/acme-corp (status: waiting for verification)."
    ));
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn two_partners_registering_the_same_namespace_at_once_one_wins_the_other_is_told() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let (bo, _) = fixtures::approved_partner(&app, "Beta Systems", "bo@beta.test").await;
    for _round in 0..5 {
        sqlx::query("delete from namespaces")
            .execute(&app.pool)
            .await
            .unwrap();
        ada.get("/namespaces").await;
        bo.get("/namespaces").await;

        let (a, b) = tokio::join!(
            ada.post("/namespaces", &[("url", "https://gitlab.com/contested")]),
            bo.post("/namespaces", &[("url", "https://gitlab.com/Contested/")]),
        );

        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY]
        );
        let loser = if a.status == StatusCode::SEE_OTHER {
            &b
        } else {
            &a
        };
        assert!(
            loser
                .body
                .contains("is already registered by another partner")
        );
        assert_eq!(count(&app).await, 1);
    }
}

#[tokio::test]
async fn a_rejected_registration_frees_the_namespace() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let (bo, _) = fixtures::approved_partner(&app, "Beta Systems", "bo@beta.test").await;
    register(&ada, "https://gitlab.com/shared-name")
        .await
        .assert_redirect("/namespaces");
    sqlx::query("update namespaces set state = 'rejected', reason = 'Not yours'")
        .execute(&app.pool)
        .await
        .unwrap();
    register(&bo, "https://gitlab.com/shared-name")
        .await
        .assert_redirect("/namespaces");
}

#[tokio::test]
async fn a_member_sees_the_namespaces_but_cannot_register_or_withdraw() {
    let app = spawn_app().await;
    let (ada, partner_id) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    register(&ada, "https://gitlab.com/acme-corp")
        .await
        .assert_redirect("/namespaces");
    let id = namespace_id(&app, "https://gitlab.com/acme-corp").await;
    let mo = member_of(&app, partner_id, "Mo Member", "mo@acme.test").await;

    let page = mo.get("/namespaces").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("https://gitlab.com/acme-corp"));
    assert!(
        page.body
            .contains("Only your organisation's admins can register namespaces.")
    );
    assert!(!page.body.contains("action=\"/namespaces\""));

    let res = mo
        .post("/namespaces", &[("url", "https://gitlab.com/mo-group")])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = mo.post(&format!("/namespaces/{id}/withdraw"), &[]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn an_organisation_not_yet_approved_is_told_why_it_cannot_register() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    let page = ada.get("/namespaces").await;
    assert!(
        page.body
            .contains("This is available once your application is approved.")
    );
    assert!(page.body.contains("href=\"/application\""));
    let res = ada
        .post("/namespaces", &[("url", "https://gitlab.com/acme-corp")])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&app).await, 0);
}

#[tokio::test]
async fn self_managed_hosts_are_accepted_when_configured() {
    let app = spawn_app_with(Spawn {
        overrides: &[("PORTAL_NAMESPACE_HOSTS", "gitlab.com,gitlab.example.org")],
        ..Spawn::default()
    })
    .await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    register(&ada, "https://GitLab.Example.org/Platform")
        .await
        .assert_redirect("/namespaces");
    namespace_id(&app, "https://gitlab.example.org/platform").await;
    let page = register(&ada, "https://gitlab.evil.test/platform").await;
    assert!(
        page.body
            .contains("Use a group on gitlab.com or gitlab.example.org.")
    );
}

#[tokio::test]
async fn a_pending_registration_can_be_withdrawn_after_confirmation() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    register(&ada, "https://gitlab.com/acme-typo")
        .await
        .assert_redirect("/namespaces");
    let id = namespace_id(&app, "https://gitlab.com/acme-typo").await;
    let page = ada.get("/namespaces").await;
    assert!(
        page.body
            .contains(&format!("action=\"/namespaces/{id}/withdraw\""))
    );
    ada.post(&format!("/namespaces/{id}/withdraw"), &[])
        .await
        .assert_redirect("/namespaces");
    assert_eq!(count(&app).await, 0);
}
