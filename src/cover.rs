//! Cover and separator sheets: a printed page whose barcode (QR, DataMatrix or Code 128) says
//! "a new document starts after me", and optionally whose MRN and which document type.
//!
//! The payload is plain text, so it survives every symbology and can be read off a born-digital
//! sheet's text too:
//!
//! ```text
//! CHARTSCAN1|MRN=MR493223|TYPE=discharge_summary     a cover sheet for one patient's document
//! CHARTSCAN1|SEP                                      a bare separator
//! ```
//!
//! Keys are case-insensitive and either may be left out. Barcodes that do not start with
//! `CHARTSCAN1` (a specimen label, a postal code) are not cover sheets. Reading is a pure
//! function of the page bitmap; this module also renders printable sheets as PDF.

use std::collections::HashSet;
use std::io::Write;

use rxing::{BarcodeFormat, DecodeHints, EncodeHints, Exceptions, MultiFormatWriter, Writer};

pub const PREFIX: &str = "CHARTSCAN1";

/// What a cover sheet says about the document after it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CoverSheet {
    /// Normalised MRN (letters and digits).
    pub mrn: Option<String>,
    /// A type id of the taxonomy (checked by the caller).
    pub doc_type: Option<String>,
}

impl std::fmt::Debug for CoverSheet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoverSheet")
            .field("mrn", &self.mrn.as_ref().map(|_| "**"))
            .field("doc_type", &self.doc_type)
            .finish()
    }
}

impl CoverSheet {
    /// The barcode payload.
    pub fn payload(&self) -> String {
        let mut out = PREFIX.to_string();
        if let Some(mrn) = &self.mrn {
            out.push_str(&format!("|MRN={mrn}"));
        }
        if let Some(doc_type) = &self.doc_type {
            out.push_str(&format!("|TYPE={doc_type}"));
        }
        if self.mrn.is_none() && self.doc_type.is_none() {
            out.push_str("|SEP");
        }
        out
    }

    /// Reads a payload; `None` unless it is one of ours and well formed.
    pub fn parse(payload: &str) -> Option<CoverSheet> {
        let mut fields = payload.trim().split('|');
        if !fields.next()?.eq_ignore_ascii_case(PREFIX) {
            return None;
        }
        let mut cover = CoverSheet::default();
        for field in fields {
            match field.split_once('=') {
                Some((key, value)) if key.eq_ignore_ascii_case("mrn") && !value.trim().is_empty() => {
                    cover.mrn = Some(crate::identify::normalize_mrn(value));
                }
                Some((key, value)) if key.eq_ignore_ascii_case("type") && !value.trim().is_empty() => {
                    cover.doc_type = Some(value.trim().to_lowercase());
                }
                None if field.eq_ignore_ascii_case("sep") => {}
                _ => return None,
            }
        }
        Some(cover)
    }
}

/// What looking for a barcode on a page found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    Cover(CoverSheet),
    /// A barcode is there but cannot be read (damaged, cut off).
    Unreadable,
    /// No cover-sheet barcode.
    Nothing,
}

/// Looks for a cover-sheet barcode. The quick pass reads a half-size copy without trying hard
/// (~10 ms on a letter page); `thorough` reads the full page trying hard (~150 ms), for pages
/// with little text where a small or damaged code is worth the time.
pub fn scan(image: &image::GrayImage, thorough: bool) -> Scan {
    let (width, height) = image.dimensions();
    if width < 40 || height < 40 {
        return Scan::Nothing;
    }
    let mut hints = DecodeHints {
        PossibleFormats: Some(HashSet::from([
            BarcodeFormat::QR_CODE,
            BarcodeFormat::DATA_MATRIX,
            BarcodeFormat::CODE_128,
        ])),
        TryHarder: Some(thorough),
        ..DecodeHints::default()
    };
    let result = if thorough {
        rxing::helpers::detect_in_luma_slice_with_hints(image.as_raw(), width, height, None, &mut hints)
    } else {
        let half = image::imageops::resize(
            image,
            width / 2,
            height / 2,
            image::imageops::FilterType::Triangle,
        );
        rxing::helpers::detect_in_luma_slice_with_hints(
            half.as_raw(),
            width / 2,
            height / 2,
            None,
            &mut hints,
        )
    };
    match result {
        Ok(found) => CoverSheet::parse(found.getText()).map_or(Scan::Nothing, Scan::Cover),
        Err(
            Exceptions::ChecksumException(_)
            | Exceptions::FormatException(_)
            | Exceptions::ReedSolomonException(_),
        ) => Scan::Unreadable,
        Err(_) => Scan::Nothing,
    }
}

/// A payload printed as text (a born-digital sheet, or the human-readable line OCR read).
pub fn in_text(text: &str) -> Option<CoverSheet> {
    text.lines()
        .map(str::trim)
        .filter(|line| {
            line.get(..PREFIX.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(PREFIX))
        })
        .find_map(|line| CoverSheet::parse(line.split_whitespace().next().unwrap_or("")))
}

/// Barcode symbologies a sheet can be printed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbology {
    Qr,
    DataMatrix,
    Code128,
}

/// A printable cover sheet: one letter-size PDF page with the barcode and the payload in words.
pub fn sheet_pdf(
    cover: &CoverSheet,
    symbology: Symbology,
    type_name: Option<&str>,
) -> anyhow::Result<Vec<u8>> {
    let payload = cover.payload();
    let (format, module_px, (modules_w, modules_h)) = match symbology {
        Symbology::Qr => (BarcodeFormat::QR_CODE, 10, (0, 0)),
        Symbology::DataMatrix => (BarcodeFormat::DATA_MATRIX, 12, (0, 0)),
        Symbology::Code128 => (BarcodeFormat::CODE_128, 4, (0, 60)),
    };
    let matrix = MultiFormatWriter
        .encode_with_hints(&payload, &format, modules_w, modules_h, &EncodeHints::default())
        .map_err(|e| anyhow::anyhow!("encoding the barcode: {e}"))?;
    let (mw, mh) = (matrix.width(), matrix.height());
    // Code 128 is one row of bars: make it tall; 2D codes get square modules.
    let (scale_x, scale_y) = if symbology == Symbology::Code128 {
        (module_px, 4)
    } else {
        (module_px, module_px)
    };
    let quiet = 4 * module_px;
    let (img_w, img_h) = (mw * scale_x + 2 * quiet, mh * scale_y + 2 * quiet);
    let mut pixels = vec![255u8; (img_w * img_h) as usize];
    for y in 0..mh * scale_y {
        for x in 0..mw * scale_x {
            if matrix.get(x / scale_x, y / scale_y) {
                pixels[((y + quiet) * img_w + x + quiet) as usize] = 0;
            }
        }
    }
    let mut deflated = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    deflated.write_all(&pixels)?;
    let image_data = deflated.finish()?;

    // Printed at 300 dpi: points = pixels * 72 / 300.
    let (shown_w, shown_h) = (img_w as f64 * 0.24, img_h as f64 * 0.24);
    let mut lines = vec![("F2", 22.0, "CHARTSCAN COVER SHEET".to_string())];
    lines.push((
        "F1",
        12.0,
        "Place directly before the document it introduces. This page is not filed.".into(),
    ));
    if let Some(mrn) = &cover.mrn {
        lines.push(("F2", 16.0, format!("MRN: {mrn}")));
    }
    if let Some(doc_type) = &cover.doc_type {
        lines.push((
            "F2",
            16.0,
            format!("Document type: {}", type_name.unwrap_or(doc_type)),
        ));
    }
    if cover.mrn.is_none() && cover.doc_type.is_none() {
        lines.push((
            "F2",
            16.0,
            "Separator: a new document starts on the next page".into(),
        ));
    }
    let mut content = String::from("BT\n");
    let mut y = 720.0;
    for (font, size, text) in &lines {
        content.push_str(&format!(
            "/{font} {size} Tf 1 0 0 1 72 {y} Tm ({}) Tj\n",
            pdf_escape(text)
        ));
        y -= size * 1.8;
    }
    content.push_str("ET\n");
    let image_y = y - shown_h - 20.0;
    content.push_str(&format!(
        "q {shown_w:.2} 0 0 {shown_h:.2} 72 {image_y:.2} cm /Im0 Do Q\n"
    ));
    content.push_str(&format!(
        "BT /F3 10 Tf 1 0 0 1 72 {:.2} Tm ({}) Tj ET\n",
        image_y - 24.0,
        pdf_escape(&payload)
    ));

    let objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".as_bytes().to_vec(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".as_bytes().to_vec(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R /F2 6 0 R /F3 7 0 R >> /XObject << /Im0 8 0 R >> >> >>".as_bytes().to_vec(),
        stream_object("", content.as_bytes()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".as_bytes().to_vec(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>".as_bytes().to_vec(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>".as_bytes().to_vec(),
        stream_object(
            &format!("/Type /XObject /Subtype /Image /Width {img_w} /Height {img_h} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode"),
            &image_data,
        ),
    ];
    Ok(write_pdf(&objects))
}

fn pdf_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)")
}

fn stream_object(meta: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("<< {meta} /Length {} >>\nstream\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}

fn write_pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cover(mrn: Option<&str>, doc_type: Option<&str>) -> CoverSheet {
        CoverSheet {
            mrn: mrn.map(str::to_string),
            doc_type: doc_type.map(str::to_string),
        }
    }

    #[test]
    fn payloads_round_trip() {
        for c in [
            cover(Some("MR493223"), Some("lab_report")),
            cover(Some("4471100"), None),
            cover(None, None),
        ] {
            assert_eq!(CoverSheet::parse(&c.payload()), Some(c));
        }
        assert_eq!(
            CoverSheet::parse("chartscan1|mrn=mr-49 32|type=Lab_Report"),
            Some(cover(Some("MR4932"), Some("lab_report")))
        );
        assert_eq!(CoverSheet::parse("SPECIMEN 44812"), None);
        assert_eq!(CoverSheet::parse("CHARTSCAN1|COLOR=red"), None);
    }

    #[test]
    fn reads_the_payload_from_text() {
        let text = "CHARTSCAN COVER SHEET\nMRN: MR493223\nCHARTSCAN1|MRN=MR493223|TYPE=lab_report\n";
        assert_eq!(in_text(text), Some(cover(Some("MR493223"), Some("lab_report"))));
        assert_eq!(in_text("an ordinary page"), None);
        assert_eq!(
            in_text("“SUON ‘SNOLLVOITIGWOO"),
            None,
            "multi-byte characters near the start"
        );
    }

    /// Renders the sheet's barcode the way a 300 dpi scan would see it.
    fn page_with_barcode(c: &CoverSheet, symbology: Symbology) -> image::GrayImage {
        let pdf = sheet_pdf(c, symbology, Some("Laboratory report")).unwrap();
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        let page = doc.get_pages()[&1];
        let image = doc.get_page_images(page).unwrap().remove(0);
        let (w, h) = (image.width as u32, image.height as u32);
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(image.content), &mut raw).unwrap();
        let code = image::GrayImage::from_raw(w, h, raw).unwrap();
        let mut page = image::GrayImage::from_pixel(2550, 3300, image::Luma([255]));
        image::imageops::overlay(&mut page, &code, 300, 900);
        page
    }

    #[test]
    fn sheets_print_and_scan_back_in_every_symbology() {
        let c = cover(Some("MR493223"), Some("lab_report"));
        for symbology in [Symbology::Qr, Symbology::DataMatrix, Symbology::Code128] {
            let page = page_with_barcode(&c, symbology);
            assert_eq!(scan(&page, true), Scan::Cover(c.clone()), "{symbology:?}");
            if symbology != Symbology::DataMatrix {
                // DataMatrix needs the thorough pass, which pages with little text get.
                assert_eq!(scan(&page, false), Scan::Cover(c.clone()), "{symbology:?} quick");
            }
        }
    }

    #[test]
    fn a_damaged_code_is_unreadable_and_a_blank_page_has_nothing() {
        let c = cover(Some("MR493223"), None);
        let mut page = page_with_barcode(&c, Symbology::Qr);
        // Scratch across the code's data area.
        for y in 1000..1200 {
            for x in 380..560 {
                if (x + y) % 3 == 0 {
                    page.put_pixel(x, y, image::Luma([0]));
                }
            }
        }
        assert_ne!(scan(&page, true), Scan::Cover(c));
        let blank = image::GrayImage::from_pixel(1000, 1000, image::Luma([255]));
        assert_eq!(scan(&blank, true), Scan::Nothing);
    }
}
