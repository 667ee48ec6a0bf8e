//! Namespaces, components and the verified-namespaces feed (PRODUCT.md §4).

mod catalog;
mod components;
mod feed;
mod owner;
mod register;
mod staff;
mod tenancy;

use std::{future::Future, time::Duration};

use crate::{
    agent::{Agent, Page},
    helpers::TestApp,
};

/// Registers a namespace through the page, as a partner admin would.
pub async fn register(agent: &Agent, url: &str) -> Page {
    agent.get("/namespaces").await;
    agent.post("/namespaces", &[("url", url)]).await
}

pub async fn namespace_id(app: &TestApp, url: &str) -> i64 {
    sqlx::query_scalar("select id from namespaces where url = $1 and state <> 'rejected'")
        .bind(url)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

pub async fn state_of(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("select state from namespaces where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Registers and verifies a namespace without the staff pages (setup for
/// tests about what comes after).
pub async fn verified(app: &TestApp, agent: &Agent, url: &str) -> i64 {
    register(agent, url).await.assert_redirect("/namespaces");
    let id = namespace_id(app, &url.to_lowercase()).await;
    sqlx::query("update namespaces set state = 'verified', decided_at = now(), verified_at = now() where id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    app.state.directory.invalidate();
    id
}

/// Lists a component through the page.
pub async fn add_component(agent: &Agent, namespace_id: i64, path: &str, name: &str) -> Page {
    agent.get(&format!("/namespaces/{namespace_id}")).await;
    agent
        .post(
            &format!("/namespaces/{namespace_id}/components"),
            &[
                ("path", path),
                ("name", name),
                ("description", ""),
                ("version", "1.0.0"),
            ],
        )
        .await
}

/// The feed as JSON.
pub async fn feed(app: &TestApp) -> Vec<serde_json::Value> {
    let res = app.get("/api/v1/verified-namespaces").await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    serde_json::from_slice(&res.bytes().await.unwrap()).unwrap()
}

pub async fn feed_urls(app: &TestApp) -> Vec<String> {
    feed(app)
        .await
        .iter()
        .map(|i| i["namespace_url"].as_str().unwrap().to_owned())
        .collect()
}

/// A partner user added as a plain member of an organisation.
pub async fn member_of(app: &TestApp, partner_id: i64, name: &str, email: &str) -> Agent {
    let member = app.partner_user(name, email).await;
    sqlx::query(
        "insert into partner_members (partner_id, user_id, role) select $1, id, 'member' from users where email = $2",
    )
    .bind(partner_id)
    .bind(email)
    .execute(&app.pool)
    .await
    .unwrap();
    member
}

/// Waits (up to 5 s) for a change made on another connection to reach the
/// in-memory directory through `NOTIFY directory_changed`.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}
