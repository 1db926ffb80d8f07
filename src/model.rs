//! Plain data passed between the stages: pages, their text, document spans and the one failure
//! type every stage reports with.
//!
//! Nothing here does I/O or knows the order of stages; it is the vocabulary the stages share.
//! Patient data travels inside [`Phi`], whose `Debug` and `Display` never print the value.

use std::fmt;

/// The finding of a document on which no patient identifier was read at all (the review
/// queue tells it apart from doubtful ones).
pub const NO_IDENTIFIERS: &str = "no patient identifiers found";

/// Patient data (a name, an MRN, a date of birth, a source file name). Prints as `Phi(**)` in
/// `Debug` and `Display`, so it cannot leak into a log line by accident; [`Phi::expose`] is the
/// one door to the value and is easy to grep for.
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Phi<T>(T);

impl<T> Phi<T> {
    pub fn new(value: T) -> Self {
        Phi(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Phi<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Phi(**)")
    }
}

impl<T> fmt::Display for Phi<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Phi(**)")
    }
}

/// Where an input file came from, as its intake row records it.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The file's name, without its folder.
    pub name: Phi<String>,
    /// The path it was given or found at.
    pub path: Phi<String>,
    /// The daemon's claim token, when the file came through the watched inbox.
    pub claim: Option<String>,
}

/// What kind of file the bytes are, decided from their content (never from the file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Png,
    Jpeg,
    Tiff,
    Pdf,
}

impl MediaType {
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Png => "image/png",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Tiff => "image/tiff",
            MediaType::Pdf => "application/pdf",
        }
    }
}

/// An 8-bit grayscale page bitmap with the resolution its file declared (if any).
#[derive(Debug, Clone)]
pub struct Bitmap {
    pub image: image::GrayImage,
    pub dpi: Option<u32>,
}

/// One decoded page: a bitmap to OCR, or the text of a born-digital PDF page.
#[derive(Debug, Clone)]
pub enum PageContent {
    Bitmap(Bitmap),
    TextLayer(String),
}

/// How a page's text was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextSource {
    Ocr,
    TextLayer,
}

impl TextSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TextSource::Ocr => "ocr",
            TextSource::TextLayer => "text_layer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ocr" => Some(TextSource::Ocr),
            "text_layer" => Some(TextSource::TextLayer),
            _ => None,
        }
    }
}

/// The text of one page and how it was read.
#[derive(Debug, Clone)]
pub struct PageText {
    /// 1-based page number in the source file.
    pub page_no: u32,
    pub text: String,
    pub source: TextSource,
    /// Mean word confidence (0..100) for OCRed pages; `None` for text layers.
    pub ocr_confidence: Option<f32>,
    /// Resolution the page was recognised at (`None` for text layers).
    pub dpi: Option<u32>,
    /// Pixel size of the recognised bitmap (0 x 0 for text layers).
    pub width: u32,
    pub height: u32,
    /// What clean-up found and did, and how well the page read (defaults for text layers).
    pub quality: PageQuality,
}

impl PageText {
    /// A page whose text came from the file's own text layer (a born-digital PDF).
    pub fn text_layer(page_no: u32, text: String) -> PageText {
        PageText {
            page_no,
            text,
            source: TextSource::TextLayer,
            ocr_confidence: None,
            dpi: None,
            width: 0,
            height: 0,
            quality: PageQuality::default(),
        }
    }
}

/// What page clean-up found and did to a scanned page, and how well it read.
#[derive(Debug, Clone, Default)]
pub struct PageQuality {
    /// Clockwise degrees the page was turned before OCR: 0, 90, 180 or 270.
    pub rotation: u16,
    /// Measured skew in degrees (undone when large enough); `None` when not measured.
    pub skew: Option<f32>,
    /// The resolution was missing and estimated from text height.
    pub dpi_estimated: bool,
    /// Background flattened / faint ink darkened.
    pub normalized: bool,
    /// No content (a duplex back side): kept, not OCRed.
    pub blank: bool,
    /// Share of recognised words below the doubtful confidence, 0..1.
    pub low_confidence_share: Option<f32>,
    /// Read too poorly to trust: the operator should rescan the page.
    pub needs_rescan: bool,
    /// The recognised words with boxes (pixels of the recognised bitmap) and confidences.
    pub words: Vec<Word>,
    /// Time spent cleaning the page up and recognising it, in milliseconds.
    pub preprocess_ms: Option<f32>,
    pub ocr_ms: Option<f32>,
}

/// One recognised word.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    /// 0..100.
    pub confidence: f32,
    /// Left, top, right, bottom in pixels.
    pub bbox: [u32; 4],
}

/// A run of pages of one source file that forms one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentSpan {
    /// 1-based page number in the source file where the document starts.
    pub first_page: u32,
    pub n_pages: u32,
}

/// The stage a file failed in; the first word of every failure reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Read,
    Decode,
    Pdf,
    Ocr,
    Archive,
    /// The worker process itself (a file that crashed it).
    Worker,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Read => "read",
            Stage::Decode => "decode",
            Stage::Pdf => "pdf",
            Stage::Ocr => "ocr",
            Stage::Archive => "archive",
            Stage::Worker => "worker",
        }
    }
}

/// What went wrong, coarsely, for operators and for machine-readable reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file holds no bytes or no pages.
    Empty,
    /// The file ends before its structure does.
    Truncated,
    /// The structure is damaged or self-contradictory.
    Corrupt,
    /// Not a format chartscan reads, or a feature of one it does not support.
    Unsupported,
    /// Needs a password to open.
    Encrypted,
    /// Above a configured size, page or pixel limit.
    TooLarge,
    /// The operating system refused or failed to read it.
    Unreadable,
    /// An external tool (Tesseract, poppler) failed or timed out.
    Tool,
    /// Processing it took the worker down, again and again.
    Crashed,
    /// It changed while being processed.
    Changed,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Empty => "empty",
            ErrorKind::Truncated => "truncated",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Encrypted => "encrypted",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Unreadable => "unreadable",
            ErrorKind::Tool => "tool",
            ErrorKind::Crashed => "crashed",
            ErrorKind::Changed => "changed",
        }
    }
}

/// Why a file could not be filed. Displays as `stage: message`, e.g.
/// `decode: tiff page 4 truncated`. Messages never carry file names or patient data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub stage: Stage,
    pub kind: ErrorKind,
    pub message: String,
}

impl Failure {
    pub fn new(stage: Stage, kind: ErrorKind, message: impl Into<String>) -> Self {
        Failure {
            stage,
            kind,
            message: message.into(),
        }
    }

    pub fn decode(kind: ErrorKind, message: impl Into<String>) -> Self {
        Failure::new(Stage::Decode, kind, message)
    }

    pub fn pdf(kind: ErrorKind, message: impl Into<String>) -> Self {
        Failure::new(Stage::Pdf, kind, message)
    }

    /// The same failure with `context` put in front of the message (`page 3: ...`).
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.stage.as_str(), self.message)
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi_never_prints_its_value() {
        let name = Phi::new("DOE, JANE".to_string());
        assert_eq!(format!("{name}"), "Phi(**)");
        assert_eq!(format!("{name:?}"), "Phi(**)");
        assert_eq!(name.expose(), "DOE, JANE");
    }

    #[test]
    fn failure_reads_stage_then_message() {
        let f = Failure::decode(ErrorKind::Truncated, "truncated").context("tiff page 4");
        assert_eq!(f.to_string(), "decode: tiff page 4: truncated");
    }
}
