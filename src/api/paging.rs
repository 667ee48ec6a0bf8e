//! Cursor paging of the API's lists: a page ends with an opaque cursor
//! naming the last row's place in the order (its sort key), and the next
//! page starts after it, so rows added while someone pages through never
//! make another row appear twice or be skipped. The cursor also names the
//! list it belongs to; one used with another filter or order is refused.

use axum::http::{HeaderValue, header};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::problem::Problem;

/// Rows per page unless asked otherwise, and at most.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 100;

#[derive(Serialize, Deserialize)]
struct Envelope<K> {
    /// The list: its filters and order, as the query string names them.
    l: String,
    k: K,
}

/// An opaque cursor for `key` in list `list`.
pub fn encode<K: Serialize>(list: &str, key: &K) -> String {
    let json = serde_json::to_vec(&Envelope {
        l: list.to_owned(),
        k: key,
    })
    .expect("a key serialises");
    URL_SAFE_NO_PAD.encode(json)
}

/// The key of a cursor made for `list`.
pub fn decode<K: DeserializeOwned>(list: &str, cursor: &str) -> Result<K, Problem> {
    let bad = || {
        Problem::invalid([(
            "cursor".to_owned(),
            "This cursor is not one the API gave for this list; start again without it.".to_owned(),
        )])
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
    let envelope: Envelope<K> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if envelope.l != list {
        return Err(bad());
    }
    Ok(envelope.k)
}

/// The place a list resumes after: the key of `cursor` (none, or blank,
/// for the first page).
pub fn after<K: DeserializeOwned>(list: &str, cursor: Option<&str>) -> Result<Option<K>, Problem> {
    cursor
        .filter(|c| !c.trim().is_empty())
        .map(|c| decode(list, c))
        .transpose()
}

/// Cuts `rows`, read with `limit + 1`, to a page, and gives the cursor of
/// the next page when there is one.
pub fn cut<R, K: Serialize>(
    list: &str,
    rows: &mut Vec<R>,
    limit: i64,
    key: impl Fn(&R) -> K,
) -> Option<String> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    rows.last()
        .filter(|_| more)
        .map(|last| encode(list, &key(last)))
}

/// A page as JSON, with `Link: <next>; rel="next"` when there is a next
/// page (`next` makes its address from the cursor).
pub fn respond<T: Serialize>(
    page: T,
    cursor: Option<&str>,
    next: impl FnOnce(&str) -> String,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut res = axum::Json(page).into_response();
    if let Some(cursor) = cursor {
        let (name, value) = link_next(&next(cursor));
        res.headers_mut().insert(name, value);
    }
    res
}

/// `limit` from the query string: 1 to 100, 50 when absent.
pub fn limit(given: Option<&str>) -> Result<i64, Problem> {
    match given.map(str::trim) {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                Problem::invalid([(
                    "limit".to_owned(),
                    format!("Choose a limit from 1 to {MAX_LIMIT}."),
                )])
            }),
    }
}

/// The `Link: <…>; rel="next"` header of a page that has a next one.
pub fn link_next(url: &str) -> (header::HeaderName, HeaderValue) {
    (
        header::LINK,
        HeaderValue::from_str(&format!("<{url}>; rel=\"next\"")).expect("a URL is a header value"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_for_its_own_list_only() {
        let cursor = encode("status=open&sort=newest", &(1.5_f64, -42_i64));
        assert!(!cursor.contains('='));
        let key: (f64, i64) = decode("status=open&sort=newest", &cursor).unwrap();
        assert_eq!(key, (1.5, -42));
        assert!(decode::<(f64, i64)>("status=closed&sort=newest", &cursor).is_err());
        assert!(decode::<(f64, i64)>("status=open&sort=newest", "garbage!").is_err());
        assert!(
            decode::<(f64, i64)>("status=open&sort=newest", &URL_SAFE_NO_PAD.encode("{}")).is_err()
        );
    }

    #[test]
    fn a_page_of_exactly_the_limit_has_no_next_and_one_more_names_the_last_kept() {
        let mut rows = vec![10, 20, 30];
        assert_eq!(cut("l", &mut rows, 3, |r| *r), None);
        assert_eq!(rows, [10, 20, 30]);
        let mut rows = vec![10, 20, 30, 40];
        let next = cut("l", &mut rows, 3, |r| *r).unwrap();
        assert_eq!(rows, [10, 20, 30]);
        assert_eq!(decode::<i32>("l", &next).unwrap(), 30);
        assert_eq!(after::<i32>("l", Some(&next)).unwrap(), Some(30));
        assert_eq!(after::<i32>("l", Some("  ")).unwrap(), None);
        assert_eq!(after::<i32>("l", None).unwrap(), None);
    }

    #[test]
    fn a_page_is_json_with_a_link_to_the_next_only_when_there_is_one() {
        let res = respond(vec![1, 2], Some("abc"), |c| {
            format!("https://p.test/x?cursor={c}")
        });
        assert_eq!(res.status(), axum::http::StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            res.headers()[header::LINK],
            "<https://p.test/x?cursor=abc>; rel=\"next\""
        );
        let last = respond(vec![3], None, |_| unreachable!("no next page"));
        assert!(last.headers().get(header::LINK).is_none());
        assert_eq!(last.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn limits_are_one_to_a_hundred() {
        assert_eq!(limit(None).unwrap(), 50);
        assert_eq!(limit(Some("1")).unwrap(), 1);
        assert_eq!(limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "-1", "ten", "1e3"] {
            assert!(limit(Some(bad)).is_err(), "{bad}");
        }
    }
}
