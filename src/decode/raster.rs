//! Single-page PNG and JPEG files.
//!
//! Opening checks the end marker (PNG `IEND`, JPEG `EOI`: image decoders happily return a grey
//! half page for a truncated file) and the declared size against the pixel limit; decoding
//! happens only when the page is asked for.

use std::io::Cursor;
use std::sync::Arc;

use image::{ImageDecoder, codecs::jpeg::JpegDecoder, codecs::png::PngDecoder};

use super::Limits;
use crate::model::{Bitmap, ErrorKind, Failure, MediaType};

pub struct Raster {
    bytes: Arc<[u8]>,
    media_type: MediaType,
    dpi: Option<u32>,
    fade_colour: bool,
}

impl Raster {
    pub fn open(bytes: Arc<[u8]>, media_type: MediaType, limits: &Limits) -> Result<Self, Failure> {
        let (width, height, dpi) = match media_type {
            MediaType::Png => {
                check_png_complete(&bytes)?;
                let (w, h) = png_size(&bytes)?;
                (w, h, png_dpi(&bytes))
            }
            _ => {
                check_jpeg_complete(&bytes)?;
                let decoder = JpegDecoder::new(Cursor::new(&bytes[..]))
                    .map_err(|e| Failure::decode(ErrorKind::Corrupt, format!("jpeg: {e}")))?;
                let (w, h) = decoder.dimensions();
                (w, h, jpeg_dpi(&bytes))
            }
        };
        let what = if media_type == MediaType::Png {
            "png image"
        } else {
            "jpeg image"
        };
        limits.check_pixels(what, u64::from(width), u64::from(height))?;
        Ok(Raster {
            bytes,
            media_type,
            dpi,
            fade_colour: limits.fade_colour,
        })
    }

    pub fn page(&self) -> Result<Bitmap, Failure> {
        let cursor = Cursor::new(&self.bytes[..]);
        let image = match self.media_type {
            MediaType::Png => PngDecoder::new(cursor)
                .and_then(image::DynamicImage::from_decoder)
                .map_err(|e| Failure::decode(ErrorKind::Corrupt, format!("png: {e}")))?,
            _ => JpegDecoder::new(cursor)
                .and_then(image::DynamicImage::from_decoder)
                .map_err(|e| Failure::decode(ErrorKind::Corrupt, format!("jpeg: {e}")))?,
        };
        Ok(Bitmap {
            image: super::gray_of(image, self.fade_colour),
            dpi: self.dpi,
        })
    }
}

/// Decodes a JPEG held in memory (also used for DCT images inside PDFs), colour faded by
/// saturation when `fade_colour`.
pub fn decode_jpeg(bytes: &[u8], fade_colour: bool) -> Result<image::GrayImage, Failure> {
    JpegDecoder::new(Cursor::new(bytes))
        .and_then(image::DynamicImage::from_decoder)
        .map(|image| super::gray_of(image, fade_colour))
        .map_err(|e| Failure::decode(ErrorKind::Corrupt, format!("jpeg: {e}")))
}

/// Width and height from the IHDR chunk, which must come first.
fn png_size(bytes: &[u8]) -> Result<(u32, u32), Failure> {
    if bytes.len() < 24 || &bytes[12..16] != b"IHDR" {
        return Err(Failure::decode(ErrorKind::Corrupt, "png: missing IHDR header"));
    }
    let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let height = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    Ok((width, height))
}

pub(super) fn check_png_complete(bytes: &[u8]) -> Result<(), Failure> {
    let tail = &bytes[bytes.len().saturating_sub(64)..];
    if tail.windows(8).any(|w| w == b"IEND\xAE\x42\x60\x82") {
        Ok(())
    } else {
        Err(Failure::decode(
            ErrorKind::Truncated,
            "png truncated (no IEND chunk at the end)",
        ))
    }
}

/// A JPEG ends with the EOI marker; the entropy-coded data never holds `FF D9` (0xFF is
/// always stuffed), so its absence at the end means the file was cut.
pub(super) fn check_jpeg_complete(bytes: &[u8]) -> Result<(), Failure> {
    let mut end = bytes.len();
    while end > 0 && matches!(bytes[end - 1], 0x00 | b'\r' | b'\n' | b' ') {
        end -= 1;
    }
    if end >= 2 && bytes[end - 2..end] == [0xFF, 0xD9] {
        Ok(())
    } else {
        Err(Failure::decode(
            ErrorKind::Truncated,
            "jpeg truncated (no end-of-image marker)",
        ))
    }
}

/// Resolution from a PNG `pHYs` chunk (pixels per metre), if present before the image data.
fn png_dpi(bytes: &[u8]) -> Option<u32> {
    let mut pos = 8;
    while pos + 12 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().ok()?) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        if kind == b"IDAT" || kind == b"IEND" {
            return None;
        }
        if kind == b"pHYs" && len == 9 && pos + 17 <= bytes.len() {
            let ppm = u32::from_be_bytes(bytes[pos + 8..pos + 12].try_into().ok()?);
            let unit_is_metre = bytes[pos + 16] == 1;
            return (unit_is_metre && ppm > 0).then(|| (f64::from(ppm) * 0.0254).round() as u32);
        }
        pos = pos.checked_add(12 + len)?;
    }
    None
}

/// Resolution from a JFIF APP0 segment, if it states one.
fn jpeg_dpi(bytes: &[u8]) -> Option<u32> {
    let app0 = bytes.get(2..20)?;
    if app0[0] != 0xFF || app0[1] != 0xE0 || &app0[4..9] != b"JFIF\0" {
        return None;
    }
    let units = app0[11];
    let x_density = u32::from(u16::from_be_bytes([app0[12], app0[13]]));
    match (units, x_density) {
        (_, 0) => None,
        (1, d) => Some(d),
        (2, d) => Some((f64::from(d) * 2.54).round() as u32),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let image = image::GrayImage::from_pixel(width, height, image::Luma([200]));
        image::DynamicImage::ImageLuma8(image)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    fn limits() -> Limits {
        Limits {
            max_pages: 10,
            max_page_pixels: 10_000,
            raster_dpi: 300,
            tool_timeout: std::time::Duration::from_secs(1),
            text_layer_min_chars: 40,
            fade_colour: true,
        }
    }

    #[test]
    fn decodes_a_complete_png() {
        let raster = Raster::open(png_bytes(20, 10).into(), MediaType::Png, &limits()).unwrap();
        let page = raster.page().unwrap();
        assert_eq!(page.image.dimensions(), (20, 10));
        assert_eq!(page.image.get_pixel(3, 3).0, [200]);
    }

    #[test]
    fn truncated_png_is_refused_before_decoding() {
        let bytes = png_bytes(20, 10);
        let cut: Arc<[u8]> = bytes[..bytes.len() - 20].into();
        let err = Raster::open(cut, MediaType::Png, &limits()).err().unwrap();
        assert_eq!(err.kind, ErrorKind::Truncated);
    }

    #[test]
    fn bomb_is_refused_from_its_header() {
        let err = Raster::open(png_bytes(200, 200).into(), MediaType::Png, &limits())
            .err()
            .unwrap();
        assert_eq!(err.kind, ErrorKind::TooLarge);
        assert!(err.message.contains("200x200 exceeds pixel limit"), "{err}");
    }

    #[test]
    fn jpeg_without_eoi_is_truncated() {
        assert!(check_jpeg_complete(&[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 0xFF, 0xD9, 0]).is_ok());
        assert_eq!(
            check_jpeg_complete(&[0xFF, 0xD8, 0xFF, 0xE0, 1, 2])
                .unwrap_err()
                .kind,
            ErrorKind::Truncated
        );
    }

    #[test]
    fn reads_jfif_density() {
        let mut header = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
        header.extend_from_slice(b"JFIF\0\x01\x01\x01\x01\x2C\x01\x2C\0\0");
        assert_eq!(jpeg_dpi(&header), Some(300));
    }
}
