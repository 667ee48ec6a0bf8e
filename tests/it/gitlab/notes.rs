//! The REST notes API of an issue, as GitLab documents it
//! (`doc/api/notes.md`): `POST /api/v4/projects/:id/issues/:issue_iid/notes`
//! with `body` (JSON or form) answers 201 with the note; `GET` of the same
//! path lists them (`sort`, `order_by`, `per_page`). `:id` is the project's
//! id or its URL-encoded full path.

use std::sync::{Arc, Mutex};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, Query, State as Shared},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use super::{
    API_TOKEN, Answer, GitLabDouble, Kind, State, StoredNote, authorised, error_answer, record,
    scripted, take_script,
};

/// The service account notes are posted as.
pub const BOT_USERNAME: &str = "partner-portal-bot";

pub fn router() -> Router<Arc<Mutex<State>>> {
    Router::new().route(
        "/api/v4/projects/{project}/issues/{iid}/notes",
        get(list).post(create),
    )
}

fn note_json(project: &str, iid: i64, note: &StoredNote) -> Value {
    json!({
        "id": note.id,
        "type": null,
        "body": note.body,
        "attachment": null,
        "author": { "id": 77, "username": note.author, "name": "Partner Portal", "state": "active" },
        "created_at": "2019-11-24T12:00:00.000Z",
        "updated_at": "2019-11-24T12:00:00.000Z",
        "system": false,
        "noteable_id": 151230,
        "noteable_type": "Issue",
        "project_id": 48201,
        "noteable_iid": iid,
        "resolvable": false,
        "confidential": false,
        "internal": false,
        "project_path": project,
    })
}

async fn create(
    Shared(state): Shared<Arc<Mutex<State>>>,
    Path((project, iid)): Path<(String, i64)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        let form: Vec<(String, String)> =
            url::form_urlencoded::parse(&bytes).into_owned().collect();
        json!(
            form.into_iter()
                .collect::<std::collections::HashMap<_, _>>()
        )
    });
    record(&state, method, &uri, &headers, body.clone());
    if !authorised(&headers, &[API_TOKEN]) {
        return error_answer(401);
    }
    let answer = take_script(&state, Kind::CreateNote);
    if let Some(answer) = &answer
        && *answer != Answer::DoThenHang
    {
        return scripted(answer).await.unwrap_or_else(|| error_answer(500));
    }
    let Some(text) = body
        .get("body")
        .and_then(Value::as_str)
        .filter(|b| !b.trim().is_empty())
    else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "body is missing" })),
        )
            .into_response();
    };
    let note = {
        let mut s = state.lock().unwrap();
        s.next_id += 1;
        let note = StoredNote {
            id: s.next_id,
            body: text.to_owned(),
            author: BOT_USERNAME.to_owned(),
        };
        s.notes
            .entry((project.clone(), iid))
            .or_default()
            .push(note.clone());
        note
    };
    if answer == Some(Answer::DoThenHang) {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
    (
        StatusCode::CREATED,
        axum::Json(note_json(&project, iid, &note)),
    )
        .into_response()
}

async fn list(
    Shared(state): Shared<Arc<Mutex<State>>>,
    Path((project, iid)): Path<(String, i64)>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    record(&state, method, &uri, &headers, Value::Null);
    if !authorised(&headers, &[API_TOKEN]) {
        return error_answer(401);
    }
    if let Some(answer) = take_script(&state, Kind::ListNotes) {
        return scripted(&answer).await.unwrap_or_else(|| error_answer(500));
    }
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(20)
        .min(100);
    let mut notes = state
        .lock()
        .unwrap()
        .notes
        .get(&(project.clone(), iid))
        .cloned()
        .unwrap_or_default();
    if query.get("sort").map(String::as_str) != Some("asc") {
        notes.reverse();
    }
    let page: Vec<Value> = notes
        .iter()
        .take(per_page)
        .map(|n| note_json(&project, iid, n))
        .collect();
    axum::Json(page).into_response()
}

impl GitLabDouble {
    /// The notes of an issue, oldest first.
    pub fn notes(&self, project: &str, iid: i64) -> Vec<StoredNote> {
        self.state
            .lock()
            .unwrap()
            .notes
            .get(&(project.to_owned(), iid))
            .cloned()
            .unwrap_or_default()
    }

    /// Every note on every issue.
    pub fn all_notes(&self) -> Vec<StoredNote> {
        self.state
            .lock()
            .unwrap()
            .notes
            .values()
            .flatten()
            .cloned()
            .collect()
    }
}
