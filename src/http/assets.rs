//! Static files, compiled into the binary and served under content-hashed
//! names (`/static/app.3f9a1c2b7d.css`) so they can be cached for a year.

use std::{collections::HashMap, sync::LazyLock};

use axum::{
    Router,
    extract::Path,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use sha2::{Digest, Sha256};

use crate::{state::AppState, views::ErrorPage};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../static/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/app.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../../static/favicon.svg"),
    },
];

struct Hashed {
    /// `app.css` → `app.3f9a1c2b7d.css`
    urls: HashMap<&'static str, String>,
    /// `app.3f9a1c2b7d.css` → the asset
    by_file: HashMap<String, &'static Asset>,
}

static HASHED: LazyLock<Hashed> = LazyLock::new(|| {
    let mut urls = HashMap::new();
    let mut by_file = HashMap::new();
    for asset in ASSETS {
        let digest = hex::encode(Sha256::digest(asset.bytes));
        let (stem, ext) = asset.name.rsplit_once('.').unwrap_or((asset.name, ""));
        let file = format!("{stem}.{}.{ext}", &digest[..10]);
        urls.insert(asset.name, format!("/static/{file}"));
        by_file.insert(file, asset);
    }
    Hashed { urls, by_file }
});

/// The versioned URL of a static file, for templates: `asset_url("app.css")`.
pub fn asset_url(name: &str) -> &'static str {
    HASHED
        .urls
        .get(name)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no static asset named {name}"))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/{file}", get(serve))
        .route("/favicon.ico", get(favicon))
}

async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = HASHED.by_file.get(&file) else {
        return ErrorPage::for_status(StatusCode::NOT_FOUND).into_response();
    };
    let etag = format!("\"{file}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, asset.content_type.to_owned()),
            (
                header::CACHE_CONTROL,
                "public, max-age=31536000, immutable".to_owned(),
            ),
            (header::ETAG, etag),
        ],
        asset.bytes,
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, asset_url("favicon.svg"))],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_a_content_hash() {
        let url = asset_url("app.css");
        assert!(url.starts_with("/static/app."), "{url}");
        assert!(url.ends_with(".css"), "{url}");
        assert_eq!(url.len(), "/static/app.".len() + 10 + ".css".len());
    }
}
