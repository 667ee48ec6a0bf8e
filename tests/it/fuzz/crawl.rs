//! Finding what to fuzz the way a visitor finds it: every form and every
//! link with a query string on the pages a principal can reach from a few
//! starting points. New forms are fuzzed without anyone listing them.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use crate::agent::Agent;

/// A form or a query of the portal.
#[derive(Debug, Clone)]
pub struct Target {
    /// `GET` or `POST`.
    pub method: &'static str,
    pub action: String,
    pub multipart: bool,
    /// Its fields as the page fills them: name and value, in order.
    pub fields: Vec<(String, String)>,
}

impl Target {
    /// Forms that differ only by an id are the same handler.
    fn key(&self) -> String {
        let shape: String = self
            .action
            .chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect();
        let mut names: Vec<&str> = self.fields.iter().map(|(k, _)| k.as_str()).collect();
        names.dedup();
        format!("{} {shape} {}", self.method, names.join(","))
    }
}

/// Actions that would end the principal's session or its standing, which
/// would leave the rest of the walk signed out.
const SPARED: &[&str] = &[
    "/logout",
    "/end",
    "/account/password",
    "/team/leave",
    "/team/transfer-ownership",
    "/disable",
    "/login/second-factor",
    "/application/delete",
];

/// Pages not to open while walking: downloads and images.
fn not_a_page(path: &str) -> bool {
    path.ends_with(".csv")
        || path.ends_with(".ics")
        || path.contains("/logo")
        || path.starts_with("/static/")
        || path.starts_with("/api/")
}

/// Walks up to `max_pages` pages from `seeds` and returns the forms and
/// queries found, one per handler and set of fields.
pub async fn walk(agent: &Agent, seeds: &[&str], max_pages: usize) -> Vec<Target> {
    let mut queue: VecDeque<String> = seeds.iter().map(|s| s.to_string()).collect();
    let mut seen_pages: HashSet<String> = HashSet::new();
    let mut shapes: HashMap<String, usize> = HashMap::new();
    let mut targets: BTreeMap<String, Target> = BTreeMap::new();
    for seed in seeds {
        if let Some(target) = query_target(seed) {
            targets.entry(target.key()).or_insert(target);
        }
    }
    while let Some(path) = queue.pop_front() {
        if seen_pages.len() >= max_pages {
            break;
        }
        // A few pages per shape (`/issues/1`, `/issues/2`): one object in
        // another state may show other forms.
        let shape: String = path
            .chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect();
        let of_shape = shapes.entry(shape).or_default();
        if *of_shape >= PAGES_PER_SHAPE || !seen_pages.insert(path.clone()) {
            continue;
        }
        *of_shape += 1;
        let page = agent.get(&path).await;
        if std::env::var("FUZZ_LIST").is_ok() {
            println!("    page {path}: {}", page.status);
        }
        if !page.status.is_success() {
            continue;
        }
        for target in forms(&page.body) {
            if SPARED.iter().any(|s| target.action.contains(s)) {
                continue;
            }
            targets.entry(target.key()).or_insert(target);
        }
        for link in links(&page.body) {
            if let Some(target) = query_target(&link) {
                targets.entry(target.key()).or_insert(target);
            }
            if !not_a_page(link.split('?').next().unwrap_or_default()) {
                queue.push_back(link);
            }
        }
    }
    targets.into_values().collect()
}

/// Pages of one shape opened at most.
const PAGES_PER_SHAPE: usize = 3;

/// The query of a link, as a target.
fn query_target(link: &str) -> Option<Target> {
    let (path, query) = link.split_once('?')?;
    Some(Target {
        method: "GET",
        action: path.to_owned(),
        multipart: false,
        fields: url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    })
}

/// The value of attribute `name` in the start tag `tag`, unescaped.
fn attr(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[at..].find('"')?;
    Some(unescape(&tag[at..at + end]))
}

pub fn unescape(text: &str) -> String {
    text.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// Same-site links: paths starting with one `/`.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(unescape)
        .filter(|href| href.starts_with('/') && !href.starts_with("//"))
        .map(|href| href.split('#').next().unwrap_or_default().to_owned())
        .collect()
}

/// Every form of a page with its fields as the page fills them.
fn forms(html: &str) -> Vec<Target> {
    let mut out = Vec::new();
    for chunk in html.split("<form").skip(1) {
        let Some(open_end) = chunk.find('>') else {
            continue;
        };
        let open = &chunk[..open_end];
        let body = &chunk[open_end..chunk.find("</form>").unwrap_or(chunk.len())];
        let method = match attr(open, "method").as_deref() {
            Some(m) if m.eq_ignore_ascii_case("post") => "POST",
            _ => "GET",
        };
        let Some(action) = attr(open, "action").filter(|a| a.starts_with('/')) else {
            continue;
        };
        let mut fields = Vec::new();
        let mut radios_seen = HashSet::new();
        for piece in body.split('<').skip(1) {
            let tag = &piece[..piece.find('>').unwrap_or(piece.len())];
            let Some(name) = attr(tag, "name") else {
                continue;
            };
            if tag.starts_with("input ") {
                let kind = attr(tag, "type").unwrap_or_else(|| "text".into());
                let value = attr(tag, "value").unwrap_or_default();
                match kind.as_str() {
                    "checkbox" => {
                        fields.push((name, if value.is_empty() { "on".into() } else { value }))
                    }
                    "radio" if radios_seen.insert(name.clone()) => fields.push((name, value)),
                    "radio" | "submit" | "button" | "image" => {}
                    "file" => fields.push((name, String::new())),
                    _ => fields.push((name, value)),
                }
            } else if tag.starts_with("textarea ") {
                let text = &piece[piece.find('>').map_or(piece.len(), |i| i + 1)..];
                fields.push((name, unescape(text)));
            } else if tag.starts_with("select ") {
                let first = piece_after(body, tag)
                    .split("<option")
                    .nth(1)
                    .and_then(|o| attr(o, "value"))
                    .unwrap_or_default();
                fields.push((name, first));
            } else if tag.starts_with("button ")
                && let Some(value) = attr(tag, "value")
            {
                fields.push((name, value));
            }
        }
        let multipart = attr(open, "enctype").is_some_and(|e| e.contains("multipart"));
        // A button may send the same fields elsewhere.
        for other in body.split("formaction=\"").skip(1) {
            let other = unescape(other.split('"').next().unwrap_or_default());
            if other.starts_with('/') {
                out.push(Target {
                    method,
                    action: other,
                    multipart,
                    fields: fields.clone(),
                });
            }
        }
        out.push(Target {
            method,
            action,
            multipart,
            fields,
        });
    }
    out
}

/// The text of `body` after the tag `tag`, up to the end of its select.
fn piece_after<'a>(body: &'a str, tag: &str) -> &'a str {
    let start = body.find(tag).map_or(body.len(), |i| i + tag.len());
    let rest = &body[start..];
    &rest[..rest.find("</select>").unwrap_or(rest.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_their_fields_are_found() {
        let html = r#"<form method="post" action="/team/invitations" class="stack">
          <input type="hidden" name="csrf_token" value="t">
          <input type="email" id="email" name="email" value="a&#38;b">
          <select id="role" name="role"><option value="member">Member</option><option value="admin">Admin</option></select>
          <input type="checkbox" name="stages" value="plan"><input type="checkbox" name="stages" value="create">
          <textarea id="b" name="body">x &#60; y</textarea>
          <button type="submit">Send</button></form>
          <a href="/admin/issues?page=2&#38;sort=newest">next</a>"#;
        let found = forms(html);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].method, "POST");
        let fields: Vec<(&str, &str)> = found[0]
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("csrf_token", "t"),
                ("email", "a&b"),
                ("role", "member"),
                ("stages", "plan"),
                ("stages", "create"),
                ("body", "x < y")
            ]
        );
        assert_eq!(links(html), ["/admin/issues?page=2&sort=newest"]);
    }
}
