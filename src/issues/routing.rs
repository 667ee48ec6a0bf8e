//! Which partner an issue belongs to: the one whose verified namespace is the
//! root of the project, on the same tracker host, if its partnership
//! is approved. `acme-corpx/tools` is not under `acme-corp`: the root
//! segment must be equal, not merely start with the same letters.

use sqlx::PgConnection;
use url::Url;

/// The host of the public tracker, when a payload names none.
pub const DEFAULT_HOST: &str = "gitlab.com";

/// Where a project lives: the tracker host and its root namespace, both
/// lowercased as namespaces are stored (the platform's paths are
/// case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectHome {
    pub host: String,
    pub root: String,
}

impl ProjectHome {
    /// From `project.web_url` (for the host; [`DEFAULT_HOST`] when absent or
    /// unreadable) and `project.path_with_namespace`.
    pub fn of(web_url: Option<&str>, path_with_namespace: &str) -> Option<Self> {
        let root = path_with_namespace
            .trim()
            .trim_start_matches('/')
            .split('/')
            .next()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())?;
        let host = web_url
            .and_then(|u| Url::parse(u.trim()).ok())
            .and_then(|u| u.host_str().map(str::to_lowercase))
            .unwrap_or_else(|| DEFAULT_HOST.to_owned());
        Some(Self { host, root })
    }
}

/// The partner owning a project, if any (privileged path; uses the
/// `namespaces_verified_path` index).
pub async fn owner_of(
    conn: &mut PgConnection,
    home: &ProjectHome,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "select n.partner_id from namespaces n
           join applications a on a.partner_id = n.partner_id
          where n.state = 'verified' and n.host = $1 and n.path = $2 and a.state = 'approved'
          limit 1",
        home.host,
        home.root
    )
    .fetch_optional(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home(web_url: Option<&str>, path: &str) -> Option<(String, String)> {
        ProjectHome::of(web_url, path).map(|h| (h.host, h.root))
    }

    #[test]
    fn the_root_is_the_first_segment_lowercased() {
        assert_eq!(
            home(
                Some("https://gitlab.com/Acme-Corp/integrations/runner"),
                "Acme-Corp/integrations/runner"
            ),
            Some(("gitlab.com".into(), "acme-corp".into()))
        );
        assert_eq!(
            home(None, "acme-corpx/tools"),
            Some(("gitlab.com".into(), "acme-corpx".into()))
        );
        assert_ne!(
            home(None, "acme-corpx/tools").unwrap().1,
            "acme-corp",
            "a root that merely starts with the same letters is another namespace"
        );
    }

    #[test]
    fn the_host_comes_from_the_web_url() {
        assert_eq!(
            home(Some("https://GitLab.Example.com/acme/x"), "acme/x"),
            Some(("gitlab.example.com".into(), "acme".into()))
        );
        assert_eq!(
            home(Some("not a url"), "acme/x"),
            Some(("gitlab.com".into(), "acme".into()))
        );
    }

    #[test]
    fn an_empty_path_has_no_home() {
        assert_eq!(home(None, ""), None);
        assert_eq!(home(None, "  / "), None);
    }
}
