//! TIFF files, every page of them (the `image` crate reads only the first).
//!
//! Opening walks the whole directory chain and checks that each page's strips or tiles lie
//! inside the file: a multi-page TIFF cut short must fail as truncated, not be filed as fewer
//! pages (Tesseract happily OCRs what is left).

use std::io::Cursor;
use std::sync::Arc;

use tiff::decoder::{Decoder, DecodingResult};
use tiff::tags::Tag;
use tiff::{ColorType, TiffError};

use super::{Limits, luma, unpack_bits};
use crate::model::{Bitmap, ErrorKind, Failure};

pub struct Tiff {
    bytes: Arc<[u8]>,
    pages: Vec<PageInfo>,
    decoder_limits: tiff::decoder::Limits,
    fade_colour: bool,
}

struct PageInfo {
    dpi: Option<u32>,
    /// The vertical resolution, when the pixels are not square (a fax's 204 x 98 dpi).
    y_dpi: Option<u32>,
    /// The `tiff` crate reads its colour layout.
    native: bool,
}

impl Tiff {
    pub fn open(bytes: Arc<[u8]>, limits: &Limits) -> Result<Self, Failure> {
        let decoder_limits = decoder_limits(limits);
        let mut decoder = Decoder::new(Cursor::new(&bytes[..]))
            .map_err(|e| tiff_error(&e, "tiff header"))?
            .with_limits(decoder_limits.clone());
        let mut pages = Vec::new();
        loop {
            let page_no = pages.len() + 1;
            limits.check_page_count(page_no)?;
            let what = format!("tiff page {page_no}");
            let (width, height) = decoder.dimensions().map_err(|e| tiff_error(&e, &what))?;
            limits.check_pixels(&what, u64::from(width), u64::from(height))?;
            // A colour layout the crate does not read (a palette, CMYK, gray with alpha) is
            // left to libtiff when the page is decoded.
            let native = match decoder.colortype() {
                Ok(color) => supported(color).is_ok(),
                Err(TiffError::UnsupportedError(_)) => false,
                Err(e) => return Err(tiff_error(&e, &what)),
            };
            check_chunks_inside(&mut decoder, bytes.len(), &what)?;
            pages.push(PageInfo {
                dpi: read_dpi(&mut decoder, Tag::XResolution),
                y_dpi: read_dpi(&mut decoder, Tag::YResolution),
                native,
            });
            if !decoder.more_images() {
                break;
            }
            decoder
                .next_image()
                .map_err(|e| tiff_error(&e, &format!("tiff page {}", page_no + 1)))?;
        }
        Ok(Tiff {
            bytes,
            pages,
            decoder_limits,
            fade_colour: limits.fade_colour,
        })
    }

    pub fn n_pages(&self) -> usize {
        self.pages.len()
    }

    pub fn page(&self, page_idx: usize) -> Result<Bitmap, Failure> {
        let what = format!("tiff page {}", page_idx + 1);
        let mut decoder = Decoder::new(Cursor::new(&self.bytes[..]))
            .map_err(|e| tiff_error(&e, "tiff header"))?
            .with_limits(self.decoder_limits.clone());
        decoder
            .seek_to_image(page_idx)
            .map_err(|e| tiff_error(&e, &what))?;
        let (width, height) = decoder.dimensions().map_err(|e| tiff_error(&e, &what))?;
        let page = &self.pages[page_idx];
        let image = if !page.native {
            self.via_libtiff(
                page_idx,
                (width, height),
                &what,
                "its colour layout is not read natively",
            )?
        } else {
            let color = decoder.colortype().map_err(|e| tiff_error(&e, &what))?;
            match decoder.read_image() {
                Ok(data) => {
                    let gray = to_gray(data, color, width, height, self.fade_colour)
                        .map_err(|e| e.context(&what))?;
                    image::GrayImage::from_raw(width, height, gray).ok_or_else(|| {
                        Failure::decode(
                            ErrorKind::Corrupt,
                            format!("{what}: pixel data shorter than its size"),
                        )
                    })?
                }
                // A compression the crate lacks (CCITT Group 3, modified Huffman).
                Err(error @ TiffError::UnsupportedError(_)) => {
                    self.via_libtiff(page_idx, (width, height), &what, &error.to_string())?
                }
                Err(error) => return Err(tiff_error(&error, &what)),
            }
        };
        Ok(Bitmap {
            image: square_pixels(image, page.dpi, page.y_dpi),
            dpi: page.dpi,
        })
    }

    /// The page read by libtiff, for what the `tiff` crate does not read (`why`).
    fn via_libtiff(
        &self,
        page_idx: usize,
        size: (u32, u32),
        what: &str,
        why: &str,
    ) -> Result<image::GrayImage, Failure> {
        let image = super::leptonica::tiff_page(&self.bytes, page_idx)
            .map_err(|(kind, more)| Failure::decode(kind, format!("{what}: {why}; {more}")))?;
        if image.dimensions() != size {
            return Err(Failure::decode(
                ErrorKind::Corrupt,
                format!(
                    "{what}: libtiff read {:?}, the file says {size:?}",
                    image.dimensions()
                ),
            ));
        }
        Ok(image)
    }
}

/// A page scanned at a lower resolution down than across (a standard-resolution fax is
/// 204 x 98 dpi) stretched to (nearly) square pixels, or its letters are half as tall as OCR
/// expects.
fn square_pixels(image: image::GrayImage, x_dpi: Option<u32>, y_dpi: Option<u32>) -> image::GrayImage {
    let (Some(x_dpi), Some(y_dpi)) = (x_dpi, y_dpi) else {
        return image;
    };
    let (width, height) = image.dimensions();
    let height_at_x_dpi = u64::from(height) * u64::from(x_dpi) / u64::from(y_dpi);
    // Within 5% is a rounding of the same resolution, not a different one; beyond 2.5 times
    // (a fax's is 2.08) is no scanner's, and stretching that far could take a page at the
    // pixel limit far over it.
    let ratio = height_at_x_dpi as f64 / f64::from(height);
    if !(0.4..=2.5).contains(&ratio) || (0.95..=1.05).contains(&ratio) {
        return image;
    }
    // A whole number of times (a fax's 2.08 as 2): each scan line then becomes the same number
    // of rows. Stretched by the exact ratio, every twelfth row came out a blend of two lines,
    // and on 96 noisy faxes OCR read the MRN, name and birth date of 67, 66 and 59 of them,
    // against 85, 84 and 77 at twice the height (the letters 4% short is nothing to OCR).
    let whole = ratio.round();
    let height_at_x_dpi = if whole >= 2.0 && (ratio - whole).abs() <= 0.1 * whole {
        u64::from(height) * whole as u64
    } else {
        height_at_x_dpi
    };
    let Ok(new_height) = u32::try_from(height_at_x_dpi) else {
        return image;
    };
    image::imageops::resize(
        &image,
        width,
        new_height.max(1),
        image::imageops::FilterType::Triangle,
    )
}

fn decoder_limits(limits: &Limits) -> tiff::decoder::Limits {
    let mut decoder_limits = tiff::decoder::Limits::default();
    // Room for the largest allowed page in 16-bit RGBA, the widest layout we accept.
    decoder_limits.decoding_buffer_size =
        usize::try_from(limits.max_page_pixels.saturating_mul(8)).unwrap_or(usize::MAX);
    decoder_limits
}

fn supported(color: ColorType) -> Result<(), Failure> {
    match color {
        ColorType::Gray(1 | 8 | 16) | ColorType::RGB(8 | 16) | ColorType::RGBA(8 | 16) => Ok(()),
        ColorType::GrayA(8) => Ok(()),
        other => Err(Failure::decode(
            ErrorKind::Unsupported,
            format!("colour type {other:?} is not supported"),
        )),
    }
}

/// Every strip or tile of the current page must lie inside the file.
fn check_chunks_inside(
    decoder: &mut Decoder<Cursor<&[u8]>>,
    file_len: usize,
    what: &str,
) -> Result<(), Failure> {
    let (offsets_tag, counts_tag) = match decoder.find_tag(Tag::TileOffsets) {
        Ok(Some(_)) => (Tag::TileOffsets, Tag::TileByteCounts),
        _ => (Tag::StripOffsets, Tag::StripByteCounts),
    };
    let offsets: Vec<u64> = decoder
        .find_tag_unsigned_vec(offsets_tag)
        .map_err(|e| tiff_error(&e, what))?
        .unwrap_or_default();
    let counts: Vec<u64> = decoder
        .find_tag_unsigned_vec(counts_tag)
        .map_err(|e| tiff_error(&e, what))?
        .unwrap_or_default();
    if offsets.is_empty() || offsets.len() != counts.len() {
        return Err(Failure::decode(
            ErrorKind::Corrupt,
            format!("{what} has no usable strip or tile table"),
        ));
    }
    let past_end = offsets
        .iter()
        .zip(&counts)
        .any(|(offset, count)| offset.saturating_add(*count) > file_len as u64);
    if past_end {
        return Err(Failure::decode(
            ErrorKind::Truncated,
            format!("{what} truncated (its image data runs past the end of the file)"),
        ));
    }
    Ok(())
}

fn read_dpi(decoder: &mut Decoder<Cursor<&[u8]>>, tag: Tag) -> Option<u32> {
    // A RATIONAL, which `get_tag_f64` does not convert.
    let resolution = match decoder.get_tag(tag).ok()? {
        tiff::decoder::ifd::Value::Rational(n, d) if d != 0 => f64::from(n) / f64::from(d),
        other => other.into_f64().ok()?,
    };
    let unit = decoder
        .find_tag_unsigned::<u16>(Tag::ResolutionUnit)
        .ok()
        .flatten()
        .unwrap_or(2);
    let dpi = match unit {
        2 => resolution,
        3 => resolution * 2.54,
        _ => return None,
    };
    (dpi.is_finite() && (20.0..=4800.0).contains(&dpi)).then(|| dpi.round() as u32)
}

fn to_gray(
    data: DecodingResult,
    color: ColorType,
    width: u32,
    height: u32,
    fade: bool,
) -> Result<Vec<u8>, Failure> {
    let n_pixels = width as usize * height as usize;
    let gray = match (color, data) {
        (ColorType::Gray(1), DecodingResult::U8(packed)) => {
            // The decoder normalises photometric interpretation: a 1 bit is white.
            unpack_bits(&packed, width, height, (width as usize).div_ceil(8), 255)
        }
        (ColorType::Gray(8), DecodingResult::U8(v)) => v,
        (ColorType::Gray(16), DecodingResult::U16(v)) => v.iter().map(|s| (s >> 8) as u8).collect(),
        (ColorType::GrayA(8), DecodingResult::U8(v)) => v.chunks_exact(2).map(|p| p[0]).collect(),
        (ColorType::RGB(8), DecodingResult::U8(v)) => {
            v.chunks_exact(3).map(|p| luma(p[0], p[1], p[2], fade)).collect()
        }
        (ColorType::RGBA(8), DecodingResult::U8(v)) => {
            v.chunks_exact(4).map(|p| luma(p[0], p[1], p[2], fade)).collect()
        }
        (ColorType::RGB(16), DecodingResult::U16(v)) => v
            .chunks_exact(3)
            .map(|p| luma((p[0] >> 8) as u8, (p[1] >> 8) as u8, (p[2] >> 8) as u8, fade))
            .collect(),
        (ColorType::RGBA(16), DecodingResult::U16(v)) => v
            .chunks_exact(4)
            .map(|p| luma((p[0] >> 8) as u8, (p[1] >> 8) as u8, (p[2] >> 8) as u8, fade))
            .collect(),
        (other, _) => {
            return Err(Failure::decode(
                ErrorKind::Unsupported,
                format!("colour type {other:?} is not supported"),
            ));
        }
    };
    if gray.len() < n_pixels {
        return Err(Failure::decode(ErrorKind::Truncated, "pixel data ends early"));
    }
    Ok(gray)
}

fn tiff_error(error: &TiffError, what: &str) -> Failure {
    let kind = match error {
        TiffError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => ErrorKind::Truncated,
        TiffError::UnsupportedError(_) => ErrorKind::Unsupported,
        TiffError::LimitsExceeded => ErrorKind::TooLarge,
        _ => ErrorKind::Corrupt,
    };
    let message = match kind {
        ErrorKind::Truncated => format!("{what} truncated"),
        _ => format!("{what}: {error}"),
    };
    Failure::decode(kind, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fax_is_stretched_a_whole_number_of_times_other_pages_by_their_ratio() {
        let height =
            |x_dpi, y_dpi| square_pixels(image::GrayImage::new(10, 49), Some(x_dpi), Some(y_dpi)).height();
        assert_eq!(height(204, 98), 98, "a standard fax's 2.08 as 2");
        assert_eq!(height(204, 196), 49, "a fine fax is square enough");
        assert_eq!(height(300, 200), 73, "1.5 is no whole number");
        assert_eq!(height(200, 300), 32, "finer down than across");
        assert_eq!(height(2400, 100), 49, "no scanner's: left alone");
        assert_eq!(
            square_pixels(image::GrayImage::new(10, 49), Some(204), None).height(),
            49
        );
    }
}
