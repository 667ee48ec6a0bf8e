//! Errors of the partner API as `application/problem+json` (RFC 9457):
//! a type, a title, the status, a detail, and for a refused body the list
//! of fields with what is wrong with each.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;

/// A problem with a request, as the API answers it.
#[derive(Debug, Clone)]
pub struct Problem(Box<ProblemDetails>);

/// A problem with a request (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://partners.example.com/api/v1/problems/validation",
    "title": "The request has invalid fields",
    "status": 422,
    "detail": "Correct the fields listed and send it again.",
    "errors": [{ "field": "body", "message": "Write your update before posting it." }]
}))]
pub struct ProblemDetails {
    /// What kind of problem, as a URI.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The fields of a refused body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    #[schema(ignore)]
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str) -> Self {
        Self(Box::new(ProblemDetails {
            kind: format!("/api/v1/problems/{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            errors: Vec::new(),
            headers: Vec::new(),
        }))
    }

    pub fn status(&self) -> u16 {
        self.0.status
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    pub fn header(mut self, name: header::HeaderName, value: impl ToString) -> Self {
        if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
            self.0.headers.push((name, v));
        }
        self
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found")
            .detail("There is nothing at this address for your organisation.")
    }

    pub fn unauthorized(detail: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "A valid API token is needed",
        )
        .detail(detail)
        .header(header::WWW_AUTHENTICATE, "Bearer realm=\"partner-api\"")
    }

    /// A body whose fields are wrong: 422 with each field's problem.
    pub fn invalid(errors: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut problem = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "The request has invalid fields",
        )
        .detail("Correct the fields listed and send it again.");
        problem.0.errors = errors
            .into_iter()
            .map(|(field, message)| FieldError { field, message })
            .collect();
        problem
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let Self(details) = self;
        let status =
            StatusCode::from_u16(details.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&details).expect("a problem serialises");
        let mut res = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        for (name, value) in details.headers {
            res.headers_mut().insert(name, value);
        }
        res
    }
}

impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        match error {
            AppError::NotFound => Problem::not_found(),
            AppError::BadRequest(why) => {
                Problem::new(StatusCode::BAD_REQUEST, "bad-request", "Bad request").detail(why)
            }
            AppError::Forbidden(why) | AppError::NotPermitted(why) => {
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed").detail(why)
            }
            AppError::Conflict(why) => {
                Problem::new(StatusCode::CONFLICT, "conflict", "Not possible now").detail(why)
            }
            AppError::TooManyRequests => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            ),
            AppError::LimitReached(reached) => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "write-limit",
                "A write limit is reached",
            )
            .detail(reached.message())
            .header(header::RETRY_AFTER, reached.retry_after()),
            other => {
                tracing::error!(error = %other, "partner API: internal error");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong on our side",
                )
                .detail("It was logged; try again in a moment.")
            }
        }
    }
}

impl From<sqlx::Error> for Problem {
    fn from(error: sqlx::Error) -> Self {
        AppError::from(error).into()
    }
}
