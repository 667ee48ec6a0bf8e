//! A partner's scorecard: deadlines met and missed over the last 90 days,
//! and where its open issues stand.
//!
//! An issue counts as *met* when it was resolved in the window before its
//! deadline, and as *missed* when its deadline fell in the window and it was
//! not resolved before it (still open, or resolved late).

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

pub const WINDOW_DAYS: i64 = 90;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Scorecard {
    pub open: i64,
    pub overdue: i64,
    pub untriaged: i64,
    pub met: i64,
    pub missed: i64,
}

impl Scorecard {
    /// "83 %" of deadlines met, or "—" with nothing to count yet.
    pub fn met_rate(&self) -> String {
        let total = self.met + self.missed;
        if total == 0 {
            "—".to_owned()
        } else {
            format!("{} %", (self.met * 100 + total / 2) / total)
        }
    }
}

/// The scorecard of the organisation of a tenant transaction (row-level
/// security limits the counts to it), or of every issue on the privileged
/// path.
pub async fn load(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<Scorecard, sqlx::Error> {
    sqlx::query_as!(
        Scorecard,
        r#"select open as "open!", overdue as "overdue!", untriaged as "untriaged!",
                  met as "met!", missed as "missed!"
             from issue_scorecard($1, $2)"#,
        now,
        window_start(now)
    )
    .fetch_one(conn)
    .await
}

/// Where the scorecard's window starts at `now`.
pub fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(WINDOW_DAYS)
}

pub struct PartnerScore {
    pub partner_id: i64,
    pub company: String,
    pub score: Scorecard,
}

/// Every partner with issues in play, most missed first (privileged path).
pub async fn per_partner(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
    offset: i64,
) -> Result<Vec<PartnerScore>, sqlx::Error> {
    let since = window_start(now);
    let rows = sqlx::query!(
        r#"select p.id as "partner_id!", p.company_name as "company!",
                  count(*) filter (where i.state = 'open') as "open!",
                  count(*) filter (where i.state = 'open' and i.deadline_at <= $1) as "overdue!",
                  count(*) filter (where i.state = 'open' and i.severity is null) as "untriaged!",
                  count(*) filter (where i.resolved_at >= $2 and i.resolved_at < i.deadline_at) as "met!",
                  count(*) filter (where i.deadline_at >= $2 and i.deadline_at <= $1
                                     and (i.resolved_at is null or i.resolved_at >= i.deadline_at)) as "missed!"
             from issues i join partners p on p.id = i.partner_id
            where i.state = 'open' or i.resolved_at >= $2 or i.deadline_at >= $2
            group by p.id, p.company_name
            order by 7 desc, 4 desc, p.company_name_folded
            limit $3 offset $4"#,
        now,
        since,
        limit,
        offset
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PartnerScore {
            partner_id: r.partner_id,
            company: r.company,
            score: Scorecard {
                open: r.open,
                overdue: r.overdue,
                untriaged: r.untriaged,
                met: r.met,
                missed: r.missed,
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_rounds_and_says_when_there_is_nothing_to_count() {
        let card = |met, missed| Scorecard {
            met,
            missed,
            ..Scorecard::default()
        };
        assert_eq!(card(0, 0).met_rate(), "—");
        assert_eq!(card(5, 1).met_rate(), "83 %");
        assert_eq!(card(2, 1).met_rate(), "67 %");
        assert_eq!(card(0, 3).met_rate(), "0 %");
    }
}
