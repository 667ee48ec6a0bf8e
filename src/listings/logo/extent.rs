//! How large and how deep an SVG becomes once drawn out, measured before
//! a renderer draws it. A `<use>`, a `fill="url(#p)"` or a stylesheet rule
//! makes the renderer draw the element it points at once more, inside the
//! element that points: a few hundred bytes can ask for a million shapes,
//! and a chain of patterns each filled with the next makes a renderer
//! recurse until its stack overflows (usvg does, at about a thousand).
//! So every such reference counts as drawing its target again, and the
//! totals are held to the same limits as the file itself.

use std::collections::{HashMap, HashSet};

use usvg::roxmltree::{self, Node, NodeId};

use super::{
    LogoProblem,
    svg::{MAX_SVG_DEPTH, MAX_SVG_ELEMENTS},
};

/// Stylesheet rules that point at parts of the file, at most. Exported
/// logos have one rule per gradient; each rule is tried on every element.
const MAX_POINTING_RULES: usize = 500;

/// Refuses an SVG that would draw more than [`MAX_SVG_ELEMENTS`] elements
/// or nest deeper than [`MAX_SVG_DEPTH`] levels once every reference is
/// followed, or whose references go round in a loop.
pub(super) fn measure(text: &str) -> Result<(), LogoProblem> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options)
        .map_err(|_| LogoProblem::SvgMalformed)?;
    let css: String = doc
        .descendants()
        .filter(|n| n.has_tag_name("style"))
        .flat_map(|n| n.children().filter_map(|t| t.text()))
        .collect();
    let sheet = simplecss::StyleSheet::parse(&css);
    let rules: Vec<(&simplecss::Selector, Vec<&str>)> = sheet
        .rules
        .iter()
        .filter_map(|rule| {
            let targets: Vec<&str> = rule
                .declarations
                .iter()
                .flat_map(|d| local_urls(d.value))
                .collect();
            (!targets.is_empty()).then_some((&rule.selector, targets))
        })
        .collect();
    if rules.len() > MAX_POINTING_RULES {
        return Err(too_complex());
    }
    let ids: HashMap<&str, Node> = doc
        .descendants()
        .filter_map(|n| n.attribute("id").map(|id| (id, n)))
        .collect();
    let mut walk = Walk {
        ids,
        rules,
        done: HashMap::new(),
        open: HashSet::new(),
    };
    walk.measure(doc.root_element(), 1).map(drop)
}

struct Walk<'a, 'input> {
    ids: HashMap<&'a str, Node<'a, 'input>>,
    rules: Vec<(&'a simplecss::Selector<'a>, Vec<&'a str>)>,
    /// Elements measured: (elements drawn, levels deep).
    done: HashMap<NodeId, (usize, usize)>,
    /// Elements being measured, to find loops.
    open: HashSet<NodeId>,
}

impl<'a, 'input> Walk<'a, 'input> {
    /// What drawing `node` at `depth` draws: elements and levels.
    fn measure(
        &mut self,
        node: Node<'a, 'input>,
        depth: usize,
    ) -> Result<(usize, usize), LogoProblem> {
        if depth > MAX_SVG_DEPTH {
            return Err(too_deep());
        }
        if let Some(&(elements, levels)) = self.done.get(&node.id()) {
            if depth + levels - 1 > MAX_SVG_DEPTH {
                return Err(too_deep());
            }
            return Ok((elements, levels));
        }
        if !self.open.insert(node.id()) {
            return Err(LogoProblem::SvgReferenceLoop);
        }
        let mut elements = 1usize;
        let mut levels = 1usize;
        let inside: Vec<Node> = node
            .children()
            .filter(Node::is_element)
            .chain(self.references(node))
            .collect();
        for next in inside {
            let (e, l) = self.measure(next, depth + 1)?;
            elements = elements.saturating_add(e);
            levels = levels.max(l + 1);
            if elements > MAX_SVG_ELEMENTS {
                return Err(too_complex());
            }
        }
        self.open.remove(&node.id());
        self.done.insert(node.id(), (elements, levels));
        Ok((elements, levels))
    }

    /// The elements `node` draws again by reference: its `href`, every
    /// `url(#…)` in its attributes (`style` included) and in the
    /// stylesheet rules that select it.
    fn references(&self, node: Node<'a, 'input>) -> Vec<Node<'a, 'input>> {
        let mut names: Vec<&str> = Vec::new();
        for attribute in node.attributes() {
            let value = attribute.value();
            if attribute.name() == "href" {
                names.extend(value.trim().strip_prefix('#'));
            }
            names.extend(local_urls(value));
        }
        for (selector, targets) in &self.rules {
            if selector.matches(&Styled(node)) {
                names.extend(targets.iter().copied());
            }
        }
        names
            .into_iter()
            .filter_map(|name| self.ids.get(name).copied())
            .collect()
    }
}

/// The names in every `url(#name)` of a CSS value or attribute.
fn local_urls(value: &str) -> Vec<&str> {
    value
        .match_indices("url(")
        .filter_map(|(at, _)| {
            let rest = value[at + 4..].trim_start_matches([' ', '"', '\'']);
            let name = rest.strip_prefix('#')?;
            let end = name.find([')', '"', '\'', ' ']).unwrap_or(name.len());
            Some(&name[..end])
        })
        .collect()
}

fn too_deep() -> LogoProblem {
    LogoProblem::SvgTooDeep {
        limit: MAX_SVG_DEPTH,
    }
}

fn too_complex() -> LogoProblem {
    LogoProblem::SvgTooComplex {
        limit: MAX_SVG_ELEMENTS,
    }
}

/// An element as stylesheet selectors see it (as usvg matches them).
struct Styled<'a, 'input>(Node<'a, 'input>);

impl simplecss::Element for Styled<'_, '_> {
    fn parent_element(&self) -> Option<Self> {
        self.0.parent_element().map(Styled)
    }

    fn prev_sibling_element(&self) -> Option<Self> {
        self.0.prev_sibling_element().map(Styled)
    }

    fn has_local_name(&self, name: &str) -> bool {
        self.0.tag_name().name() == name
    }

    fn attribute_matches(&self, name: &str, operator: simplecss::AttributeOperator) -> bool {
        self.0.attribute(name).is_some_and(|v| operator.matches(v))
    }

    fn pseudo_class_matches(&self, class: simplecss::PseudoClass) -> bool {
        matches!(class, simplecss::PseudoClass::FirstChild)
            && self.0.prev_sibling_element().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::local_urls;

    #[test]
    fn local_urls_are_found_in_attributes_and_css() {
        assert_eq!(local_urls("url(#a)"), ["a"]);
        assert_eq!(
            local_urls("fill: url( '#b' ); stroke:url(\"#c\")"),
            ["b", "c"]
        );
        assert_eq!(local_urls("url(other.svg#d) none"), [] as [&str; 0]);
    }
}
