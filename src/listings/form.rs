//! The listing form (PRODUCT.md §7, field names §8) parsed into what is
//! stored. Every problem is reported at once, next to its field.

use url::Url;

use crate::{applications::form::STAGES, views::FormErrors};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_SHORT_CHARS: usize = 200;
pub const MAX_LONG_CHARS: usize = 5000;
pub const MAX_MESSAGING_CHARS: usize = 3000;

/// The text fields as submitted; empty strings mean "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingInput {
    pub display_name: String,
    pub short_description: String,
    pub long_description: String,
    pub website: String,
    pub documentation_url: String,
    pub demo_url: String,
    pub value_messaging: String,
    pub use_cases: String,
    pub stages: Vec<String>,
}

/// A complete, checked listing (without its logo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingDraft {
    pub display_name: String,
    pub short_description: String,
    pub long_description: String,
    pub website: String,
    pub documentation_url: String,
    pub demo_url: Option<String>,
    pub value_messaging: String,
    pub use_cases: String,
    /// In the program's order, without repeats.
    pub stages: Vec<String>,
}

impl ListingInput {
    pub fn parse(&self) -> Result<ListingDraft, FormErrors> {
        let mut errors = FormErrors::default();
        let display_name = errors.check(
            "display_name",
            line(
                &self.display_name,
                "the name to show in the directory",
                MAX_NAME_CHARS,
            ),
        );
        let short_description = errors.check(
            "short_description",
            line(
                &self.short_description,
                "a one-sentence description",
                MAX_SHORT_CHARS,
            ),
        );
        let long_description = errors.check(
            "long_description",
            text(
                &self.long_description,
                "a description of the integration",
                MAX_LONG_CHARS,
            ),
        );
        let website = errors.check(
            "website",
            https_url(&self.website, "your company's website"),
        );
        let documentation_url = errors.check(
            "documentation_url",
            https_url(
                &self.documentation_url,
                "the public documentation of the integration",
            ),
        );
        let demo_url = errors.check("demo_url", optional_https_url(&self.demo_url));
        let value_messaging = errors.check(
            "value_messaging",
            text(
                &self.value_messaging,
                "the benefits of the integration for customers",
                MAX_MESSAGING_CHARS,
            ),
        );
        let use_cases = errors.check(
            "use_cases",
            text(
                &self.use_cases,
                "the business and technical use cases",
                MAX_MESSAGING_CHARS,
            ),
        );
        let stages = errors.check("stages", stages(&self.stages));
        match (
            display_name,
            short_description,
            long_description,
            website,
            documentation_url,
            demo_url,
            value_messaging,
            use_cases,
            stages,
        ) {
            (
                Some(display_name),
                Some(short_description),
                Some(long_description),
                Some(website),
                Some(documentation_url),
                Some(demo_url),
                Some(value_messaging),
                Some(use_cases),
                Some(stages),
            ) if errors.is_empty() => Ok(ListingDraft {
                display_name,
                short_description,
                long_description,
                website,
                documentation_url,
                demo_url,
                value_messaging,
                use_cases,
                stages,
            }),
            _ => Err(errors),
        }
    }
}

fn line(input: &str, what: &str, max: usize) -> Result<String, String> {
    let value = input.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars = value.chars().count();
    if chars == 0 {
        return Err(format!("Enter {what}."));
    }
    if chars < 2 {
        return Err(format!("Enter {what}: one character is not enough."));
    }
    if chars > max {
        return Err(format!("Use at most {max} characters; this has {chars}."));
    }
    if value.chars().any(char::is_control) {
        return Err("This contains characters that cannot be shown.".into());
    }
    Ok(value)
}

fn text(input: &str, what: &str, max: usize) -> Result<String, String> {
    let value = input.trim().replace("\r\n", "\n");
    let chars = value.chars().count();
    if chars == 0 {
        return Err(format!("Enter {what}."));
    }
    if chars > max {
        return Err(format!(
            "Use at most {} characters; this has {chars}.",
            thousands(max)
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("This contains characters that cannot be shown.".into());
    }
    Ok(value)
}

/// 10181 → "10,181".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn https_url(input: &str, what: &str) -> Result<String, String> {
    let text = input.trim();
    if text.is_empty() {
        return Err(format!(
            "Enter the address of {what}, starting with https://."
        ));
    }
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("https://{text}")
    };
    let url = Url::parse(&with_scheme)
        .map_err(|_| "Enter a web address like https://www.example.com/docs.".to_owned())?;
    if url.scheme() != "https" {
        return Err("Use an https:// address; other addresses are not accepted.".into());
    }
    let host = url.host_str().unwrap_or_default();
    if !host.contains('.') || host.ends_with('.') {
        return Err(
            "Enter a public web address with a full domain name, like https://www.example.com."
                .into(),
        );
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Remove the user name and password from the address.".into());
    }
    if url.as_str().len() > 500 {
        return Err("Use an address of at most 500 characters.".into());
    }
    Ok(url.to_string())
}

fn optional_https_url(input: &str) -> Result<Option<String>, String> {
    if input.trim().is_empty() {
        Ok(None)
    } else {
        https_url(input, "the demo").map(Some)
    }
}

fn stages(chosen: &[String]) -> Result<Vec<String>, String> {
    if let Some(unknown) = chosen.iter().find(|s| !STAGES.iter().any(|(v, _)| v == s)) {
        return Err(format!(
            "\u{201c}{unknown}\u{201d} is not a DevSecOps stage. Choose from the list."
        ));
    }
    let ordered: Vec<String> = STAGES
        .iter()
        .filter(|(v, _)| chosen.iter().any(|c| c == v))
        .map(|(v, _)| (*v).to_owned())
        .collect();
    if ordered.is_empty() {
        return Err("Choose at least one DevSecOps stage your integration covers.".into());
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> ListingInput {
        ListingInput {
            display_name: "  Acme   Security ".into(),
            short_description: "Finds vulnerabilities in merge requests.".into(),
            long_description:
                "Acme scans every pipeline.\r\n\r\nResults appear in the merge request.".into(),
            website: "acme.example.com".into(),
            documentation_url: "https://docs.acme.example.com/gitlab".into(),
            demo_url: String::new(),
            value_messaging: "Ship safer code.".into(),
            use_cases: "Business: audits. Technical: SAST in CI.".into(),
            stages: vec!["secure".into(), "verify".into(), "secure".into()],
        }
    }

    #[test]
    fn a_complete_listing_is_normalised() {
        let draft = complete().parse().unwrap();
        assert_eq!(draft.display_name, "Acme Security");
        assert_eq!(draft.website, "https://acme.example.com/");
        assert_eq!(
            draft.long_description,
            "Acme scans every pipeline.\n\nResults appear in the merge request."
        );
        assert_eq!(draft.stages, ["verify", "secure"]);
        assert_eq!(draft.demo_url, None);
    }

    #[test]
    fn every_missing_field_is_reported_next_to_itself() {
        let errors = ListingInput::default().parse().unwrap_err();
        let fields: Vec<&str> = errors.all().iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                "display_name",
                "short_description",
                "long_description",
                "website",
                "documentation_url",
                "value_messaging",
                "use_cases",
                "stages"
            ]
        );
    }

    #[test]
    fn addresses_must_be_public_https() {
        for (given, expected) in [
            ("http://docs.acme.example.com", "https://"),
            ("ftp://docs.acme.example.com", "https://"),
            ("https://localhost/docs", "full domain name"),
            (
                "https://ada:pw@docs.acme.example.com",
                "user name and password",
            ),
            ("https://exa mple.com", "web address like"),
        ] {
            let mut input = complete();
            input.documentation_url = given.into();
            let errors = input.parse().unwrap_err();
            let message = errors.get("documentation_url").unwrap_or_default();
            assert!(message.contains(expected), "{given:?} gave {message:?}");
        }
        let mut input = complete();
        input.demo_url = "http://demo.acme.example.com".into();
        assert!(input.parse().unwrap_err().get("demo_url").is_some());
        input.demo_url = "https://demo.acme.example.com/video".into();
        assert_eq!(
            input.parse().unwrap().demo_url.as_deref(),
            Some("https://demo.acme.example.com/video")
        );
    }

    #[test]
    fn stages_come_from_the_program_list() {
        let mut input = complete();
        input.stages = vec!["secure".into(), "testing".into()];
        assert!(
            input
                .parse()
                .unwrap_err()
                .get("stages")
                .unwrap()
                .contains("testing")
        );
        input.stages = vec![];
        assert!(
            input
                .parse()
                .unwrap_err()
                .get("stages")
                .unwrap()
                .contains("at least one")
        );
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(5000), "5,000");
        assert_eq!(thousands(10181), "10,181");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn lengths_count_characters() {
        let mut input = complete();
        input.display_name = "é".repeat(100);
        assert!(input.parse().is_ok());
        input.display_name = "é".repeat(101);
        assert!(
            input
                .parse()
                .unwrap_err()
                .get("display_name")
                .unwrap()
                .contains("at most 100")
        );
        input.display_name = "A".into();
        assert!(input.parse().is_err());
        input = complete();
        input.long_description = "x".repeat(5001);
        assert!(
            input
                .parse()
                .unwrap_err()
                .get("long_description")
                .unwrap()
                .contains("5,000")
        );
    }
}
