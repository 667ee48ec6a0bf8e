//! The endpoints a partner admin registers (§10): an HTTPS URL on a public
//! address and the events it wants; its signing secret, shown once and
//! kept sealed; its delivery log, redelivery and test events.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;
use url::Url;

use super::{Event, delivery, guard, signing};
use crate::secrets::Secrets;

/// The most endpoints one organisation may have.
pub const MAX_ENDPOINTS: i64 = 20;
pub const MAX_URL_CHARS: usize = 2000;

/// What the form's fields are wrong with, by field.
pub type Problems = Vec<(&'static str, String)>;

/// An endpoint as the form asks for it, checked (but not yet resolved:
/// see [`resolves_publicly`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    pub url: Url,
    pub events: Vec<Event>,
}

impl NewEndpoint {
    pub fn parse(url: &str, events: &[String], allow_loopback: bool) -> Result<Self, Problems> {
        let mut problems = Problems::new();
        let url = match parse_url(url, allow_loopback) {
            Ok(url) => Some(url),
            Err(message) => {
                problems.push(("url", message));
                None
            }
        };
        let mut chosen = Vec::new();
        for text in events {
            match Event::parse(text) {
                Some(e) if !chosen.contains(&e) => chosen.push(e),
                Some(_) => {}
                None => {
                    problems.push(("events", format!("“{text}” is not an event of the portal.")));
                    break;
                }
            }
        }
        if events.is_empty() {
            problems.push(("events", "Choose at least one event.".to_owned()));
        }
        match url {
            Some(url) if problems.is_empty() => {
                // In the order of the form, whatever the order of the fields.
                chosen.sort_by_key(|e| Event::ALL.iter().position(|a| a == e));
                Ok(Self {
                    url,
                    events: chosen,
                })
            }
            _ => Err(problems),
        }
    }

    pub fn event_names(&self) -> Vec<String> {
        self.events.iter().map(|e| e.as_str().to_owned()).collect()
    }
}

fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match guard::literal(host) {
        Some(ip) => ip.is_loopback() || guard::allowed(ip, true) && !guard::allowed(ip, false),
        None => matches!(host, url::Host::Domain(d) if {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }),
    }
}

/// Checks an endpoint's URL as typed: HTTPS (plain HTTP only to loopback,
/// and only where loopback is allowed), a host, no credentials, no address
/// that is written as a private one.
pub fn parse_url(text: &str, allow_loopback: bool) -> Result<Url, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Enter the URL your tool receives webhooks at.".into());
    }
    if text.chars().count() > MAX_URL_CHARS {
        return Err(format!("Keep the URL under {MAX_URL_CHARS} characters."));
    }
    let url = Url::parse(text).map_err(|_| {
        "Enter a full URL, like https://hooks.example.com/partner-portal.".to_owned()
    })?;
    let Some(host) = url.host() else {
        return Err("Enter a full URL, like https://hooks.example.com/partner-portal.".into());
    };
    let loopback = is_loopback_host(&host);
    match url.scheme() {
        "https" => {}
        "http" if allow_loopback && loopback => {}
        _ => return Err("The URL must start with https://.".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "Leave the user name and password out of the URL; every delivery is signed instead."
                .into(),
        );
    }
    if url.fragment().is_some() {
        return Err("Leave the #fragment out of the URL: it is never sent.".into());
    }
    if let Some(ip) = guard::literal(&host) {
        if !guard::allowed(ip, allow_loopback) {
            return Err(format!(
                "{ip} is a private or loopback address; webhooks go to public addresses only."
            ));
        }
    } else if loopback && !allow_loopback {
        return Err(
            "localhost is a loopback address; webhooks go to public addresses only.".into(),
        );
    }
    Ok(url)
}

/// Resolves the URL's host now and refuses it if any address it has is not
/// public (each delivery checks again, on the addresses it connects to).
pub async fn resolves_publicly(url: &Url, allow_loopback: bool) -> Result<(), String> {
    let Some(host) = url.host_str() else {
        return Err("The URL has no host.".into());
    };
    if url.host().as_ref().and_then(guard::literal).is_some() {
        return Ok(());
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let lookup = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::net::lookup_host((host, port)),
    )
    .await;
    let addrs: Vec<_> = match lookup {
        Ok(Ok(addrs)) => addrs.collect(),
        Ok(Err(_)) | Err(_) => {
            return Err(format!(
                "{host} could not be found. Check the name, or register the endpoint once its DNS record exists."
            ));
        }
    };
    if let Some(bad) = addrs
        .iter()
        .find(|a| !guard::allowed(a.ip(), allow_loopback))
    {
        return Err(format!(
            "{host} resolves to {}, a private or loopback address; webhooks go to public addresses only.",
            bad.ip()
        ));
    }
    if addrs.is_empty() {
        return Err(format!("{host} has no address."));
    }
    Ok(())
}

/// Registers an endpoint (tenant transaction); returns its id and its
/// signing secret, which is shown once.
pub async fn create(
    conn: &mut PgConnection,
    secrets: &Secrets,
    now: DateTime<Utc>,
    partner_id: i64,
    user_id: i64,
    new: &NewEndpoint,
) -> Result<(i64, String), sqlx::Error> {
    let id = sqlx::query_scalar!(
        "insert into webhook_endpoints (partner_id, url, events, created_by, created_at)
         values ($1, $2, $3, $4, $5) returning id",
        partner_id,
        new.url.as_str(),
        &new.event_names(),
        user_id,
        now
    )
    .fetch_one(&mut *conn)
    .await?;
    // The seal names the row, so it is made once the row has its id.
    let secret = signing::new_secret();
    sqlx::query!(
        "update webhook_endpoints set secret_sealed = $2 where id = $1",
        id,
        secrets.seal_str(&delivery::purpose(id), &secret)
    )
    .execute(&mut *conn)
    .await?;
    Ok((id, secret))
}

/// How many endpoints the organisation has (tenant transaction).
pub async fn count(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!("select count(*) as \"n!\" from webhook_endpoints")
        .fetch_one(conn)
        .await
}

/// An endpoint in the list or on its page (never its secret).
#[derive(Debug, Clone)]
pub struct EndpointRow {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    /// The last attempt: when, and its status code (none: no answer).
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
}

/// The organisation's endpoints, oldest first (tenant transaction).
pub async fn list(conn: &mut PgConnection) -> Result<Vec<EndpointRow>, sqlx::Error> {
    sqlx::query_as!(
        EndpointRow,
        r#"select e.id, e.url, e.events, e.created_at, u.name as "created_by?", e.failing_since,
                  e.disabled_at, e.disabled_reason,
                  a.attempted_at as "last_attempt_at?", a.status_code as "last_status?"
             from webhook_endpoints e
             left join users u on u.id = e.created_by
             left join lateral (select attempted_at, status_code from endpoint_attempts
                                 where endpoint_id = e.id
                                 order by attempted_at desc, id desc limit 1) a on true
            order by e.id
            limit $1"#,
        MAX_ENDPOINTS
    )
    .fetch_all(conn)
    .await
}

/// One endpoint of the organisation (tenant transaction; another's is
/// not found).
pub async fn find(conn: &mut PgConnection, id: i64) -> Result<Option<EndpointRow>, sqlx::Error> {
    sqlx::query_as!(
        EndpointRow,
        r#"select e.id, e.url, e.events, e.created_at, u.name as "created_by?", e.failing_since,
                  e.disabled_at, e.disabled_reason,
                  a.attempted_at as "last_attempt_at?", a.status_code as "last_status?"
             from webhook_endpoints e
             left join users u on u.id = e.created_by
             left join lateral (select attempted_at, status_code from endpoint_attempts
                                 where endpoint_id = e.id
                                 order by attempted_at desc, id desc limit 1) a on true
            where e.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// Deletes an endpoint with its deliveries and log; returns its URL.
pub async fn delete(conn: &mut PgConnection, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "delete from webhook_endpoints where id = $1 returning url",
        id
    )
    .fetch_optional(conn)
    .await
}

/// Enables a disabled endpoint again; false when it was not disabled.
pub async fn enable(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "update webhook_endpoints set disabled_at = null, disabled_reason = null, failing_since = null
          where id = $1 and disabled_at is not null",
        id
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// One delivery in an endpoint's log, with its attempts.
#[derive(Debug, Clone)]
pub struct DeliveryLine {
    pub id: i64,
    pub message_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub tries: Vec<Attempt>,
}

#[derive(Debug, Clone)]
pub struct Attempt {
    pub delivery_id: i64,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

/// Deliveries shown on an endpoint's page.
pub const LOG_SHOWN: i64 = 50;
/// Attempts shown per delivery (the latest).
const TRIES_SHOWN: i64 = 10;

/// The endpoint's latest deliveries with their latest attempts, in two
/// queries whatever the number (tenant transaction).
pub async fn log(
    conn: &mut PgConnection,
    endpoint_id: i64,
) -> Result<Vec<DeliveryLine>, sqlx::Error> {
    let mut lines: Vec<DeliveryLine> = sqlx::query!(
        "select id, message_id, event_type, status, attempts, next_attempt_at, last_error, created_at
           from endpoint_deliveries where endpoint_id = $1
          order by created_at desc, id desc limit $2",
        endpoint_id,
        LOG_SHOWN
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| DeliveryLine {
        id: r.id,
        message_id: r.message_id,
        event_type: r.event_type,
        status: r.status,
        attempts: r.attempts,
        next_attempt_at: r.next_attempt_at,
        last_error: r.last_error,
        created_at: r.created_at,
        tries: Vec::new(),
    })
    .collect();
    let ids: Vec<i64> = lines.iter().map(|l| l.id).collect();
    let attempts = sqlx::query_as!(
        Attempt,
        "select delivery_id, attempted_at, status_code, duration_ms, response_excerpt, error
           from (select *, row_number() over (partition by delivery_id
                                              order by attempted_at desc, id desc) as n
                   from endpoint_attempts where delivery_id = any($1)) a
          where n <= $2
          order by attempted_at desc, id desc",
        &ids,
        TRIES_SHOWN
    )
    .fetch_all(&mut *conn)
    .await?;
    for attempt in attempts {
        if let Some(line) = lines.iter_mut().find(|l| l.id == attempt.delivery_id) {
            line.tries.push(attempt);
        }
    }
    Ok(lines)
}

/// Sends a delivery again, as a new delivery of the same message (the same
/// `webhook-id`, so a receiver can tell); returns false when the delivery
/// is not the endpoint's.
pub async fn send_again(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    endpoint_id: i64,
    delivery_id: i64,
) -> Result<bool, sqlx::Error> {
    let queued = sqlx::query!(
        "insert into endpoint_deliveries (partner_id, endpoint_id, message_id, event_type, payload,
                                          next_attempt_at, created_at)
         select d.partner_id, d.endpoint_id, d.message_id, d.event_type, d.payload, $3, $3
           from endpoint_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
          where d.id = $2 and d.endpoint_id = $1 and e.disabled_at is null",
        endpoint_id,
        delivery_id,
        now
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if queued {
        crate::outbox::notify(conn, &delivery::ENDPOINT_DELIVERIES).await?;
    }
    Ok(queued)
}

/// Queues a test event (`ping`) for one endpoint.
pub async fn send_test(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: i64,
    endpoint_id: i64,
) -> Result<bool, sqlx::Error> {
    let queued = super::emit_to(
        conn,
        now,
        partner_id,
        Some(endpoint_id),
        super::TEST_EVENT,
        json!({ "message": "A test event from the Alliance Partner Portal: your endpoint is reachable and can check signatures." }),
    )
    .await?;
    Ok(queued == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_https_url_on_a_public_name_with_events_is_taken() {
        let new = NewEndpoint::parse(
            " https://hooks.example.com/portal?x=1 ",
            &events(&["license.issued", "issue.shared", "issue.shared"]),
            false,
        )
        .unwrap();
        assert_eq!(new.url.as_str(), "https://hooks.example.com/portal?x=1");
        assert_eq!(new.events, [Event::IssueShared, Event::LicenseIssued]);
    }

    #[test]
    fn private_and_loopback_addresses_are_refused() {
        for url in [
            "https://10.0.0.1/hook",
            "https://127.0.0.1/hook",
            "https://[::1]/hook",
            "https://169.254.169.254/latest",
            "https://192.168.0.10/",
            "https://[::ffff:10.0.0.1]/",
            "https://localhost/hook",
            "https://LOCALHOST./hook",
            "https://api.localhost/hook",
            "https://0x7f000001/hook",
        ] {
            let message = parse_url(url, false).unwrap_err();
            assert!(message.contains("address"), "{url}: {message}");
        }
    }

    #[test]
    fn http_only_to_loopback_and_only_when_allowed() {
        assert!(parse_url("http://hooks.example.com/", false).is_err());
        assert!(parse_url("http://hooks.example.com/", true).is_err());
        assert!(parse_url("http://127.0.0.1:9000/hook", false).is_err());
        assert!(parse_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(parse_url("http://localhost:9000/hook", true).is_ok());
        assert!(parse_url("https://[::1]:9000/hook", true).is_ok());
        // Other private ranges stay refused with loopback allowed.
        assert!(parse_url("http://10.0.0.1/hook", true).is_err());
        assert!(parse_url("https://10.0.0.1/hook", true).is_err());
    }

    #[test]
    fn malformed_urls_say_what_to_type() {
        assert!(parse_url("", false).unwrap_err().contains("Enter the URL"));
        assert!(
            parse_url("hooks.example.com", false)
                .unwrap_err()
                .contains("full URL")
        );
        assert!(
            parse_url("ftp://hooks.example.com/", false)
                .unwrap_err()
                .contains("https://")
        );
        assert!(
            parse_url("https://u:p@hooks.example.com/", false)
                .unwrap_err()
                .contains("password")
        );
        assert!(
            parse_url("https://hooks.example.com/#x", false)
                .unwrap_err()
                .contains("fragment")
        );
        let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert!(parse_url(&long, false).unwrap_err().contains("2000"));
        let exactly = format!("https://h.example/{}", "a".repeat(MAX_URL_CHARS - 18));
        assert_eq!(exactly.chars().count(), MAX_URL_CHARS);
        assert!(parse_url(&exactly, false).is_ok());
    }

    #[test]
    fn events_must_be_chosen_and_known() {
        let none = NewEndpoint::parse("https://hooks.example.com/", &[], false).unwrap_err();
        assert_eq!(none, [("events", "Choose at least one event.".to_owned())]);
        let unknown = NewEndpoint::parse(
            "https://hooks.example.com/",
            &events(&["issue.deleted"]),
            false,
        )
        .unwrap_err();
        assert_eq!(unknown[0].0, "events");
        let both = NewEndpoint::parse("http://x/", &[], false).unwrap_err();
        assert_eq!(
            both.iter().map(|p| p.0).collect::<Vec<_>>(),
            ["url", "events"]
        );
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_at_registration() {
        let url = Url::parse("https://localhost/hook").unwrap();
        let refused = resolves_publicly(&url, false).await.unwrap_err();
        assert!(refused.contains("loopback"), "{refused}");
        let unknown = Url::parse("https://no-such-host.invalid/hook").unwrap();
        assert!(
            resolves_publicly(&unknown, false)
                .await
                .unwrap_err()
                .contains("could not be found")
        );
    }
}
