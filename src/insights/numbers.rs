//! Numbers as the insight pages write them.

/// "12,345".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "83 %" of `part` in `whole`, rounded (a space that does not break
/// before the sign); "—" of nothing.
pub fn percent(part: i64, whole: i64) -> String {
    match share(part, whole) {
        Some(p) => format!("{p}\u{a0}%"),
        None => "—".to_owned(),
    }
}

/// `part` of `whole` in whole per cent, rounded; nothing of nothing.
pub fn share(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part * 100 + whole / 2) / whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-4_200), "-4,200");
    }

    #[test]
    fn percentages_round_and_say_when_there_is_nothing() {
        assert_eq!(percent(5, 6), "83\u{a0}%");
        assert_eq!(percent(0, 0), "—");
        assert_eq!(percent(1, 3), "33\u{a0}%");
    }
}
