//! PNG structure: signature, an IHDR chunk first, at least one IDAT, IEND
//! last, every chunk inside the file with a correct checksum.

use super::{LogoProblem, RasterInfo};

pub(super) const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

const DAMAGED: LogoProblem = LogoProblem::Damaged { format: "PNG" };

pub(super) fn check(bytes: &[u8]) -> Result<RasterInfo, LogoProblem> {
    let mut pos = SIGNATURE.len();
    let mut size = None;
    let mut seen_data = false;
    loop {
        let header = bytes.get(pos..pos + 8).ok_or(DAMAGED)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = &header[4..8];
        let data_end = (pos + 8).checked_add(len).ok_or(DAMAGED)?;
        let chunk_end = data_end.checked_add(4).ok_or(DAMAGED)?;
        let crc = bytes.get(data_end..chunk_end).ok_or(DAMAGED)?;
        if crc32fast::hash(&bytes[pos + 4..data_end]).to_be_bytes() != crc {
            return Err(DAMAGED);
        }
        let data = &bytes[pos + 8..data_end];
        match (kind, size) {
            (b"IHDR", None) => size = Some(read_header(data)?),
            (_, None) | (b"IHDR", Some(_)) => return Err(DAMAGED),
            (b"IDAT", Some(_)) => seen_data = true,
            (b"IEND", Some((width, height))) if seen_data => {
                return Ok(RasterInfo {
                    width,
                    height,
                    len: chunk_end,
                });
            }
            (b"IEND", Some(_)) => return Err(DAMAGED),
            _ => {}
        }
        pos = chunk_end;
    }
}

/// Width and height from IHDR, if its fields are ones PNG allows.
fn read_header(data: &[u8]) -> Result<(u32, u32), LogoProblem> {
    let [
        w0,
        w1,
        w2,
        w3,
        h0,
        h1,
        h2,
        h3,
        depth,
        colour,
        compression,
        filter,
        interlace,
    ] = data
    else {
        return Err(DAMAGED);
    };
    let width = u32::from_be_bytes([*w0, *w1, *w2, *w3]);
    let height = u32::from_be_bytes([*h0, *h1, *h2, *h3]);
    let depth_allowed = match colour {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => false,
    };
    let plausible = width > 0
        && height > 0
        && depth_allowed
        && *compression == 0
        && *filter == 0
        && *interlace <= 1;
    if plausible {
        Ok((width, height))
    } else {
        Err(DAMAGED)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut hashed = kind.to_vec();
        hashed.extend_from_slice(data);
        out.extend_from_slice(&crc32fast::hash(&hashed).to_be_bytes());
        out
    }

    fn header(width: u32, height: u32, depth: u8, colour: u8) -> Vec<u8> {
        let mut data = width.to_be_bytes().to_vec();
        data.extend_from_slice(&height.to_be_bytes());
        data.extend_from_slice(&[depth, colour, 0, 0, 0]);
        chunk(b"IHDR", &data)
    }

    fn png_of(chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        for c in chunks {
            out.extend_from_slice(c);
        }
        out
    }

    /// A real 1×1 grey PNG: zlib-compressed scanline "filter 0, pixel 0".
    pub(in crate::listings::logo) fn tiny_png() -> Vec<u8> {
        let idat = [0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01];
        png_of(&[
            header(1, 1, 8, 0),
            chunk(b"IDAT", &idat),
            chunk(b"IEND", &[]),
        ])
    }

    pub(in crate::listings::logo) fn png_sized(width: u32, height: u32) -> Vec<u8> {
        png_of(&[
            header(width, height, 8, 6),
            chunk(b"IDAT", &[0x78, 0x9c]),
            chunk(b"IEND", &[]),
        ])
    }

    #[test]
    fn tiny_png_is_read_with_its_size() {
        let png = tiny_png();
        let info = check(&png).unwrap();
        assert_eq!((info.width, info.height, info.len), (1, 1, png.len()));
    }

    #[test]
    fn bytes_after_the_end_chunk_are_not_counted() {
        let mut png = tiny_png();
        let len = png.len();
        png.extend_from_slice(b"<script>alert(1)</script>");
        assert_eq!(check(&png).unwrap().len, len);
    }

    #[test]
    fn broken_structures_are_refused() {
        let ihdr = header(1, 1, 8, 0);
        let idat = chunk(b"IDAT", &[0x78, 0x9c]);
        let iend = chunk(b"IEND", &[]);
        let mut bad_crc = tiny_png();
        let last = bad_crc.len() - 1;
        bad_crc[last] ^= 0xff;
        let cases = [
            ("signature only", SIGNATURE.to_vec()),
            (
                "no IHDR first",
                png_of(&[idat.clone(), ihdr.clone(), iend.clone()]),
            ),
            ("no IDAT", png_of(&[ihdr.clone(), iend.clone()])),
            ("no IEND", png_of(&[ihdr.clone(), idat.clone()])),
            (
                "two IHDR",
                png_of(&[ihdr.clone(), ihdr.clone(), idat.clone(), iend.clone()]),
            ),
            (
                "zero width",
                png_of(&[header(0, 1, 8, 0), idat.clone(), iend.clone()]),
            ),
            (
                "bad depth",
                png_of(&[header(1, 1, 3, 0), idat.clone(), iend.clone()]),
            ),
            (
                "bad colour",
                png_of(&[header(1, 1, 8, 5), idat.clone(), iend.clone()]),
            ),
            ("bad checksum", bad_crc),
            ("truncated", tiny_png()[..30].to_vec()),
        ];
        for (what, bytes) in cases {
            assert_eq!(check(&bytes).err(), Some(DAMAGED), "{what} was accepted");
        }
    }

    #[test]
    fn chunk_length_beyond_the_file_is_refused() {
        let mut png = tiny_png();
        png[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(check(&png).is_err());
    }
}
