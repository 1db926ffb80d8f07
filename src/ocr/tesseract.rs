//! Tesseract through its C API, loaded at run time, wrapped in a small safe type.
//!
//! The library is opened (`dlopen`) the first time an engine is made, not linked: linking it
//! pulls in some fifty shared libraries (leptonica, libcurl, libarchive, gnutls, ...) whose
//! loading cost every command ~13 ms of start-up, a `search` included, and a machine without
//! Tesseract could not even run `chartscan export`. Now only OCR needs it, and its absence is a
//! clear error. The two dozen functions we call are declared here from `tesseract/capi.h`.
//!
//! We bind the C API directly rather than through the `tesseract` crate because its builder
//! consumes the engine on every call (an error loses the engine) and it hides the handle that
//! orientation detection needs. Bitmaps are passed from memory; nothing touches disk.
//! Threading inside Tesseract (OpenMP) must be off: `main` sets `OMP_THREAD_LIMIT=1` before the
//! library is loaded.

use std::ffi::{CStr, CString, c_char, c_float, c_int};
use std::ptr;
use std::sync::OnceLock;

use crate::dynlib::{c_api, open_first};

use super::{OcrEngine, OcrOutput, Orientation, Word};
use crate::config::OcrConfig;
use crate::model::{ErrorKind, Failure, Stage};

/// Tesseract's opaque handle types.
#[repr(C)]
struct TessBaseApi {
    _private: [u8; 0],
}
#[repr(C)]
struct TessResultIterator {
    _private: [u8; 0],
}
#[repr(C)]
struct TessPageIterator {
    _private: [u8; 0],
}

/// The shared library, by its ABI version (package `libtesseract5`), then the development link.
const LIBRARY_NAMES: [&str; 2] = ["libtesseract.so.5", "libtesseract.so"];

c_api! {
    create = "TessBaseAPICreate": fn() -> *mut TessBaseApi;
    delete = "TessBaseAPIDelete": fn(*mut TessBaseApi);
    init3 = "TessBaseAPIInit3": fn(*mut TessBaseApi, *const c_char, *const c_char) -> c_int;
    end = "TessBaseAPIEnd": fn(*mut TessBaseApi);
    clear = "TessBaseAPIClear": fn(*mut TessBaseApi);
    set_variable = "TessBaseAPISetVariable": fn(*mut TessBaseApi, *const c_char, *const c_char) -> c_int;
    set_page_seg_mode = "TessBaseAPISetPageSegMode": fn(*mut TessBaseApi, c_int);
    set_image = "TessBaseAPISetImage": fn(*mut TessBaseApi, *const u8, c_int, c_int, c_int, c_int);
    set_source_resolution = "TessBaseAPISetSourceResolution": fn(*mut TessBaseApi, c_int);
    recognize = "TessBaseAPIRecognize": fn(*mut TessBaseApi, *mut std::ffi::c_void) -> c_int;
    get_utf8_text = "TessBaseAPIGetUTF8Text": fn(*mut TessBaseApi) -> *mut c_char;
    mean_text_conf = "TessBaseAPIMeanTextConf": fn(*mut TessBaseApi) -> c_int;
    get_iterator = "TessBaseAPIGetIterator": fn(*mut TessBaseApi) -> *mut TessResultIterator;
    detect_orientation_script = "TessBaseAPIDetectOrientationScript":
        fn(*mut TessBaseApi, *mut c_int, *mut c_float, *mut *const c_char, *mut c_float) -> c_int;
    delete_text = "TessDeleteText": fn(*const c_char);
    page_iterator_bounding_box = "TessPageIteratorBoundingBox":
        fn(*const TessPageIterator, c_int, *mut c_int, *mut c_int, *mut c_int, *mut c_int) -> c_int;
    result_iterator_get_utf8_text = "TessResultIteratorGetUTF8Text":
        fn(*const TessResultIterator, c_int) -> *mut c_char;
    result_iterator_confidence = "TessResultIteratorConfidence": fn(*const TessResultIterator, c_int) -> c_float;
    result_iterator_next = "TessResultIteratorNext": fn(*mut TessResultIterator, c_int) -> c_int;
    result_iterator_page_iterator = "TessResultIteratorGetPageIteratorConst":
        fn(*const TessResultIterator) -> *const TessPageIterator;
    result_iterator_delete = "TessResultIteratorDelete": fn(*mut TessResultIterator);
}

/// The library's functions, loaded on first use; why not, if it cannot be.
fn api() -> Result<&'static Api, Failure> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    API.get_or_init(|| {
        // SAFETY: loading Tesseract runs its and its dependencies' initialisers, which have no
        // preconditions beyond `OMP_THREAD_LIMIT` being set first (see `main.rs`).
        let library = unsafe { open_first(&LIBRARY_NAMES) }
            .map_err(|e| format!("cannot load the Tesseract library (install tesseract-ocr): {e}"))?;
        Api::load(library).map_err(|e| format!("the Tesseract library lacks a function: {e}"))
    })
    .as_ref()
    .map_err(|message| Failure::new(Stage::Ocr, ErrorKind::Tool, message.clone()))
}

pub struct TesseractEngine {
    api: &'static Api,
    handle: *mut TessBaseApi,
    /// A second engine with the orientation-and-script model (`osd`), made on first use;
    /// `Some(None)` once loading it failed (orientation is then never detected).
    osd: Option<Option<Box<TesseractEngine>>>,
    datapath: String,
}

// The handles are owned by this value and only ever used through `&mut self`.
unsafe impl Send for TesseractEngine {}

/// Tesseract's `PSM_OSD_ONLY`.
const PSM_OSD_ONLY: u32 = 0;
/// Tesseract's `RIL_WORD` (`TessPageIteratorLevel`).
const RIL_WORD: c_int = 3;

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
        let api = api()?;
        let engine = unsafe {
            let handle = (api.create)();
            if handle.is_null() {
                return Err(tool_error("cannot create an engine"));
            }
            let datapath_ptr = datapath.as_ref().map_or(ptr::null(), |p| p.as_ptr());
            if (api.init3)(handle, datapath_ptr, language.as_ptr()) != 0 {
                (api.delete)(handle);
                let language = language.to_string_lossy();
                return Err(tool_error(&format!(
                    "cannot load language data '{language}' (install tesseract-ocr-{language})"
                )));
            }
            (api.set_page_seg_mode)(handle, psm as c_int);
            TesseractEngine {
                api,
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
            (self.api.set_variable)(self.handle, name.as_ptr(), value.as_ptr());
        }
    }
}

/// A page holding only black (0) and white (255) packed as Tesseract takes one-bit images: rows
/// of `(width + 7) / 8` bytes, the first pixel in the top bit, a set bit white. `None` when the
/// page holds any other level.
fn packed_bits(image: &image::GrayImage) -> Option<Vec<u8>> {
    let raw = image.as_raw();
    if raw.iter().any(|&p| p != 0 && p != 255) {
        return None;
    }
    let width = image.width() as usize;
    let row_bytes = width.div_ceil(8);
    let mut bits = vec![0u8; row_bytes * image.height() as usize];
    for (row, out) in raw.chunks_exact(width).zip(bits.chunks_exact_mut(row_bytes)) {
        for (pixels, byte) in row.chunks(8).zip(out.iter_mut()) {
            *byte = pixels
                .iter()
                .enumerate()
                .fold(0, |byte, (i, &p)| byte | (u8::from(p == 255) << (7 - i)));
        }
    }
    Some(bits)
}

impl OcrEngine for TesseractEngine {
    fn recognize(&mut self, image: &image::GrayImage, dpi: u32) -> Result<OcrOutput, Failure> {
        let (width, height) = image.dimensions();
        let (Ok(w), Ok(h)) = (i32::try_from(width), i32::try_from(height)) else {
            return Err(tool_error("page too large for tesseract"));
        };
        let api = self.api;
        // A page of black and white only (a bilevel scan not resampled since) goes in as one
        // bit a pixel: Tesseract then skips thresholding it (~6% of its time on such a page).
        let packed = packed_bits(image);
        // SAFETY: the pixels (`packed`: (w+7)/8 bytes a row; else the image's w*h bytes, rows of
        // w bytes) stay borrowed until Clear below, after which Tesseract holds no pointer into
        // them. Text returned by GetUTF8Text is copied and then freed with TessDeleteText.
        unsafe {
            match &packed {
                Some(bits) => (api.set_image)(self.handle, bits.as_ptr(), w, h, 0, (w + 7) / 8),
                None => (api.set_image)(self.handle, image.as_raw().as_ptr(), w, h, 1, w),
            }
            (api.set_source_resolution)(self.handle, dpi.clamp(70, 2400) as c_int);
            if (api.recognize)(self.handle, ptr::null_mut()) != 0 {
                (api.clear)(self.handle);
                return Err(tool_error("recognition failed"));
            }
            let text_ptr = (api.get_utf8_text)(self.handle);
            let text = if text_ptr.is_null() {
                String::new()
            } else {
                let text = CStr::from_ptr(text_ptr).to_string_lossy().into_owned();
                (api.delete_text)(text_ptr);
                text
            };
            let mean_confidence = (api.mean_text_conf)(self.handle).max(0) as f32;
            let words = words(api, (api.get_iterator)(self.handle));
            (api.clear)(self.handle);
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
        let api = osd.api;
        let found = unsafe {
            (api.set_image)(osd.handle, image.as_raw().as_ptr(), w, h, 1, w);
            (api.set_source_resolution)(osd.handle, dpi.clamp(70, 2400) as c_int);
            let found = (api.detect_orientation_script)(
                osd.handle,
                &mut degrees,
                &mut confidence,
                &mut script,
                &mut script_confidence,
            );
            (api.clear)(osd.handle);
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
unsafe fn words(api: &Api, iterator: *mut TessResultIterator) -> Vec<Word> {
    let mut out = Vec::new();
    if iterator.is_null() {
        return out;
    }
    let level = RIL_WORD;
    // SAFETY: the iterator is live until deleted at the end; each text is copied and freed.
    unsafe {
        loop {
            let text_ptr = (api.result_iterator_get_utf8_text)(iterator, level);
            if !text_ptr.is_null() {
                let text = CStr::from_ptr(text_ptr).to_string_lossy().trim().to_string();
                (api.delete_text)(text_ptr);
                let (mut left, mut top, mut right, mut bottom) = (0, 0, 0, 0);
                let page = (api.result_iterator_page_iterator)(iterator);
                (api.page_iterator_bounding_box)(page, level, &mut left, &mut top, &mut right, &mut bottom);
                if !text.is_empty() {
                    out.push(Word {
                        text,
                        // Whole numbers, as the archive stores them: identification weighs a
                        // word at 49.6 the same at ingest as when re-indexing reads it back.
                        confidence: (api.result_iterator_confidence)(iterator, level)
                            .clamp(0.0, 100.0)
                            .round(),
                        bbox: [left, top, right, bottom].map(|v| v.max(0) as u32),
                    });
                }
            }
            if (api.result_iterator_next)(iterator, level) == 0 {
                break;
            }
        }
        (api.result_iterator_delete)(iterator);
    }
    out
}

impl Drop for TesseractEngine {
    fn drop(&mut self) {
        // SAFETY: the handle came from Create and is not used after this.
        unsafe {
            (self.api.end)(self.handle);
            (self.api.delete)(self.handle);
        }
    }
}

fn tool_error(message: &str) -> Failure {
    Failure::new(Stage::Ocr, ErrorKind::Tool, format!("tesseract: {message}"))
}
