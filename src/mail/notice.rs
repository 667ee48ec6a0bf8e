//! The common shape of most emails: a greeting, a few paragraphs, one
//! button, an optional footnote. Features build a [`Notice`] instead of
//! writing a template each.

use crate::email_bodies;

#[derive(Debug, Clone)]
pub struct Action {
    pub label: String,
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct Notice {
    pub kind: &'static str,
    pub subject: String,
    pub name: String,
    pub paragraphs: Vec<String>,
    pub action: Option<Action>,
    pub footnote: Option<String>,
}

impl Notice {
    pub fn new(kind: &'static str, subject: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            kind,
            subject: subject.into(),
            name: name.into(),
            paragraphs: Vec::new(),
            action: None,
            footnote: None,
        }
    }

    pub fn paragraph(mut self, text: impl Into<String>) -> Self {
        self.paragraphs.push(text.into());
        self
    }

    pub fn action(mut self, label: impl Into<String>, url: impl Into<String>) -> Self {
        self.action = Some(Action {
            label: label.into(),
            url: url.into(),
        });
        self
    }

    pub fn footnote(mut self, text: impl Into<String>) -> Self {
        self.footnote = Some(text.into());
        self
    }

    fn subject_line(&self) -> String {
        self.subject.clone()
    }

    fn kind_name(&self) -> &'static str {
        self.kind
    }
}

email_bodies!(
    Notice,
    kind_name,
    NoticeText = "email/notice.txt",
    NoticeHtml = "email/notice.html"
);
