//! The keyboard, as a person without a mouse uses it: Tab moves the focus,
//! typing goes to the focused field, Enter follows a link or submits.

use fantoccini::{Locator, key::Key};
use serde_json::Value;

use super::{Browser, check};

/// What has the focus: enough to tell a person where they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Focused {
    /// Lowercase tag: `a`, `input`, `button`, …
    pub tag: String,
    /// The element's text, else its label's (fields), with its white space
    /// collapsed.
    pub text: String,
    /// `id`, if any.
    pub id: String,
    /// Whether the focus is drawn: `:focus-visible` applies and paints an
    /// outline or a box shadow.
    pub ring_visible: bool,
    /// Whether the element lies inside the viewport (a skip link shows).
    pub on_screen: bool,
    /// Whether it is `<main>` or inside it.
    pub in_main: bool,
    /// Checked (radio buttons, checkboxes).
    pub checked: bool,
}

/// Reads the focused element, the label of a field, and whether the focus
/// indicator is painted (`:focus-visible` styles apply to keyboard focus).
const READ_FOCUS: &str = r#"
const el = document.activeElement;
if (!el || el === document.body) return null;
const style = getComputedStyle(el);
const transparent = style.outlineColor === "transparent" || /rgba\(.*,\s*0\)$/.test(style.outlineColor);
const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0 && !transparent;
const shadow = style.boxShadow && style.boxShadow !== "none";
let text = (el.innerText || el.value || "").trim();
if (el.labels && el.labels.length) text = el.labels[0].innerText.trim();
text = text.replace(/\s+/g, " ");
const rect = el.getBoundingClientRect();
const onScreen = rect.width > 0 && rect.height > 0 && rect.left >= 0 && rect.top >= 0
  && rect.right <= window.innerWidth && rect.bottom <= window.innerHeight;
return { tag: el.tagName.toLowerCase(), text, id: el.id || "", ring: outline || !!shadow,
         matches: el.matches(":focus-visible"), onScreen, inMain: !!el.closest("main"),
         checked: !!el.checked };
"#;

impl Browser {
    /// Presses Tab once.
    pub async fn press_tab(&self) {
        self.press(&Key::Tab).await;
    }

    /// Presses Enter on whatever has the focus, and waits for the page it
    /// leads to (submitting a form, following a link to another page).
    pub async fn press_enter(&self) {
        let page = self.page_root().await;
        self.press(&Key::Enter).await;
        self.wait_for_next_page(page).await;
    }

    /// Presses Enter where it stays on the page (a link to `#main`).
    pub async fn press_enter_in_page(&self) {
        self.press(&Key::Enter).await;
    }

    /// Presses the down arrow (the next radio button of a group).
    pub async fn press_down(&self) {
        self.press(&Key::Down).await;
    }

    /// Types `text` into whatever has the focus.
    pub async fn type_text(&self, text: &str) {
        self.press(text).await;
    }

    /// The focused element, or `None` when nothing (the page) has it.
    pub async fn focused(&self) -> Option<Focused> {
        let value = check(
            self.client.execute(READ_FOCUS, vec![]).await,
            "reading the focus",
        );
        if value.is_null() {
            return None;
        }
        let s = |k: &str| value[k].as_str().unwrap_or_default().to_owned();
        Some(Focused {
            tag: s("tag"),
            text: s("text"),
            id: s("id"),
            ring_visible: value["ring"] == Value::Bool(true) && value["matches"] == true,
            on_screen: value["onScreen"] == true,
            in_main: value["inMain"] == true,
            checked: value["checked"] == true,
        })
    }

    /// Presses Tab until the focus is on an element whose text (or field
    /// label) is `text`; fails after 60 presses, listing what was passed.
    pub async fn tab_to(&self, text: &str) -> Focused {
        let mut passed = Vec::new();
        for _ in 0..60 {
            self.press_tab().await;
            if let Some(f) = self.focused().await {
                if f.text == text {
                    return f;
                }
                passed.push(format!("{} {:?}", f.tag, f.text));
            }
        }
        panic!(
            "Tab never reached {text:?} on {}; it passed: {}",
            self.current_path().await,
            passed.join(", ")
        )
    }

    /// Sends keys to the focused element (the document when nothing is).
    async fn press(&self, keys: &str) {
        let target = match self.client.active_element().await {
            Ok(element) => element,
            Err(_) => check(
                self.client.find(Locator::Css("body")).await,
                "finding <body>",
            ),
        };
        check(
            target.send_keys(keys).await,
            format_args!("pressing {keys:?}"),
        );
    }
}
