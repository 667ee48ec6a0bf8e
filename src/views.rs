//! What every page shares: the layout context, rendering, and the error page.

use askama::Template;
use axum::{
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// Context of `base.html`: title, where the visitor is, who is signed in.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub title: String,
    /// The navigation entry to mark as current (`aria-current="page"`).
    pub section: &'static str,
    pub user_name: Option<String>,
    pub is_staff: bool,
    pub csrf_token: String,
    pub flash: Option<String>,
    /// Error pages do not know who is asking: they show no account links.
    pub minimal: bool,
}

impl Layout {
    pub fn public(title: impl Into<String>, section: &'static str) -> Self {
        Self {
            title: title.into(),
            section,
            ..Self::default()
        }
    }

    /// The layout of a page for this visitor: who is signed in, their CSRF
    /// token for forms, and any message left by the previous action.
    pub fn for_visitor(
        visitor: &crate::accounts::session::Visitor,
        title: impl Into<String>,
        section: &'static str,
    ) -> Self {
        let user = visitor
            .session
            .as_ref()
            .filter(|s| !s.second_factor_pending)
            .map(|s| &s.user);
        Self {
            title: title.into(),
            section,
            user_name: user.map(|u| u.name.clone()),
            is_staff: user.is_some_and(|u| u.is_staff()),
            csrf_token: visitor.csrf_token(),
            flash: visitor.flash(),
            minimal: false,
        }
    }

    /// `aria-current` for a navigation link.
    pub fn current(&self, section: &str) -> &'static str {
        if self.section == section {
            "page"
        } else {
            "false"
        }
    }
}

/// Problems with a submitted form, each shown next to its field.
#[derive(Debug, Default, Clone)]
pub struct FormErrors(Vec<(&'static str, String)>);

impl FormErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, message.into()));
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Every problem, in the order found (for a summary at the top).
    pub fn all(&self) -> &[(&'static str, String)] {
        &self.0
    }

    /// Records the error of a parse, keeping the value when it succeeds.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &'static str,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }
}

/// A form shown again with its problems: 422 so tools see the refusal.
pub struct Invalid<T>(pub T);

impl<T: Template> IntoResponse for Invalid<T> {
    fn into_response(self) -> Response {
        (StatusCode::UNPROCESSABLE_ENTITY, Page(self.0)).into_response()
    }
}

/// A rendered askama page as a response; a template error becomes the 500 page.
pub struct Page<T>(pub T);

impl<T: Template> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        match self.0.render() {
            Ok(html) => Html(html).into_response(),
            Err(e) => crate::error::AppError::from(e).into_response(),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub heading: &'static str,
    pub message: String,
}

impl ErrorPage {
    pub fn for_status(status: StatusCode) -> Self {
        let (heading, message) = match status.as_u16() {
            400 => (
                "That request did not make sense",
                "Something in the request was malformed. Go back, check what you entered and try again.",
            ),
            403 => (
                "That action was refused",
                "The form may have expired or come from another site. Go back, reload the page and try again.",
            ),
            404 => (
                "Page not found",
                "The page you asked for does not exist, or you do not have access to it.",
            ),
            409 => (
                "That cannot be done now",
                "The page may be out of date. Reload it and try again.",
            ),
            405 => (
                "That action is not available here",
                "This address does not accept that kind of request.",
            ),
            408 | 504 => (
                "That took too long",
                "The portal could not finish in time. Please try again in a moment.",
            ),
            413 => (
                "That upload is too large",
                "The data you sent is larger than the portal accepts. Please send something smaller.",
            ),
            415 | 422 => (
                "That form could not be read",
                "Please go back, check the form and send it again.",
            ),
            429 => (
                "Too many attempts",
                "Please wait a little before trying again.",
            ),
            503 => (
                "The portal is busy",
                "The portal is temporarily unavailable. Please try again in a moment.",
            ),
            s if s >= 500 => (
                "Something went wrong on our side",
                "The error has been logged. Please try again; if it keeps happening, contact the alliance team.",
            ),
            _ => (
                "That request could not be completed",
                "Please go back and try again.",
            ),
        };
        Self {
            layout: Layout {
                minimal: true,
                ..Layout::public(heading, "")
            },
            status: status.as_u16(),
            heading,
            message: message.to_owned(),
        }
    }
}

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = self.render().unwrap_or_else(|e| {
            tracing::error!(error = %e, "the error page itself failed to render");
            "<!doctype html><title>Error</title><p>Something went wrong.</p>".into()
        });
        (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response()
    }
}

/// Pages of `per_page` rows: (page shown, number of pages, offset).
pub fn paging(requested: Option<i64>, total: i64, per_page: i64) -> (i64, i64, i64) {
    let pages = ((total + per_page - 1) / per_page).max(1);
    let page = requested.unwrap_or(1).clamp(1, pages);
    (page, pages, (page - 1) * per_page)
}

#[cfg(test)]
mod tests {
    use super::paging;

    #[test]
    fn paging_clamps_to_the_pages_there_are() {
        assert_eq!(paging(None, 0, 20), (1, 1, 0));
        assert_eq!(paging(Some(2), 45, 20), (2, 3, 20));
        assert_eq!(paging(Some(9), 45, 20), (3, 3, 40));
        assert_eq!(paging(Some(-1), 45, 20), (1, 3, 0));
    }
}
