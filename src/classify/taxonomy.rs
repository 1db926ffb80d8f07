//! The document-type taxonomy (`config/doctypes.toml`) and the evidence its titles, headings and
//! keywords find in a document's text.
//!
//! Evidence is counted, not weighed: how much a title or a heading is worth is the model's
//! business (`model.rs`), fitted on labelled examples.

use anyhow::{Context, bail};
use regex::{Regex, RegexSet};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::Deserialize;

use super::model::tokenize;

/// The type the classifier answers when it is not sure.
pub const UNKNOWN: &str = "unknown";

/// The type it answers for text that is no clinical document at all (a brochure, a foreign
/// text), where the taxonomy has it.
pub const OTHER: &str = "other";

/// A verdict of the classifier's rather than a kind of document: never scored or learned.
pub fn is_verdict(id: &str) -> bool {
    id == UNKNOWN || id == OTHER
}

/// The shipped taxonomy, used when the site has none of its own.
pub const DEFAULT_TOML: &str = include_str!("../../config/doctypes.toml");

/// Title lines are looked for among this many non-empty lines at the top of the first page.
const TITLE_LINES: usize = 30;
/// A line longer than this (after normalising) is body text, not a title.
const TITLE_MAX_CHARS: usize = 70;
/// Headings are looked for in this many lines of the document.
const HEADING_LINES: usize = 600;
/// Keywords are looked for in this many tokens of the document.
const KEYWORD_TOKENS: usize = 8_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxonomyFile {
    #[serde(default)]
    clinical_words: Vec<String>,
    #[serde(rename = "type")]
    types: Vec<TypeSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeSpec {
    id: String,
    name: String,
    #[serde(default)]
    loinc: String,
    #[serde(default)]
    titles: Vec<String>,
    #[serde(default)]
    headings: Vec<String>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    date_labels: Vec<String>,
}

/// One document type of the taxonomy.
#[derive(Debug, Clone)]
pub struct DocType {
    pub id: String,
    pub name: String,
    pub loinc: String,
}

/// The taxonomy, with its evidence compiled into matchers that read a document once.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    pub types: Vec<DocType>,
    /// Every title pattern of every type, and the type each belongs to.
    titles: RegexSet,
    title_owner: Vec<usize>,
    /// Headings by their first word: (type, heading).
    headings: HashMap<String, Vec<(usize, String)>>,
    keywords: Phrases,
    date_labels: Phrases,
    clinical_words: HashSet<String>,
}

/// What the rules found for each type (indexed like `Taxonomy::types`).
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// The title line that matched, per type.
    pub titles: Vec<Option<String>>,
    /// Distinct headings found, per type.
    pub headings: Vec<Vec<String>>,
    /// Distinct keywords found, per type.
    pub keywords: Vec<Vec<String>>,
    /// The date label of the identifier block that matched, per type.
    pub date_labels: Vec<Option<String>>,
}

impl Taxonomy {
    /// The type ids of a taxonomy file, without compiling its matchers (for checking an id an
    /// operator typed: a few hundred microseconds instead of milliseconds).
    pub fn type_ids(text: &str) -> anyhow::Result<Vec<String>> {
        let file: TaxonomyFile = toml::from_str(text)?;
        Ok(file.types.into_iter().map(|t| t.id).collect())
    }

    pub fn parse(text: &str) -> anyhow::Result<Taxonomy> {
        let file: TaxonomyFile = toml::from_str(text)?;
        let mut types: Vec<DocType> = Vec::with_capacity(file.types.len());
        let (mut title_patterns, mut title_owner) = (Vec::new(), Vec::new());
        let mut headings: HashMap<String, Vec<(usize, String)>> = HashMap::default();
        let (mut keywords, mut date_labels) = (Phrases::default(), Phrases::default());
        for (index, spec) in file.types.into_iter().enumerate() {
            let valid_id = spec
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if spec.id.is_empty() || !valid_id {
                bail!(
                    "type id {:?} must be lowercase letters, digits and underscores",
                    spec.id
                );
            }
            if types.iter().any(|t| t.id == spec.id) {
                bail!("type {:?} is defined twice", spec.id);
            }
            for pattern in &spec.titles {
                Regex::new(&format!("(?i){pattern}"))
                    .with_context(|| format!("title pattern {pattern:?} of {}", spec.id))?;
                title_patterns.push(format!("(?i){pattern}"));
                title_owner.push(index);
            }
            for heading in spec
                .headings
                .iter()
                .map(|h| normalize(h))
                .filter(|h| !h.is_empty())
            {
                let first = heading.split(' ').next().unwrap_or_default().to_string();
                headings.entry(first).or_default().push((index, heading));
            }
            for keyword in &spec.keywords {
                keywords.add(keyword, index);
            }
            for label in &spec.date_labels {
                date_labels.add(label, index);
            }
            types.push(DocType {
                id: spec.id,
                name: spec.name,
                loinc: spec.loinc,
            });
        }
        if !types.iter().any(|t| t.id == UNKNOWN) {
            bail!("the taxonomy must define the type {UNKNOWN:?}");
        }
        Ok(Taxonomy {
            types,
            titles: RegexSet::new(&title_patterns)?,
            title_owner,
            headings,
            keywords,
            date_labels,
            clinical_words: file.clinical_words.iter().map(|w| w.to_lowercase()).collect(),
        })
    }

    pub fn builtin() -> Taxonomy {
        Taxonomy::parse(DEFAULT_TOML).expect("the shipped taxonomy parses")
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.types.iter().position(|t| t.id == id)
    }

    pub fn get(&self, id: &str) -> Option<&DocType> {
        self.types.iter().find(|t| t.id == id)
    }

    /// Titles, date labels, headings and keywords found in a document's pages.
    pub fn evidence(&self, pages: &[&str]) -> Evidence {
        let folded = fold(pages);
        let mut words = Vec::new();
        tokenize(&folded, &mut words);
        self.evidence_folded(pages.first().copied().unwrap_or(""), &folded, &words)
    }

    /// [`Taxonomy::evidence`] from the first page as it is, the whole text folded ([`fold`])
    /// and its tokens, so a caller that needs those too makes them once.
    pub fn evidence_folded(&self, first_page: &str, folded: &str, words: &[&str]) -> Evidence {
        let n = self.types.len();
        let mut evidence = Evidence {
            titles: vec![None; n],
            headings: vec![Vec::new(); n],
            keywords: vec![Vec::new(); n],
            date_labels: vec![None; n],
        };
        for line in first_page
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(TITLE_LINES)
        {
            let lower = line.to_lowercase();
            let mut line_words = Vec::new();
            tokenize(&lower, &mut line_words);
            self.date_labels.find(&line_words, |phrase, end| {
                let dated = line_words
                    .get(end)
                    .is_some_and(|next| *next == "#" || MONTHS.iter().any(|m| next.starts_with(m)));
                if dated {
                    for &type_idx in &phrase.owners {
                        evidence.date_labels[type_idx].get_or_insert_with(|| phrase.text.clone());
                    }
                }
            });
            if line.len() > TITLE_MAX_CHARS * 2 {
                continue;
            }
            let line = normalize(line);
            if line.is_empty() || line.len() > TITLE_MAX_CHARS {
                continue;
            }
            for pattern in self.titles.matches(&line).iter() {
                let slot = &mut evidence.titles[self.title_owner[pattern]];
                if slot.is_none() {
                    *slot = Some(line.clone());
                }
            }
        }
        for line in folded.lines().take(HEADING_LINES) {
            let line = line.trim();
            let first = line
                .split(' ')
                .next()
                .unwrap_or_default()
                .trim_end_matches([':', ';', ',']);
            let Some(candidates) = self.headings.get(first) else {
                continue;
            };
            for (type_idx, heading) in candidates {
                let found = &mut evidence.headings[*type_idx];
                if is_heading(line, heading) && !found.contains(heading) {
                    found.push(heading.clone());
                }
            }
        }
        self.keywords
            .find(&words[..words.len().min(KEYWORD_TOKENS)], |phrase, _| {
                for &type_idx in &phrase.owners {
                    let slot = &mut evidence.keywords[type_idx];
                    if !slot.contains(&phrase.text) {
                        slot.push(phrase.text.clone());
                    }
                }
            });
        evidence
    }

    /// Words that clinical writing of any kind is full of (lower case).
    pub fn clinical_words(&self) -> impl Iterator<Item = &str> {
        self.clinical_words.iter().map(String::as_str)
    }
}

/// Phrases (keywords, date labels) matched as sequences of whole tokens, the way the word model
/// reads text: `ems` is not found in `systems`, and `10*3/uL` matches `10^3/ul`.
#[derive(Debug, Clone, Default)]
struct Phrases {
    /// By first token.
    by_first: HashMap<String, Vec<Phrase>>,
}

#[derive(Debug, Clone)]
struct Phrase {
    /// The phrase as the taxonomy spells it (lower case).
    text: String,
    /// Its tokens after the first.
    rest: Vec<String>,
    /// The types that list it.
    owners: Vec<usize>,
}

impl Phrases {
    fn add(&mut self, phrase: &str, owner: usize) {
        let text = collapse_spaces(&phrase.to_lowercase());
        let mut words = Vec::new();
        tokenize(&text, &mut words);
        let Some((first, rest)) = words.split_first() else {
            return;
        };
        let (first, rest): (String, Vec<String>) =
            (first.to_string(), rest.iter().map(|w| w.to_string()).collect());
        let entries = self.by_first.entry(first).or_default();
        match entries.iter_mut().find(|p| p.rest == rest) {
            Some(existing) => existing.owners.push(owner),
            None => entries.push(Phrase {
                text,
                rest,
                owners: vec![owner],
            }),
        }
    }

    /// Calls `found(phrase, end)` for every occurrence in `words`, `end` being the index of the
    /// token after it.
    fn find<'a>(&'a self, words: &[&str], mut found: impl FnMut(&'a Phrase, usize)) {
        for (at, word) in words.iter().enumerate() {
            let Some(candidates) = self.by_first.get(*word) else {
                continue;
            };
            for phrase in candidates {
                let end = at + 1 + phrase.rest.len();
                if words
                    .get(at + 1..end)
                    .is_some_and(|next| next.iter().eq(phrase.rest.iter()))
                {
                    found(phrase, end);
                }
            }
        }
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// A line starts with `heading` (already normalised) followed by a colon or nothing.
fn is_heading(line: &str, heading: &str) -> bool {
    let Some(rest) = line.strip_prefix(heading) else {
        return false;
    };
    let rest = rest.trim_start();
    rest.is_empty() || rest.starts_with(':') || rest.starts_with(';') || rest.starts_with(',')
}

/// A document's text folded once for matching: lower case, each run of spaces and tabs made one
/// space, lines kept, pages joined by a newline.
pub fn fold(pages: &[&str]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(pages.iter().map(|p| p.len() + 1).sum());
    for page in pages {
        let mut pending_space = false;
        let bytes = page.as_bytes();
        let mut pos = 0;
        while pos < bytes.len() {
            let byte = bytes[pos];
            if byte >= 0x80 {
                let c = page[pos..].chars().next().expect("pos is a character boundary");
                pos += c.len_utf8();
                if c.is_whitespace() {
                    pending_space = true;
                } else {
                    push_space_if_pending(&mut out, &mut pending_space);
                    for lower in c.to_lowercase() {
                        out.extend_from_slice(lower.encode_utf8(&mut [0; 4]).as_bytes());
                    }
                }
                continue;
            }
            pos += 1;
            match byte {
                b'\n' => {
                    out.push(b'\n');
                    pending_space = false;
                }
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c => pending_space = true,
                _ => {
                    push_space_if_pending(&mut out, &mut pending_space);
                    out.push(byte.to_ascii_lowercase());
                }
            }
        }
        out.push(b'\n');
    }
    String::from_utf8(out).expect("built from whole characters")
}

/// One space for a run of them, but none at the start of a line.
fn push_space_if_pending(out: &mut Vec<u8>, pending: &mut bool) {
    if std::mem::take(pending) && out.last().is_some_and(|&b| b != b'\n') {
        out.push(b' ');
    }
}

/// Lower case, punctuation other than `&`, `-` and `/` made a space, spaces collapsed.
pub fn normalize(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut pending_space = false;
    for c in line.chars() {
        if c.is_alphanumeric() || matches!(c, '&' | '-' | '/') {
            if std::mem::take(&mut pending_space) && !out.is_empty() {
                out.push(' ');
            }
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            pending_space = true;
        }
    }
    out
}

fn collapse_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_taxonomy_has_the_clinical_types() {
        let taxonomy = Taxonomy::builtin();
        for id in [
            "discharge_summary",
            "history_and_physical",
            "operative_report",
            "progress_note",
            "consultation",
            "radiology_report",
            "lab_report",
            "pathology_report",
            "referral_letter",
            "emergency_report",
            UNKNOWN,
            OTHER,
        ] {
            assert!(taxonomy.get(id).is_some(), "{id}");
        }
        assert_eq!(taxonomy.get("discharge_summary").unwrap().loinc, "18842-5");
    }

    #[test]
    fn finds_titles_headings_and_keywords() {
        let taxonomy = Taxonomy::builtin();
        let page = "NORTH CLINIC\nDischarge  Summary.\nHOSPITAL COURSE: uneventful.\nDischarge Medications\nShe was discharged home.";
        let evidence = taxonomy.evidence(&[page]);
        let ds = taxonomy.index_of("discharge_summary").unwrap();
        assert_eq!(evidence.titles[ds].as_deref(), Some("discharge summary"));
        assert_eq!(
            evidence.headings[ds],
            ["hospital course", "discharge medications"]
        );
        assert_eq!(evidence.keywords[ds], ["was discharged", "discharged home"]);
    }

    #[test]
    fn identifier_lines_and_courtesy_titles_are_not_imaging_titles() {
        let taxonomy = Taxonomy::builtin();
        let rad = taxonomy.index_of("radiology_report").unwrap();
        let title = |line: &str| taxonomy.evidence(&[line]).titles[rad].clone();
        assert_eq!(title("MR#: 506-19-16  Date of Birth: 1962-01-08"), None);
        assert_eq!(title("Mr. John Public"), None);
        assert_eq!(
            title("MR BRAIN WITHOUT CONTRAST").as_deref(),
            Some("mr brain without contrast")
        );
        assert_eq!(title("MRI LUMBAR SPINE").as_deref(), Some("mri lumbar spine"));
    }

    #[test]
    fn keywords_match_whole_words_and_date_labels_need_a_date() {
        let taxonomy = Taxonomy::builtin();
        let ed = taxonomy.index_of("emergency_report").unwrap();
        let hp = taxonomy.index_of("history_and_physical").unwrap();
        let lab = taxonomy.index_of("lab_report").unwrap();
        let keywords = |text: &str, t: usize| taxonomy.evidence(&[text]).keywords[t].clone();
        assert!(keywords("Seen by EMS today.", ed).contains(&"ems".to_string()));
        assert!(!keywords("REVIEW OF SYSTEMS: negative", ed).contains(&"ems".to_string()));
        assert!(keywords("WBC 7.2 10*3/uL", lab).contains(&"10*3/ul".to_string()));
        let dated = |line: &str| taxonomy.evidence(&[line]).date_labels[hp].is_some();
        assert!(dated("Admit Date: 04-11-2024  Acct #: 502969581"));
        assert!(dated("Admission Date  January 24, 2012"));
        assert!(!dated("The admit date was unknown"));
        assert!(!dated("Readmit date 04-11-2024"));
    }

    #[test]
    fn a_phrase_listed_by_two_types_counts_for_both() {
        let taxonomy = Taxonomy::builtin();
        let evidence = taxonomy.evidence(&["Date of Service: 01-08-2023"]);
        for id in ["progress_note", "consultation"] {
            assert!(
                evidence.date_labels[taxonomy.index_of(id).unwrap()].is_some(),
                "{id}"
            );
        }
    }

    #[test]
    fn a_heading_must_start_the_line() {
        assert!(is_heading("impression: no acute disease", "impression"));
        assert_eq!(
            fold(&["HOSPITAL   Course :\tuneventful", "Page\t2"]),
            "hospital course : uneventful\npage 2\n"
        );
        assert!(is_heading("impression", "impression"));
        assert!(!is_heading("my impression is that", "impression"));
        assert!(!is_heading("the impression: none", "impression"));
    }

    #[test]
    fn rejects_a_taxonomy_without_unknown_or_with_duplicates() {
        assert!(Taxonomy::parse("[[type]]\nid = \"a\"\nname = \"A\"\n").is_err());
        let twice = "[[type]]\nid = \"unknown\"\nname = \"U\"\n[[type]]\nid = \"unknown\"\nname = \"U\"\n";
        assert!(Taxonomy::parse(twice).is_err());
        assert!(Taxonomy::parse("[[type]]\nid = \"Bad Id\"\nname = \"x\"\n").is_err());
    }

    #[test]
    fn a_site_can_add_a_type() {
        let extra = format!(
            "{DEFAULT_TOML}\n[[type]]\nid = \"consent_form\"\nname = \"Consent form\"\nloinc = \"59284-0\"\ntitles = ['^(informed )?consent( form| for .*)?$']\n"
        );
        let taxonomy = Taxonomy::parse(&extra).unwrap();
        let evidence = taxonomy.evidence(&["INFORMED CONSENT FOR SURGERY\nI agree"]);
        assert!(evidence.titles[taxonomy.index_of("consent_form").unwrap()].is_some());
    }
}
