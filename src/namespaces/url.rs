//! A namespace URL as partners type it, stored in one normal form:
//! `https://<allowed host>/<root group>`, host and path lowercased (GitLab
//! paths are case-insensitive), nothing after the group.

use std::fmt;

use url::Url;

/// GitLab's limit on the length of one path segment.
const MAX_SEGMENT_CHARS: usize = 255;
/// GitLab refuses groups shorter than this.
const MIN_GROUP_CHARS: usize = 2;

/// First path segments that are GitLab's own pages, never a group.
const RESERVED_TOP_LEVEL: &[&str] = &[
    "-",
    ".well-known",
    "abuse_reports",
    "admin",
    "api",
    "assets",
    "dashboard",
    "explore",
    "groups",
    "help",
    "oauth",
    "profile",
    "projects",
    "search",
    "uploads",
    "users",
];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NamespaceUrl {
    url: String,
    host: String,
    path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamespaceUrlProblem {
    #[error("Enter the address of your GitLab group, like https://gitlab.com/acme-corp.")]
    Missing,
    #[error("Enter a web address like https://gitlab.com/acme-corp.")]
    NotAUrl,
    #[error(
        "That is a Git clone address. Enter the group's web address instead, like https://gitlab.com/acme-corp."
    )]
    CloneAddress,
    #[error("Use the group's https:// address; http:// addresses are not accepted.")]
    NotHttps,
    #[error(
        "Addresses starting with {scheme}: are not accepted. Enter the group's https:// address, like https://gitlab.com/acme-corp."
    )]
    UnsupportedScheme { scheme: String },
    #[error("Remove the user name and password from the address.")]
    Credentials,
    #[error(
        "Remove the port number (:{port}) from the address; only the standard https port is supported."
    )]
    Port { port: u16 },
    #[error("Namespaces on {host} cannot be registered. Use a group on {allowed}.")]
    HostNotAllowed { host: String, allowed: String },
    #[error(
        "Remove everything from the ? or # onwards; enter just the group's address, like https://gitlab.com/acme-corp."
    )]
    QueryOrFragment,
    #[error("Add your group to the address, like https://{host}/acme-corp.")]
    NoGroup { host: String },
    #[error(
        "Register the top-level group only: {suggestion}. Subgroups and projects under it belong to that namespace and need no registration of their own."
    )]
    NotRootNamespace { suggestion: String },
    #[error(
        "That is the address of a GitLab page about the group. Enter the group's own address: {suggestion}."
    )]
    GroupPageAddress { suggestion: String },
    #[error(
        "/{segment} is a GitLab page, not a group. Open your group on GitLab and copy its address."
    )]
    Reserved { segment: String },
    #[error("\u{201c}{segment}\u{201d} is not a valid GitLab group path: {problem}.")]
    InvalidPath {
        segment: String,
        problem: PathSegmentProblem,
    },
}

/// Why one segment of a GitLab path is not valid; each reads as the end of a
/// sentence ("… is not a valid GitLab group path: <this>.").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathSegmentProblem {
    #[error("it must be at least {min} characters long")]
    TooShort { min: usize },
    #[error("it must be at most 255 characters long")]
    TooLong,
    #[error("it may contain only letters, digits, '_', '-' and '.'")]
    Characters,
    #[error("it must start with a letter, a digit or '_'")]
    Start,
    #[error("it must not end with '.'")]
    EndsWithDot,
    #[error("it must not end with '.git' or '.atom'")]
    Suffix,
}

/// Checks one path segment (already lowercased) against GitLab's rules for
/// group and project paths.
pub(crate) fn check_path_segment(
    segment: &str,
    min_chars: usize,
) -> Result<(), PathSegmentProblem> {
    if segment.len() < min_chars {
        return Err(PathSegmentProblem::TooShort { min: min_chars });
    }
    if segment.len() > MAX_SEGMENT_CHARS {
        return Err(PathSegmentProblem::TooLong);
    }
    if !segment
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return Err(PathSegmentProblem::Characters);
    }
    if !segment
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(PathSegmentProblem::Start);
    }
    if segment.ends_with(".git") || segment.ends_with(".atom") {
        return Err(PathSegmentProblem::Suffix);
    }
    if segment.ends_with('.') {
        return Err(PathSegmentProblem::EndsWithDot);
    }
    Ok(())
}

/// Which hosts a parse accepts.
enum Hosts<'a> {
    Only(&'a [String]),
    Any,
}

impl NamespaceUrl {
    /// Normalises and checks what a partner typed. A missing scheme means
    /// https; trailing (and doubled) slashes are dropped.
    pub fn parse(input: &str, allowed_hosts: &[String]) -> Result<Self, NamespaceUrlProblem> {
        Self::parse_with(input, Hosts::Only(allowed_hosts))
    }

    /// Rebuilds a value read back from storage, whatever hosts are allowed
    /// today: a host removed from the configuration must not make existing
    /// rows unreadable.
    pub fn from_stored(stored: &str) -> Result<Self, NamespaceUrlProblem> {
        Self::parse_with(stored, Hosts::Any)
    }

    fn parse_with(input: &str, hosts: Hosts<'_>) -> Result<Self, NamespaceUrlProblem> {
        let text = input.trim();
        if text.is_empty() {
            return Err(NamespaceUrlProblem::Missing);
        }
        let url = if text.contains("://") {
            Url::parse(text)
        } else if looks_like_scp_clone_address(text) {
            return Err(NamespaceUrlProblem::CloneAddress);
        } else {
            Url::parse(&format!("https://{text}"))
        }
        .map_err(|_| NamespaceUrlProblem::NotAUrl)?;

        match url.scheme() {
            "https" => {}
            "http" => return Err(NamespaceUrlProblem::NotHttps),
            "ssh" | "git" => return Err(NamespaceUrlProblem::CloneAddress),
            other => {
                return Err(NamespaceUrlProblem::UnsupportedScheme {
                    scheme: other.to_owned(),
                });
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(NamespaceUrlProblem::Credentials);
        }
        if let Some(port) = url.port() {
            return Err(NamespaceUrlProblem::Port { port });
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(NamespaceUrlProblem::NotAUrl)?
            .to_ascii_lowercase();
        if let Hosts::Only(allowed) = hosts
            && !allowed.iter().any(|a| a.trim().eq_ignore_ascii_case(&host))
        {
            return Err(NamespaceUrlProblem::HostNotAllowed {
                host,
                allowed: either_of(allowed),
            });
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(NamespaceUrlProblem::QueryOrFragment);
        }

        let lowered = url.path().to_ascii_lowercase();
        let segments: Vec<&str> = lowered.split('/').filter(|s| !s.is_empty()).collect();
        let (first, rest) = segments
            .split_first()
            .ok_or_else(|| NamespaceUrlProblem::NoGroup { host: host.clone() })?;
        if *first == "groups"
            && let Some(group) = rest
                .first()
                .filter(|g| check_path_segment(g, MIN_GROUP_CHARS).is_ok())
        {
            return Err(NamespaceUrlProblem::GroupPageAddress {
                suggestion: format!("https://{host}/{group}"),
            });
        }
        if RESERVED_TOP_LEVEL.contains(first) {
            return Err(NamespaceUrlProblem::Reserved {
                segment: (*first).to_owned(),
            });
        }
        check_path_segment(first, MIN_GROUP_CHARS).map_err(|problem| {
            NamespaceUrlProblem::InvalidPath {
                segment: (*first).to_owned(),
                problem,
            }
        })?;
        if !rest.is_empty() {
            return Err(NamespaceUrlProblem::NotRootNamespace {
                suggestion: format!("https://{host}/{first}"),
            });
        }

        Ok(Self {
            url: format!("https://{host}/{first}"),
            path: (*first).to_owned(),
            host,
        })
    }

    /// The normalised URL, e.g. `https://gitlab.com/acme-corp`.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The root group's path, e.g. `acme-corp`.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether a project (`path_with_namespace`, as GitLab reports it) lives
    /// in this namespace. `acme-corpx/tool` is not in `acme-corp`.
    pub fn owns_project(&self, project_path_with_namespace: &str) -> bool {
        let project = project_path_with_namespace.to_ascii_lowercase();
        project == self.path
            || project
                .strip_prefix(&self.path)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

impl fmt::Display for NamespaceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// `git@gitlab.com:acme/tool.git`: user, host, colon, path, no scheme.
fn looks_like_scp_clone_address(text: &str) -> bool {
    text.split_once('@')
        .is_some_and(|(user, rest)| !user.contains('/') && rest.contains(':'))
}

/// "gitlab.com", "gitlab.com or gitlab.example.com", "a, b or c".
fn either_of(hosts: &[String]) -> String {
    let names: Vec<String> = hosts
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    match names.split_last() {
        None => "a host the alliance team has enabled".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, init)) => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gitlab() -> Vec<String> {
        vec!["gitlab.com".to_owned()]
    }

    fn parse(input: &str) -> Result<NamespaceUrl, NamespaceUrlProblem> {
        NamespaceUrl::parse(input, &gitlab())
    }

    #[test]
    fn mixed_case_url_with_trailing_slash_is_stored_normalised() {
        let ns = parse("https://GitLab.com/Acme-Corp/").unwrap();
        assert_eq!(ns.as_str(), "https://gitlab.com/acme-corp");
        assert_eq!(ns.path(), "acme-corp");
        assert_eq!(ns.host(), "gitlab.com");
        assert_eq!(ns.to_string(), "https://gitlab.com/acme-corp");
    }

    #[test]
    fn accepted_inputs_normalise_to_one_form() {
        for (input, stored) in [
            (
                "https://gitlab.com/acme-corp",
                "https://gitlab.com/acme-corp",
            ),
            (
                "  https://gitlab.com/acme-corp  ",
                "https://gitlab.com/acme-corp",
            ),
            ("gitlab.com/acme-corp", "https://gitlab.com/acme-corp"),
            ("GITLAB.COM/ACME_CORP", "https://gitlab.com/acme_corp"),
            (
                "https://gitlab.com/acme-corp///",
                "https://gitlab.com/acme-corp",
            ),
            (
                "https://gitlab.com//acme.corp",
                "https://gitlab.com/acme.corp",
            ),
            (
                "https://gitlab.com:443/acme-corp",
                "https://gitlab.com/acme-corp",
            ),
            ("https://gitlab.com/_acme", "https://gitlab.com/_acme"),
            ("https://gitlab.com/42", "https://gitlab.com/42"),
        ] {
            let ns = parse(input).unwrap_or_else(|e| panic!("{input:?} refused: {e}"));
            assert_eq!(ns.as_str(), stored, "for {input:?}");
        }
    }

    #[test]
    fn every_way_to_be_wrong_has_its_own_problem() {
        use NamespaceUrlProblem as P;
        let invalid = |segment: &str, problem| P::InvalidPath {
            segment: segment.to_owned(),
            problem,
        };
        let long = "a".repeat(256);
        let cases = [
            ("", P::Missing),
            ("   ", P::Missing),
            ("https://", P::NotAUrl),
            ("https://gitlab .com/acme", P::NotAUrl),
            ("git@gitlab.com:acme-corp/tool.git", P::CloneAddress),
            ("ssh://git@gitlab.com/acme-corp/tool.git", P::CloneAddress),
            ("http://gitlab.com/acme-corp", P::NotHttps),
            (
                "ftp://gitlab.com/acme-corp",
                P::UnsupportedScheme {
                    scheme: "ftp".into(),
                },
            ),
            ("https://ada@gitlab.com/acme-corp", P::Credentials),
            ("https://ada:secret@gitlab.com/acme-corp", P::Credentials),
            ("https://gitlab.com:8443/acme-corp", P::Port { port: 8443 }),
            (
                "https://github.com/acme-corp",
                P::HostNotAllowed {
                    host: "github.com".into(),
                    allowed: "gitlab.com".into(),
                },
            ),
            (
                "https://gitlab.com/acme-corp?tab=projects",
                P::QueryOrFragment,
            ),
            ("https://gitlab.com/acme-corp#top", P::QueryOrFragment),
            (
                "https://gitlab.com",
                P::NoGroup {
                    host: "gitlab.com".into(),
                },
            ),
            (
                "https://gitlab.com/",
                P::NoGroup {
                    host: "gitlab.com".into(),
                },
            ),
            (
                "gitlab.com/acme/sub",
                P::NotRootNamespace {
                    suggestion: "https://gitlab.com/acme".into(),
                },
            ),
            (
                "https://gitlab.com/Acme/tool.git",
                P::NotRootNamespace {
                    suggestion: "https://gitlab.com/acme".into(),
                },
            ),
            (
                "https://gitlab.com/groups/acme-corp/-/edit",
                P::GroupPageAddress {
                    suggestion: "https://gitlab.com/acme-corp".into(),
                },
            ),
            (
                "https://gitlab.com/explore/catalog",
                P::Reserved {
                    segment: "explore".into(),
                },
            ),
            (
                "gitlab.com/a",
                invalid("a", PathSegmentProblem::TooShort { min: 2 }),
            ),
            (
                &format!("gitlab.com/{long}"),
                invalid(&long, PathSegmentProblem::TooLong),
            ),
            (
                "gitlab.com/acme%20corp",
                invalid("acme%20corp", PathSegmentProblem::Characters),
            ),
            (
                "gitlab.com/acmé",
                invalid("acm%c3%a9", PathSegmentProblem::Characters),
            ),
            (
                "gitlab.com/-acme",
                invalid("-acme", PathSegmentProblem::Start),
            ),
            (
                "gitlab.com/.acme",
                invalid(".acme", PathSegmentProblem::Start),
            ),
            (
                "gitlab.com/acme.",
                invalid("acme.", PathSegmentProblem::EndsWithDot),
            ),
            (
                "gitlab.com/acme.git",
                invalid("acme.git", PathSegmentProblem::Suffix),
            ),
            (
                "gitlab.com/acme.atom",
                invalid("acme.atom", PathSegmentProblem::Suffix),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input), Err(expected), "for {input:?}");
        }
    }

    #[test]
    fn messages_say_what_to_do() {
        let message = |input: &str| parse(input).unwrap_err().to_string();
        assert!(message("http://gitlab.com/acme").contains("https://"));
        assert!(message("gitlab.com/acme/sub").contains("https://gitlab.com/acme."));
        assert!(message("gitlab.com/acme/sub").contains("top-level group"));
        assert!(message("github.com/acme").contains("Use a group on gitlab.com."));
        assert_eq!(
            message("gitlab.com/acme."),
            "\u{201c}acme.\u{201d} is not a valid GitLab group path: it must not end with '.'."
        );
    }

    #[test]
    fn configured_hosts_are_allowed_and_named_in_the_refusal() {
        let hosts = vec![
            "gitlab.com".to_owned(),
            " GitLab.Example.org ".to_owned(),
            "code.example.net".to_owned(),
        ];
        let ns = NamespaceUrl::parse("https://gitlab.example.org/Platform", &hosts).unwrap();
        assert_eq!(ns.as_str(), "https://gitlab.example.org/platform");

        let refusal = NamespaceUrl::parse("https://gitlab.evil.test/platform", &hosts).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "Namespaces on gitlab.evil.test cannot be registered. Use a group on gitlab.com, gitlab.example.org or code.example.net."
        );
    }

    #[test]
    fn stored_values_read_back_even_when_their_host_is_no_longer_configured() {
        let ns = NamespaceUrl::from_stored("https://gitlab.example.org/platform").unwrap();
        assert_eq!(ns.host(), "gitlab.example.org");
        assert_eq!(ns.path(), "platform");
        assert!(NamespaceUrl::from_stored("https://gitlab.example.org/a/b").is_err());
    }

    #[test]
    fn owns_projects_only_inside_its_own_path() {
        let ns = parse("https://gitlab.com/acme-corp").unwrap();
        for (project, owned) in [
            ("acme-corp", true),
            ("acme-corp/tool", true),
            ("Acme-Corp/CI/Sast", true),
            ("acme-corpx/tool", false),
            ("acme-cor/tool", false),
            ("other/acme-corp", false),
            ("", false),
        ] {
            assert_eq!(ns.owns_project(project), owned, "for {project:?}");
        }
    }
}
