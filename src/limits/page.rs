//! The answer to a write over its limit: 429, the limit named in words, when
//! the next write fits, and `Retry-After` for tools.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};

use super::{Quota, Scope};
use crate::{dates, views::ErrorPage};

/// A write refused by its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitReached {
    /// "issue updates".
    pub what: &'static str,
    pub scope: Scope,
    pub quota: Quota,
    /// When the next write fits again.
    pub free_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

impl LimitReached {
    /// "The limit is 60 issue updates an hour for each person, and you have
    /// reached it."
    pub fn message(&self) -> String {
        let (each, who) = match self.scope {
            Scope::Person => ("each person", "you have"),
            Scope::Organisation => ("each organisation", "your organisation has"),
        };
        let article = match self.quota.per {
            super::Per::Hour => "an",
            super::Per::Day => "a",
        };
        let wait = (self.free_at - self.now).max(chrono::TimeDelta::minutes(1));
        format!(
            "The limit is {} {} {article} {} for {each}, and {who} reached it. You can go on at {} ({}). Nothing you sent was saved (your browser\u{2019}s Back button returns to it); if you need more, write to the alliance team.",
            self.quota.max,
            self.what,
            self.quota.per.word(),
            self.free_at.format("%H:%M UTC"),
            dates::relative(self.now, self.now + wait),
        )
    }

    /// Whole seconds until the next write fits, at least one.
    pub fn retry_after(&self) -> i64 {
        (self.free_at - self.now).num_seconds().max(0) + 1
    }
}

impl IntoResponse for LimitReached {
    fn into_response(self) -> Response {
        let mut page = ErrorPage::for_status(StatusCode::TOO_MANY_REQUESTS);
        page.heading = "You have reached a limit";
        page.layout.title = page.heading.to_owned();
        page.message = self.message();
        let mut response = page.into_response();
        if let Ok(value) = HeaderValue::from_str(&self.retry_after().to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};

    use super::*;
    use crate::limits::{INVITATIONS, ISSUE_UPDATES};

    #[test]
    fn the_message_names_the_limit_and_when_to_come_back() {
        let now = Utc.with_ymd_and_hms(2027, 3, 12, 14, 20, 0).unwrap();
        let person = LimitReached {
            what: ISSUE_UPDATES.what,
            scope: Scope::Person,
            quota: ISSUE_UPDATES.per_user,
            free_at: now + TimeDelta::minutes(12),
            now,
        };
        assert_eq!(
            person.message(),
            "The limit is 60 issue updates an hour for each person, and you have reached it. You can go on at 14:32 UTC (in 12 minutes). Nothing you sent was saved (your browser\u{2019}s Back button returns to it); if you need more, write to the alliance team."
        );
        assert_eq!(person.retry_after(), 721);
        let organisation = LimitReached {
            what: INVITATIONS.what,
            scope: Scope::Organisation,
            quota: INVITATIONS.per_partner,
            free_at: now + TimeDelta::hours(3),
            now,
        };
        assert!(organisation.message().starts_with(
            "The limit is 200 invitations a day for each organisation, and your organisation has reached it. You can go on at 17:20 UTC (in 3 hours)."
        ));
    }
}
