//! A partner's directory logo: PNG, JPEG or SVG, recognised by its content
//! (never by its file name), at most 512 KiB. Risky SVG is refused with the
//! reason; an SVG that passes is stored as usvg's re-serialisation of it,
//! checked again, so what is served is exactly what was checked.

mod extent;
mod jpeg;
mod png;
mod svg;

pub const MAX_LOGO_BYTES: usize = 512 * 1024;
/// The largest width or height accepted for raster logos, in pixels.
pub const MAX_LOGO_SIDE: u32 = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoKind {
    Png,
    Jpeg,
    Svg,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    kind: LogoKind,
    bytes: Vec<u8>,
    /// Width and height in pixels; `None` for SVG, which scales.
    size: Option<(u32, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoProblem {
    #[error("Choose an image file for the logo.")]
    Empty,
    #[error("The logo is {kib} KiB; the limit is 512 KiB. Save it smaller or as SVG.")]
    TooLarge { kib: usize },
    #[error("{format} images are not accepted. Upload the logo as PNG, JPEG or SVG.")]
    UnsupportedFormat { format: &'static str },
    #[error(
        "This file is not a PNG, JPEG or SVG image. Files are recognised by their content, not their name."
    )]
    NotAnImage,
    #[error(
        "This {format} file is damaged or incomplete. Export the logo again and upload the new file."
    )]
    Damaged { format: &'static str },
    #[error("The logo is {width}\u{d7}{height} pixels; the largest accepted is 4096\u{d7}4096.")]
    TooManyPixels { width: u32, height: u32 },
    #[error("This SVG file is not well-formed XML. Export the logo again and upload the new file.")]
    SvgMalformed,
    #[error("The SVG file does not start with an <svg> element (it starts with <{name}>).")]
    SvgRootNotSvg { name: String },
    #[error(
        "The <svg> element lacks xmlns=\"http://www.w3.org/2000/svg\", so browsers would not show it as an image. Add it, or export the logo again."
    )]
    SvgNamespace,
    #[error(
        "SVG logos may not contain a DOCTYPE or entity declarations. Remove the <!DOCTYPE …> line, or export the logo again as a plain or optimised SVG."
    )]
    SvgDoctype,
    #[error("SVG logos may only use the SVG namespace, not {namespace}.")]
    SvgForeignNamespace { namespace: String },
    #[error(
        "SVG logos may not contain processing instructions such as <?xml-stylesheet?>. Remove them, or export the logo again as a plain SVG."
    )]
    SvgProcessingInstruction,
    #[error(
        "SVG logos may not contain scripts. Remove the <script> element and upload the file again."
    )]
    SvgScript,
    #[error(
        "SVG logos may not embed other documents. Remove the <foreignObject> element and upload the file again."
    )]
    SvgForeignObject,
    #[error(
        "SVG logos may not contain the <{name}> element. Export the logo again as a plain or optimised SVG, which leaves only drawing elements."
    )]
    SvgElementNotAllowed { name: String },
    #[error("SVG logos may not react to events: remove the {attribute} attribute.")]
    SvgEventHandler { attribute: String },
    #[error(
        "SVG logos may only refer to parts of themselves (#name), but this one refers to \u{201c}{target}\u{201d}."
    )]
    SvgExternalReference { target: String },
    #[error(
        "This SVG nests its elements more than {limit} levels deep. Export the logo again as a plain or optimised SVG."
    )]
    SvgTooDeep { limit: usize },
    #[error(
        "This SVG has more than {limit} elements once its shared parts (<use>) are drawn out. Simplify the logo or export it as PNG."
    )]
    SvgTooComplex { limit: usize },
    #[error(
        "Drawn out into plain shapes, this SVG is {kib} KiB, more than the 512 KiB a logo may be. Simplify the logo or export it as PNG."
    )]
    SvgTooLargeDrawn { kib: usize },
    #[error(
        "SVG logos may not contain text, which every viewer would draw in its own fonts. Convert the text to outlines (Inkscape: Path \u{25b8} Object to Path; Illustrator: Type \u{25b8} Create Outlines; Figma: Outline stroke) and upload the file again."
    )]
    SvgText,
    #[error(
        "This SVG has no size. Give the <svg> element a viewBox (or a width and a height) and upload it again."
    )]
    SvgNoSize,
    #[error(
        "This SVG refers to itself in a loop (a <use>, pattern, mask or gradient that ends up drawing itself). Export the logo again as a plain SVG."
    )]
    SvgReferenceLoop,
    #[error("SVG logos may not contain javascript: addresses.")]
    SvgJavascriptUrl,
    #[error(
        "The SVG's styles load outside content or use constructs logos may not contain ({construct}). Use plain colours and shapes, or export the logo again as a plain SVG."
    )]
    SvgStyle { construct: &'static str },
}

impl Logo {
    /// Recognises the image by its first bytes and checks it.
    pub fn parse(bytes: &[u8]) -> Result<Self, LogoProblem> {
        if bytes.is_empty() {
            return Err(LogoProblem::Empty);
        }
        if bytes.len() > MAX_LOGO_BYTES {
            return Err(LogoProblem::TooLarge {
                kib: bytes.len().div_ceil(1024),
            });
        }
        if bytes.starts_with(png::SIGNATURE) {
            let image = png::check(bytes)?;
            check_size(image.width, image.height)?;
            // Whatever follows the end marker is not part of the image.
            return Ok(Self::raster(LogoKind::Png, &bytes[..image.len], image));
        }
        if bytes.starts_with(jpeg::SIGNATURE) {
            let image = jpeg::check(bytes)?;
            check_size(image.width, image.height)?;
            return Ok(Self::raster(LogoKind::Jpeg, bytes, image));
        }
        if let Some(format) = other_image_format(bytes) {
            return Err(LogoProblem::UnsupportedFormat { format });
        }
        let text = std::str::from_utf8(bytes).map_err(|_| LogoProblem::NotAnImage)?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if !text.trim_start().starts_with('<') {
            return Err(LogoProblem::NotAnImage);
        }
        Ok(Self {
            kind: LogoKind::Svg,
            bytes: svg::clean(text)?,
            size: None,
        })
    }

    fn raster(kind: LogoKind, bytes: &[u8], image: RasterInfo) -> Self {
        Self {
            kind,
            bytes: bytes.to_vec(),
            size: Some((image.width, image.height)),
        }
    }

    pub fn kind(&self) -> LogoKind {
        self.kind
    }

    pub fn content_type(&self) -> &'static str {
        match self.kind {
            LogoKind::Png => "image/png",
            LogoKind::Jpeg => "image/jpeg",
            LogoKind::Svg => "image/svg+xml",
        }
    }

    pub fn extension(&self) -> &'static str {
        match self.kind {
            LogoKind::Png => "png",
            LogoKind::Jpeg => "jpg",
            LogoKind::Svg => "svg",
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Width and height in pixels for PNG and JPEG; `None` for SVG.
    pub fn size(&self) -> Option<(u32, u32)> {
        self.size
    }
}

/// What the raster checks learn from a file's headers.
struct RasterInfo {
    width: u32,
    height: u32,
    /// Bytes that belong to the image (a PNG ends at its IEND chunk).
    len: usize,
}

fn check_size(width: u32, height: u32) -> Result<(), LogoProblem> {
    if width > MAX_LOGO_SIDE || height > MAX_LOGO_SIDE {
        return Err(LogoProblem::TooManyPixels { width, height });
    }
    Ok(())
}

/// Image formats people commonly try, named so the refusal can say which.
fn other_image_format(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("GIF")
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some("WebP")
    } else if bytes
        .get(4..12)
        .is_some_and(|b| b == b"ftypavif" || b == b"ftypheic")
    {
        Some("AVIF and HEIC")
    } else if bytes.starts_with(b"BM") && bytes.len() > 14 && bytes.get(6..10) == Some(&[0; 4]) {
        Some("BMP")
    } else if bytes.starts_with(&[0, 0, 1, 0]) {
        Some("ICO")
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some("TIFF")
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        Some("Compressed (SVGZ)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
