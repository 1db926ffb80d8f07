//! Patient identifiers read off a document: MRN, name and date of birth, each with a confidence
//! and the page it came from; conflicts and doubtful readings become findings for a person;
//! and the match of those identifiers against the patient index.
//!
//! Identification never fails and never guesses: a field it is not sure of is `None` with a
//! finding saying why. It does no I/O; the patient index is reached through [`PatientIndex`].

mod dates;
mod index;
mod mrn;
mod names;

use std::borrow::Cow;

use chrono::NaiveDate;
use regex::Regex;

pub use dates::{DateReading, read_date};
pub use index::{
    IndexMatch, IndexPatient, KnownPatients, MatchBasis, MemoryIndex, NameQuery, PatientIndex, match_known,
    match_patient,
};
pub use mrn::{CheckDigit, Mrn, MrnReading, MrnRules, normalize as normalize_mrn, same_under_confusion};
pub use names::{PersonName, edit_distance, fold as fold_name};

use crate::config::IdentifyConfig;
use crate::model::{Phi, Word};

/// One identifier found somewhere, with how sure the reading is and where it was.
#[derive(Debug, Clone, PartialEq)]
pub struct Found<T> {
    pub value: T,
    /// 0..1
    pub confidence: f32,
    /// 1-based page number in the source file.
    pub page_no: u32,
}

/// Everything read off one page.
#[derive(Debug, Clone, Default)]
pub struct PageIds {
    pub mrns: Vec<Found<Mrn>>,
    pub names: Vec<Found<PersonName>>,
    pub dobs: Vec<Found<Phi<NaiveDate>>>,
    /// Readings that need a person (a date of birth that is no date, a check digit that fails).
    pub findings: Vec<String>,
    pub glimpses: Glimpses,
}

/// Identifier text that could not be taken as a value: a faded label's `ES46o4.002`, a birth
/// date missing its year, a reading too faint to trust. Never shown or stored as the patient's;
/// only evidence that the one patient the index has by the document's name is the one on the
/// page (see [`match_patient`]).
#[derive(Debug, Clone, Default)]
pub struct Glimpses {
    pub mrn: Vec<Phi<String>>,
    pub dob: Vec<Phi<String>>,
    /// Names read from words OCR was unsure of, too faint to be the document's name.
    pub name: Vec<PersonName>,
}

impl PageIds {
    /// The page's own best reading of each field, for telling one patient's pages from
    /// another's.
    pub fn best(&self) -> (Option<&Mrn>, Option<&PersonName>, Option<NaiveDate>) {
        let best = |confidences: Vec<f32>| {
            confidences
                .iter()
                .enumerate()
                .filter(|(_, c)| **c >= ACCEPT)
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i)
        };
        (
            best(self.mrns.iter().map(|f| f.confidence).collect()).map(|i| &self.mrns[i].value),
            best(self.names.iter().map(|f| f.confidence).collect()).map(|i| &self.names[i].value),
            best(self.dobs.iter().map(|f| f.confidence).collect()).map(|i| *self.dobs[i].value.expose()),
        )
    }
}

/// The identifiers of a whole document.
#[derive(Debug, Clone, Default)]
pub struct PatientIds {
    pub mrn: Option<Found<Mrn>>,
    pub name: Option<Found<PersonName>>,
    pub dob: Option<Found<Phi<NaiveDate>>>,
    pub findings: Vec<String>,
    /// For a field that nothing could be read of (not a conflict), what was glimpsed of it.
    pub glimpses: Glimpses,
}

impl PatientIds {
    pub fn is_empty(&self) -> bool {
        self.mrn.is_none() && self.name.is_none() && self.dob.is_none()
    }
}

/// Readings below this confidence (a fax header's, faint print's) are not accepted on their own:
/// a document's patient at or above it was read surely.
pub const ACCEPT: f32 = 0.5;
const LABELLED: f32 = 0.97;
const CORRECTED: f32 = 0.85;
const NAME_BEFORE_LABEL: f32 = 0.85;
const NAME_IN_BLOCK: f32 = 0.8;
const FAX_HEADER: f32 = 0.3;
/// A reading whose OCR word confidence (0..100) is below this was printed faintly: its
/// confidence is scaled by [`FAINT`], below [`ACCEPT`], so it yields to any clear reading and
/// never splits a file; with no clear reading it is still used down to [`ACCEPT_FAINT`], with a
/// finding. A faint reading that also needed OCR confusions undone falls below that.
pub const FAINT_OCR_CONFIDENCE: f32 = 50.0;
const FAINT: f32 = 0.5;
const ACCEPT_FAINT: f32 = 0.45;
/// A name read from faint words: used alone (with a finding), never against a clear reading.
const FAINT_NAME: f32 = ACCEPT_FAINT;
/// An unlabelled `LAST, FIRST` line counts only this close to an MRN or DOB line, near the top.
const BLOCK_DISTANCE: usize = 2;
const BLOCK_LINES: usize = 18;

/// A labelled reading's confidence: lower when OCR look-alikes had to be undone.
fn labelled_confidence(corrected: bool) -> f32 {
    if corrected { CORRECTED } else { LABELLED }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mrn,
    Name,
    /// `Last Name:` and `First Name:` as fields of their own.
    LastName,
    FirstName,
    Dob,
    Other,
}

/// The site's identifier rules, compiled once.
#[derive(Debug, Clone)]
pub struct Rules {
    labels: Regex,
    /// Label kind by the alternative's capture group: group `i + 1` is alternative `i`.
    kinds: Vec<Kind>,
    /// A label with its colon glued to the digits before it (`MRN:448213DOB:03/14/1958`).
    glued: Regex,
    pub mrn: MrnRules,
}

impl Rules {
    pub fn from_config(config: &IdentifyConfig) -> anyhow::Result<Rules> {
        let mut alternatives: Vec<(usize, String, Kind)> = Vec::new();
        for (labels, kind) in [
            (&config.mrn_labels, Kind::Mrn),
            (&config.name_labels, Kind::Name),
            (&config.last_name_labels, Kind::LastName),
            (&config.first_name_labels, Kind::FirstName),
            (&config.dob_labels, Kind::Dob),
            (&config.other_labels, Kind::Other),
        ] {
            for label in labels {
                let pattern = label_pattern(label);
                if !pattern.is_empty() {
                    alternatives.push((label.trim().len(), pattern, kind));
                }
            }
        }
        // Longest first: at one position `Patient ID` must win over `Patient`.
        alternatives.sort_by_key(|(len, ..)| std::cmp::Reverse(*len));
        // Each alternative one capture group (a label pattern has no groups of its own).
        let (parts, kinds): (Vec<String>, Vec<Kind>) = alternatives
            .into_iter()
            .map(|(_, pattern, kind)| (format!("({pattern})"), kind))
            .unzip();
        let labels = Regex::new(&format!(r"(?i)\b(?:{})", parts.join("|")))?;
        let glued = Regex::new(&format!(r"(?i)[0-9](?:{})\s*[:#]", parts.join("|")))?;
        Ok(Rules {
            labels,
            kinds,
            glued,
            mrn: MrnRules::new(&config.mrn_formats, config.mrn_check_digit)?,
        })
    }
}

/// A label as a regular expression: letters and digits as written (any case), spaces and dots
/// optional between them, `#` allowed to be spaced off. In labels of four letters or more, `m`
/// and `rn` each stand for the other, OCR's commonest slip (`Bom:`, `Nurnber`).
fn label_pattern(label: &str) -> String {
    let mut out = String::new();
    let mut pending_gap = false;
    let chars: Vec<char> = label.trim().chars().collect();
    let slips = chars.iter().filter(|c| c.is_alphanumeric()).count() >= 4;
    // An acronym (`MRN`, `DOB`) is also printed with its letters dotted or slashed (`M.R.N.`,
    // `D/O/B`).
    let acronym = (2..=4).contains(&chars.len()) && chars.iter().all(char::is_ascii_uppercase);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c.is_alphanumeric() {
            if pending_gap {
                out.push_str(r"[\s.]*");
                pending_gap = false;
            } else if acronym && i > 1 {
                out.push_str(r"[./]?");
            }
            let lower = c.to_ascii_lowercase();
            if acronym && lower == 'o' {
                // `D0B`: a zero read for the letter.
                out.push_str("[o0]");
            } else if slips && lower == 'm' {
                out.push_str("(?:m|rn)");
            } else if slips && lower == 'r' && chars.get(i).is_some_and(|n| n.eq_ignore_ascii_case(&'n')) {
                out.push_str("(?:rn|m)");
                i += 1;
            } else {
                out.push_str(&regex::escape(&c.to_string()));
            }
        } else if c == '#' {
            out.push_str(r"[\s.]*#");
            pending_gap = false;
        } else {
            pending_gap = true;
        }
    }
    if acronym && chars.len() >= 3 {
        // `MRNi 448213`: a colon OCR read as a letter glued to the label.
        out.push_str(r"(?:[il]\b|\b)");
    } else if out.ends_with(|c: char| c.is_alphanumeric()) {
        out.push_str(r"\b");
    }
    if label.trim().ends_with('.') || acronym {
        out.push_str(r"\.?");
    }
    out
}

/// `text` with a space put back between a value's last digit and a label OCR glued to it with
/// its colon (`MRN:448213DOB:03/14/1958`, print set too tight for Tesseract to see the gap).
fn unglued<'t>(rules: &Rules, text: &'t str) -> Cow<'t, str> {
    let mut out = String::new();
    let mut copied = 0;
    for glued in rules.glued.find_iter(text) {
        // After the digit (ASCII, one byte).
        let at = glued.start() + 1;
        out.push_str(&text[copied..at]);
        out.push(' ');
        copied = at;
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Where a comma is followed by a number (`Jane Doe, 68 year old female`, `DOE, JANE, 68F`).
fn comma_before_number(value: &str) -> Option<usize> {
    value.match_indices(',').map(|(at, _)| at).find(|&at| {
        value[at + 1..]
            .trim_start()
            .starts_with(|c: char| c.is_ascii_digit())
    })
}

/// A label found on a line and the value after it.
struct Labelled<'a> {
    kind: Kind,
    start: usize,
    /// Where the label's own words end.
    end: usize,
    /// What follows the label and its punctuation, up to the next label.
    value: &'a str,
    /// The label was followed by a colon (required of name labels: `RE` and `Name` are words).
    colon: bool,
    /// That colon is a lone dot read in its place: a name after it must look like one.
    dot_for_colon: bool,
    /// It starts its line or follows a wide gap: a field of a header block, not a word of a
    /// sentence.
    starts_field: bool,
    /// Its place in a run of labels joined by slashes, and the run's length.
    joined: Option<(usize, usize)>,
}

fn labelled<'a>(rules: &Rules, line: &'a str) -> Vec<Labelled<'a>> {
    let mut found: Vec<(usize, usize, Kind)> = Vec::new();
    for caps in rules.labels.captures_iter(line) {
        let whole = caps.get(0).expect("group 0 always matches");
        let kind = (1..caps.len())
            .find(|&group| caps.get(group).is_some())
            .map_or(Kind::Other, |group| rules.kinds[group - 1]);
        found.push((whole.start(), whole.end(), kind));
    }
    // Another label in the brackets that follow a label is its hint, not a field (`DOB(Age):`,
    // `Name (Last, First, MI):`), and so is the label's own abbreviation (`Date of Birth (DOB):`).
    let mut i = 1;
    while i < found.len() {
        let (start, end, kind) = found[i];
        let before = line[found[i - 1].1..start].trim_start();
        let after = &line[end..];
        let hint_kind =
            matches!(kind, Kind::Other | Kind::LastName | Kind::FirstName) || kind == found[i - 1].2;
        // The letters an MRN starts with are no label of their own (`Patient ID: PT-0448213`):
        // right at the start of an MRN label's value, glued to digits.
        let mrn_prefix = found[i - 1].2 == Kind::Mrn
            && before
                .trim_start_matches(|c: char| ":;#.".contains(c))
                .trim()
                .is_empty()
            && after
                .trim_start_matches('-')
                .starts_with(|c: char| c.is_ascii_digit());
        if mrn_prefix
            || hint_kind
                && before.starts_with('(')
                && !before.contains(')')
                && after.find(')').is_some_and(|close| !after[..close].contains(':'))
        {
            found.remove(i);
        } else {
            i += 1;
        }
    }
    implied_mrn_labels(line, &mut found);
    let mut out = Vec::with_capacity(found.len());
    for (i, &(start, end, kind)) in found.iter().enumerate() {
        let value_end = found.get(i + 1).map_or(line.len(), |next| next.0);
        let after = without_format_hint(&line[end..value_end]);
        // `;` is a colon OCR read with a tail (`DOB; 03/14/1958`), `!` one read whole
        // (`Sex/DOB! F 03/14/1958`).
        let trimmed = after.trim_start_matches(|c: char| {
            c.is_whitespace() || matches!(c, ':' | ';' | '#' | '.' | ',' | '-' | '=' | '!')
        });
        let punctuation = &after[..after.len() - trimmed.len()];
        let trimmed = strip_number_word(trimmed);
        // A field's label starts its line or follows a wide gap; there a lone dot or comma is
        // a colon OCR lost the upper dot of (skewed or faint print: `Patient Name. DOE, JANE`,
        // `Patient, Doe, Jane`).
        let starts_field = line[..start].trim().is_empty() || line[..start].ends_with("  ");
        let dot_for_colon = starts_field && matches!(punctuation.trim(), "." | ",");
        out.push(Labelled {
            kind,
            start,
            end,
            value: trimmed.trim_end(),
            // Dot leaders (`Name.......Doe, Jane`) say "value follows" as a colon does.
            colon: punctuation.contains([':', ';', '#']) || punctuation.contains("...") || dot_for_colon,
            dot_for_colon,
            starts_field,
            joined: None,
        });
    }
    // Labels joined by slashes share the values after the last one, in order
    // (`DOB/Age/Sex: 05/27/1964 60Y F`, `MRN/FIN: 448213/7788123`): each takes that value and
    // its place in the run.
    let mut i = 0;
    while i < out.len() {
        let mut last = i;
        while last + 1 < out.len() && line[found[last].1..found[last + 1].0].trim() == "/" {
            last += 1;
        }
        if last > i {
            let (value, colon) = (out[last].value, out[last].colon);
            for (place, label) in out[i..=last].iter_mut().enumerate() {
                label.value = value;
                label.colon = colon;
                label.joined = Some((place, last - i + 1));
            }
        }
        i = last + 1;
    }
    out
}

/// A number marked only by `#` or put in brackets right after a patient's name
/// (`DOE, JANE  #448213`, `Patient: Doe, Jane (448213)`) is the MRN, the mark its label: added
/// to `found` as an MRN label. Not after another label (`Acct #`, `Job #: 379244`), and not
/// without a name before it (`the distal #3 toes`); a bracketed number only when it is all the
/// bracket holds and long enough to be an MRN (not an age, `(68)`).
fn implied_mrn_labels(line: &str, found: &mut Vec<(usize, usize, Kind)>) {
    let mut implied = Vec::new();
    for (at, mark) in line.match_indices(['#', '(']) {
        let after = line[at + 1..].trim_start();
        let marks_number = if mark == "#" {
            after.starts_with(|c: char| c.is_ascii_digit())
        } else {
            after.split_once(')').is_some_and(|(inside, _)| {
                let inside = inside.trim().trim_start_matches('#').trim_start();
                inside.chars().filter(char::is_ascii_digit).count() >= 5
                    && inside.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && inside.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
        };
        let starts_word = line[..at].chars().next_back().is_none_or(char::is_whitespace);
        if !marks_number || !starts_word || found.iter().any(|&(start, end, _)| (start..end).contains(&at)) {
            continue;
        }
        let before = match found.iter().rev().find(|&&(_, end, _)| end <= at) {
            Some(&(_, end, Kind::Name)) => line[end..at]
                .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | ';' | '.' | ',')),
            Some(_) => continue,
            None => &line[..at],
        };
        if capitalized_name(before.trim_end()).is_some() {
            implied.push((at, at + 1, Kind::Mrn));
        }
    }
    if !implied.is_empty() {
        found.extend(implied);
        found.sort_by_key(|&(start, ..)| start);
    }
}

/// The part of a value shared by labels joined by slashes that belongs to the label at `place`
/// of `of`: when its first word is as many values joined by slashes (`448213/7788123`, or with
/// a slashed date as one of them, `03/14/1958/F`), the value is as many parts between spaced
/// slashes (`Age/DOB: 68 / 03/14/1958`), or the value is as many words (`Sex/DOB: F 03/14/1958`).
fn own_part(value: &str, (place, of): (usize, usize)) -> Option<&str> {
    // Specks and stray quotes are no value (`F 03/14/1958 ‘`).
    let words: Vec<&str> = value
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    let first = *words.first()?;
    let mut parts: Vec<&str> = first.split('/').collect();
    // Three parts shaped as a date's (`03`, `14`, `1958`) are one value.
    let date_shaped = |three: &[&str]| {
        let digits =
            |p: &str, lengths: &[usize]| p.bytes().all(|b| b.is_ascii_digit()) && lengths.contains(&p.len());
        digits(three[0], &[1, 2]) && digits(three[1], &[1, 2]) && digits(three[2], &[2, 4])
    };
    // A four-digit year settles where the date is (`68/03/14/1958`: age 68, then the date).
    let dates: Vec<usize> = (0..of.min(parts.len().saturating_sub(2)))
        .filter(|&i| date_shaped(&parts[i..i + 3]))
        .collect();
    let full_year = dates.iter().copied().find(|&i| parts[i + 2].len() == 4);
    if parts.len() == of + 2
        && let Some(at) = full_year.or(dates.first().copied())
    {
        let start = parts[at].as_ptr() as usize - first.as_ptr() as usize;
        let end = parts[at + 2].as_ptr() as usize - first.as_ptr() as usize + parts[at + 2].len();
        parts.splice(at..at + 3, [&first[start..end]]);
    }
    let spaced: Vec<&str> = value.split(" / ").map(str::trim).collect();
    if parts.len() == of {
        Some(parts[place])
    } else if spaced.len() == of {
        Some(spaced[place])
    } else {
        (words.len() == of).then(|| words[place])
    }
}

/// What follows a label, past a format hint in brackets (`Date of Birth (MM/DD/YYYY): ...`).
fn without_format_hint(after: &str) -> &str {
    let trimmed = after.trim_start();
    if let Some(inner) = trimmed.strip_prefix('(')
        && let Some(close) = inner.find(')')
        && close <= 20
        && !inner[..close].contains(|c: char| c.is_ascii_digit())
    {
        return &inner[close + 1..];
    }
    after
}

/// `No.`, `Number`, `Num`, `ID` after a label (`Medical Record No: 123`, `Chart ID: 123`).
fn strip_number_word(value: &str) -> &str {
    for word in ["number", "num", "nbr", "no", "id"] {
        if let Some(rest) = value
            .get(..word.len())
            .filter(|w| w.eq_ignore_ascii_case(word))
            .map(|_| &value[word.len()..])
            && rest.starts_with(|c: char| !c.is_alphanumeric())
        {
            return rest.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '#' | '.'));
        }
    }
    value
}

/// The part of a value before a run of two spaces, a tab or a spaced bar (the next column of a
/// header block: `Jane Doe | MRN: ...`).
fn first_column(value: &str) -> &str {
    ["  ", "\t", " |"]
        .iter()
        .fold(value, |v, sep| v.split(sep).next().unwrap_or(""))
        .trim()
}

/// What a fax machine prints across the top of every page it sends: the time sent with the
/// word fax, a page counter (`P.001/003`, `Page 1 of 3`) or the sender (`FROM: ... TO: ...`),
/// or the word fax with a page counter.
struct FaxMarks {
    fax: Regex,
    time: Regex,
    counter: Regex,
    sender: Regex,
}

static FAX_MARKS: std::sync::LazyLock<FaxMarks> = std::sync::LazyLock::new(|| FaxMarks {
    fax: Regex::new(r"(?i)\bfax\b").expect("static pattern"),
    time: Regex::new(r"(?i)\b\d{1,2}:\d{2}(\b|[ap]m\b)").expect("static pattern"),
    counter: Regex::new(r"(?i)\bp(age|g)?\.?\s*\d+\s*(/|of)\s*\d+\b|\bp\.\s*\d{2,3}\b")
        .expect("static pattern"),
    sender: Regex::new(r"(?i)\bfrom\s*:.*\bto\s*:").expect("static pattern"),
});

/// The line is a fax header (see [`FaxMarks`]). Callers look only at a page's first and last
/// lines, where a fax machine prints it.
pub fn is_fax_header(line: &str) -> bool {
    let m = &*FAX_MARKS;
    let (time, counter) = (m.time.is_match(line), m.counter.is_match(line));
    (m.fax.is_match(line) && (time || counter)) || (time && (counter || m.sender.is_match(line)))
}

/// Reads the identifiers on one page.
pub fn page(rules: &Rules, page_no: u32, text: &str, today: NaiveDate) -> PageIds {
    let mut ids = PageIds::default();
    // An underscore is a form's line or an underline OCR read, never part of a value; it would
    // glue a label to what is before it (`_Patient:`).
    let text = text.replace('_', " ");
    let text = unglued(rules, &text);
    let (rows, competing) = values_below_labels(rules, &text.lines().collect::<Vec<_>>(), today);
    if competing {
        ids.findings.push(format!(
            "two numbers in the row under the MRN label on page {page_no} could each be the MRN: check against the page"
        ));
    }
    let lines: Vec<&str> = rows.iter().map(AsRef::as_ref).collect();
    let non_empty: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].trim().is_empty())
        .collect();
    let fax_lines: Vec<usize> = [non_empty.first(), non_empty.get(1), non_empty.last()]
        .into_iter()
        .flatten()
        .copied()
        .filter(|&i| is_fax_header(lines[i]))
        .collect();
    let mut id_lines = Vec::new();
    // `Last Name:` and `First Name:` values with their line numbers.
    let mut last_names: Vec<(usize, &str)> = Vec::new();
    let mut first_names: Vec<(usize, &str)> = Vec::new();
    // Names after a name label with no colon, with their line numbers.
    let mut colonless: Vec<(usize, PersonName)> = Vec::new();
    for (line_idx, line) in lines.iter().enumerate() {
        let on_fax_line = fax_lines.contains(&line_idx);
        let scale = if on_fax_line { FAX_HEADER } else { 1.0 };
        let found = labelled(rules, line);
        // Labels OCR garbled: an MRN after one is read, but only as faint print is (used alone,
        // with a finding; never against a clear reading, never to split a file); a birth date
        // after one is only a glimpse (`DOS`, the date of service, is one letter off `DOB`).
        for garbled in garbled_labels(line) {
            // Not a label's own words, nor the value after one (`MRN: MR133498` holds no label
            // `MR1`).
            let value_at = |l: &Labelled<'_>| l.value.as_ptr() as usize - line.as_ptr() as usize;
            if inside_label(&found, garbled.at) || found.iter().any(|l| value_at(l) == garbled.at) {
                continue;
            }
            let value = up_to_next_label(line, &found, garbled.value_at);
            match (garbled.kind, read_mrn(rules, value)) {
                (Kind::Mrn, Some(MrnReading::Valid { mrn, corrected })) => {
                    id_lines.push(line_idx);
                    ids.mrns.push(Found {
                        value: mrn,
                        confidence: scale * FAINT * labelled_confidence(corrected),
                        page_no,
                    });
                }
                _ if value.starts_with(|c: char| c.is_ascii_digit()) => {
                    ids.glimpses.push(garbled.kind, value)
                }
                _ => {}
            }
        }
        // `Pt Nam2: FRAMI, PATRIA`: a name after a name label OCR garbled is faint.
        if let Some(value_at) = garbled_name_label(line).filter(|&at| !inside_label(&found, at)) {
            let value = first_column(up_to_next_label(line, &found, value_at));
            let value = value.trim_end_matches(|c: char| c.is_whitespace() || "[]{}|,;:-".contains(c));
            if let Some(name) = capital_words(value).then(|| PersonName::parse(value)).flatten() {
                ids.names.push(Found {
                    value: name,
                    confidence: scale * FAINT * LABELLED,
                    page_no,
                });
            }
        }
        for (i, label) in found.iter().enumerate() {
            match label.kind {
                Kind::Mrn => {
                    let value = label
                        .joined
                        .and_then(|place| own_part(label.value, place))
                        .unwrap_or(label.value);
                    let reading = read_mrn(rules, value);
                    if !matches!(reading, Some(MrnReading::Valid { .. })) {
                        ids.glimpses.push(Kind::Mrn, value);
                    }
                    if let Some(reading) = reading {
                        id_lines.push(line_idx);
                        match reading {
                            MrnReading::Valid { mrn, corrected } => ids.mrns.push(Found {
                                value: mrn,
                                confidence: scale * labelled_confidence(corrected),
                                page_no,
                            }),
                            MrnReading::CheckFailed => ids
                                .findings
                                .push(format!("the MRN on page {page_no} fails its check digit")),
                            MrnReading::Ambiguous => ids
                                .findings
                                .push(format!("the MRN on page {page_no} can be read more than one way")),
                            MrnReading::NoFormat => {}
                        }
                    }
                }
                Kind::Dob => {
                    // `Born on 03/14/1958`.
                    let value = match label.value.split_once(' ') {
                        Some((on, rest)) if on.eq_ignore_ascii_case("on") => rest.trim_start(),
                        _ => label.value,
                    };
                    // The whole value, else its own part of a value shared by joined labels;
                    // a digit read as its look-alike letter is put back, at a lower confidence.
                    let own = label.joined.and_then(|place| own_part(value, place));
                    let (reading, confidence) = match [Some(value), own]
                        .into_iter()
                        .flatten()
                        .find_map(|value| read_date(value, today))
                    {
                        Some(reading) => (Some(reading), LABELLED),
                        None => match dates::read_compact_date(value, today) {
                            Some(reading) => (Some(reading), LABELLED),
                            None => (dates::read_date_undoing_confusions(value, today), CORRECTED),
                        },
                    };
                    match reading {
                        Some(DateReading::Valid(date)) if date > today => {
                            id_lines.push(line_idx);
                            ids.glimpses.push(Kind::Dob, value);
                            ids.findings
                                .push(format!("the date of birth on page {page_no} is in the future"));
                        }
                        Some(DateReading::Valid(date)) => {
                            id_lines.push(line_idx);
                            ids.dobs.push(Found {
                                value: Phi::new(date),
                                confidence: scale * confidence,
                                page_no,
                            });
                        }
                        Some(DateReading::Impossible(_)) => {
                            id_lines.push(line_idx);
                            ids.glimpses.push(Kind::Dob, value);
                            ids.findings
                                .push(format!("the date of birth on page {page_no} is not a real date"));
                        }
                        None => ids.glimpses.push(Kind::Dob, value),
                    }
                }
                Kind::Name if label.colon => {
                    // `Re: Jane Doe (DOB ...)`, `Doe, Jane (Janie)`: the name ends where a
                    // bracket opens.
                    let value = first_column(label.value);
                    let value = &value[..value.find('(').unwrap_or(value.len())];
                    // `Jane Doe, 68 year old female`: what follows a comma and a number is not
                    // the name.
                    let value = &value[..comma_before_number(value).unwrap_or(value.len())];
                    let value = value[..garbled_label_in_name(value).unwrap_or(value.len())]
                        .trim_end_matches(|c: char| c.is_whitespace() || "[]{}|,;-".contains(c));
                    // After a dot, `Patient. She reports ...` is a sentence, not a field (a
                    // first `j` is a capital J dipping below the line, as OCR often reads it).
                    let capitalised = |value: &str| {
                        let words: Vec<&str> = value.split_whitespace().collect();
                        (2..=5).contains(&words.len())
                            && words.iter().enumerate().all(|(i, w)| {
                                w.chars()
                                    .find(|c| c.is_alphabetic())
                                    .is_some_and(|c| c.is_uppercase() || (i == 0 && c == 'j'))
                            })
                    };
                    if label.dot_for_colon && !capitalised(value) {
                        continue;
                    }
                    if let Some(name) = PersonName::parse(value) {
                        ids.names.push(Found {
                            value: name,
                            confidence: scale * LABELLED,
                            page_no,
                        });
                    }
                }
                // `PATIENT DOE, JANE  MRN 448213`, as a label printer or an addressograph prints
                // its fields: a name label with no colon, starting a field, before capitalised
                // words only, counts on or beside a line of identifiers (settled below).
                Kind::Name if label.starts_field && label.value.starts_with(char::is_uppercase) => {
                    let value = first_column(label.value);
                    let value = value.trim_end_matches(|c: char| c.is_whitespace() || "[]{}|,;-".contains(c));
                    if let Some(name) = capitalized_name(value) {
                        colonless.push((line_idx, name));
                    }
                }
                Kind::LastName | Kind::FirstName if label.colon => {
                    let value = first_column(label.value);
                    let value = value[..garbled_label_in_name(value).unwrap_or(value.len())]
                        .trim_end_matches(|c: char| c.is_whitespace() || "[]{}|,;".contains(c));
                    if !value.is_empty() {
                        let parts = if label.kind == Kind::LastName {
                            &mut last_names
                        } else {
                            &mut first_names
                        };
                        parts.push((line_idx, value));
                    }
                }
                Kind::Name | Kind::LastName | Kind::FirstName | Kind::Other => {}
            }
            // A name right before the first identifier of a line: `Sidney Cruickshank MRN: ...`,
            // `DOE, JANE  F  03/14/1958  MRN ...` (what follows the name is not read: an
            // unlabelled date is no birth date).
            let read_something = id_lines.last() == Some(&line_idx);
            if i == 0 && read_something && matches!(label.kind, Kind::Mrn | Kind::Dob) {
                let before = &line[..label.start];
                let name_end = words_at(before)
                    .find(|(_, w)| w.contains(|c: char| c.is_ascii_digit()))
                    .map(|(at, _)| at)
                    // Cut only a `LAST, FIRST` name: a title line (`REPORT OF CONSULTATION
                    // 03/14/2024`) is not one.
                    .filter(|&end| before[..end].contains(','))
                    .unwrap_or(before.len());
                // `DOE, JANE (MRN 448213)`: a bracket or bar between the name and its label.
                let before =
                    before[..name_end].trim_end_matches(|c: char| c.is_whitespace() || "([{|;-".contains(c));
                if let Some(name) = capitalized_name(before) {
                    ids.names.push(Found {
                        value: name,
                        confidence: scale * NAME_BEFORE_LABEL,
                        page_no,
                    });
                }
            }
        }
    }
    for (line_idx, name) in colonless {
        if id_lines.iter().any(|&id| id.abs_diff(line_idx) <= BLOCK_DISTANCE) {
            ids.names.push(Found {
                value: name,
                confidence: NAME_BEFORE_LABEL,
                page_no,
            });
        }
    }
    // `Last Name: Doe   First Name: Jane`: one of each, on the same or neighbouring lines.
    if let ([(last_line, last)], [(first_line, first)]) = (last_names.as_slice(), first_names.as_slice())
        && last_line.abs_diff(*first_line) <= BLOCK_DISTANCE
        && let Some(name) = PersonName::parse(&format!("{last}, {first}"))
    {
        ids.names.push(Found {
            value: name,
            confidence: LABELLED,
            page_no,
        });
    }
    // An unlabelled `LAST, FIRST` line in the identifier block at the top of the page.
    for &line_idx in non_empty.iter().take(BLOCK_LINES) {
        // Specks after the name (`DOE, JANE :`, `DOE, JANE 5`) are not part of it; a comma OCR
        // read as a period after an all-capitals surname (`DOE. JANE`) is put back.
        // Only on an all-capitals line, and not after an abbreviation that is no surname.
        let line = without_trailing_speck(lines[line_idx]);
        let capitals = line.chars().all(|c| c.is_ascii_uppercase() || " .'-".contains(c));
        let abbreviation = line
            .split_once(". ")
            .is_some_and(|(first, _)| ["DR", "ST", "MT", "FT", "PROF", "REV"].contains(&first));
        let line = if capitals && !abbreviation {
            names::comma_from_period(line)
        } else {
            Cow::Borrowed(line)
        };
        let line = line.as_ref();
        if !line.contains(',') || !labelled(rules, line).is_empty() {
            continue;
        }
        let near_ids = id_lines
            .iter()
            .any(|&id| id.abs_diff(line_idx) <= BLOCK_DISTANCE && id != line_idx);
        // `LAST, FIRST` with something on each side of its one comma: not a title OCR ended
        // with a comma (`PROGRESS NOTE- Sai,`).
        let shaped = line.split_once(',').is_some_and(|(last, first)| {
            let last: Vec<&str> = last.split_whitespace().collect();
            !first.contains(',')
                && first.chars().any(char::is_alphabetic)
                && (1..=3).contains(&last.len())
                && !last.iter().any(|w| w.ends_with('-'))
        });
        if near_ids
            && shaped
            && let Some(name) = capitalized_name(line)
        {
            ids.names.push(Found {
                value: name,
                confidence: NAME_IN_BLOCK,
                page_no,
            });
        }
    }
    // `Jane Doe` on its own line right above the first identifier line, when nothing else
    // on the page names anyone: only two or three capitalised words that are no title,
    // facility or salutation, and no value of a label above it (`Ordering Physician`).
    if let Some(&first_id) = id_lines.iter().min()
        && ids.names.is_empty()
        && let [.., over, above] = non_empty
            .iter()
            .copied()
            .take_while(|&i| i < first_id)
            .collect::<Vec<_>>()[..]
        && first_id - above <= 2
        && non_empty.iter().take(BLOCK_LINES).any(|&i| i == above)
        && !only_labels(lines[over], &labelled(rules, lines[over]))
    {
        let line = without_trailing_speck(lines[above]);
        let words = line.split_whitespace().count();
        if (2..=3).contains(&words)
            && !line.contains(',')
            && labelled(rules, line).is_empty()
            && let Some(name) = capitalized_name(line)
        {
            ids.names.push(Found {
                value: name,
                confidence: NAME_IN_BLOCK,
                page_no,
            });
        }
    }
    ids
}

impl Glimpses {
    /// Keeps the first column of a label's value when it has a digit in it.
    fn push(&mut self, kind: Kind, value: &str) {
        let value = first_column(value);
        if !value.contains(|c: char| c.is_ascii_digit()) {
            return;
        }
        let value = Phi::new(value.to_string());
        match kind {
            Kind::Mrn => self.mrn.push(value),
            Kind::Dob => self.dob.push(value),
            Kind::Name | Kind::LastName | Kind::FirstName | Kind::Other => {}
        }
    }
}

/// A label OCR garbled (`HOB 02/08`, `MAN: 448213`, `MAN#448213`): a word of three capitals or
/// digits one letter away from `DOB` or `MRN` with a mark (`:` `;` `#` `/` `.`) or a digit glued
/// to it, or before a word that starts with a digit.
struct Garbled {
    /// Where its word starts in the text.
    at: usize,
    kind: Kind,
    /// Where the value after it (past marks and spaces) starts.
    value_at: usize,
}

fn garbled_labels(text: &str) -> Vec<Garbled> {
    let words: Vec<(usize, &str)> = words_at(text).collect();
    let mut out = Vec::new();
    for (i, &(at, word)) in words.iter().enumerate() {
        let Some(head) = word.get(..3) else { continue };
        let rest = &word[3..];
        let kind = [("DOB", Kind::Dob), ("MRN", Kind::Mrn)]
            .into_iter()
            .find(|(label, _)| head.chars().zip(label.chars()).filter(|(a, b)| a != b).count() == 1);
        let Some((_, kind)) = kind else { continue };
        // Words of their own one letter off (an MRI, p.r.n., a date of service, a name).
        if [
            "MRI", "MRA", "MRS", "MRD", "MIN", "PRN", "CRN", "DOS", "DOE", "BOB", "ROB", "JOB", "SOB",
        ]
        .contains(&head)
        {
            continue;
        }
        let capitals = head.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let value_follows = rest.starts_with(|c: char| c.is_ascii_digit() || "#:;/.".contains(c))
            || (rest.is_empty()
                && words.get(i + 1).is_some_and(|(_, next)| {
                    next.starts_with(|c: char| c.is_ascii_digit() || ":;#".contains(c))
                }));
        if capitals && value_follows {
            let after = &text[at + 3..];
            let value = after.trim_start_matches(|c: char| c.is_whitespace() || "#:;/.".contains(c));
            out.push(Garbled {
                at,
                kind,
                value_at: text.len() - value.len(),
            });
        }
    }
    out
}

/// Whether `at` falls among the words of a label found on the line.
fn inside_label(found: &[Labelled<'_>], at: usize) -> bool {
    found.iter().any(|l| (l.start..l.end).contains(&at))
}

/// The line from `at` up to the next label found on it.
fn up_to_next_label<'a>(line: &'a str, found: &[Labelled<'_>], at: usize) -> &'a str {
    let end = found
        .iter()
        .map(|l| l.start)
        .find(|&start| start > at)
        .unwrap_or(line.len());
    &line[at..end.max(at)]
}

/// Where the value starts after a name label OCR garbled one letter off, with its colon
/// (`Nam2:`, `Patlent:`); a word of its own (`Same:`) is not one.
fn garbled_name_label(line: &str) -> Option<usize> {
    words_at(line).find_map(|(at, word)| {
        let stem = word.strip_suffix(':')?;
        let off_by_one = |label: &str| {
            stem.len() == label.len()
                && stem
                    .chars()
                    .zip(label.chars())
                    .filter(|(a, b)| !a.eq_ignore_ascii_case(b))
                    .count()
                    == 1
        };
        let common = ["same", "game", "came", "fame", "tame", "lame", "nome"];
        (["name", "patient"].into_iter().any(off_by_one)
            && !common.contains(&stem.to_ascii_lowercase().as_str()))
        .then_some(at + word.len())
    })
}

/// Two to five words, each starting with a capital: how a name is written.
fn capital_words(value: &str) -> bool {
    let words: Vec<&str> = value.split_whitespace().collect();
    (2..=5).contains(&words.len())
        && words.iter().all(|w| {
            w.chars()
                .find(|c| c.is_alphabetic())
                .is_some_and(char::is_uppercase)
        })
}

/// A line that starts with a garbled label whose value starts with a digit: only ever a
/// glimpse of a birth date or MRN, never a value (`DOS` is one letter off `DOB`).
fn garbled_label(line: &str) -> Option<(Kind, &str)> {
    let first = garbled_labels(line).into_iter().next()?;
    let value = &line[first.value_at..];
    (line[..first.at].trim().is_empty() && value.starts_with(|c: char| c.is_ascii_digit()))
        .then_some((first.kind, value))
}

/// Where in a name's value a garbled label starts (`Mary Kate MAN#448213`,
/// `jane A. Doe OOB/Age/Sex:`): never at its first word, so a name such as `BOB` stands.
fn garbled_label_in_name(value: &str) -> Option<usize> {
    garbled_labels(value).into_iter().map(|g| g.at).find(|&at| at > 0)
}

/// A line without the speck OCR left after its last word (`DOE, JANE :`, `Jane Doe t`): trailing
/// marks, and a last word of one character that is not a capital (an initial).
fn without_trailing_speck(line: &str) -> &str {
    let line = line
        .trim()
        .trim_end_matches(|c: char| !c.is_alphanumeric())
        .trim_end();
    match line.rsplit_once(' ') {
        Some((rest, speck)) if speck.chars().count() == 1 && !speck.starts_with(char::is_uppercase) => {
            rest.trim_end()
        }
        _ => line,
    }
}

/// The words of `text` with where each starts in it.
fn words_at(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_whitespace()
        .map(move |w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
}

/// A line of nothing but labels (a table's head, a form's box titles). OCR's debris around
/// them (quote marks, dots) does not count, nor, after two identifier labels or more, one
/// short word at the end that is what is left of the last label (`Patient Name  MRN  00s`):
/// no value, which would have three digits in a row.
fn only_labels(line: &str, found: &[Labelled<'_>]) -> bool {
    let debris = |text: &str| !text.contains(char::is_alphanumeric);
    let Some((last, rest)) = found.split_last() else {
        return false;
    };
    let identifiers = found.iter().filter(|l| l.kind != Kind::Other).count();
    let garbled_last_label = |value: &str| {
        let words: Vec<&str> = value.split_whitespace().collect();
        identifiers >= 2
            && matches!(words[..], [word] if word.chars().filter(|c| c.is_alphanumeric()).count() <= 4
                && !word.as_bytes().windows(3).any(|w| w.iter().all(u8::is_ascii_digit)))
    };
    debris(&line[..found[0].start])
        && rest.iter().all(|l| debris(l.value))
        && (debris(last.value) || garbled_last_label(last.value))
}

/// Labels printed above their values, as a form's boxes or a table's head print them
/// (`Patient Name   MRN   DOB` over `DOE, JANE   448213   03/14/1958`), rewritten as
/// `label: value` lines in the label's place (the value line left empty), so they are read as
/// any other: a line of nothing but labels, at least one of them an identifier's, whose next
/// line (or the one after) has no label. One label takes the whole line when it looks like its
/// value; several share it by its columns, or else by what each value looks like (a date, an
/// MRN, a run of name words).
fn values_below_labels<'a>(rules: &Rules, lines: &[&'a str], today: NaiveDate) -> (Vec<Cow<'a, str>>, bool) {
    let mut out: Vec<Cow<'a, str>> = lines.iter().map(|l| Cow::Borrowed(*l)).collect();
    let mut competing = false;
    for i in 0..lines.len() {
        let found = labelled(rules, lines[i]);
        if !only_labels(lines[i], &found) || found.iter().all(|l| l.kind == Kind::Other) {
            continue;
        }
        let Some(below) = (i + 1..lines.len().min(i + 3)).find(|&j| !lines[j].trim().is_empty()) else {
            continue;
        };
        // A speck or punch hole before the values reads as `)`, `|` or a quote mark.
        let values = lines[below]
            .trim()
            .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '(')
            .trim_start();
        if !labelled(rules, values).is_empty() || garbled_label(values).is_some() {
            continue;
        }
        let label_text = |l: &Labelled<'_>| lines[i][l.start..l.end].trim();
        let assigned: Vec<(&Labelled<'_>, &str)> = if let [label] = found.as_slice() {
            let fits = match label.kind {
                // The label vouches for it: a `J` that dips below the line as in many faces,
                // which OCR reads as `j` (`jane Doe`), is allowed.
                Kind::Name => {
                    let value = first_column(values);
                    let rest = value
                        .split_once(' ')
                        .filter(|(first, _)| first.starts_with('j'))
                        .map_or("", |(_, rest)| rest);
                    let rest_capitalized = !rest.trim().is_empty()
                        && rest.split_whitespace().all(|w| w.starts_with(char::is_uppercase));
                    capitalized_name(value).is_some()
                        || (rest_capitalized
                            && value.split_whitespace().count() <= 4
                            && PersonName::parse(value).is_some())
                }
                Kind::LastName | Kind::FirstName => {
                    let words: Vec<&str> = first_column(values).split_whitespace().collect();
                    words.len() <= 3
                        && words.iter().all(|w| {
                            w.starts_with(char::is_uppercase)
                                && w.chars().all(|c| c.is_alphabetic() || ".'-’".contains(c))
                        })
                }
                Kind::Dob | Kind::Mrn => {
                    values.starts_with(|c: char| c.is_ascii_alphanumeric())
                        && values
                            .split_whitespace()
                            .next()
                            .is_some_and(|w| w.contains(|c: char| c.is_ascii_digit()))
                }
                Kind::Other => false,
            };
            if !fits {
                continue;
            }
            vec![(label, values)]
        } else {
            let columns: Vec<&str> = values
                .split("  ")
                .flat_map(|c| c.split(" | "))
                .flat_map(|c| c.split('\t'))
                .map(str::trim)
                .filter(|c| !c.is_empty() && *c != "|")
                .collect();
            if columns.len() == found.len() {
                found.iter().zip(columns).collect()
            } else {
                let (assigned, two_mrns) = by_what_values_look_like(rules, &found, values, today);
                competing |= two_mrns;
                assigned
            }
        };
        let row: Vec<String> = assigned
            .iter()
            .filter(|(label, _)| label.kind != Kind::Other)
            .map(|(label, value)| format!("{}: {value}", label_text(label)))
            .collect();
        if !row.is_empty() {
            out[i] = Cow::Owned(row.join("  "));
            out[below] = Cow::Borrowed("");
        }
    }
    (out, competing)
}

/// Shares a line of values among identifier labels when its columns did not survive OCR: the
/// birth date is the first date, the MRN the one other word that reads as one (none if two
/// do, and then `true` beside the shares), the name the first run of name words left.
fn by_what_values_look_like<'l, 'v>(
    rules: &Rules,
    labels: &'l [Labelled<'l>],
    values: &'v str,
    today: NaiveDate,
) -> (Vec<(&'l Labelled<'l>, &'v str)>, bool) {
    let words: Vec<(usize, &str)> = words_at(values).collect();
    let span = |from: usize, to: usize| -> &'v str {
        let start = words[from].0;
        let end = words[to - 1].0 + words[to - 1].1.len();
        &values[start..end]
    };
    let mut used = vec![false; words.len()];
    let mut out = Vec::new();
    let mut competing = false;
    if let Some(label) = labels.iter().find(|l| l.kind == Kind::Dob) {
        let date = (0..words.len()).find_map(|from| {
            (from + 1..=(from + 4).min(words.len()))
                .rev()
                .find(|&to| {
                    matches!(read_date(span(from, to), today), Some(DateReading::Valid(_)))
                        && dates_end(span(from, to), today)
                })
                .map(|to| (from, to))
        });
        // A faded copy's date with a look-alike letter in it (`Marl4,1958`), one word.
        let date = date.or_else(|| {
            (0..words.len())
                .find(|&w| {
                    matches!(
                        dates::read_date_undoing_confusions(words[w].1, today),
                        Some(DateReading::Valid(_))
                    )
                })
                .map(|w| (w, w + 1))
        });
        if let Some((from, to)) = date {
            used[from..to].iter_mut().for_each(|u| *u = true);
            out.push((label, span(from, to)));
        }
    }
    if let Some(label) = labels.iter().find(|l| l.kind == Kind::Mrn) {
        let mrns: Vec<usize> = (0..words.len())
            .filter(|&w| {
                // A date is no MRN, whether or not its own label could be read.
                let word = words[w]
                    .1
                    .trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
                !used[w]
                    && word.contains(|c: char| c.is_ascii_digit())
                    && read_date(word, today).is_none()
                    && matches!(rules.mrn.read(words[w].1), Some(MrnReading::Valid { .. }))
            })
            .collect();
        // Two numbers that could each be the MRN (an account number beside it): neither, and
        // the caller says so.
        competing = mrns.len() > 1;
        if let [w] = mrns[..] {
            used[w] = true;
            out.push((label, words[w].1));
        }
    }
    if let Some(label) = labels.iter().find(|l| l.kind == Kind::Name) {
        let is_name_word = |w: &str| {
            w.chars().any(char::is_alphabetic) && w.chars().all(|c| c.is_alphabetic() || ",.'-’".contains(c))
        };
        if let Some(from) = (0..words.len()).find(|&w| !used[w] && is_name_word(words[w].1)) {
            let to = (from..words.len())
                .find(|&w| used[w] || !is_name_word(words[w].1))
                .unwrap_or(words.len());
            out.push((label, span(from, to)));
        }
    }
    (out, competing)
}

/// The date read from `text` takes all of it (`03/14/1958`, not `03/14/1958 F`).
fn dates_end(text: &str, today: NaiveDate) -> bool {
    let without_last = text.rsplit_once(char::is_whitespace).map(|(rest, _)| rest);
    without_last.is_none_or(|rest| read_date(rest, today) != read_date(text, today))
}

/// A name where no label says so: only a short run of capitalised words (`HAHN, GREGORY`,
/// `Sidney Cruickshank`), never a sentence.
fn capitalized_name(text: &str) -> Option<PersonName> {
    let words: Vec<&str> = text.split_whitespace().collect();
    // OCR speckle often sticks a dot or comma to the front of a word (`LEBSACK, .KYRA`).
    let capitalized = words.iter().all(|w| {
        let w = w.trim_start_matches(['.', ',', '\'', '`']);
        w.chars().next().is_some_and(char::is_uppercase)
            && w.chars().all(|c| c.is_alphabetic() || ",.'-’".contains(c))
    });
    if words.is_empty() || words.len() > 5 || !capitalized || names::institutional(text) {
        return None;
    }
    PersonName::parse(text)
}

/// The MRN in a value: the longest run of its first few words that reads as one.
fn read_mrn(rules: &Rules, value: &str) -> Option<MrnReading> {
    let value = first_column(value);
    // A word ending in a colon is what is left of a label (`Chart Ref: 448213`), never the MRN.
    let mut words: Vec<&str> = value.split_whitespace().take(4).collect();
    if words.len() > 1 && words[0].ends_with([':', ';']) {
        words.remove(0);
    }
    // Later words belong to the MRN only as its groups (`448 213`, `12-345 678`): not after a
    // word that reads as an MRN by itself and is longer than a group, not a word ending in a
    // colon (the next label, `08:` for a faded `DOB:`), not single characters between dots
    // (`0.0.8` for `D.O.B.`), and nothing after a comma or full stop.
    let first_alone = matches!(rules.mrn.read(words.first()?), Some(MrnReading::Valid { .. }));
    if first_alone && mrn::normalize(words[0]).len() > 4 {
        words.truncate(1);
    }
    // Groups are printed digits: a word OCR put a letter into (`448s 1213` for `448213`) is
    // read alone, where its look-alike is undone only if the format allows, never joined.
    let digits_only = |w: &str| w.chars().all(|c| c.is_ascii_digit() || "-.,".contains(c));
    let first_digits = words[0].trim_start_matches(|c: char| c.is_ascii_alphabetic());
    if !digits_only(first_digits) {
        words.truncate(1);
    }
    let mut keep = 1;
    for word in &words[1..] {
        let core = word.trim_end_matches([',', '.']);
        let group = !core.ends_with([':', ';'])
            && core.contains(|c: char| c.is_ascii_digit())
            && digits_only(core)
            && core.split(['.', '-']).all(|g| g.chars().count() >= 2);
        if !group {
            break;
        }
        keep += 1;
        if core.len() < word.len() {
            break;
        }
    }
    words.truncate(keep);
    let mut last = None;
    for n in (1..=words.len()).rev() {
        let candidate = words[..n].join(" ");
        match rules.mrn.read(&candidate) {
            Some(reading @ MrnReading::Valid { .. }) => return Some(reading),
            Some(other) if last.is_none() || n == 1 => last = Some(other),
            _ => {}
        }
    }
    last
}

/// Weighs a page's readings by how sure OCR was of the words they were read from (`words`: the
/// page's OCR words; none for a text layer): a reading OCR was unsure of (a faint dot-matrix
/// label, a smudge, a letter a scanner streak cut) is not trusted on its own, so it neither
/// names the patient nor splits a file, and yields to a clear reading of the same document. An
/// MRN or birth date spread over several words is left as it is; a name is as sure as the
/// least sure of its words.
pub fn weigh_by_ocr(ids: &mut PageIds, words: &[Word], today: NaiveDate) {
    if words.is_empty() {
        return;
    }
    let surest = |matches: &dyn Fn(&str) -> bool| {
        words
            .iter()
            .filter(|w| matches(&w.text))
            .map(|w| w.confidence)
            .max_by(f32::total_cmp)
    };
    for found in &mut ids.mrns {
        let value = found.value.as_str();
        // The word, or a part of it: a value shares its word with a label or another value
        // (`MRN#448213`, `448213/7788123`).
        let ocr = surest(&|text| {
            text.split(['/', '#', ':', ';', '(', ')', ',']).any(|part| {
                let part = mrn::normalize(part);
                part.len() == value.len() && same_under_confusion(&part, value)
            })
        });
        if ocr.is_some_and(|c| c < FAINT_OCR_CONFIDENCE) {
            found.confidence *= FAINT;
        }
    }
    for found in &mut ids.dobs {
        let value = *found.value.expose();
        let ocr = surest(&|text| {
            let after_label = text.rsplit_once([':', ';']).map(|(_, date)| date);
            [Some(text), after_label].into_iter().flatten().any(|text| {
                let reading =
                    read_date(text, today).or_else(|| dates::read_date_undoing_confusions(text, today));
                reading == Some(DateReading::Valid(value))
            })
        });
        if ocr.is_some_and(|c| c < FAINT_OCR_CONFIDENCE) {
            found.confidence *= FAINT;
        }
    }
    for found in &mut ids.names {
        let name = &found.value;
        // Each word of the name by the surest OCR word that spells it (`CRUICKSHANK,` for
        // `Cruickshank`); a word not found alone (glued to a label) says nothing.
        let faint = name
            .last
            .split_whitespace()
            .chain(name.first.split_whitespace())
            .any(|part| {
                let part = fold_name(part);
                !part.is_empty()
                    && surest(&|text| {
                        text.split([':', ';', ',', '.', '(', ')'])
                            .any(|w| fold_name(w) == part)
                    })
                    .is_some_and(|c| c < FAINT_OCR_CONFIDENCE)
            });
        // Names a streak crossed or OCR was unsure of are mostly read right (4 of the 5 such
        // names of `scripts/damage-variants`): alone, a faint name is used, with a finding,
        // whether or not a label said it was one; beside a clear reading it yields. One that was
        // already doubtful (a fax header's, after a garbled label) is only glimpsed.
        if faint {
            found.confidence = if found.confidence >= ACCEPT {
                FAINT_NAME
            } else {
                found.confidence * FAINT
            };
        }
    }
}

/// The identifiers of a document from its pages' readings: values that agree (up to OCR
/// slips) are one value; values that disagree are a conflict for a person, and `None`.
pub fn document(pages: &[&PageIds]) -> PatientIds {
    let mut ids = PatientIds::default();
    for page in pages {
        ids.findings.extend(page.findings.iter().cloned());
    }
    let mrns: Vec<&Found<Mrn>> = pages.iter().flat_map(|p| &p.mrns).collect();
    ids.mrn = agree(
        &mrns,
        "MRNs",
        &mut ids.findings,
        |a, b| same_under_confusion(a.as_str(), b.as_str()),
        Some(&|a: &Mrn, b: &Mrn| edit_distance(a.as_str(), b.as_str()) <= 1),
    );
    // Glimpses only of a field nothing could be taken of: never of one whose readings conflict.
    if ids.mrn.is_none() && mrns.iter().all(|r| r.confidence < ACCEPT_FAINT) {
        ids.glimpses.mrn = pages
            .iter()
            .flat_map(|p| p.glimpses.mrn.iter().cloned())
            .collect();
        ids.glimpses
            .mrn
            .extend(mrns.iter().map(|r| Phi::new(r.value.as_str().to_string())));
    }
    // A name read once with both given names and once with an initial for the second is the
    // fuller one.
    let names: Vec<Found<PersonName>> = pages
        .iter()
        .flat_map(|p| &p.names)
        .map(|reading| {
            let mut reading = reading.clone();
            let all = pages.iter().flat_map(|p| &p.names);
            if let Some(fuller) = all
                .map(|r| &r.value)
                .find(|name| name.fuller_than(&reading.value))
            {
                reading.value = fuller.clone();
            }
            reading
        })
        .collect();
    let names: Vec<&Found<PersonName>> = names.iter().collect();
    ids.name = agree(
        &names,
        "patient names",
        &mut ids.findings,
        |a, b| edit_distance(&a.key(), &b.key()) <= 2,
        None,
    );
    if ids.name.is_none() && names.iter().all(|r| r.confidence < ACCEPT_FAINT) {
        ids.glimpses.name = names.iter().map(|r| r.value.clone()).collect();
    }
    let dobs: Vec<&Found<Phi<NaiveDate>>> = pages.iter().flat_map(|p| &p.dobs).collect();
    let one_digit_apart = |a: &Phi<NaiveDate>, b: &Phi<NaiveDate>| {
        let written = |d: &Phi<NaiveDate>| d.expose().format("%m%d%Y").to_string();
        edit_distance(&written(a), &written(b)) <= 1
    };
    ids.dob = agree(
        &dobs,
        "dates of birth",
        &mut ids.findings,
        |a, b| a == b,
        Some(&one_digit_apart),
    );
    if ids.dob.is_none() && dobs.iter().all(|r| r.confidence < ACCEPT_FAINT) {
        ids.glimpses.dob = pages
            .iter()
            .flat_map(|p| p.glimpses.dob.iter().cloned())
            .collect();
        ids.glimpses.dob.extend(
            dobs.iter()
                .map(|r| Phi::new(r.value.expose().format("%m/%d/%Y").to_string())),
        );
    }
    ids
}

/// Whether two readings that are not the same value are one OCR slip apart.
type Near<'a, T> = &'a dyn Fn(&T, &T) -> bool;

/// The one value the readings agree on, the best-supported spelling of it; `None` with a
/// finding when they disagree or are too doubtful. Where they disagree, values read on at least
/// two pages, and on at least twice as many pages as every other value together, each of those
/// `near` them (one OCR slip apart: a header on every page, misread once), are taken, less
/// surely and with a finding for a person.
fn agree<T: Clone + PartialEq>(
    readings: &[&Found<T>],
    what: &str,
    findings: &mut Vec<String>,
    same: impl Fn(&T, &T) -> bool,
    near: Option<Near<'_, T>>,
) -> Option<Found<T>> {
    let at_least = |floor: f32| -> Vec<&Found<T>> {
        readings
            .iter()
            .copied()
            .filter(|r| r.confidence >= floor)
            .collect()
    };
    let mut accepted = at_least(ACCEPT);
    if accepted.is_empty() {
        accepted = at_least(ACCEPT_FAINT);
        if let Some(faint) = accepted.first() {
            findings.push(format!(
                "{what} read only from faint print or after a garbled label (page {}): check against the page",
                faint.page_no
            ));
        }
    }
    if accepted.is_empty() {
        if let Some(doubtful) = readings.first() {
            findings.push(format!(
                "{what} appear only where they cannot be trusted (a fax header or faint print on page {})",
                doubtful.page_no
            ));
        }
        return None;
    }
    // Group readings that are the same value.
    let mut groups: Vec<Vec<&Found<T>>> = Vec::new();
    for reading in accepted {
        match groups.iter_mut().find(|g| same(&g[0].value, &reading.value)) {
            Some(group) => group.push(reading),
            None => groups.push(vec![reading]),
        }
    }
    let mut majority = None;
    if groups.len() > 1 {
        let pages: Vec<String> = groups.iter().map(|g| g[0].page_no.to_string()).collect();
        let pages_of = |group: &[&Found<T>]| {
            let mut pages: Vec<u32> = group.iter().map(|r| r.page_no).collect();
            pages.sort_unstable();
            pages.dedup();
            pages.len()
        };
        let counts: Vec<usize> = groups.iter().map(|g| pages_of(g)).collect();
        let total: usize = counts.iter().sum();
        let most = (0..groups.len())
            .max_by_key(|&i| counts[i])
            .expect("two groups or more");
        let others = total - counts[most];
        let all_near = near.is_some_and(|near| {
            groups
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != most)
                .all(|(_, g)| near(&groups[most][0].value, &g[0].value))
        });
        if counts[most] >= 2 && counts[most] >= 2 * others && all_near {
            findings.push(format!(
                "{} different {what} (pages {}): the one {} of {total} pages read is taken; check against the page",
                groups.len(),
                pages.join(", "),
                counts[most]
            ));
            majority = Some(most);
        } else {
            findings.push(format!(
                "{} different {what} (pages {})",
                groups.len(),
                pages.join(", ")
            ));
            return None;
        }
    }
    let group = &groups[majority.unwrap_or(0)];
    // The spelling read most often, then most confidently; its confidence grows with support.
    let best = group
        .iter()
        .max_by(|a, b| {
            let count = |x: &Found<T>| group.iter().filter(|g| g.value == x.value).count();
            count(a)
                .cmp(&count(b))
                .then(a.confidence.total_cmp(&b.confidence))
                .then(b.page_no.cmp(&a.page_no))
        })
        .expect("a group is never empty");
    let support = group.len() as f32;
    let mut confidence = 1.0 - (1.0 - best.confidence) / support;
    if majority.is_some() {
        // Used, but as doubtful as a faint reading: never as sure as pages that agree.
        confidence = confidence.min(ACCEPT_FAINT);
    }
    let first_page = group.iter().map(|g| g.page_no).min().unwrap_or(best.page_no);
    Some(Found {
        value: best.value.clone(),
        confidence,
        page_no: first_page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn rules() -> Rules {
        Rules::from_config(&Config::default().identify).unwrap()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    fn read(text: &str) -> PatientIds {
        let page = page(&rules(), 1, text, today());
        document(&[&page])
    }

    fn summary(ids: &PatientIds) -> (Option<String>, Option<(String, String)>, Option<String>) {
        (
            ids.mrn.as_ref().map(|m| m.value.as_str().to_string()),
            ids.name
                .as_ref()
                .map(|n| (n.value.last.clone(), n.value.first.clone())),
            ids.dob.as_ref().map(|d| d.value.expose().to_string()),
        )
    }

    /// One of `ids`' findings says `what`.
    fn assert_finding(ids: &PatientIds, what: &str) {
        assert!(
            ids.findings.iter().any(|f| f.contains(what)),
            "no finding says {what:?}: {:?}",
            ids.findings
        );
    }

    /// `text` gives MRN 448213, Jane Doe, born 1958-03-14.
    fn reads_jane_doe(text: &str) {
        assert_eq!(
            summary(&read(text)),
            expect("448213", "Doe", "Jane", "1958-03-14"),
            "{text}"
        );
    }

    fn expect(
        mrn: &str,
        last: &str,
        first: &str,
        dob: &str,
    ) -> (Option<String>, Option<(String, String)>, Option<String>) {
        (
            Some(mrn.into()),
            Some((last.into(), first.into())),
            Some(dob.into()),
        )
    }

    #[test]
    fn reads_labelled_header_blocks_in_their_many_layouts() {
        let cases = [
            (
                "PATIENT: Sidney Cruickshank  Date of Birth: 05-27-1964  MRN: MR493223\nAdmit Date: 04-11-2024  Acct #: 502969581",
                expect("MR493223", "Cruickshank", "Sidney", "1964-05-27"),
            ),
            (
                "NAME: Hilll, Raymundo\nDOB: 10-27-1953   Age: 42   Sex: M\nMRN #: 981-59-96   Acct #: 335369016",
                expect("9815996", "Hilll", "Raymundo", "1953-10-27"),
            ),
            (
                "Pt Name: STEUBER, MARY  Date of Birth: 1962-01-08  MR#: 506-19-16",
                expect("5061916", "Steuber", "Mary", "1962-01-08"),
            ),
            (
                "PATIENT: MURRAY, GALE Medical Record #: 8231398\nD.O.B.: 08-01-2011 Date of Visit: 09-24-2011",
                expect("8231398", "Murray", "Gale", "2011-08-01"),
            ),
            (
                "Patient: Stanford Aufderhar  Birth Date: 9/20/2011  MRN #: E0545798\nDischarge Date: 6/19/2022",
                expect("E0545798", "Aufderhar", "Stanford", "2011-09-20"),
            ),
            (
                "METHODIST FREMONT HEALTH\n450 E 23rd St, Fremont, NE 68025\nHAHN, GREGORY\nMRN E9836780   M  11Y\nDOB 04/26/2007\nACCT 166447928  05/10/18\nDR DENESIK",
                expect("E9836780", "Hahn", "Gregory", "2007-04-26"),
            ),
            (
                "Bluestem Health\nLEBSACK, .KYRA\nMRN E2560484   F  26Y.\nDOB 08/01/1974",
                expect("E2560484", "Lebsack", "Kyra", "1974-08-01"),
            ),
            (
                "Josie Mitchell MRN #: 236-00-43  D.O.B.: July 19, 1981",
                expect("2360043", "Mitchell", "Josie", "1981-07-19"),
            ),
            (
                "06/18/1996\nZelda Rath, MD\n715 N Saint Joseph Ave\nRE: Raymundo Hilll\nDOB: 10-27-1953\nMRN #: 981-59-96\nDear Doctor:",
                expect("9815996", "Hilll", "Raymundo", "1953-10-27"),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(summary(&read(text)), expected, "{text}");
        }
    }

    #[test]
    fn a_number_marked_only_by_a_hash_or_brackets_after_the_name_is_the_mrn() {
        reads_jane_doe("DOE, JANE  #448213  DOB: 03/14/58");
        reads_jane_doe("Patient: Doe, Jane #448213   DOB: 03/14/1958");
        reads_jane_doe("Patient: Doe, Jane (448213)   DOB: 03/14/1958");
        reads_jane_doe("Jane Doe #448213\nDate of Birth: Friday, March 14, 1958");
        for (text, why) in [
            ("Patient: Doe, Jane (68)   DOB: 03/14/1958", "an age"),
            ("Patient: Doe, Jane   Acct #: 9900112", "another label's mark"),
            ("Patient: Doe, Jane   Room 12 #448213", "not after the name"),
            ("The distal #3 toes. Order #123456 placed.", "no name before it"),
            (
                "Patient: Doe, Jane Accession #26012345",
                "another number's word before it",
            ),
            (
                "Patient: Doe, Jane Policy #448213",
                "another number's word before it",
            ),
            ("Patient: Doe, Jane Member ID: W123456789", "a member number"),
            ("Zelda Rath, MD #448213", "a clinician"),
            ("Tel (402) 555-0146   Fax (402) 555-0125", "a telephone number"),
        ] {
            assert!(read(text).mrn.is_none(), "{why}: {text}");
        }
    }

    #[test]
    fn more_wordings_of_record_numbers_and_name_fields() {
        reads_jane_doe("Name of Patient: Jane Doe\nHospital Number: 448213\nDate of Birth: 03/14/1958");
        reads_jane_doe("PATIENT INFORMATION\nLast: Doe   First: Jane   MI: A\nDOB: 03/14/1958   MRN: 448213");
        reads_jane_doe("Name: DOE JANE M   MRN: 448213   DOB: 03/14/1958");
        reads_jane_doe("Patient Name (Last, First): Doe, Jane\nMR ID: 448213\nDOB: 03/14/1958");
        let ids = read("Patient: Doe, Jane\nLast menstrual period: 10/01/2026\nFirst visit 2019");
        assert_eq!(
            ids.name.unwrap().value.first,
            "Jane",
            "last and first name labels need a colon"
        );
    }

    #[test]
    fn a_birth_date_with_a_digit_read_as_a_letter_is_read_less_surely() {
        let clean = read("Patient: Jane Roe\nDOB: 05/27/1964").dob.unwrap();
        let slipped = read("Patient: Jane Roe\nDOB: O5/27/l964").dob.unwrap();
        assert_eq!(slipped.value, clean.value);
        assert!(slipped.confidence < clean.confidence);
        assert!(read("Patient: Jane Roe\nDOB: unknown").dob.is_none());
    }

    #[test]
    fn other_wordings_of_the_labels() {
        for (text, mrn) in [
            ("Resident: Jane Roe  Chart Number: 448213", "448213"),
            ("Client Name: Jane Roe\nPatient #: 448-213", "448213"),
            ("Patient Number: 448213\nName: Jane Roe", "448213"),
            ("Med Rec Number: 448213  Name: Jane Roe", "448213"),
        ] {
            let ids = read(text);
            assert_eq!(
                ids.mrn.map(|m| m.value.as_str().to_string()).as_deref(),
                Some(mrn),
                "{text}"
            );
            assert_eq!(
                ids.name.map(|n| n.value.last.clone()).as_deref(),
                Some("Roe"),
                "{text}"
            );
        }
        let ids = read("Patient: No known allergies. Chart reviewed with the team.");
        assert!(ids.mrn.is_none() && ids.findings.is_empty(), "{:?}", ids.findings);
    }

    #[test]
    fn name_labels_without_a_colon_count_only_beside_identifiers() {
        // As label printers and addressographs print their fields.
        for text in [
            "PATIENT DOE, JANE  MRN 448213  DOB 03/14/1958",
            "Patient Jane Doe  MRN 448213  DOB 03/14/1958",
            "NAME DOE, JANE\nMRN 448213   DOB 03/14/1958",
        ] {
            reads_jane_doe(text);
        }
        // Not far from any identifier, not in a sentence, not before lower-case words.
        for text in [
            "PATIENT DOE, JANE\nHISTORY OF PRESENT ILLNESS:\nShe is well.\nNo complaints.\nMRN 448213",
            "The Patient Jane Doe was seen.  MRN 448213",
            "Patient tolerated the procedure well.\nMRN 448213",
        ] {
            assert!(read(text).name.is_none(), "{text}");
        }
    }

    #[test]
    fn labels_glued_to_values_letters_that_begin_an_mrn_and_what_follows_a_name() {
        // OCR lost the gap between a value and the next label.
        reads_jane_doe("Patient: Doe, Jane\nMRN:448213DOB:03/14/1958");
        reads_jane_doe("Patient: Doe, Jane  DOB: 03/14/1958Medical Record #: 448213");
        // The letters of an MRN are not the name label `Pt`.
        let ids = read("Patient ID: PT-0448213\nPatient: Doe, Jane\nDOB: 03/14/1958");
        assert_eq!(summary(&ids).0.as_deref(), Some("PT0448213"));
        // A name ends before a comma and a number; `Patient Identification:` is a name label.
        reads_jane_doe("Patient: Jane Doe, 68 year old female   MRN: 448213   DOB: 03/14/1958");
        reads_jane_doe("Patient Identification: DOE, JANE, 68F\nMRN: 448213\nDOB: 03/14/1958");
        // An underline OCR read before a label, a semicolon read for a name's comma.
        reads_jane_doe("Sex/DOB: F 03/14/1958 MRN: 448213 _Patient:-Doe,jane");
        reads_jane_doe("Resident: Doe; Jane. Chart Number: 448213: Born: March 14, 1958");
        // A zero read for the O of `DOB`, a colon read as a letter or `!`, a hyphen lost from
        // a date, a stray quote after a joined label's values.
        reads_jane_doe("Patient: Jane Doe  Patient #: 448213  D.0.B, 1958-03-14");
        reads_jane_doe("PATIENT: DOE, JANE  SEX: F  DOB; 03/14/1958  MRNi 448-213  ACCT: 5566778");
        reads_jane_doe("Sex/DOB! F 03/14/1958 ‘MRN: 448213 Patient: Doe, jane");
        reads_jane_doe("PT: DOE, JANE  MR#: 448213  DOB: 14-MAR1958");
        assert!(read("Patient: Doe, Jane  MRN: 448213  Dose: 14 mg").dob.is_none());
        // Digits before a word that merely begins like a label are left alone.
        assert_eq!(unglued(&rules(), "448213 Patients: 2"), "448213 Patients: 2");
        assert_eq!(unglued(&rules(), "12Dates"), "12Dates");
    }

    #[test]
    fn labels_joined_by_slashes_share_the_values_after_them() {
        let ids = read("PATIENT: Jane Roe\nDOB/Age/Sex: 05/27/1964 60Y F   MRN/FIN: 4482139/7788123");
        assert_eq!(
            ids.dob.unwrap().value,
            Phi::new(NaiveDate::from_ymd_opt(1964, 5, 27).unwrap())
        );
        assert_eq!(ids.mrn.unwrap().value.as_str(), "4482139");
        assert!(read("Patient: Jane Roe\nAge/DOB: 60").dob.is_none());
        let ids = read("Patient: Jane Roe  FIN/MRN: 7788123/4482139");
        assert_eq!(ids.mrn.unwrap().value.as_str(), "4482139");
    }

    #[test]
    fn a_colon_read_as_a_semicolon_still_ends_a_label() {
        let ids = read("NAME; Jane A. Doe   DOB; 03/14/1958   MRN; 448213");
        assert_eq!(ids.name.unwrap().value.last, "Doe");
        assert_eq!(
            ids.dob.unwrap().value,
            Phi::new(NaiveDate::from_ymd_opt(1958, 3, 14).unwrap())
        );
        assert_eq!(ids.mrn.unwrap().value.as_str(), "448213");
        // Dots for colons under labels of their own lines, a compact date's day misread.
        reads_jane_doe("Patient Name: jane Doe\nMedical Record Number. 448213,\nDate of Birth. L4MAR1958");
    }

    #[test]
    fn a_name_in_running_text_ends_at_a_bracket() {
        let ids = read("Re: Jane Doe (DOB 3/14/1958, MRN 448213)");
        let name = ids.name.unwrap().value;
        assert_eq!((name.last.as_str(), name.first.as_str()), ("Doe", "Jane"));
        assert_eq!(ids.mrn.unwrap().value.as_str(), "448213");
    }

    /// OCR words for `text`, every one read with `confidence` except those listed.
    fn words(text: &str, confidence: f32, unsure: &[(&str, f32)]) -> Vec<Word> {
        text.split_whitespace()
            .map(|w| Word {
                text: w.to_string(),
                confidence: unsure.iter().find(|(u, _)| *u == w).map_or(confidence, |u| u.1),
                bbox: [0; 4],
            })
            .collect()
    }

    fn weighed(page_no: u32, text: &str, unsure: &[(&str, f32)]) -> PageIds {
        let mut ids = page(&rules(), page_no, text, today());
        weigh_by_ocr(&mut ids, &words(text, 95.0, unsure), today());
        ids
    }

    #[test]
    fn faint_readings_are_not_trusted_alone_and_yield_to_clear_ones() {
        let first = "HARBER, JARRED\nMRN 4232-44-02\nDOB 10/07/1947";
        let second = "HARBER, JARRED  MRN: 433-44-02  DOB: 10/07/1947  Page 2 of 2";
        // Read clearly, page 1 is trusted.
        assert_eq!(
            document(&[&weighed(1, first, &[])]).mrn.unwrap().value.as_str(),
            "42324402"
        );
        // Read faintly, on its own it is used, less surely and with a finding for a person ...
        let faint = weighed(1, first, &[("4232-44-02", 41.0)]);
        let alone = document(&[&faint]);
        let mrn = alone.mrn.as_ref().unwrap();
        assert_eq!(mrn.value.as_str(), "42324402");
        assert!(mrn.confidence < ACCEPT);
        assert_finding(&alone, "faint print");
        // ... but not if OCR slips had to be undone as well (`O` for `0`) ...
        let slipped = weighed(1, "HARBER, JARRED\nMRN 4232-44-O2", &[("4232-44-O2", 41.0)]);
        let doubly = document(&[&slipped]);
        assert!(doubly.mrn.is_none());
        assert_finding(&doubly, "cannot be trusted");
        // ... and beside a clear reading, no conflict: the clear one.
        let both = document(&[&faint, &weighed(2, second, &[])]);
        assert_eq!(both.mrn.unwrap().value.as_str(), "4334402");
        assert!(both.findings.is_empty(), "{:?}", both.findings);
        // A faint birth date likewise; a text layer (no words) is read as it is.
        let faint_dob = document(&[&weighed(1, first, &[("10/07/1947", 20.0)])])
            .dob
            .unwrap();
        assert!(faint_dob.confidence < ACCEPT);
        let mut text_layer = page(&rules(), 1, first, today());
        weigh_by_ocr(&mut text_layer, &[], today());
        assert!(document(&[&text_layer]).mrn.is_some());
        // A value that shares its word with a label or another value is weighed by that word.
        for (text, word) in [
            ("Patient: Doe, Jane  MRN/FIN: 446213/7788123", "446213/7788123"),
            ("Patient: Doe, Jane  MRN#446213", "MRN#446213"),
        ] {
            let shared = document(&[&weighed(1, text, &[(word, 46.0)])]);
            assert!(shared.mrn.unwrap().confidence < ACCEPT, "{text}");
        }
        let glued = document(&[&weighed(
            1,
            "Patient: Doe, Jane  DOB:03/14/1958",
            &[("DOB:03/14/1958", 30.0)],
        )]);
        assert!(glued.dob.unwrap().confidence < ACCEPT);
    }

    #[test]
    fn a_name_is_as_sure_as_its_least_sure_word() {
        let labelled = "Patient: DOE, JANE  MRN: 448213  DOB: 03/14/1958";
        let name = |ids: &PatientIds| {
            ids.name
                .as_ref()
                .map(|n| (n.value.last.clone(), n.value.first.clone()))
        };
        let clear = document(&[&weighed(1, labelled, &[])]);
        assert!(clear.name.as_ref().unwrap().confidence >= ACCEPT);
        assert!(clear.findings.is_empty(), "{:?}", clear.findings);
        // A faint name, labelled or not, is used alone, less surely and with a finding for a
        // person; read clearly on another page, it is that page's.
        let block = "CRUICKSHANK, VIRGTL\nMRN E8469421\nDOB 02/02/1957";
        for text in [labelled, block] {
            let faint = document(&[&weighed(1, text, &[("JANE", 19.0), ("VIRGTL", 0.0)])]);
            assert!(faint.name.as_ref().unwrap().confidence < ACCEPT, "{text}");
            assert_finding(&faint, "patient names read only from faint print");
            assert!(faint.glimpses.name.is_empty());
        }
        let second = "CRUICKSHANK, VIRGIL  MRN: E8469421  Page 2 of 2";
        let both = document(&[&weighed(1, block, &[("VIRGTL", 0.0)]), &weighed(2, second, &[])]);
        assert_eq!(name(&both), Some(("Cruickshank".into(), "Virgil".into())));
        assert!(both.findings.is_empty(), "{:?}", both.findings);
        // Faint after a garbled label, or in a fax header, it is not used, only glimpsed for
        // the patient index.
        let garbled = "Pt Nam2: FRAMI, PATRIA\nMRN: 448213";
        let doubly = document(&[&weighed(1, garbled, &[("PATRIA", 30.0)])]);
        assert_eq!(name(&doubly), None);
        assert_eq!(doubly.glimpses.name.len(), 1);
        assert_eq!(doubly.glimpses.name[0].first, "Patria");
        // The same word printed clearly elsewhere on the page confirms it.
        let twice = format!("{labelled}\nDear Jane,");
        let mut words = words(&twice, 95.0, &[]);
        words[1].confidence = 19.0; // `DOE,` faint in the header, `Dear Jane,` clear
        let mut ids = page(&rules(), 1, &twice, today());
        weigh_by_ocr(&mut ids, &words, today());
        assert!(
            document(&[&ids]).name.unwrap().confidence < ACCEPT,
            "the family name is faint"
        );
        let mut ids = page(&rules(), 1, &twice, today());
        weigh_by_ocr(&mut ids, &self::words(&twice, 95.0, &[("JANE", 19.0)]), today());
        assert!(
            document(&[&ids]).name.unwrap().confidence >= ACCEPT,
            "Jane is clear below"
        );
    }

    fn glimpses(ids: &PatientIds) -> (Vec<&str>, Vec<&str>) {
        fn texts(g: &[Phi<String>]) -> Vec<&str> {
            g.iter().map(|g| g.expose().as_str()).collect()
        }
        (texts(&ids.glimpses.mrn), texts(&ids.glimpses.dob))
    }

    #[test]
    fn what_cannot_be_read_of_an_mrn_or_birth_date_is_kept_only_as_a_glimpse() {
        // A faded label: the MRN reading needed look-alikes undone and was faint; the birth
        // date's label reads `HOB` and the date has no year.
        let faded = "CRUICKSHANK, VIRGTL\nMRN ES46o4.002 MOBY\nHOB 02/08\nDischarge Date: 07/29/2024";
        let ids = document(&[&weighed(1, faded, &[("ES46o4.002", 38.0)])]);
        assert_eq!(summary(&ids).0, None);
        assert_eq!(summary(&ids).2, None);
        let (mrn, dob) = glimpses(&ids);
        assert_eq!(mrn, ["ES4604002"], "the faint reading, kept only as a glimpse");
        assert_eq!(dob, ["02/08"]);
        // An MRN read clearly leaves no glimpse of it; neither do two clear MRNs that conflict.
        let clear = document(&[&weighed(1, "MRN: E8469421\nDOB: 02/0", &[])]);
        assert!(clear.mrn.is_some());
        assert_eq!(glimpses(&clear), (vec![], vec!["02/0"]));
        let conflict = document(&[
            &weighed(1, "MRN: E8469421\nMRN E84694", &[]),
            &weighed(2, "MRN: E1269206", &[]),
        ]);
        assert!(conflict.mrn.is_none());
        assert!(glimpses(&conflict).0.is_empty());
        // Garbled labels only before a digit, only one letter off.
        assert!(matches!(garbled_label("HOB 02/08"), Some((Kind::Dob, "02/08"))));
        assert!(
            garbled_label("MBN: E846").is_none(),
            "the value starts with a letter"
        );
        assert!(matches!(
            garbled_label("NRN 8469421"),
            Some((Kind::Mrn, "8469421"))
        ));
        assert!(garbled_label("ABC 123").is_none());
        assert!(
            garbled_label("Hob 02/08").is_none(),
            "labels on labels are capitals"
        );
    }

    #[test]
    fn other_wordings_hints_in_brackets_nicknames_and_bare_digit_dates() {
        for text in [
            "Pt. Name: Jane A. Doe   Hosp No: 448213   Birth Dt: 03/14/1958",
            "Patient Name: Doe, Jane MI: A\nMRN: 448213\nDOB: 03/14/1958",
            "Patient Name (Last, First, MI): Doe, Jane A\nMRN: 448213\nDOB: 03/14/1958",
            "Patient: Doe, Jane (Janie)\nMRN: 448213\nDOB: 03/14/1958",
            "Patient: Doe, Jane\nMRN: 448213\nDOB: 19580314",
            "Patient: Doe, Jane\nMRN: 448213\nDOB: 03141958",
            "Patient: Doe, Jane\nMRN: 448213\nAge/DOB: 68 / 03/14/1958",
            "Patient: Doe, Jane\nMRN: 448213\nDOB(Age): 03/14/1958(68)",
            "Patient: Doe, Jane\nMRN: 448213\nDOB: March 14th, 1958",
            "Patient: Doe, Jane\nMRN: 448213\nBorn on 03/14/1958",
            "Patient: Doe, Jane\nMRN: 448213\nDOB: 3/14/1958 12:00:00 AM",
        ] {
            reads_jane_doe(text);
        }
        for (label, mrn) in [
            ("Chart ID:", "448213"),
            ("HRN:", "448213"),
            ("URN:", "448213"),
            ("Record Number:", "448213"),
            ("MR Num:", "448213"),
            ("Chart Ref:", "448213"),
        ] {
            let ids = read(&format!(
                "Patient: Doe, Jane\n{label} 448213\nBirthday: 03/14/1958"
            ));
            assert_eq!(summary(&ids), expect(mrn, "Doe", "Jane", "1958-03-14"), "{label}");
            assert!(ids.findings.is_empty(), "{label}: {:?}", ids.findings);
        }
        // A banner row: the name before the first label, its unlabelled date not a birth date.
        let ids = read("DOE, JANE  F  03/14/1958  MRN 448213");
        assert_eq!(
            summary(&ids),
            (Some("448213".into()), Some(("Doe".into(), "Jane".into())), None)
        );
        reads_jane_doe("DOE, JANE (MRN 448213) DOB 03/14/1958");
        // Acronyms with dotted letters, more record-number and birth labels, a year-first date
        // with the month spelled.
        reads_jane_doe("Patient: Doe, Jane   M.R.N.: 448213   D.O.B 03/14/1958");
        reads_jane_doe("Pt. Name: Doe, Jane   MRN/FIN: 448213/7788123   D/O/B: 03/14/1958");
        reads_jane_doe("Patient: Doe, Jane   MRN: 448213   DOB/Sex: 03/14/1958/F");
        reads_jane_doe("Patient: Doe, Jane   MRN: 448213   Sex/DOB/Age: F/3/14/58/68");
        reads_jane_doe("Patient: Doe, Jane   MRN: 448213   Age/DOB: 68/03/14/1958");
        reads_jane_doe("Patient: Doe, Jane   EMR #: 448213   Birth: 03/14/1958");
        reads_jane_doe("Patient: Doe, Jane   Medical Rec #: 448213   Birth date: 1958-Mar-14");
        // A label's own abbreviation in brackets after it is a hint, not a second field.
        reads_jane_doe(
            "Patient: Doe, Jane   Medical Record Number (MRN): 448213   Date of Birth (DOB): 03/14/1958",
        );
        // A colon read as a dot (skewed or faint print) where a field starts; never a
        // sentence that starts with a label word.
        reads_jane_doe("Patient Name. DOE, JANE A\nMRN. 448213   DOB. 03/14/1958");
        reads_jane_doe("Patient Name. jane Doe\nMedical Record Number, 448213\nDate of Birth, 03/14/1958");
        reads_jane_doe("Patient. Doe, Jane   Date of Service. 04/01/2024\nMRN: 448213   DOB: 03/14/1958");
        reads_jane_doe("Patient, Doe, Jane MRN: 448213 DOB: 3/14/58");
        for text in [
            "Seen with the patient. Doe, Jane is her daughter. MRN: 448213",
            "HISTORY: stable.\nPatient. She reports good adherence.\nMRN: 448213",
            "Patient, Mr. Doe, was seen today.\nMRN: 448213",
        ] {
            assert_eq!(read(text).name, None, "{text}");
        }
        // Not a birth date: a birth weight, birth history in running text.
        let ids = read(
            "Patient: Doe, Jane  MRN: 448213\nBirth weight: 7 lb 2 oz\nBIRTH HISTORY: Born at term 03/14/1958.",
        );
        assert_eq!(ids.dob, None);
        // A name on its own line right above the identifier block; never a title, a facility,
        // a salutation or a doctor.
        reads_jane_doe("RIVERSIDE MEDICAL CENTER\n\nJane Doe t\n\nDOB: 03/14/1958\nMRN: 448213");
        reads_jane_doe(
            "RIVERSIDE MEDICAL CENTER\n120 Elm St, Omaha, NE 68102  Tel (402) 555-0199\nJANE A. DOE\nMRN: 448213   DOB: 03/14/1958",
        );
        for text in [
            "Progress Note\nMRN: 448213",
            "Riverside Clinic\nMRN: 448213",
            "Dear Dr. Patel\nMRN: 448213",
            "Dr. Adams\nMRN: 448213",
            "John Adams MD\nMRN: 448213",
            "Lab Results\nMRN: 448213",
            "Jane Doe\n\nThe patient was seen.\nMRN: 448213",
            "RIVERSIDE\nOrdering Physician\nJohn Adams\nMRN: 448213",
        ] {
            assert_eq!(read(text).name, None, "{text}");
        }
        let ids = read("REPORT OF CONSULTATION 03/14/2024 MRN: 448213");
        assert_eq!(summary(&ids), (Some("448213".into()), None, None));
        // Eight bare digits are a date only after a birth-date label, and an impossible one is
        // reported, not guessed.
        let ids = read("Patient: Doe, Jane\nMRN: 19580314");
        assert_eq!(
            summary(&ids),
            (Some("19580314".into()), Some(("Doe".into(), "Jane".into())), None)
        );
        let ids = read("Patient: Doe, Jane\nMRN: 448213\nDOB: 19580231");
        assert_eq!(ids.dob, None);
        assert_finding(&ids, "not a real date");
        // An identifier label in brackets is a field of its own, not a hint.
        let ids = read("Patient (MRN): 448213\nName: Doe, Jane\nDOB: 03/14/1958");
        assert_eq!(summary(&ids).0, Some("448213".into()));
    }

    #[test]
    fn labels_above_their_values_as_forms_and_tables_print_them() {
        for text in [
            // A table's head over its row, with or without its columns surviving OCR.
            "Patient Name MRN DOB\nDOE, JANE 448213 03/14/1958",
            "Name  Sex  DOB  MRN\nJane Doe  F  03/14/1958  448213",
            "Patient Name | MRN | DOB\nDOE, JANE | 448213 | 03/14/1958",
            "PATIENT NAME MRN DATE OF BIRTH AGE SEX\nDOE, JANE A 448213 Mar 14, 1958 68 F",
            // As a faded copy reads: a period after a label, a look-alike in the day.
            "PATIENT NAME MRN. DATE OF BIRTH AGE SEX\nDOE, JANE A 448213 Marl4,1958 68 F",
            // A form's boxes: each label over its value.
            "Date of Birth\n03/14/1958\nMRN\n448213\nPatient Name\nJane Doe",
            "Last Name:\nDoe\nFirst Name:\nJane\nMRN:\n448213\nDOB:\n03/14/1958",
            // A punch hole or speck before a value, read as a bracket.
            "Date of Birth\n03/14/1958\nMedical Record Number\n) 448213\nPatient Name\n| Jane Doe",
        ] {
            reads_jane_doe(text);
        }
        // Two numbers that could be the MRN: neither is taken, and a person is asked.
        let ids = read("Patient Name Acct # MRN DOB\nDOE, JANE 99887766 448213 03/14/1958");
        assert_finding(&ids, "could each be the MRN");
        assert_eq!(
            summary(&ids),
            (
                None,
                Some(("Doe".into(), "Jane".into())),
                Some("1958-03-14".into())
            )
        );
        // The last label of the head garbled (`DOB` faded to `00s`), debris around the labels:
        // the row is still read under the labels that are left; its date, under no label,
        // is neither the birth date nor a second MRN.
        for text in [
            "Patient Name MRN 00s\nDOE. JANE 448213 =:03/14/1958",
            "‘Patient Name . “MRN. : poR\nDOE, JANE. 448213. 03/14/1958",
        ] {
            let ids = read(text);
            assert_eq!(
                summary(&ids),
                (Some("448213".into()), Some(("Doe".into(), "Jane".into())), None),
                "{text}"
            );
            assert!(ids.findings.is_empty(), "{text}: {:?}", ids.findings);
        }
        // What follows the labels has three digits in a row: a value, not a garbled label.
        assert_eq!(
            read("Patient Name MRN 4482\nDOE, JANE 448213 03/14/1958").mrn,
            None
        );
        // A heading that is also a label does not take the sentence under it, and a date under
        // other labels is not a birth date.
        let ids = read("PATIENT\nThe patient is a 67-year-old man.\nDISCHARGE DATE\n04/01/2024\nMRN: 448213");
        assert_eq!(summary(&ids), (Some("448213".into()), None, None));
    }

    #[test]
    fn fields_of_their_own_bars_dot_leaders_and_format_hints() {
        for text in [
            "Last Name: Doe   First Name: Jane   MRN: 448213   DOB: 03/14/1958",
            "Surname: Doe  Given Name: Jane  MRN: 448213  DOB: 03/14/1958",
            "Name: Jane Doe | MRN: 448213 | DOB: 03/14/1958",
            "DOB.........03/14/1958\nMRN..........448213\nName.........Doe, Jane",
            "Sex/DOB: F 03/14/1958  MRN: 448213  Patient: Doe, Jane",
            "Name: Doe, Jane   Date of Birth (MM/DD/YYYY): 03/14/1958   MRN: 448213",
        ] {
            reads_jane_doe(text);
        }
        // One last name and two first names (two people's fields) name no one.
        let ids = read("Last Name: Doe  First Name: Jane\nFirst Name: John\nMRN: 448213");
        assert!(ids.name.is_none());
    }

    #[test]
    fn never_takes_other_dates_for_the_birth_date() {
        let ids = read(
            "Admit Date: 04-11-2024\nPATIENT: Sidney Cruickshank MRN: MR493223\nD: 11/20/2024 T: 11/21/2024",
        );
        assert!(ids.dob.is_none());
        assert_eq!(ids.mrn.unwrap().value.as_str(), "MR493223");
    }

    #[test]
    fn bad_identifiers_become_findings_and_nulls() {
        let ids = read("Patient: Jane Roe\nDOB: 02/30/1980\nMRN: 12");
        assert!(ids.dob.is_none());
        assert_finding(&ids, "not a real date");
        assert!(ids.mrn.is_none());

        let ids = read("Patient: Jane Roe\nDOB: 01/01/2031");
        assert!(ids.dob.is_none());
        assert_finding(&ids, "in the future");

        let ids = read("GENERAL: Alert and oriented.\nHEENT: Normocephalic.");
        assert!(ids.is_empty() && ids.findings.is_empty());
    }

    #[test]
    fn a_failing_check_digit_is_a_finding() {
        let mut config = Config::default().identify;
        config.mrn_check_digit = CheckDigit::Luhn;
        config.mrn_formats = vec![r"^[0-9]{11}$".into()];
        let rules = Rules::from_config(&config).unwrap();
        let good = document(&[&page(&rules, 1, "MRN: 7992739871-3", today())]);
        assert_eq!(good.mrn.unwrap().value.as_str(), "79927398713");
        let bad = document(&[&page(&rules, 1, "MRN: 7992739871-0", today())]);
        assert!(bad.mrn.is_none());
        assert_finding(&bad, "check digit");
    }

    #[test]
    fn identifiers_only_in_a_fax_header_are_not_trusted() {
        let text = "11/02/2024 14:32 FAX 4025550128  CRETE MED  PT ROE, JANE MRN 4471100  P.001/003\nThe patient is seen for follow-up.";
        let ids = read(text);
        assert!(ids.mrn.is_none(), "a fax header alone is not proof");
        assert_finding(&ids, "fax header");
    }

    #[test]
    fn fax_headers_are_told_from_header_lines() {
        for line in [
            "11/02/2024 14:32 FAX 4025550128  CRETE MED  P.001/003",
            "NOV-02-2026 10:32  FROM: MERCY CLINIC (402) 555-0142  TO: RECORDS  P.001/003",
            "Nov 02 2026 10:32AM  Mercy Clinic  Page 1 of 3",
            "02/11/2026 10:32 From: 4025550142 To: Records",
            "HP Fax  Page 2/3",
        ] {
            assert!(is_fax_header(line), "{line}");
        }
        for line in [
            "Tel (402) 555-0196   Fax (402) 555-0128",
            "Collected: 09/03/2020 10:36  Specimen: Blood  Status: Final",
            "Page 2 of 3",
            "Transferred from the ICU to the floor at 10:32",
        ] {
            assert!(!is_fax_header(line), "{line}");
        }
    }

    #[test]
    fn pages_that_agree_confirm_and_pages_that_disagree_conflict() {
        let r = rules();
        let p1 = page(&r, 1, "PATIENT: Sidney Cruickshank  MRN: MR493223", today());
        let p2 = page(&r, 2, "Sidney Cruickshamk MRN: MR4932Z3", today());
        let ids = document(&[&p1, &p2]);
        assert_eq!(ids.mrn.as_ref().unwrap().value.as_str(), "MR493223");
        assert_eq!(ids.name.as_ref().unwrap().value.last, "Cruickshank");
        assert!(ids.findings.is_empty(), "{:?}", ids.findings);

        let p3 = page(&r, 3, "PATIENT: Josie Mitchell  MRN: 236-00-43", today());
        let ids = document(&[&p1, &p3]);
        assert!(ids.mrn.is_none() && ids.name.is_none());
        assert!(
            ids.findings.iter().any(|f| f == "2 different MRNs (pages 1, 3)"),
            "{:?}",
            ids.findings
        );

        // A header on every page, misread once: the value two of three pages read, less surely
        // and with a finding; not when the pages are split evenly, nor when the odd one is more
        // than one slip away.
        let header = |no: u32, mrn: &str, dob: &str| {
            page(
                &r,
                no,
                &format!("CRUICKSHANK, SIDNEY  MRN: {mrn}  DOB: {dob}"),
                today(),
            )
        };
        let misread = [
            header(1, "MR493223", "05/27/1964"),
            header(2, "MR498223", "05/21/1964"),
            header(3, "MR493223", "05/27/1964"),
        ];
        let ids = document(&misread.iter().collect::<Vec<_>>());
        assert_eq!(summary(&ids).0.as_deref(), Some("MR493223"));
        assert_eq!(summary(&ids).2.as_deref(), Some("1964-05-27"));
        assert!(ids.mrn.as_ref().unwrap().confidence < ACCEPT);
        assert_finding(&ids, "the one 2 of 3 pages read is taken");
        let even = document(&[&misread[0], &misread[1]]);
        assert!(even.mrn.is_none() && even.dob.is_none());
        let far = [
            header(1, "MR493223", "05/27/1964"),
            header(2, "MR771055", "05/27/1964"),
            header(3, "MR493223", "05/27/1964"),
        ];
        assert!(document(&far.iter().collect::<Vec<_>>()).mrn.is_none());

        // A second given name printed in full on one page and as an initial on the others.
        let pages = [
            "PATIENT: MONTENEGRO, MARÍA LUISA  MRN: MR493223",
            "María L. Montenegro  MRN: MR493223",
            "María L. Montenegro  MRN: MR493223",
        ]
        .iter()
        .zip(1..)
        .map(|(text, no)| page(&r, no, text, today()))
        .collect::<Vec<_>>();
        let ids = document(&pages.iter().collect::<Vec<_>>());
        assert_eq!(ids.name.as_ref().unwrap().value.first, "María Luisa");
        assert!(ids.findings.is_empty(), "{:?}", ids.findings);
    }

    #[test]
    fn labels_are_flexible_about_spacing_and_punctuation() {
        for line in [
            "MRN: 4471100",
            "MR #: 4471100",
            "Med. Rec. # 4471100",
            "Medical Record No. 4471100",
            "MRN 447-11-00",
        ] {
            assert_eq!(
                read(line).mrn.map(|m| m.value.as_str().to_string()),
                Some("4471100".into()),
                "{line}"
            );
        }
        assert!(read("Mr. Smith was seen").mrn.is_none());
    }

    #[test]
    fn slips_of_a_damaged_copy_are_read_through() {
        for text in [
            // `rn` read as `m` and back, a comma for a colon, a small first letter, a speck.
            "Resident: Doe, jane Chart Number: 448213 Bom: March 14, 1958",
            "Patient Name; jane Doe\nMedical Record Nurnber, 448213\nDate of Birth: 14MAR1958",
            "Client Name; jane Doe i\nRecord No; 448213\nDOB: 03/14/1958",
            "Date of Birth\n03/14/1958\nMedical Record Number\n448213\nPatient Name\njane Doe",
        ] {
            reads_jane_doe(text);
        }
        // An initial glued to the surname, before a garbled label.
        let ids = read("NAME; jane A.Doe OOB/Age/Sex: 03/14/1958 68Y F MAN/FIN; 448213/7788123");
        assert_eq!(summary(&ids), (None, Some(("Doe".into(), "Jane".into())), None));
        // Under a name label, words that are not a name stay unread.
        for text in [
            "Patient Name\nsee Below",
            "Patient Name\nSee below",
            "Patient Name\nnot on file",
        ] {
            assert_eq!(read(text).name, None, "{text}");
        }
    }

    #[test]
    fn an_mrn_after_a_garbled_label_is_read_as_faint_print_is() {
        for text in [
            "Name: Jane Doe} MAN: 448213 | DOB: 03/14/1958",
            "Last Name: Doe FirstName: jane MAN: 448213 DOB: 03/14/1958",
            "Patient: Jane Doe, DOB 03/14/1958, MAN 448213",
        ] {
            let ids = read(text);
            assert_eq!(
                summary(&ids),
                expect("448213", "Doe", "Jane", "1958-03-14"),
                "{text}"
            );
            assert!(
                ids.findings.iter().any(|f| f.contains("garbled label")),
                "{text}: {:?}",
                ids.findings
            );
        }
        // A clear reading wins without a conflict, and words one letter off are left alone.
        let ids = read("MAN: 448218\nMRN: 448213");
        assert_eq!(summary(&ids).0, Some("448213".into()));
        assert!(ids.findings.is_empty(), "{:?}", ids.findings);
        // An MRN that starts like a garbled label is the value it is.
        let ids = read("MRN: MR133498");
        assert_eq!(page(&rules(), 1, "MRN: MR133498", today()).mrns.len(), 1);
        assert_eq!(summary(&ids).0, Some("MR133498".into()));
        for text in [
            "MRI 1234567 showed no change",
            "PRN 1234567",
            "MAN 12",
            "Patient: Doe, Jane\nDOS: 03/14/2024",
        ] {
            let ids = read(text);
            assert_eq!((ids.mrn.is_none(), ids.dob.is_none()), (true, true), "{text}");
        }
    }

    #[test]
    fn a_name_after_a_garbled_name_label_is_read_as_faint_print_is() {
        for text in [
            "Pt Nam2: FRAMI, PATRIA: Date of Birth: 1971-05-07 MR#: 981-68-88",
            "Patlent: Patria Frami  MRN: 9816888",
        ] {
            let ids = read(text);
            let name = ids
                .name
                .as_ref()
                .map(|n| (n.value.last.as_str(), n.value.first.as_str()));
            assert_eq!(name, Some(("Frami", "Patria")), "{text}");
            assert!(ids.name.as_ref().unwrap().confidence < ACCEPT, "{text}");
            assert!(
                ids.findings.iter().any(|f| f.contains("garbled label")),
                "{text}: {:?}",
                ids.findings
            );
        }
        // A clear reading wins; words one letter off and values that are no name are left alone.
        let ids = read("Patient: Doe, Jane\nNome: Bar Baz");
        assert_eq!(ids.name.unwrap().value.last, "Doe");
        assert!(ids.findings.is_empty(), "{:?}", ids.findings);
        for text in ["Same: As above", "Game: Soccer Match", "Nane: follow up"] {
            assert!(read(text).name.is_none(), "{text}");
        }
    }

    #[test]
    fn any_text_at_all_reads_without_a_panic() {
        // Pieces of identifier blocks, OCR debris and characters of several byte lengths, put
        // together at random (a fixed seed): every label path, cut and slice meets odd input.
        const PIECES: [&str; 40] = [
            "MRN",
            "MAN#",
            "DOB",
            "HOB ",
            "D.O.B.",
            "Name:",
            "Patient Name",
            "Last Name:",
            "First Name:",
            "Sex/DOB:",
            "(Age)",
            "(MM/DD/YYYY)",
            ":",
            ";",
            "#",
            "|",
            " | ",
            "...",
            "  ",
            "\t",
            "\n",
            "\u{a0}",
            "\u{3000}",
            "é",
            "ß",
            "’",
            "😀",
            "0",
            "7",
            "14",
            "1958",
            "/",
            "-",
            ".",
            ",",
            "Mar",
            "Marl4,",
            "19580314",
            "Doe, Jane",
            "A.Doe",
        ];
        let rules = rules();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |below: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize % below
        };
        let mut pieces_read = 0;
        for _ in 0..3000 {
            let text: String = (0..next(40)).map(|_| PIECES[next(PIECES.len())]).collect();
            pieces_read += text.len();
            let page = page(&rules, 1, &text, today());
            let _ = document(&[&page]);
        }
        assert!(pieces_read > 100_000, "{pieces_read}");
    }

    #[test]
    fn what_a_damaged_copy_reads_never_becomes_a_wrong_value() {
        // The next label, faded into digits, is not part of the MRN; groups still are.
        for (text, mrn) in [
            ("Patient: Jane Doe Patient #: 448213 0.0.8, 1958-03-14", "448213"),
            (
                "Last Name: Doe First Name: Jane MRN: 448213 08: 03/14/1958",
                "448213",
            ),
            ("MRN: 448213 08 F", "448213"),
            ("MRN: 448 213", "448213"),
            ("MRN: 12 345 678, DOB: 03/14/1958", "12345678"),
            ("MR# MR 493223", "MR493223"),
        ] {
            assert_eq!(summary(&read(text)).0, Some(mrn.into()), "{text}");
        }
        // A group with a letter OCR put in it is not joined: `448s 1213` is not `44851213`.
        assert_eq!(read("DOB: 03/14/1958 MRN: 448s 1213 ACCT. 5566778").mrn, None);
        // A comma read as a period, a speck after the name.
        for text in [
            "DOE. JANE :\nMRN 448213 F 6BY\nDOB 03/14/1958",
            "DOE, JANE 5\nMRN 448213 F 68Y\nDOB 03/14/1958",
        ] {
            reads_jane_doe(text);
        }
        for text in [
            "ST. MARY'S HOSPITAL\nMRN 448213\nDOB 03/14/1958",
            "DR. SMITH\nMRN 448213",
        ] {
            assert_eq!(read(text).name, None, "{text}");
        }
        // A facility's name beside the identifier block is not an unlabelled `LAST, FIRST`.
        let ids = read("RIVERSIDE HEALTH, INC\nMRN: 448213\nDOB: 03/14/1958");
        assert_eq!(ids.name, None);
        // A title OCR ended with a comma is not an unlabelled `LAST, FIRST`.
        let ids = read("Pt Name: O'Brien-Smith, Mary Kate MAN#448213 DOB 03.14.1958\n\nPROGRESS NOTE- Sai,");
        assert!(
            ids.name.as_ref().is_some_and(|n| n.value.last == "O'Brien-Smith"),
            "{:?}",
            summary(&ids)
        );
        // A label OCR garbled ends the name before it; a name like it does not end itself.
        for (text, first) in [
            ("Name: Jane Doe HOB 03/14/1958", "Jane"),
            ("Patient: Doe, Jane MAN#448213", "Jane"),
            ("Patient: Doe, Jane OOB/Age/Sex: 03/14/1958 68Y F", "Jane"),
            ("Patient: Doe, BOB", "Bob"),
            ("Patient: BOB DOE  MRN: 448213", "Bob"),
        ] {
            let ids = read(text);
            assert_eq!(ids.name.map(|n| n.value.first), Some(first.to_string()), "{text}");
        }
    }
}
