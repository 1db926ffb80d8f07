//! Page bitmaps to text: the [`OcrEngine`] trait, Tesseract behind it, and a fake for tests.
//!
//! One engine per worker thread, created once and reused for every page that thread handles
//! (loading Tesseract's model costs ~0.1 s). Engines are single-threaded by design: parallelism
//! comes from running pages side by side, never from inside an engine.

mod fake;
mod tesseract;

use crate::config::{EngineKind, OcrConfig};
use crate::model::Failure;

pub use fake::FakeEngine;
pub use tesseract::TesseractEngine;

/// What recognising one page gives.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrOutput {
    pub text: String,
    /// Mean word confidence, 0..100.
    pub mean_confidence: f32,
}

/// Something that reads text off an 8-bit gray page bitmap.
pub trait OcrEngine: Send {
    fn recognize(&mut self, image: &image::GrayImage, dpi: u32) -> Result<OcrOutput, Failure>;
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
