//! Every staff CSV export arrives whole whatever compression the browser
//! accepts: the compressed download, decompressed, is byte for byte the
//! uncompressed one (issue 20: the streamed exports broke off under gzip).

use std::io::Read;

use partner_portal::accounts::staff::StaffRole;
use reqwest::StatusCode;

use crate::{
    agent::Agent,
    fixtures,
    helpers::{TestApp, spawn_app},
};

/// Every CSV export of the staff UI.
const EXPORTS: &[&str] = &[
    "/admin/issues.csv",
    "/admin/audit.csv",
    "/admin/licenses.csv",
    "/admin/applications.csv",
    "/admin/namespaces.csv",
    "/admin/listings.csv",
];

/// What browsers and tools send, one coding at a time, and all together.
const ENCODINGS: &[&str] = &[
    "gzip",
    "br",
    "deflate",
    "zstd",
    "gzip, deflate, br, zstd",
    "identity",
];

/// Enough rows that each streamed export goes out in several chunks: the
/// issue export sends 64 KiB at a time, the audit log 500 rows a batch.
async fn fill(app: &TestApp, partner_id: i64) {
    let now = app.clock.now();
    sqlx::query(
        "insert into issues (partner_id, source, external_id, iid, project_path, title, severity,
                             clock_started_at, deadline_at, state, created_at)
         select $1, 'tracker', g, g, 'acme-corp/runner',
                'Pipeline fails, \"sometimes\", on runner ' || g || repeat(' x', 20), 2,
                $2::timestamptz - interval '1 day', $2::timestamptz + interval '29 days', 'open', $2
           from generate_series(1, 1500) g",
    )
    .bind(partner_id)
    .bind(now)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into audit_log (occurred_at, actor, partner_id, action)
         select $2::timestamptz - g * interval '1 second', 'scheduler', $1, 'license.expired'
           from generate_series(1, 1700) g",
    )
    .bind(partner_id)
    .bind(now)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// The raw bytes of a download with this `Accept-Encoding`, and the coding
/// the portal chose. A download that breaks off fails here.
async fn download(staff: &Agent, path: &str, accept: &str) -> (Option<String>, Vec<u8>) {
    let res = staff
        .client
        .get(staff.url(path))
        .header("accept-encoding", accept)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path} with {accept}");
    let coding = res
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = res
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("{path} with {accept} broke off: {e:?}"));
    (coding, bytes.to_vec())
}

fn decode(coding: Option<&str>, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        None | Some("identity") => out.extend_from_slice(bytes),
        Some("gzip") => {
            flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut out)
                .expect("a whole gzip stream");
        }
        Some("deflate") => {
            flate2::read::ZlibDecoder::new(bytes)
                .read_to_end(&mut out)
                .expect("a whole deflate stream");
        }
        Some("br") => {
            brotli::Decompressor::new(bytes, 4096)
                .read_to_end(&mut out)
                .expect("a whole brotli stream");
        }
        Some(other) => panic!("the portal answered in {other}, which this test cannot decode"),
    }
    out
}

#[tokio::test]
async fn every_export_is_whole_under_every_compression() {
    let app = spawn_app().await;
    let (_admin, partner_id) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    fill(&app, partner_id).await;
    let staff = app
        .staff_user("sam@alliance.test", StaffRole::Reviewer)
        .await;

    for path in EXPORTS {
        let (_, plain) = download(&staff, path, "identity").await;
        let text = String::from_utf8(plain.clone()).unwrap();
        assert!(text.ends_with("\r\n"), "{path} ends with a whole line");
        if matches!(*path, "/admin/issues.csv" | "/admin/audit.csv") {
            assert!(
                plain.len() > 100_000 && text.lines().count() > 1500,
                "{path} is long enough to stream in several chunks: {} bytes",
                plain.len()
            );
        }
        for accept in ENCODINGS {
            let (coding, raw) = download(&staff, path, accept).await;
            let body = decode(coding.as_deref(), &raw);
            assert!(
                body == plain,
                "{path} with {accept} (answered in {coding:?}): {} bytes instead of {}",
                body.len(),
                plain.len()
            );
        }
        let (coding, _) = download(&staff, path, "gzip").await;
        assert_eq!(coding.as_deref(), Some("gzip"), "{path} is compressed");
    }
}
