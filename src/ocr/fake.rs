//! A deterministic stand-in for Tesseract, for the fast test suite.
//!
//! It "reads" a page as a sentence describing its size, how much ink it holds and a digest of
//! its pixels, so the same page always gives the same text and different pages differ. It does
//! not pretend to recognise characters. For the daemon's tests it can also be slow (a delay per
//! page) and deadly (a page of one chosen width aborts the process, like a crashing library).

use sha2::{Digest, Sha256};

use super::{OcrEngine, OcrOutput, Word};
use crate::model::Failure;

#[derive(Debug, Clone, Default)]
pub struct FakeEngine {
    pub delay: std::time::Duration,
    /// A page exactly this wide aborts the process; 0 = never.
    pub abort_width: u32,
}

impl OcrEngine for FakeEngine {
    fn recognize(&mut self, image: &image::GrayImage, dpi: u32) -> Result<OcrOutput, Failure> {
        let (width, height) = image.dimensions();
        if self.abort_width != 0 && width == self.abort_width {
            std::process::abort();
        }
        std::thread::sleep(self.delay);
        let pixels = image.as_raw();
        let dark = pixels.iter().filter(|&&p| p < 128).count();
        let ink_permille = (dark * 1000).checked_div(pixels.len()).unwrap_or(0);
        let digest = hex::encode(&Sha256::digest(pixels)[..4]);
        let text = format!(
            "fakeocr page {width}x{height} at {dpi} dpi\nink {ink_permille} permille digest {digest}"
        );
        // Words laid out on a grid, each 100 px wide, one line per text line.
        let words = text
            .lines()
            .enumerate()
            .flat_map(|(line, words)| {
                words.split_whitespace().enumerate().map(move |(i, word)| Word {
                    text: word.to_string(),
                    confidence: 90.0,
                    bbox: [
                        i as u32 * 110,
                        line as u32 * 40,
                        i as u32 * 110 + 100,
                        line as u32 * 40 + 30,
                    ],
                })
            })
            .collect();
        Ok(OcrOutput {
            text,
            mean_confidence: 90.0,
            words,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_page_same_text_other_page_other_text() {
        let white = image::GrayImage::from_pixel(10, 10, image::Luma([255]));
        let mut inked = white.clone();
        inked.put_pixel(2, 2, image::Luma([0]));
        let mut engine = FakeEngine::default();
        let a = engine.recognize(&white, 300).unwrap();
        assert_eq!(a, engine.recognize(&white, 300).unwrap());
        let b = engine.recognize(&inked, 300).unwrap();
        assert_ne!(a.text, b.text);
        assert!(b.text.contains("ink 10 permille"), "{}", b.text);
    }
}
