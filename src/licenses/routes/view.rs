//! What the license pages show, computed once per request from `now`.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{
    dates::{When, expires_phrase, long_date, relative},
    licenses::{
        Status,
        store::{Event, License, Term},
    },
};

/// `?page=` of a list: 1-based, lenient (anything odd is page 1).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    pub page: String,
}

#[derive(Debug, Clone)]
pub struct Pager {
    pub page: i64,
    pub per_page: i64,
    pub has_next: bool,
}

impl Pager {
    pub fn new(page: &str, per_page: i64) -> Self {
        let page = page.trim().parse::<i64>().unwrap_or(1).clamp(1, 100_000);
        Self {
            page,
            per_page,
            has_next: false,
        }
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    /// One more than a page, to know whether another follows.
    pub fn fetch(&self) -> i64 {
        self.per_page + 1
    }

    /// Keeps one page of `rows` (fetched with [`Pager::fetch`]).
    pub fn keep<T>(&mut self, rows: &mut Vec<T>) {
        self.has_next = rows.len() as i64 > self.per_page;
        rows.truncate(self.per_page as usize);
    }

    pub fn has_previous(&self) -> bool {
        self.page > 1
    }
}

/// A license in a list.
pub struct LicenseItem {
    pub id: i64,
    pub product: String,
    pub users: i32,
    pub status: String,
    pub status_class: &'static str,
    /// "expires 12 March 2027, in 47 days", "requested 3 days ago".
    pub when: String,
    /// The moment `when` speaks of, for its exact time on hover.
    pub at: Option<When>,
}

impl LicenseItem {
    pub fn new(l: &License, now: DateTime<Utc>) -> Self {
        let status = Status::of(l.state, l.expires_at, now);
        let (when, at) = match (status, l.expires_at) {
            (Status::Active | Status::Expired, Some(e)) => {
                (expires_phrase(now, e), Some(When::new(now, e)))
            }
            (Status::Revoked, _) => ("revoked".to_owned(), None),
            (Status::Suspended, Some(e)) => (
                format!("suspended; {}", expires_phrase(now, e)),
                Some(When::new(now, e)),
            ),
            _ => (
                format!("requested {}", relative(now, l.requested_at)),
                Some(When::new(now, l.requested_at)),
            ),
        };
        Self {
            id: l.id,
            product: l.product.label().to_owned(),
            users: l.users,
            status: status.label().to_owned(),
            status_class: status.class(),
            when,
            at,
        }
    }
}

/// The facts of one license.
pub struct LicenseFacts {
    pub id: i64,
    pub product: String,
    pub status: String,
    pub status_class: &'static str,
    pub users: i32,
    pub purposes: Vec<&'static str>,
    pub justification: Option<String>,
    pub key: Option<String>,
    pub issued: Option<When>,
    pub expires: Option<String>,
    /// "47 days left"; `None` once expired or not issued.
    pub days_left: Option<String>,
    pub requested: When,
    pub reason: Option<String>,
}

impl LicenseFacts {
    pub fn new(l: &License, now: DateTime<Utc>) -> Self {
        let status = Status::of(l.state, l.expires_at, now);
        let live = matches!(status, Status::Active | Status::Expired);
        let days_left = l
            .expires_at
            .filter(|_| status == Status::Active)
            .map(|e| days_left(now, e));
        Self {
            id: l.id,
            product: l.product.label().to_owned(),
            status: status.label().to_owned(),
            status_class: status.class(),
            users: l.users,
            purposes: l.purposes.iter().map(|p| p.label()).collect(),
            justification: l.justification.clone(),
            key: l.license_key.clone().filter(|_| live),
            issued: l.issued_at.map(|t| When::new(now, t)),
            expires: l.expires_at.map(|e| expires_phrase(now, e)),
            days_left,
            requested: When::new(now, l.requested_at),
            reason: l.reason.clone(),
        }
    }
}

/// Calendar days to the expiry, counted as [`relative`] counts them so the
/// two never disagree: "30 days left" beside "in 30 days".
pub fn days_left(now: DateTime<Utc>, expires_at: DateTime<Utc>) -> String {
    match (expires_at.date_naive() - now.date_naive()).num_days() {
        n if n <= 0 => "expires today".to_owned(),
        1 => "1 day left".to_owned(),
        n => format!("{n} days left"),
    }
}

/// A term in the history table.
pub struct TermRow {
    pub number: usize,
    pub kind: &'static str,
    pub users: i32,
    pub status: &'static str,
    pub period: String,
    pub requested: When,
    pub requested_by: String,
    pub reason: Option<String>,
}

pub fn term_rows(terms: &[Term], now: DateTime<Utc>) -> Vec<TermRow> {
    terms
        .iter()
        .enumerate()
        .map(|(i, t)| TermRow {
            number: i + 1,
            kind: if t.is_renewal() {
                "Renewal"
            } else {
                "First term"
            },
            users: t.users,
            status: match t.state.as_str() {
                "pending" => "Waiting for review",
                "issued" => "Issued",
                _ => "Rejected",
            },
            period: match (t.starts_at, t.expires_at) {
                (Some(s), Some(e)) => format!("{} to {}", long_date(s), long_date(e)),
                _ => "—".to_owned(),
            },
            requested: When::new(now, t.requested_at),
            requested_by: t.requested_by.clone().unwrap_or_else(|| "—".to_owned()),
            reason: t.reason.clone(),
        })
        .collect()
}

pub struct EventRow {
    pub when: When,
    pub actor: String,
    pub detail: String,
    pub reason: Option<String>,
}

pub fn event_rows(events: Vec<Event>, now: DateTime<Utc>) -> Vec<EventRow> {
    events
        .into_iter()
        .map(|e| EventRow {
            when: When::new(now, e.occurred_at),
            actor: e.actor,
            detail: e.detail,
            reason: e.reason,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_lenient_and_one_based() {
        assert_eq!(Pager::new("", 20).page, 1);
        assert_eq!(Pager::new("abc", 20).page, 1);
        assert_eq!(Pager::new("-4", 20).page, 1);
        let p = Pager::new("3", 20);
        assert_eq!((p.offset(), p.fetch()), (40, 21));
    }

    #[test]
    fn days_left_agree_with_the_relative_phrase() {
        use chrono::TimeZone;
        let now = Utc.with_ymd_and_hms(2027, 1, 1, 22, 0, 0).unwrap();
        let e = Utc.with_ymd_and_hms(2027, 1, 31, 9, 0, 0).unwrap();
        assert_eq!(days_left(now, e), "30 days left");
        assert_eq!(relative(now, e), "in 30 days");
        assert_eq!(
            days_left(now, now + chrono::TimeDelta::hours(1)),
            "expires today"
        );
        assert_eq!(
            days_left(now, now + chrono::TimeDelta::hours(3)),
            "1 day left"
        );
    }

    #[test]
    fn keeping_a_page_says_whether_another_follows() {
        let mut p = Pager::new("1", 2);
        let mut rows = vec![1, 2, 3];
        p.keep(&mut rows);
        assert_eq!(rows, [1, 2]);
        assert!(p.has_next);
        let mut rows = vec![1, 2];
        p.keep(&mut rows);
        assert!(!p.has_next);
    }
}
