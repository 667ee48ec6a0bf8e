//! Text input the portal accepts, decided in one place. Every text a
//! visitor sends (form fields, query strings, multipart text fields, JSON
//! strings) must be UTF-8 without control characters other than tab, line
//! feed and carriage return: PostgreSQL cannot store a NUL at all, and the
//! other controls only ever arrive by accident (pasted from a terminal or a
//! PDF) or on purpose (to break a log line or a CSV cell).
//!
//! [`screen`] applies the rule to every request before any handler runs,
//! so a refused request changes nothing; the visitor gets back the fields
//! that were refused, each with its message next to it.

mod page;
mod screen;

pub use screen::screen;

/// Why a piece of text is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Bytes that are not UTF-8 text.
    NotUtf8,
    /// A control character, e.g. NUL (U+0000) or ESC (U+001B).
    Control(char),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NotUtf8 => f.write_str(
                "This contains bytes that are not readable text (not UTF-8), which the portal cannot store.",
            ),
            Problem::Control('\0') => f.write_str(
                "This contains a NUL character (U+0000), an invisible character the portal cannot store. It usually comes with text copied from another program.",
            ),
            Problem::Control(c) => write!(
                f,
                "This contains the invisible control character U+{:04X}, which the portal does not accept. It usually comes with text copied from another program.",
                u32::from(*c)
            ),
        }
    }
}

/// Whether `c` may never appear in text input: every control character
/// (Unicode category Cc: U+0000–U+001F, U+007F–U+009F) except tab, line
/// feed and carriage return, which multi-line fields need.
pub fn is_disallowed(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The first reason `text` is refused, if any.
pub fn check(text: &str) -> Result<(), Problem> {
    match text.chars().find(|c| is_disallowed(*c)) {
        Some(c) => Err(Problem::Control(c)),
        None => Ok(()),
    }
}

/// `bytes` as text, or why it is refused.
pub fn check_bytes(bytes: &[u8]) -> Result<&str, Problem> {
    let text = std::str::from_utf8(bytes).map_err(|_| Problem::NotUtf8)?;
    check(text).map(|()| text)
}

/// `bytes` as the closest acceptable text: undecodable bytes become U+FFFD
/// (visible, so the visitor sees where they were) and refused characters
/// are taken out.
pub fn cleaned(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !is_disallowed(*c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_and_line_breaks_are_text() {
        assert_eq!(check("line one\r\nline two\tand a tab"), Ok(()));
        assert_eq!(check("Zoë, 北京, emoji 🦊, U+2028 \u{2028}"), Ok(()));
    }

    #[test]
    fn nul_and_other_controls_are_refused() {
        assert_eq!(check("bad \0 byte"), Err(Problem::Control('\0')));
        assert_eq!(check("\u{1b}[31mred"), Err(Problem::Control('\u{1b}')));
        assert_eq!(check("del \u{7f}"), Err(Problem::Control('\u{7f}')));
        assert_eq!(check("c1 \u{85}"), Err(Problem::Control('\u{85}')));
        assert_eq!(check("\u{8}"), Err(Problem::Control('\u{8}')));
    }

    #[test]
    fn bytes_must_be_utf8() {
        assert_eq!(check_bytes(b"caf\xc3\xa9"), Ok("café"));
        assert_eq!(check_bytes(b"caf\xe9"), Err(Problem::NotUtf8));
        assert_eq!(check_bytes(b"a\0b"), Err(Problem::Control('\0')));
    }

    #[test]
    fn cleaning_keeps_what_can_be_kept() {
        assert_eq!(cleaned(b"a\0b\tc\n\x1bd"), "ab\tc\nd");
        assert_eq!(cleaned(b"caf\xe9"), "caf\u{fffd}");
    }

    #[test]
    fn messages_name_the_character() {
        assert!(
            Problem::Control('\0')
                .to_string()
                .contains("NUL character (U+0000)")
        );
        assert!(Problem::Control('\u{1b}').to_string().contains("U+001B"));
        assert!(Problem::NotUtf8.to_string().contains("not UTF-8"));
    }
}
