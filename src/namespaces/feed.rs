//! The public feed of badged namespaces (`GET /api/v1/verified-namespaces`):
//! what a catalog reads to show the partner badge. Built with the directory
//! snapshot and served from memory.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub const VERIFICATION_LEVEL: &str = "gitlab_partner_maintained";

/// One verified namespace of an approved, non-suspended partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedItem {
    pub namespace_path: String,
    pub namespace_url: String,
    pub partner_name: String,
    pub partner_slug: String,
    pub verification_level: &'static str,
    /// RFC 3339, UTC, whole seconds.
    pub verified_at: String,
}

impl FeedItem {
    pub fn new(
        path: String,
        url: String,
        partner_name: String,
        partner_slug: String,
        verified_at: DateTime<Utc>,
    ) -> Self {
        Self {
            namespace_path: path,
            namespace_url: url,
            partner_name,
            partner_slug,
            verification_level: VERIFICATION_LEVEL,
            verified_at: verified_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    }
}

/// The body compressed as small as each coding goes.
#[derive(Debug)]
struct Harder {
    /// By zopfli: about an eighth smaller than [`Feed::gzip`], read by any
    /// gzip client.
    gzip: axum::body::Bytes,
    /// About a fifth smaller than [`Feed::gzip`].
    brotli: axum::body::Bytes,
}

/// The feed's body, compressed once, and its validator.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    pub body: axum::body::Bytes,
    /// The same body, gzip-compressed at once (zlib's default level).
    pub gzip: axum::body::Bytes,
    /// The smaller forms, once [`Feed::compress_harder`] has run.
    harder: Arc<OnceLock<Harder>>,
    /// A weak validator (`W/"…"`): the body may be sent compressed.
    pub etag: String,
    pub count: usize,
}

impl Feed {
    /// Sorted by URL, so the same namespaces always give the same bytes and
    /// the same ETag.
    pub fn new(mut items: Vec<FeedItem>) -> Self {
        items.sort_by(|a, b| a.namespace_url.cmp(&b.namespace_url));
        let body = serde_json::to_vec(&items).expect("plain strings serialise");
        let digest = hex::encode(Sha256::digest(&body));
        Self {
            etag: format!("W/\"{}\"", &digest[..32]),
            count: items.len(),
            gzip: gzip(&body).into(),
            harder: Arc::default(),
            body: body.into(),
        }
    }

    /// Compresses the body as small as each coding goes: brotli at its
    /// best quality and gzip by zopfli. For 3 MB of JSON (20,000
    /// namespaces): 165 KB gzipped at once, 146 KB by zopfli, 130 KB by
    /// brotli, for seconds of one core each, so it runs after the snapshot
    /// is published and the quick gzip is served meanwhile. Every response
    /// carries the body, so the bytes saved are saved on every fetch.
    /// Blocking: run it off the async workers.
    pub fn compress_harder(&self) {
        self.harder.get_or_init(|| Harder {
            gzip: zopfli_gzip(&self.body).into(),
            brotli: brotli(&self.body).into(),
        });
    }

    /// The smallest gzip form ready now.
    pub fn smallest_gzip(&self) -> &axum::body::Bytes {
        self.harder.get().map_or(&self.gzip, |h| &h.gzip)
    }

    /// The brotli form, once it is ready (together with zopfli's gzip).
    pub fn brotli(&self) -> Option<&axum::body::Bytes> {
        self.harder.get().map(|h| &h.brotli)
    }

    /// Whether an `If-None-Match` header names this feed's current version.
    pub fn matches(&self, if_none_match: &str) -> bool {
        if_none_match.trim() == "*"
            || if_none_match
                .split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == self.etag.trim_start_matches("W/"))
    }
}

fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// Gzip by zopfli with one iteration: nearly all of its gain (15 iterations
/// save another 0.5 %) for a fraction of its time.
fn zopfli_gzip(body: &[u8]) -> Vec<u8> {
    let options = zopfli::Options {
        iteration_count: std::num::NonZeroU64::MIN,
        ..zopfli::Options::default()
    };
    let mut out = Vec::with_capacity(body.len() / 16);
    zopfli::compress(options, zopfli::Format::Gzip, body, &mut out).expect("writing to memory");
    out
}

fn brotli(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = brotli::CompressorWriter::new(Vec::new(), 64 * 1024, 11, 22);
    encoder.write_all(body).expect("writing to memory");
    encoder.into_inner()
}

/// A content coding the feed is kept in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    /// The names an `Accept-Encoding` item may give it.
    fn names(self) -> &'static [&'static str] {
        match self {
            Coding::Brotli => &["br"],
            Coding::Gzip => &["gzip", "x-gzip"],
        }
    }
}

/// Whether an `Accept-Encoding` header takes `coding` (by name or `*`,
/// unless weighted `q=0`).
pub fn accepts(accept_encoding: &str, coding: Coding) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        (name == "*" || coding.names().contains(&name.as_str())) && !refused
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn item(path: &str) -> FeedItem {
        FeedItem::new(
            path.into(),
            format!("https://gitlab.com/{path}"),
            "Acme Corp".into(),
            "acme-corp".into(),
            Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap(),
        )
    }

    #[test]
    fn items_carry_the_fields_catalogs_read() {
        let feed = Feed::new(vec![item("acme-corp")]);
        let json: serde_json::Value = serde_json::from_slice(&feed.body).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{
                "namespace_path": "acme-corp",
                "namespace_url": "https://gitlab.com/acme-corp",
                "partner_name": "Acme Corp",
                "partner_slug": "acme-corp",
                "verification_level": "gitlab_partner_maintained",
                "verified_at": "2026-03-01T09:30:00Z"
            }])
        );
    }

    #[test]
    fn the_same_namespaces_in_any_order_give_the_same_etag() {
        let a = Feed::new(vec![item("b-corp"), item("a-corp")]);
        let b = Feed::new(vec![item("a-corp"), item("b-corp")]);
        assert_eq!(a.body, b.body);
        assert_eq!(a.etag, b.etag);
        assert_ne!(a.etag, Feed::new(vec![item("a-corp")]).etag);
        assert!(a.etag.starts_with("W/\""));
    }

    #[test]
    fn if_none_match_accepts_lists_weak_and_strong_forms_and_star() {
        let feed = Feed::new(vec![item("acme-corp")]);
        let strong = feed.etag.trim_start_matches("W/").to_owned();
        assert!(feed.matches(&feed.etag));
        assert!(feed.matches(&strong));
        assert!(feed.matches(&format!("\"other\", {}", feed.etag)));
        assert!(feed.matches("*"));
        assert!(!feed.matches("\"other\""));
        assert!(!feed.matches(""));
    }

    #[test]
    fn the_compressed_body_is_the_same_json() {
        use std::io::Read;
        let feed = Feed::new(vec![item("acme-corp"), item("beta")]);
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(&feed.gzip[..])
            .read_to_end(&mut json)
            .unwrap();
        assert_eq!(json, feed.body);

        assert!(feed.brotli().is_none(), "brotli comes later");
        assert_eq!(feed.smallest_gzip(), &feed.gzip, "zopfli comes later");
        feed.compress_harder();
        let mut json = Vec::new();
        brotli::Decompressor::new(&feed.brotli().unwrap()[..], 4096)
            .read_to_end(&mut json)
            .unwrap();
        assert_eq!(json, feed.body);
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(&feed.smallest_gzip()[..])
            .read_to_end(&mut json)
            .unwrap();
        assert_eq!(json, feed.body);
        assert_ne!(feed.smallest_gzip(), &feed.gzip);
    }

    #[test]
    fn a_coding_is_sent_only_to_clients_that_take_it() {
        for (header, takes) in [
            ("gzip", true),
            ("gzip, deflate, br", true),
            ("br;q=1.0, gzip;q=0.8", true),
            ("*", true),
            ("identity", false),
            ("gzip;q=0", false),
            ("br", false),
            ("", false),
        ] {
            assert_eq!(accepts(header, Coding::Gzip), takes, "{header:?}");
        }
        for (header, takes) in [
            ("gzip, deflate, br", true),
            ("br;q=1.0, gzip;q=0.8", true),
            ("BR", true),
            ("*", true),
            ("gzip", false),
            ("br;q=0", false),
        ] {
            assert_eq!(accepts(header, Coding::Brotli), takes, "{header:?}");
        }
    }

    #[test]
    fn an_empty_feed_is_an_empty_array() {
        assert_eq!(&Feed::new(vec![]).body[..], b"[]");
    }
}
