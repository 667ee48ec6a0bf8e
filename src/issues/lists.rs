//! The lists of issues: the partner's, the staff's with filters, the triage
//! queue, and the counts on the staff home. Pages fetch one row more than
//! they show to know whether there is a next page, without counting.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, postgres::PgArguments, query::QueryAs};

use super::{
    DeadlineState, Severity, clock,
    record::reference,
    scorecard::{self, Scorecard},
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListRow {
    pub id: i64,
    pub title: String,
    pub iid: Option<i64>,
    pub project_path: Option<String>,
    pub severity: Option<i16>,
    pub state: String,
    pub clock_started_at: Option<DateTime<Utc>>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub confidential: bool,
    pub first_response_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub company: Option<String>,
}

impl ListRow {
    pub fn severity(&self) -> Option<Severity> {
        self.severity.and_then(Severity::from_i16)
    }

    pub fn reference(&self) -> String {
        reference(self.project_path.as_deref(), self.iid)
    }

    pub fn deadline_state(&self, now: DateTime<Utc>) -> DeadlineState {
        clock::state(
            now,
            self.clock_started_at,
            self.deadline_at,
            self.resolved_at,
        )
    }
}

/// The orders of the partner's issue list.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum PartnerOrder {
    /// Open issues first, the soonest deadline first; then closed ones,
    /// the latest resolved first.
    #[default]
    Urgent,
    /// The latest to arrive first.
    Newest,
    /// Severity 1 first (unset last), then as [`PartnerOrder::Urgent`].
    Severity,
}

/// The partner list's statement ending in `order by $order`: one fixed
/// statement per order, so each is prepared once per connection and its
/// plan can walk the index that keeps that order. Each row also carries the
/// organisation's scorecard (`issue_scorecard`, computed once and joined to
/// every row), so the page reads both in one round trip.
macro_rules! partner_list_sql {
    ($order:literal) => {
        concat!(
            "select id, title, iid, project_path, severity, state, clock_started_at, deadline_at,
                    resolved_at, confidential, first_response_at, created_at, null::text as company,
                    sc.open, sc.overdue, sc.untriaged, sc.met, sc.missed
               from issues cross join issue_scorecard($4, $5) sc
              where ($1::text is null or state = $1)
              order by ",
            $order,
            " limit $2 offset $3"
        )
    };
}

impl PartnerOrder {
    /// Unknown values are the default order.
    pub fn parse(value: &str) -> Self {
        match value {
            "newest" => Self::Newest,
            "severity" => Self::Severity,
            _ => Self::Urgent,
        }
    }

    /// The value in a query string; empty for the default.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Urgent => "",
            Self::Newest => "newest",
            Self::Severity => "severity",
        }
    }

    /// The statement; the first two orders are those of the indexes
    /// `issues_partner_urgent` and `issues_partner_newest` column for
    /// column (row-level security supplies `partner_id`), so a page reads
    /// its 21 rows instead of sorting every issue of the organisation.
    /// Severity order, chosen rarely, sorts the organisation's issues.
    fn sql(self) -> &'static str {
        match self {
            Self::Urgent => partner_list_sql!(
                "state <> 'open', case when state = 'open' then deadline_at end,
                 resolved_at desc, id desc"
            ),
            Self::Newest => partner_list_sql!("created_at desc, id desc"),
            Self::Severity => partner_list_sql!(
                "coalesce(severity, 5), state <> 'open', case when state = 'open' then deadline_at end,
                 resolved_at desc, id desc"
            ),
        }
    }
}

/// A line of the partner's list with the scorecard it was read with.
#[derive(sqlx::FromRow)]
struct PartnerRow {
    #[sqlx(flatten)]
    line: ListRow,
    #[sqlx(flatten)]
    score: Scorecard,
}

/// The organisation's issues (tenant transaction) with `status` (`open`,
/// `closed` or any) in `order`, and its scorecard at `now`.
pub async fn for_partner(
    conn: &mut PgConnection,
    status: Option<&str>,
    order: PartnerOrder,
    limit: i64,
    offset: i64,
    now: DateTime<Utc>,
) -> Result<(Vec<ListRow>, Scorecard), sqlx::Error> {
    let rows = sqlx::query_as::<_, PartnerRow>(order.sql())
        .bind(status)
        .bind(limit)
        .bind(offset)
        .bind(now)
        .bind(scorecard::window_start(now))
        .fetch_all(&mut *conn)
        .await?;
    // A page without lines has no row to carry the scorecard.
    let score = match rows.first() {
        Some(row) => row.score,
        None => scorecard::load(conn, now).await?,
    };
    Ok((rows.into_iter().map(|r| r.line).collect(), score))
}

/// Filters of the staff list; `None` means any.
#[derive(Debug, Default, Clone)]
pub struct StaffFilter {
    pub partner_id: Option<i64>,
    /// Part of the partner's company name, any case.
    pub partner_name: Option<String>,
    /// 1 to 4, or 0 for "no severity yet".
    pub severity: Option<i16>,
    /// `open`, `closed` or `triage` (waiting for a partner); `None`: all.
    pub state: Option<String>,
    pub overdue: bool,
    pub order: StaffOrder,
}

/// The orders staff can choose on the issue list. Each one is the order of
/// an index the filters narrow (`issues_open_deadline`/`issues_deadline`,
/// `issues_open_severity_deadline`/`issues_severity_deadline`,
/// `issues_created`), so a page never sorts a million issues.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum StaffOrder {
    /// The soonest deadline first; issues without a clock last.
    #[default]
    Deadline,
    /// Severity 1 first, then the soonest deadline; unset severities last.
    Severity,
    /// The latest to arrive first.
    Newest,
}

impl StaffOrder {
    /// Unknown values are the default order.
    pub fn parse(value: &str) -> Self {
        match value {
            "severity" => Self::Severity,
            "newest" => Self::Newest,
            _ => Self::Deadline,
        }
    }

    /// The value in a query string; empty for the default.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deadline => "",
            Self::Severity => "severity",
            Self::Newest => "newest",
        }
    }

    /// The `order by` clause, written to match its index column for column.
    fn sql(self) -> &'static str {
        match self {
            Self::Deadline => "i.deadline_at nulls last, i.id",
            Self::Severity => "i.severity nulls last, i.deadline_at nulls last, i.id",
            Self::Newest => "i.created_at desc, i.id desc",
        }
    }
}

/// Issues matching the filter, in the order chosen (each kept by an index,
/// so a page stays cheap among a million issues).
///
/// Every filter is optional, so the statement is planned for the values of
/// each request (`persistent(false)`: an unnamed statement gets a custom
/// plan): a plan made once for "any value" cannot use the severity index.
pub async fn for_staff(
    conn: &mut PgConnection,
    filter: &StaffFilter,
    now: DateTime<Utc>,
    limit: i64,
    offset: i64,
) -> Result<Vec<ListRow>, sqlx::Error> {
    let sql = staff_sql(filter.order);
    staff_query(&sql, filter, now, limit, offset)
        .fetch_all(conn)
        .await
}

/// The staff list's statement in `order`. The order clause is one of three
/// fixed strings, never user text.
pub fn staff_sql(order: StaffOrder) -> String {
    format!("{STAFF_SELECT} order by {} limit $7 offset $8", order.sql())
}

/// `sql` (from [`staff_sql`]) with the filter bound, as an unnamed
/// statement. `query_as!` cannot make one; the staff list tests run this
/// against PostgreSQL.
pub fn staff_query<'q>(
    sql: &'q str,
    filter: &'q StaffFilter,
    now: DateTime<Utc>,
    limit: i64,
    offset: i64,
) -> QueryAs<'q, Postgres, ListRow, PgArguments> {
    let name_pattern = filter
        .partner_name
        .as_deref()
        .map(crate::search::contains_pattern);
    sqlx::query_as::<_, ListRow>(sql)
        .bind(filter.partner_id)
        .bind(name_pattern)
        .bind(filter.severity)
        .bind(filter.state.as_deref())
        .bind(filter.overdue)
        .bind(now)
        .bind(limit)
        .bind(offset)
        .persistent(false)
}

/// The staff list's rows and filters, without order and limit.
const STAFF_SELECT: &str = "select i.id, i.title, i.iid, i.project_path, i.severity, i.state, i.clock_started_at,
                i.deadline_at, i.resolved_at, i.confidential, i.first_response_at,
                i.created_at, p.company_name as company
           from issues i left join partners p on p.id = i.partner_id
          where ($1::bigint is null or i.partner_id = $1)
            and ($2::text is null or p.company_name_folded like lower($2))
            and ($3::smallint is null or ($3 = 0 and i.severity is null and i.deadline_at is null) or ($3 <> 0 and i.severity = $3))
            and ($4::text is null
                 or ($4 = 'open' and i.state = 'open')
                 or ($4 = 'closed' and i.state = 'closed')
                 or ($4 = 'triage' and i.partner_id is null and i.state = 'open'))
            and (not $5 or (i.state = 'open' and i.deadline_at <= $6))";

/// Open issues waiting for a partner, oldest first.
pub async fn triage_queue(
    conn: &mut PgConnection,
    limit: i64,
    offset: i64,
) -> Result<Vec<ListRow>, sqlx::Error> {
    sqlx::query_as!(
        ListRow,
        r#"select id, title, iid, project_path, severity, state, clock_started_at, deadline_at,
                  resolved_at, confidential, first_response_at, created_at, null::text as company
             from issues
            where partner_id is null and state = 'open'
            order by created_at, id
            limit $1 offset $2"#,
        limit,
        offset
    )
    .fetch_all(conn)
    .await
}

/// The staff home's numbers.
#[derive(Debug, Default, Clone, Copy)]
pub struct StaffCounts {
    pub open: i64,
    pub overdue: i64,
    /// Open and waiting for a partner or a severity.
    pub untriaged: i64,
}

pub async fn staff_counts(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<StaffCounts, sqlx::Error> {
    let r = sqlx::query!(
        r#"select count(*) as "open!",
                  count(*) filter (where deadline_at <= $1) as "overdue!",
                  count(*) filter (where partner_id is null or severity is null) as "untriaged!"
             from issues where state = 'open'"#,
        now
    )
    .fetch_one(conn)
    .await?;
    Ok(StaffCounts {
        open: r.open,
        overdue: r.overdue,
        untriaged: r.untriaged,
    })
}

/// The approved partner staff named when assigning or entering an issue.
#[derive(Debug, PartialEq, Eq)]
pub enum PartnerPick {
    One(i64),
    NoMatch,
    /// Up to [`PICK_LIMIT`] candidates, by name.
    Several(Vec<(i64, String)>),
}

/// How many candidates a vague name lists.
pub const PICK_LIMIT: usize = 10;

/// Finds the approved partner in what staff typed: its ID (`42` or `#42`),
/// its whole name (any case), or a part of its name that only it has.
/// A typed field instead of a drop-down: the program has thousands of
/// partners, more than a list can hold.
pub async fn pick_partner(
    conn: &mut PgConnection,
    input: &str,
) -> Result<PartnerPick, sqlx::Error> {
    let found = crate::search::find_partners(conn, input, true, PICK_LIMIT as i64 + 1).await?;
    let exact: Vec<i64> = found.iter().filter(|m| m.exact).map(|m| m.id).collect();
    Ok(match (found.len(), exact.as_slice()) {
        (0, _) => PartnerPick::NoMatch,
        (1, _) => PartnerPick::One(found[0].id),
        (_, [only]) => PartnerPick::One(*only),
        _ => PartnerPick::Several(found.into_iter().map(|m| (m.id, m.company_name)).collect()),
    })
}

impl PartnerPick {
    /// The partner, or the message to show next to the field.
    pub fn into_result(self, input: &str) -> Result<i64, String> {
        let input = input.trim();
        match self {
            PartnerPick::One(id) => Ok(id),
            PartnerPick::NoMatch => Err(format!(
                "No approved partner is called or numbered \u{201c}{input}\u{201d}."
            )),
            PartnerPick::Several(found) => {
                let names: Vec<String> = found
                    .iter()
                    .take(PICK_LIMIT)
                    .map(|(id, name)| format!("{name} (#{id})"))
                    .collect();
                let count = if found.len() > PICK_LIMIT {
                    format!("More than {PICK_LIMIT}")
                } else {
                    found.len().to_string()
                };
                Err(format!(
                    "{count} approved partners match \u{201c}{input}\u{201d}: {}. Enter the whole name or the number.",
                    names.join(", ")
                ))
            }
        }
    }
}
