//! One scheduler pass over a million open issues: it must look only at
//! what is due, through the partial index `issues_reminder_due`.
//!
//! `cargo test --test it scale -- --ignored --nocapture` prints the plan
//! and the timings.

use std::time::Instant;

use partner_portal::issues::{
    lists::{self, StaffFilter},
    run_daily_digest, run_reminders,
};

use super::support::*;

/// The scheduler's claim query (as in `src/issues/jobs.rs`).
const DUE: &str = "select i.id, i.partner_id, i.clock_started_at, i.deadline_at, i.last_reminder,
       i.title, i.iid, i.project_path, i.severity, i.confidential, p.company_name
  from issues i join partners p on p.id = i.partner_id
 where i.state = 'open' and i.next_reminder_at is not null and i.next_reminder_at <= $1
 order by i.next_reminder_at
 limit 200
 for update of i skip locked";

#[tokio::test]
#[ignore = "inserts 1,000,000 issues (about a minute); run with --ignored"]
async fn one_pass_over_a_million_open_issues_reads_only_what_is_due() {
    let app = spawn().await;
    let (_owner, partner) =
        partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let now = whole_seconds(app.clock.now());

    let started = Instant::now();
    // A million open S2 issues whose clocks started over the last 14 days:
    // none has reached its 50 % reminder yet…
    sqlx::query(
        "insert into issues (partner_id, source, external_id, iid, project_path, title, severity,
                             clock_started_at, deadline_at, state, next_reminder_at, created_at,
                             tracker_created_at, tracker_updated_at, routed_at)
         select $1, 'tracker', g, g, 'acme-corp/runner', 'Generated issue ' || g, 2,
                s, s + interval '30 days', 'open', s + interval '15 days', s, s, s, s
           from (select g, $2::timestamptz - (g % 1209600) * interval '1 second' as s
                   from generate_series(1, 1000000) g) t",
    )
    .bind(partner)
    .bind(now)
    .execute(&app.pool)
    .await
    .unwrap();
    // …except 100 that started 16 days ago.
    sqlx::query(
        "insert into issues (partner_id, source, external_id, iid, title, severity,
                             clock_started_at, deadline_at, state, next_reminder_at, created_at)
         select $1, 'tracker', 2000000 + g, g, 'Due issue ' || g, 2,
                $2::timestamptz - interval '16 days', $2::timestamptz + interval '14 days',
                'open', $2::timestamptz - interval '1 day', $2
           from generate_series(1, 100) g",
    )
    .bind(partner)
    .bind(now)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("analyze issues")
        .execute(&app.pool)
        .await
        .unwrap();
    println!("generated 1,000,100 open issues in {:?}", started.elapsed());

    let mut tx = app.pool.begin().await.unwrap();
    let plan: Vec<String> = sqlx::query_scalar(&format!("explain (analyze, buffers) {DUE}"))
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    println!("{}", plan.join("\n"));
    let plan = plan.join("\n");
    assert!(plan.contains("issues_reminder_due"), "{plan}");
    assert!(!plan.contains("Seq Scan on issues"), "{plan}");

    let started = Instant::now();
    let report = run_reminders(&app.state, now).await.unwrap();
    let busy = started.elapsed();
    let started = Instant::now();
    let idle = run_reminders(&app.state, now).await.unwrap();
    let quiet = started.elapsed();
    println!("pass with 100 due: {busy:?} ({report:?}); pass with none due: {quiet:?} ({idle:?})");

    // The staff pages and the digest over the same million.
    let mut conn = app.pool.acquire().await.unwrap();
    for (label, filter) in [
        ("staff list, no filter", StaffFilter::default()),
        (
            "staff list, open",
            StaffFilter {
                state: Some("open".into()),
                ..StaffFilter::default()
            },
        ),
        (
            "staff list, overdue",
            StaffFilter {
                overdue: true,
                ..StaffFilter::default()
            },
        ),
    ] {
        let started = Instant::now();
        let rows = lists::for_staff(&mut conn, &filter, now, 26, 0)
            .await
            .unwrap();
        println!("{label}: {:?} ({} rows)", started.elapsed(), rows.len());
    }
    let started = Instant::now();
    lists::staff_counts(&mut conn, now).await.unwrap();
    println!("staff home counts: {:?}", started.elapsed());
    drop(conn);
    let started = Instant::now();
    run_daily_digest(&app.state, now).await.unwrap();
    println!("daily digest: {:?}", started.elapsed());

    assert_eq!(report.reminders, 100);
    assert_eq!(idle.examined, 0);
    assert!(quiet < std::time::Duration::from_millis(200), "{quiet:?}");
}
