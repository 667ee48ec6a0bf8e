//! CSV exports of staff lists: one field at a time, safe to open in a
//! spreadsheet.

use axum::{
    BoxError,
    body::{Body, Bytes},
    http::header,
    response::{IntoResponse, Response},
};
use futures_util::{Stream, StreamExt};

/// A CSV file to download as `filename`; `body` is the header line and the
/// rows, each ending in CRLF, whole or streamed. Exports hold partner data:
/// never kept in a cache.
pub fn download(filename: &str, body: impl Into<Body>) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body.into(),
    )
        .into_response()
}

/// A download streamed from `chunks`, fused: once the stream has ended, the
/// body answers "ended" however often it is asked again. The compression
/// layer (tower-http 0.6, tower-rs/tower-http#732) asks once more after the
/// end, looking for trailers, and a stream such as `stream::unfold` panics
/// when polled after its end: under gzip every streamed export broke off
/// with a panic. A fused stream is what a body must be, whoever polls it.
pub fn streamed<S, T, E>(chunks: S) -> Body
where
    S: Stream<Item = Result<T, E>> + Send + 'static,
    T: Into<Bytes> + 'static,
    E: Into<BoxError> + 'static,
{
    Body::from_stream(chunks.fuse())
}

/// One CSV line of `fields`, each made safe by [`field`], ending in CRLF.
pub fn record<S: AsRef<str>>(fields: &[S]) -> String {
    let mut out = fields
        .iter()
        .map(|f| field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

/// One CSV field: quoted when needed, and a leading `=`, `+`, `-`, `@`
/// (a formula to a spreadsheet) defused with an apostrophe.
pub fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use futures_util::stream;
    use http_body_util::BodyExt;

    use super::{field, record, streamed};

    #[tokio::test]
    async fn a_streamed_body_may_be_polled_again_after_its_end() {
        let chunks = stream::unfold(0, |n| async move {
            (n < 2).then(|| (Ok::<_, std::io::Error>(format!("{n}\r\n")), n + 1))
        });
        let mut body = streamed(chunks);
        let mut text = String::new();
        while let Some(frame) = body.frame().await {
            text.push_str(std::str::from_utf8(&frame.unwrap().into_data().unwrap()).unwrap());
        }
        assert_eq!(text, "0\r\n1\r\n");
        // What the compression layer does after the last chunk.
        assert!(body.frame().await.is_none());
        assert!(body.frame().await.is_none());
    }

    #[test]
    fn a_record_is_its_fields_joined_and_ended_by_crlf() {
        assert_eq!(
            record(&["1", "Acme, Inc.", "=1+1"]),
            "1,\"Acme, Inc.\",'=1+1\r\n"
        );
    }

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("Acme, Inc."), "\"Acme, Inc.\"");
        assert_eq!(field("The \"A\" team"), "\"The \"\"A\"\" team\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("-5"), "'-5");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }
}
