//! The OpenAPI 3.1 document: generated from the handlers, it names every
//! route the API serves, and every example in it is valid against its own
//! schema (checked by an independent JSON Schema validator).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_document_describes_every_route_and_its_examples_validate() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/issues", "get"),
        ("/issues/{id}", "get"),
        ("/issues/{id}/updates", "post"),
        ("/licenses", "get"),
        ("/namespaces", "get"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} is described");
        assert!(
            op["security"].is_array(),
            "{method} {path} names its security"
        );
    }
    assert_eq!(paths.len(), 5, "and nothing else: {:?}", paths.keys());
    assert_eq!(
        doc["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );

    // Every route described answers (no token: 401 problem), and a route
    // the document does not name is a 404 problem.
    for path in paths.keys() {
        let concrete = path.replace("{id}", "1");
        let method = if path.ends_with("/updates") {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        };
        let res = app
            .client
            .request(method, app.url(&format!("/api/v1/partner{concrete}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
    }

    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut checked = 0;
    for (name, schema) in schemas {
        let Some(example) = schema
            .get("example")
            .or_else(|| schema.get("examples").and_then(|e| e.get(0)))
        else {
            continue;
        };
        // The schema resolved inside the whole document, so its $refs work.
        let mut root = doc.clone();
        root["$ref"] = json!(format!("#/components/schemas/{name}"));
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&root)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(example)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "the example of {name} is invalid: {errors:?}"
        );
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} examples");
}
