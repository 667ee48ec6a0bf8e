//! A CI/CD Catalog component a partner lists under one of its namespaces.

use serde::Deserialize;
use url::Url;

use super::url::{NamespaceUrl, check_path_segment};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// How many path segments a component may have below its root namespace.
pub const MAX_DEPTH: usize = 20;

/// Each problem next to the form field it belongs to: `(field, message)`.
pub type FieldProblems = Vec<(&'static str, String)>;

/// The component form as submitted; empty strings mean "not given".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ComponentInput {
    pub path: String,
    pub name: String,
    pub description: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    path: String,
    web_url: String,
    name: String,
    description: Option<String>,
    version: Option<String>,
}

impl Component {
    /// Checks every field and reports all problems at once.
    pub fn parse(input: &ComponentInput, namespace: &NamespaceUrl) -> Result<Self, FieldProblems> {
        let mut problems = FieldProblems::new();
        let path = parse_path(&input.path, namespace).map_err(|m| problems.push(("path", m)));
        let name = parse_name(&input.name).map_err(|m| problems.push(("name", m)));
        let description =
            parse_description(&input.description).map_err(|m| problems.push(("description", m)));
        let version = parse_version(&input.version).map_err(|m| problems.push(("version", m)));
        match (path, name, description, version) {
            (Ok(path), Ok(name), Ok(description), Ok(version)) => Ok(Self {
                web_url: format!("https://{}/{path}", namespace.host()),
                path,
                name,
                description,
                version,
            }),
            _ => Err(problems),
        }
    }

    /// The project path with its namespace, lowercased: `acme-corp/ci/sast`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `https://gitlab.com/acme-corp/ci/sast`.
    pub fn web_url(&self) -> &str {
        &self.web_url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The latest version without a leading `v`: `1.4.0`.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
}

fn parse_path(input: &str, namespace: &NamespaceUrl) -> Result<String, String> {
    let ns = namespace.path();
    let example = format!("{ns}/components/sast");
    let text = input.trim();
    if text.is_empty() {
        return Err(format!(
            "Enter the component's project path, like {example}."
        ));
    }
    let first = text.split('/').next().unwrap_or_default();
    let is_url = text.contains("://") || first.eq_ignore_ascii_case(namespace.host());
    let path = if is_url {
        path_from_url(text, namespace)?
    } else {
        text.to_ascii_lowercase()
    };

    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.split_first() {
        None => Err(format!("Add the project path under {ns}, like {example}.")),
        Some((root, _)) if *root != ns => Err(format!(
            "The component must be in your namespace: start its path with {ns}/, like {example}."
        )),
        Some((_, [])) => Err(format!(
            "Enter the component's project inside {ns}, like {example}, not the namespace itself."
        )),
        Some((_, rest)) if rest.len() > MAX_DEPTH => Err(format!(
            "The component path may have at most {MAX_DEPTH} levels below {ns}."
        )),
        Some((_, rest)) => {
            for segment in rest {
                check_path_segment(segment, 1).map_err(|problem| {
                    format!("\u{201c}{segment}\u{201d} is not a valid GitLab path: {problem}.")
                })?;
            }
            Ok(segments.join("/"))
        }
    }
}

/// Takes the project path out of a pasted address: a project page
/// (`…/acme-corp/sast/-/tree/main`) or its catalog page
/// (`…/explore/catalog/acme-corp/sast`) both name the project.
fn path_from_url(text: &str, namespace: &NamespaceUrl) -> Result<String, String> {
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("https://{text}")
    };
    let example = format!(
        "https://{}/{}/components/sast",
        namespace.host(),
        namespace.path()
    );
    let url = Url::parse(&with_scheme)
        .map_err(|_| format!("Enter a project path or address, like {example}."))?;
    if url.scheme() != "https" {
        return Err(format!(
            "Use the project's https:// address, like {example}."
        ));
    }
    if url.host_str() != Some(namespace.host()) || url.port().is_some() {
        return Err(format!(
            "The component must be on {}, where your namespace is.",
            namespace.host()
        ));
    }
    let path = url.path().to_ascii_lowercase();
    let path = path.strip_prefix("/explore/catalog").unwrap_or(&path);
    match path
        .split_once("/-/")
        .map(|(p, _)| p)
        .or(path.strip_suffix("/-"))
    {
        Some(project) => Ok(project.to_owned()),
        None if url.query().is_some() || url.fragment().is_some() => Err(format!(
            "Remove everything from the ? or # onwards, like {example}."
        )),
        None => Ok(path.to_owned()),
    }
}

fn parse_name(input: &str) -> Result<String, String> {
    let name = input.trim();
    if name.is_empty() {
        return Err("Enter the component's name.".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "Use at most {MAX_NAME_CHARS} characters for the name."
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("Write the name on a single line.".into());
    }
    Ok(name.to_owned())
}

fn parse_description(input: &str) -> Result<Option<String>, String> {
    let text = input.trim().replace("\r\n", "\n");
    if text.is_empty() {
        return Ok(None);
    }
    let chars = text.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(format!(
            "Use at most 1,000 characters for the description; this one has {chars}."
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("The description contains characters that cannot be shown.".into());
    }
    Ok(Some(text))
}

fn parse_version(input: &str) -> Result<Option<String>, String> {
    let text = input.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bare = text
        .strip_prefix('v')
        .or_else(|| text.strip_prefix('V'))
        .unwrap_or(text);
    semver::Version::parse(bare)
        .map(|v| Some(v.to_string()))
        .map_err(|_| "Enter a semantic version with three numbers, like 1.4.0.".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acme() -> NamespaceUrl {
        NamespaceUrl::parse("https://gitlab.com/acme-corp", &["gitlab.com".to_owned()]).unwrap()
    }

    fn input(path: &str) -> ComponentInput {
        ComponentInput {
            path: path.into(),
            name: "SAST scanner".into(),
            description: String::new(),
            version: String::new(),
        }
    }

    fn path_problem(path: &str) -> String {
        let problems = Component::parse(&input(path), &acme()).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, "path");
        problems[0].1.clone()
    }

    #[test]
    fn full_component_is_accepted_and_normalised() {
        let component = Component::parse(
            &ComponentInput {
                path: " Acme-Corp/CI/Sast/ ".into(),
                name: "  SAST scanner ".into(),
                description: "Finds bugs.\r\nFast.".into(),
                version: "v1.4.0".into(),
            },
            &acme(),
        )
        .unwrap();
        assert_eq!(component.path(), "acme-corp/ci/sast");
        assert_eq!(component.web_url(), "https://gitlab.com/acme-corp/ci/sast");
        assert_eq!(component.name(), "SAST scanner");
        assert_eq!(component.description(), Some("Finds bugs.\nFast."));
        assert_eq!(component.version(), Some("1.4.0"));
    }

    #[test]
    fn paths_are_accepted_in_the_forms_people_paste() {
        for given in [
            "acme-corp/ci/sast",
            "/acme-corp/ci/sast",
            "https://gitlab.com/acme-corp/ci/sast",
            "https://GitLab.com/Acme-Corp/CI/Sast/",
            "gitlab.com/acme-corp/ci/sast",
            "https://gitlab.com/acme-corp/ci/sast/-/tree/main?ref_type=heads",
            "https://gitlab.com/explore/catalog/acme-corp/ci/sast",
        ] {
            let component = Component::parse(&input(given), &acme())
                .unwrap_or_else(|e| panic!("{given:?} refused: {e:?}"));
            assert_eq!(component.path(), "acme-corp/ci/sast", "for {given:?}");
        }
    }

    #[test]
    fn paths_outside_or_above_the_namespace_are_refused() {
        for (given, expected) in [
            ("", "Enter the component's project path"),
            ("ci/sast", "start its path with acme-corp/"),
            ("acme-corpx/sast", "start its path with acme-corp/"),
            (
                "https://gitlab.com/other/sast",
                "start its path with acme-corp/",
            ),
            ("acme-corp", "not the namespace itself"),
            ("https://gitlab.com/acme-corp/", "not the namespace itself"),
            ("https://github.com/acme-corp/sast", "must be on gitlab.com"),
            ("http://gitlab.com/acme-corp/sast", "https://"),
            (
                "https://gitlab.com/acme-corp/sast?x=1",
                "Remove everything from the ?",
            ),
            ("acme-corp/-sast", "must start with a letter"),
            ("acme-corp/sast.git", "must not end with '.git'"),
            ("acme-corp/my sast", "may contain only letters"),
        ] {
            let message = path_problem(given);
            assert!(message.contains(expected), "{given:?} gave {message:?}");
        }
    }

    #[test]
    fn depth_is_limited_to_twenty_levels_below_the_namespace() {
        let twenty = format!("acme-corp/{}", vec!["x"; 20].join("/"));
        assert!(Component::parse(&input(&twenty), &acme()).is_ok());
        let twenty_one = format!("{twenty}/x");
        assert!(path_problem(&twenty_one).contains("at most 20 levels"));
    }

    #[test]
    fn all_field_problems_are_reported_together() {
        let problems = Component::parse(
            &ComponentInput {
                path: "other/sast".into(),
                name: " ".into(),
                description: "d".repeat(1001),
                version: "1.4".into(),
            },
            &acme(),
        )
        .unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["path", "name", "description", "version"]);
        assert_eq!(problems[1].1, "Enter the component's name.");
        assert!(problems[2].1.contains("this one has 1001"));
        assert!(problems[3].1.contains("like 1.4.0"));
    }

    #[test]
    fn name_length_counts_characters_not_bytes() {
        let mut form = input("acme-corp/sast");
        form.name = "é".repeat(100);
        assert!(Component::parse(&form, &acme()).is_ok());
        form.name = "é".repeat(101);
        assert_eq!(
            Component::parse(&form, &acme()).unwrap_err(),
            vec![(
                "name",
                "Use at most 100 characters for the name.".to_owned()
            )]
        );
        form.name = "two\nlines".into();
        assert!(Component::parse(&form, &acme()).is_err());
    }

    #[test]
    fn description_and_version_are_optional() {
        let component = Component::parse(&input("acme-corp/sast"), &acme()).unwrap();
        assert_eq!(component.description(), None);
        assert_eq!(component.version(), None);
    }

    #[test]
    fn versions_follow_semantic_versioning() {
        for (given, stored) in [
            ("1.4.0", Some("1.4.0")),
            ("v1.4.0", Some("1.4.0")),
            (" V2.0.0-rc.1 ", Some("2.0.0-rc.1")),
            ("0.1.0+build.7", Some("0.1.0+build.7")),
        ] {
            assert_eq!(
                parse_version(given),
                Ok(stored.map(String::from)),
                "for {given:?}"
            );
        }
        for bad in ["1.4", "1", "latest", "v", "01.4.0", "1.4.0.1", "vv1.4.0"] {
            assert!(parse_version(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
