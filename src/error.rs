//! One error type for handlers. Users see a friendly page; the cause is kept
//! for the logs, inside the request's span, and never shown.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};

use crate::views::ErrorPage;

pub type AppResult<T, E = AppError> = Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// A state change without a valid CSRF token or from another origin.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Signed in, but this role may not do that (the message says who may).
    #[error("not permitted: {0}")]
    NotPermitted(&'static str),
    /// The action does not fit the current state (approving a draft…).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too many requests")]
    TooManyRequests,
    /// A write over its limit (`crate::limits`): a page naming the limit.
    #[error("write limit reached: {}", .0.what)]
    LimitReached(Box<crate::limits::LimitReached>),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("template error: {0}")]
    Template(#[from] askama::Error),
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) | AppError::NotPermitted(_) => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests | AppError::LimitReached(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Database(_) | AppError::Template(_) | AppError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::LimitReached(reached) = self {
            return reached.into_response();
        }
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, "request refused");
        }
        let mut page = ErrorPage::for_status(status);
        match self {
            AppError::NotPermitted(message) => {
                page.heading = "You cannot do this";
                page.message = message.to_owned();
            }
            AppError::Conflict(message) => {
                page.heading = "That cannot be done now";
                page.message = message;
            }
            _ => {}
        }
        page.into_response()
    }
}
