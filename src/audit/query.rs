//! Reading the audit log: filters as people type them, newest first, one
//! page at a time with a keyset cursor so deep pages cost what the first
//! does. The two queries walk the indexes `audit_log_occurred_at` (everyone)
//! and `audit_log_partner` (one organisation); every filter is written so
//! that even a generic plan can use them (no `$1 is null or …`). The
//! queries run in a transaction that asks for plans made with the actual
//! values: a generic plan of the organisation query sorts all of a large
//! organisation's entries instead of reading the newest few in index order.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Deserialize;
use sqlx::{Postgres, Transaction, types::ipnetwork::IpNetwork};

use crate::views::FormErrors;

/// Entries on one page.
pub const PER_PAGE: i64 = 50;

/// The query string of an audit page, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub action: String,
    /// Staff only: an organisation's id or part of its name.
    #[serde(default)]
    pub partner: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// Where the page starts: the cursor of the last entry of the page before.
    #[serde(default)]
    pub after: String,
}

impl AuditQuery {
    /// The query string of the same filters, without the cursor.
    pub fn filter_params(&self) -> Vec<(&'static str, &str)> {
        [
            ("action", self.action.trim()),
            ("partner", self.partner.trim()),
            ("actor", self.actor.trim()),
            ("from", self.from.trim()),
            ("to", self.to.trim()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect()
    }

    pub fn is_filtered(&self) -> bool {
        !self.filter_params().is_empty()
    }
}

/// Filters ready for SQL. Empty strings match everything.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Filters {
    pub action_prefix: String,
    /// Lowercase text the actor's name must contain.
    pub actor: String,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive: the start of the day after the "to" date.
    pub until: Option<DateTime<Utc>>,
}

fn parse_date(input: &str) -> Result<Option<NaiveDate>, &'static str> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(input, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| "Enter a date like 2027-03-12.")
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}

impl Filters {
    /// Parses the filters; a problem goes next to its field and that filter
    /// is left out.
    pub fn parse(q: &AuditQuery, errors: &mut FormErrors) -> Self {
        let from = errors.check("from", parse_date(&q.from)).flatten();
        let to = errors.check("to", parse_date(&q.to)).flatten();
        let to = match (from, to) {
            (Some(f), Some(t)) if t < f => {
                errors.add("to", "The end date is before the start date.");
                None
            }
            (_, t) => t,
        };
        Self {
            action_prefix: q.action.trim().to_lowercase(),
            actor: q.actor.trim().to_lowercase(),
            from: from.map(start_of),
            until: to.map(|d| start_of(d) + TimeDelta::days(1)),
        }
    }
}

/// Where a page starts: strictly older than this entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: i64,
}

impl Cursor {
    pub fn parse(input: &str) -> Option<Self> {
        let (micros, id) = input.trim().split_once('_')?;
        Some(Self {
            at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        })
    }

    pub fn encode(&self) -> String {
        format!("{}_{}", self.at.timestamp_micros(), self.id)
    }
}

/// One entry as stored.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub actor_user_id: Option<i64>,
    pub partner_id: Option<i64>,
    pub company_name: Option<String>,
    pub action: String,
    pub subject_type: Option<String>,
    pub subject_id: Option<i64>,
    pub ip: Option<IpNetwork>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Row {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            at: self.occurred_at,
            id: self.id,
        }
    }
}

/// Plans for this transaction's statements use their parameters' values.
async fn custom_plans(tx: &mut Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
    sqlx::query!("set local plan_cache_mode = force_custom_plan")
        .execute(&mut **tx)
        .await
        .map(drop)
}

/// Entries of every organisation and none, newest first (staff).
pub async fn page_all(
    tx: &mut Transaction<'_, Postgres>,
    f: &Filters,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    custom_plans(tx).await?;
    sqlx::query_as!(
        Row,
        r#"select a.id, a.occurred_at, a.actor, a.actor_user_id, a.partner_id,
                  p.company_name as "company_name?", a.action, a.subject_type, a.subject_id,
                  a.ip, a.before, a.after
             from audit_log a
             left join partners p on p.id = a.partner_id
            where a.occurred_at >= coalesce($1::timestamptz, '-infinity')
              and a.occurred_at < coalesce($2::timestamptz, 'infinity')
              and (a.occurred_at, a.id) < (coalesce($3::timestamptz, 'infinity'),
                                           coalesce($4::bigint, 9223372036854775807))
              and starts_with(a.action, $5)
              and strpos(lower(a.actor), $6) > 0
            order by a.occurred_at desc, a.id desc
            limit $7"#,
        f.from,
        f.until,
        after.map(|c| c.at),
        after.map(|c| c.id),
        f.action_prefix,
        f.actor,
        limit,
    )
    .fetch_all(&mut **tx)
    .await
}

/// Entries of one organisation, newest first. On a tenant transaction
/// row-level security would confine it anyway; the explicit filter lets the
/// query walk `audit_log_partner`.
pub async fn page_for_partner(
    tx: &mut Transaction<'_, Postgres>,
    partner_id: i64,
    f: &Filters,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    custom_plans(tx).await?;
    sqlx::query_as!(
        Row,
        r#"select a.id, a.occurred_at, a.actor, a.actor_user_id, a.partner_id,
                  p.company_name as "company_name?", a.action, a.subject_type, a.subject_id,
                  a.ip, a.before, a.after
             from audit_log a
             left join partners p on p.id = a.partner_id
            where a.partner_id = $1
              and a.occurred_at >= coalesce($2::timestamptz, '-infinity')
              and a.occurred_at < coalesce($3::timestamptz, 'infinity')
              and a.occurred_at <= coalesce($4::timestamptz, 'infinity')
              and (a.occurred_at, a.id) < (coalesce($4::timestamptz, 'infinity'),
                                           coalesce($5::bigint, 9223372036854775807))
              and starts_with(a.action, $6)
              and strpos(lower(a.actor), $7) > 0
            order by a.occurred_at desc, a.id desc
            limit $8"#,
        partner_id,
        f.from,
        f.until,
        after.map(|c| c.at),
        after.map(|c| c.id),
        f.action_prefix,
        f.actor,
        limit,
    )
    .fetch_all(&mut **tx)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(from: &str, to: &str) -> AuditQuery {
        AuditQuery {
            from: from.into(),
            to: to.into(),
            ..AuditQuery::default()
        }
    }

    #[test]
    fn dates_are_whole_days_and_the_end_date_is_included() {
        let mut errors = FormErrors::default();
        let f = Filters::parse(&query("2027-03-01", "2027-03-12"), &mut errors);
        assert!(errors.is_empty());
        assert_eq!(f.from.unwrap().to_rfc3339(), "2027-03-01T00:00:00+00:00");
        assert_eq!(f.until.unwrap().to_rfc3339(), "2027-03-13T00:00:00+00:00");
    }

    #[test]
    fn a_bad_date_is_explained_and_left_out() {
        let mut errors = FormErrors::default();
        let f = Filters::parse(&query("12/03/2027", ""), &mut errors);
        assert_eq!(errors.get("from"), Some("Enter a date like 2027-03-12."));
        assert_eq!(f.from, None);
        let mut errors = FormErrors::default();
        let f = Filters::parse(&query("2027-03-12", "2027-03-01"), &mut errors);
        assert!(errors.get("to").is_some());
        assert_eq!(f.until, None);
    }

    #[test]
    fn text_filters_are_trimmed_and_lowercased() {
        let q = AuditQuery {
            action: " Team. ".into(),
            actor: "Ada@Example.com ".into(),
            ..AuditQuery::default()
        };
        let f = Filters::parse(&q, &mut FormErrors::default());
        assert_eq!(f.action_prefix, "team.");
        assert_eq!(f.actor, "ada@example.com");
        assert_eq!(
            q.filter_params(),
            vec![("action", "Team."), ("actor", "Ada@Example.com")]
        );
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_ignored() {
        let c = Cursor {
            at: DateTime::from_timestamp_micros(1_800_000_000_123_456).unwrap(),
            id: 42,
        };
        assert_eq!(Cursor::parse(&c.encode()), Some(c));
        for bad in ["", "x_1", "1_x", "17", "1_2_3"] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
