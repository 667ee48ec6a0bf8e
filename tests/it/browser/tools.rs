//! Where the browser journeys find Chromium, chromedriver and axe-core, and
//! where they write screenshots. Every path can be overridden from the
//! environment; a missing tool fails the journey with how to install it.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    sync::OnceLock,
};

/// What a journey says when Chromium or its driver is missing.
pub const INSTALL_CHROMIUM: &str = "Chromium is required for the browser journeys: \
apt-get install chromium chromium-driver (or run scripts/test, which installs it)";

/// The browser and its WebDriver server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

impl Tools {
    /// From `CHROMIUM_BIN` / `CHROMEDRIVER_BIN`, else Debian's paths; panics
    /// with [`INSTALL_CHROMIUM`] when either is missing: never skips.
    pub fn from_env() -> Self {
        Self::locate(|name| std::env::var_os(name)).unwrap_or_else(|message| panic!("{message}"))
    }

    /// The same, reading the environment through `env`.
    pub fn locate(env: impl Fn(&str) -> Option<OsString>) -> Result<Self, String> {
        let path =
            |var: &str, default: &str| env(var).map_or_else(|| default.into(), PathBuf::from);
        let tools = Self {
            chromium: path("CHROMIUM_BIN", "/usr/bin/chromium"),
            chromedriver: path("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"),
        };
        let missing: Vec<String> = [&tools.chromium, &tools.chromedriver]
            .into_iter()
            .filter(|p| !p.is_file())
            .map(|p| p.display().to_string())
            .collect();
        if missing.is_empty() {
            Ok(tools)
        } else {
            Err(format!(
                "{INSTALL_CHROMIUM}. Not found: {}",
                missing.join(", ")
            ))
        }
    }
}

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `SCREENSHOT_DIR`, else `screenshots/` at the repository root; created.
pub fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("SCREENSHOT_DIR")
        .map_or_else(|| repo_root().join("screenshots"), PathBuf::from);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create the screenshot folder {}: {e}", dir.display()));
    dir
}

/// The source of `axe.min.js` (`AXE_CORE_JS`, else `node_modules/axe-core/`
/// at the repository root), read once per test process.
pub fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = std::env::var_os("AXE_CORE_JS").map_or_else(
            || repo_root().join("node_modules/axe-core/axe.min.js"),
            PathBuf::from,
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "axe-core is required for the accessibility checks, not readable at {}: {e}. \
                 Run `npm ci` at the repository root (scripts/test does it).",
                path.display()
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &Path)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, OsString)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_os_str().to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn a_missing_chromium_fails_with_how_to_install_it() {
        let driver = tempfile::NamedTempFile::new().unwrap();
        let missing = Path::new("/nonexistent/chromium");
        let message = Tools::locate(env_of(&[
            ("CHROMIUM_BIN", missing),
            ("CHROMEDRIVER_BIN", driver.path()),
        ]))
        .unwrap_err();
        assert!(message.starts_with(INSTALL_CHROMIUM), "{message}");
        assert!(
            message.ends_with("Not found: /nonexistent/chromium"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_chromedriver_fails_with_how_to_install_it() {
        let browser = tempfile::NamedTempFile::new().unwrap();
        let message = Tools::locate(env_of(&[
            ("CHROMIUM_BIN", browser.path()),
            ("CHROMEDRIVER_BIN", Path::new("/nonexistent/chromedriver")),
        ]))
        .unwrap_err();
        assert!(message.starts_with(INSTALL_CHROMIUM), "{message}");
        assert!(message.contains("/nonexistent/chromedriver"), "{message}");
    }

    #[test]
    fn environment_overrides_are_used_when_the_files_exist() {
        let browser = tempfile::NamedTempFile::new().unwrap();
        let driver = tempfile::NamedTempFile::new().unwrap();
        let tools = Tools::locate(env_of(&[
            ("CHROMIUM_BIN", browser.path()),
            ("CHROMEDRIVER_BIN", driver.path()),
        ]))
        .unwrap();
        assert_eq!(
            tools,
            Tools {
                chromium: browser.path().to_owned(),
                chromedriver: driver.path().to_owned(),
            }
        );
    }
}
