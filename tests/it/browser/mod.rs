//! Browser journeys' harness: headless Chromium driven over WebDriver
//! (fantoccini) against the real portal, finding fields by their labels and
//! buttons and links by their text, as a person does.
//!
//! Each [`Browser`] starts its own `chromedriver` on a free loopback port with
//! a fresh profile, and stops both when dropped, so journeys run in parallel
//! like every other test; at most [`MAX_BROWSERS`] at once.

mod axe;
mod harness;
mod keyboard;
mod tools;

use std::{
    fmt::Display,
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element, error::CmdError, wd};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit};

use tools::Tools;

/// Chromium is heavy and the machine may have two cores: more browsers at
/// once only make each one slower.
pub const MAX_BROWSERS: usize = 2;
static BROWSERS: Semaphore = Semaphore::const_new(MAX_BROWSERS);

const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
];

/// The viewport a journey runs in, and the widths screenshots are taken at.
const DESKTOP: (u32, u32) = (1280, 900);
const SCREENSHOT_WIDTHS: [u32; 2] = [1280, 390];
/// Full-page screenshots are cut off below this height.
const MAX_SCREENSHOT_HEIGHT: u32 = 4000;

/// How long a page load, a script (axe) or starting the driver may take.
const PAGE_LOAD_TIMEOUT: Duration = Duration::from_secs(30);
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a click waits for the page it leads to.
const NAVIGATION_WAIT: Duration = Duration::from_secs(10);
/// How long a journey waits for one of the [`MAX_BROWSERS`] slots.
const SLOT_TIMEOUT: Duration = Duration::from_secs(300);

/// One headless Chromium, pointed at one running portal. A test holds at
/// most one at a time (two people: one after the other), or tests that each
/// hold one while waiting for a second could wait on each other.
pub struct Browser {
    client: Client,
    base_url: String,
    // Dropped in this order: the driver quits Chromium, then its profile goes.
    _driver: Driver,
    _profile: tempfile::TempDir,
    _permit: SemaphorePermit<'static>,
}

impl Browser {
    /// A fresh browser for the portal at `base_url` (`TestApp::address`).
    /// Panics saying how to install Chromium when it is missing.
    pub async fn launch(base_url: &str) -> Self {
        let tools = Tools::from_env();
        let permit = tokio::time::timeout(SLOT_TIMEOUT, BROWSERS.acquire())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no browser slot free after {SLOT_TIMEOUT:?}: does a test hold one Browser \
                     while launching another? Drop the first before."
                )
            })
            .expect("the semaphore is never closed");
        let profile = tempfile::Builder::new()
            .prefix("pp-chromium-")
            .tempdir()
            .expect("a temporary Chromium profile");
        let (driver, client) = start_session(&tools, profile.path()).await;
        let browser = Self {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            _driver: driver,
            _profile: profile,
            _permit: permit,
        };
        let timeouts =
            wd::TimeoutConfiguration::new(Some(SCRIPT_TIMEOUT), Some(PAGE_LOAD_TIMEOUT), None);
        check(
            browser.client.update_timeouts(timeouts).await,
            "setting timeouts",
        );
        browser.resize(DESKTOP.0, DESKTOP.1).await;
        browser
    }

    /// Opens `path` on the portal and waits for the page to load.
    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base_url);
        check(self.client.goto(&url).await, format_args!("opening {url}"));
    }

    /// The path of the page shown (`/partners`), without query or fragment.
    pub async fn current_path(&self) -> String {
        let url = check(self.client.current_url().await, "reading the URL");
        url.path().to_owned()
    }

    /// Waits (up to 5 s) until the browser shows `path`; fails otherwise.
    pub async fn assert_path(&self, path: &str) {
        let mut now = String::new();
        for _ in 0..50 {
            now = self.current_path().await;
            if now == path {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!(
            "expected to be on {path}, but the browser shows {now}:\n{}",
            self.text().await
        );
    }

    /// The page's visible text (retried while a new page replaces the old).
    pub async fn text(&self) -> String {
        let mut last_error = None;
        for _ in 0..50 {
            let read = async {
                let body = self.client.find(Locator::Css("body")).await?;
                body.text().await
            };
            match read.await {
                Ok(text) => return text,
                Err(e) => last_error = Some(e),
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("browser: reading the page's text: {last_error:?}")
    }

    /// Fails unless the page's visible text comes to contain `needle`
    /// (waiting up to 5 s for a navigation to finish).
    pub async fn assert_text_contains(&self, needle: &str) {
        let mut text = String::new();
        for _ in 0..50 {
            text = self.text().await;
            if text.contains(needle) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!(
            "expected {needle:?} on {}; the page says:\n{text}",
            self.current_path().await
        );
    }

    /// Types `value` into the field whose label reads `field` (or, failing
    /// that, the field the CSS selector `field` finds), replacing what was
    /// there. A `<select>` gets the option whose text is `value`.
    pub async fn fill(&self, field: &str, value: &str) {
        let element = self.field(field).await;
        let tag = check(element.tag_name().await, "reading a field's tag");
        if tag.eq_ignore_ascii_case("select") {
            check(
                element.select_by_label(value).await,
                format_args!("choosing {value:?} in {field:?}"),
            );
        } else {
            check(element.clear().await, format_args!("clearing {field:?}"));
            check(
                element.send_keys(value).await,
                format_args!("typing into {field:?}"),
            );
        }
    }

    /// Puts `value` into the field labelled `field` as pasting would, with
    /// characters no keyboard types (a NUL copied from another program).
    pub async fn paste(&self, field: &str, value: &str) {
        let element = self.field(field).await;
        let element = serde_json::to_value(&element).expect("an element reference");
        check(
            self.client
                .execute(
                    "arguments[0].value = arguments[1];",
                    vec![element, json!(value)],
                )
                .await,
            format_args!("pasting into {field:?}"),
        );
    }

    /// What the field labelled `field` (or found by that CSS selector) holds.
    pub async fn field_value(&self, field: &str) -> String {
        let element = self.field(field).await;
        check(
            element.prop("value").await,
            format_args!("reading {field:?}"),
        )
        .unwrap_or_default()
    }

    /// Clicks the visible button whose text (or `value`) is `text`, and waits
    /// for the page it leads to.
    pub async fn click_button(&self, text: &str) {
        let t = xpath_literal(text);
        let xpath = format!(
            "//button[normalize-space()={t}] | \
             //input[(@type='submit' or @type='button') and @value={t}]"
        );
        let button = self.visible(&xpath, format_args!("button {text:?}")).await;
        let page = self.page_root().await;
        check(button.click().await, format_args!("clicking {text:?}"));
        self.wait_for_next_page(page).await;
    }

    /// Clicks the visible link whose text is `text`, and waits for the page.
    pub async fn click_link(&self, text: &str) {
        let xpath = format!("//a[normalize-space()={}]", xpath_literal(text));
        let link = self.visible(&xpath, format_args!("link {text:?}")).await;
        let page = self.page_root().await;
        check(link.click().await, format_args!("clicking {text:?}"));
        self.wait_for_next_page(page).await;
    }

    /// The `<html>` element of the page shown now.
    async fn page_root(&self) -> Element {
        check(
            self.client.find(Locator::Css("html")).await,
            "finding <html>",
        )
    }

    /// A click returns once the browser has dispatched it, possibly before
    /// the page it leads to (a form post and its redirect) has replaced this
    /// one: waits until `old` is gone and the new page has loaded. A click
    /// that leads nowhere gives up waiting after [`NAVIGATION_WAIT`].
    async fn wait_for_next_page(&self, old: Element) {
        let deadline = Instant::now() + NAVIGATION_WAIT;
        while Instant::now() < deadline {
            match old.tag_name().await {
                Err(e) if e.is_stale_element_reference() => break,
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        while Instant::now() < deadline {
            let state = self
                .client
                .execute("return document.readyState;", vec![])
                .await;
            if matches!(state, Ok(Value::String(s)) if s == "complete") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Ticks the checkbox or radio button whose label reads `label`, as a
    /// person clicks its label.
    pub async fn tick(&self, label: &str) {
        let l = xpath_literal(label);
        let xpath = format!("//label[normalize-space()={l}]");
        let element = self.visible(&xpath, format_args!("label {label:?}")).await;
        let input = match check(element.attr("for").await, "reading a label") {
            Some(id) => check(
                self.client.find(Locator::Id(&id)).await,
                "finding a labelled input",
            ),
            None => check(
                element.find(Locator::Css("input")).await,
                format_args!("the input of {label:?}"),
            ),
        };
        if !check(input.is_selected().await, "reading a checkbox") {
            check(element.click().await, format_args!("ticking {label:?}"));
        }
    }

    /// Clicks the visible element (a `<summary>`, say) whose text is `text`.
    pub async fn click_text(&self, text: &str) {
        let xpath = format!("//*[normalize-space()={}]", xpath_literal(text));
        let element = self.visible(&xpath, format_args!("element {text:?}")).await;
        check(element.click().await, format_args!("clicking {text:?}"));
    }

    /// Saves `screenshots/NAME-1280.png` and `NAME-390.png`: the whole page
    /// (up to 4000 px high) at each width. The window is 1280 wide after.
    pub async fn screenshot(&self, name: &str) {
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "a screenshot name is lowercase letters, digits and dashes: {name:?}"
        );
        let dir = tools::screenshot_dir();
        for width in SCREENSHOT_WIDTHS {
            self.resize(width, DESKTOP.1).await;
            let height = self
                .script_u32("return Math.ceil(document.documentElement.scrollHeight);")
                .await
                .clamp(DESKTOP.1, MAX_SCREENSHOT_HEIGHT);
            self.resize(width, height).await;
            let png = check(self.client.screenshot().await, "taking a screenshot");
            let file = dir.join(format!("{name}-{width}.png"));
            std::fs::write(&file, png)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
        }
        self.resize(DESKTOP.0, DESKTOP.1).await;
    }

    /// Runs axe-core on the page; fails listing every serious or critical
    /// violation (rule, help, elements). `page` names the page in the report.
    /// Every finding, blocking or not, is also appended to `axe.tsv` beside
    /// the screenshots.
    pub async fn assert_accessible(&self, page: &str) {
        let loaded = check(
            self.client
                .execute("return typeof window.axe === 'object';", vec![])
                .await,
            "looking for axe",
        );
        if loaded != Value::Bool(true) {
            check(
                self.client.execute(tools::axe_source(), vec![]).await,
                "injecting axe-core",
            );
        }
        let raw = check(
            self.client.execute_async(axe::RUN_AXE, vec![]).await,
            "running axe-core",
        );
        let outcome: axe::Outcome = serde_json::from_value(raw)
            .unwrap_or_else(|e| panic!("axe-core answered something unexpected: {e}"));
        if let Some(error) = outcome.error {
            panic!("axe-core failed on the {page} page: {error}");
        }
        let path = self.current_path().await;
        axe::log(&tools::screenshot_dir(), &path, page, &outcome.violations);
        if let Some(report) = axe::blocking_report(page, &outcome.violations) {
            panic!("{report}");
        }
    }

    /// Sets the viewport (not the window, which may have borders) to
    /// `width` × `height` CSS pixels.
    async fn resize(&self, width: u32, height: u32) {
        check(
            self.client.set_window_size(width, height).await,
            "resizing the window",
        );
        let inner = check(
            self.client
                .execute("return [window.innerWidth, window.innerHeight];", vec![])
                .await,
            "measuring the viewport",
        );
        let measured = |i: usize| inner[i].as_u64().map_or(0, |v| v as u32);
        let (w, h) = (measured(0), measured(1));
        if (w, h) != (width, height) {
            check(
                self.client
                    .set_window_size(
                        width + width.saturating_sub(w),
                        height + height.saturating_sub(h),
                    )
                    .await,
                "resizing the window",
            );
        }
    }

    async fn script_u32(&self, script: &str) -> u32 {
        let value = check(self.client.execute(script, vec![]).await, script);
        value
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or_else(|| panic!("{script} returned {value}"))
    }

    /// The field labelled `field`, else the one the selector `field` finds.
    async fn field(&self, field: &str) -> Element {
        // A label's own text: the whole of it, or the text before a control
        // it wraps (whose options would otherwise join in).
        let f = xpath_literal(field);
        let xpath = format!("//label[normalize-space()={f} or normalize-space(text())={f}]");
        if let Ok(label) = self.client.find(Locator::XPath(&xpath)).await {
            let target = match check(label.attr("for").await, "reading a label") {
                Some(id) => self.client.find(Locator::Id(&id)).await,
                None => label.find(Locator::Css("input, select, textarea")).await,
            };
            return target.unwrap_or_else(|_| {
                panic!("the label {field:?} is not attached to a field (no for=, nothing inside)")
            });
        }
        match self.client.find(Locator::Css(field)).await {
            Ok(element) => element,
            Err(_) => panic!(
                "no field labelled {field:?} (nor matching that CSS selector) on {}",
                self.current_path().await
            ),
        }
    }

    /// The first displayed element `xpath` finds; panics naming `what`.
    async fn visible(&self, xpath: &str, what: impl Display) -> Element {
        let found = check(
            self.client.find_all(Locator::XPath(xpath)).await,
            format_args!("looking for the {what}"),
        );
        for element in found {
            if element.is_displayed().await.unwrap_or(false) {
                return element;
            }
        }
        panic!("no visible {what} on {}", self.current_path().await)
    }
}

/// The result of a WebDriver command, or a panic saying what was being done.
fn check<T>(result: Result<T, CmdError>, doing: impl Display) -> T {
    result.unwrap_or_else(|e| panic!("browser: {doing}: {e}"))
}

/// `text` as an XPath string literal (XPath 1.0 has no escapes).
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// A `chromedriver` process of this browser's own.
struct Driver {
    child: Child,
    port: u16,
    session: Option<String>,
}

/// Starts chromedriver on a free port and opens a Chromium session on it;
/// tries another port if the one picked was taken meanwhile.
async fn start_session(tools: &Tools, profile: &Path) -> (Driver, Client) {
    let log = profile.join("chromedriver.log");
    let mut capabilities = wd::Capabilities::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
    args.push(format!(
        "--user-data-dir={}",
        profile.join("data").display()
    ));
    args.push(format!("--window-size={},{}", DESKTOP.0, DESKTOP.1));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": tools.chromium, "args": args }),
    );

    for _ in 0..3 {
        let port = free_port();
        let child = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Same process group as the tests: Ctrl-C stops it and Chromium.
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", tools.chromedriver.display()));
        let mut driver = Driver {
            child,
            port,
            session: None,
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + DRIVER_START_TIMEOUT;
        loop {
            if let Ok(Some(_)) = driver.child.try_wait() {
                break; // exited: most likely the port was taken; try another
            }
            let connecting = ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await;
            match connecting {
                Ok(client) => {
                    driver.session = check(client.session_id().await, "reading the session id");
                    return (driver, client);
                }
                // Not listening yet.
                Err(
                    fantoccini::error::NewSessionError::FailedC(_)
                    | fantoccini::error::NewSessionError::Failed(_),
                ) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!(
                    "cannot open a Chromium session through chromedriver: {e}\n{}",
                    driver_log(&log)
                ),
            }
        }
    }
    panic!(
        "chromedriver did not start (three ports tried)\n{}",
        driver_log(&log)
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn driver_log(path: &Path) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(20).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    format!(
        "chromedriver log ({}):\n{}",
        path.display(),
        tail.join("\n")
    )
}

impl Drop for Driver {
    /// Ends the session (Chromium quits, its profile unlocks), then stops
    /// chromedriver. Synchronous, so it also runs when a journey panics.
    fn drop(&mut self) {
        if let Some(session) = &self.session {
            delete_session(self.port, session);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `DELETE /session/{id}` over a plain socket: Drop cannot await.
fn delete_session(port: u16, session: &str) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        // The answer comes once Chromium has quit; chromedriver may keep the
        // connection open after it, so the first bytes are enough.
        let _ = stream.read(&mut [0; 512]);
    }
}

#[cfg(test)]
mod tests {
    use super::xpath_literal;

    #[test]
    fn xpath_literals_quote_any_text() {
        let cases = [
            ("Sign in", "'Sign in'"),
            ("Partner's name", "\"Partner's name\""),
            ("it's \"quoted\"", "concat('it', \"'\", 's \"quoted\"')"),
        ];
        for (text, literal) in cases {
            assert_eq!(xpath_literal(text), literal, "{text}");
        }
    }
}
