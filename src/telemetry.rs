//! Logging: human-readable by default, JSON when `PORTAL_LOG_FORMAT=json`;
//! `RUST_LOG` picks the levels.
//!
//! sqlx logs a slow statement (`sqlx::query`, over 250 ms: `db.rs`) with the
//! whole SQL text on lines of its own. Those events are written here as one
//! line that names the statement by its first words, whitespace folded, with
//! its time and rows; every other event is written as before.

use std::fmt;

use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::{
    EnvFilter,
    fmt::{
        FmtContext, FormatEvent, FormatFields, FormattedFields,
        format::{self, Writer},
        time::{FormatTime, SystemTime},
    },
    prelude::*,
    registry::LookupSpan,
};

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Human => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .event_format(OneLineSql {
                        inner: event_format().with_target(false),
                        json: false,
                    })
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .event_format(OneLineSql {
                        inner: event_format()
                            .json()
                            .flatten_event(true)
                            .with_current_span(true),
                        json: true,
                    })
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}

fn event_format() -> format::Format {
    format::Format::default()
}

/// The longest statement text a log line carries.
const STATEMENT_CHARS: usize = 120;

/// Writes `sqlx::query` events as one line; hands the others to `inner`.
pub struct OneLineSql<F> {
    inner: F,
    json: bool,
}

impl<S, N, F> FormatEvent<S, N> for OneLineSql<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        if event.metadata().target() != "sqlx::query" {
            return self.inner.format_event(ctx, writer, event);
        }
        let mut sql = SqlEvent::default();
        event.record(&mut sql);
        let statement = one_line(sql.statement.as_deref().unwrap_or(&sql.summary));
        let what = if sql.message.contains("slow") {
            "slow statement"
        } else {
            "statement"
        };
        let ms = sql.elapsed_secs * 1000.0;
        let level = event.metadata().level();
        let mut spans = String::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let ext = span.extensions();
                let fields = ext
                    .get::<FormattedFields<N>>()
                    .map(|f| f.fields.as_str())
                    .unwrap_or_default();
                if self.json {
                    // Only the innermost span's fields, as the JSON
                    // formatter's `span` key holds.
                    spans = fields.to_owned();
                } else if fields.is_empty() {
                    spans.push_str(&format!("{}: ", span.name()));
                } else {
                    spans.push_str(&format!("{}{{{fields}}}: ", span.name()));
                }
            }
        }
        let mut time = String::new();
        SystemTime.format_time(&mut Writer::new(&mut time))?;
        if self.json {
            let mut line = serde_json::json!({
                "timestamp": time,
                "level": level.as_str(),
                "target": "sqlx::query",
                "message": what,
                "statement": statement,
                "elapsed_ms": (ms * 10.0).round() / 10.0,
                "rows_returned": sql.rows_returned,
                "rows_affected": sql.rows_affected,
            });
            if let Ok(span) = serde_json::from_str::<serde_json::Value>(&spans) {
                line["span"] = span;
            }
            writeln!(writer, "{line}")
        } else {
            writeln!(
                writer,
                "{time} {level:>5} {spans}{what} ({ms:.1} ms, {} row{} returned, {} affected): {statement}",
                sql.rows_returned,
                if sql.rows_returned == 1 { "" } else { "s" },
                sql.rows_affected,
            )
        }
    }
}

/// The statement on one line: whitespace folded, cut after
/// [`STATEMENT_CHARS`] characters.
pub fn one_line(sql: &str) -> String {
    let folded = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(STATEMENT_CHARS) {
        Some((cut, _)) => format!("{} …", folded[..cut].trim_end()),
        None => folded,
    }
}

/// The fields sqlx puts on a statement's event.
#[derive(Default)]
struct SqlEvent {
    message: String,
    summary: String,
    statement: Option<String>,
    elapsed_secs: f64,
    rows_returned: u64,
    rows_affected: u64,
}

impl Visit for SqlEvent {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_owned(),
            // Empty when the summary is the whole statement.
            "db.statement" if !value.trim().is_empty() => self.statement = Some(value.to_owned()),
            "message" => self.message = value.to_owned(),
            _ => {}
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed_secs = value;
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "rows_returned" => self.rows_returned = value,
            "rows_affected" => self.rows_affected = value,
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "summary" => self.summary = format!("{value:?}").trim_matches('"').to_owned(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[test]
    fn a_statement_is_folded_onto_one_line_and_cut() {
        assert_eq!(
            one_line("select id,\n       name\n  from users\n where id = $1"),
            "select id, name from users where id = $1"
        );
        let long = format!("select {}", "a, ".repeat(100));
        let line = one_line(&long);
        assert!(line.ends_with(" …"));
        assert!(line.chars().count() <= STATEMENT_CHARS + 2);
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// What sqlx 0.8 emits for a slow statement (`sqlx_core::logger`).
    fn emit_slow_statement() {
        let sql = "select l.id, l.partner_id\n  from licenses l\n where l.state = 'active'";
        tracing::warn!(
            target: "sqlx::query",
            summary = "select l.id, l.partner_id from …",
            db.statement = format!("\n\n{sql}\n"),
            rows_affected = 0u64,
            rows_returned = 3u64,
            elapsed = ?std::time::Duration::from_millis(312),
            elapsed_secs = 0.312,
            slow_threshold = ?std::time::Duration::from_millis(250),
            "slow statement: execution time exceeded alert threshold"
        );
    }

    #[test]
    fn a_slow_statement_is_one_line_naming_it_with_its_time() {
        let out = Captured::default();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .event_format(OneLineSql {
                    inner: event_format().with_target(false),
                    json: false,
                })
                .with_ansi(false)
                .with_writer(out.clone()),
        );
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", path = "/licenses");
            let _entered = span.enter();
            emit_slow_statement();
            tracing::info!("an ordinary event");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].ends_with(
                "request{path=\"/licenses\"}: slow statement (312.0 ms, 3 rows returned, 0 affected): select l.id, l.partner_id from licenses l where l.state = 'active'"
            ),
            "{}",
            lines[0]
        );
        assert!(lines[1].contains("an ordinary event"));
    }

    #[test]
    fn in_json_a_slow_statement_is_one_object_with_the_statement_folded() {
        let out = Captured::default();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .json()
                .event_format(OneLineSql {
                    inner: event_format()
                        .json()
                        .flatten_event(true)
                        .with_current_span(true),
                    json: true,
                })
                .with_writer(out.clone()),
        );
        tracing::subscriber::with_default(subscriber, emit_slow_statement);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["message"], "slow statement");
        assert_eq!(
            line["statement"],
            "select l.id, l.partner_id from licenses l where l.state = 'active'"
        );
        assert_eq!(line["elapsed_ms"], 312.0);
    }
}
