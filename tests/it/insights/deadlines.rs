//! Deadlines met and missed per month by severity, program-wide and in a
//! partner's own trend, against hand-counted issues: a resolution in the
//! last second of a month and one in the first second of the next, one at
//! its deadline exactly, a severity change that moves a missed deadline to
//! another month and severity, a reopened issue, an empty month, and the
//! current month where only deadlines already past count.

use chrono::{DateTime, Duration, Utc};

use super::support::*;
use crate::{
    agent::Agent,
    fixtures,
    helpers::{TestApp, spawn_app},
};

pub struct Program {
    pub app: TestApp,
    pub now: DateTime<Utc>,
    pub staff: Agent,
    /// Acme's owner, signed in; its issues are the hand-counted ones.
    pub acme: Agent,
    /// Globex's owner: one deadline met, in the same month as one of Acme's.
    pub globex: Agent,
    pub severity_changes: i64,
    pub reopens: i64,
}

/// Months are counted back from the month of `now`: m(0) is this one.
pub async fn program() -> Program {
    let app = spawn_app().await;
    let now = app.clock.now();
    let m = |back| month(now, back);
    let (acme, acme_id) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let (globex, globex_id) = fixtures::approved_partner(&app, "Globex", "hank@globex.test").await;
    let acme_id = Some(acme_id);

    // m(3) and m(2): two S4 deadlines in m(1), met by resolutions a second
    // apart across the month boundary.
    Issue::new(acme_id, 4, m(3) + days(10))
        .resolved(m(2) - Duration::seconds(1))
        .insert(&app)
        .await;
    Issue::new(acme_id, 4, m(3) + days(10))
        .resolved(m(2))
        .insert(&app)
        .await;
    // Globex meets an S3 deadline in m(3): the program counts it, Acme not.
    Issue::new(Some(globex_id), 3, m(3) + days(1))
        .resolved(m(3) + days(5))
        .insert(&app)
        .await;
    // m(2): resolved at its deadline exactly is too late.
    let at_deadline = Issue::new(acme_id, 1, m(2) + days(3));
    let deadline = at_deadline.deadline().unwrap();
    at_deadline.resolved(deadline).insert(&app).await;
    // m(4): an open S1 issue, missed; staff raise it to S4 below, which
    // moves its deadline (60 days from the same start) into m(2).
    let severity_changes = Issue::new(acme_id, 1, m(4) + days(2)).insert(&app).await;
    // m(1): met in m(1), then reopened below: missed in m(1).
    let reopens = Issue::new(acme_id, 1, m(1) + days(1))
        .resolved(m(1) + days(5))
        .insert(&app)
        .await;
    // This month: one deadline already past (missed), two still to come.
    let past = now - (now - m(0)) / 2;
    Issue::new(acme_id, 1, past - days(7)).insert(&app).await;
    Issue::new(acme_id, 2, now + Duration::minutes(1) - days(30))
        .insert(&app)
        .await;
    Issue::new(acme_id, 4, now - hours(1)).insert(&app).await;
    // Waiting for triage, with a deadline long past: no partner's deadline.
    Issue::new(None, 1, m(1) + days(2)).insert(&app).await;

    let staff = staff(&app).await;
    Program {
        app,
        now,
        staff,
        acme,
        globex,
        severity_changes,
        reopens,
    }
}

const SIX_MONTHS: &str = "/admin/insights/deadlines.csv?months=6";

#[tokio::test]
async fn deadlines_are_counted_per_month_and_severity_and_follow_changes() {
    let p = program().await;
    let m = |back| month_name(month(p.now, back));
    let rows = csv(&p.staff, SIX_MONTHS).await;
    assert_eq!(rows[0], ["Month", "Severity", "Met", "Missed"]);
    assert_eq!(
        rows.len(),
        1 + 6 * 4,
        "six months of four severities: {rows:?}"
    );
    //                                     S1     S2     S3     S4
    assert_eq!(
        by_severity(&rows, &m(5)),
        [0, 0, 0, 0, 0, 0, 0, 0],
        "an empty month"
    );
    assert_eq!(by_severity(&rows, &m(4)), [0, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(by_severity(&rows, &m(3)), [0, 0, 0, 0, 1, 0, 1, 0]);
    assert_eq!(by_severity(&rows, &m(2)), [0, 1, 0, 0, 0, 0, 1, 0]);
    assert_eq!(by_severity(&rows, &m(1)), [1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        by_severity(&rows, &m(0)),
        [0, 1, 0, 0, 0, 0, 0, 0],
        "only the deadline already past"
    );

    // Staff raise the m(4) issue to severity 4 and reopen the m(1) one.
    p.staff
        .get(&format!("/admin/issues/{}", p.severity_changes))
        .await;
    p.staff
        .post(
            &format!("/admin/issues/{}/severity", p.severity_changes),
            &[("severity", "4")],
        )
        .await
        .assert_redirect(&format!("/admin/issues/{}", p.severity_changes));
    p.staff
        .post(&format!("/admin/issues/{}/reopen", p.reopens), &[])
        .await
        .assert_redirect(&format!("/admin/issues/{}", p.reopens));

    let rows = csv(&p.staff, SIX_MONTHS).await;
    assert_eq!(by_severity(&rows, &m(5)), [0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        by_severity(&rows, &m(4)),
        [0, 0, 0, 0, 0, 0, 0, 0],
        "the S1 deadline moved away"
    );
    assert_eq!(by_severity(&rows, &m(3)), [0, 0, 0, 0, 1, 0, 1, 0]);
    assert_eq!(
        by_severity(&rows, &m(2)),
        [0, 1, 0, 0, 0, 0, 1, 1],
        "to S4 in m(2)"
    );
    assert_eq!(
        by_severity(&rows, &m(1)),
        [0, 1, 0, 0, 0, 0, 0, 0],
        "reopened: no longer met"
    );
    assert_eq!(by_severity(&rows, &m(0)), [0, 1, 0, 0, 0, 0, 0, 0]);
    assert_counts_consistent(&p.app).await;
}

#[tokio::test]
async fn a_partner_trend_counts_only_its_own_deadlines() {
    let p = program().await;
    let m = |back| month_name(month(p.now, back));
    let acme = csv(&p.acme, "/dashboard/scorecard.csv").await;
    assert_eq!(acme[0], ["Month", "Met", "Missed"]);
    assert_eq!(acme.len(), 13, "twelve months and the header");
    assert_eq!(acme[1][0], m(11));
    assert_eq!(acme[12][0], m(0));
    assert_eq!(numbers(&acme, &m(5)), [0, 0]);
    assert_eq!(numbers(&acme, &m(4)), [0, 1]);
    assert_eq!(
        numbers(&acme, &m(3)),
        [1, 0],
        "Globex's deadline is not Acme's"
    );
    assert_eq!(numbers(&acme, &m(2)), [1, 1]);
    assert_eq!(numbers(&acme, &m(1)), [1, 0]);
    assert_eq!(numbers(&acme, &m(0)), [0, 1]);
    let globex = csv(&p.globex, "/dashboard/scorecard.csv").await;
    let total = |rows: &[Vec<String>], col: usize| -> i64 {
        rows[1..]
            .iter()
            .map(|r| r[col].parse::<i64>().unwrap())
            .sum()
    };
    assert_eq!(numbers(&globex, &m(3)), [1, 0]);
    assert_eq!((total(&globex, 1), total(&globex, 2)), (1, 0));

    // The dashboard draws the same trend under the scorecard's numbers, and
    // the table under the chart holds the CSV's numbers.
    let page = p.acme.get("/dashboard").await;
    let body = &page.body;
    let numbers_at = body.find("Last 90 days").expect("today's numbers");
    let chart_at = body
        .find("Your deadlines, month by month")
        .expect("the trend");
    assert!(
        numbers_at < chart_at,
        "the trend comes under today's numbers"
    );
    assert!(body.contains("role=\"img\""));
    assert!(body.contains("href=\"/dashboard/scorecard.csv\""));
    assert_eq!(
        super::page::table(body, "scorecard"),
        acme,
        "the dashboard's table is the CSV"
    );
    assert!(
        body.contains("you met 3 deadlines and missed 3 (50\u{a0}% met)"),
        "{}",
        page.snippet()
    );
}
