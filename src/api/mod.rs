//! The partner API (PRODUCT.md §10) under `/api/v1/partner/`: what the
//! partner's pages show, for its own tools, with an API token from
//! `/integrations`. The same area functions as the pages (one rule, two
//! doors), the same tenant isolation (the token's partner sets the
//! transaction's tenant), errors as `application/problem+json`, lists paged
//! by an opaque cursor with a `Link` header, each token rate limited. The
//! OpenAPI 3.1 description at `/api/v1/openapi.json` is generated from the
//! handlers and types themselves.

pub mod auth;
pub mod issues;
pub mod licenses;
pub mod namespaces;
pub mod paging;
pub mod problem;

use axum::{Json, Router, middleware::from_fn_with_state, routing::get};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;
pub use problem::Problem;

/// Where the API lives.
pub const BASE: &str = "/api/v1/partner";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Partner Portal API",
        description = "The organisation's issues, licenses and namespaces, for a partner's own tools. Authenticate with an API token made on /integrations: `Authorization: Bearer ppat_…`. Errors are application/problem+json (RFC 9457); lists page with `cursor` and a `Link: <…>; rel=\"next\"` header; each token may make a limited number of requests a minute (`RateLimit-*` headers; 429 with `Retry-After` past it)."
    ),
    servers((url = "/api/v1/partner")),
    components(schemas(problem::ProblemDetails, problem::FieldError)),
    modifiers(&BearerToken),
    tags(
        (name = "issues", description = "Customer issues against the organisation's components"),
        (name = "licenses", description = "Not-For-Resale licenses"),
        (name = "namespaces", description = "Namespaces and their catalog badge"),
    )
)]
struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("ppat_…")
                    .description(Some("An API token made on /integrations"))
                    .build(),
            ),
        );
    }
}

/// The API's routes and their OpenAPI description, from the same list.
fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(issues::list))
        .routes(routes!(issues::show))
        .routes(routes!(issues::post_update))
        .routes(routes!(licenses::list))
        .routes(routes!(namespaces::list))
        .split_for_parts()
}

/// The OpenAPI 3.1 description.
pub fn openapi() -> utoipa::openapi::OpenApi {
    parts().1
}

/// `/api/v1/partner/…` behind the token check, and `/api/v1/openapi.json`.
pub fn router(state: &AppState) -> Router<AppState> {
    let (api, doc) = parts();
    let doc = std::sync::Arc::new(serde_json::to_value(&doc).expect("the description serialises"));
    Router::new()
        .nest(
            BASE,
            api.fallback(|| async { Problem::not_found() })
                .route_layer(from_fn_with_state(state.clone(), auth::authenticate)),
        )
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json((*doc).clone()) }
            }),
        )
}
