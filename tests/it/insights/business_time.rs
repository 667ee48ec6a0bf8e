//! The database's business clock (time to decision) is the portal's own:
//! both count Monday to Friday, UTC, and agree to the microsecond.

use chrono::{Duration, TimeZone, Utc};
use partner_portal::dates::{add_business_days, business_days_between};

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_database_counts_business_time_as_the_portal_does() {
    let app = spawn_app().await;
    // A fortnight of starts, an hour and a bit apart, across two weekends
    // (the dates are fixed: this is arithmetic, not "now").
    let first = Utc.with_ymd_and_hms(2027, 3, 5, 0, 30, 0).unwrap();
    let mut checked = 0;
    for step in 0..(14 * 24 / 5) {
        let start = first + Duration::minutes(step * 5 * 60 + 7);
        for n in [0u32, 1, 2, 5, 9] {
            let due = add_business_days(start, n);
            let (hours, whole_days): (i32, i64) = sqlx::query_as(
                "select business_hours_between($1, $2),
                        ((business_micros($2) - business_micros($1)) / 86400000000)::bigint",
            )
            .bind(start)
            .bind(due)
            .fetch_one(&app.pool)
            .await
            .unwrap();
            assert_eq!(hours, 24 * n as i32, "{start} + {n} business days");
            assert_eq!(whole_days, business_days_between(start, due));
            // A second less is an hour less, rounded up.
            let (just_before,): (i32,) = sqlx::query_as("select business_hours_between($1, $2)")
                .bind(start)
                .bind(due - Duration::seconds(1))
                .fetch_one(&app.pool)
                .await
                .unwrap();
            assert_eq!(
                just_before,
                (24 * n as i32).max(0),
                "{start} + {n} days - 1 s"
            );
            checked += 1;
        }
    }
    assert!(checked > 300);
}
