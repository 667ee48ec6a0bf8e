//! Configuration read from the environment (PRODUCT.md §8), typed and
//! validated once at start. A bad value is reported as one line naming the
//! variable and what is wrong with it.

use std::{net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use lettre::message::Mailbox;

use crate::http::client_addr::TrustedProxies;
use secrecy::SecretString;
use url::Url;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/partner_portal";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// A configuration value that cannot be used, with the variable it came from.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(var: &'static str, problem: impl Into<String>) -> Self {
        Self {
            var,
            problem: problem.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// Where outgoing email goes.
#[derive(Debug, Clone)]
pub enum MailTransportConfig {
    /// An SMTP server, e.g. `smtp://127.0.0.1:1025` or `smtps://user:pw@host`.
    Smtp(SecretString),
    /// `.eml` files in a folder, for local runs without a mail server.
    Files(PathBuf),
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub transport: MailTransportConfig,
    pub from: Mailbox,
    /// Attempts after which a temporarily failing email is given up (dead).
    pub max_attempts: i32,
}

/// The platform instance (PRODUCT.md §8, §9) and the portal's keys to it.
#[derive(Debug, Clone)]
pub struct GitLabConfig {
    /// `PORTAL_GITLAB_URL`: REST at `/api/v4`, GraphQL at `/api/graphql`,
    /// OAuth at `/oauth/…`. No trailing slash in [`GitLabConfig::endpoint`].
    pub url: Url,
    /// The portal's service account: partner updates are posted as notes
    /// with it. `None`: updates stay in the portal.
    pub api_token: Option<SecretString>,
    /// An instance administrator's token for the CI/CD Catalog badge.
    /// `None`: nothing is published to the catalog.
    pub admin_token: Option<SecretString>,
    /// "Sign in with GitLab"; `None` hides it.
    pub oauth: Option<OAuthClientConfig>,
}

impl GitLabConfig {
    /// An absolute URL on the instance, e.g. `endpoint("/api/v4/user")`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url.as_str().trim_end_matches('/'))
    }

    /// The instance's host, lowercase (`gitlab.com`).
    pub fn host(&self) -> String {
        self.url.host_str().unwrap_or_default().to_ascii_lowercase()
    }
}

#[derive(Debug, Clone)]
pub struct OAuthClientConfig {
    pub client_id: String,
    pub client_secret: SecretString,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: SecretString,
    pub addr: SocketAddr,
    /// Base of every absolute link (emails, redirects). Without a trailing slash.
    pub public_url: Url,
    /// True when `PORTAL_PUBLIC_URL` was not given and the URL follows the bound address.
    pub public_url_is_default: bool,
    pub mail: MailConfig,
    pub gitlab_webhook_token: Option<SecretString>,
    pub gitlab: GitLabConfig,
    /// Requests one partner API token may make in a minute.
    pub api_requests_per_minute: i32,
    /// Partner webhook endpoints may be on loopback, over http too
    /// (`PORTAL_WEBHOOK_ALLOW_LOOPBACK`; local development and tests only).
    pub webhook_allow_loopback: bool,
    pub scheduler_interval: Duration,
    pub request_timeout: Duration,
    pub log_format: LogFormat,
    pub session_idle_timeout: Duration,
    pub session_absolute_timeout: Duration,
    /// Hosts where partners may register namespaces, lowercase, never empty.
    pub namespace_hosts: Vec<String>,
    /// Connections this instance keeps to PostgreSQL at most, the two
    /// that wait for notifications included.
    pub db_pool_size: u32,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` is believed.
    pub trusted_proxies: TrustedProxies,
    /// Where `GET /metrics` answers; `None`: nowhere.
    pub metrics_addr: Option<SocketAddr>,
    /// The key that seals secrets at rest (`PORTAL_SECRET_KEY`), and older
    /// keys still accepted for opening (`PORTAL_OLD_SECRET_KEYS`). `None`:
    /// a key file under `./var` (see `crate::secrets`).
    pub secret_keys: Option<SecretKeys>,
}

/// `PORTAL_SECRET_KEY` and `PORTAL_OLD_SECRET_KEYS`, decoded.
#[derive(Clone)]
pub struct SecretKeys {
    pub current: crate::secrets::KeyBytes,
    pub old: Vec<crate::secrets::KeyBytes>,
}

impl std::fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKeys(…)")
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests can pass a map.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        check_database_url(&database_url)?;

        let addr_text = get("PORTAL_ADDR").unwrap_or_else(|| DEFAULT_ADDR.into());
        let addr = SocketAddr::from_str(addr_text.trim()).map_err(|_| {
            ConfigError::new(
                "PORTAL_ADDR",
                format!("{addr_text:?} is not an address to listen on (expected IP:PORT, e.g. 127.0.0.1:8080)"),
            )
        })?;

        let (public_url, public_url_is_default) = match get("PORTAL_PUBLIC_URL") {
            Some(text) => (parse_public_url(&text)?, false),
            None => (default_public_url(addr), true),
        };

        let transport = match get("PORTAL_SMTP_URL") {
            Some(text) => {
                check_smtp_url(&text)?;
                MailTransportConfig::Smtp(SecretString::from(text))
            }
            None => MailTransportConfig::Files(PathBuf::from(
                get("PORTAL_MAIL_DIR").unwrap_or_else(|| "./var/mail".into()),
            )),
        };
        let from_text = get("PORTAL_MAIL_FROM")
            .unwrap_or_else(|| "Partner Portal <partners@portal.localhost>".into());
        let from = Mailbox::from_str(from_text.trim()).map_err(|_| {
            ConfigError::new(
                "PORTAL_MAIL_FROM",
                format!("{from_text:?} is not an email address (e.g. \"Partner Portal <partners@example.com>\")"),
            )
        })?;
        let max_attempts = parse_number(&get, "PORTAL_MAIL_MAX_ATTEMPTS", 12, 1, 100)? as i32;

        let scheduler_interval = Duration::from_secs(parse_number(
            &get,
            "PORTAL_SCHEDULER_INTERVAL_SECS",
            60,
            1,
            86_400,
        )?);
        let request_timeout = Duration::from_secs(parse_number(
            &get,
            "PORTAL_REQUEST_TIMEOUT_SECS",
            30,
            1,
            600,
        )?);
        let session_idle_timeout = Duration::from_secs(
            60 * parse_number(&get, "PORTAL_SESSION_IDLE_MINUTES", 30, 1, 24 * 60)?,
        );
        let session_absolute_timeout = Duration::from_secs(
            3600 * parse_number(&get, "PORTAL_SESSION_ABSOLUTE_HOURS", 12, 1, 24 * 30)?,
        );

        let log_format = match get("PORTAL_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("human") => LogFormat::Human,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::new(
                    "PORTAL_LOG_FORMAT",
                    format!("{other:?} is not a log format (expected \"human\" or \"json\")"),
                ));
            }
        };

        let namespace_hosts = parse_namespace_hosts(get("PORTAL_NAMESPACE_HOSTS").as_deref())?;
        // Two connections wait for notifications for as long as the portal
        // runs (the directory's, and the one that wakes every background
        // worker); below six, requests and background work would queue for
        // the rest.
        let db_pool_size = parse_number(&get, "PORTAL_DB_POOL_SIZE", 16, 6, 500)? as u32;
        let gitlab = parse_gitlab(&get)?;
        let api_requests_per_minute =
            parse_number(&get, "PORTAL_API_REQUESTS_PER_MINUTE", 600, 1, 1_000_000)? as i32;
        let webhook_allow_loopback = match get("PORTAL_WEBHOOK_ALLOW_LOOPBACK")
            .as_deref()
            .map(str::trim)
        {
            None | Some("" | "false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ConfigError::new(
                    "PORTAL_WEBHOOK_ALLOW_LOOPBACK",
                    format!("{other:?} is neither \"true\" nor \"false\""),
                ));
            }
        };
        let trusted_proxies =
            TrustedProxies::parse(get("PORTAL_TRUSTED_PROXIES").as_deref().unwrap_or(""))
                .map_err(|e| ConfigError::new("PORTAL_TRUSTED_PROXIES", e))?;
        let metrics_addr = get("PORTAL_METRICS_ADDR")
            .map(|text| {
                SocketAddr::from_str(text.trim()).map_err(|_| {
                    ConfigError::new(
                        "PORTAL_METRICS_ADDR",
                        format!("{text:?} is not an address to listen on (expected IP:PORT, e.g. 127.0.0.1:9090)"),
                    )
                })
            })
            .transpose()?;
        let secret_keys = parse_secret_keys(&get)?;

        Ok(Config {
            database_url: SecretString::from(database_url),
            addr,
            public_url,
            public_url_is_default,
            mail: MailConfig {
                transport,
                from,
                max_attempts,
            },
            gitlab_webhook_token: get("PORTAL_GITLAB_WEBHOOK_TOKEN").map(SecretString::from),
            gitlab,
            api_requests_per_minute,
            webhook_allow_loopback,
            scheduler_interval,
            request_timeout,
            log_format,
            session_idle_timeout,
            session_absolute_timeout,
            namespace_hosts,
            db_pool_size,
            trusted_proxies,
            metrics_addr,
            secret_keys,
        })
    }

    /// Once the listener is bound (port 0 picks one), a default public URL
    /// follows the real address.
    pub fn with_bound_addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        if self.public_url_is_default {
            self.public_url = default_public_url(addr);
        }
        self
    }

    /// True when cookies must be `Secure` and HSTS is sent.
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// An absolute URL for a path of this site, e.g. `link("/login")`.
    pub fn link(&self, path_and_query: &str) -> String {
        let base = self.public_url.as_str().trim_end_matches('/');
        format!("{base}{path_and_query}")
    }
}

fn default_public_url(addr: SocketAddr) -> Url {
    Url::parse(&format!("http://{addr}")).expect("a socket address makes a valid URL")
}

fn check_database_url(text: &str) -> Result<(), ConfigError> {
    let url = Url::parse(text).map_err(|e| {
        ConfigError::new(
            "DATABASE_URL",
            format!("not a URL ({e}); expected e.g. {DEFAULT_DATABASE_URL}"),
        )
    })?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(ConfigError::new(
            "DATABASE_URL",
            format!(
                "scheme {:?} is not PostgreSQL; expected e.g. {DEFAULT_DATABASE_URL}",
                url.scheme()
            ),
        ));
    }
    if url.path().trim_start_matches('/').is_empty() {
        return Err(ConfigError::new(
            "DATABASE_URL",
            format!("names no database; expected e.g. {DEFAULT_DATABASE_URL}"),
        ));
    }
    Ok(())
}

fn parse_public_url(text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text.trim()).map_err(|e| {
        ConfigError::new(
            "PORTAL_PUBLIC_URL",
            format!("{text:?} is not a URL ({e}); expected e.g. https://partners.example.com"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::new(
            "PORTAL_PUBLIC_URL",
            format!("{text:?} must be an http:// or https:// URL with a host"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(
            "PORTAL_PUBLIC_URL",
            format!("{text:?} must not have a query or fragment"),
        ));
    }
    Ok(url)
}

fn check_smtp_url(text: &str) -> Result<(), ConfigError> {
    let problem = match Url::parse(text.trim()) {
        Err(e) => Some(format!("not a URL ({e})")),
        Ok(url) if !matches!(url.scheme(), "smtp" | "smtps") => {
            Some(format!("scheme {:?} is not smtp or smtps", url.scheme()))
        }
        Ok(url) if url.host_str().is_none_or(str::is_empty) => Some("names no host".into()),
        Ok(_) => None,
    };
    match problem {
        // The URL may carry a password: never echo it back.
        Some(problem) => Err(ConfigError::new(
            "PORTAL_SMTP_URL",
            format!(
                "{problem}; expected e.g. smtp://127.0.0.1:1025 or smtps://user:password@mail.example.com"
            ),
        )),
        None => Ok(()),
    }
}

/// `gitlab.com,gitlab.example.com`: host names only (no scheme, port or
/// path), lowercased, duplicates dropped; unset means `gitlab.com`.
fn parse_namespace_hosts(text: Option<&str>) -> Result<Vec<String>, ConfigError> {
    const VAR: &str = "PORTAL_NAMESPACE_HOSTS";
    let Some(text) = text else {
        return Ok(vec!["gitlab.com".to_owned()]);
    };
    let mut hosts: Vec<String> = Vec::new();
    for item in text.split(',').map(str::trim).filter(|h| !h.is_empty()) {
        let host = item.to_ascii_lowercase();
        let valid = host.len() <= 253
            && host.contains('.')
            && host.split('.').all(|label| {
                (1..=63).contains(&label.len())
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !valid {
            return Err(ConfigError::new(
                VAR,
                format!(
                    "{item:?} is not a host name; expected host names separated by commas, e.g. gitlab.com,gitlab.example.com"
                ),
            ));
        }
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    if hosts.is_empty() {
        return Err(ConfigError::new(
            VAR,
            "names no host; expected e.g. gitlab.com,gitlab.example.com",
        ));
    }
    Ok(hosts)
}

pub const DEFAULT_GITLAB_URL: &str = "https://gitlab.com";

fn parse_gitlab(get: &impl Fn(&str) -> Option<String>) -> Result<GitLabConfig, ConfigError> {
    const URL: &str = "PORTAL_GITLAB_URL";
    let text = get(URL).unwrap_or_else(|| DEFAULT_GITLAB_URL.into());
    let url = Url::parse(text.trim()).map_err(|e| {
        ConfigError::new(
            URL,
            format!("{text:?} is not a URL ({e}); expected e.g. {DEFAULT_GITLAB_URL}"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none_or(str::is_empty)
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(ConfigError::new(
            URL,
            format!(
                "{text:?} must be an http:// or https:// URL with a host and nothing after the path, e.g. {DEFAULT_GITLAB_URL}"
            ),
        ));
    }
    let oauth = match (
        get("PORTAL_GITLAB_OAUTH_CLIENT_ID"),
        get("PORTAL_GITLAB_OAUTH_CLIENT_SECRET"),
    ) {
        (Some(id), Some(secret)) => Some(OAuthClientConfig {
            client_id: id.trim().to_owned(),
            client_secret: SecretString::from(secret),
        }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(ConfigError::new(
                "PORTAL_GITLAB_OAUTH_CLIENT_SECRET",
                "is needed with PORTAL_GITLAB_OAUTH_CLIENT_ID (the application's secret on GitLab)",
            ));
        }
        (None, Some(_)) => {
            return Err(ConfigError::new(
                "PORTAL_GITLAB_OAUTH_CLIENT_ID",
                "is needed with PORTAL_GITLAB_OAUTH_CLIENT_SECRET (the application's ID on GitLab)",
            ));
        }
    };
    Ok(GitLabConfig {
        url,
        api_token: get("PORTAL_GITLAB_API_TOKEN").map(|t| SecretString::from(t.trim().to_owned())),
        admin_token: get("PORTAL_GITLAB_ADMIN_TOKEN")
            .map(|t| SecretString::from(t.trim().to_owned())),
        oauth,
    })
}

/// `PORTAL_SECRET_KEY`: 32 random bytes in base64 (`openssl rand -base64
/// 32`); `PORTAL_OLD_SECRET_KEYS`: earlier ones, comma-separated, still
/// accepted for opening while `rotate-secret-key` re-seals.
fn parse_secret_keys(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<SecretKeys>, ConfigError> {
    let decode = |var: &'static str, text: &str| {
        crate::secrets::KeyBytes::from_base64(text.trim()).map_err(|problem| {
            ConfigError::new(
                var,
                format!("{problem}; make one with: openssl rand -base64 32"),
            )
        })
    };
    let old = match get("PORTAL_OLD_SECRET_KEYS") {
        Some(text) => text
            .split(',')
            .filter(|k| !k.trim().is_empty())
            .map(|k| decode("PORTAL_OLD_SECRET_KEYS", k))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    match get("PORTAL_SECRET_KEY") {
        Some(text) => Ok(Some(SecretKeys {
            current: decode("PORTAL_SECRET_KEY", &text)?,
            old,
        })),
        None if !old.is_empty() => Err(ConfigError::new(
            "PORTAL_OLD_SECRET_KEYS",
            "is set without PORTAL_SECRET_KEY; set the current key too",
        )),
        None => Ok(None),
    }
}

fn parse_number(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(text) = get(var) else {
        return Ok(default);
    };
    match text.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError::new(
            var,
            format!("{text:?} is not a whole number from {min} to {max}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_follow_the_product_spec() {
        let c = config(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(c.scheduler_interval, Duration::from_secs(60));
        assert!(
            matches!(c.mail.transport, MailTransportConfig::Files(ref p) if p == &PathBuf::from("./var/mail"))
        );
        assert!(!c.is_https());
        assert_eq!(c.namespace_hosts, ["gitlab.com"]);
        assert_eq!(c.db_pool_size, 16);
        assert_eq!(
            c.gitlab.endpoint("/api/v4/user"),
            "https://gitlab.com/api/v4/user"
        );
        assert_eq!(c.gitlab.host(), "gitlab.com");
        assert!(c.gitlab.api_token.is_none() && c.gitlab.admin_token.is_none());
        assert!(c.gitlab.oauth.is_none());
    }

    #[test]
    fn a_self_managed_gitlab_keeps_its_path_and_port() {
        let c = config(&[("PORTAL_GITLAB_URL", "http://127.0.0.1:4000/gitlab/")]).unwrap();
        assert_eq!(
            c.gitlab.endpoint("/api/graphql"),
            "http://127.0.0.1:4000/gitlab/api/graphql"
        );
        assert_eq!(c.gitlab.host(), "127.0.0.1");
    }

    #[test]
    fn the_oauth_client_needs_both_halves() {
        let both = config(&[
            ("PORTAL_GITLAB_OAUTH_CLIENT_ID", "app-id"),
            ("PORTAL_GITLAB_OAUTH_CLIENT_SECRET", "s3cret"),
        ])
        .unwrap();
        assert_eq!(both.gitlab.oauth.unwrap().client_id, "app-id");
        let err = config(&[("PORTAL_GITLAB_OAUTH_CLIENT_ID", "app-id")]).unwrap_err();
        assert_eq!(err.var, "PORTAL_GITLAB_OAUTH_CLIENT_SECRET");
        let err = config(&[("PORTAL_GITLAB_OAUTH_CLIENT_SECRET", "s3cret")]).unwrap_err();
        assert_eq!(err.var, "PORTAL_GITLAB_OAUTH_CLIENT_ID");
        assert!(!err.to_string().contains("s3cret"));
    }

    #[test]
    fn the_pool_size_is_set_within_what_the_portal_needs() {
        assert_eq!(
            config(&[("PORTAL_DB_POOL_SIZE", " 8 ")])
                .unwrap()
                .db_pool_size,
            8
        );
        for bad in ["5", "501", "many", "-1"] {
            let err = config(&[("PORTAL_DB_POOL_SIZE", bad)]).unwrap_err();
            assert_eq!(err.var, "PORTAL_DB_POOL_SIZE", "{bad}");
            assert!(err.to_string().contains("from 6 to 500"), "{err}");
        }
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases = [
            ("DATABASE_URL", "not a url"),
            ("DATABASE_URL", "mysql://localhost/db"),
            ("PORTAL_ADDR", "localhost"),
            ("PORTAL_PUBLIC_URL", "ftp://example.com"),
            ("PORTAL_SMTP_URL", "smtp//broken"),
            ("PORTAL_SMTP_URL", "http://mail.example.com"),
            ("PORTAL_MAIL_FROM", "not an address"),
            ("PORTAL_SCHEDULER_INTERVAL_SECS", "0"),
            ("PORTAL_SCHEDULER_INTERVAL_SECS", "soon"),
            ("PORTAL_LOG_FORMAT", "xml"),
            ("PORTAL_NAMESPACE_HOSTS", "https://gitlab.example.com"),
            ("PORTAL_NAMESPACE_HOSTS", "gitlab.com:8443"),
            ("PORTAL_NAMESPACE_HOSTS", "gitlab.com/group"),
            ("PORTAL_NAMESPACE_HOSTS", ",,"),
            ("PORTAL_NAMESPACE_HOSTS", "localhost"),
            ("PORTAL_GITLAB_URL", "gitlab.com"),
            ("PORTAL_GITLAB_URL", "ftp://gitlab.example.com"),
            ("PORTAL_GITLAB_URL", "https://gitlab.example.com/?x=1"),
            ("PORTAL_GITLAB_URL", "https://user:pw@gitlab.example.com"),
            ("PORTAL_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
            ("PORTAL_METRICS_ADDR", "9090"),
            ("PORTAL_SECRET_KEY", "c2hvcnQ="),
            ("PORTAL_SECRET_KEY", "not base64 at all!"),
        ];
        for (var, value) in cases {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{value}");
            assert!(err.to_string().starts_with(var), "{err}");
        }
    }

    #[test]
    fn namespace_hosts_default_to_gitlab_com_and_are_normalised() {
        assert_eq!(config(&[]).unwrap().namespace_hosts, ["gitlab.com"]);
        let c = config(&[(
            "PORTAL_NAMESPACE_HOSTS",
            " GitLab.com, gitlab.example.org ,gitlab.com,",
        )])
        .unwrap();
        assert_eq!(c.namespace_hosts, ["gitlab.com", "gitlab.example.org"]);
    }

    #[test]
    fn production_settings_default_to_off() {
        let c = config(&[]).unwrap();
        assert!(c.trusted_proxies.is_empty());
        assert_eq!(c.metrics_addr, None);
        assert!(c.secret_keys.is_none());
        let c = config(&[
            ("PORTAL_TRUSTED_PROXIES", "10.0.0.0/8,::1"),
            ("PORTAL_METRICS_ADDR", "127.0.0.1:9090"),
        ])
        .unwrap();
        assert!(c.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        assert_eq!(c.metrics_addr, Some("127.0.0.1:9090".parse().unwrap()));
    }

    #[test]
    fn old_secret_keys_need_a_current_one_and_are_never_echoed() {
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let err = config(&[("PORTAL_OLD_SECRET_KEYS", key)]).unwrap_err();
        assert_eq!(err.var, "PORTAL_OLD_SECRET_KEYS");
        let c = config(&[
            ("PORTAL_SECRET_KEY", key),
            ("PORTAL_OLD_SECRET_KEYS", &format!("{key}, {key}")),
        ])
        .unwrap();
        assert_eq!(c.secret_keys.as_ref().unwrap().old.len(), 2);
        let bad = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZn";
        let err = config(&[("PORTAL_SECRET_KEY", bad)]).unwrap_err();
        assert!(!err.to_string().contains(bad), "{err}");
    }

    #[test]
    fn smtp_password_is_never_echoed() {
        let err = config(&[("PORTAL_SMTP_URL", "http://user:hunter2hunter2@x")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn public_url_follows_bound_port_unless_given() {
        let c = config(&[("PORTAL_ADDR", "127.0.0.1:0")]).unwrap();
        let c = c.with_bound_addr("127.0.0.1:4321".parse().unwrap());
        assert_eq!(c.link("/login"), "http://127.0.0.1:4321/login");

        let c = config(&[("PORTAL_PUBLIC_URL", "https://partners.example.com/")]).unwrap();
        let c = c.with_bound_addr("127.0.0.1:4321".parse().unwrap());
        assert_eq!(c.link("/login"), "https://partners.example.com/login");
        assert!(c.is_https());
    }
}
