//! Requesting a listing: who may, the form, the logo checked by content.

use reqwest::StatusCode;

use super::{CLEAN_SVG, fields, latest_version, ready_partner, submit, tiny_png, with};
use crate::{
    fixtures,
    helpers::spawn_app,
    namespaces::{member_of, register},
};

async fn versions(app: &crate::helpers::TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from listing_versions")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_approved_partner_with_a_verified_namespace_requests_a_listing_with_its_logo() {
    let app = spawn_app().await;
    let (ada, partner_id, _) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;

    let form = ada.get("/listing").await;
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    assert!(
        form.body.contains("value=\"Acme Corp\""),
        "prefilled from the application"
    );
    let res = submit(
        &ada,
        &fields("Acme Security"),
        &[("logo", "acme.png", "image/png", tiny_png())],
    )
    .await;
    res.assert_redirect("/listing");

    let (name, stages, state, content_type): (String, Vec<String>, String, String) = sqlx::query_as(
        "select v.display_name, v.stages, v.state, g.content_type
           from listing_versions v join listing_logos g on g.id = v.logo_id where v.partner_id = $1",
    )
    .bind(partner_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (name.as_str(), state.as_str(), content_type.as_str()),
        ("Acme Security", "submitted", "image/png")
    );
    assert_eq!(stages, ["verify", "secure"]);
    let page = ada.get("/listing").await;
    assert!(page.body.contains("Your listing was sent for review."));
    assert!(
        page.body
            .contains("waiting for review by the alliance team")
    );
    assert!(page.body.contains("src=\"/listing/logo\""));
    let (status, headers, bytes) = ada.get_bytes("/listing/logo").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(bytes, tiny_png());
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'listing.submitted' and partner_id = $1",
    )
    .bind(partner_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn a_listing_needs_an_approved_partner_with_a_verified_namespace() {
    let app = spawn_app().await;
    let (newcomer, _) = fixtures::organisation(&app, "Newco", "nia@newco.test").await;
    let page = newcomer.get("/listing").await;
    assert!(
        page.body
            .contains("This is available once your application is approved.")
    );
    assert!(!page.body.contains("action=\"/listing\""));
    assert_eq!(
        submit(&newcomer, &fields("Newco"), &[]).await.status,
        StatusCode::FORBIDDEN
    );

    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    register(&ada, "https://gitlab.com/acme-corp")
        .await
        .assert_redirect("/namespaces");
    let page = ada.get("/listing").await;
    assert!(
        page.body.contains(
            "A listing can be requested once at least one of your namespaces is verified."
        )
    );
    assert!(page.body.contains("href=\"/namespaces\""));
    assert_eq!(
        submit(&ada, &fields("Acme"), &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(versions(&app).await, 0);
}

#[tokio::test]
async fn logos_are_recognised_by_their_content_not_their_name() {
    let app = spawn_app().await;
    let (ada, partner_id, _) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    let script_svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script><circle r="4"/></svg>"#.to_vec();
    let mut oversized = tiny_png();
    oversized.resize(600 * 1024, 0);
    for (file, content_type, bytes, message) in [
        (
            "logo.svg",
            "image/svg+xml",
            script_svg,
            "SVG logos may not contain scripts.",
        ),
        (
            "logo.png",
            "image/png",
            oversized,
            "The logo is 600 KiB; the limit is 512 KiB.",
        ),
        (
            "logo.png",
            "image/png",
            b"just some text, honestly a PNG".to_vec(),
            "This file is not a PNG, JPEG or SVG image.",
        ),
        (
            "logo.gif",
            "image/gif",
            b"GIF89a\x01\x00\x01\x00".to_vec(),
            "GIF images are not accepted.",
        ),
    ] {
        let page = submit(
            &ada,
            &fields("Acme Security"),
            &[("logo", file, content_type, bytes)],
        )
        .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(page.body.contains(message), "expected {message:?}");
        assert!(page.body.contains("id=\"logo-error\""), "next to the field");
        assert!(
            page.body.contains("value=\"Acme Security\""),
            "the typed values are kept"
        );
    }
    assert_eq!(versions(&app).await, 0, "nothing stored for a refused logo");

    // A PNG called .svg (and sent as SVG) is a PNG: stored and served as one.
    submit(
        &ada,
        &fields("Acme Security"),
        &[("logo", "logo.svg", "image/svg+xml", tiny_png())],
    )
    .await
    .assert_redirect("/listing");
    let content_type: String = sqlx::query_scalar(
        "select g.content_type from listing_versions v join listing_logos g on g.id = v.logo_id where v.id = $1",
    )
    .bind(latest_version(&app, partner_id).await)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(content_type, "image/png");

    // A clean SVG is kept as usvg draws it out: shapes only.
    submit(
        &ada,
        &fields("Acme Security"),
        &[(
            "logo",
            "logo.svg",
            "image/svg+xml",
            CLEAN_SVG.as_bytes().to_vec(),
        )],
    )
    .await
    .assert_redirect("/listing");
    let (_, headers, bytes) = ada.get_bytes("/listing/logo").await;
    assert_eq!(headers["content-type"], "image/svg+xml");
    assert_eq!(bytes, super::stored_svg());
    let served = String::from_utf8(bytes).unwrap();
    assert!(
        served.contains("<path") && !served.contains("<title"),
        "{served}"
    );
}

#[tokio::test]
async fn a_logo_of_fifty_thousand_nested_groups_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (ada, _, _) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    let depth = 50_000;
    let bomb = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">{}<rect width="1" height="1"/>{}</svg>"#,
        "<g>".repeat(depth),
        "</g>".repeat(depth)
    );
    assert!(bomb.len() > 340_000);
    let before = crate::snapshot::fingerprint(&app.pool).await;

    let page = submit(
        &ada,
        &fields("Acme Security"),
        &[("logo", "logo.svg", "image/svg+xml", bomb.into_bytes())],
    )
    .await;

    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.snippet()
    );
    assert!(
        page.body.contains("id=\"logo-error\"")
            && page
                .body
                .contains("nests its elements more than 32 levels deep"),
        "the reason is next to the logo field: {}",
        page.snippet()
    );
    let after = crate::snapshot::fingerprint(&app.pool).await;
    assert_eq!(crate::snapshot::changed(&before, &after), [] as [String; 0]);
}

#[tokio::test]
async fn form_problems_are_shown_next_to_their_fields_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (ada, _, _) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    let form: Vec<_> = with(
        with(
            fields("Acme"),
            "documentation_url",
            "http://docs.acme.example.com",
        ),
        "short_description",
        "",
    )
    .into_iter()
    .filter(|(k, _)| *k != "stages")
    .collect();
    let page = submit(&ada, &form, &[]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for (field, message) in [
        ("documentation_url", "Use an https:// address"),
        ("short_description", "Enter a one-sentence description."),
        ("stages", "Choose at least one DevSecOps stage"),
    ] {
        assert!(
            page.body.contains(&format!("id=\"{field}-error\"")),
            "{field}"
        );
        assert!(page.body.contains(message), "{message}");
    }
    assert!(page.body.contains("value=\"http://docs.acme.example.com\""));
    assert_eq!(versions(&app).await, 0);
}

#[tokio::test]
async fn a_member_sees_the_listing_but_cannot_request_it() {
    let app = spawn_app().await;
    let (_, partner_id, _) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    let mo = member_of(&app, partner_id, "Mo Member", "mo@acme.test").await;
    let page = mo.get("/listing").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Only your organisation's admins can change the listing.")
    );
    assert_eq!(
        submit(&mo, &fields("Mo's listing"), &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(versions(&app).await, 0);
}

#[tokio::test]
async fn sending_the_same_listing_again_changes_nothing() {
    let app = spawn_app().await;
    let (ada, _, _) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    submit(
        &ada,
        &fields("Acme"),
        &[("logo", "a.png", "image/png", tiny_png())],
    )
    .await
    .assert_redirect("/listing");
    // No new file: the logo is kept.
    submit(&ada, &fields("Acme"), &[])
        .await
        .assert_redirect("/listing");
    assert!(
        ada.get("/listing")
            .await
            .body
            .contains("Nothing changed: your listing is already waiting for review.")
    );
    assert_eq!(versions(&app).await, 1);
}
