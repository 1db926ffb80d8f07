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

/// Puts back the capital `I` Tesseract reads as a stroke-like symbol on faint or thin print:
/// a lone `|`, `\`, `{`, `}`, `[`, `]` or `l` before a word in lower case (`| would
/// appreciate`, `Otherwise, l will`), and the same symbol starting `If`, `In`, `It`, `Is`, `I'm`
/// (`\f you have`). A lone `l` after a number (`1.5 l of`) and `lt` (left) are left alone.
pub fn mend_capital_i(text: &str) -> String {
    const STROKES: [char; 6] = ['|', '\\', '{', '}', '[', ']'];
    let tokens: Vec<(usize, usize)> = {
        let mut spans = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices() {
            match (c.is_whitespace(), start) {
                (false, None) => start = Some(i),
                (true, Some(s)) => {
                    spans.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            spans.push((s, text.len()));
        }
        spans
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (n, &(start, end)) in tokens.iter().enumerate() {
        let token = &text[start..end];
        let mut chars = token.chars();
        let Some(first) = chars.next() else { continue };
        let rest = chars.as_str();
        let stroke = STROKES.contains(&first);
        if !stroke && first != 'l' {
            continue;
        }
        let next_word_lower = tokens.get(n + 1).is_some_and(|&(s, _)| {
            !text[end..s].contains('\n') && text[s..].starts_with(|c: char| c.is_ascii_lowercase())
        });
        let after_number = n > 0 && text[..start].trim_end().ends_with(|c: char| c.is_ascii_digit());
        let mended = if rest.is_empty() {
            next_word_lower && (stroke || !after_number)
        } else if stroke {
            matches!(rest, "f" | "n" | "t" | "s" | "'m" | "'ve" | "'ll" | "'d")
        } else {
            matches!(rest, "f" | "n") && next_word_lower
        };
        if mended {
            out.push_str(&text[copied..start]);
            out.push('I');
            out.push_str(rest);
            copied = end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::mend_capital_i;

    #[test]
    fn a_capital_i_read_as_a_stroke_is_put_back() {
        assert_eq!(
            mend_capital_i(
                "his chart that | have available.\nOtherwise, l will look. \\f you have\n{n discussion"
            ),
            "his chart that I have available.\nOtherwise, I will look. If you have\nIn discussion"
        );
        assert_eq!(
            mend_capital_i("penicillamine. \\ would"),
            "penicillamine. I would"
        );
    }

    #[test]
    fn real_strokes_and_letters_stay() {
        for text in [
            "| 12 | 14 |",
            "1.5 l of fluid",
            "lt knee pain",
            "WBC | Hgb\n| Normal | 7.2",
            "a list l",
            "ln(2)",
            "l",
            "",
        ] {
            assert_eq!(mend_capital_i(text), text);
        }
    }
}
