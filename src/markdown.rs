//! GitLab-flavoured Markdown (issue descriptions, comments, partner
//! updates) turned into HTML that is safe to put on a page: comrak parses
//! it with GitHub's extensions (tables, task lists, strikethrough,
//! autolinks) and shows raw HTML as text, the tree is rewritten so the
//! portal never loads anything from elsewhere (an image becomes a link to
//! it) and GitLab's relative links (uploads, other issues) point at GitLab,
//! and ammonia's allow-list keeps only harmless tags and attributes.
//! Rendered once when the text arrives, not on every page view.

use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};
use comrak::{
    Arena, Options,
    nodes::{NodeLink, NodeValue},
};
use url::Url;

fn options() -> Options<'static> {
    let mut options = Options::default();
    options.extension.strikethrough = true;
    options.extension.table = true;
    options.extension.autolink = true;
    options.extension.tasklist = true;
    options.render.github_pre_lang = false;
    // Raw HTML in the text is shown as the text it is (`<script>` reads as
    // "<script>"), never interpreted; the sanitiser then checks what the
    // Markdown itself made.
    options.render.escape = true;
    options
}

/// What the sanitiser lets through: ammonia's defaults without images and
/// image maps.
fn sanitiser(base: Option<&Url>) -> Builder<'static> {
    let mut builder = Builder::default();
    builder
        .rm_tags(["img", "map", "area"])
        .link_rel(Some("nofollow noopener noreferrer"))
        .url_relative(match base {
            Some(base) => UrlRelative::RewriteWithBase(base.clone()),
            None => UrlRelative::Deny,
        });
    builder
}

static NO_BASE: LazyLock<Builder<'static>> = LazyLock::new(|| sanitiser(None));

/// `text` as safe HTML. `project` is the GitLab project the text was
/// written in (`https://gitlab.com/acme-corp/runner`): relative links are
/// read against it; without one they are dropped.
pub fn render(text: &str, project: Option<&str>) -> String {
    let project = project
        .and_then(|p| Url::parse(&format!("{}/", p.trim_end_matches('/'))).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    let options = options();
    let arena = Arena::new();
    let root = comrak::parse_document(&arena, text, &options);
    let mut comments = Vec::new();
    for node in root.descendants() {
        let value = std::mem::replace(&mut node.data.borrow_mut().value, NodeValue::Document);
        // HTML comments (issue templates are full of them) are hidden on
        // GitLab; they are here too, rather than shown as text.
        let comment = match &value {
            NodeValue::HtmlBlock(block) => block.literal.trim_start().starts_with("<!--"),
            NodeValue::HtmlInline(html) => html.starts_with("<!--"),
            _ => false,
        };
        if comment {
            comments.push(node);
        }
        let value = match value {
            // The portal loads nothing from elsewhere: an image is a link
            // to it, named by its alt text.
            NodeValue::Image(link) => {
                if node.first_child().is_none() {
                    node.append(arena.alloc(NodeValue::Text("image".into()).into()));
                }
                NodeValue::Link(at_gitlab(link, project.as_ref()))
            }
            NodeValue::Link(link) => NodeValue::Link(at_gitlab(link, project.as_ref())),
            // A task list item reads "☑ done" / "☐ to do": a checkbox no
            // one can tick would be a form field without a purpose.
            NodeValue::TaskItem(task) => {
                let mark = if task.symbol.is_some() {
                    "☑ "
                } else {
                    "☐ "
                };
                let text = arena.alloc(NodeValue::Text(mark.into()).into());
                match node.first_child() {
                    Some(first) if matches!(first.data.borrow().value, NodeValue::Paragraph) => {
                        first.prepend(text)
                    }
                    _ => node.prepend(text),
                }
                let list = node
                    .parent()
                    .and_then(|p| match &p.data.borrow().value {
                        NodeValue::List(list) => Some(*list),
                        _ => None,
                    })
                    .unwrap_or_default();
                NodeValue::Item(list)
            }
            other => other,
        };
        node.data.borrow_mut().value = value;
    }
    comments.into_iter().for_each(|node| node.detach());
    let mut html = String::new();
    comrak::format_html(root, &options, &mut html).expect("formatting to a String cannot fail");
    match &project {
        Some(base) => sanitiser(Some(base)).clean(&html).to_string(),
        None => NO_BASE.clean(&html).to_string(),
    }
}

/// GitLab's uploads are linked as `/uploads/…`, relative to the project.
fn at_gitlab(mut link: Box<NodeLink>, project: Option<&Url>) -> Box<NodeLink> {
    if let Some(project) = project
        && link.url.starts_with("/uploads/")
        && let Ok(url) = project.join(link.url.trim_start_matches('/'))
    {
        link.url = url.to_string();
    }
    link
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROJECT: Option<&str> = Some("https://gitlab.com/acme-corp/runner");

    #[test]
    fn gitlab_flavoured_markdown_renders() {
        let html = render(
            "**bold** ~~gone~~ https://example.com\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n```rust\nfn main() {}\n```",
            PROJECT,
        );
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("<del>gone</del>"), "{html}");
        assert!(html.contains("<a href=\"https://example.com\""), "{html}");
        assert!(
            html.contains("<table>") && html.contains("<td>2</td>"),
            "{html}"
        );
        assert!(
            html.contains("<li>☑ done</li>") && html.contains("<li>☐ todo</li>"),
            "{html}"
        );
        assert!(!html.contains("<input"), "{html}");
        assert!(html.contains("<pre><code>fn main() {}"), "{html}");
    }

    #[test]
    fn raw_html_is_shown_as_text_never_run() {
        let html = render(
            "<script>alert(1)</script> <a href=\"javascript:alert(2)\" onclick=\"x()\">y</a> <b onmouseover=\"x()\">b</b> <iframe src=\"https://evil.test\"></iframe> <img src=\"https://evil.test/x.png\">",
            PROJECT,
        );
        for bad in ["<script", "<a href=\"javascript", "<b ", "<iframe", "<img"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("&lt;iframe"), "{html}");
    }

    #[test]
    fn a_javascript_link_in_markdown_is_not_a_link() {
        let html = render("[z](javascript:alert(3)) <javascript:alert(4)>", PROJECT);
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(html.contains(">z</a>") || html.contains("z"), "{html}");
    }

    #[test]
    fn images_become_links_and_nothing_is_loaded() {
        let html = render(
            "![the stack trace](/uploads/abc123/trace.png) ![](https://evil.test/pixel.gif)",
            PROJECT,
        );
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains(
                "<a href=\"https://gitlab.com/acme-corp/runner/uploads/abc123/trace.png\" rel=\"nofollow noopener noreferrer\">the stack trace</a>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"https://evil.test/pixel.gif\" rel=\"nofollow noopener noreferrer\">image</a>"),
            "{html}"
        );
    }

    #[test]
    fn relative_links_point_at_gitlab_or_are_dropped_without_a_project() {
        let html = render(
            "[upload](/uploads/f/log.txt) [other issue](/acme-corp/runner/-/issues/3) [doc](docs/setup.md)",
            PROJECT,
        );
        assert!(
            html.contains("href=\"https://gitlab.com/acme-corp/runner/uploads/f/log.txt\""),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://gitlab.com/acme-corp/runner/-/issues/3\""),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://gitlab.com/acme-corp/runner/docs/setup.md\""),
            "{html}"
        );
        let html = render("[upload](/uploads/f/log.txt)", None);
        assert!(!html.contains("href"), "{html}");
        assert!(html.contains("upload"), "{html}");
    }

    #[test]
    fn html_comments_are_hidden_as_gitlab_hides_them() {
        let html = render(
            "<!-- Describe the bug -->\nFixed. <!-- inline -->\n\n<!-- partner-portal update 4 -->",
            PROJECT,
        );
        assert_eq!(html.trim(), "<p>Fixed. </p>");
    }
}
