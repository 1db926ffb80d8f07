//! Bytes to pages: PNG, JPEG, TIFF (every page; uncompressed, LZW, Deflate, PackBits, JPEG,
//! CCITT Group 4) and PDF (text layer, embedded page image, or rasterised).
//!
//! The format is decided from the content, never the file name. A file is checked for
//! completeness and its declared page sizes against the pixel limit when it is opened, before
//! any pixel is decoded, so a truncated or bomb file fails fast with a reason. Pages are then
//! decoded one at a time ([`Opened::page`]) so a 500-page file never sits in memory at once.
//! This module does no file I/O of its own; the one exception is PDF, which hands the bytes to
//! poppler (`pdftotext`, `pdftoppm`) through a private temporary file, under a timeout.

mod leptonica;
mod pdf;
mod poppler;
mod raster;
mod tiff;

use std::time::Duration;

use crate::config::Config;
use crate::model::{ErrorKind, Failure, MediaType, PageContent};

/// The limits and choices decoding works under (a slice of [`Config`]).
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_pages: u32,
    pub max_page_pixels: u64,
    pub raster_dpi: u32,
    pub tool_timeout: Duration,
    pub text_layer_min_chars: usize,
    /// Colour fades to paper by its saturation ([`luma`]), or plain luma.
    pub fade_colour: bool,
}

impl Limits {
    pub fn from_config(config: &Config) -> Self {
        Limits {
            max_pages: config.ingest.max_pages,
            max_page_pixels: config.ingest.max_page_pixels,
            raster_dpi: config.pdf.raster_dpi,
            tool_timeout: Duration::from_secs(config.pdf.tool_timeout_secs),
            text_layer_min_chars: config.pdf.text_layer_min_chars,
            fade_colour: config.preprocess.fade_colour,
        }
    }

    /// Refuses a page whose declared size is above the pixel limit.
    fn check_pixels(&self, what: &str, width: u64, height: u64) -> Result<(), Failure> {
        if width == 0 || height == 0 {
            return Err(Failure::decode(
                ErrorKind::Corrupt,
                format!("{what} declares an empty size {width}x{height}"),
            ));
        }
        if width.saturating_mul(height) > self.max_page_pixels {
            return Err(Failure::decode(
                ErrorKind::TooLarge,
                format!(
                    "{what} {width}x{height} exceeds pixel limit ({} pixels)",
                    self.max_page_pixels
                ),
            ));
        }
        Ok(())
    }

    fn check_page_count(&self, n_pages: usize) -> Result<(), Failure> {
        if n_pages > self.max_pages as usize {
            return Err(Failure::decode(
                ErrorKind::TooLarge,
                format!("{n_pages} pages exceed the limit of {}", self.max_pages),
            ));
        }
        Ok(())
    }
}

/// A file whose structure has been checked, ready to decode page by page (from any thread).
pub struct Opened {
    pub media_type: MediaType,
    inner: Inner,
}

enum Inner {
    Raster(raster::Raster),
    Tiff(tiff::Tiff),
    Pdf(Box<pdf::Pdf>),
}

impl Opened {
    pub fn n_pages(&self) -> usize {
        match &self.inner {
            Inner::Raster(_) => 1,
            Inner::Tiff(tiff) => tiff.n_pages(),
            Inner::Pdf(pdf) => pdf.n_pages(),
        }
    }

    /// Decodes page `page_idx` (0-based).
    pub fn page(&self, page_idx: usize) -> Result<PageContent, Failure> {
        match &self.inner {
            Inner::Raster(raster) => raster.page().map(PageContent::Bitmap),
            Inner::Tiff(tiff) => tiff.page(page_idx).map(PageContent::Bitmap),
            Inner::Pdf(pdf) => pdf.page(page_idx),
        }
    }
}

/// Decides the format from the leading bytes.
pub fn sniff(bytes: &[u8]) -> Result<MediaType, Failure> {
    if bytes.is_empty() {
        return Err(Failure::decode(ErrorKind::Empty, "file is empty (0 bytes)"));
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(MediaType::Png);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(MediaType::Jpeg);
    }
    if bytes.starts_with(b"II*\0")
        || bytes.starts_with(b"MM\0*")
        || bytes.starts_with(b"II+\0")
        || bytes.starts_with(b"MM\0+")
    {
        return Ok(MediaType::Tiff);
    }
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Ok(MediaType::Pdf);
    }
    if let Some(format) = foreign_format(bytes) {
        return Err(Failure::decode(
            ErrorKind::Unsupported,
            format!("{format}, not a format chartscan files (PDF, PNG, JPEG or TIFF)"),
        ));
    }
    let printable = head
        .iter()
        .filter(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
        .count();
    let looks_like = if printable * 10 >= head.len() * 9 {
        "text"
    } else {
        "binary data"
    };
    Err(Failure::decode(
        ErrorKind::Unsupported,
        format!("not a PDF, PNG, JPEG or TIFF file (content looks like {looks_like})"),
    ))
}

/// What a file in a format we do not take is, by its signature, so an operator knows what to
/// convert it from.
fn foreign_format(bytes: &[u8]) -> Option<&'static str> {
    let at = |offset: usize, signature: &[u8]| bytes.get(offset..offset + signature.len()) == Some(signature);
    // A BMP's info header is one of a few known sizes; "BM" alone starts words too.
    let bmp_header = bytes
        .get(14..18)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    Some(match () {
        () if at(0, b"GIF87a") || at(0, b"GIF89a") => "a GIF image",
        () if at(0, b"BM") && matches!(bmp_header, Some(12 | 40 | 52 | 56 | 108 | 124)) => "a BMP image",
        () if at(0, b"RIFF") && at(8, b"WEBP") => "a WebP image",
        () if at(0, b"\0\0\0\x0cjP  \r\n\x87\n") || at(0, &[0xFF, 0x4F, 0xFF, 0x51]) => "a JPEG 2000 image",
        () if at(4, b"ftypheic") || at(4, b"ftypheix") || at(4, b"ftypmif1") => "a HEIC image",
        () if at(4, b"ftypavif") => "an AVIF image",
        () if at(128, b"DICM") => "a DICOM file",
        () if at(0, b"PK\x03\x04") => "a ZIP archive (or an Office document)",
        () if at(0, &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) => "an old Office document",
        () if at(0, b"{\\rtf") => "an RTF document",
        () => return None,
    })
}

/// Whether a file's bytes are all there, as far as its format can tell: PNG ends in `IEND`,
/// JPEG in `EOI`, PDF in `%%EOF`, a TIFF's directory chain and strips lie inside the file. An
/// unknown format counts as complete: decoding will say what is wrong with it.
pub fn completeness(bytes: &[u8]) -> Result<(), Failure> {
    let lax = Limits {
        max_pages: u32::MAX,
        max_page_pixels: u64::MAX,
        raster_dpi: 300,
        tool_timeout: Duration::from_secs(1),
        text_layer_min_chars: 0,
        fade_colour: true,
    };
    match sniff(bytes) {
        Err(failure) if failure.kind == ErrorKind::Empty => Err(failure),
        Err(_) => Ok(()),
        Ok(MediaType::Png) => raster::check_png_complete(bytes),
        Ok(MediaType::Jpeg) => raster::check_jpeg_complete(bytes),
        Ok(MediaType::Pdf) => pdf::check_eof_marker(bytes),
        Ok(MediaType::Tiff) => match tiff::Tiff::open(bytes.to_vec().into(), &lax) {
            Err(failure) if failure.kind == ErrorKind::Truncated => Err(failure),
            _ => Ok(()),
        },
    }
}

/// Checks a file's structure and declared sizes, without decoding pixels.
pub fn open(bytes: std::sync::Arc<[u8]>, limits: &Limits) -> Result<Opened, Failure> {
    let media_type = sniff(&bytes)?;
    let inner = match media_type {
        MediaType::Png | MediaType::Jpeg => Inner::Raster(raster::Raster::open(bytes, media_type, limits)?),
        MediaType::Tiff => Inner::Tiff(tiff::Tiff::open(bytes, limits)?),
        MediaType::Pdf => Inner::Pdf(Box::new(pdf::Pdf::open(&bytes, limits)?)),
    };
    Ok(Opened { media_type, inner })
}

/// Gray from 8-bit RGB for reading print: luma (ITU-R BT.601, integer weights) lightened by the
/// colour's saturation, so that black and gray print keep their darkness while coloured marks
/// over it (a red or blue RECEIVED stamp, a highlighter, coloured paper) fade to paper instead
/// of hiding the text under them as dark gray. Without `fade`, plain luma.
fn luma(r: u8, g: u8, b: u8, fade: bool) -> u8 {
    let luma = (77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b)) >> 8;
    let chroma = if fade {
        u32::from(r.max(g).max(b) - r.min(g).min(b))
    } else {
        0
    };
    (luma + chroma).min(255) as u8
}

/// A decoded image in gray as [`luma`] makes it (gray images as they are).
fn gray_of(image: image::DynamicImage, fade: bool) -> image::GrayImage {
    if !image.color().has_color() {
        return image.into_luma8();
    }
    let rgb = image.into_rgb8();
    let (width, height) = rgb.dimensions();
    let gray = rgb.pixels().map(|p| luma(p[0], p[1], p[2], fade)).collect();
    image::GrayImage::from_raw(width, height, gray).expect("one gray pixel per colour pixel")
}

/// Expands MSB-first packed 1-bit rows (`row_bytes` each) into 0/255 gray, `one` being the
/// gray value of a 1 bit.
fn unpack_bits(packed: &[u8], width: u32, height: u32, row_bytes: usize, one: u8) -> Vec<u8> {
    let zero = 255 - one;
    let mut out = Vec::with_capacity(width as usize * height as usize);
    for row in packed.chunks(row_bytes).take(height as usize) {
        for x in 0..width as usize {
            let bit = row.get(x / 8).is_some_and(|byte| byte & (0x80 >> (x % 8)) != 0);
            out.push(if bit { one } else { zero });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_fades_and_black_and_gray_print_keep_their_darkness() {
        assert_eq!(luma(0, 0, 0, true), 0);
        assert_eq!(luma(128, 128, 128, true), 128);
        assert_eq!(luma(255, 255, 255, true), 255);
        assert!(luma(200, 30, 40, true) > 240, "a red stamp's ink");
        assert!(luma(30, 60, 190, true) > 215, "a blue stamp's ink");
        assert!(luma(251, 244, 218, true) > 250, "tinted paper");
        assert!(luma(255, 255, 0, true) == 255, "a highlighter");
        let mut page = image::RgbImage::from_pixel(4, 1, image::Rgb([250, 245, 220]));
        page.put_pixel(1, 0, image::Rgb([10, 10, 10]));
        page.put_pixel(2, 0, image::Rgb([200, 30, 40]));
        let gray = gray_of(image::DynamicImage::ImageRgb8(page.clone()), true);
        assert_eq!(gray.as_raw()[1], 10, "black print");
        assert!(gray.as_raw()[2] > 240 && gray.as_raw()[0] == 255);
        let plain = image::GrayImage::from_pixel(2, 1, image::Luma([77]));
        assert_eq!(
            gray_of(image::DynamicImage::ImageLuma8(plain.clone()), true),
            plain
        );
        let plain_luma = gray_of(image::DynamicImage::ImageRgb8(page), false);
        assert_eq!(plain_luma.as_raw()[2], luma(200, 30, 40, false));
        assert!(
            plain_luma.as_raw()[2] < 100,
            "switched off, a red stamp stays dark"
        );
    }

    #[test]
    fn sniffs_by_content_not_name() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest").unwrap(), MediaType::Png);
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(), MediaType::Jpeg);
        assert_eq!(sniff(b"II*\0....").unwrap(), MediaType::Tiff);
        assert_eq!(sniff(b"MM\0*....").unwrap(), MediaType::Tiff);
        assert_eq!(sniff(b"junk\n%PDF-1.4\n").unwrap(), MediaType::Pdf);
    }

    #[test]
    fn refuses_empty_and_foreign_content() {
        assert_eq!(sniff(b"").unwrap_err().kind, ErrorKind::Empty);
        let text = sniff(b"Dear Dr Smith, please see the enclosed").unwrap_err();
        assert_eq!(text.kind, ErrorKind::Unsupported);
        assert!(text.message.contains("looks like text"), "{text}");
        let zip = sniff(b"PK\x03\x04\x14\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00").unwrap_err();
        assert!(zip.message.starts_with("a ZIP archive"), "{zip}");
        let gif = sniff(b"GIF89a\x10\x00\x10\x00").unwrap_err();
        assert_eq!(gif.kind, ErrorKind::Unsupported);
        assert!(gif.message.starts_with("a GIF image, not a format"), "{gif}");
        let mut bmp = b"BM\0\0\0\0\0\0\0\0\x36\0\0\0".to_vec();
        bmp.extend_from_slice(&40u32.to_le_bytes());
        assert!(sniff(&bmp).unwrap_err().message.starts_with("a BMP image"));
        // A letter that happens to start with "BM" is text, not a bitmap.
        let letter = sniff(b"BMI 31, weight stable. Plan: diet and exercise.").unwrap_err();
        assert!(letter.message.contains("looks like text"), "{letter}");
        let binary = sniff(&[0x01, 0x02, 0x03, 0x04, 0xFE, 0x00, 0x07, 0x08]).unwrap_err();
        assert!(binary.message.contains("binary"), "{binary}");
    }

    #[test]
    fn unpacks_bits_msb_first() {
        assert_eq!(unpack_bits(&[0b1010_0000], 3, 1, 1, 255), vec![255, 0, 255]);
        assert_eq!(unpack_bits(&[0b1000_0000, 0], 2, 2, 1, 0), vec![0, 255, 255, 255]);
    }

    #[test]
    fn pixel_limit_is_checked_from_declared_size() {
        let limits = Limits {
            max_pages: 10,
            max_page_pixels: 1_000_000,
            raster_dpi: 300,
            tool_timeout: Duration::from_secs(1),
            text_layer_min_chars: 40,
            fade_colour: true,
        };
        let err = limits.check_pixels("image", 40000, 40000).unwrap_err();
        assert_eq!(err.kind, ErrorKind::TooLarge);
        assert!(
            err.to_string()
                .starts_with("decode: image 40000x40000 exceeds pixel limit")
        );
        assert!(limits.check_pixels("image", 1000, 1000).is_ok());
        assert_eq!(
            limits.check_pixels("image", 0, 10).unwrap_err().kind,
            ErrorKind::Corrupt
        );
    }
}
