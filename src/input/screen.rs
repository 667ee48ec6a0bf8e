//! The middleware that holds every request to the rule of [`super::check`]
//! before any handler sees it: the path, the query string, and bodies sent
//! as forms (`application/x-www-form-urlencoded`, `multipart/form-data`)
//! or JSON. Bodies it cannot parse go on unchanged: reading them is the
//! handler's business, and so is refusing them.

use axum::{
    body::{Body, Bytes},
    extract::Request,
    http::{Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use percent_encoding::percent_decode;

use super::{
    Problem, check, check_bytes, cleaned,
    page::{self, Field, Kind},
};
use crate::{http::MAX_BODY_BYTES, views::ErrorPage};

/// Paths whose senders are machines with contracts of their own: the
/// tracker's webhook validates (and, where it can, cleans) its payloads.
const EXEMPT_PREFIXES: &[&str] = &["/webhooks/"];

pub async fn screen(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if EXEMPT_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return next.run(req).await;
    }
    // The http crate lets through visible ASCII and UTF-8 only, so a
    // control character can hide in a percent-escape or in raw UTF-8 (the
    // C1 controls, U+0080–U+009F); most addresses have neither.
    let suspect = |part: &str| part.contains('%') || !part.is_ascii();
    if suspect(path) && check_bytes(&percent_decode(path.as_bytes()).collect::<Vec<u8>>()).is_err()
    {
        // No page has such an address.
        return ErrorPage::for_status(StatusCode::NOT_FOUND).into_response();
    }
    if let Some(query) = req.uri().query().filter(|q| suspect(q)) {
        let fields = urlencoded(query.as_bytes());
        if refused(&fields) {
            let action = req.uri().path().to_owned();
            return page::refusal(StatusCode::BAD_REQUEST, Method::GET, action, false, fields);
        }
    }
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let Some(kind) = body_kind(&req) else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return ErrorPage::for_status(StatusCode::PAYLOAD_TOO_LARGE).into_response();
    };
    let action = parts.uri.path().to_owned();
    let refusal = match kind {
        BodyKind::Form => {
            let fields = urlencoded(&bytes);
            refused(&fields).then(|| {
                page::refusal(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Method::POST,
                    action,
                    false,
                    fields,
                )
            })
        }
        BodyKind::Multipart(boundary) => multipart(bytes.clone(), boundary)
            .await
            .filter(|fields| refused(fields))
            .map(|fields| {
                page::refusal(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Method::POST,
                    action,
                    true,
                    fields,
                )
            }),
        BodyKind::Json => json_problems(&bytes).map(|problems| page::json_refusal(&problems)),
    };
    match refusal {
        Some(response) => response,
        None => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    }
}

enum BodyKind {
    Form,
    Multipart(String),
    Json,
}

fn body_kind(req: &Request) -> Option<BodyKind> {
    let content_type = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" => Some(BodyKind::Form),
        "multipart/form-data" => multer::parse_boundary(content_type)
            .ok()
            .map(BodyKind::Multipart),
        e if e == "application/json" || e.ends_with("+json") => Some(BodyKind::Json),
        _ => None,
    }
}

/// Whether any field has to go back to the visitor.
fn refused(fields: &[Field]) -> bool {
    fields.iter().any(|f| f.problem.is_some())
}

/// The pairs of a query string or form body, in order, each decoded,
/// checked, and cleaned for showing again.
fn urlencoded(input: &[u8]) -> Vec<Field> {
    input
        .split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            let (name, name_problem) = decoded(name);
            let (value, value_problem) = decoded(value);
            Field::new(name, name_problem, Kind::Text(value), value_problem)
        })
        .collect()
}

/// One `+`-for-space, percent-encoded component.
fn decoded(raw: &[u8]) -> (String, Option<Problem>) {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&spaced).collect();
    match check_bytes(&bytes) {
        Ok(text) => (text.to_owned(), None),
        Err(problem) => (cleaned(&bytes), Some(problem)),
    }
}

/// The fields of a multipart form, or `None` when it cannot be read.
async fn multipart(body: Bytes, boundary: String) -> Option<Vec<Field>> {
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Some(fields),
            Err(_) => return None,
        };
        let name = field.name().unwrap_or_default().to_owned();
        let name_problem = check(&name).err();
        let is_file = field.file_name().is_some();
        let bytes = field.bytes().await.ok()?;
        fields.push(if is_file {
            Field::new(name, name_problem, Kind::File(!bytes.is_empty()), None)
        } else {
            match check_bytes(&bytes) {
                Ok(text) => Field::new(name, name_problem, Kind::Text(text.to_owned()), None),
                Err(problem) => Field::new(
                    name,
                    name_problem,
                    Kind::Text(cleaned(&bytes)),
                    Some(problem),
                ),
            }
        });
    }
}

/// Where a JSON document holds refused text (JSON Pointers, RFC 6901), or
/// `None` when it holds none or is not JSON at all.
fn json_problems(bytes: &[u8]) -> Option<Vec<(String, Problem)>> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let mut problems = Vec::new();
    walk(&value, &mut String::new(), &mut problems);
    (!problems.is_empty()).then_some(problems)
}

/// Problems listed at most, so the answer stays short.
const MAX_LISTED: usize = 20;

fn walk(value: &serde_json::Value, at: &mut String, out: &mut Vec<(String, Problem)>) {
    if out.len() >= MAX_LISTED {
        return;
    }
    match value {
        serde_json::Value::String(text) => {
            if let Err(problem) = check(text) {
                out.push((at.clone(), problem));
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                visit(&i.to_string(), item, at, out);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, child) in fields {
                if let Err(problem) = check(key) {
                    out.push((format!("{at}/{}", cleaned(key.as_bytes())), problem));
                }
                visit(key, child, at, out);
            }
        }
        _ => {}
    }
}

/// [`walk`] into the member `key` of the value at `at`.
fn visit(key: &str, child: &serde_json::Value, at: &mut String, out: &mut Vec<(String, Problem)>) {
    let len = at.len();
    at.push('/');
    at.push_str(&key.replace('~', "~0").replace('/', "~1"));
    walk(child, at, out);
    at.truncate(len);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_pairs_are_decoded_in_order() {
        let fields = urlencoded(
            b"csrf_token=t&email=a%40b.test&stages=plan&stages=create&q=two+words&empty",
        );
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["csrf_token", "email", "stages", "stages", "q", "empty"]
        );
        assert!(!refused(&fields));
        assert!(matches!(&fields[4].kind, Kind::Text(v) if v == "two words"));
    }

    #[test]
    fn a_nul_or_a_control_or_bad_utf8_is_found_and_cleaned() {
        let fields = urlencoded(b"a=ok&b=x%00y&c=%1B%5B31m&d=caf%E9&e=line%0D%0Anext%09tab");
        let problems: Vec<Option<Problem>> = fields.iter().map(|f| f.problem).collect();
        assert_eq!(
            problems,
            [
                None,
                Some(Problem::Control('\0')),
                Some(Problem::Control('\u{1b}')),
                Some(Problem::NotUtf8),
                None
            ]
        );
        assert!(matches!(&fields[1].kind, Kind::Text(v) if v == "xy"));
        assert!(matches!(&fields[3].kind, Kind::Text(v) if v == "caf\u{fffd}"));
    }

    #[test]
    fn an_address_carries_controls_only_escaped_or_as_utf8() {
        // What lets the screen skip plain ASCII addresses without escapes.
        for raw in [&b"/a\x00b"[..], b"/a?q=\x1b", b"/a?q=\xff", b"/a?q=\x7f"] {
            let parsed = axum::http::Uri::from_maybe_shared(Bytes::copy_from_slice(raw));
            assert!(parsed.is_err(), "{raw:?}");
        }
        for raw in [&b"/caf\xc3\xa9"[..], b"/a?q=\xc2\x85"] {
            let parsed = axum::http::Uri::from_maybe_shared(Bytes::copy_from_slice(raw));
            assert!(parsed.is_ok(), "{raw:?}");
        }
    }

    #[tokio::test]
    async fn a_raw_c1_control_in_an_address_is_refused() {
        use tower::ServiceExt;
        let app = axum::Router::new()
            .route("/a", axum::routing::get(|| async { "ok" }))
            .layer(axum::middleware::from_fn(screen));
        let call = |raw: &'static [u8]| {
            let app = app.clone();
            async move {
                let uri = axum::http::Uri::from_maybe_shared(Bytes::from_static(raw)).unwrap();
                let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
                app.oneshot(req).await.unwrap().status()
            }
        };
        assert_eq!(call(b"/a?q=caf\xc3\xa9").await, StatusCode::OK);
        assert_eq!(call(b"/a?q=x\xc2\x85").await, StatusCode::BAD_REQUEST);
        assert_eq!(call(b"/a?q=x%C2%85").await, StatusCode::BAD_REQUEST);
        assert_eq!(call(b"/\xc2\x85").await, StatusCode::NOT_FOUND);
    }

    #[test]
    fn a_refused_field_name_is_found() {
        let fields = urlencoded(b"na%00me=1");
        assert!(refused(&fields));
        assert_eq!(fields[0].name, "name");
    }

    #[test]
    fn json_problems_are_pointed_at() {
        let body = br#"{"title":"ok","items":[{"note":"bad \u0000"}],"a/b":"\u001b","k\u0000":1}"#;
        let problems = json_problems(body).unwrap();
        assert_eq!(
            problems,
            [
                ("/a~1b".to_owned(), Problem::Control('\u{1b}')),
                ("/items/0/note".to_owned(), Problem::Control('\0')),
                ("/k".to_owned(), Problem::Control('\0')),
            ]
        );
        assert_eq!(json_problems(br#"{"body":"fine\nlines"}"#), None);
        assert_eq!(json_problems(b"not json"), None);
    }
}
