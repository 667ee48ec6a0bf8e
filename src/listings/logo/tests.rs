use super::jpeg::tests::jpeg_sized;
use super::png::tests::{png_sized, tiny_png};
use super::*;

const CLEAN_SVG: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<!-- Acme logo -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 64 64" width="64" height="64">
  <title>Acme &amp; Co</title>
  <style><![CDATA[ .mark { fill: url(#fade); } ]]></style>
  <defs>
    <linearGradient id="fade" x1="0" x2="1">
      <stop offset="0" stop-color="#fc6d26"/>
      <stop offset="1" stop-color="#e24329"/>
    </linearGradient>
    <symbol id="dot"><circle cx="4" cy="4" r="4"/></symbol>
  </defs>
  <g class="mark" style="stroke: url( '#fade' )">
    <path d="M0 0 L64 0 L32 64 Z"/>
    <use xlink:href="#dot" x="28" y="28"/>
    <use href="#dot" x="8" y="8"/>
  </g>
  <path d="M4 60h8v-8h-8z" fill="#fc6d26"/>
</svg>
"##;

fn svg(body: &str) -> Vec<u8> {
    format!(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">{body}</svg>"#)
        .into_bytes()
}

#[test]
fn tiny_png_is_accepted_as_png() {
    let logo = Logo::parse(&tiny_png()).unwrap();
    assert_eq!(logo.kind(), LogoKind::Png);
    assert_eq!(logo.content_type(), "image/png");
    assert_eq!(logo.extension(), "png");
    assert_eq!(logo.size(), Some((1, 1)));
    assert_eq!(logo.bytes(), tiny_png().as_slice());
}

#[test]
fn png_keeps_nothing_after_its_end_chunk() {
    let mut bytes = tiny_png();
    bytes.extend_from_slice(b"<svg onload=alert(1)>");
    assert_eq!(Logo::parse(&bytes).unwrap().into_bytes(), tiny_png());
}

#[test]
fn jpeg_is_accepted_as_jpeg() {
    let logo = Logo::parse(&jpeg_sized(200, 100)).unwrap();
    assert_eq!(logo.kind(), LogoKind::Jpeg);
    assert_eq!(logo.content_type(), "image/jpeg");
    assert_eq!(logo.extension(), "jpg");
    assert_eq!(logo.size(), Some((200, 100)));
}

#[test]
fn a_png_named_svg_is_still_a_png() {
    // Only the bytes are given to the parser: whatever the upload was
    // called, these bytes are a PNG and are stored and served as one.
    let uploaded_as_logo_svg = tiny_png();
    let logo = Logo::parse(&uploaded_as_logo_svg).unwrap();
    assert_eq!(logo.content_type(), "image/png");
    assert_eq!(logo.extension(), "png");
}

#[test]
fn clean_svg_logo_is_accepted_and_stored_as_drawn() {
    let logo = Logo::parse(CLEAN_SVG.as_bytes()).unwrap();
    assert_eq!(logo.kind(), LogoKind::Svg);
    assert_eq!(logo.content_type(), "image/svg+xml");
    assert_eq!(logo.extension(), "svg");
    assert_eq!(logo.size(), None);
    let stored = std::str::from_utf8(logo.bytes()).unwrap();
    println!("{stored}");
    assert!(
        stored.starts_with(
            r#"<svg viewBox="0 0 64 64" width="64" height="64" xmlns="http://www.w3.org/2000/svg""#
        ),
        "{stored}"
    );
    // Shapes stay, with the stylesheet's colours applied to them; the
    // rest (comments, the title, the stylesheet, `use`) is gone.
    assert!(
        stored.contains("<linearGradient") && stored.contains("<path"),
        "{stored}"
    );
    for gone in ["<!--", "<title", "<style", "<use", "<symbol", "class="] {
        assert!(!stored.contains(gone), "{gone} in {stored}");
    }
}

#[test]
fn what_is_stored_is_what_was_checked() {
    let logo = Logo::parse(CLEAN_SVG.as_bytes()).unwrap();
    // The stored form passes the check on its own and cleans to itself.
    assert_eq!(
        svg::check(std::str::from_utf8(logo.bytes()).unwrap()),
        Ok(())
    );
    assert_eq!(Logo::parse(logo.bytes()).unwrap().bytes(), logo.bytes());
}

#[test]
fn fifty_thousand_nested_groups_are_refused() {
    let depth = 50_000;
    let bomb = svg(&format!(
        "{}<rect width=\"1\" height=\"1\"/>{}",
        "<g>".repeat(depth),
        "</g>".repeat(depth)
    ));
    assert!(bomb.len() > 340_000 && bomb.len() < MAX_LOGO_BYTES);
    let refused = Logo::parse(&bomb);
    assert_eq!(refused, Err(LogoProblem::SvgTooDeep { limit: 32 }));
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("more than 32 levels deep")
    );
}

#[test]
fn depth_and_element_limits_hold_at_their_boundary() {
    let nested = |groups: usize| {
        svg(&format!(
            "{}<rect width=\"1\" height=\"1\"/>{}",
            "<g>".repeat(groups),
            "</g>".repeat(groups)
        ))
    };
    // The root is one level, each group one more, the rect the last.
    assert!(Logo::parse(&nested(svg::MAX_SVG_DEPTH - 2)).is_ok());
    assert_eq!(
        Logo::parse(&nested(svg::MAX_SVG_DEPTH - 1)),
        Err(LogoProblem::SvgTooDeep { limit: 32 })
    );

    // Empty groups: counted in the upload, dropped by the renderer. The
    // root counts as one element.
    let groups = |n: usize| svg(&"<g/>".repeat(n));
    assert!(Logo::parse(&groups(svg::MAX_SVG_ELEMENTS - 1)).is_ok());
    assert_eq!(
        Logo::parse(&groups(svg::MAX_SVG_ELEMENTS)),
        Err(LogoProblem::SvgTooComplex { limit: 10_000 })
    );
}

#[test]
fn an_svg_that_grows_past_512_kib_when_drawn_out_is_refused() {
    // 9,000 squares: 370 KiB as uploaded, more as paths.
    let squares = svg(&r#"<rect width="1" height="1"/>"#.repeat(9_000));
    assert!(squares.len() < MAX_LOGO_BYTES);
    let Err(LogoProblem::SvgTooLargeDrawn { kib }) = Logo::parse(&squares) else {
        panic!("accepted");
    };
    assert!(kib > 512);
}

#[test]
fn shared_parts_that_multiply_past_the_limit_are_refused() {
    // Each level draws the one below ten times: 10^6 rectangles from a
    // file of a few hundred bytes.
    let mut body = String::from(r#"<defs><g id="l0"><rect width="1" height="1"/></g>"#);
    for level in 1..=6 {
        body.push_str(&format!(r#"<g id="l{level}">"#));
        for _ in 0..10 {
            body.push_str(&format!(r##"<use href="#l{}"/>"##, level - 1));
        }
        body.push_str("</g>");
    }
    body.push_str(r##"</defs><use href="#l6"/>"##);
    let started = std::time::Instant::now();
    assert_eq!(
        Logo::parse(&svg(&body)),
        Err(LogoProblem::SvgTooComplex { limit: 10_000 })
    );
    println!("refused in {:?}", started.elapsed());
}

#[test]
fn text_must_be_outlined() {
    let refused = Logo::parse(&svg(r#"<text x="1" y="9">Acme</text>"#));
    assert_eq!(refused, Err(LogoProblem::SvgText));
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("Convert the text to outlines")
    );
}

#[test]
fn an_svg_of_no_size_is_refused() {
    assert_eq!(
        Logo::parse(br#"<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"><rect width="1" height="1"/></svg>"#),
        Err(LogoProblem::SvgNoSize)
    );
}

#[test]
fn svg_with_byte_order_mark_is_accepted() {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend(svg("<rect width=\"1\" height=\"1\"/>"));
    assert!(Logo::parse(&bytes).is_ok());
}

#[test]
fn size_limits_are_enforced() {
    assert_eq!(Logo::parse(&[]), Err(LogoProblem::Empty));
    let mut at_limit = svg("");
    at_limit.resize(MAX_LOGO_BYTES, b' ');
    assert!(Logo::parse(&at_limit).is_ok());
    at_limit.push(b' ');
    assert_eq!(
        Logo::parse(&at_limit),
        Err(LogoProblem::TooLarge { kib: 513 })
    );
    assert!(
        LogoProblem::TooLarge { kib: 513 }
            .to_string()
            .contains("limit is 512 KiB")
    );
}

#[test]
fn raster_logos_larger_than_4096_pixels_a_side_are_refused() {
    assert!(Logo::parse(&png_sized(4096, 4096)).is_ok());
    assert_eq!(
        Logo::parse(&png_sized(4097, 10)),
        Err(LogoProblem::TooManyPixels {
            width: 4097,
            height: 10
        })
    );
    assert_eq!(
        Logo::parse(&jpeg_sized(10, 5000)),
        Err(LogoProblem::TooManyPixels {
            width: 10,
            height: 5000
        })
    );
}

#[test]
fn files_that_are_not_images_are_refused() {
    let random: Vec<u8> = (0u32..2048)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for (what, bytes) in [
        ("random bytes", random),
        ("plain text", b"just some text".to_vec()),
        ("comment only", b"<!-- nothing -->".to_vec()),
        (
            "HTML page",
            b"<!DOCTYPE html><html><body>hi</body></html>".to_vec(),
        ),
        ("PDF", b"%PDF-1.7\n".to_vec()),
    ] {
        assert_eq!(Logo::parse(&bytes), Err(LogoProblem::NotAnImage), "{what}");
    }
    assert_eq!(
        Logo::parse(b"<html><body/></html>"),
        Err(LogoProblem::SvgRootNotSvg {
            name: "html".into()
        })
    );
}

#[test]
fn other_image_formats_are_named_in_the_refusal() {
    for (bytes, format) in [
        (b"GIF89a\x01\x00\x01\x00".to_vec(), "GIF"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ".to_vec(), "WebP"),
        (vec![0x1f, 0x8b, 8, 0], "Compressed (SVGZ)"),
    ] {
        assert_eq!(
            Logo::parse(&bytes),
            Err(LogoProblem::UnsupportedFormat { format })
        );
    }
}

#[test]
fn damaged_raster_files_are_refused() {
    let png = tiny_png();
    assert_eq!(
        Logo::parse(&png[..20]),
        Err(LogoProblem::Damaged { format: "PNG" })
    );
    assert_eq!(
        Logo::parse(&[0xff, 0xd8, 0xff, 0xd9]),
        Err(LogoProblem::Damaged { format: "JPEG" })
    );
}

#[test]
fn risky_svgs_are_refused_with_the_reason() {
    use LogoProblem as P;
    let external = |target: &str| P::SvgExternalReference {
        target: target.into(),
    };
    let cases: Vec<(&str, Vec<u8>, LogoProblem)> = vec![
        ("script", svg("<script>alert(1)</script>"), P::SvgScript),
        ("prefixed script", svg(r#"<h:script xmlns:h="http://www.w3.org/1999/xhtml"/>"#), P::SvgScript),
        ("onload", svg_root(r#"onload="alert(1)""#), P::SvgEventHandler { attribute: "onload".into() }),
        ("onclick on child", svg(r#"<rect onClick="alert(1)"/>"#), P::SvgEventHandler { attribute: "onClick".into() }),
        ("external href", svg(r#"<use href="https://evil.test/x.svg#a"/>"#), external("https://evil.test/x.svg#a")),
        ("external xlink:href", svg(r#"<use xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="other.svg#a"/>"#), external("other.svg#a")),
        ("data href", svg(r#"<use href="data:image/svg+xml,x"/>"#), external("data:image/svg+xml,x")),
        ("javascript href", svg(r#"<use href="javascript:alert(1)"/>"#), P::SvgJavascriptUrl),
        ("escaped javascript", svg(r#"<use href="&#106;ava&#x09;script:alert(1)"/>"#), P::SvgJavascriptUrl),
        ("foreignObject", svg("<foreignObject><p>hi</p></foreignObject>"), P::SvgForeignObject),
        ("image", svg(r##"<image href="#a"/>"##), P::SvgElementNotAllowed { name: "image".into() }),
        ("link", svg(r##"<a href="#a"><rect/></a>"##), P::SvgElementNotAllowed { name: "a".into() }),
        ("animation", svg(r#"<set attributeName="fill" to="red"/>"#), P::SvgElementNotAllowed { name: "set".into() }),
        ("editor metadata", svg("<metadata/>"), P::SvgElementNotAllowed { name: "metadata".into() }),
        ("style import", svg("<style>@import 'https://evil.test/a.css';</style>"), P::SvgStyle { construct: "@import" }),
        ("escaped style import", svg("<style>&#64;import 'a.css';</style>"), P::SvgStyle { construct: "@import" }),
        ("style url", svg("<style>g { fill: url(https://evil.test/p.svg#p) }</style>"), external("https://evil.test/p.svg#p")),
        ("css escape", svg(r"<style>g { fill: \75rl(x) }</style>"), P::SvgStyle { construct: "backslash escapes" }),
        ("element in style", svg("<style><g/>@import 'a.css';</style>"), P::SvgStyle { construct: "elements inside <style>" }),
        ("style attribute url", svg(r#"<rect style="fill: url('//evil.test/p')"/>"#), external("//evil.test/p")),
        ("presentation url", svg(r#"<rect fill="url(p.svg#x)"/>"#), external("p.svg#x")),
        ("xhtml namespace", svg(r#"<g xmlns="http://www.w3.org/1999/xhtml"/>"#), P::SvgForeignNamespace { namespace: "http://www.w3.org/1999/xhtml".into() }),
        ("stylesheet PI", [b"<?xml-stylesheet href=\"a.css\"?>".as_slice(), &svg("")].concat(), P::SvgProcessingInstruction),
        ("doctype", [b"<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">".as_slice(), &svg("")].concat(), P::SvgDoctype),
        ("entity", [b"<!DOCTYPE svg [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>".as_slice(), &svg("<text>&x;</text>")].concat(), P::SvgDoctype),
        ("undefined entity", svg("<text>&x;</text>"), P::SvgMalformed),
        ("missing namespace", b"<svg viewBox=\"0 0 1 1\"/>".to_vec(), P::SvgNamespace),
        ("unclosed", b"<svg xmlns=\"http://www.w3.org/2000/svg\"><g>".to_vec(), P::SvgMalformed),
        ("mismatched", svg("<g></rect>"), P::SvgMalformed),
        ("second root", [svg(""), svg("")].concat(), P::SvgMalformed),
        ("text after root", [svg("").as_slice(), b"trailing"].concat(), P::SvgMalformed),
    ];
    for (what, bytes, expected) in cases {
        assert_eq!(Logo::parse(&bytes), Err(expected), "{what}");
    }
}

#[test]
fn long_references_are_shortened_in_the_message() {
    let target = format!("https://evil.test/{}", "a".repeat(100));
    let Err(LogoProblem::SvgExternalReference { target: shown }) =
        Logo::parse(&svg(&format!(r#"<use href="{target}"/>"#)))
    else {
        panic!("external reference accepted");
    };
    assert_eq!(shown.chars().count(), 61);
    assert!(shown.ends_with('\u{2026}'));
}

fn svg_root(attributes: &str) -> Vec<u8> {
    format!(r#"<svg xmlns="http://www.w3.org/2000/svg" {attributes}><rect/></svg>"#).into_bytes()
}

#[test]
fn reference_chains_deeper_than_the_limit_are_refused_before_drawing() {
    // Each pattern is filled with the one before: a renderer follows the
    // chain recursively (usvg overflowed its stack at 1,000).
    let mut body = String::from(
        r#"<defs><pattern id="p0" width="1" height="1"><rect width="1" height="1"/></pattern>"#,
    );
    for i in 1..1000 {
        body.push_str(&format!(r##"<pattern id="p{i}" width="1" height="1"><rect width="1" height="1" fill="url(#p{})"/></pattern>"##, i - 1));
    }
    body.push_str(r##"</defs><rect width="5" height="5" fill="url(#p999)"/>"##);
    assert_eq!(
        Logo::parse(&svg(&body)),
        Err(LogoProblem::SvgTooDeep { limit: 32 })
    );

    // The same through stylesheet rules.
    let mut css = String::new();
    let mut defs = String::from(
        r#"<pattern id="p0" width="1" height="1"><rect width="1" height="1"/></pattern>"#,
    );
    for i in 1..100 {
        css.push_str(&format!(".c{i} {{ fill: url(#p{}) }} ", i - 1));
        defs.push_str(&format!(r#"<pattern id="p{i}" width="1" height="1"><rect class="c{i}" width="1" height="1"/></pattern>"#));
    }
    let body = format!(
        r##"<style>{css}</style><defs>{defs}</defs><rect width="5" height="5" style="fill: url(#p99)"/>"##
    );
    assert_eq!(
        Logo::parse(&svg(&body)),
        Err(LogoProblem::SvgTooDeep { limit: 32 })
    );
}

#[test]
fn a_pattern_drawn_many_times_counts_each_time() {
    let mut body = String::from(r#"<defs><pattern id="p" width="1" height="1">"#);
    body.push_str(&r#"<rect width="1" height="1"/>"#.repeat(3000));
    body.push_str("</pattern></defs>");
    body.push_str(&r##"<rect width="5" height="5" fill="url(#p)"/>"##.repeat(3000));
    assert_eq!(
        Logo::parse(&svg(&body)),
        Err(LogoProblem::SvgTooComplex { limit: 10_000 })
    );
}

#[test]
fn references_in_a_loop_are_refused() {
    let body = r##"<defs><g id="a"><use href="#b"/></g><g id="b"><rect width="1" height="1" fill="url(#p)"/></g><pattern id="p" width="1" height="1"><use href="#a"/></pattern></defs><use href="#a"/>"##;
    assert_eq!(Logo::parse(&svg(body)), Err(LogoProblem::SvgReferenceLoop));
}
