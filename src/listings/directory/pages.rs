//! Rendered public pages, kept with the snapshot they were rendered from:
//! visitors who are not signed in all see the same page for the same
//! address, so it is rendered and compressed once per change, then served
//! as bytes (with an ETag for `304 Not Modified`). A new snapshot starts
//! with an empty cache: nothing stale survives a change.

use std::{
    collections::HashMap,
    io::Write,
    sync::{
        Arc, OnceLock, RwLock,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

use crate::namespaces::feed::{Coding, accepts};

/// Searches are free text, so addresses are unbounded: past this size the
/// cache starts again empty (popular pages come back at their next visit).
const MAX_CACHED_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug)]
pub struct Rendered {
    pub html: Bytes,
    /// Compressed at the first request that takes gzip.
    gzip: OnceLock<Bytes>,
    pub etag: String,
}

impl Rendered {
    pub fn new(html: String) -> Self {
        let digest = hex::encode(Sha256::digest(html.as_bytes()));
        Self {
            gzip: OnceLock::new(),
            html: html.into(),
            etag: format!("W/\"{}\"", &digest[..32]),
        }
    }

    fn gzip(&self) -> Bytes {
        self.gzip
            .get_or_init(|| {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                encoder.write_all(&self.html).expect("writing to memory");
                encoder.finish().expect("writing to memory").into()
            })
            .clone()
    }

    /// Room it takes, counting a compressed copy of about a fifth.
    fn size(&self) -> usize {
        self.html.len() + self.html.len() / 5
    }

    /// The page, compressed if the client takes gzip; 304 if the client
    /// holds this version.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let bare = self.etag.trim_start_matches("W/");
        let held = request
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().trim_start_matches("W/") == bare);
        let gzip = request
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| accepts(v, Coding::Gzip));
        let mut res = if held {
            StatusCode::NOT_MODIFIED.into_response()
        } else if gzip {
            let mut res = Response::new(Body::from(self.gzip()));
            res.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            res
        } else {
            Response::new(Body::from(self.html.clone()))
        };
        let h = res.headers_mut();
        if !held {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
        }
        if let Ok(v) = HeaderValue::from_str(&self.etag) {
            h.insert(header::ETAG, v);
        }
        // Browsers may keep it but ask each time whether it changed.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert(
            header::VARY,
            HeaderValue::from_static("accept-encoding, cookie"),
        );
        res
    }
}

#[derive(Debug, Default)]
pub struct PageCache {
    pages: RwLock<HashMap<String, Arc<Rendered>>>,
    bytes: AtomicUsize,
}

impl PageCache {
    pub fn get(&self, key: &str) -> Option<Arc<Rendered>> {
        self.pages.read().expect("not poisoned").get(key).cloned()
    }

    /// Keeps the page (emptying the cache first when it is full).
    pub fn insert(&self, key: String, html: String) -> Arc<Rendered> {
        let rendered = Arc::new(Rendered::new(html));
        let mut pages = self.pages.write().expect("not poisoned");
        if self.bytes.load(Ordering::Relaxed) + rendered.size() > MAX_CACHED_BYTES {
            pages.clear();
            self.bytes.store(0, Ordering::Relaxed);
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = pages.entry(key) {
            self.bytes.fetch_add(rendered.size(), Ordering::Relaxed);
            slot.insert(rendered.clone());
        }
        rendered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_page_is_sent_plain_compressed_or_not_at_all() {
        let page = Rendered::new("<!doctype html><p>Hello</p>".into());
        let plain = page.respond(&headers(&[]));
        assert_eq!(plain.status(), StatusCode::OK);
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        let gzip = page.respond(&headers(&[("accept-encoding", "gzip, br")]));
        assert_eq!(gzip.headers()[header::CONTENT_ENCODING], "gzip");
        let mut html = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(&page.gzip()[..]),
            &mut html,
        )
        .unwrap();
        assert_eq!(html, "<!doctype html><p>Hello</p>");
        let held = page.respond(&headers(&[("if-none-match", &page.etag)]));
        assert_eq!(held.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(held.headers()[header::ETAG], page.etag.as_str());
    }

    #[test]
    fn the_cache_keeps_pages_by_address() {
        let cache = PageCache::default();
        assert!(cache.get("/partners").is_none());
        let first = cache.insert("/partners".into(), "<p>A</p>".into());
        let again = cache.get("/partners").unwrap();
        assert_eq!(first.etag, again.etag);
        // The first rendering stays: both renderings came from one snapshot.
        cache.insert("/partners".into(), "<p>B</p>".into());
        assert_eq!(cache.get("/partners").unwrap().html, "<p>A</p>");
    }
}
