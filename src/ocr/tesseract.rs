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
    TessBaseAPI, TessBaseAPIClear, TessBaseAPICreate, TessBaseAPIDelete, TessBaseAPIEnd,
    TessBaseAPIGetUTF8Text, TessBaseAPIInit3, TessBaseAPIMeanTextConf, TessBaseAPIRecognize,
    TessBaseAPISetImage, TessBaseAPISetPageSegMode, TessBaseAPISetSourceResolution, TessBaseAPISetVariable,
    TessDeleteText,
};

use super::{OcrEngine, OcrOutput};
use crate::config::OcrConfig;
use crate::model::{ErrorKind, Failure, Stage};

pub struct TesseractEngine {
    handle: *mut TessBaseAPI,
}

// The handle is owned by this value and only ever used through `&mut self`.
unsafe impl Send for TesseractEngine {}

impl TesseractEngine {
    pub fn new(config: &OcrConfig) -> Result<Self, Failure> {
        let language = CString::new(config.language.as_str())
            .map_err(|_| tool_error("language name holds a NUL byte"))?;
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
                return Err(tool_error(&format!(
                    "cannot load language data '{}' (install tesseract-ocr-{})",
                    config.language, config.language
                )));
            }
            TessBaseAPISetPageSegMode(handle, config.psm);
            TesseractEngine { handle }
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
            TessBaseAPIClear(self.handle);
            Ok(OcrOutput {
                text,
                mean_confidence,
            })
        }
    }
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
