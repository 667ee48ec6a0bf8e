//! Fixtures of the insight tests: moments counted from the server's clock
//! (so a test means the same on any day), rows written as the portal
//! writes them, the CSV of a chart read back, and the check that the
//! counts the triggers keep equal the counts made afresh.

use chrono::{DateTime, Datelike, Days, Duration, Months, NaiveDate, TimeZone, Utc};
use partner_portal::accounts::staff::StaffRole;
use reqwest::StatusCode;
use sqlx::{Postgres, Transaction};

use crate::{agent::Agent, helpers::TestApp};

/// A transaction of another writer whose session speaks UTC+14 (the
/// portal's own sessions ask for UTC): the counts its rows make must still
/// fall on UTC days and months. Fixtures are written through it.
pub async fn writer(app: &TestApp) -> Transaction<'static, Postgres> {
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("set local timezone to 'Pacific/Kiritimati'")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

/// The first instant of the month `back` months before the month of `now`.
pub fn month(now: DateTime<Utc>, back: u32) -> DateTime<Utc> {
    let first = now.date_naive().with_day(1).unwrap() - Months::new(back);
    midnight(first)
}

pub fn midnight(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
}

/// "March 2026", as the tables name months.
pub fn month_name(t: DateTime<Utc>) -> String {
    t.format("%B %Y").to_string()
}

/// "2 March 2026", as the tables name days and weeks.
pub fn day_name(t: DateTime<Utc>) -> String {
    t.format("%-d %B %Y").to_string()
}

/// Monday 00:00 of the week `back` weeks before the week of `now`.
pub fn week(now: DateTime<Utc>, back: u64) -> DateTime<Utc> {
    let today = now.date_naive();
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    midnight(monday - Days::new(7 * back))
}

/// The first Monday of the month `back` months before the month of `now`.
pub fn first_monday(now: DateTime<Utc>, back: u32) -> DateTime<Utc> {
    let first = month(now, back);
    let skip = (7 - first.weekday().num_days_from_monday()) % 7;
    first + Duration::days(i64::from(skip))
}

pub fn days(n: i64) -> Duration {
    Duration::days(n)
}

pub fn hours(n: i64) -> Duration {
    Duration::hours(n)
}

/// A partner organisation with nothing else (no one signs in for it).
pub async fn partner(app: &TestApp, company: &str) -> i64 {
    let mut tx = writer(app).await;
    let id = sqlx::query_scalar(
        "insert into partners (company_name, slug, created_at) values ($1, lower(replace($1, ' ', '-')), $2) returning id",
    )
    .bind(company)
    .bind(app.clock.now())
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// An issue as the portal stores it. `deadline` follows from `start` and
/// the severity's default window unless given.
pub struct Issue {
    pub partner_id: Option<i64>,
    pub severity: Option<i16>,
    pub start: Option<DateTime<Utc>>,
    pub resolved: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
}

impl Issue {
    pub fn new(partner_id: Option<i64>, severity: i16, start: DateTime<Utc>) -> Self {
        Self {
            partner_id,
            severity: Some(severity),
            start: Some(start),
            resolved: None,
            created: start,
        }
    }

    pub fn resolved(mut self, at: DateTime<Utc>) -> Self {
        self.resolved = Some(at);
        self
    }

    pub fn untriaged(created: DateTime<Utc>) -> Self {
        Self {
            partner_id: None,
            severity: None,
            start: None,
            resolved: None,
            created,
        }
    }

    pub fn deadline(&self) -> Option<DateTime<Utc>> {
        let window = match self.severity? {
            1 => 7,
            2 => 30,
            3 => 45,
            _ => 60,
        };
        Some(self.start? + days(window))
    }

    pub async fn insert(&self, app: &TestApp) -> i64 {
        let mut tx = writer(app).await;
        let id = sqlx::query_scalar(
            "insert into issues (partner_id, source, title, severity, clock_started_at, deadline_at, state,
                                 resolved_at, routed_at, created_at)
             values ($1, 'staff', 'Scanner fails on empty reports', $2, $3, $4, $5, $6,
                     case when $1::bigint is not null then $7::timestamptz end, $7)
             returning id",
        )
        .bind(self.partner_id)
        .bind(self.severity)
        .bind(self.start)
        .bind(self.deadline())
        .bind(if self.resolved.is_some() { "closed" } else { "open" })
        .bind(self.resolved)
        .bind(self.created)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        id
    }
}

/// A staff reviewer, signed in.
pub async fn staff(app: &TestApp) -> Agent {
    app.staff_user("insights@portal.test", StaffRole::Reviewer)
        .await
}

/// The rows of a CSV (header first) downloaded by `agent`.
pub async fn csv(agent: &Agent, path: &str) -> Vec<Vec<String>> {
    let page = agent.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.snippet());
    parse_csv(&page.body)
}

/// Our CSVs quote nothing (no field holds a comma or a quote): split.
pub fn parse_csv(body: &str) -> Vec<Vec<String>> {
    assert!(!body.contains('"'), "a field was quoted: {body}");
    body.split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

/// The row whose first cell is `label`, as numbers (an empty cell is -1).
#[track_caller]
pub fn numbers(rows: &[Vec<String>], label: &str) -> Vec<i64> {
    let row = rows
        .iter()
        .find(|r| r[0] == label)
        .unwrap_or_else(|| panic!("no row {label:?} in {rows:?}"));
    row[1..]
        .iter()
        .map(|c| {
            if c.is_empty() {
                -1
            } else {
                c.parse().unwrap_or(-2)
            }
        })
        .collect()
}

/// The deadlines of `month` as one line: S1 met, S1 missed, … S4 missed
/// (the table has a line per month and severity).
#[track_caller]
pub fn by_severity(rows: &[Vec<String>], month: &str) -> Vec<i64> {
    let lines: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == month).collect();
    assert_eq!(lines.len(), 4, "four severities in {month}: {rows:?}");
    lines
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            assert_eq!(r[1], format!("S{}", i + 1));
            [r[2].parse::<i64>().unwrap(), r[3].parse::<i64>().unwrap()]
        })
        .collect()
}

/// The row whose first cell is `label`, as written.
#[track_caller]
pub fn cells<'a>(rows: &'a [Vec<String>], label: &str) -> &'a [String] {
    &rows
        .iter()
        .find(|r| r[0] == label)
        .unwrap_or_else(|| panic!("no row {label:?} in {rows:?}"))[1..]
}

const COUNTS: &str = "
    select 'days' as t, row(d.*)::text as r from insight_issue_days d where (opened, closed, met, due_unmet) <> (0, 0, 0, 0)
    union all select 'partner', row(d.*)::text from insight_partner_deadlines d where (met, due_unmet) <> (0, 0)
    union all select 'applications', row(d.*)::text from insight_application_months d
               where (started, submitted, approved, rejected) <> (0, 0, 0, 0)
    union all select 'decisions', row(d.*)::text from insight_decision_hours d where decisions <> 0
    union all select 'mix', row(d.*)::text from insight_partner_mix d where partners <> 0
    union all select 'licenses', row(d.*)::text from insight_license_expiry d where licenses <> 0
    order by 1, 2";

/// The counts the triggers kept are the counts `insight_rebuild()` makes
/// from the rows themselves (checked in a transaction rolled back).
pub async fn assert_counts_consistent(app: &TestApp) {
    let kept: Vec<(String, String)> = sqlx::query_as(COUNTS).fetch_all(&app.pool).await.unwrap();
    assert!(!kept.is_empty(), "the triggers counted nothing");
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("select insight_rebuild()")
        .execute(&mut *tx)
        .await
        .unwrap();
    let fresh: Vec<(String, String)> = sqlx::query_as(COUNTS).fetch_all(&mut *tx).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(kept, fresh, "running counts differ from counts made afresh");
}
