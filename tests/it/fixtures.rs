//! Ready-made situations that many tests start from.

use crate::{agent::Agent, helpers::TestApp};

/// A signed-in owner of an organisation with no application submitted yet.
pub async fn organisation(app: &TestApp, company: &str, email: &str) -> (Agent, i64) {
    let agent = app
        .partner_user(&format!("Owner of {company}"), email)
        .await;
    agent.get("/organization/new").await;
    agent
        .post("/organization/new", &[("company_name", company)])
        .await
        .assert_redirect("/application");
    let partner_id: i64 = sqlx::query_scalar(
        "select m.partner_id from partner_members m join users u on u.id = m.user_id where lower(u.email) = lower($1)",
    )
    .bind(email)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    agent.get("/dashboard").await;
    (agent, partner_id)
}

/// An approved partner that accepted the current agreement; its owner signed in.
pub async fn approved_partner(app: &TestApp, company: &str, email: &str) -> (Agent, i64) {
    let (agent, partner_id) = organisation(app, company, email).await;
    sqlx::query(
        "update applications set state = 'approved', partner_type = 'technology', submitted_at = now(), decided_at = now()
          where partner_id = $1",
    )
    .bind(partner_id)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into agreement_acceptances (partner_id, version_id, user_id, accepted_at)
         select $1, (select id from agreement_versions order by published_at desc, id desc limit 1),
                (select user_id from partner_members where partner_id = $1 and role = 'owner'), now()",
    )
    .bind(partner_id)
    .execute(&app.pool)
    .await
    .unwrap();
    agent.get("/dashboard").await;
    (agent, partner_id)
}
