//! The slug in a partner's public directory address: `/partners/acme-corp`.

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

pub const MAX_SLUG_CHARS: usize = 60;
const FALLBACK: &str = "partner";

/// Lowercase ASCII letters and digits joined by single dashes. Accented
/// Latin letters lose their accents (é → e, ß → ss, ø → o); other characters
/// separate words; apostrophes join them (O'Brien → obrien). Long names are
/// cut at a word boundary where one exists; a name with nothing usable gives
/// `partner`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len().min(2 * MAX_SLUG_CHARS));
    let mut separated = false;
    for c in name.nfkd() {
        if is_combining_mark(c) || matches!(c, '\'' | '\u{2019}') {
            continue;
        }
        if c.is_ascii_alphanumeric() {
            let mut buf = [0u8; 4];
            push_word(
                &mut slug,
                &mut separated,
                c.to_ascii_lowercase().encode_utf8(&mut buf),
            );
        } else if let Some(latin) = transliterate(c) {
            push_word(&mut slug, &mut separated, latin);
        } else {
            separated = true;
        }
    }
    let cut = cut_to_length(&slug, MAX_SLUG_CHARS);
    if cut.is_empty() {
        FALLBACK.to_owned()
    } else {
        cut.to_owned()
    }
}

/// A variant of a slug for when the plain one is taken: `acme-2`, still at
/// most [`MAX_SLUG_CHARS`] long.
pub fn numbered(slug: &str, number: u32) -> String {
    let suffix = format!("-{number}");
    let base = cut_to_length(slug, MAX_SLUG_CHARS - suffix.len());
    let base = if base.is_empty() { FALLBACK } else { base };
    format!("{base}{suffix}")
}

fn push_word(slug: &mut String, separated: &mut bool, text: &str) {
    if *separated && !slug.is_empty() {
        slug.push('-');
    }
    *separated = false;
    slug.push_str(text);
}

/// Letters that decomposition does not reduce to ASCII.
fn transliterate(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' | 'ẞ' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ø' | 'Ø' => "o",
        'ł' | 'Ł' => "l",
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'þ' | 'Þ' => "th",
        'ħ' | 'Ħ' => "h",
        'ı' => "i",
        'ŋ' | 'Ŋ' => "n",
        _ => return None,
    })
}

/// At most `max` bytes of an ASCII slug, ending at a word boundary when the
/// first word fits, never ending in a dash.
fn cut_to_length(slug: &str, max: usize) -> &str {
    let slug = slug.trim_matches('-');
    if slug.len() <= max {
        return slug;
    }
    let head = &slug[..max];
    let at_boundary = slug.as_bytes()[max] == b'-';
    let cut = match head.rfind('-') {
        _ if at_boundary => head,
        Some(dash) => &head[..dash],
        None => head,
    };
    cut.trim_end_matches('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_readable_ascii_slugs() {
        for (name, slug) in [
            ("Acme Corp", "acme-corp"),
            ("  ACME   Corp, Inc.  ", "acme-corp-inc"),
            ("Société Générale", "societe-generale"),
            ("Müller & Söhne GmbH", "muller-sohne-gmbh"),
            ("Straße", "strasse"),
            ("Ørsted", "orsted"),
            ("Łódź Systems", "lodz-systems"),
            ("Þórður Æsir", "thordur-aesir"),
            ("Crème brûlée Labs", "creme-brulee-labs"),
            ("O'Brien Tools", "obrien-tools"),
            ("O\u{2019}Brien Tools", "obrien-tools"),
            ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
            ("ﬁne-tuned", "fine-tuned"),
            ("DevSecOps__2024--Edition", "devsecops-2024-edition"),
            ("株式会社 Acme", "acme"),
            ("Acme 株式会社 Labs", "acme-labs"),
        ] {
            assert_eq!(slugify(name), slug, "for {name:?}");
        }
    }

    #[test]
    fn names_with_nothing_usable_fall_back_to_partner() {
        for name in ["", "   ", "---", "株式会社", "!!!", "🚀"] {
            assert_eq!(slugify(name), "partner", "for {name:?}");
        }
    }

    #[test]
    fn long_names_are_cut_at_a_word_boundary() {
        let name =
            "International Business Solutions for Continuous Delivery, Security and Compliance";
        let slug = slugify(name);
        assert_eq!(
            slug,
            "international-business-solutions-for-continuous-delivery"
        );
        assert!(slug.len() <= MAX_SLUG_CHARS);
    }

    #[test]
    fn a_cut_that_falls_on_a_dash_keeps_the_whole_last_word() {
        let name = format!("{} {}", "a".repeat(60), "tail");
        assert_eq!(slugify(&name), "a".repeat(60));
        let name = format!("{} {}", "b".repeat(29), "c".repeat(30));
        assert_eq!(slugify(&format!("{name} more")), name.replace(' ', "-"));
    }

    #[test]
    fn one_long_word_is_cut_hard() {
        assert_eq!(slugify(&"x".repeat(100)), "x".repeat(60));
    }

    #[test]
    fn numbered_variants_stay_within_the_limit() {
        assert_eq!(numbered("acme-corp", 2), "acme-corp-2");
        let long = slugify(&"word ".repeat(20));
        let variant = numbered(&long, 12);
        assert!(variant.len() <= MAX_SLUG_CHARS, "{variant}");
        assert!(variant.ends_with("-word-12"), "{variant}");
        assert_eq!(
            numbered(&"x".repeat(60), 3),
            format!("{}-3", "x".repeat(58))
        );
    }
}
