//! Requesting licenses: who may, what is issued at once, what waits, and the
//! one-license-per-product rule.

use partner_portal::licenses::terms::NFR_TERMS;
use reqwest::StatusCode;

use super::*;
use crate::{
    fixtures::{approved_partner, organisation},
    helpers::spawn_app,
};

#[tokio::test]
async fn an_approved_admin_sees_the_form_with_the_terms_in_full() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;

    let page = agent.get("/licenses").await;

    assert_eq!(page.status, StatusCode::OK);
    for field in [
        "name=\"products\" value=\"saas\"",
        "name=\"products\" value=\"self_managed\"",
        "name=\"users\"",
        "name=\"purposes\" value=\"training\"",
        "name=\"purposes\" value=\"integration_testing\"",
        "name=\"purposes\" value=\"demos\"",
        "name=\"justification\"",
        "name=\"terms_accepted\"",
    ] {
        assert!(page.body.contains(field), "{field} missing");
    }
    for term in NFR_TERMS {
        let escaped = term.replace('\'', "&#39;");
        assert!(page.body.contains(&escaped), "term missing: {term}");
    }
}

#[tokio::test]
async fn ten_users_are_issued_at_once_with_a_key_for_twelve_months() {
    let app = spawn_app().await;
    let (agent, partner_id) = approved_partner(&app, "Acme Corp", OWNER).await;

    let id = requested(&agent, "saas", 10).await;

    let l = license(&app, id).await;
    assert_eq!(
        (l.partner_id, l.product.as_str(), l.state.as_str(), l.users),
        (partner_id, "saas", "active", 10)
    );
    let key = l.license_key.unwrap();
    assert!(key.starts_with("NFR-") && key.len() == 27, "{key}");
    let (issued, expires) = (l.issued_at.unwrap(), l.expires_at.unwrap());
    assert_eq!(
        expires,
        issued.checked_add_months(chrono::Months::new(12)).unwrap()
    );
    let page = agent.get(&format!("/licenses/{id}")).await;
    assert!(page.body.contains("Your SaaS license is issued."), "flash");
    // A flash message is shown once: the next page has none.
    let again = agent.get(&format!("/licenses/{id}")).await;
    assert!(
        !again.body.contains("Your SaaS license is issued."),
        "flash shown twice"
    );
    assert!(page.body.contains(&format!(
        "<code id=\"license-key\" class=\"secret\">{key}</code>"
    )));
    assert!(page.body.contains("data-copy=\"license-key\""));
    assert!(page.body.contains(&partner_portal::dates::expires_phrase(
        app.clock.now(),
        expires
    )));
    assert!(page.body.contains("days left"));
    assert_eq!(subjects(&app, OWNER, "NFR license is ready").await.len(), 1);
    assert_eq!(audited(&app, "license.issued", id).await, 1);
    assert!(
        !app.last_email_to(OWNER).await.text.contains(&key),
        "keys are not emailed"
    );
}

#[tokio::test]
async fn eleven_users_wait_for_staff_with_a_justification() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;

    let refused = request(&agent, &["self_managed"], "11", &["training"], "").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("More than 10 users needs a staff review")
    );
    assert!(licenses(&app).await.is_empty());

    let id = requested(&agent, "self_managed", 11).await;

    let l = license(&app, id).await;
    assert_eq!(
        (l.state.as_str(), l.users, l.license_key),
        ("pending", 11, None)
    );
    assert_eq!(
        subjects(&app, OWNER, "request is waiting for review")
            .await
            .len(),
        1
    );
    let page = agent.get(&format!("/licenses/{id}")).await;
    assert!(page.body.contains("Waiting for review"));
    let queue = staff(&app).await.get("/admin/licenses").await;
    assert!(
        queue
            .body
            .contains(&format!("href=\"/admin/licenses/{id}\">Acme Corp</a>"))
    );
}

#[tokio::test]
async fn both_products_make_one_license_each_with_its_own_key() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;

    let page = request(
        &agent,
        &["saas", "self_managed"],
        "3",
        &["demos", "training"],
        "",
    )
    .await;

    page.assert_redirect("/licenses");
    let all = licenses(&app).await;
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|l| l.state == "active" && l.users == 3));
    assert_ne!(all[0].license_key, all[1].license_key);
    let list = agent.get("/licenses").await;
    for l in &all {
        assert!(list.body.contains(&format!("href=\"/licenses/{}\"", l.id)));
    }
}

#[tokio::test]
async fn bad_input_is_shown_next_to_each_field_and_kept() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    agent.get("/licenses").await;

    let page = agent
        .post(
            "/licenses",
            &[("users", "ten"), ("justification", "kept text")],
        )
        .await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in [
        "Choose SaaS, Self-Managed or both.",
        "Enter the number of users as a whole number, like 5.",
        "Choose at least one purpose.",
        "Confirm that you accept the NFR license terms.",
    ] {
        assert!(page.body.contains(message), "{message}");
    }
    assert!(page.body.contains("value=\"ten\""));
    assert!(page.body.contains(">kept text</textarea>"));
    assert!(licenses(&app).await.is_empty());
}

#[tokio::test]
async fn a_second_license_for_the_same_product_is_refused() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    requested(&agent, "saas", 5).await;
    requested(&agent, "self_managed", 20).await;

    let again = request(&agent, &["saas"], "2", &["demos"], "").await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again
            .body
            .contains("You already have an active SaaS license"),
        "{}",
        again.snippet()
    );
    assert!(again.body.contains("Renew it from its page"));

    let pending = request(&agent, &["self_managed"], "2", &["demos"], "").await;
    assert_eq!(pending.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        pending
            .body
            .contains("already have a Self-Managed request waiting for review")
    );

    // Both at once: refused whole, nothing half-made.
    let both = request(&agent, &["saas", "self_managed"], "2", &["demos"], "").await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(licenses(&app).await.len(), 2);
}

#[tokio::test]
async fn concurrent_requests_for_one_product_make_one_license() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    agent.get("/licenses").await;
    let fields = [
        ("products", "saas"),
        ("users", "4"),
        ("purposes", "demos"),
        ("terms_accepted", "on"),
    ];

    let pages =
        futures_util::future::join_all((0..6).map(|_| agent.post("/licenses", &fields))).await;

    let issued = pages
        .iter()
        .filter(|p| p.status == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(
        issued,
        1,
        "{:?}",
        pages.iter().map(|p| p.status).collect::<Vec<_>>()
    );
    assert!(
        pages
            .iter()
            .all(|p| p.status == StatusCode::SEE_OTHER
                || p.status == StatusCode::UNPROCESSABLE_ENTITY)
    );
    assert_eq!(licenses(&app).await.len(), 1);
}

/// Refused with the reason on the page, and nothing created.
async fn assert_refused(app: &TestApp, agent: &Agent, reason: &str, link: &str) {
    let page = agent.get("/licenses").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(reason), "{}", page.snippet());
    assert!(page.body.contains(&format!("href=\"{link}\"")));
    assert!(!page.body.contains("name=\"terms_accepted\""), "no form");
    let post = agent
        .post(
            "/licenses",
            &[
                ("products", "saas"),
                ("users", "2"),
                ("purposes", "demos"),
                ("terms_accepted", "on"),
            ],
        )
        .await;
    assert_eq!(post.status, StatusCode::FORBIDDEN);
    assert!(post.body.contains(reason));
    assert!(licenses(app).await.is_empty());
    let emails: i64 =
        sqlx::query_scalar("select count(*) from outbox_emails where kind like 'license%'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(emails, 0);
}

#[tokio::test]
async fn a_partner_not_yet_approved_cannot_request() {
    let app = spawn_app().await;
    let (agent, _) = organisation(&app, "Acme Corp", OWNER).await;
    assert_refused(
        &app,
        &agent,
        "available once your application is approved",
        "/application",
    )
    .await;
}

#[tokio::test]
async fn a_suspended_partner_cannot_request() {
    let app = spawn_app().await;
    let (agent, partner_id) = approved_partner(&app, "Acme Corp", OWNER).await;
    sqlx::query("update applications set state = 'suspended' where partner_id = $1")
        .bind(partner_id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_refused(&app, &agent, "Your partnership is suspended", "/dashboard").await;
}

#[tokio::test]
async fn an_admin_must_accept_a_new_agreement_first() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    sqlx::query("insert into agreement_versions (version, body, published_at) values ('2026-11', 'New terms.', now())")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_refused(
        &app,
        &agent,
        "A new version of the Technology Partner Agreement was published",
        "/agreement",
    )
    .await;
}

#[tokio::test]
async fn a_member_who_is_not_an_admin_cannot_request() {
    let app = spawn_app().await;
    let (_, partner_id) = approved_partner(&app, "Acme Corp", OWNER).await;
    let member = app.partner_user("Mo Member", "mo@acme.test").await;
    sqlx::query(
        "insert into partner_members (partner_id, user_id, role, created_at)
         select $1, id, 'member', now() from users where email = 'mo@acme.test'",
    )
    .bind(partner_id)
    .execute(&app.pool)
    .await
    .unwrap();
    assert_refused(
        &app,
        &member,
        "Only your organisation&#39;s admins can do this.",
        "/team",
    )
    .await;
}

#[tokio::test]
async fn the_list_gives_each_term_its_exact_time_on_hover() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "saas", 5).await;
    let expires = license(&app, id).await.expires_at.unwrap();

    let page = agent.get("/licenses").await;

    let iso = expires.format("%Y-%m-%dT%H:%M").to_string();
    let start = page
        .body
        .find(&format!("<time datetime=\"{iso}"))
        .unwrap_or_else(|| panic!("the expiry in a <time>: {}", page.snippet()));
    let element = &page.body[start..start + page.body[start..].find("</time>").unwrap()];
    assert!(element.contains(" title=\""), "{element}");
    assert!(element.contains(">expires "), "{element}");
}

#[tokio::test]
async fn an_empty_list_says_what_to_do_next() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;

    let page = agent.get("/licenses").await;

    assert!(
        page.body
            .contains("Your organisation has no licenses yet. Request them with the form below")
    );
}
