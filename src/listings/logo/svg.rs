//! SVG logos: first a streaming check of what was uploaded (well-formed
//! XML with an `<svg>` root, only drawing elements, no scripts, event
//! handlers, entities or references outside the file, and bounded depth and
//! size), then a renderer's parser (`usvg`) reads it into shapes and writes
//! them out again. The re-serialisation is what is stored and served, and
//! it passes the same check, so what is served is exactly what was checked.

use quick_xml::{
    Reader, XmlVersion,
    escape::resolve_predefined_entity,
    events::{BytesStart, Event},
};

use super::LogoProblem;

const SVG_NAMESPACE: &str = "http://www.w3.org/2000/svg";

/// Elements nested deeper than this are refused. Logos exported by design
/// tools nest groups a handful of levels deep (layers, groups, clip paths);
/// deep nesting serves only to make parsers and renderers recurse.
pub const MAX_SVG_DEPTH: usize = 32;
/// Elements a logo may have, counted in the upload and again after the
/// renderer has expanded every `<use>`. A detailed illustrated logo has a
/// few hundred paths; 10,000 leaves ample room and bounds the work of
/// every browser that draws it.
pub const MAX_SVG_ELEMENTS: usize = 10_000;

/// Text is drawn with whatever fonts the viewer has, so a logo must carry
/// its letters as outlines.
const TEXT_ELEMENTS: &[&str] = &["text", "tspan", "textPath"];

/// Drawing elements a logo needs; everything else is refused.
const ALLOWED_ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "defs",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "pattern",
    "marker",
    "use",
    "symbol",
    "title",
    "desc",
    "style",
    "filter",
    "feBlend",
    "feColorMatrix",
    "feComposite",
    "feDropShadow",
    "feFlood",
    "feGaussianBlur",
    "feMerge",
    "feMergeNode",
    "feOffset",
];

/// CSS that fetches or runs something, found in lowercased text.
const FORBIDDEN_CSS: &[&str] = &[
    "@import",
    "image-set(",
    "image(",
    "cross-fade(",
    "element(",
    "expression(",
];

/// The SVG as it will be stored and served: `text` checked, drawn into
/// shapes by usvg, written out again and checked once more.
pub(super) fn clean(text: &str) -> Result<Vec<u8>, LogoProblem> {
    check(text)?;
    super::extent::measure(text)?;
    let options = usvg::Options {
        // Nothing outside the file is ever read: no files, no images.
        resources_dir: None,
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: Box::new(|_, _, _| None),
            resolve_string: Box::new(|_, _| None),
        },
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(text, &options).map_err(|e| match e {
        usvg::Error::InvalidSize => LogoProblem::SvgNoSize,
        // usvg stops at a million nodes, `<use>` drawn out.
        usvg::Error::ElementsLimitReached
        | usvg::Error::ParsingFailed(usvg::roxmltree::Error::NodesLimitReached) => {
            LogoProblem::SvgTooComplex {
                limit: MAX_SVG_ELEMENTS,
            }
        }
        _ => LogoProblem::SvgMalformed,
    })?;
    if elements(tree.root()) > MAX_SVG_ELEMENTS {
        return Err(LogoProblem::SvgTooComplex {
            limit: MAX_SVG_ELEMENTS,
        });
    }
    let written = tree.to_string(&usvg::WriteOptions {
        indent: usvg::Indent::None,
        attributes_indent: usvg::Indent::None,
        ..usvg::WriteOptions::default()
    });
    // usvg writes the size and applies the viewBox to the shapes; the
    // viewBox is put back so that the logo scales to any box it is shown in.
    let size = tree.size();
    let written = written.replacen(
        "<svg ",
        &format!("<svg viewBox=\"0 0 {} {}\" ", size.width(), size.height()),
        1,
    );
    if written.len() > super::MAX_LOGO_BYTES {
        return Err(LogoProblem::SvgTooLargeDrawn {
            kib: written.len().div_ceil(1024),
        });
    }
    check(&written).map_err(|problem| {
        tracing::warn!(%problem, "usvg wrote an SVG its own check refuses");
        LogoProblem::SvgMalformed
    })?;
    Ok(written.into_bytes())
}

/// Nodes of a usvg tree, counting the shapes inside clip paths, masks and
/// patterns, and stopping early once past the limit.
fn elements(group: &usvg::Group) -> usize {
    let mut count = 0usize;
    for node in group.children() {
        count += 1;
        node.subroots(|sub| count += elements(sub));
        if let usvg::Node::Group(inner) = node {
            count += elements(inner);
        }
        if count > MAX_SVG_ELEMENTS {
            break;
        }
    }
    count
}

pub(super) fn check(text: &str) -> Result<(), LogoProblem> {
    let mut reader = Reader::from_str(text);
    let mut depth = 0usize;
    let mut elements = 0usize;
    let mut has_text = false;
    let mut root_seen = false;
    let mut style: Option<String> = None;
    loop {
        let event = reader.read_event().map_err(|_| LogoProblem::SvgMalformed)?;
        match event {
            Event::Decl(_) | Event::Comment(_) => {}
            Event::PI(_) => return Err(LogoProblem::SvgProcessingInstruction),
            Event::DocType(doctype) => {
                let doctype = doctype.xml10_content();
                let about_svg = doctype.trim_start().get(..3);
                return Err(
                    if about_svg.is_some_and(|s| s.eq_ignore_ascii_case("svg")) {
                        LogoProblem::SvgDoctype
                    } else {
                        LogoProblem::NotAnImage
                    },
                );
            }
            Event::Start(_) | Event::Empty(_) if depth == 0 && root_seen => {
                return Err(LogoProblem::SvgMalformed);
            }
            Event::Start(_) | Event::Empty(_) if style.is_some() => {
                return Err(LogoProblem::SvgStyle {
                    construct: "elements inside <style>",
                });
            }
            Event::Start(element) => {
                check_element(&element, !root_seen)?;
                root_seen = true;
                depth += 1;
                elements += 1;
                check_extent(depth, elements)?;
                has_text |= TEXT_ELEMENTS.contains(&element.local_name().as_ref());
                if element.name().as_ref() == "style" {
                    style = Some(String::new());
                }
            }
            Event::Empty(element) => {
                check_element(&element, !root_seen)?;
                root_seen = true;
                elements += 1;
                check_extent(depth + 1, elements)?;
                has_text |= TEXT_ELEMENTS.contains(&element.local_name().as_ref());
            }
            Event::End(_) => {
                depth = depth.checked_sub(1).ok_or(LogoProblem::SvgMalformed)?;
                if let Some(css) = style.take() {
                    check_css(&css)?;
                }
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                if depth == 0 && !content.trim().is_empty() {
                    return Err(LogoProblem::SvgMalformed);
                }
                if let Some(css) = style.as_mut() {
                    css.push_str(&content);
                }
            }
            Event::CData(data) => {
                if depth == 0 {
                    return Err(LogoProblem::SvgMalformed);
                }
                if let Some(css) = style.as_mut() {
                    css.push_str(&data.into_inner());
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => resolve_predefined_entity(&reference.xml10_content())
                        .ok_or(LogoProblem::SvgMalformed)?
                        .to_owned(),
                    Err(_) => return Err(LogoProblem::SvgMalformed),
                };
                if depth == 0 {
                    return Err(LogoProblem::SvgMalformed);
                }
                if let Some(css) = style.as_mut() {
                    css.push_str(&resolved);
                }
            }
            Event::Eof => break,
        }
    }
    if !root_seen {
        return Err(LogoProblem::NotAnImage);
    }
    if depth != 0 {
        return Err(LogoProblem::SvgMalformed);
    }
    if has_text {
        return Err(LogoProblem::SvgText);
    }
    Ok(())
}

fn check_extent(depth: usize, elements: usize) -> Result<(), LogoProblem> {
    if depth > MAX_SVG_DEPTH {
        return Err(LogoProblem::SvgTooDeep {
            limit: MAX_SVG_DEPTH,
        });
    }
    if elements > MAX_SVG_ELEMENTS {
        return Err(LogoProblem::SvgTooComplex {
            limit: MAX_SVG_ELEMENTS,
        });
    }
    Ok(())
}

fn check_element(element: &BytesStart<'_>, is_root: bool) -> Result<(), LogoProblem> {
    let name = element.name().as_ref().to_owned();
    if is_root && name != "svg" {
        return Err(LogoProblem::SvgRootNotSvg { name });
    }
    let local = element.local_name().as_ref().to_ascii_lowercase();
    match local.as_str() {
        "script" => return Err(LogoProblem::SvgScript),
        "foreignobject" => return Err(LogoProblem::SvgForeignObject),
        _ if !ALLOWED_ELEMENTS.contains(&name.as_str()) => {
            return Err(LogoProblem::SvgElementNotAllowed { name });
        }
        _ => {}
    }

    let mut has_svg_namespace = false;
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|_| LogoProblem::SvgMalformed)?;
        let key = attribute.key.as_ref().to_owned();
        let local = attribute.key.local_name().as_ref().to_ascii_lowercase();
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|_| LogoProblem::SvgMalformed)?;
        if local.starts_with("on") {
            return Err(LogoProblem::SvgEventHandler { attribute: key });
        }
        if key == "xmlns" {
            if value != SVG_NAMESPACE {
                return Err(LogoProblem::SvgForeignNamespace {
                    namespace: shorten(&value),
                });
            }
            has_svg_namespace = true;
        }
        let squeezed: String = value
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .collect::<String>()
            .to_ascii_lowercase();
        if squeezed.contains("javascript:") || squeezed.contains("vbscript:") {
            return Err(LogoProblem::SvgJavascriptUrl);
        }
        if local == "href" && !value.trim_start().starts_with('#') {
            return Err(LogoProblem::SvgExternalReference {
                target: shorten(value.trim()),
            });
        }
        check_css(&value)?;
    }
    if is_root && !has_svg_namespace {
        return Err(LogoProblem::SvgNamespace);
    }
    Ok(())
}

/// Style sheets and attribute values may only point into the file itself:
/// every `url(…)` must be `url(#…)`, and nothing may be imported.
fn check_css(css: &str) -> Result<(), LogoProblem> {
    let lowered = css.to_ascii_lowercase();
    if lowered.contains('\\') {
        // CSS escapes can spell url( or @import without the letters.
        return Err(LogoProblem::SvgStyle {
            construct: "backslash escapes",
        });
    }
    if let Some(construct) = FORBIDDEN_CSS.iter().find(|c| lowered.contains(**c)) {
        return Err(LogoProblem::SvgStyle { construct });
    }
    for (at, _) in lowered.match_indices("url(") {
        let target = lowered[at + 4..]
            .trim_start_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'');
        if !target.starts_with('#') {
            let end = target.find(')').unwrap_or(target.len());
            return Err(LogoProblem::SvgExternalReference {
                target: shorten(target[..end].trim_end_matches(['"', '\''])),
            });
        }
    }
    Ok(())
}

/// Enough of a reference to recognise it in a message.
fn shorten(target: &str) -> String {
    const MAX: usize = 60;
    match target.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}\u{2026}", &target[..cut]),
        None => target.to_owned(),
    }
}
