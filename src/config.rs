//! `config/chartscan.toml` turned into a validated [`Config`], read once at start-up and passed
//! down explicitly.
//!
//! Unknown keys are rejected (a typo must not silently fall back to a default). No stage reads
//! the environment or a file for settings; they receive the parts of `Config` they need.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// The shipped configuration, used when no file is found.
pub const DEFAULT_TOML: &str = include_str!("../config/chartscan.toml");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub archive: ArchiveConfig,
    pub ingest: IngestConfig,
    pub ocr: OcrConfig,
    pub preprocess: PreprocessConfig,
    pub pdf: PdfConfig,
    pub classify: ClassifyConfig,
    pub identify: IdentifyConfig,
    pub watch: WatchConfig,
    /// The taxonomy file in use (resolved at load; `None` = the built-in copy).
    #[serde(skip)]
    pub doctypes_path: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArchiveConfig {
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    pub jobs: usize,
    pub max_file_bytes: u64,
    pub max_pages: u32,
    pub max_page_pixels: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    Tesseract,
    Fake,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OcrConfig {
    pub engine: EngineKind,
    pub language: String,
    pub psm: u32,
    pub datapath: String,
    /// Fake engine only: milliseconds each page takes.
    pub fake_delay_ms: u64,
    /// Fake engine only: a page exactly this many pixels wide aborts the process (a poison file
    /// for crash tests); 0 = never.
    pub fake_abort_width: u32,
}

/// Page clean-up before OCR (`[preprocess]`); each step can be turned off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PreprocessConfig {
    /// Turn pages upright (0/90/180/270) with Tesseract's orientation detection.
    pub orientation: bool,
    /// Below this detector confidence a page is left as it is.
    pub orientation_min_confidence: f32,
    pub deskew: bool,
    pub max_skew_degrees: f32,
    /// Smaller measured skews are left to Tesseract (rotating costs time and sharpness).
    pub min_skew_degrees: f32,
    /// Scale pages to `target_dpi` when above `max_dpi` or below `min_dpi`; estimate a missing
    /// resolution from text height.
    pub resolution: bool,
    pub target_dpi: u32,
    pub min_dpi: u32,
    pub max_dpi: u32,
    /// Flatten uneven backgrounds and darken faint ink (only on pages that need it).
    pub contrast: bool,
    /// Find the streaks a sheet-fed scanner draws down a page (dust on its glass, a failed
    /// sensor element), mend them (a white one only where both its sides hold ink), and doubt
    /// the words any of them crosses.
    pub streaks: bool,
    /// Read colour pages with colour faded to paper by its saturation (stamps, highlighter,
    /// tinted paper), rather than as plain luma.
    pub fade_colour: bool,
    /// Recognise blank pages (kept, marked, not OCRed).
    pub blank_pages: bool,
    /// A page whose inner area holds less solid ink than this (per mille) is blank.
    pub blank_ink_permille: f32,
    /// A page is flagged `needs_rescan` when its mean word confidence is below this (0..100)...
    pub rescan_below_confidence: f32,
    /// ...or more than this share of its words are doubtful (confidence below 60).
    pub rescan_above_low_share: f32,
}

impl Default for PreprocessConfig {
    fn default() -> Self {
        PreprocessConfig {
            orientation: true,
            orientation_min_confidence: 1.5,
            deskew: true,
            max_skew_degrees: 10.0,
            min_skew_degrees: 0.4,
            resolution: true,
            target_dpi: 300,
            min_dpi: 200,
            max_dpi: 400,
            contrast: true,
            streaks: true,
            fade_colour: true,
            blank_pages: true,
            blank_ink_permille: 0.5,
            rescan_below_confidence: 60.0,
            rescan_above_low_share: 0.4,
        }
    }
}

impl PreprocessConfig {
    /// Every step off: pages go to OCR as decoded.
    pub fn off() -> Self {
        PreprocessConfig {
            orientation: false,
            deskew: false,
            resolution: false,
            contrast: false,
            streaks: false,
            blank_pages: false,
            ..PreprocessConfig::default()
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PdfConfig {
    pub raster_dpi: u32,
    pub tool_timeout_secs: u64,
    pub text_layer_min_chars: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifyConfig {
    pub min_confidence: f32,
    pub max_unknown_word_share: f32,
    pub min_words: usize,
    pub min_clinical_words: usize,
    pub title_weight: f32,
    pub date_label_weight: f32,
    pub doctypes: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchConfig {
    pub inbox: PathBuf,
    pub processing: PathBuf,
    pub quarantine: PathBuf,
    pub settle_ms: u64,
    pub incomplete_grace_secs: u64,
    pub rescan_secs: u64,
    pub max_crashes: u32,
    pub stop_timeout_secs: u64,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            inbox: PathBuf::from("inbox"),
            processing: PathBuf::from("processing"),
            quarantine: PathBuf::from("quarantine"),
            settle_ms: 1000,
            incomplete_grace_secs: 300,
            rescan_secs: 30,
            max_crashes: 3,
            stop_timeout_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentifyConfig {
    pub mrn_labels: Vec<String>,
    pub mrn_formats: Vec<String>,
    pub mrn_check_digit: crate::identify::CheckDigit,
    pub name_labels: Vec<String>,
    /// Labels of a last name and a first name printed as fields of their own.
    pub last_name_labels: Vec<String>,
    pub first_name_labels: Vec<String>,
    pub dob_labels: Vec<String>,
    pub other_labels: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Default for IdentifyConfig {
    fn default() -> Self {
        IdentifyConfig {
            mrn_labels: strings(&[
                "MRN",
                "MR#",
                "MR No",
                "MR Number",
                "Med Rec #",
                "Med Rec No",
                "Med Rec",
                "Medical Record #",
                "Medical Record No",
                "Medical Record Number",
                "Medical Record",
                "Medical Rec #",
                "Medical Rec No",
                "Medical Rec",
                "Record #",
                "Record No",
                "Record Number",
                "Chart #",
                "Chart No",
                "Chart Number",
                "Chart",
                "Patient ID",
                "Patient #",
                "Patient No",
                "Patient Number",
                "Pt ID",
                "Pat ID",
                "EMR #",
                "EMR No",
                "EMR Number",
                "EMR ID",
                "Hospital #",
                "Hospital No",
                "Hosp #",
                "Hosp No",
                "Unit #",
                "Unit No",
                "HRN",
                "URN",
                "UR No",
                "UR #",
                "MR Num",
                "Hospital Number",
                "Hospital ID",
                "Unit Number",
                "Medical Record ID",
                "MR ID",
            ]),
            mrn_formats: strings(&["^[A-Z]{0,3}[0-9]{5,12}$"]),
            mrn_check_digit: crate::identify::CheckDigit::None,
            name_labels: strings(&[
                "Patient Name",
                "Patient",
                "Pt Name",
                "Pt",
                "Name",
                "RE",
                "Regarding",
                "Resident Name",
                "Resident",
                "Client Name",
                "Client",
                "Patient Identification",
            ]),
            last_name_labels: strings(&["Last Name", "Patient Last Name", "Surname", "Family Name", "Last"]),
            first_name_labels: strings(&[
                "First Name",
                "Patient First Name",
                "Given Name",
                "Forename",
                "First",
            ]),
            dob_labels: strings(&[
                "Date of Birth",
                "DOB",
                "D.O.B.",
                "Birth Date",
                "Birthdate",
                "Birth Dt",
                "Born",
                "Birthday",
                "Birth",
            ]),
            other_labels: strings(&[
                "Age",
                "Sex",
                "Gender",
                "Acct",
                "Account",
                "FIN",
                "Encounter",
                "Visit",
                "Date",
                "Admit",
                "Admitted",
                "Discharge",
                "Room",
                "Bed",
                "Physician",
                "Attending",
                "Provider",
                "Dr",
                "SSN",
                "Phone",
                "Tel",
                "Fax",
                "DOS",
                "Location",
                "Service",
                "Exam",
                "Collected",
                "Received",
                "Surgery",
                "Procedure",
                "Ordering",
                "Referring",
                "Job",
                "Middle Name",
                "Middle Initial",
                "MI",
                "Accession",
                "Specimen",
                "Requisition",
                "Claim",
                "Policy",
                "Member ID",
                "Member #",
                "Subscriber",
                "Insurance",
                "Payer",
                "Group #",
                "Order #",
                "Invoice",
                "Authorization",
                "Ref #",
                "Reference #",
                "Case #",
                "Lab #",
                "NPI",
                "CSN",
            ]),
        }
    }
}

impl Default for ClassifyConfig {
    fn default() -> Self {
        ClassifyConfig {
            min_confidence: 0.4,
            max_unknown_word_share: 0.45,
            min_words: 12,
            min_clinical_words: 5,
            title_weight: 4.0,
            date_label_weight: 2.5,
            doctypes: PathBuf::new(),
        }
    }
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        ArchiveConfig {
            dir: PathBuf::from("archive"),
        }
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            jobs: 0,
            max_file_bytes: 1 << 30,
            max_pages: 2000,
            max_page_pixels: 120_000_000,
        }
    }
}

impl Default for OcrConfig {
    fn default() -> Self {
        OcrConfig {
            engine: EngineKind::Tesseract,
            language: "eng".to_string(),
            psm: 4,
            datapath: String::new(),
            fake_delay_ms: 0,
            fake_abort_width: 0,
        }
    }
}

impl Default for PdfConfig {
    fn default() -> Self {
        PdfConfig {
            raster_dpi: 300,
            tool_timeout_secs: 120,
            text_layer_min_chars: 40,
        }
    }
}

impl Config {
    /// Parses and validates one configuration text.
    pub fn parse(text: &str) -> anyhow::Result<Config> {
        let config: Config = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Loads the configuration: `explicit` if given, else `$CHARTSCAN_CONFIG`, else
    /// `./config/chartscan.toml` if it exists, else the built-in copy of the shipped file.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Config> {
        let from_env = std::env::var_os("CHARTSCAN_CONFIG").map(PathBuf::from);
        let local = Path::new("config/chartscan.toml");
        let path = match (explicit, from_env) {
            (Some(path), _) => Some(path.to_path_buf()),
            (None, Some(path)) => Some(path),
            (None, None) if local.is_file() => Some(local.to_path_buf()),
            (None, None) => None,
        };
        let Some(path) = path else {
            return Config::parse(DEFAULT_TOML).context("in the built-in config");
        };
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("reading config {}", path.display()))?;
        let mut config = Config::parse(&text).with_context(|| format!("in config {}", path.display()))?;
        // The taxonomy: as configured (relative to the config file), else beside the config.
        let folder = path.parent().unwrap_or(Path::new("."));
        config.doctypes_path = if config.classify.doctypes.as_os_str().is_empty() {
            Some(folder.join("doctypes.toml")).filter(|p| p.is_file())
        } else {
            Some(folder.join(&config.classify.doctypes))
        };
        Ok(config)
    }

    /// The document-type taxonomy this configuration names (or the built-in one).
    /// The taxonomy file's text: `doctypes.toml` beside the configuration, or the built-in one.
    fn taxonomy_text(&self) -> anyhow::Result<std::borrow::Cow<'static, str>> {
        match &self.doctypes_path {
            Some(path) => Ok(std::fs::read_to_string(path)
                .with_context(|| format!("reading taxonomy {}", path.display()))?
                .into()),
            None => Ok(crate::classify::taxonomy::DEFAULT_TOML.into()),
        }
    }

    /// Where the taxonomy comes from, for error messages.
    fn taxonomy_origin(&self) -> String {
        self.doctypes_path.as_ref().map_or_else(
            || "the built-in taxonomy".to_string(),
            |p| format!("taxonomy {}", p.display()),
        )
    }

    /// The ids of the taxonomy's types, without compiling its matchers.
    pub fn type_ids(&self) -> anyhow::Result<Vec<String>> {
        crate::classify::Taxonomy::type_ids(&self.taxonomy_text()?)
            .with_context(|| format!("in {}", self.taxonomy_origin()))
    }

    pub fn taxonomy(&self) -> anyhow::Result<crate::classify::Taxonomy> {
        crate::classify::Taxonomy::parse(&self.taxonomy_text()?)
            .with_context(|| format!("in {}", self.taxonomy_origin()))
    }

    /// Worker threads to run: the configured number, or one per core.
    pub fn jobs(&self) -> usize {
        match self.ingest.jobs {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.ocr.psm > 13 {
            bail!("ocr.psm must be 0..=13, not {}", self.ocr.psm);
        }
        if self.ocr.language.is_empty() {
            bail!("ocr.language must not be empty");
        }
        if !(72..=1200).contains(&self.pdf.raster_dpi) {
            bail!("pdf.raster_dpi must be 72..=1200, not {}", self.pdf.raster_dpi);
        }
        if self.watch.max_crashes == 0 || self.watch.rescan_secs == 0 {
            bail!("watch.max_crashes and watch.rescan_secs must be at least 1");
        }
        if self.pdf.tool_timeout_secs == 0 {
            bail!("pdf.tool_timeout_secs must be at least 1");
        }
        if self.ingest.max_pages == 0 || self.ingest.max_page_pixels == 0 {
            bail!("ingest.max_pages and ingest.max_page_pixels must be positive");
        }
        if !(0.0..=1.0).contains(&self.classify.min_confidence)
            || !(0.0..=1.0).contains(&self.classify.max_unknown_word_share)
        {
            bail!("classify.min_confidence and classify.max_unknown_word_share must be within 0..=1");
        }
        crate::identify::Rules::from_config(&self.identify).context("in [identify]")?;
        if self.archive.dir.as_os_str().is_empty() {
            bail!("archive.dir must not be empty");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_file_parses_and_matches_the_defaults() {
        let shipped = Config::parse(DEFAULT_TOML).unwrap();
        let default = Config::default();
        assert_eq!(format!("{shipped:?}"), format!("{default:?}"));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = Config::parse("[ocr]\npsn = 6\n").unwrap_err();
        assert!(format!("{err:#}").contains("unknown field"), "{err:#}");
    }

    #[test]
    fn out_of_range_values_are_rejected() {
        assert!(Config::parse("[ocr]\npsm = 14\n").is_err());
        assert!(Config::parse("[pdf]\nraster_dpi = 10\n").is_err());
    }
}
