//! JPEG structure: the start marker, then segments up to a frame header
//! (SOFn) that gives the image's size, all before the first scan.

use super::{LogoProblem, RasterInfo};

pub(super) const SIGNATURE: &[u8] = &[0xff, 0xd8, 0xff];

const DAMAGED: LogoProblem = LogoProblem::Damaged { format: "JPEG" };

pub(super) fn check(bytes: &[u8]) -> Result<RasterInfo, LogoProblem> {
    let mut pos = 2;
    loop {
        if bytes.get(pos) != Some(&0xff) {
            return Err(DAMAGED);
        }
        // Any number of 0xff fill bytes may precede a marker.
        while bytes.get(pos) == Some(&0xff) {
            pos += 1;
        }
        let marker = *bytes.get(pos).ok_or(DAMAGED)?;
        pos += 1;
        match marker {
            // Markers that stand alone, without a length.
            0x01 | 0xd0..=0xd7 => continue,
            // A second start, an end or a scan before any frame header.
            0x00 | 0xd8 | 0xd9 | 0xda => return Err(DAMAGED),
            _ => {}
        }
        let len = bytes
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .filter(|len| *len >= 2)
            .ok_or(DAMAGED)?;
        let segment = bytes.get(pos + 2..pos + len).ok_or(DAMAGED)?;
        if is_frame_header(marker) {
            let [_precision, h0, h1, w0, w1, ..] = segment else {
                return Err(DAMAGED);
            };
            let height = u32::from(u16::from_be_bytes([*h0, *h1]));
            let width = u32::from(u16::from_be_bytes([*w0, *w1]));
            if width == 0 || height == 0 {
                return Err(DAMAGED);
            }
            return Ok(RasterInfo {
                width,
                height,
                len: bytes.len(),
            });
        }
        pos += len;
    }
}

/// SOF0–SOF15, except DHT (c4), JPG (c8) and DAC (cc), which share the range.
fn is_frame_header(marker: u8) -> bool {
    (0xc0..=0xcf).contains(&marker) && !matches!(marker, 0xc4 | 0xc8 | 0xcc)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn segment(marker: u8, data: &[u8]) -> Vec<u8> {
        let mut out = vec![0xff, marker];
        out.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(data);
        out
    }

    /// The headers of a baseline JPEG: JFIF, a frame of `width`×`height`,
    /// a scan header and the end marker.
    pub(in crate::listings::logo) fn jpeg_sized(width: u16, height: u16) -> Vec<u8> {
        let mut out = vec![0xff, 0xd8];
        out.extend(segment(0xe0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        let mut frame = vec![8];
        frame.extend_from_slice(&height.to_be_bytes());
        frame.extend_from_slice(&width.to_be_bytes());
        frame.extend_from_slice(&[1, 1, 0x11, 0]);
        out.extend(segment(0xc0, &frame));
        out.extend(segment(0xda, &[1, 1, 0, 0, 0x3f, 0]));
        out.extend_from_slice(&[0x00, 0xff, 0xd9]);
        out
    }

    #[test]
    fn size_comes_from_the_frame_header() {
        let info = check(&jpeg_sized(640, 480)).unwrap();
        assert_eq!((info.width, info.height), (640, 480));
    }

    #[test]
    fn fill_bytes_before_a_marker_are_skipped() {
        let mut jpeg = jpeg_sized(32, 16);
        jpeg.splice(2..2, [0xff, 0xff]);
        let info = check(&jpeg).unwrap();
        assert_eq!((info.width, info.height), (32, 16));
    }

    #[test]
    fn progressive_frames_are_read_too() {
        let mut jpeg = jpeg_sized(10, 20);
        let sof = jpeg.windows(2).position(|w| w == [0xff, 0xc0]).unwrap();
        jpeg[sof + 1] = 0xc2;
        assert!(check(&jpeg).is_ok());
    }

    #[test]
    fn broken_structures_are_refused() {
        let scan_first = {
            let mut out = vec![0xff, 0xd8];
            out.extend(segment(0xda, &[1, 1, 0, 0, 0x3f, 0]));
            out
        };
        let cases = [
            ("signature only", vec![0xff, 0xd8, 0xff]),
            ("end before frame", vec![0xff, 0xd8, 0xff, 0xd9]),
            ("scan before frame", scan_first),
            ("zero width", jpeg_sized(0, 10)),
            ("zero height", jpeg_sized(10, 0)),
            ("truncated frame", jpeg_sized(10, 10)[..26].to_vec()),
            ("garbage after start", vec![0xff, 0xd8, 0xff, 0xe0, 0x00]),
            ("short length", vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01]),
        ];
        for (what, bytes) in cases {
            assert_eq!(check(&bytes).err(), Some(DAMAGED), "{what} was accepted");
        }
    }
}
