//! Page bitmaps to text: the [`OcrEngine`] trait, Tesseract behind it, and a fake for tests.
//!
//! One engine per worker thread, created once and reused for every page that thread handles
//! (loading Tesseract's model costs ~0.1 s). Engines are single-threaded by design: parallelism
//! comes from running pages side by side, never from inside an engine.

mod fake;
mod tesseract;

use crate::config::{EngineKind, OcrConfig};
use crate::model::Failure;
pub use crate::model::Word;

pub use fake::FakeEngine;
pub use tesseract::TesseractEngine;

/// Words below this confidence (0..100) count as doubtful in a page's quality.
pub const LOW_WORD_CONFIDENCE: f32 = 60.0;

/// What recognising one page gives.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrOutput {
    pub text: String,
    /// Mean word confidence, 0..100.
    pub mean_confidence: f32,
    /// Every recognised word with its box (pixels of the recognised bitmap) and confidence,
    /// in reading order.
    pub words: Vec<Word>,
}

/// Which way a page's text runs, as the rotation that makes it upright.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Orientation {
    /// Clockwise degrees to rotate the page by so that its text is upright: 0, 90, 180, 270.
    pub rotate_cw: u16,
    /// The detector's confidence (Tesseract's OSD margin; above ~2 is a clear answer).
    pub confidence: f32,
}

/// Something that reads text off an 8-bit gray page bitmap.
pub trait OcrEngine: Send {
    fn recognize(&mut self, image: &image::GrayImage, dpi: u32) -> Result<OcrOutput, Failure>;

    /// Which way the page's text runs; `None` when the engine cannot tell (too little text) or
    /// cannot detect orientation at all.
    fn orientation(&mut self, _image: &image::GrayImage, _dpi: u32) -> Option<Orientation> {
        None
    }
}

/// Creates the configured engine.
pub fn engine(config: &OcrConfig) -> Result<Box<dyn OcrEngine>, Failure> {
    match config.engine {
        EngineKind::Tesseract => Ok(Box::new(TesseractEngine::new(config)?)),
        EngineKind::Fake => Ok(Box::new(FakeEngine {
            delay: std::time::Duration::from_millis(config.fake_delay_ms),
            abort_width: config.fake_abort_width,
        })),
    }
}
