//! "Sign in with GitLab" (PRODUCT.md §9) and namespace ownership proven by
//! it (§4), against the suite's GitLab double acting as the OpenID
//! provider over real HTTP.

mod journey;
mod link;
mod ownership;
mod refusals;
mod sign_in;

use reqwest::StatusCode;

use crate::{
    agent::{Agent, Page},
    gitlab::{
        GitLabDouble,
        oidc::{GitLabUser, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET},
    },
    helpers::{Spawn, TestApp, spawn_app_with},
};

/// A portal whose GitLab is `double`, with the OAuth application set.
pub async fn spawn_with(double: &GitLabDouble) -> TestApp {
    spawn_app_with(Spawn {
        overrides: &[
            ("PORTAL_GITLAB_URL", &double.url),
            ("PORTAL_GITLAB_OAUTH_CLIENT_ID", OAUTH_CLIENT_ID),
            ("PORTAL_GITLAB_OAUTH_CLIENT_SECRET", OAUTH_CLIENT_SECRET),
        ],
        ..Spawn::default()
    })
    .await
}

/// A double and a portal using it.
pub async fn setup() -> (GitLabDouble, TestApp) {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double).await;
    (double, app)
}

/// The GitLab account of Ada, Owner of the `acme-corp` group.
pub fn ada() -> GitLabUser {
    GitLabUser::new(4242, "ada", "ada@acme.test").owning(&["acme-corp", "acme-corp/tools"])
}

/// The portal's redirect to GitLab and GitLab's redirect back, as a
/// browser follows them: returns where GitLab sent the browser back (a
/// path of the portal, with the code and state).
pub async fn to_gitlab_and_back(agent: &Agent, start: &str) -> String {
    let leave = agent.get(start).await;
    assert_eq!(leave.status, StatusCode::SEE_OTHER, "{}", leave.snippet());
    let authorize = leave.location.expect("a redirect to GitLab");
    let back = agent.client.get(&authorize).send().await.unwrap();
    assert!(back.status().is_redirection(), "GitLab answered {back:?}");
    let to = back.headers()["location"].to_str().unwrap().to_owned();
    to.strip_prefix(&agent.base)
        .unwrap_or_else(|| panic!("GitLab sent the browser elsewhere: {to}"))
        .to_owned()
}

/// "Sign in with GitLab" from `start`, all the way: the portal's answer to
/// GitLab's callback.
pub async fn via_gitlab(agent: &Agent, start: &str) -> Page {
    let callback = to_gitlab_and_back(agent, start).await;
    agent.get(&callback).await
}

pub async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

/// Audit entries of `action`.
pub async fn audited(app: &TestApp, action: &str) -> Vec<serde_json::Value> {
    sqlx::query_scalar(
        "select coalesce(after, before, 'null'::jsonb) from audit_log where action = $1 order by id",
    )
    .bind(action)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// Whether this agent's cookie opens a page for signed-in people.
pub async fn signed_in(agent: &Agent) -> bool {
    agent.get("/account").await.status == StatusCode::OK
}
