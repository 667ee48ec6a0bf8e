//! Text input the database cannot store (a NUL) or that no person types
//! (other control characters, bytes that are not UTF-8) is refused before
//! any handler runs, in forms, query strings, multipart forms and JSON: a
//! clear message next to the field, nothing changed, never a 500. Tabs and
//! line breaks stay text. (Issue 20: a NUL answered 500 in about twenty
//! places.)

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{Json, routing::post};
use partner_portal::accounts::staff::StaffRole;
use reqwest::StatusCode;

use crate::{
    agent::{Agent, Page, csrf_in},
    applications::complete_form,
    fixtures,
    helpers::{PASSWORD, Spawn, TestApp, spawn_app, spawn_app_with},
    listings::{fields, ready_partner, submit, tiny_png, with},
    snapshot::{changed, fingerprint},
};

/// The `name="…" value="…"` pairs of the inputs of the first form in `html`
/// that posts to `action`, unescaped, in order.
fn form_inputs(html: &str, action: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form to {action}"));
    let form = &html[start..start + html[start..].find("</form>").unwrap()];
    let attr = |tag: &str, name: &str| -> Option<String> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(unescape(&tag[at..at + tag[at..].find('"')?]))
    };
    let mut out = Vec::new();
    for piece in form.split('<').skip(1) {
        let tag = &piece[..piece.find('>').unwrap_or(piece.len())];
        if tag.starts_with("input ") {
            if let Some(name) = attr(tag, "name") {
                out.push((name, attr(tag, "value").unwrap_or_default()));
            }
        } else if tag.starts_with("textarea ") {
            let text = &piece[piece.find('>').unwrap() + 1..];
            out.push((attr(tag, "name").unwrap(), unescape(text)));
        }
    }
    out
}

fn unescape(text: &str) -> String {
    text.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
}

#[track_caller]
fn assert_refused_next_to_field(page: &Page, status: StatusCode, label: &str, what: &str) {
    assert_eq!(page.status, status, "{}", page.snippet());
    assert!(
        page.body.contains(&format!(">{label}</label>")),
        "the field is labelled {label}: {}",
        page.snippet()
    );
    assert!(
        page.body.contains("class=\"field-error\"") && page.body.contains(what),
        "the message says {what}: {}",
        page.snippet()
    );
    assert!(page.body.contains("aria-invalid=\"true\""));
}

#[tokio::test]
async fn a_nul_in_the_sign_in_email_is_refused_next_to_the_field_and_can_be_sent_again() {
    let app = spawn_app().await;
    app.partner_user("Ada", "ada@acme.test").await;
    let visitor = app.agent();
    visitor.get("/login").await;
    let before = fingerprint(&app.pool).await;

    let page = visitor
        .post(
            "/login",
            &[("email", "ada@acme.test\0"), ("password", PASSWORD)],
        )
        .await;

    assert_refused_next_to_field(
        &page,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Email address",
        "NUL character (U+0000)",
    );
    assert!(
        !page.body.contains(PASSWORD),
        "a password is never sent back"
    );
    assert_eq!(
        changed(&before, &fingerprint(&app.pool).await),
        [] as [String; 0]
    );

    // The form on the page sends the cleaned address; only the password is
    // typed again.
    let mut again = form_inputs(&page.body, "/login");
    assert!(
        again.contains(&("email".into(), "ada@acme.test".into())),
        "{again:?}"
    );
    for (name, value) in again.iter_mut() {
        if name == "password" {
            *value = PASSWORD.to_owned();
        }
    }
    let pairs: Vec<(&str, &str)> = again
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    visitor
        .post_raw("/login", &pairs)
        .await
        .assert_redirect("/dashboard");
}

#[tokio::test]
async fn application_fields_refuse_controls_and_keep_tabs_and_line_breaks() {
    let app = spawn_app().await;
    let (owner, partner_id) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    let description = "Scans every pipeline.\r\n\r\n\tFindings go to the merge request.";
    let form = complete_form("Acme Corp");
    let pairs = |form: &[(&'static str, String)]| -> Vec<(&'static str, String)> { form.to_vec() };
    let mut multi_line = pairs(&form);
    for (k, v) in multi_line.iter_mut() {
        if *k == "integration_description" {
            *v = description.to_owned();
        }
    }
    owner.get("/application").await;
    let sent: Vec<(&str, &str)> = multi_line.iter().map(|(k, v)| (*k, v.as_str())).collect();
    owner
        .post("/application", &sent)
        .await
        .assert_redirect("/application");
    let stored: String = sqlx::query_scalar(
        "select integration_description from applications where partner_id = $1",
    )
    .bind(partner_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(stored.contains("\n") && stored.contains('\t'), "{stored:?}");

    let before = fingerprint(&app.pool).await;
    for (field, label, bad, what) in [
        ("company_name", "Company name", "Acme\0 Corp", "U+0000"),
        (
            "integration_description",
            "Integration description",
            "red \u{1b}[31m text",
            "U+001B",
        ),
        (
            "primary_contact_name",
            "Primary contact name",
            "Ada\u{7f}",
            "U+007F",
        ),
    ] {
        let mut bad_form = pairs(&form);
        for (k, v) in bad_form.iter_mut() {
            if *k == field {
                *v = bad.to_owned();
            }
        }
        owner.get("/application").await;
        let sent: Vec<(&str, &str)> = bad_form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = owner.post("/application", &sent).await;
        assert_refused_next_to_field(&page, StatusCode::UNPROCESSABLE_ENTITY, label, what);
        // Every other field goes along unchanged, repeated ones included.
        let again = form_inputs(&page.body, "/application");
        assert_eq!(
            again.iter().filter(|(k, _)| k == "stages").count(),
            2,
            "{again:?}"
        );
    }
    assert_eq!(
        changed(&before, &fingerprint(&app.pool).await),
        [] as [String; 0]
    );
}

#[tokio::test]
async fn list_filters_with_a_nul_say_so_and_answer_no_500() {
    let app = spawn_app().await;
    let (partner, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let staff = app.staff_user("sam@alliance.test", StaffRole::Admin).await;
    let visitor = app.agent();
    let before = fingerprint(&app.pool).await;
    let pages: [(&Agent, &str); 17] = [
        (&staff, "/admin/audit?action=%00"),
        (&staff, "/admin/audit?actor=x%00y&from=2020-01-01"),
        (&staff, "/admin/audit.csv?partner=%00"),
        (&staff, "/admin/issues?partner=acme%00"),
        (&staff, "/admin/issues.csv?partner=acme%00"),
        (&staff, "/admin/licenses?partner=%00"),
        (&staff, "/admin/licenses.csv?partner=%00"),
        (&staff, "/admin/applications?q=%00"),
        (&staff, "/admin/applications.csv?q=%00"),
        (&staff, "/admin/namespaces?q=%00"),
        (&staff, "/admin/listings?q=%1B"),
        (&partner, "/audit?action=%00"),
        (&partner, "/issues?status=%00"),
        (&partner, "/licenses?page=%00"),
        (&partner, "/namespaces?page=%C0"),
        (&visitor, "/partners?q=%00"),
        (&visitor, "/verify-email?token=%00"),
    ];
    for (agent, path) in pages {
        let page = agent.get(path).await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            page.snippet()
        );
        assert!(
            page.body.contains("Check the address of this page"),
            "{path}"
        );
        assert!(
            page.body.contains("class=\"field-error\""),
            "{path}: the refused filter is named next to its field"
        );
        assert!(page.body.contains("method=\"get\""), "{path}");
    }
    assert_eq!(
        changed(&before, &fingerprint(&app.pool).await),
        [] as [String; 0]
    );
}

#[tokio::test]
async fn staff_forms_refuse_a_nul_and_change_nothing() {
    let app = spawn_app().await;
    let now = app.clock.now();
    let issue: i64 = sqlx::query_scalar(
        "insert into issues (source, external_id, iid, project_path, title, state, created_at)
         values ('tracker', 1, 1, 'nobody/project', 'Runner fails', 'open', $1) returning id",
    )
    .bind(now)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let staff = app.staff_user("sam@alliance.test", StaffRole::Admin).await;
    let before = fingerprint(&app.pool).await;

    staff.get("/admin/agreements").await;
    let page = staff
        .post(
            "/admin/agreements",
            &[("version", "2027-01\0"), ("body", "The agreement.")],
        )
        .await;
    assert_refused_next_to_field(&page, StatusCode::UNPROCESSABLE_ENTITY, "Version", "U+0000");

    staff.get(&format!("/admin/issues/{issue}")).await;
    let page = staff
        .post(
            &format!("/admin/issues/{issue}/assign"),
            &[("partner", "Acme\0"), ("severity", "2")],
        )
        .await;
    assert_refused_next_to_field(&page, StatusCode::UNPROCESSABLE_ENTITY, "Partner", "U+0000");

    staff.get("/admin/issues/new").await;
    let page = staff
        .post(
            "/admin/issues/new",
            &[
                ("title", "Broken\0"),
                ("description", "Line one\nline two"),
                ("url", "https://gitlab.com/acme/x/-/issues/1"),
                ("project_path", "acme/x"),
                ("partner", ""),
                ("severity", "2"),
            ],
        )
        .await;
    assert_refused_next_to_field(&page, StatusCode::UNPROCESSABLE_ENTITY, "Title", "U+0000");

    assert_eq!(
        changed(&before, &fingerprint(&app.pool).await),
        [] as [String; 0]
    );
}

#[tokio::test]
async fn a_listing_with_a_nul_in_a_text_field_is_refused_and_asks_for_the_file_again() {
    let app = spawn_app().await;
    let (owner, _, _) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    let before = fingerprint(&app.pool).await;

    let page = submit(
        &owner,
        &with(fields("Acme"), "use_cases", "Audits\0 and more"),
        &[("logo", "logo.png", "image/png", tiny_png())],
    )
    .await;

    assert_refused_next_to_field(
        &page,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Use cases",
        "U+0000",
    );
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(page.body.contains("type=\"file\""));
    assert!(page.body.contains("Choose the file again"));
    assert_eq!(
        changed(&before, &fingerprint(&app.pool).await),
        [] as [String; 0]
    );
}

#[tokio::test]
async fn json_with_a_control_character_gets_a_problem_pointing_at_the_string() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let app: TestApp = spawn_app_with(Spawn {
        extra_routes: axum::Router::new().route(
            "/test/json",
            post(move |Json(v): Json<serde_json::Value>| {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    Json(v)
                }
            }),
        ),
        ..Spawn::default()
    })
    .await;
    let agent = app.agent();
    let token = csrf_in(&agent.get("/login").await.body).unwrap();
    let send = |body: &'static str| {
        agent
            .client
            .post(agent.url("/test/json"))
            .header("content-type", "application/json")
            .header("x-csrf-token", token.clone())
            .body(body)
            .send()
    };

    let res = send(r#"{"body":"fine\nand\ttabbed","tags":["ok"]}"#)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let res = send(r#"{"body":"x\u0000y","tags":["ok","\u001b"]}"#)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/body", "/tags/1"]);
    assert!(
        problem["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("U+0000")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the handler never ran");
}

#[tokio::test]
async fn a_nul_in_an_address_is_not_found() {
    let app = spawn_app().await;
    for path in [
        "/partners/acme%00corp",
        "/calendar/x%00.ics",
        "/static/app%00.css",
    ] {
        let page = app.agent().get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn refused_input_in_a_browser() {
    let app = spawn_app().await;
    let browser = crate::browser::Browser::launch(&app.address).await;

    // A name pasted with a NUL in it comes back marked, cleaned.
    browser.goto("/signup").await;
    browser.paste("Your name", "Grace\u{0} Hopper").await;
    browser.fill("Work email address", "grace@acme.test").await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Create account").await;
    browser.assert_text_contains("Check what you entered").await;
    browser
        .assert_text_contains("contains a NUL character (U+0000)")
        .await;
    assert_eq!(browser.field_value("Name").await, "Grace Hopper");
    browser.screenshot("input-refused").await;
    browser.assert_accessible("input-refused").await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Send again").await;
    browser.assert_path("/signup/check-email").await;

    // A search address with a control character in it.
    browser.goto("/partners?q=acme%1B").await;
    browser
        .assert_text_contains("Check the address of this page")
        .await;
    browser.screenshot("input-refused-query").await;
    browser.assert_accessible("input-refused-query").await;
    browser.click_button("Show the page").await;
    browser.assert_path("/partners").await;
}
