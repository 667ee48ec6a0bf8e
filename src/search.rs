//! Free-text filters of the staff lists.

/// A `LIKE`/`ILIKE` pattern matching names that contain `query` literally:
/// `%`, `_` and the escape character `\` in what someone typed match
/// themselves, not "anything".
pub fn contains_pattern(query: &str) -> String {
    let mut pattern = String::with_capacity(query.len() + 2);
    pattern.push('%');
    for c in query.trim().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_typed_is_matched_literally_anywhere_in_the_name() {
        for (typed, pattern) in [
            ("acme", "%acme%"),
            ("  Acme Corp ", "%Acme Corp%"),
            ("100%", "%100\\%%"),
            ("a_b", "%a\\_b%"),
            ("back\\slash", "%back\\\\slash%"),
        ] {
            assert_eq!(contains_pattern(typed), pattern, "{typed:?}");
        }
    }
}
