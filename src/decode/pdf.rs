//! PDF files, page by page, in the cheapest faithful way:
//!
//! 1. a page whose text layer (from `pdftotext`) holds real text is not OCRed; its text is used;
//! 2. a scanned page, one image drawn over the page and nothing else, has that image extracted
//!    at its native resolution (DCT, Flate, CCITT G4, JBIG2), turned the way the page shows it;
//! 3. anything else is rasterised by `pdftoppm` at the configured resolution.
//!
//! Structure comes from lopdf, text and rasterising from poppler. An image in a filter we do not
//! decode falls back to rasterising; an image in a filter we do decode that turns out damaged is
//! an error (poppler would quietly render a half page).

use std::io::{Read, Write};

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::{Limits, luma, poppler, raster};
use crate::model::{Bitmap, ErrorKind, Failure, PageContent};

pub struct Pdf {
    doc: Document,
    page_ids: Vec<ObjectId>,
    text_layers: Vec<String>,
    file: tempfile::NamedTempFile,
    limits: Limits,
}

impl Pdf {
    pub fn open(bytes: &[u8], limits: &Limits) -> Result<Self, Failure> {
        check_eof_marker(bytes)?;
        let doc = Document::load_mem(bytes).map_err(|e| load_error(&e))?;
        if doc.is_encrypted() {
            return Err(Failure::pdf(ErrorKind::Encrypted, "encrypted, password required"));
        }
        let page_ids: Vec<ObjectId> = doc.get_pages().into_values().collect();
        if page_ids.is_empty() {
            return Err(Failure::pdf(ErrorKind::Empty, "document has no pages"));
        }
        limits.check_page_count(page_ids.len())?;
        let file = temp_copy(bytes)?;
        let text_layers = poppler::page_texts(file.path(), limits.tool_timeout)?;
        Ok(Pdf {
            doc,
            page_ids,
            text_layers,
            file,
            limits: limits.clone(),
        })
    }

    pub fn n_pages(&self) -> usize {
        self.page_ids.len()
    }

    pub fn page(&self, page_idx: usize) -> Result<PageContent, Failure> {
        let text = self.text_layers.get(page_idx).map_or("", String::as_str);
        let n_alnum = text.chars().filter(|c| c.is_alphanumeric()).count();
        if n_alnum >= self.limits.text_layer_min_chars {
            return Ok(PageContent::TextLayer(text.trim_end().to_string()));
        }
        let page_no = page_idx + 1;
        let bitmap = match self.page_image(page_idx, n_alnum > 0) {
            Ok(Some(bitmap)) => bitmap,
            Ok(None) => self.rasterize(page_idx)?,
            Err(failure) => return Err(failure.context(format!("page {page_no}"))),
        };
        Ok(PageContent::Bitmap(bitmap))
    }

    /// The page's one full-page image, decoded and turned as displayed; `None` when the page is
    /// anything else or the image is in a form only a renderer handles.
    fn page_image(&self, page_idx: usize, has_some_text: bool) -> Result<Option<Bitmap>, Failure> {
        let page_id = self.page_ids[page_idx];
        let Ok(page) = self.doc.get_dictionary(page_id) else {
            return Ok(None);
        };
        let Ok(content) = self.doc.get_page_content_with_limit(page_id, 16 << 20) else {
            return Ok(None);
        };
        let Ok(content) = Content::decode(&content) else {
            return Ok(None);
        };
        let drawing = scan(&content);
        let [(name, ctm)] = drawing.images.as_slice() else {
            return Ok(None);
        };
        if drawing.paints > 0 || drawing.other > 0 || (drawing.texts > 0 && has_some_text) {
            return Ok(None);
        }
        let Some(stream) = self.image_xobject(page, name) else {
            return Ok(None);
        };
        let Some(orientation) = Orientation::from_matrix(ctm) else {
            return Ok(None);
        };
        if let Some([x0, y0, x1, y1]) = self.inherited(page, b"MediaBox").and_then(rect) {
            let page_area = ((x1 - x0) * (y1 - y0)).abs();
            let image_area = (ctm[0] * ctm[3] - ctm[1] * ctm[2]).abs();
            if image_area < 0.5 * page_area {
                return Ok(None);
            }
        }
        let Some(image) = decode_image(&self.doc, stream, &self.limits)? else {
            return Ok(None);
        };
        let shown_width_pt = ctm[0].hypot(ctm[1]);
        let dpi = (f64::from(image.width()) / (shown_width_pt / 72.0)).round();
        let image = orientation.apply(&image);
        let rotate = self
            .inherited(page, b"Rotate")
            .and_then(number)
            .map_or(0, |r| (r as i64).rem_euclid(360));
        let image = match rotate {
            90 => image::imageops::rotate90(&image),
            180 => image::imageops::rotate180(&image),
            270 => image::imageops::rotate270(&image),
            _ => image,
        };
        Ok(Some(Bitmap {
            image,
            dpi: (50.0..=2400.0).contains(&dpi).then_some(dpi as u32),
        }))
    }

    fn rasterize(&self, page_idx: usize) -> Result<Bitmap, Failure> {
        let page_no = page_idx + 1;
        let dpi = self.limits.raster_dpi;
        let page = self.doc.get_dictionary(self.page_ids[page_idx]).ok();
        let size = page
            .and_then(|page| self.inherited(page, b"MediaBox"))
            .and_then(rect)
            .map(|[x0, y0, x1, y1]| ((x1 - x0).abs(), (y1 - y0).abs()));
        if let Some((w_pt, h_pt)) = size {
            let to_px = |pt: f64| (pt / 72.0 * f64::from(dpi)).ceil() as u64;
            self.limits.check_pixels(
                &format!("pdf page {page_no} at {dpi} dpi"),
                to_px(w_pt),
                to_px(h_pt),
            )?;
        }
        let image = poppler::rasterize(self.file.path(), page_no, dpi, self.limits.tool_timeout)
            .map_err(|e| e.context(format!("page {page_no}")))?;
        Ok(Bitmap {
            image,
            dpi: Some(dpi),
        })
    }

    /// An attribute of a page, looked up through its ancestors (`Resources`, `MediaBox` and
    /// `Rotate` are inheritable).
    fn inherited<'a>(&'a self, page: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
        let mut node = page;
        for _ in 0..32 {
            if let Ok(value) = node.get(key) {
                return self.doc.dereference(value).ok().map(|(_, object)| object);
            }
            let parent = node.get(b"Parent").and_then(Object::as_reference).ok()?;
            node = self.doc.get_dictionary(parent).ok()?;
        }
        None
    }

    fn image_xobject<'a>(&'a self, page: &'a Dictionary, name: &[u8]) -> Option<&'a Stream> {
        let resources = self.inherited(page, b"Resources")?.as_dict().ok()?;
        let xobjects = resources.get_deref(b"XObject", &self.doc).ok()?.as_dict().ok()?;
        let stream = xobjects.get_deref(name, &self.doc).ok()?.as_stream().ok()?;
        let is_image = stream
            .dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .is_ok_and(|s| s == b"Image");
        is_image.then_some(stream)
    }
}

pub(super) fn check_eof_marker(bytes: &[u8]) -> Result<(), Failure> {
    let tail = &bytes[bytes.len().saturating_sub(2048)..];
    if tail.windows(5).any(|w| w == b"%%EOF") {
        Ok(())
    } else {
        Err(Failure::pdf(
            ErrorKind::Truncated,
            "truncated (no %%EOF marker at the end)",
        ))
    }
}

fn load_error(error: &lopdf::Error) -> Failure {
    match error {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => {
            Failure::pdf(ErrorKind::Encrypted, "encrypted, password required")
        }
        other => Failure::pdf(ErrorKind::Corrupt, format!("cannot parse: {other}")),
    }
}

fn temp_copy(bytes: &[u8]) -> Result<tempfile::NamedTempFile, Failure> {
    let io_error =
        |e: std::io::Error| Failure::pdf(ErrorKind::Tool, format!("temporary copy for poppler: {e}"));
    let mut file = tempfile::Builder::new()
        .prefix("chartscan-")
        .suffix(".pdf")
        .tempfile()
        .map_err(io_error)?;
    file.write_all(bytes).map_err(io_error)?;
    file.flush().map_err(io_error)?;
    Ok(file)
}

/// What a page's content stream draws, coarsely.
#[derive(Default)]
struct Drawing {
    /// Image XObjects drawn, with the transformation they were drawn under.
    images: Vec<(Vec<u8>, [f64; 6])>,
    /// Path painting and shading operators.
    paints: usize,
    /// Text-showing operators.
    texts: usize,
    /// Anything that needs a renderer: inline images, form XObjects we cannot see into.
    other: usize,
}

fn scan(content: &Content) -> Drawing {
    let mut drawing = Drawing::default();
    let mut ctm = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    let mut stack = Vec::new();
    for op in &content.operations {
        match op.operator.as_str() {
            "q" => stack.push(ctm),
            "Q" => ctm = stack.pop().unwrap_or(ctm),
            "cm" => {
                let m: Vec<f64> = op.operands.iter().filter_map(number).collect();
                if let Ok(m) = <[f64; 6]>::try_from(m) {
                    ctm = multiply(&m, &ctm);
                }
            }
            "Do" => match op.operands.first().and_then(|o| o.as_name().ok()) {
                Some(name) => drawing.images.push((name.to_vec(), ctm)),
                None => drawing.other += 1,
            },
            "f" | "F" | "f*" | "B" | "B*" | "b" | "b*" | "S" | "s" | "sh" => drawing.paints += 1,
            "Tj" | "TJ" | "'" | "\"" => drawing.texts += 1,
            "BI" | "ID" | "EI" => drawing.other += 1,
            _ => {}
        }
    }
    drawing
}

/// `m` applied after `n` (PDF row-vector convention: m x n).
fn multiply(m: &[f64; 6], n: &[f64; 6]) -> [f64; 6] {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

fn number(object: &Object) -> Option<f64> {
    match object {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

fn rect(object: &Object) -> Option<[f64; 4]> {
    let values: Vec<f64> = object.as_array().ok()?.iter().filter_map(number).collect();
    values.try_into().ok()
}

/// How an image drawn under an axis-aligned matrix lands on the page: an optional transpose
/// (90 or 270 degrees) followed by mirrorings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Orientation {
    transpose: bool,
    flip_x: bool,
    flip_y: bool,
}

impl Orientation {
    /// Image column `u` and row `v` (rows run down) land at page x = a*u - c*v and
    /// y_down = -b*u + d*v, up to offsets.
    fn from_matrix(m: &[f64; 6]) -> Option<Self> {
        let [a, b, c, d, _, _] = *m;
        let scale = a.abs().max(b.abs()).max(c.abs()).max(d.abs());
        let tiny = |x: f64| x.abs() <= scale * 1e-3;
        if scale == 0.0 {
            None
        } else if tiny(b) && tiny(c) {
            Some(Orientation {
                transpose: false,
                flip_x: a < 0.0,
                flip_y: d < 0.0,
            })
        } else if tiny(a) && tiny(d) {
            // Page x follows image rows, page y follows image columns.
            Some(Orientation {
                transpose: true,
                flip_x: c > 0.0,
                flip_y: b > 0.0,
            })
        } else {
            None
        }
    }

    fn apply(self, image: &image::GrayImage) -> image::GrayImage {
        if self
            == (Orientation {
                transpose: false,
                flip_x: false,
                flip_y: false,
            })
        {
            return image.clone();
        }
        let (w, h) = image.dimensions();
        let (out_w, out_h) = if self.transpose { (h, w) } else { (w, h) };
        image::GrayImage::from_fn(out_w, out_h, |x, y| {
            let x = if self.flip_x { out_w - 1 - x } else { x };
            let y = if self.flip_y { out_h - 1 - y } else { y };
            if self.transpose {
                *image.get_pixel(y, x)
            } else {
                *image.get_pixel(x, y)
            }
        })
    }
}

/// Decodes an image XObject to gray; `None` for what only a renderer should handle.
fn decode_image(
    doc: &Document,
    stream: &Stream,
    limits: &Limits,
) -> Result<Option<image::GrayImage>, Failure> {
    let dict = &stream.dict;
    let int = |key: &[u8]| dict.get_deref(key, doc).ok().and_then(number).map(|n| n as i64);
    let (Some(width), Some(height)) = (int(b"Width"), int(b"Height")) else {
        return Err(Failure::pdf(ErrorKind::Corrupt, "image without Width/Height"));
    };
    if width <= 0 || height <= 0 {
        return Err(Failure::pdf(
            ErrorKind::Corrupt,
            format!("image has size {width}x{height}"),
        ));
    }
    let (width, height) = (width as u32, height as u32);
    limits.check_pixels("pdf image", u64::from(width), u64::from(height))?;
    let is_mask = dict.get(b"ImageMask").and_then(Object::as_bool).unwrap_or(false);
    let bpc = if is_mask {
        1
    } else {
        int(b"BitsPerComponent").unwrap_or(8)
    };
    let components = if is_mask {
        Some(1)
    } else {
        color_components(doc, dict)
    };
    let Some(components) = components else {
        return Ok(None);
    };
    let inverted = dict
        .get_deref(b"Decode", doc)
        .ok()
        .and_then(|d| d.as_array().ok())
        .and_then(|d| Some(number(d.first()?)? > number(d.get(1)?)?))
        .unwrap_or(false);

    let filters = names(dict.get_deref(b"Filter", doc).ok());
    let parms = decode_parms(doc, dict.get_deref(b"DecodeParms", doc).ok(), filters.len());
    let mut data = stream.content.clone();
    for (i, filter) in filters.iter().enumerate() {
        let is_last = i + 1 == filters.len();
        let parm = parms.get(i).copied().flatten();
        let gray = match filter.as_slice() {
            b"FlateDecode" | b"Fl" => {
                let row_bytes = (width as usize * components * bpc as usize).div_ceil(8);
                data = inflate(&data, (row_bytes + 1) * height as usize + 4096)?;
                match undo_predictor(&data, doc, parm, width, components, bpc) {
                    Some(undone) => data = undone,
                    None => return Ok(None),
                }
                continue;
            }
            // The JPEG decoder already turns CMYK (Adobe's inverted kind included) into gray,
            // so the dictionary's Decode array no longer applies to what it gives: a renderer's.
            b"DCTDecode" | b"DCT" if is_last && components == 4 => return Ok(None),
            b"DCTDecode" | b"DCT" if is_last => {
                raster::decode_jpeg(&data, limits.fade_colour).map_err(as_pdf)?
            }
            b"CCITTFaxDecode" | b"CCF" if is_last => match ccitt(&data, doc, parm, width, height)? {
                Some(gray) => gray,
                None => return Ok(None),
            },
            b"JBIG2Decode" if is_last => jbig2(&data, doc, parm, width, height)?,
            _ => return Ok(None),
        };
        if gray.dimensions() != (width, height) {
            return Err(Failure::pdf(
                ErrorKind::Corrupt,
                format!(
                    "image stream decodes to {:?}, its dictionary says {width}x{height}",
                    gray.dimensions()
                ),
            ));
        }
        return Ok(Some(if inverted { invert(gray) } else { gray }));
    }
    let Some(gray) = samples_to_gray(&data, width, height, components, bpc, limits.fade_colour) else {
        return Ok(None);
    };
    Ok(Some(if inverted { invert(gray) } else { gray }))
}

fn as_pdf(failure: Failure) -> Failure {
    Failure::pdf(failure.kind, failure.message)
}

fn invert(mut image: image::GrayImage) -> image::GrayImage {
    image.iter_mut().for_each(|p| *p = 255 - *p);
    image
}

fn names(object: Option<&Object>) -> Vec<Vec<u8>> {
    match object {
        Some(Object::Name(name)) => vec![name.clone()],
        Some(Object::Array(items)) => items
            .iter()
            .filter_map(|o| o.as_name().ok().map(<[u8]>::to_vec))
            .collect(),
        _ => Vec::new(),
    }
}

fn decode_parms<'a>(doc: &'a Document, object: Option<&'a Object>, n: usize) -> Vec<Option<&'a Dictionary>> {
    match object {
        Some(Object::Dictionary(d)) => vec![Some(d); n.max(1)],
        Some(Object::Array(items)) => items
            .iter()
            .map(|o| doc.dereference(o).ok().and_then(|(_, o)| o.as_dict().ok()))
            .collect(),
        _ => vec![None; n],
    }
}

fn color_components(doc: &Document, dict: &Dictionary) -> Option<usize> {
    let space = dict.get_deref(b"ColorSpace", doc).ok()?;
    let family = match space {
        Object::Name(name) => name.as_slice(),
        Object::Array(items) => items.first()?.as_name().ok()?,
        _ => return None,
    };
    match family {
        b"DeviceGray" | b"CalGray" | b"G" => Some(1),
        b"DeviceRGB" | b"CalRGB" | b"RGB" => Some(3),
        b"DeviceCMYK" | b"CMYK" => Some(4),
        b"ICCBased" => {
            let profile = space.as_array().ok()?.get(1)?;
            let (_, profile) = doc.dereference(profile).ok()?;
            let n = profile.as_stream().ok()?.dict.get(b"N").ok().and_then(number)?;
            matches!(n as usize, 1 | 3 | 4).then_some(n as usize)
        }
        _ => None,
    }
}

fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::ZlibDecoder::new(data).take(limit as u64 + 1);
    if let Err(e) = decoder.read_to_end(&mut out) {
        return Err(Failure::pdf(
            ErrorKind::Corrupt,
            format!("flate image stream: {e}"),
        ));
    }
    if out.len() > limit {
        return Err(Failure::pdf(
            ErrorKind::TooLarge,
            "flate image stream inflates past its declared size",
        ));
    }
    Ok(out)
}

/// Undoes a PNG predictor (the TIFF predictor is left to the renderer: `None`). Done by hand
/// because lopdf mis-decodes 1-bit images with a PNG predictor.
fn undo_predictor(
    data: &[u8],
    doc: &Document,
    parm: Option<&Dictionary>,
    width: u32,
    components: usize,
    bpc: i64,
) -> Option<Vec<u8>> {
    let get = |key: &[u8], default: i64| {
        parm.and_then(|p| p.get_deref(key, doc).ok())
            .and_then(number)
            .map_or(default, |n| n as i64)
    };
    let predictor = get(b"Predictor", 1);
    if predictor == 1 {
        return Some(data.to_vec());
    }
    if predictor < 10 {
        return None;
    }
    let colors = get(b"Colors", components as i64).max(1) as usize;
    let bits = get(b"BitsPerComponent", bpc).max(1) as usize;
    let columns = get(b"Columns", i64::from(width)).max(1) as usize;
    let row_len = (columns * colors * bits).div_ceil(8);
    let bpp = (colors * bits).div_ceil(8).max(1);
    let mut out = Vec::with_capacity(data.len());
    let mut previous = vec![0u8; row_len];
    for row in data.chunks(row_len + 1) {
        if row.len() < row_len + 1 {
            break;
        }
        let (kind, raw) = (row[0], &row[1..]);
        let mut current = vec![0u8; row_len];
        for i in 0..row_len {
            let left = if i >= bpp { current[i - bpp] } else { 0 };
            let up = previous[i];
            let up_left = if i >= bpp { previous[i - bpp] } else { 0 };
            current[i] = match kind {
                0 => raw[i],
                1 => raw[i].wrapping_add(left),
                2 => raw[i].wrapping_add(up),
                3 => raw[i].wrapping_add(((u16::from(left) + u16::from(up)) / 2) as u8),
                4 => raw[i].wrapping_add(paeth(left, up, up_left)),
                _ => return None,
            };
        }
        out.extend_from_slice(&current);
        previous = current;
    }
    Some(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Raw samples (1 or 8 bits per component) to gray; `None` for other depths.
fn samples_to_gray(
    data: &[u8],
    width: u32,
    height: u32,
    components: usize,
    bpc: i64,
    fade_colour: bool,
) -> Option<image::GrayImage> {
    let (w, h) = (width as usize, height as usize);
    let gray = match (bpc, components) {
        (1, 1) => {
            let row_bytes = w.div_ceil(8);
            if data.len() < row_bytes * h {
                return None;
            }
            super::unpack_bits(data, width, height, row_bytes, 255)
        }
        (8, 1) => data.get(..w * h)?.to_vec(),
        (8, 3) => data
            .get(..w * h * 3)?
            .chunks_exact(3)
            .map(|p| luma(p[0], p[1], p[2], fade_colour))
            .collect(),
        (8, 4) => data
            .get(..w * h * 4)?
            .chunks_exact(4)
            .map(|p| {
                let k = u16::from(p[3]);
                let channel = |c: u8| (255 - (u16::from(c) + k).min(255)) as u8;
                luma(channel(p[0]), channel(p[1]), channel(p[2]), fade_colour)
            })
            .collect(),
        _ => return None,
    };
    image::GrayImage::from_raw(width, height, gray)
}

/// CCITT Group 4 (K < 0); Group 3 is left to the renderer.
fn ccitt(
    data: &[u8],
    doc: &Document,
    parm: Option<&Dictionary>,
    width: u32,
    height: u32,
) -> Result<Option<image::GrayImage>, Failure> {
    let get = |key: &[u8]| parm.and_then(|p| p.get_deref(key, doc).ok());
    let k = get(b"K").and_then(number).unwrap_or(0.0);
    let byte_align = get(b"EncodedByteAlign")
        .and_then(|o| o.as_bool().ok())
        .unwrap_or(false);
    if k >= 0.0 || byte_align {
        return Ok(None);
    }
    let columns = get(b"Columns").and_then(number).map_or(1728, |n| n as u32);
    if columns != width {
        return Ok(None);
    }
    let black_is_1 = get(b"BlackIs1").and_then(|o| o.as_bool().ok()).unwrap_or(false);
    // A sample of 1 is white in DeviceGray and in an image mask alike.
    let (black, white) = if black_is_1 { (255u8, 0u8) } else { (0u8, 255u8) };
    let mut gray = Vec::with_capacity(width as usize * height as usize);
    let mut decoder =
        fax::decoder::Group4Decoder::new(data.iter().map(|&b| Ok::<u8, std::convert::Infallible>(b)), width)
            .map_err(|_| Failure::pdf(ErrorKind::Corrupt, "ccitt image stream is empty"))?;
    let mut lines = 0;
    while lines < height {
        match decoder.advance() {
            Ok(fax::decoder::DecodeStatus::Incomplete) => {
                gray.extend(decoder.line().pels().map(|c| match c {
                    fax::Color::Black => black,
                    fax::Color::White => white,
                }));
                lines += 1;
            }
            // End-of-block: encoders may leave trailing white lines out.
            Ok(fax::decoder::DecodeStatus::End) => break,
            Err(_) => {
                return Err(Failure::pdf(
                    ErrorKind::Corrupt,
                    format!(
                        "ccitt image stream damaged or cut at line {} of {height}",
                        lines + 1
                    ),
                ));
            }
        }
    }
    gray.resize(width as usize * height as usize, white);
    Ok(image::GrayImage::from_raw(width, height, gray))
}

struct Jbig2Sink {
    gray: Vec<u8>,
}

impl hayro_jbig2::Decoder for Jbig2Sink {
    fn push_pixel(&mut self, black: bool) {
        self.gray.push(if black { 0 } else { 255 });
    }

    fn push_pixel_chunk(&mut self, black: bool, chunk_count: u32) {
        let value = if black { 0 } else { 255 };
        self.gray
            .extend(std::iter::repeat_n(value, chunk_count as usize * 8));
    }

    fn next_line(&mut self) {}
}

fn jbig2(
    data: &[u8],
    doc: &Document,
    parm: Option<&Dictionary>,
    width: u32,
    height: u32,
) -> Result<image::GrayImage, Failure> {
    let settings = hayro_jbig2::DecodeSettings::default();
    let corrupt = |e: hayro_jbig2::DecodeError| Failure::pdf(ErrorKind::Corrupt, format!("jbig2 image: {e}"));
    let globals_data = parm
        .and_then(|p| p.get_deref(b"JBIG2Globals", doc).ok())
        .and_then(|o| o.as_stream().ok())
        .map(|s| s.decompressed_content().unwrap_or_else(|_| s.content.clone()));
    let globals = globals_data
        .as_deref()
        .map(|g| hayro_jbig2::Globals::new(g, &settings))
        .transpose()
        .map_err(corrupt)?;
    let page = hayro_jbig2::Page::new_embedded(data, globals.as_ref(), &settings).map_err(corrupt)?;
    if (page.width(), page.height()) != (width, height) {
        return Err(Failure::pdf(
            ErrorKind::Corrupt,
            format!(
                "jbig2 page is {}x{}, its dictionary says {width}x{height}",
                page.width(),
                page.height()
            ),
        ));
    }
    let mut sink = Jbig2Sink {
        gray: Vec::with_capacity(width as usize * height as usize),
    };
    page.decode(&mut sink).map_err(corrupt)?;
    image::GrayImage::from_raw(width, height, sink.gray)
        .ok_or_else(|| Failure::pdf(ErrorKind::Corrupt, "jbig2 image decodes short"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corners(image: &image::GrayImage) -> [u8; 4] {
        let (w, h) = image.dimensions();
        [
            image.get_pixel(0, 0).0[0],
            image.get_pixel(w - 1, 0).0[0],
            image.get_pixel(0, h - 1).0[0],
            image.get_pixel(w - 1, h - 1).0[0],
        ]
    }

    /// A 3x2 image with a distinct value in each corner.
    fn marked() -> image::GrayImage {
        image::GrayImage::from_raw(3, 2, vec![1, 0, 2, 3, 0, 4]).unwrap()
    }

    #[test]
    fn upright_and_upside_down_matrices() {
        let upright = Orientation::from_matrix(&[612.0, 0.0, 0.0, 792.0, 0.0, 0.0]).unwrap();
        assert_eq!(corners(&upright.apply(&marked())), [1, 2, 3, 4]);
        let half_turn = Orientation::from_matrix(&[-612.0, 0.0, 0.0, -792.0, 612.0, 792.0]).unwrap();
        assert_eq!(corners(&half_turn.apply(&marked())), [4, 3, 2, 1]);
    }

    #[test]
    fn quarter_turn_matrices() {
        // Image top along the page's left edge: the image turned a quarter counter-clockwise.
        let ccw = Orientation::from_matrix(&[0.0, 612.0, -792.0, 0.0, 792.0, 0.0]).unwrap();
        let out = ccw.apply(&marked());
        assert_eq!(out.dimensions(), (2, 3));
        assert_eq!(corners(&out), [2, 4, 1, 3]);
        let cw = Orientation::from_matrix(&[0.0, -612.0, 792.0, 0.0, 0.0, 612.0]).unwrap();
        assert_eq!(corners(&cw.apply(&marked())), [3, 1, 4, 2]);
        assert!(Orientation::from_matrix(&[1.0, 1.0, -1.0, 1.0, 0.0, 0.0]).is_none());
    }

    #[test]
    fn cm_concatenates_onto_the_current_matrix() {
        let translate = [1.0, 0.0, 0.0, 1.0, 10.0, 20.0];
        let scale = [2.0, 0.0, 0.0, 3.0, 0.0, 0.0];
        // "10 20 translate" then "2 3 scale": the image lands at (10, 20) scaled.
        assert_eq!(multiply(&scale, &translate), [2.0, 0.0, 0.0, 3.0, 10.0, 20.0]);
    }

    #[test]
    fn png_up_predictor_is_undone_for_one_bit_rows() {
        // Two rows of 16 one-bit pixels: the second row is stored as "up" (type 2) deltas.
        let data = [0u8, 0xF0, 0x0F, 2, 0x00, 0x01];
        let mut parm = Dictionary::new();
        parm.set("Predictor", 15);
        parm.set("Columns", 16);
        parm.set("BitsPerComponent", 1);
        let doc = Document::new();
        let out = undo_predictor(&data, &doc, Some(&parm), 16, 1, 1).unwrap();
        assert_eq!(out, vec![0xF0, 0x0F, 0xF0, 0x10]);
    }

    #[test]
    fn missing_eof_marker_is_truncation() {
        assert_eq!(
            check_eof_marker(b"%PDF-1.4\n1 0 obj").unwrap_err().kind,
            ErrorKind::Truncated
        );
        assert!(check_eof_marker(b"%PDF-1.4\n...\n%%EOF\n").is_ok());
    }
}
