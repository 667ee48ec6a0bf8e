//! What the staff review queues (namespaces, listings) share: the filter,
//! order and page they read from the address, the address of another page
//! of the same view, and the order's name.

use std::str::FromStr;

use serde::Deserialize;

/// `?state=…&sort=…&page=…` of a staff queue.
#[derive(Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub sort: String,
    pub page: Option<i64>,
}

impl QueueQuery {
    /// The filter: a state `S` knows (by its name), `all`, or empty for
    /// those waiting.
    pub fn filter<S: FromStr>(&self, name: impl Fn(S) -> &'static str) -> String {
        match self.state.as_str() {
            "all" => "all".to_owned(),
            s => s.parse::<S>().map_or(String::new(), |s| name(s).to_owned()),
        }
    }

    pub fn order(&self) -> &'static str {
        order(&self.sort)
    }
}

/// The order a staff queue is shown and exported in: the queue's own
/// (waiting oldest first), newest first, or by partner name.
pub fn order(sort: &str) -> &'static str {
    match sort {
        "newest" => "newest",
        "partner" => "partner",
        _ => "",
    }
}

/// The state a filter asks for: `waiting` for the empty filter, `None` for
/// all.
pub fn wanted<'a>(filter: &'a str, waiting: &'static str) -> Option<&'a str> {
    match filter {
        "all" => None,
        "" => Some(waiting),
        s => Some(s),
    }
}

/// The query string of this filter and order, for page links and the
/// export.
pub fn query_string(filter: &str, sort: &str, page: Option<i64>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("state", filter);
    q.append_pair("sort", sort);
    if let Some(page) = page {
        q.append_pair("page", &page.to_string());
    }
    q.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Waiting;

    impl FromStr for Waiting {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            (s == "pending").then_some(Waiting).ok_or(())
        }
    }

    fn query(state: &str, sort: &str) -> QueueQuery {
        QueueQuery {
            state: state.into(),
            sort: sort.into(),
            page: None,
        }
    }

    #[test]
    fn unknown_filters_and_orders_fall_back_to_the_waiting_queue() {
        let name = |_: Waiting| "pending";
        assert_eq!(query("pending", "").filter(name), "pending");
        assert_eq!(query("all", "").filter(name), "all");
        assert_eq!(query("bogus", "").filter(name), "");
        assert_eq!(query("", "newest").order(), "newest");
        assert_eq!(query("", "drop table").order(), "");
        assert_eq!(wanted("", "pending"), Some("pending"));
        assert_eq!(wanted("all", "pending"), None);
        assert_eq!(
            query_string("all", "partner", Some(2)),
            "state=all&sort=partner&page=2"
        );
    }
}
