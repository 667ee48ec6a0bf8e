//! CSV exports of staff lists: one field at a time, safe to open in a
//! spreadsheet.

use axum::{
    http::header,
    response::{IntoResponse, Response},
};

/// A CSV file to download as `filename`; `body` is the header line and the
/// rows, each ending in CRLF.
pub fn download(filename: &'static str, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
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
    use super::field;

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
