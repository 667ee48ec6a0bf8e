//! Comments on a GitLab issue through the REST notes API:
//! `POST /api/v4/projects/:id/issues/:issue_iid/notes` to add one, `GET` of
//! the same path to read them back (to find one whose answer was lost).

use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;

use super::{CallError, GitLab};

/// A note as the API answers it (the fields the portal reads).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Note {
    pub id: i64,
    pub body: String,
}

/// `projects/:id/issues/:iid/notes` with the project's full path as its id,
/// URL-encoded as GitLab asks (`acme-corp%2Fintegrations%2Frunner`).
fn notes_path(project_path: &str, iid: i64) -> String {
    let project: String = url::form_urlencoded::byte_serialize(project_path.as_bytes()).collect();
    format!("/api/v4/projects/{project}/issues/{iid}/notes")
}

impl GitLab {
    /// Adds a comment to an issue.
    pub async fn create_note(
        &self,
        token: &SecretString,
        project_path: &str,
        iid: i64,
        body: &str,
    ) -> Result<Note, CallError> {
        let request = self
            .request(Method::POST, &notes_path(project_path, iid), token)
            .json(&serde_json::json!({ "body": body }));
        self.call(request).await
    }

    /// The newest comments of an issue, newest first (one page of 100).
    pub async fn recent_notes(
        &self,
        token: &SecretString,
        project_path: &str,
        iid: i64,
    ) -> Result<Vec<Note>, CallError> {
        let request = self
            .request(Method::GET, &notes_path(project_path, iid), token)
            .query(&[
                ("sort", "desc"),
                ("order_by", "created_at"),
                ("per_page", "100"),
            ]);
        self.call(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_path_is_one_encoded_segment() {
        assert_eq!(
            notes_path("acme-corp/integrations/runner-component", 17),
            "/api/v4/projects/acme-corp%2Fintegrations%2Frunner-component/issues/17/notes"
        );
        assert_eq!(
            notes_path("a.b/c_d", 1),
            "/api/v4/projects/a.b%2Fc_d/issues/1/notes"
        );
    }
}
