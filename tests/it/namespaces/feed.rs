//! `GET /api/v1/verified-namespaces`: exactly the verified namespaces of
//! approved, non-suspended partners; validators and caching.

use partner_portal::{
    accounts::staff::StaffRole,
    namespaces::{on_partner_reinstated, on_partner_suspended},
};
use reqwest::{StatusCode, header};

use super::{eventually, feed, feed_urls, register, state_of, verified};
use crate::{fixtures, helpers::spawn_app};

#[tokio::test]
async fn the_feed_holds_exactly_the_verified_namespaces_of_approved_partners() {
    let app = spawn_app().await;
    let (ada, acme) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let (bo, _) = fixtures::approved_partner(&app, "Beta Systems", "bo@beta.test").await;
    let (cy, gamma) = fixtures::approved_partner(&app, "Gamma", "cy@gamma.test").await;
    verified(&app, &ada, "https://gitlab.com/acme-corp").await;
    verified(&app, &ada, "https://gitlab.com/acme-labs").await;
    register(&bo, "https://gitlab.com/beta-pending")
        .await
        .assert_redirect("/namespaces");
    register(&bo, "https://gitlab.com/beta-rejected")
        .await
        .assert_redirect("/namespaces");
    sqlx::query(
        "update namespaces set state = 'rejected' where url = 'https://gitlab.com/beta-rejected'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    verified(&app, &cy, "https://gitlab.com/gamma").await;
    // Gamma's application goes back under review: no badge meanwhile.
    sqlx::query("update applications set state = 'submitted' where partner_id = $1")
        .bind(gamma)
        .execute(&app.pool)
        .await
        .unwrap();
    app.state.directory.invalidate();

    let res = app.get("/api/v1/verified-namespaces").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        res.headers()[header::CACHE_CONTROL],
        "public, max-age=60, must-revalidate"
    );
    assert!(res.headers().contains_key(header::ETAG));
    let items: Vec<serde_json::Value> =
        serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(items.len(), 2, "{items:#?}");
    let acme_slug: String = sqlx::query_scalar("select slug from partners where id = $1")
        .bind(acme)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let first = &items[0];
    assert_eq!(first["namespace_path"], "acme-corp");
    assert_eq!(first["namespace_url"], "https://gitlab.com/acme-corp");
    assert_eq!(first["partner_name"], "Acme Corp");
    assert_eq!(first["partner_slug"], acme_slug.as_str());
    assert_eq!(first["verification_level"], "gitlab_partner_maintained");
    let verified_at = first["verified_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(verified_at).is_ok(),
        "{verified_at}"
    );
    assert_eq!(items[1]["namespace_url"], "https://gitlab.com/acme-labs");
    assert_eq!(
        first.as_object().unwrap().len(),
        6,
        "no other field: {first}"
    );
}

#[tokio::test]
async fn a_matching_if_none_match_gets_304_until_the_feed_changes() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    verified(&app, &ada, "https://gitlab.com/acme-corp").await;
    let first = app.get("/api/v1/verified-namespaces").await;
    let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();

    let conditional = app
        .client
        .get(app.url("/api/v1/verified-namespaces"))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(conditional.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(conditional.headers()[header::ETAG], etag.as_str());
    assert!(conditional.headers().contains_key(header::CACHE_CONTROL));
    assert!(conditional.bytes().await.unwrap().is_empty());

    let other = app
        .client
        .get(app.url("/api/v1/verified-namespaces"))
        .header(header::IF_NONE_MATCH, "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);

    verified(&app, &ada, "https://gitlab.com/acme-labs").await;
    let changed = app
        .client
        .get(app.url("/api/v1/verified-namespaces"))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        changed.status(),
        StatusCode::OK,
        "a new namespace makes a new version"
    );
    assert_ne!(changed.headers()[header::ETAG], etag.as_str());
}

#[tokio::test]
async fn suspension_revokes_the_badge_and_reinstatement_restores_exactly_what_was_verified() {
    let app = spawn_app().await;
    let (ada, acme) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let (bo, _) = fixtures::approved_partner(&app, "Beta Systems", "bo@beta.test").await;
    let acme_ns = verified(&app, &ada, "https://gitlab.com/acme-corp").await;
    verified(&app, &bo, "https://gitlab.com/beta").await;
    register(&ada, "https://gitlab.com/acme-rejected")
        .await
        .assert_redirect("/namespaces");
    sqlx::query(
        "update namespaces set state = 'rejected' where url = 'https://gitlab.com/acme-rejected'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let verified_at = feed(&app).await[0]["verified_at"].clone();
    assert_eq!(
        feed_urls(&app).await,
        ["https://gitlab.com/acme-corp", "https://gitlab.com/beta"]
    );

    // Suspend, as the application area does, in one transaction.
    let now = app.clock.now();
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("update applications set state = 'suspended' where partner_id = $1")
        .bind(acme)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(on_partner_suspended(&mut tx, acme, now).await.unwrap(), 1);
    tx.commit().await.unwrap();

    assert_eq!(state_of(&app, acme_ns).await, "revoked");
    eventually("the feed drops the suspended partner", || async {
        feed_urls(&app).await == ["https://gitlab.com/beta"]
    })
    .await;

    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("update applications set state = 'approved' where partner_id = $1")
        .bind(acme)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(on_partner_reinstated(&mut tx, acme, now).await.unwrap(), 1);
    tx.commit().await.unwrap();

    eventually("the feed lists the reinstated partner again", || async {
        feed_urls(&app).await == ["https://gitlab.com/acme-corp", "https://gitlab.com/beta"]
    })
    .await;
    assert_eq!(
        feed(&app).await[0]["verified_at"],
        verified_at,
        "verified_at is kept"
    );
    let rejected: String = sqlx::query_scalar(
        "select state from namespaces where url = 'https://gitlab.com/acme-rejected'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        rejected, "rejected",
        "reinstatement restores only what suspension revoked"
    );
    let audited: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where subject_type = 'namespace' and subject_id = $1 order by id",
    )
    .bind(acme_ns)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        audited,
        [
            "namespace.registered",
            "namespace.revoked",
            "namespace.restored"
        ]
    );
}

#[tokio::test]
async fn staff_suspending_a_partner_takes_its_namespaces_out_of_the_feed_at_once() {
    let app = spawn_app().await;
    let (ada, acme) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let ns = verified(&app, &ada, "https://gitlab.com/acme-corp").await;
    assert_eq!(feed_urls(&app).await, ["https://gitlab.com/acme-corp"]);
    let application: i64 = sqlx::query_scalar("select id from applications where partner_id = $1")
        .bind(acme)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let staff = app
        .staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;
    staff
        .get(&format!("/admin/applications/{application}"))
        .await;

    staff
        .post(
            &format!("/admin/applications/{application}/suspend"),
            &[("reason", "NFR licenses used in production")],
        )
        .await
        .assert_redirect(&format!("/admin/applications/{application}"));
    assert_eq!(state_of(&app, ns).await, "revoked");
    assert!(feed_urls(&app).await.is_empty());

    staff
        .post(
            &format!("/admin/applications/{application}/reinstate"),
            &[("reason", "Compliance confirmed")],
        )
        .await
        .assert_redirect(&format!("/admin/applications/{application}"));
    assert_eq!(state_of(&app, ns).await, "verified");
    assert_eq!(feed_urls(&app).await, ["https://gitlab.com/acme-corp"]);
}

#[tokio::test]
async fn each_client_gets_the_same_feed_in_the_smallest_coding_it_takes() {
    use std::io::Read;
    let app = spawn_app().await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    verified(&app, &ada, "https://gitlab.com/acme-corp").await;
    let plain = app.get("/api/v1/verified-namespaces").await;
    let etag = plain.headers()[header::ETAG].clone();
    let plain = plain.bytes().await.unwrap();
    let fetch = |accept: &'static str| {
        app.client
            .get(app.url("/api/v1/verified-namespaces"))
            .header(header::ACCEPT_ENCODING, accept)
            .send()
    };

    let res = fetch("gzip").await.unwrap();
    assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        res.headers()[header::ETAG],
        etag,
        "one validator for every coding"
    );
    assert_eq!(
        res.headers().get_all(header::VARY).iter().count(),
        1,
        "{:?}",
        res.headers()
    );
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&res.bytes().await.unwrap()[..])
        .read_to_end(&mut json)
        .unwrap();
    assert_eq!(json, plain);

    // Brotli (and zopfli's gzip before it) is made after the snapshot is
    // published; the quick gzip until then.
    let mut res = fetch("gzip, deflate, br").await.unwrap();
    for _ in 0..100 {
        if res.headers()[header::CONTENT_ENCODING] == "br" {
            break;
        }
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        res = fetch("gzip, deflate, br").await.unwrap();
    }
    assert_eq!(res.headers()[header::CONTENT_ENCODING], "br");
    assert_eq!(res.headers()[header::ETAG], etag);
    let mut json = Vec::new();
    brotli::Decompressor::new(&res.bytes().await.unwrap()[..], 4096)
        .read_to_end(&mut json)
        .unwrap();
    assert_eq!(json, plain);

    // By then gzip comes from zopfli: other bytes, the same JSON.
    let res = fetch("br;q=0, gzip").await.unwrap();
    assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(res.headers()[header::ETAG], etag);
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&res.bytes().await.unwrap()[..])
        .read_to_end(&mut json)
        .unwrap();
    assert_eq!(json, plain);
    let res = fetch("identity").await.unwrap();
    assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(res.bytes().await.unwrap(), plain);
}
