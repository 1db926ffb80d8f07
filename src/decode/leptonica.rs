//! TIFF pages in a compression the `tiff` crate does not decode, read by libtiff through
//! leptonica: above all CCITT Group 3 (fax machines' and fax servers' TIFFs, 1-D and 2-D) and
//! CCITT modified Huffman. Leptonica is loaded at run time, like Tesseract which depends on it
//! (so wherever chartscan can OCR, this is there too); a machine without it gets the `tiff`
//! crate's "unsupported" reason, as before.
//!
//! Only called after the file's structure and page size were checked by the `tiff` crate.

use std::ffi::{c_int, c_void};
use std::sync::OnceLock;

use crate::dynlib::{c_api, open_first};
use crate::model::ErrorKind;

/// Debian 12 (`liblept5`), then Debian 13 and later (`libleptonica6`).
const LIBRARY_NAMES: [&str; 2] = ["liblept.so.5", "libleptonica.so.6"];

/// Leptonica's `L_SEVERITY_NONE`: it prints nothing to standard error.
const L_SEVERITY_NONE: c_int = 6;

type Pix = c_void;

c_api! {
    read_mem_tiff = "pixReadMemTiff": fn(*const u8, usize, c_int) -> *mut Pix;
    convert_to_8 = "pixConvertTo8": fn(*mut Pix, c_int) -> *mut Pix;
    width = "pixGetWidth": fn(*const Pix) -> c_int;
    height = "pixGetHeight": fn(*const Pix) -> c_int;
    depth = "pixGetDepth": fn(*const Pix) -> c_int;
    words_per_line = "pixGetWpl": fn(*const Pix) -> c_int;
    data = "pixGetData": fn(*mut Pix) -> *mut u32;
    destroy = "pixDestroy": fn(*mut *mut Pix);
    set_msg_severity = "setMsgSeverity": fn(c_int) -> c_int;
}

fn api() -> Result<&'static Api, String> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    API.get_or_init(|| {
        // SAFETY: leptonica's initialisers have no preconditions.
        let library = unsafe { open_first(&LIBRARY_NAMES) }?;
        let api = Api::load(library).map_err(|e| e.to_string())?;
        // SAFETY: sets a global integer; its messages would otherwise go to standard error.
        unsafe { (api.set_msg_severity)(L_SEVERITY_NONE) };
        Ok(api)
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// A `PIX` owned here, destroyed on drop.
struct Owned<'a> {
    api: &'a Api,
    pix: *mut Pix,
}

impl Drop for Owned<'_> {
    fn drop(&mut self) {
        // SAFETY: `pix` came from leptonica, is non-null and is destroyed only here.
        unsafe { (self.api.destroy)(&mut self.pix) };
    }
}

/// Page `page_idx` of the TIFF in `bytes`, as 8-bit gray (black ink is 0); why not, if
/// libtiff cannot read it either (`Corrupt`) or leptonica cannot be loaded (`Unsupported`).
pub fn tiff_page(bytes: &[u8], page_idx: usize) -> Result<image::GrayImage, (ErrorKind, String)> {
    let api = api().map_err(|why| (ErrorKind::Unsupported, format!("no libtiff to read it: {why}")))?;
    read_page(api, bytes, page_idx).map_err(|why| (ErrorKind::Corrupt, why))
}

fn read_page(api: &Api, bytes: &[u8], page_idx: usize) -> Result<image::GrayImage, String> {
    let page = c_int::try_from(page_idx).map_err(|_| "page number out of range".to_string())?;
    // SAFETY: leptonica reads `bytes.len()` bytes from `bytes` and returns a new PIX or null.
    let read = unsafe { (api.read_mem_tiff)(bytes.as_ptr(), bytes.len(), page) };
    if read.is_null() {
        return Err("libtiff cannot decode its data either (damaged?)".to_string());
    }
    let read = Owned { api, pix: read };
    // SAFETY: `read.pix` is a valid PIX; the result is a new PIX (a copy even when 8-bit).
    let gray = unsafe { (api.convert_to_8)(read.pix, 0) };
    if gray.is_null() {
        return Err("libtiff gave a page leptonica cannot turn into gray".to_string());
    }
    let gray = Owned { api, pix: gray };
    // SAFETY: `gray.pix` is a valid PIX for these reads.
    let (width, height, depth, wpl) = unsafe {
        (
            (api.width)(gray.pix),
            (api.height)(gray.pix),
            (api.depth)(gray.pix),
            (api.words_per_line)(gray.pix),
        )
    };
    let (Ok(width), Ok(height), Ok(wpl)) =
        (u32::try_from(width), u32::try_from(height), usize::try_from(wpl))
    else {
        return Err("leptonica gave a page of negative size".to_string());
    };
    if depth != 8 || (wpl * 4) < width as usize {
        return Err(format!("leptonica gave a {depth}-bit page"));
    }
    // SAFETY: an 8-bit PIX holds `height` rows of `wpl` 32-bit words, alive while `gray` is.
    let words = unsafe { std::slice::from_raw_parts((api.data)(gray.pix), wpl * height as usize) };
    // Leptonica keeps each word's leftmost pixel in its most significant byte.
    let mut pixels = Vec::with_capacity(width as usize * height as usize);
    for row in words.chunks_exact(wpl) {
        pixels.extend(
            row.iter()
                .flat_map(|word| word.to_be_bytes())
                .take(width as usize),
        );
    }
    image::GrayImage::from_raw(width, height, pixels).ok_or_else(|| "short page".to_string())
}
