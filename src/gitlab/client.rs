//! The one HTTP client the portal talks to GitLab with, and how its answers
//! are read: a 2xx is data to check, a 429 says when to come back, a 5xx or
//! a timeout is worth another try, any other 4xx will not get better.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use reqwest::{Response, StatusCode, header::HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use crate::{config::GitLabConfig, outbox::Outcome};

/// A connection that takes longer than this to open is not going to help.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A whole call (GitLab answers the notes API in well under a second).
const CALL_TIMEOUT: Duration = Duration::from_secs(20);
/// How much of an error body is kept as the reason shown to staff.
const REASON_CHARS: usize = 300;

/// The platform instance and the client that reaches it.
#[derive(Clone)]
pub struct GitLab {
    http: reqwest::Client,
    pub config: Arc<GitLabConfig>,
}

/// Why a call did not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// Not reachable, timed out, or a 5xx: worth trying again, at `after`
    /// if the platform said when.
    Temporary {
        reason: String,
        after: Option<Duration>,
    },
    /// 429: the platform's rate limit; come back after `after`.
    RateLimited { after: Duration },
    /// Any other 4xx, or an answer that does not say what it must: trying
    /// again will not help.
    Permanent(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Temporary { reason, .. } | Self::Permanent(reason) => f.write_str(reason),
            Self::RateLimited { after } => write!(
                f,
                "GitLab's rate limit: asked to wait {} s",
                after.as_secs()
            ),
        }
    }
}

impl From<CallError> for Outcome {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Temporary { reason, after } => Outcome::Retry { reason, after },
            CallError::RateLimited { after } => Outcome::Wait {
                reason: CallError::RateLimited { after }.to_string(),
                after,
            },
            CallError::Permanent(reason) => Outcome::Dead(reason),
        }
    }
}

impl GitLab {
    pub fn new(config: &GitLabConfig, public_url: &url::Url) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(format!(
                "partner-portal/{} (+{})",
                env!("CARGO_PKG_VERSION"),
                public_url.as_str().trim_end_matches('/')
            ))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            // API answers never redirect; one that does is not followed
            // anywhere with the portal's token.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client builds with rustls");
        Self {
            http,
            config: Arc::new(config.clone()),
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A request to `path` on the instance carrying `token` as
    /// `PRIVATE-TOKEN`.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &SecretString,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.config.endpoint(path))
            .header("PRIVATE-TOKEN", token.expose_secret())
    }

    /// Sends and reads a JSON answer, sorting failures as [`CallError`].
    pub async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, CallError> {
        let response = request.send().await.map_err(unreachable)?;
        let response = check(response).await?;
        response
            .json::<T>()
            .await
            .map_err(|e| CallError::Permanent(format!("GitLab's answer could not be read: {e}")))
    }
}

fn unreachable(error: reqwest::Error) -> CallError {
    let what = if error.is_timeout() {
        "GitLab did not answer in time"
    } else if error.is_connect() {
        "GitLab could not be reached"
    } else {
        "the call to GitLab failed"
    };
    CallError::Temporary {
        reason: format!("{what} ({})", without_url(&error)),
        after: None,
    }
}

/// reqwest's message without the URL it names (it may carry a path the
/// staff page need not repeat).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    text
}

/// A 2xx answer, or the failure it is.
pub async fn check(response: Response) -> Result<Response, CallError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let wait = wait_asked(response.headers(), SystemTime::now());
    let body = response.text().await.unwrap_or_default();
    let suffix = reason_suffix(&body);
    // GitLab's message often just repeats the status ("403 Forbidden").
    let suffix = if suffix == format!(": {status}") {
        String::new()
    } else {
        suffix
    };
    let reason = format!("GitLab answered {status}{suffix}");
    Err(match status {
        StatusCode::TOO_MANY_REQUESTS => CallError::RateLimited {
            after: wait.unwrap_or(Duration::from_secs(60)),
        },
        s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT => CallError::Temporary {
            reason,
            after: wait,
        },
        _ => CallError::Permanent(reason),
    })
}

/// `: message` from GitLab's error body (`{"message": …}` or `{"error": …}`),
/// short enough to show.
fn reason_suffix(body: &str) -> String {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let m = v.get("message").or_else(|| v.get("error"))?;
            Some(match m {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        })
        .unwrap_or_default();
    let message: String = message.trim().chars().take(REASON_CHARS).collect();
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// How long the platform asked to wait: `Retry-After` (seconds or an HTTP
/// date), else `RateLimit-Reset` (a Unix time, as GitLab sends it).
pub fn wait_asked(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(value) = text("retry-after") {
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(at) = httpdate::parse_http_date(value) {
            return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
        }
    }
    let reset = text("ratelimit-reset")?.parse::<u64>().ok()?;
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(reset);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_wait_comes_from_retry_after_first_then_ratelimit_reset() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(
            wait_asked(&headers(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            wait_asked(&headers(&[("ratelimit-reset", "1800000030")]), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            wait_asked(
                &headers(&[("retry-after", "2"), ("ratelimit-reset", "1800000030")]),
                now
            ),
            Some(Duration::from_secs(2))
        );
        // A reset in the past: no wait.
        assert_eq!(
            wait_asked(&headers(&[("ratelimit-reset", "1700000000")]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(wait_asked(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(wait_asked(&HeaderMap::new(), now), None);
    }

    #[test]
    fn an_http_date_counts_from_now() {
        let at = httpdate::parse_http_date("Fri, 15 Jan 2027 08:00:20 GMT").unwrap();
        let now = at - Duration::from_secs(45);
        assert_eq!(
            wait_asked(
                &headers(&[("retry-after", "Fri, 15 Jan 2027 08:00:20 GMT")]),
                now
            ),
            Some(Duration::from_secs(45))
        );
    }

    #[test]
    fn gitlab_error_bodies_give_a_short_reason() {
        assert_eq!(
            reason_suffix(r#"{"message":"404 Project Not Found"}"#),
            ": 404 Project Not Found"
        );
        assert_eq!(
            reason_suffix(r#"{"error":"invalid_token"}"#),
            ": invalid_token"
        );
        assert_eq!(
            reason_suffix(r#"{"message":{"note":["is too long"]}}"#),
            r#": {"note":["is too long"]}"#
        );
        assert_eq!(reason_suffix("<html>Bad gateway</html>"), "");
        assert_eq!(
            reason_suffix(&format!(r#"{{"message":"{}"}}"#, "x".repeat(500))).len(),
            302
        );
    }

    #[test]
    fn failures_become_outbox_outcomes() {
        assert_eq!(
            Outcome::from(CallError::RateLimited {
                after: Duration::from_secs(3)
            }),
            Outcome::Wait {
                reason: "GitLab's rate limit: asked to wait 3 s".into(),
                after: Duration::from_secs(3)
            }
        );
        assert_eq!(
            Outcome::from(CallError::Permanent("GitLab answered 404".into())),
            Outcome::Dead("GitLab answered 404".into())
        );
        assert!(matches!(
            Outcome::from(CallError::Temporary {
                reason: "x".into(),
                after: None
            }),
            Outcome::Retry { after: None, .. }
        ));
    }
}
