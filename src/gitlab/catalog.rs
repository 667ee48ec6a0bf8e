//! The CI/CD Catalog's partner badge through GitLab's GraphQL API
//! (`POST /api/graphql`, an instance administrator's token):
//! `verifiedNamespaceCreate(input: {namespacePath, verificationLevel})`
//! sets the level of a root namespace and of every catalog resource under
//! it (`GITLAB_PARTNER_MAINTAINED` to badge, `UNVERIFIED` to remove), and
//! `ciCatalogResource(fullPath:) { verificationLevel }` reads what one
//! resource shows. GraphQL answers 200 even when it fails: `errors` at the
//! top, or in the mutation's own `errors` list, is a failure with its text.

use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{CallError, GitLab};

/// A level of the catalog's `CiCatalogResourceVerificationLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `GITLAB_PARTNER_MAINTAINED`: the partner badge.
    PartnerMaintained,
    /// `UNVERIFIED`: no badge.
    Unverified,
}

impl Level {
    pub fn as_graphql(self) -> &'static str {
        match self {
            Level::PartnerMaintained => "GITLAB_PARTNER_MAINTAINED",
            Level::Unverified => "UNVERIFIED",
        }
    }
}

const CREATE: &str = "mutation($path: ID!, $level: CiCatalogResourceVerificationLevel!) {
  verifiedNamespaceCreate(input: { namespacePath: $path, verificationLevel: $level }) { errors }
}";

const READ: &str = "query($path: ID!) { ciCatalogResource(fullPath: $path) { verificationLevel } }";

#[derive(Deserialize)]
struct Answer {
    data: Option<Value>,
    #[serde(default)]
    errors: Vec<GraphQlError>,
}

#[derive(Deserialize)]
struct GraphQlError {
    message: String,
}

/// The failures in a GraphQL answer, as one reason.
fn failures(errors: &[GraphQlError]) -> Option<String> {
    (!errors.is_empty()).then(|| {
        errors
            .iter()
            .map(|e| e.message.trim())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

impl GitLab {
    async fn graphql(
        &self,
        token: &SecretString,
        query: &str,
        variables: Value,
    ) -> Result<Answer, CallError> {
        let request = self
            .request(Method::POST, "/api/graphql", token)
            .json(&json!({ "query": query, "variables": variables }));
        self.call(request).await
    }

    /// Sets root namespace `path`'s level in the catalog.
    pub async fn set_catalog_level(
        &self,
        token: &SecretString,
        path: &str,
        level: Level,
    ) -> Result<(), CallError> {
        let answer = self
            .graphql(
                token,
                CREATE,
                json!({ "path": path, "level": level.as_graphql() }),
            )
            .await?;
        if let Some(reason) = failures(&answer.errors) {
            return Err(CallError::Permanent(format!("GitLab refused: {reason}")));
        }
        let result = answer
            .data
            .as_ref()
            .and_then(|d| d.get("verifiedNamespaceCreate"))
            .filter(|r| !r.is_null())
            .ok_or_else(|| {
                CallError::Permanent("GitLab's answer holds no verifiedNamespaceCreate".into())
            })?;
        let errors: Vec<String> = result
            .get("errors")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(CallError::Permanent(format!(
                "GitLab refused: {}",
                errors.join("; ")
            )))
        }
    }

    /// The level catalog resource `full_path` (a project) shows, or `None`
    /// when it is not a catalog resource GitLab lets the token read.
    pub async fn catalog_level_of(
        &self,
        token: &SecretString,
        full_path: &str,
    ) -> Result<Option<String>, CallError> {
        let answer = self
            .graphql(token, READ, json!({ "path": full_path }))
            .await?;
        let level = answer
            .data
            .as_ref()
            .and_then(|d| d.get("ciCatalogResource"))
            .and_then(|r| r.get("verificationLevel"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_levels_are_graphql_enum_values() {
        assert_eq!(
            Level::PartnerMaintained.as_graphql(),
            "GITLAB_PARTNER_MAINTAINED"
        );
        assert_eq!(Level::Unverified.as_graphql(), "UNVERIFIED");
    }

    #[test]
    fn graphql_errors_join_into_one_reason() {
        let errors = vec![
            GraphQlError {
                message: " The resource that you are attempting to access does not exist ".into(),
            },
            GraphQlError {
                message: "Must be a root namespace".into(),
            },
        ];
        assert_eq!(
            failures(&errors).as_deref(),
            Some(
                "The resource that you are attempting to access does not exist; Must be a root namespace"
            )
        );
        assert_eq!(failures(&[]), None);
    }
}
