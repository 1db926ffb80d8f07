//! Tesseract through its C API (`tesseract-sys`), wrapped in a small safe type.
//!
//! We bind the C API directly rather than through the `tesseract` crate because its builder
//! consumes the engine on every call (an error loses the engine) and it hides the handle that
//! orientation detection needs. Bitmaps are passed from memory; nothing touches disk.
//! Threading inside Tesseract (OpenMP) must be off: the process is started with
//! `OMP_THREAD_LIMIT=1` (see `main.rs`).

use std::ffi::{CStr, CString};
use std::ptr;

use tesseract_sys::{
    TessBaseAPI, TessBaseAPIClear, TessBaseAPICreate, TessBaseAPIDelete, TessBaseAPIDetectOrientationScript,
    TessBaseAPIEnd, TessBaseAPIGetIterator, TessBaseAPIGetUTF8Text, TessBaseAPIInit3,
    TessBaseAPIMeanTextConf, TessBaseAPIRecognize, TessBaseAPISetImage, TessBaseAPISetPageSegMode,
    TessBaseAPISetSourceResolution, TessBaseAPISetVariable, TessDeleteText, TessPageIteratorBoundingBox,
    TessPageIteratorLevel_RIL_WORD, TessResultIterator, TessResultIteratorConfidence,
    TessResultIteratorDelete, TessResultIteratorGetPageIteratorConst, TessResultIteratorGetUTF8Text,
    TessResultIteratorNext,
};

use super::{OcrEngine, OcrOutput, Orientation, Word};
use crate::config::OcrConfig;
use crate::model::{ErrorKind, Failure, Stage};

pub struct TesseractEngine {
    handle: *mut TessBaseAPI,
    /// A second engine with the orientation-and-script model (`osd`), made on first use;
    /// `Some(None)` once loading it failed (orientation is then never detected).
    osd: Option<Option<Box<TesseractEngine>>>,
    datapath: String,
}

// The handles are owned by this value and only ever used through `&mut self`.
unsafe impl Send for TesseractEngine {}

/// Tesseract's `PSM_OSD_ONLY`.
const PSM_OSD_ONLY: u32 = 0;

impl TesseractEngine {
    pub fn new(config: &OcrConfig) -> Result<Self, Failure> {
        Self::with_language(config, &config.language, config.psm)
    }

    fn with_language(config: &OcrConfig, language: &str, psm: u32) -> Result<Self, Failure> {
        let language = CString::new(language).map_err(|_| tool_error("language name holds a NUL byte"))?;
        let datapath = match config.datapath.as_str() {
            "" => None,
            path => Some(CString::new(path).map_err(|_| tool_error("datapath holds a NUL byte"))?),
        };
        // SAFETY: Create returns a fresh handle that we own; Init3 reads the two C strings,
        // which outlive the call. On failure the handle is deleted and not used again.
        let engine = unsafe {
            let handle = TessBaseAPICreate();
            if handle.is_null() {
                return Err(tool_error("cannot create an engine"));
            }
            let datapath_ptr = datapath.as_ref().map_or(ptr::null(), |p| p.as_ptr());
            if TessBaseAPIInit3(handle, datapath_ptr, language.as_ptr()) != 0 {
                TessBaseAPIDelete(handle);
                let language = language.to_string_lossy();
                return Err(tool_error(&format!(
                    "cannot load language data '{language}' (install tesseract-ocr-{language})"
                )));
            }
            TessBaseAPISetPageSegMode(handle, psm);
            TesseractEngine {
                handle,
                osd: None,
                datapath: config.datapath.clone(),
            }
        };
        // Tesseract's diagnostics ("Detected 12 diacritics") would tear the progress bar.
        engine.set_variable("debug_file", "/dev/null");
        Ok(engine)
    }

    fn set_variable(&self, name: &str, value: &str) {
        let (Ok(name), Ok(value)) = (CString::new(name), CString::new(value)) else {
            return;
        };
        // SAFETY: the handle is live; Tesseract copies both strings.
        unsafe {
            TessBaseAPISetVariable(self.handle, name.as_ptr(), value.as_ptr());
        }
    }
}

impl OcrEngine for TesseractEngine {
    fn recognize(&mut self, image: &image::GrayImage, dpi: u32) -> Result<OcrOutput, Failure> {
        let (width, height) = image.dimensions();
        let (Ok(w), Ok(h)) = (i32::try_from(width), i32::try_from(height)) else {
            return Err(tool_error("page too large for tesseract"));
        };
        let pixels = image.as_raw();
        // SAFETY: `pixels` holds w*h bytes (one byte per pixel, rows of w bytes) and stays
        // borrowed until Clear below, after which Tesseract holds no pointer into it. Text
        // returned by GetUTF8Text is copied and then freed with TessDeleteText.
        unsafe {
            TessBaseAPISetImage(self.handle, pixels.as_ptr(), w, h, 1, w);
            TessBaseAPISetSourceResolution(self.handle, dpi.clamp(70, 2400) as i32);
            if TessBaseAPIRecognize(self.handle, ptr::null_mut()) != 0 {
                TessBaseAPIClear(self.handle);
                return Err(tool_error("recognition failed"));
            }
            let text_ptr = TessBaseAPIGetUTF8Text(self.handle);
            let text = if text_ptr.is_null() {
                String::new()
            } else {
                let text = CStr::from_ptr(text_ptr).to_string_lossy().into_owned();
                TessDeleteText(text_ptr);
                text
            };
            let mean_confidence = TessBaseAPIMeanTextConf(self.handle).max(0) as f32;
            let words = words(TessBaseAPIGetIterator(self.handle));
            TessBaseAPIClear(self.handle);
            Ok(OcrOutput {
                text,
                mean_confidence,
                words,
            })
        }
    }

    fn orientation(&mut self, image: &image::GrayImage, dpi: u32) -> Option<Orientation> {
        if self.osd.is_none() {
            let config = OcrConfig {
                datapath: self.datapath.clone(),
                ..OcrConfig::default()
            };
            let osd = TesseractEngine::with_language(&config, "osd", PSM_OSD_ONLY).ok();
            if osd.is_none() {
                tracing::warn!(
                    "no orientation model (install tesseract-ocr-osd): pages are not turned upright"
                );
            }
            self.osd = Some(osd.map(Box::new));
        }
        let osd = self.osd.as_mut()?.as_mut()?;
        let (width, height) = image.dimensions();
        let (Ok(w), Ok(h)) = (i32::try_from(width), i32::try_from(height)) else {
            return None;
        };
        let (mut degrees, mut confidence) = (0, 0.0f32);
        let (mut script, mut script_confidence) = (ptr::null(), 0.0f32);
        // SAFETY: as in `recognize`: the pixels stay borrowed until Clear; the script name
        // points into Tesseract's own tables and is not kept.
        let found = unsafe {
            TessBaseAPISetImage(osd.handle, image.as_raw().as_ptr(), w, h, 1, w);
            TessBaseAPISetSourceResolution(osd.handle, dpi.clamp(70, 2400) as i32);
            let found = TessBaseAPIDetectOrientationScript(
                osd.handle,
                &mut degrees,
                &mut confidence,
                &mut script,
                &mut script_confidence,
            );
            TessBaseAPIClear(osd.handle);
            found
        };
        // Tesseract reports how far the text is turned clockwise; turning it back upright is
        // the rest of the circle.
        (found != 0).then_some(Orientation {
            rotate_cw: ((360 - degrees.rem_euclid(360) / 90 * 90) % 360) as u16,
            confidence,
        })
    }
}

/// Every word of the last recognition, with its box and confidence; frees the iterator.
///
/// SAFETY: `iterator` is null or a result iterator of an engine that has recognised a page and
/// not been cleared since.
unsafe fn words(iterator: *mut TessResultIterator) -> Vec<Word> {
    let mut out = Vec::new();
    if iterator.is_null() {
        return out;
    }
    let level = TessPageIteratorLevel_RIL_WORD;
    // SAFETY: the iterator is live until deleted at the end; each text is copied and freed.
    unsafe {
        loop {
            let text_ptr = TessResultIteratorGetUTF8Text(iterator, level);
            if !text_ptr.is_null() {
                let text = CStr::from_ptr(text_ptr).to_string_lossy().trim().to_string();
                TessDeleteText(text_ptr);
                let (mut left, mut top, mut right, mut bottom) = (0, 0, 0, 0);
                let page = TessResultIteratorGetPageIteratorConst(iterator);
                TessPageIteratorBoundingBox(page, level, &mut left, &mut top, &mut right, &mut bottom);
                if !text.is_empty() {
                    out.push(Word {
                        text,
                        confidence: TessResultIteratorConfidence(iterator, level).clamp(0.0, 100.0),
                        bbox: [left, top, right, bottom].map(|v| v.max(0) as u32),
                    });
                }
            }
            if TessResultIteratorNext(iterator, level) == 0 {
                break;
            }
        }
        TessResultIteratorDelete(iterator);
    }
    out
}

impl Drop for TesseractEngine {
    fn drop(&mut self) {
        // SAFETY: the handle came from Create and is not used after this.
        unsafe {
            TessBaseAPIEnd(self.handle);
            TessBaseAPIDelete(self.handle);
        }
    }
}

fn tool_error(message: &str) -> Failure {
    Failure::new(Stage::Ocr, ErrorKind::Tool, format!("tesseract: {message}"))
}
