//! A partner's request for NFR licenses, parsed from the `/licenses` form:
//! which products, how many users, what for, and the terms acknowledged.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Product, Purpose, UserCount, rules::needs_staff_review};

pub const MIN_JUSTIFICATION_CHARS: usize = 20;
pub const MAX_JUSTIFICATION_CHARS: usize = 2000;

/// Form problems by field name, all at once, so the page can show each
/// message next to its field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<&'static str, String>);

impl FieldErrors {
    pub fn insert(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.insert(field, message.into());
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str()))
    }
}

/// The `/licenses` form as submitted. `products` and `purposes` repeat.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LicenseRequestForm {
    pub products: Vec<String>,
    pub users: String,
    pub purposes: Vec<String>,
    pub justification: String,
    pub terms_accepted: Option<String>,
}

impl LicenseRequestForm {
    /// Builds the form from decoded `name=value` pairs, e.g. axum's
    /// `Form<Vec<(String, String)>>`, whose decoder cannot collect repeated
    /// names into a `Vec` by itself. Unknown names are ignored.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut form = Self::default();
        for (name, value) in pairs {
            match name.as_str() {
                "products" => form.products.push(value),
                "users" => form.users = value,
                "purposes" => form.purposes.push(value),
                "justification" => form.justification = value,
                "terms_accepted" => form.terms_accepted = Some(value),
                _ => {}
            }
        }
        form
    }
}

/// A valid request: at least one product and one purpose (each listed once,
/// in a fixed order), and a justification whenever staff must review it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseRequest {
    pub products: Vec<Product>,
    pub users: UserCount,
    pub purposes: Vec<Purpose>,
    /// Trimmed; `None` when left empty (allowed only when no review is
    /// needed).
    pub justification: Option<String>,
}

impl LicenseRequest {
    pub fn parse(form: &LicenseRequestForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();

        let products = match parse_choices(&form.products, Product::parse) {
            Err(()) => {
                errors.insert(
                    "products",
                    "Choose SaaS, Self-Managed or both from the list.",
                );
                Vec::new()
            }
            Ok(p) if p.is_empty() => {
                errors.insert("products", "Choose SaaS, Self-Managed or both.");
                p
            }
            Ok(p) => p,
        };

        let users = UserCount::parse(&form.users)
            .map_err(|problem| errors.insert("users", problem.to_string()))
            .ok();

        let purposes = match parse_choices(&form.purposes, Purpose::parse) {
            Err(()) => {
                errors.insert("purposes", "Choose purposes from the list.");
                Vec::new()
            }
            Ok(p) if p.is_empty() => {
                errors.insert("purposes", "Choose at least one purpose.");
                p
            }
            Ok(p) => p,
        };

        let justification = form.justification.trim();
        let length = justification.chars().count();
        let needs_review = users.is_some_and(needs_staff_review);
        if needs_review && length < MIN_JUSTIFICATION_CHARS {
            errors.insert(
                "justification",
                "More than 10 users needs a staff review: tell us in at least 20 characters why your team needs them.",
            );
        } else if length > MAX_JUSTIFICATION_CHARS {
            errors.insert(
                "justification",
                "Keep the justification to 2000 characters or fewer.",
            );
        }

        let accepted = form
            .terms_accepted
            .as_deref()
            .is_some_and(|v| !v.trim().is_empty());
        if !accepted {
            errors.insert(
                "terms_accepted",
                "Confirm that you accept the NFR license terms.",
            );
        }

        match users {
            Some(users) if errors.is_empty() => Ok(Self {
                products,
                users,
                purposes,
                justification: (!justification.is_empty()).then(|| justification.to_owned()),
            }),
            _ => Err(errors),
        }
    }

    /// More than [`AUTO_APPROVE_MAX_USERS`](super::AUTO_APPROVE_MAX_USERS)
    /// users waits for staff.
    pub fn needs_review(&self) -> bool {
        needs_staff_review(self.users)
    }
}

/// Parses repeated checkbox values, ignoring blanks and repeats; `Err` when a
/// value is not one of the choices. The result is in the enum's order.
fn parse_choices<T: Ord>(values: &[String], parse: fn(&str) -> Option<T>) -> Result<Vec<T>, ()> {
    let mut chosen = values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| parse(v).ok_or(()))
        .collect::<Result<Vec<T>, ()>>()?;
    chosen.sort();
    chosen.dedup();
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(products: &[&str], users: &str, purposes: &[&str]) -> LicenseRequestForm {
        LicenseRequestForm {
            products: products.iter().map(|s| s.to_string()).collect(),
            users: users.to_owned(),
            purposes: purposes.iter().map(|s| s.to_string()).collect(),
            justification: String::new(),
            terms_accepted: Some("on".to_owned()),
        }
    }

    #[test]
    fn a_small_request_is_issued_without_review() {
        let request = LicenseRequest::parse(&form(&["saas"], "10", &["demos"])).unwrap();
        assert_eq!(request.products, vec![Product::Saas]);
        assert_eq!(request.users.get(), 10);
        assert_eq!(request.purposes, vec![Purpose::Demos]);
        assert_eq!(request.justification, None);
        assert!(!request.needs_review());
    }

    #[test]
    fn both_products_and_repeats_come_out_once_in_a_fixed_order() {
        let request = LicenseRequest::parse(&form(
            &["self_managed", "saas", "saas", ""],
            "3",
            &["demos", "training", "demos"],
        ))
        .unwrap();
        assert_eq!(request.products, vec![Product::Saas, Product::SelfManaged]);
        assert_eq!(request.purposes, vec![Purpose::Training, Purpose::Demos]);
    }

    #[test]
    fn more_than_ten_users_needs_a_justification_and_a_review() {
        let mut f = form(&["saas"], "11", &["training"]);
        let errors = LicenseRequest::parse(&f).unwrap_err();
        assert!(errors.get("justification").is_some());
        assert_eq!(errors.len(), 1);

        f.justification = "  too short  ".to_owned();
        assert!(LicenseRequest::parse(&f).is_err());

        f.justification = "  Forty engineers run our integration suite.  ".to_owned();
        let request = LicenseRequest::parse(&f).unwrap();
        assert!(request.needs_review());
        assert_eq!(
            request.justification.as_deref(),
            Some("Forty engineers run our integration suite.")
        );
    }

    #[test]
    fn a_justification_of_exactly_twenty_characters_is_enough() {
        let mut f = form(&["saas"], "11", &["training"]);
        f.justification = "a".repeat(MIN_JUSTIFICATION_CHARS - 1);
        assert!(LicenseRequest::parse(&f).is_err());
        f.justification = "a".repeat(MIN_JUSTIFICATION_CHARS);
        assert!(LicenseRequest::parse(&f).is_ok());
    }

    #[test]
    fn an_overlong_justification_is_refused() {
        let mut f = form(&["saas"], "2", &["training"]);
        f.justification = "a".repeat(MAX_JUSTIFICATION_CHARS + 1);
        let errors = LicenseRequest::parse(&f).unwrap_err();
        assert!(errors.get("justification").is_some());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let f = LicenseRequestForm::default();
        let errors = LicenseRequest::parse(&f).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(field, _)| field).collect();
        assert_eq!(fields, ["products", "purposes", "terms_accepted", "users"]);
        assert_eq!(
            errors.get("products"),
            Some("Choose SaaS, Self-Managed or both.")
        );
        assert_eq!(errors.get("purposes"), Some("Choose at least one purpose."));
        assert_eq!(errors.get("users"), Some("Enter the number of users."));
    }

    #[test]
    fn unknown_choices_are_refused() {
        let errors =
            LicenseRequest::parse(&form(&["saas", "dedicated"], "2", &["production"])).unwrap_err();
        assert_eq!(
            errors.get("products"),
            Some("Choose SaaS, Self-Managed or both from the list.")
        );
        assert_eq!(
            errors.get("purposes"),
            Some("Choose purposes from the list.")
        );
    }

    #[test]
    fn the_terms_must_be_accepted() {
        for terms in [None, Some(""), Some("  ")] {
            let mut f = form(&["saas"], "2", &["training"]);
            f.terms_accepted = terms.map(str::to_owned);
            let errors = LicenseRequest::parse(&f).unwrap_err();
            assert_eq!(
                errors.get("terms_accepted"),
                Some("Confirm that you accept the NFR license terms."),
                "{terms:?}"
            );
        }
    }

    #[test]
    fn the_form_collects_repeated_fields_from_pairs() {
        let pairs = [
            ("csrf_token", "x"),
            ("products", "saas"),
            ("products", "self_managed"),
            ("users", "4"),
            ("purposes", "training"),
            ("purposes", "demos"),
            ("justification", ""),
            ("terms_accepted", "on"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let f = LicenseRequestForm::from_pairs(pairs);
        assert_eq!(f.products, ["saas", "self_managed"]);
        assert_eq!(f.purposes, ["training", "demos"]);
        assert_eq!(f.users, "4");
        assert_eq!(f.terms_accepted.as_deref(), Some("on"));
        assert!(LicenseRequest::parse(&f).is_ok());
    }
}
