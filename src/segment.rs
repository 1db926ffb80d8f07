//! Splitting one scanned file into the documents it holds. A new document starts:
//!
//! - after a cover or separator sheet (the sheet itself belongs to no document);
//! - where the patient changes: a page's MRN, or without MRNs its date of birth or name,
//!   disagrees with the document so far;
//! - at a page that looks like a document's first page: a letterhead or a title line at the
//!   top together with patient identifiers, and nothing saying it continues (`Page 2`). A
//!   page repeating the current document's letterhead and patient without a title is its next
//!   page (records systems print the header on every page), unless it says it is page 1 or the
//!   page before it ended the document (a signature or closing, `Electronically signed by`,
//!   `Sincerely`; `Page 2 of 2`);
//! - at a letterhead other than the current document's (another facility's paper).
//!
//! Pages that say nothing (blank, unreadable, body text only) stay with the document before
//! them. Pure: it sees what earlier stages found on each page.

use chrono::NaiveDate;
use regex::Regex;

use crate::cover::CoverSheet;
use crate::identify::{Mrn, PageIds, PersonName, edit_distance, is_fax_header, same_under_confusion};
use crate::model::DocumentSpan;

/// What is known about one page of a file.
#[derive(Debug, Clone)]
pub struct PageFacts<'a> {
    /// 1-based page number in the file.
    pub page_no: u32,
    pub text: &'a str,
    pub ids: &'a PageIds,
    /// A title line of the taxonomy near the top of the page.
    pub has_title: bool,
    pub cover: Option<&'a CoverSheet>,
}

/// One document found in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub span: DocumentSpan,
    /// The cover sheet that introduced it, if any.
    pub cover: Option<CoverSheet>,
}

/// Where the pages of a file split into documents. Files whose every page is a cover sheet hold
/// no document.
pub fn split(pages: &[PageFacts<'_>]) -> Vec<Segment> {
    let cues = &*CUES;
    let mut segments: Vec<Segment> = Vec::new();
    let mut current: Option<(Segment, Identity)> = None;
    // The letterhead (its first line) of the current document's first page.
    let mut current_letterhead: Option<String> = None;
    let mut pending_cover: Option<CoverSheet> = None;
    // The non-empty lines of the page before, once it has been read.
    let mut previous: Option<Vec<&str>> = None;
    for page in pages {
        if let Some(cover) = page.cover {
            segments.extend(current.take().map(|(segment, _)| segment));
            pending_cover = Some(cover.clone());
            continue;
        }
        let lines = content_lines(page.text);
        let identity = Identity::of(page.ids);
        let letterhead = cues.letterhead(&lines);
        // Another facility's paper; a few characters' difference is OCR, not another letterhead.
        let new_letterhead = letterhead.as_ref().is_some_and(|l| {
            current_letterhead
                .as_ref()
                .is_some_and(|current| edit_distance(current, l) > 2.max(current.len().min(l.len()) / 5))
        });
        // The current document's paper again, no title, the page before not signed off.
        let same_paper_goes_on = letterhead.is_some()
            && current_letterhead.is_some()
            && !new_letterhead
            && !page.has_title
            && !cues.says_page_one(&lines)
            && !previous.as_deref().is_some_and(|p| cues.ends(p));
        let starts = match &current {
            None => true,
            Some((_, so_far)) => {
                pending_cover.is_some()
                    || so_far.conflicts(&identity)
                    || new_letterhead
                    || (cues.first_page(page, &lines, letterhead.is_some()) && !same_paper_goes_on)
            }
        };
        previous = Some(lines);
        if starts {
            current_letterhead = letterhead;
            segments.extend(current.take().map(|(segment, _)| segment));
            let segment = Segment {
                span: DocumentSpan {
                    first_page: page.page_no,
                    n_pages: 1,
                },
                cover: pending_cover.take(),
            };
            current = Some((segment, identity));
        } else if let Some((segment, so_far)) = current.as_mut() {
            segment.span.n_pages = page.page_no - segment.span.first_page + 1;
            so_far.fill(identity);
        }
    }
    segments.extend(current.map(|(segment, _)| segment));
    segments
}

/// The patient a run of pages is about, as far as they say.
#[derive(Debug, Clone, Default)]
struct Identity {
    mrn: Option<Mrn>,
    name: Option<PersonName>,
    dob: Option<NaiveDate>,
}

impl Identity {
    fn of(ids: &PageIds) -> Identity {
        let (mrn, name, dob) = ids.best();
        Identity {
            mrn: mrn.cloned(),
            name: name.cloned(),
            dob,
        }
    }

    fn fill(&mut self, other: Identity) {
        self.mrn = self.mrn.take().or(other.mrn);
        self.name = self.name.take().or(other.name);
        self.dob = self.dob.take().or(other.dob);
    }

    /// The page is about someone else. An MRN decides when both have one; otherwise a
    /// different birth date, or a name more than OCR slips apart.
    fn conflicts(&self, page: &Identity) -> bool {
        if let (Some(a), Some(b)) = (&self.mrn, &page.mrn) {
            if same_under_confusion(a.as_str(), b.as_str()) {
                return false;
            }
            // One character dropped or added by OCR, with the name or birth date agreeing, is
            // the same patient (the document's identifiers will flag the disagreement).
            let near = edit_distance(a.as_str(), b.as_str()) <= 1;
            let same_dob = self.dob.is_some() && self.dob == page.dob;
            let same_name = matches!((&self.name, &page.name), (Some(x), Some(y)) if edit_distance(&x.key(), &y.key()) <= 2);
            return !(near && (same_dob || same_name));
        }
        if let (Some(a), Some(b)) = (self.dob, page.dob)
            && a != b
        {
            return true;
        }
        if let (Some(a), Some(b)) = (&self.name, &page.name) {
            return edit_distance(&a.key(), &b.key()) > 2;
        }
        false
    }
}

/// Text cues of a document's first page and of a continuation page.
struct Cues {
    letterhead: Regex,
    continuation: Regex,
    /// A signature or closing: the end of a document.
    closing: Regex,
    /// `Page 2 of 2`: which page of how many.
    page_of: Regex,
    /// `Page 1`, `Page 1 of 3` (`I` and `l` as OCR reads a 1).
    page_one: Regex,
}

/// Compiled once: splitting runs for every file (and thousands a second when re-indexing).
static CUES: std::sync::LazyLock<Cues> = std::sync::LazyLock::new(Cues::new);

/// US states spelled out, as letterheads write them before the ZIP code.
const US_STATES: [&str; 50] = [
    "alabama",
    "alaska",
    "arizona",
    "arkansas",
    "california",
    "colorado",
    "connecticut",
    "delaware",
    "florida",
    "georgia",
    "hawaii",
    "idaho",
    "illinois",
    "indiana",
    "iowa",
    "kansas",
    "kentucky",
    "louisiana",
    "maine",
    "maryland",
    "massachusetts",
    "michigan",
    "minnesota",
    "mississippi",
    "missouri",
    "montana",
    "nebraska",
    "nevada",
    "new hampshire",
    "new jersey",
    "new mexico",
    "new york",
    "north carolina",
    "north dakota",
    "ohio",
    "oklahoma",
    "oregon",
    "pennsylvania",
    "rhode island",
    "south carolina",
    "south dakota",
    "tennessee",
    "texas",
    "utah",
    "vermont",
    "virginia",
    "washington",
    "west virginia",
    "wisconsin",
    "wyoming",
];

/// The letterhead is looked for in this many non-empty lines at the top.
const LETTERHEAD_LINES: usize = 6;

/// A signature or closing is looked for in this many non-empty lines at the bottom.
const CLOSING_LINES: usize = 8;

impl Cues {
    fn new() -> Cues {
        Cues {
            // A telephone number with its area code in brackets or after `Tel`/`Ph`/`Fax`, or a
            // whole one after `P`/`T`/`F` (`P: 402.555.0199`), a US state (abbreviated or
            // spelled out) and ZIP code, or a web address: an address block. A bare number
            // shaped like a telephone's is not enough: an account number in a continuation
            // header can look the same.
            letterhead: Regex::new(&format!(
                r"(?i)(\(\d{{3}}\)\s*\d{{3}}[-.\s]\d{{4}}|\b(telephone|tel|ph|phone|fax)\b[:.]?\s*[\d(]|\b[ptf]\b[:.]?\s*\d{{3}}[-.\s]\d{{3}}[-.\s]\d{{4}}\b|\b[A-Z]{{2}}\s+\d{{5}}(-\d{{4}})?\b|\b({})\s+\d{{5}}(-\d{{4}})?\b|\bwww\.)",
                US_STATES.join("|")
            ))
            .expect("static pattern"),
            continuation: Regex::new(r"(?i)\b(page\s*([2-9]|\d{2,})\b|continued\b|cont'?d\b)").expect("static pattern"),
            closing: Regex::new(
                r"(?i)(\b(electronically\s+signed|signed\s+by|sincerely|dictated\s+by|transcribed\s+by|signature)\b|^\s*D:\s*\d|\bjob\s*#)",
            )
            .expect("static pattern"),
            page_of: Regex::new(r"(?i)\bpage\s*(\d+)\s*(?:of|/)\s*(\d+)\b").expect("static pattern"),
            page_one: Regex::new(r"(?i)\bpage\s*[1Il]\b(\s*(of|/)\s*\d+)?").expect("static pattern"),
        }
    }

    /// The page's letterhead, as its first line normalised, if its top holds an address block.
    fn letterhead(&self, lines: &[&str]) -> Option<String> {
        let has_letterhead = lines
            .iter()
            .take(LETTERHEAD_LINES)
            .any(|l| self.letterhead.is_match(l));
        let first: String = lines
            .first()?
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        (has_letterhead && first.len() >= 4).then_some(first)
    }

    /// The page ends a document: a signature or closing among its last lines, or it is the
    /// last of its pages (`Page 2 of 2`).
    fn ends(&self, lines: &[&str]) -> bool {
        let last_of_its_pages = lines.iter().any(|l| {
            self.page_of
                .captures(l)
                .is_some_and(|c| c[1].parse::<u32>().ok() == c[2].parse::<u32>().ok())
        });
        last_of_its_pages
            || lines
                .iter()
                .rev()
                .take(CLOSING_LINES)
                .any(|l| self.closing.is_match(l))
    }

    /// The page calls itself page 1, at its top or bottom.
    fn says_page_one(&self, lines: &[&str]) -> bool {
        edges(lines).any(|l| self.page_one.is_match(l))
    }

    fn first_page(&self, page: &PageFacts<'_>, lines: &[&str], letterhead: bool) -> bool {
        let has_ids = !page.ids.mrns.is_empty() || !page.ids.dobs.is_empty();
        let continues = edges(lines).any(|l| self.continuation.is_match(l));
        (letterhead || page.has_title) && has_ids && !continues
    }
}

/// A page's non-empty lines, trimmed, without a fax header at its top or bottom (the fax
/// machine's line, its page counter counting the transmission's pages, is no letterhead), nor
/// what is above or below it (the rest of it, where the sheet went through skewed and OCR
/// broke the line in two): what every cue reads.
fn content_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let from_end = lines.len().saturating_sub(2);
    if let Some(at) = lines[from_end..].iter().position(|l| is_fax_header(l)) {
        lines.truncate(from_end + at);
    }
    if let Some(at) = lines.iter().take(3).rposition(|l| is_fax_header(l)) {
        lines.drain(..=at);
    }
    lines
}

/// The top and bottom three lines, where page numbers and `continued` are printed.
fn edges<'a>(lines: &'a [&'a str]) -> impl Iterator<Item = &'a str> + 'a {
    lines.iter().take(3).chain(lines.iter().rev().take(3)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::identify::{self, Rules};

    struct Page {
        text: &'static str,
        ids: PageIds,
        has_title: bool,
        cover: Option<CoverSheet>,
    }

    fn page(text: &'static str) -> Page {
        let rules = Rules::from_config(&Config::default().identify).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        Page {
            text,
            ids: identify::page(&rules, 1, text, today),
            has_title: text.contains("DISCHARGE SUMMARY") || text.contains("LABORATORY REPORT"),
            cover: None,
        }
    }

    fn cover(mrn: &str) -> Page {
        Page {
            text: "",
            ids: PageIds::default(),
            has_title: false,
            cover: Some(CoverSheet {
                mrn: Some(mrn.into()),
                doc_type: None,
            }),
        }
    }

    fn spans(pages: &[Page]) -> Vec<(u32, u32)> {
        let facts: Vec<PageFacts<'_>> = pages
            .iter()
            .enumerate()
            .map(|(i, p)| PageFacts {
                page_no: i as u32 + 1,
                text: p.text,
                ids: &p.ids,
                has_title: p.has_title,
                cover: p.cover.as_ref(),
            })
            .collect();
        split(&facts)
            .iter()
            .map(|s| (s.span.first_page, s.span.n_pages))
            .collect()
    }

    const FIRST_A: &str = "CRETE AREA MEDICAL CENTER\nTel (402) 555-0196\nPATIENT: Sidney Cruickshank  DOB: 05-27-1964  MRN: MR493223\nCHIEF COMPLAINT: pain";
    const NEXT_A: &str = "Sidney Cruickshank MRN: MR493223  Date of Birth: 05-27-1964\nCHEST: clear";
    const BODY: &str = "The abdomen is soft and nontender. Bowel sounds are present.";
    const FIRST_B: &str =
        "BLUESTEM HEALTH\n1500 S 48th St, Lincoln, NE 68506\nMITCHELL, JOSIE\nMRN 236-00-43\nDOB 07/19/1981";
    const LAB_A: &str = "CRETE AREA MEDICAL CENTER\nTel (402) 555-0196\nPATIENT: Sidney Cruickshank  DOB: 05-27-1964  MRN: MR493223\nLABORATORY REPORT";

    #[test]
    fn one_patient_one_document() {
        assert_eq!(spans(&[page(FIRST_A), page(NEXT_A), page(BODY)]), [(1, 3)]);
    }

    #[test]
    fn splits_where_the_patient_changes() {
        assert_eq!(
            spans(&[page(FIRST_A), page(BODY), page(FIRST_B), page(BODY)]),
            [(1, 2), (3, 2)]
        );
        // A continuation header of another patient, without a letterhead, still splits.
        let other = "Josie Mitchell MRN #: 236-00-43  D.O.B.: July 19, 1981\nMore text";
        assert_eq!(spans(&[page(FIRST_A), page(other)]), [(1, 1), (2, 1)]);
    }

    #[test]
    fn splits_at_a_new_first_page_of_the_same_patient() {
        assert_eq!(
            spans(&[page(FIRST_A), page(NEXT_A), page(LAB_A), page(BODY)]),
            [(1, 2), (3, 2)]
        );
        // ... unless the page says it continues.
        let continued = "CRETE AREA MEDICAL CENTER\nTel (402) 555-0196\nPATIENT: Sidney Cruickshank  MRN: MR493223\nPage 2 of 3";
        assert_eq!(spans(&[page(FIRST_A), page(continued)]), [(1, 2)]);
    }

    #[test]
    fn a_header_printed_on_every_page_does_not_split() {
        // Letterhead and patient repeated on the next page, no title: the same document.
        let next = "CRETE AREA MEDICAL CENTER\nTel (402) 555-0196\nPATIENT: Sidney Cruickshank  DOB: 05-27-1964  MRN: MR493223\nCHEST: clear";
        assert_eq!(spans(&[page(FIRST_A), page(next), page(next)]), [(1, 3)]);
        // ... but after a page that was signed off, it starts the next document.
        let signed: &'static str = Box::leak(
            format!("{FIRST_A}\nElectronically signed by: ADAMS, JOHN MD 04/01/2024").into_boxed_str(),
        );
        assert_eq!(spans(&[page(signed), page(next)]), [(1, 1), (2, 1)]);
        // ... or that said it was the last of its pages, or when the page says it is page 1.
        let last: &'static str = Box::leak(format!("{FIRST_A}\nPage 1 of 1").into_boxed_str());
        assert_eq!(spans(&[page(last), page(next)]), [(1, 1), (2, 1)]);
        let one: &'static str = Box::leak(format!("{next}\nPage 1").into_boxed_str());
        assert_eq!(spans(&[page(FIRST_A), page(one)]), [(1, 1), (2, 1)]);
        let of_three: &'static str = Box::leak(format!("{FIRST_A}\nPage 1 of 3").into_boxed_str());
        let two: &'static str = Box::leak(format!("{next}\nPage 2 of 3").into_boxed_str());
        assert_eq!(spans(&[page(of_three), page(two)]), [(1, 2)]);
        // A title still starts a document on the same paper.
        assert_eq!(spans(&[page(FIRST_A), page(next), page(LAB_A)]), [(1, 2), (3, 1)]);
    }

    #[test]
    fn cover_sheets_start_documents_and_are_not_filed() {
        let pages = [
            cover("MR493223"),
            page(BODY),
            page(BODY),
            cover("2360043"),
            page(BODY),
        ];
        assert_eq!(spans(&pages), [(2, 2), (5, 1)]);
        assert_eq!(spans(&[cover("MR493223")]), Vec::<(u32, u32)>::new());
    }

    #[test]
    fn another_facilitys_letterhead_starts_a_document() {
        // The identifier block of the second document was lost to a poor scan.
        let other = "LAKESHORE CLINIC\n88 Shore Dr, Lakeside, NE 68002\nDate of Service: January 13, 2017\nHISTORY OF PRESENT ILLNESS";
        assert_eq!(
            spans(&[page(FIRST_A), page(BODY), page(other), page(BODY)]),
            [(1, 2), (3, 2)]
        );
        // Letterheads without a bracketed area code or a state abbreviation.
        for letterhead in [
            "LAKESHORE CLINIC\n88 Shore Dr, Lakeside, Nebraska 68002",
            "LAKESHORE CLINIC\nPh 402-555-0101",
            "LAKESHORE CLINIC\nwww.lakeshoreclinic.org",
            "LAKESHORE CLINIC\nTelephone 402-555-0101",
            "LAKESHORE CLINIC\nP: 402.555.0101   F: 402.555.0102",
        ] {
            let other: &'static str =
                Box::leak(format!("{letterhead}\nHISTORY OF PRESENT ILLNESS").into_boxed_str());
            assert_eq!(
                spans(&[page(FIRST_A), page(BODY), page(other)]),
                [(1, 2), (3, 1)],
                "{letterhead}"
            );
        }
        // Vital signs at the top of a next page are no telephone numbers.
        assert_eq!(
            spans(&[
                page(FIRST_A),
                page("VITAL SIGNS\nBP: 128/76  P: 72  T: 98.6 F  RR: 16\nLungs clear.")
            ]),
            [(1, 2)]
        );
        let misread = FIRST_A.replace("CRETE AREA MEDICAL CENTER", "CRETE AREA MEDlCAL CENTFR") + "\nPage 2";
        let misread: &'static str = Box::leak(misread.into_boxed_str());
        assert_eq!(
            spans(&[page(FIRST_A), page(misread)]),
            [(1, 2)],
            "the same letterhead, misread"
        );
    }

    #[test]
    fn a_fax_header_on_every_page_is_no_letterhead() {
        // The fax machine's line tops every page sent, its counter counting the transmission.
        let sent = |text: &str, n: u32| -> &'static str {
            Box::leak(
                format!(
                    "NOV-02-2026 10:32  FROM: MERCY CLINIC (402) 555-0142  TO: RECORDS  P.00{n}/003\n{text}"
                )
                .into_boxed_str(),
            )
        };
        assert_eq!(
            spans(&[page(sent(FIRST_A, 1)), page(sent(BODY, 2)), page(sent(BODY, 3))]),
            [(1, 3)]
        );
        // A page scanned and the next ones faxed: the same document.
        assert_eq!(spans(&[page(FIRST_A), page(sent(BODY, 2))]), [(1, 2)]);
        // The pages it sent still split where their own cues say: another patient, another
        // facility's paper.
        assert_eq!(
            spans(&[
                page(sent(FIRST_A, 1)),
                page(sent(BODY, 2)),
                page(sent(FIRST_B, 3))
            ]),
            [(1, 2), (3, 1)]
        );
        let lakeshore = "LAKESHORE CLINIC\n88 Shore Dr, Lakeside, NE 68002\nHISTORY OF PRESENT ILLNESS";
        assert_eq!(
            spans(&[
                page(sent(FIRST_A, 1)),
                page(sent(BODY, 2)),
                page(sent(lakeshore, 3))
            ]),
            [(1, 2), (3, 1)]
        );
        // Skewed, the header line broken in two by OCR.
        let broken = "Ds P002/003\nNOV-02-2026 10:32  FROM: MERCY CLINIC (402) 555-0142  TO: RECOR\nThe abdomen is soft.";
        assert_eq!(spans(&[page(sent(FIRST_A, 1)), page(broken)]), [(1, 2)]);
        let fax_at_foot: &'static str =
            Box::leak(format!("{BODY}\n11/02/2024 14:32 FAX 4025550128 Page 2 of 2").into_boxed_str());
        assert_eq!(spans(&[page(FIRST_A), page(fax_at_foot), page(NEXT_A)]), [(1, 3)]);
    }

    #[test]
    fn ocr_slips_do_not_split() {
        let slip = "Sidney Cruickshamk MRN: MR4932Z3  Date of Birth: 05-27-1964";
        assert_eq!(spans(&[page(FIRST_A), page(slip)]), [(1, 2)]);
        let inserted = "Sidney Cruickshank MRN: MR4993223  Date of Birth: 05-27-1964";
        assert_eq!(
            spans(&[page(FIRST_A), page(inserted)]),
            [(1, 2)],
            "a digit too many, same birth date"
        );
    }
}
