//! The public directory: search and filters without JavaScript, pages, the
//! partner page, logos, and instances sharing one database.

use std::sync::Arc;

use reqwest::{StatusCode, header};

use super::{
    CLEAN_SVG, approve_latest, fields, ready_partner, seed_listing, slug_of, staff, submit,
    tiny_png,
};
use crate::{
    helpers::{Spawn, TestApp, spawn_app, spawn_app_with},
    namespaces::{add_component, eventually},
};

async fn listed(app: &TestApp, path: &str) -> Vec<String> {
    let body = app.get(path).await.text().await.unwrap();
    body.match_indices("<h2 class=\"card-title\"><a href=\"/partners/")
        .map(|(at, m)| {
            let rest = &body[at + m.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_directory_searches_by_name_and_filters_by_type_and_stage_with_plain_links() {
    let app = spawn_app().await;
    seed_listing(
        &app,
        "Acme Security",
        "technology",
        &["verify", "secure"],
        &[],
    )
    .await;
    seed_listing(&app, "Globex Cloud", "cloud", &["deploy", "monitor"], &[]).await;
    seed_listing(&app, "Société Générale Labs", "technology", &["plan"], &[]).await;
    seed_listing(
        &app,
        "Initech Platform",
        "platform",
        &["secure", "govern"],
        &[],
    )
    .await;

    let page = app.get("/partners").await.text().await.unwrap();
    assert!(
        page.contains("<form method=\"get\" action=\"/partners\""),
        "a plain GET form"
    );
    for name in ["name=\"q\"", "name=\"type\"", "name=\"stage\""] {
        assert!(page.contains(name), "{name}");
    }
    assert_eq!(listed(&app, "/partners").await.len(), 4);
    assert_eq!(listed(&app, "/partners?q=acme").await, ["acme-security"]);
    assert_eq!(
        listed(&app, "/partners?q=SOCIETE+labs").await,
        ["societe-generale-labs"]
    );
    assert_eq!(
        listed(&app, "/partners?type=technology").await,
        ["acme-security", "societe-generale-labs"]
    );
    assert_eq!(
        listed(&app, "/partners?stage=secure").await,
        ["acme-security", "initech-platform"]
    );
    assert_eq!(
        listed(&app, "/partners?type=platform&stage=secure").await,
        ["initech-platform"]
    );
    assert!(listed(&app, "/partners?q=acme&type=cloud").await.is_empty());
    let none = app.get("/partners?q=nobody").await.text().await.unwrap();
    assert!(none.contains("No partner matches this search."));
    let kept = app
        .get("/partners?q=acme&type=technology&stage=secure")
        .await
        .text()
        .await
        .unwrap();
    assert!(kept.contains("value=\"acme\""));
    assert!(kept.contains("<option value=\"technology\" selected>"));
    assert!(kept.contains("<option value=\"secure\" selected>"));
    assert_eq!(
        listed(&app, "/partners?type=spaceship").await.len(),
        4,
        "unknown filters are ignored"
    );
}

#[tokio::test]
async fn the_directory_pages_through_many_partners() {
    let app = spawn_app().await;
    for n in 0..30 {
        seed_listing(
            &app,
            &format!("Partner {n:02}"),
            "technology",
            &["plan"],
            &[],
        )
        .await;
    }
    let first = app.get("/partners").await.text().await.unwrap();
    assert_eq!(listed(&app, "/partners").await.len(), 24);
    assert!(first.contains("Page 1 of 2"));
    assert!(first.contains("href=\"/partners?page=2\" rel=\"next\""));
    assert_eq!(listed(&app, "/partners?page=2").await.len(), 6);
    let filtered = app.get("/partners?q=partner").await.text().await.unwrap();
    assert!(
        filtered.contains("href=\"/partners?q=partner&#38;page=2\""),
        "pages keep the search: {}",
        &filtered[filtered.find("pagination").unwrap_or(0)..][..400]
    );
    assert_eq!(
        listed(&app, "/partners?page=9").await.len(),
        6,
        "past the end shows the last page"
    );
}

#[tokio::test]
async fn partners_with_badged_components_come_first() {
    let app = spawn_app().await;
    seed_listing(&app, "Alpha Tools", "technology", &["plan"], &[]).await;
    seed_listing(
        &app,
        "Zeta Scanners",
        "technology",
        &["secure"],
        &["sast", "dast"],
    )
    .await;
    assert_eq!(
        listed(&app, "/partners").await,
        ["zeta-scanners", "alpha-tools"]
    );
    let page = app.get("/partners").await.text().await.unwrap();
    assert!(page.contains("2 partner components"));
}

#[tokio::test]
async fn a_partner_page_shows_logo_type_stages_documentation_and_badged_components() {
    let app = spawn_app().await;
    let (ada, partner_id, ns) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    add_component(&ada, ns, "acme-corp/ci/sast", "SAST scanner")
        .await
        .assert_redirect(&format!("/namespaces/{ns}"));
    submit(
        &ada,
        &fields("Acme Security"),
        &[(
            "logo",
            "a.svg",
            "image/svg+xml",
            CLEAN_SVG.as_bytes().to_vec(),
        )],
    )
    .await
    .assert_redirect("/listing");
    approve_latest(&app, &staff(&app).await, partner_id).await;
    let slug = slug_of(&app, partner_id).await;

    let page = app
        .get(&format!("/partners/{slug}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("<h1>Acme Security</h1>"));
    assert!(page.contains("Technology (ISV) Partner"));
    assert!(page.contains("<li>Verify</li>") && page.contains("<li>Secure</li>"));
    assert!(page.contains("href=\"https://docs.acme.example.com/gitlab\""));
    assert!(page.contains("href=\"https://gitlab.com/acme-corp/ci/sast\""));
    assert!(page.contains("SAST scanner"));
    assert!(
        page.contains("https://gitlab.com/acme-corp"),
        "verified namespaces"
    );
    let logo = page
        .split("class=\"partner-logo partner-logo-large\" src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    assert!(
        logo.starts_with(&format!("/partners/{slug}/logo?v=")),
        "{logo}"
    );

    let (status, headers, bytes) = ada.get_bytes(&logo).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, super::stored_svg(), "served as stored");
    assert_eq!(headers[header::CONTENT_TYPE], "image/svg+xml");
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(
        headers[header::CONTENT_SECURITY_POLICY],
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    );
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    let again = ada.get_with(&logo, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    let pages = app.get("/partners").await.text().await.unwrap();
    assert!(pages.contains(&logo), "the directory shows the logo too");
    assert_eq!(
        app.get("/partners/no-such-partner").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/partners/no-such-partner/logo").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_png_logo_is_served_as_png_with_the_site_policy_untouched_elsewhere() {
    let app = spawn_app().await;
    let (ada, partner_id, _) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    submit(
        &ada,
        &fields("Acme"),
        &[("logo", "logo.svg", "image/svg+xml", tiny_png())],
    )
    .await
    .assert_redirect("/listing");
    approve_latest(&app, &staff(&app).await, partner_id).await;
    let slug = slug_of(&app, partner_id).await;
    let res = app.get(&format!("/partners/{slug}/logo")).await;
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/png");
    assert_eq!(
        res.headers()[header::CACHE_CONTROL],
        "public, max-age=300",
        "the bare URL is cached briefly"
    );
    let page = app.get("/partners").await;
    assert!(
        page.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
}

#[tokio::test]
async fn instances_sharing_a_database_follow_each_others_changes() {
    let first = spawn_app().await;
    let second = spawn_app_with(Spawn {
        db: Some(Arc::clone(&first.db)),
        ..Spawn::default()
    })
    .await;
    assert!(listed(&second, "/partners").await.is_empty());
    assert_eq!(
        second
            .get("/api/v1/verified-namespaces")
            .await
            .text()
            .await
            .unwrap(),
        "[]"
    );

    // Written on the first instance's connection only: the second learns
    // of it through NOTIFY directory_changed.
    let slug = seed_listing(
        &first,
        "Acme Security",
        "technology",
        &["secure"],
        &["sast"],
    )
    .await;
    eventually("the second instance lists the new partner", || async {
        listed(&second, "/partners").await == [slug.clone()]
    })
    .await;
    eventually("the second instance's feed has the namespace", || async {
        second
            .get("/api/v1/verified-namespaces")
            .await
            .text()
            .await
            .unwrap()
            .contains("acme-security")
    })
    .await;
}

#[tokio::test]
async fn visitors_share_one_rendering_with_an_etag_and_signed_in_people_get_their_own() {
    let app = spawn_app().await;
    seed_listing(&app, "Acme Security", "technology", &["secure"], &[]).await;
    let (ada, _) = crate::fixtures::approved_partner(&app, "Beta Systems", "bo@beta.test").await;

    let first = app.get("/partners").await;
    let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert_eq!(first.headers()[header::CACHE_CONTROL], "no-cache");
    assert!(
        first.headers().get(header::SET_COOKIE).is_none(),
        "nothing personal in a shared page"
    );
    let body = first.text().await.unwrap();
    assert!(!body.contains("Sign out"));
    let again = app
        .client
        .get(app.url("/partners"))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let signed_in = ada.get("/partners").await;
    assert!(signed_in.body.contains("Sign out"));
    assert!(signed_in.body.contains("Owner of Beta Systems"));
    assert!(signed_in.body.contains("acme-security"));

    seed_listing(&app, "Zeta Cloud", "cloud", &["deploy"], &[]).await;
    let changed = app
        .client
        .get(app.url("/partners"))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        changed.status(),
        StatusCode::OK,
        "a change makes a new page"
    );
    assert!(changed.text().await.unwrap().contains("zeta-cloud"));
}
