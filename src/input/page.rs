//! What a visitor gets back when the screen refuses their input: the form
//! once more, with each refused field shown, cleaned, with its message
//! next to it, and every other field carried along unchanged, so one click
//! sends it again. JSON clients get a problem document pointing at each
//! refused string.

use askama::Template;
use axum::{
    http::{Method, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::Problem;
use crate::views::{Layout, Page};

/// One field as it arrived: its name, what it held (cleaned), and why it
/// was refused, if it was.
#[derive(Debug)]
pub struct Field {
    pub name: String,
    pub kind: Kind,
    pub problem: Option<Problem>,
    /// The name itself is refused: the field cannot be sent again.
    pub unnamed: bool,
}

#[derive(Debug)]
pub enum Kind {
    Text(String),
    /// A file input; whether a file was chosen.
    File(bool),
}

impl Field {
    pub fn new(
        name: String,
        name_problem: Option<Problem>,
        kind: Kind,
        problem: Option<Problem>,
    ) -> Self {
        Self {
            name,
            kind,
            problem: name_problem.or(problem),
            unnamed: name_problem.is_some(),
        }
    }
}

/// A field of the page: how it is shown, and what is said next to it.
pub struct Shown {
    pub id: String,
    pub name: String,
    pub label: String,
    /// `hidden`, `text`, `textarea`, `password` or `file`.
    pub control: &'static str,
    pub value: String,
    pub message: Option<String>,
    pub hint: &'static str,
}

#[derive(Template)]
#[template(path = "input/refused.html")]
pub struct RefusedPage {
    pub layout: Layout,
    pub heading: &'static str,
    pub lead: &'static str,
    pub button: &'static str,
    pub method: &'static str,
    pub action: String,
    pub multipart: bool,
    pub fields: Vec<Shown>,
    /// Fields whose very names could not be read, left out.
    pub dropped: usize,
}

impl RefusedPage {
    pub fn problems(&self) -> impl Iterator<Item = &Shown> {
        self.fields.iter().filter(|f| f.message.is_some())
    }

    pub fn problem_count(&self) -> usize {
        self.problems().count() + self.dropped
    }
}

/// The page that gives `fields` back for correction, to be sent again by
/// `method` to `action`.
pub fn refusal(
    status: StatusCode,
    method: Method,
    action: String,
    multipart: bool,
    fields: Vec<Field>,
) -> Response {
    let is_get = method == Method::GET;
    let (heading, lead, button) = if is_get {
        (
            "Check the address of this page",
            "The address carries characters the portal cannot read. They are marked below and have been taken out: check what is left and show the page again.",
            "Show the page",
        )
    } else {
        (
            "Check what you entered",
            "Some of what you entered holds characters the portal cannot store, so nothing was saved. They are marked below and have been taken out: check each marked field and send the form again. Your browser\u{2019}s Back button returns to the form as you left it.",
            "Send again",
        )
    };
    let dropped = fields.iter().filter(|f| f.unnamed).count();
    let shown = fields
        .into_iter()
        .filter(|f| !f.unnamed)
        .enumerate()
        .map(|(i, f)| show(i, f))
        .collect();
    let page = RefusedPage {
        layout: Layout {
            minimal: true,
            ..Layout::public(heading, "")
        },
        heading,
        lead,
        button,
        method: if is_get { "get" } else { "post" },
        action,
        multipart,
        fields: shown,
        dropped,
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Page(page).into_response(),
    )
        .into_response()
}

fn show(index: usize, field: Field) -> Shown {
    let id = format!("field-{index}");
    let label = label(&field.name);
    let message = field.problem.map(|p| p.to_string());
    let (control, value, hint) = match field.kind {
        Kind::File(chosen) => (
            "file",
            String::new(),
            if chosen {
                "Choose the file again: a refused form keeps no files."
            } else {
                ""
            },
        ),
        Kind::Text(_) if field.name.contains("password") => (
            "password",
            String::new(),
            "Type it again: passwords are never sent back to the browser.",
        ),
        Kind::Text(value) if message.is_none() => ("hidden", value, ""),
        Kind::Text(value) => (
            if value.contains('\n') || value.chars().count() > 80 {
                "textarea"
            } else {
                "text"
            },
            value,
            "",
        ),
    };
    Shown {
        id,
        name: field.name,
        label,
        control,
        value,
        message,
        hint,
    }
}

/// A field's name as a person reads it: `company_name` → "Company name".
fn label(name: &str) -> String {
    match name {
        "q" => return "Search".to_owned(),
        "url" => return "URL".to_owned(),
        "email" => return "Email address".to_owned(),
        _ => {}
    }
    let words = name.replace(['_', '-'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Unnamed field".to_owned(),
    }
}

/// The answer to a JSON body holding refused text: RFC 9457 problem
/// details, with a JSON Pointer to each refused string.
pub fn json_refusal(problems: &[(String, Problem)]) -> Response {
    let errors: Vec<serde_json::Value> = problems
        .iter()
        .map(|(pointer, problem)| serde_json::json!({ "pointer": pointer, "detail": problem.to_string() }))
        .collect();
    let body = serde_json::json!({
        "type": "about:blank",
        "title": "Text the portal cannot store",
        "status": 422,
        "detail": "Strings may not contain NUL or other control characters (tab, line feed and carriage return excepted). Nothing was changed.",
        "errors": errors,
    });
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn labels_read_as_words() {
        assert_eq!(label("company_name"), "Company name");
        assert_eq!(label("primary-contact"), "Primary contact");
        assert_eq!(label("q"), "Search");
        assert_eq!(label(""), "Unnamed field");
    }
}
