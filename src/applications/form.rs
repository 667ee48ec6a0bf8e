//! The application form (PRODUCT.md §2, field names §8), parsed into the
//! answers stored. A draft may be incomplete but what is filled in must be
//! right; a submission must be complete.

use serde::Deserialize;

use super::countries;
use crate::{accounts::EmailAddress, views::FormErrors};

pub const STAGES: [(&str, &str); 8] = [
    ("plan", "Plan"),
    ("create", "Create"),
    ("verify", "Verify"),
    ("package", "Package"),
    ("secure", "Secure"),
    ("govern", "Govern"),
    ("deploy", "Deploy"),
    ("monitor", "Monitor"),
];

pub const OFFERINGS: [(&str, &str); 3] = [
    ("saas", "SaaS"),
    ("self_managed", "Self-Managed"),
    ("dedicated", "Dedicated"),
];

pub const PARTNER_TYPES: [(&str, &str); 3] = [
    ("cloud", "Cloud Partner"),
    ("platform", "Platform Partner"),
    ("technology", "Technology (ISV) Partner"),
];

pub fn label_of(choices: &[(&'static str, &'static str)], value: &str) -> &'static str {
    choices
        .iter()
        .find(|(v, _)| *v == value)
        .map_or("", |(_, l)| *l)
}

/// What the form sends.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ApplicationForm {
    pub company_name: String,
    pub website: String,
    pub country: String,
    pub partner_type: String,
    pub integration_description: String,
    pub stages: Vec<String>,
    pub offerings: Vec<String>,
    pub primary_contact_name: String,
    pub primary_contact_email: String,
    pub primary_contact_phone: String,
    pub technical_contact_name: String,
    pub technical_contact_email: String,
    pub agreement_accepted: Option<String>,
}

/// The answers as stored; empty strings are unanswered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    pub company_name: String,
    pub website: String,
    pub country: String,
    pub partner_type: Option<String>,
    pub integration_description: String,
    pub stages: Vec<String>,
    pub offerings: Vec<String>,
    pub primary_contact_name: String,
    pub primary_contact_email: String,
    pub primary_contact_phone: String,
    pub technical_contact_name: String,
    pub technical_contact_email: String,
}

impl Answers {
    pub fn is_secure_track(&self) -> bool {
        self.stages.iter().any(|s| s == "secure" || s == "govern")
    }

    /// The form showing these answers again.
    pub fn to_form(&self) -> ApplicationForm {
        ApplicationForm {
            company_name: self.company_name.clone(),
            website: self.website.clone(),
            country: self.country.clone(),
            partner_type: self.partner_type.clone().unwrap_or_default(),
            integration_description: self.integration_description.clone(),
            stages: self.stages.clone(),
            offerings: self.offerings.clone(),
            primary_contact_name: self.primary_contact_name.clone(),
            primary_contact_email: self.primary_contact_email.clone(),
            primary_contact_phone: self.primary_contact_phone.clone(),
            technical_contact_name: self.technical_contact_name.clone(),
            technical_contact_email: self.technical_contact_email.clone(),
            agreement_accepted: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Save what is there; blanks are fine.
    Draft,
    /// Everything required, and the agreement accepted.
    Submit,
}

/// Checks every field and returns the answers, or every problem at once.
pub fn parse(form: &ApplicationForm, purpose: Purpose) -> Result<Answers, FormErrors> {
    let mut errors = FormErrors::default();
    let complete = purpose == Purpose::Submit;
    let required = |errors: &mut FormErrors, field: &'static str, value: &str, message: &str| {
        if complete && value.trim().is_empty() {
            errors.add(field, message);
        }
    };

    let company_name = form.company_name.trim().to_owned();
    required(
        &mut errors,
        "company_name",
        &company_name,
        "Enter your company's legal name.",
    );
    if company_name.chars().count() > 200 {
        errors.add("company_name", "Use at most 200 characters.");
    }

    let website = normalise_website(&form.website);
    required(
        &mut errors,
        "website",
        &website,
        "Enter your company's website, like https://example.com.",
    );
    if !website.is_empty()
        && let Err(message) = check_website(&website)
    {
        errors.add("website", message);
    }

    let country = form.country.trim().to_uppercase();
    required(
        &mut errors,
        "country",
        &country,
        "Choose the country of your headquarters.",
    );
    if !country.is_empty() && countries::name(&country).is_none() {
        errors.add("country", "Choose a country from the list.");
    }

    let partner_type = form.partner_type.trim().to_owned();
    required(
        &mut errors,
        "partner_type",
        &partner_type,
        "Choose Cloud, Platform or Technology (ISV) Partner.",
    );
    if !partner_type.is_empty() && label_of(&PARTNER_TYPES, &partner_type).is_empty() {
        errors.add(
            "partner_type",
            "Choose Cloud, Platform or Technology (ISV) Partner.",
        );
    }

    let description = form.integration_description.trim().replace("\r\n", "\n");
    required(
        &mut errors,
        "integration_description",
        &description,
        "Describe the integration you plan to build.",
    );
    let length = description.chars().count();
    if (1..30).contains(&length) && complete {
        errors.add(
            "integration_description",
            "Tell us a little more: at least 30 characters.",
        );
    }
    if length > 2000 {
        errors.add("integration_description", "Use at most 2000 characters.");
    }

    let stages = choices(&form.stages, &STAGES);
    if stages.len() != dedup_len(&form.stages) {
        errors.add("stages", "Choose stages from the list.");
    }
    if complete && stages.is_empty() {
        errors.add(
            "stages",
            "Choose at least one DevSecOps stage your integration touches.",
        );
    }
    let offerings = choices(&form.offerings, &OFFERINGS);
    if offerings.len() != dedup_len(&form.offerings) {
        errors.add("offerings", "Choose offerings from the list.");
    }
    if complete && offerings.is_empty() {
        errors.add(
            "offerings",
            "Choose at least one platform offering: SaaS, Self-Managed or Dedicated.",
        );
    }

    let primary_contact_name = person(
        &mut errors,
        "primary_contact_name",
        &form.primary_contact_name,
        complete,
    );
    let primary_contact_email = email(
        &mut errors,
        "primary_contact_email",
        &form.primary_contact_email,
        complete,
    );
    let primary_contact_phone = form.primary_contact_phone.trim().to_owned();
    if !primary_contact_phone.is_empty() && !plausible_phone(&primary_contact_phone) {
        errors.add(
            "primary_contact_phone",
            "Enter a phone number with digits, spaces, + - ( ) only, or leave it empty.",
        );
    }
    let technical_contact_name = person(
        &mut errors,
        "technical_contact_name",
        &form.technical_contact_name,
        complete,
    );
    let technical_contact_email = email(
        &mut errors,
        "technical_contact_email",
        &form.technical_contact_email,
        complete,
    );

    if complete && form.agreement_accepted.as_deref() != Some("on") {
        errors.add(
            "agreement_accepted",
            "Accept the Technology Partner Agreement to submit your application.",
        );
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Answers {
        company_name,
        website,
        country,
        partner_type: (!partner_type.is_empty()).then_some(partner_type),
        integration_description: description,
        stages,
        offerings,
        primary_contact_name,
        primary_contact_email,
        primary_contact_phone,
        technical_contact_name,
        technical_contact_email,
    })
}

/// Known choices, in the order of the list, without repeats.
fn choices(given: &[String], known: &[(&'static str, &'static str)]) -> Vec<String> {
    known
        .iter()
        .filter(|(v, _)| given.iter().any(|g| g == v))
        .map(|(v, _)| (*v).to_owned())
        .collect()
}

fn dedup_len(given: &[String]) -> usize {
    let mut v: Vec<&String> = given.iter().filter(|s| !s.is_empty()).collect();
    v.sort();
    v.dedup();
    v.len()
}

fn person(errors: &mut FormErrors, field: &'static str, value: &str, complete: bool) -> String {
    let name = value.trim().to_owned();
    if complete && name.is_empty() {
        errors.add(field, "Enter the contact's name.");
    } else if name.chars().count() > 100 {
        errors.add(field, "Use at most 100 characters.");
    }
    name
}

fn email(errors: &mut FormErrors, field: &'static str, value: &str, complete: bool) -> String {
    let text = value.trim();
    if text.is_empty() {
        if complete {
            errors.add(field, "Enter the contact's email address.");
        }
        return String::new();
    }
    match EmailAddress::parse(text) {
        Ok(e) => e.to_string(),
        Err(e) => {
            errors.add(field, e.to_string());
            text.to_owned()
        }
    }
}

fn plausible_phone(phone: &str) -> bool {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    (6..=20).contains(&digits)
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        && phone.len() <= 30
}

/// `example.com` → `https://example.com`; trailing slash kept as typed.
fn normalise_website(input: &str) -> String {
    let text = input.trim();
    if text.is_empty() || text.contains("://") {
        text.to_owned()
    } else {
        format!("https://{text}")
    }
}

fn check_website(website: &str) -> Result<(), &'static str> {
    let url =
        url::Url::parse(website).map_err(|_| "Enter a web address like https://example.com.")?;
    if url.scheme() != "https" {
        return Err("Use an https:// address.");
    }
    let host = url.host_str().unwrap_or("");
    if !host.contains('.') || url.username() != "" || url.password().is_some() {
        return Err("Enter a web address like https://example.com.");
    }
    if website.len() > 300 {
        return Err("Use at most 300 characters.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> ApplicationForm {
        ApplicationForm {
            company_name: "Acme Corp".into(),
            website: "acme.example".into(),
            country: "de".into(),
            partner_type: "technology".into(),
            integration_description: "A scanner that reports findings into merge requests.".into(),
            stages: vec!["secure".into(), "verify".into()],
            offerings: vec!["saas".into()],
            primary_contact_name: "Ada".into(),
            primary_contact_email: "ada@acme.example".into(),
            primary_contact_phone: "+49 30 1234567".into(),
            technical_contact_name: "Linus".into(),
            technical_contact_email: "linus@acme.example".into(),
            agreement_accepted: Some("on".into()),
        }
    }

    #[test]
    fn a_complete_form_is_normalised() {
        let a = parse(&complete(), Purpose::Submit).unwrap();
        assert_eq!(a.website, "https://acme.example");
        assert_eq!(a.country, "DE");
        assert_eq!(a.stages, vec!["verify", "secure"], "in list order");
        assert!(a.is_secure_track());
    }

    #[test]
    fn a_draft_may_be_empty_but_not_wrong() {
        assert!(parse(&ApplicationForm::default(), Purpose::Draft).is_ok());
        let wrong = ApplicationForm {
            website: "http://acme.example".into(),
            country: "XX".into(),
            ..Default::default()
        };
        let errors = parse(&wrong, Purpose::Draft).unwrap_err();
        assert_eq!(errors.get("website"), Some("Use an https:// address."));
        assert_eq!(
            errors.get("country"),
            Some("Choose a country from the list.")
        );
    }

    #[test]
    fn submitting_needs_every_required_answer_and_the_agreement() {
        let errors = parse(&ApplicationForm::default(), Purpose::Submit).unwrap_err();
        for field in [
            "company_name",
            "website",
            "country",
            "partner_type",
            "integration_description",
            "stages",
            "offerings",
            "primary_contact_name",
            "primary_contact_email",
            "technical_contact_name",
            "technical_contact_email",
            "agreement_accepted",
        ] {
            assert!(errors.get(field).is_some(), "{field}");
        }
        assert!(
            errors.get("primary_contact_phone").is_none(),
            "the phone is optional"
        );
    }

    #[test]
    fn unknown_choices_are_refused() {
        let mut form = complete();
        form.stages.push("deploy-to-mars".into());
        form.partner_type = "reseller".into();
        let errors = parse(&form, Purpose::Submit).unwrap_err();
        assert!(errors.get("stages").is_some());
        assert!(errors.get("partner_type").is_some());
    }
}
