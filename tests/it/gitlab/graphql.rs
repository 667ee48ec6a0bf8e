//! GitLab's GraphQL endpoint as far as the catalog's badge goes
//! (`doc/api/graphql/reference`): the mutation `verifiedNamespaceCreate
//! (input: {namespacePath, verificationLevel}) { errors }`, which only an
//! instance administrator may run, and `ciCatalogResource(fullPath:)
//! { verificationLevel }`. Like GitLab, it answers 200 with `errors` when
//! a query fails, and keeps the level per root namespace.

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    Json, Router,
    extract::State as Shared,
    http::{HeaderMap, Method, Uri},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

use super::{
    ADMIN_TOKEN, API_TOKEN, Answer, GitLabDouble, Kind, State, authorised, error_answer, record,
    scripted, take_script,
};

const LEVELS: [&str; 5] = [
    "GITLAB_MAINTAINED",
    "GITLAB_PARTNER_MAINTAINED",
    "VERIFIED_CREATOR_MAINTAINED",
    "VERIFIED_CREATOR_SELF_MANAGED",
    "UNVERIFIED",
];

const NO_ACCESS: &str = "The resource that you are attempting to access does not exist or you don't have permission to perform this action";

pub fn router() -> Router<Arc<Mutex<State>>> {
    Router::new().route("/api/graphql", post(graphql))
}

fn errors(message: &str) -> Response {
    Json(json!({ "errors": [{ "message": message, "locations": [{"line": 2, "column": 3}] }] }))
        .into_response()
}

async fn graphql(
    Shared(state): Shared<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    record(&state, method, &uri, &headers, body.clone());
    if !authorised(&headers, &[ADMIN_TOKEN, API_TOKEN]) {
        return error_answer(401);
    }
    let limit = state.lock().unwrap().graphql_per_second;
    if let Some(limit) = limit {
        let mut s = state.lock().unwrap();
        let now = Instant::now();
        s.graphql_calls
            .retain(|t| now.duration_since(*t).as_millis() < 1000);
        if s.graphql_calls.len() >= limit {
            drop(s);
            return futures_util::FutureExt::now_or_never(scripted(&Answer::TooMany {
                retry_after: 1,
            }))
            .flatten()
            .unwrap();
        }
        s.graphql_calls.push(now);
    }
    let query = body["query"].as_str().unwrap_or_default();
    let variables = &body["variables"];
    let admin = authorised(&headers, &[ADMIN_TOKEN]);
    if query.contains("verifiedNamespaceCreate") {
        if let Some(answer) = take_script(&state, Kind::GraphQl) {
            if let Answer::MutationErrors(message) = &answer {
                return Json(
                    json!({ "data": { "verifiedNamespaceCreate": { "errors": [message] } } }),
                )
                .into_response();
            }
            if answer != Answer::DoThenHang {
                return scripted(&answer).await.unwrap_or_else(|| error_answer(500));
            }
        }
        if !admin {
            return Json(json!({ "data": { "verifiedNamespaceCreate": null }, "errors": [{ "message": NO_ACCESS }] }))
                .into_response();
        }
        let (Some(path), Some(level)) = (variables["path"].as_str(), variables["level"].as_str())
        else {
            return errors("Variable $path of type ID! was provided invalid value");
        };
        if !LEVELS.contains(&level) {
            return errors(
                "Variable $level of type CiCatalogResourceVerificationLevel! was provided invalid value",
            );
        }
        if path.contains('/') {
            return Json(json!({ "data": { "verifiedNamespaceCreate": { "errors": ["Input namespace path is not a root namespace."] } } }))
                .into_response();
        }
        let mut s = state.lock().unwrap();
        s.levels.insert(path.to_owned(), level.to_owned());
        s.mutations.push((path.to_owned(), level.to_owned()));
        drop(s);
        return Json(json!({ "data": { "verifiedNamespaceCreate": { "errors": [] } } }))
            .into_response();
    }
    if query.contains("ciCatalogResource") {
        let path = variables["path"].as_str().unwrap_or_default();
        let s = state.lock().unwrap();
        if !s.catalog_resources.contains(path) {
            return Json(json!({ "data": { "ciCatalogResource": null }, "errors": [{ "message": NO_ACCESS }] }))
                .into_response();
        }
        let root = path.split('/').next().unwrap_or_default();
        let level = s
            .levels
            .get(root)
            .cloned()
            .unwrap_or_else(|| "UNVERIFIED".to_owned());
        return Json(json!({ "data": { "ciCatalogResource": { "verificationLevel": level } } }))
            .into_response();
    }
    errors("Field 'unknown' doesn't exist on type 'Query'")
}

impl GitLabDouble {
    /// The level root namespace `path` has in the catalog, if it was set.
    pub fn catalog_level(&self, path: &str) -> Option<String> {
        self.state.lock().unwrap().levels.get(path).cloned()
    }

    /// Someone changes a level by hand on the platform.
    pub fn set_catalog_level(&self, path: &str, level: &str) {
        self.state
            .lock()
            .unwrap()
            .levels
            .insert(path.to_owned(), level.to_owned());
    }

    /// Project `full_path` is a published catalog resource.
    pub fn add_catalog_resource(&self, full_path: &str) {
        self.state
            .lock()
            .unwrap()
            .catalog_resources
            .insert(full_path.to_owned());
    }

    /// GraphQL answers 429 past `per_second` calls in any second.
    pub fn limit_graphql(&self, per_second: usize) {
        self.state.lock().unwrap().graphql_per_second = Some(per_second);
    }

    /// The mutations GitLab carried out, as (namespace path, level), in
    /// order.
    pub fn mutations(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().mutations.clone()
    }
}
