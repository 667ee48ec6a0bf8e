//! Issues opened and closed per week, against hand-counted issues: the
//! last second of a Sunday and the first of a Monday fall in two weeks, an
//! issue reopened leaves the week it was closed in, and the current week
//! counts what happened so far.

use chrono::Duration;

use super::support::*;

#[tokio::test]
async fn issues_are_counted_in_the_week_they_were_opened_and_closed() {
    let app = crate::helpers::spawn_app().await;
    let now = app.clock.now();
    let w = |back| week(now, back);
    let acme = Some(partner(&app, "Acme Corp").await);

    Issue::untriaged(w(3)).insert(&app).await;
    Issue::untriaged(w(3) - Duration::seconds(1))
        .insert(&app)
        .await;
    Issue::new(acme, 2, w(3) + days(1))
        .resolved(w(2) + days(2))
        .insert(&app)
        .await;
    let reopened = Issue::new(acme, 3, w(3) + days(2))
        .resolved(w(2) + days(3))
        .insert(&app)
        .await;
    Issue::new(acme, 4, w(1) + days(1))
        .resolved(w(0))
        .insert(&app)
        .await;

    let staff = staff(&app).await;
    let path = "/admin/insights/issues.csv?months=3";
    let rows = csv(&staff, path).await;
    let week = |back| day_name(w(back));
    assert_eq!(rows[0], ["Week starting", "Opened", "Closed"]);
    assert_eq!(
        rows.last().unwrap()[0],
        week(0),
        "the current week is the last"
    );
    assert_eq!(numbers(&rows, &week(4)), [1, 0], "Sunday's last second");
    assert_eq!(numbers(&rows, &week(3)), [3, 0], "Monday's first second");
    assert_eq!(numbers(&rows, &week(2)), [0, 2]);
    assert_eq!(numbers(&rows, &week(1)), [1, 0]);
    assert_eq!(numbers(&rows, &week(0)), [0, 1]);
    let opened: i64 = rows[1..].iter().map(|r| r[1].parse::<i64>().unwrap()).sum();
    assert_eq!(opened, 5, "nothing else in the period");

    staff.get(&format!("/admin/issues/{reopened}")).await;
    staff
        .post(&format!("/admin/issues/{reopened}/reopen"), &[])
        .await
        .assert_redirect(&format!("/admin/issues/{reopened}"));
    let rows = csv(&staff, path).await;
    assert_eq!(numbers(&rows, &week(3)), [3, 0], "still opened that week");
    assert_eq!(
        numbers(&rows, &week(2)),
        [0, 1],
        "reopened: no longer closed"
    );
    assert_counts_consistent(&app).await;
}
