//! Free-text filters of the staff lists, and finding the organisation
//! staff typed.

use sqlx::PgConnection;

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

/// An organisation found by what staff typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerMatch {
    pub id: i64,
    pub company_name: String,
    /// The whole name was typed (any case).
    pub exact: bool,
}

/// Organisations whose number is `input` (`42` or `#42`), or whose name
/// contains it, whole names first, then by name; at most `limit`, and only
/// approved partners when `approved_only`.
pub async fn find_partners(
    conn: &mut PgConnection,
    input: &str,
    approved_only: bool,
    limit: i64,
) -> Result<Vec<PartnerMatch>, sqlx::Error> {
    let input = input.trim();
    let id = input.trim_start_matches('#').parse::<i64>().ok();
    sqlx::query_as!(
        PartnerMatch,
        r#"select p.id, p.company_name, p.company_name_folded = lower($3) as "exact!"
             from partners p left join applications a on a.partner_id = p.id
            where (not $4 or a.state = 'approved')
              and (p.id = $1 or ($1 is null and p.company_name_folded like lower($2)))
            order by 3 desc, p.company_name_folded, p.id
            limit $5"#,
        id,
        contains_pattern(input),
        input,
        approved_only,
        limit
    )
    .fetch_all(conn)
    .await
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
