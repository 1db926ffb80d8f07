//! The text half of the pipeline: from the pages of one file (their text, and any cover sheet
//! found on them) to the documents to file. Ingest runs it after OCR; re-indexing runs it again
//! from stored text.
//!
//! ```text
//! pages ─identify::page─▶ PageIds ─┐
//!       ─title line?──────────────┼─segment::split─▶ spans ─┬─classify::document─▶ type
//!       ─cover sheet?─────────────┘                         ├─identify::document─▶ PatientIds
//!                                                           └─identify::match_patient─▶ index match
//! ```

use chrono::NaiveDate;

use crate::archive::{NewDocument, PatientRecord};
use crate::classify::{self, Classification, Classifier};
use crate::cover::CoverSheet;
use crate::identify::{
    self, Found, IndexMatch, KnownPatients, MatchBasis, Mrn, PageIds, PatientIds, PatientIndex,
    same_under_confusion,
};
use crate::model::{DocumentSpan, Word};
use crate::segment::{self, PageFacts};

/// What the text stages need: the classifier, the identifier rules, the patient index (if one
/// is loaded), the patients the archive's documents identify clearly (consulted only without an
/// index, for a document whose MRN and birth date are both unreadable) and today's date (a
/// birth date is never after it).
pub struct TextStages<'a> {
    pub classifier: &'a Classifier,
    pub rules: &'a identify::Rules,
    pub index: Option<&'a dyn PatientIndex>,
    pub known: Option<&'a dyn KnownPatients>,
    pub today: NaiveDate,
}

/// One page as the text stages see it.
#[derive(Debug, Clone)]
pub struct PageInput<'a> {
    /// 1-based page number in the file.
    pub page_no: u32,
    pub text: &'a str,
    pub cover: Option<CoverSheet>,
    /// A barcode was seen on the page but could not be read.
    pub unreadable_barcode: bool,
    /// The OCR words with their confidences (none for a text layer): identifiers OCR was unsure
    /// of are trusted less.
    pub words: &'a [Word],
}

/// The documents of one file, and its cover sheets as (page number, payload).
#[derive(Debug, Clone)]
pub struct Understood {
    pub documents: Vec<NewDocument>,
    pub covers: Vec<(u32, String)>,
}

pub fn understand(stages: &TextStages<'_>, pages: &[PageInput<'_>]) -> Understood {
    let page_ids: Vec<PageIds> = pages
        .iter()
        .map(|p| {
            let mut ids = identify::page(stages.rules, p.page_no, p.text, stages.today);
            identify::weigh_by_ocr(&mut ids, p.words, stages.today);
            ids
        })
        .collect();
    let titles: Vec<bool> = pages
        .iter()
        .map(|p| classify::has_title(stages.classifier, p.text))
        .collect();
    let facts: Vec<PageFacts<'_>> = pages
        .iter()
        .zip(&page_ids)
        .zip(&titles)
        .map(|((page, ids), &has_title)| PageFacts {
            page_no: page.page_no,
            text: page.text,
            ids,
            has_title,
            cover: page.cover.as_ref(),
        })
        .collect();
    let covers = pages
        .iter()
        .filter_map(|p| p.cover.as_ref().map(|c| (p.page_no, c.payload())))
        .collect();
    let documents = segment::split(&facts)
        .into_iter()
        .map(|segment| {
            let in_span = |page_no: u32| {
                page_no >= segment.span.first_page && page_no < segment.span.first_page + segment.span.n_pages
            };
            let span_pages: Vec<&PageInput<'_>> = pages.iter().filter(|p| in_span(p.page_no)).collect();
            let span_ids: Vec<&PageIds> = page_ids
                .iter()
                .zip(pages)
                .filter(|(_, p)| in_span(p.page_no))
                .map(|(ids, _)| ids)
                .collect();
            document(
                stages,
                segment.span,
                segment.cover.as_ref(),
                &span_pages,
                &span_ids,
            )
        })
        .collect();
    Understood { documents, covers }
}

/// Classifies and identifies one document.
fn document(
    stages: &TextStages<'_>,
    span: DocumentSpan,
    cover: Option<&CoverSheet>,
    pages: &[&PageInput<'_>],
    page_ids: &[&PageIds],
) -> NewDocument {
    let mut findings: Vec<(String, String)> = Vec::new();
    let texts: Vec<&str> = pages.iter().map(|p| p.text).collect();
    let taxonomy = &stages.classifier.taxonomy;
    let covered_type = cover.and_then(|c| c.doc_type.as_deref()).filter(|t| {
        let known = taxonomy.get(t).is_some();
        if !known {
            findings.push((
                "cover_sheet".into(),
                format!("the cover sheet names the unknown type {t:?}"),
            ));
        }
        known
    });
    let classification = match covered_type {
        Some(doc_type) => Classification {
            doc_type: doc_type.to_string(),
            confidence: 1.0,
            reason: "cover sheet".into(),
            needs_review: false,
        },
        None => classify::document(stages.classifier, &texts),
    };
    if classification.needs_review {
        findings.push(("doc_type".into(), classification.reason.clone()));
    }
    for page in pages.iter().filter(|p| p.unreadable_barcode) {
        findings.push((
            "cover_sheet".into(),
            format!(
                "a barcode on page {} could not be read; check whether it was a cover sheet",
                page.page_no
            ),
        ));
    }

    let mut ids = identify::document(page_ids);
    let mut source = "machine";
    if let Some(mrn) = cover.and_then(|c| c.mrn.as_deref()) {
        if ids
            .mrn
            .as_ref()
            .is_some_and(|found| !same_under_confusion(found.value.as_str(), mrn))
        {
            findings.push((
                "patient".into(),
                "the cover sheet's MRN and the MRN on the document disagree".into(),
            ));
        }
        ids.mrn = Some(Found {
            value: Mrn::from_normalized(mrn),
            confidence: 1.0,
            page_no: span.first_page,
        });
        source = "cover_sheet";
    }
    findings.extend(ids.findings.iter().map(|f| ("patient".to_string(), f.clone())));
    let index_match = match (stages.index, stages.known) {
        (Some(index), _) => Some(identify::match_patient(index, &ids)),
        // No index: a faded label is filled in from the one patient of its name the archive's
        // other documents identify clearly, if what is legible of it agrees.
        (None, Some(known)) => identify::match_known(known, &ids).map(|patient| IndexMatch::Matched {
            patient,
            basis: MatchBasis::KnownNameAndPartialIds,
        }),
        (None, None) => None,
    };
    match &index_match {
        Some(IndexMatch::Orphan { reason }) => findings.push(("orphan".into(), reason.clone())),
        Some(IndexMatch::Matched {
            basis: MatchBasis::NameAndPartialIds,
            ..
        }) => findings.push((
            "patient".into(),
            "matched to the patient index by name, with the MRN and date of birth only partly legible: confirm against the page"
                .into(),
        )),
        Some(IndexMatch::Matched {
            basis: MatchBasis::KnownNameAndPartialIds,
            ..
        }) => findings.push((
            "patient".into(),
            "the MRN and date of birth are only partly legible: taken from other documents of the one patient of this name in the archive; confirm against the page"
                .into(),
        )),
        _ => {}
    }
    if ids.is_empty() && index_match.is_none() {
        findings.push(("patient".into(), crate::model::NO_IDENTIFIERS.into()));
    }
    NewDocument {
        span,
        classification,
        model_version: stages.classifier.model_version().to_string(),
        patient: patient_record(&ids, index_match, source),
        findings,
    }
}

/// What is stored of the patient: the index's record when the document matched it, else what
/// was read off the document.
fn patient_record(ids: &PatientIds, index_match: Option<IndexMatch>, source: &'static str) -> PatientRecord {
    let evidence = serde_json::json!({
        "mrn": ids.mrn.as_ref().map(|f| field(f, f.value.as_str().to_string())),
        "name": ids.name.as_ref().map(|f| field(f, format!("{}, {}", f.value.last, f.value.first))),
        "dob": ids.dob.as_ref().map(|f| field(f, f.value.expose().to_string())),
    });
    let read_confidence = [
        ids.mrn.as_ref().map(|f| f.confidence),
        ids.name.as_ref().map(|f| f.confidence),
        ids.dob.as_ref().map(|f| f.confidence),
    ]
    .into_iter()
    .flatten()
    .fold(None, |low: Option<f32>, c| Some(low.map_or(c, |l| l.min(c))));
    match index_match {
        Some(IndexMatch::Matched { patient, basis }) => PatientRecord {
            mrn: Some(patient.mrn.as_str().to_string()),
            last: Some(patient.name.last.clone()),
            first: Some(patient.name.first.clone()),
            dob: Some(patient.dob.to_string()),
            confidence: Some(match basis {
                MatchBasis::Mrn => 0.99,
                MatchBasis::NameAndPartialIds | MatchBasis::KnownNameAndPartialIds => 0.6,
                _ => 0.9,
            }),
            evidence: Some(evidence.to_string()),
            index_match: Some(basis.as_str().to_string()),
            // Filled in from the archive's own documents, it is still the machine's reading.
            source: if basis == MatchBasis::KnownNameAndPartialIds {
                "machine"
            } else {
                "index"
            },
        },
        other => PatientRecord {
            mrn: ids.mrn.as_ref().map(|f| f.value.as_str().to_string()),
            last: ids.name.as_ref().map(|f| f.value.last.clone()),
            first: ids.name.as_ref().map(|f| f.value.first.clone()),
            dob: ids.dob.as_ref().map(|f| f.value.expose().to_string()),
            confidence: read_confidence,
            evidence: Some(evidence.to_string()),
            index_match: other.map(|_| "orphan".to_string()),
            source,
        },
    }
}

fn field<T>(found: &Found<T>, value: String) -> serde_json::Value {
    serde_json::json!({"value": value, "confidence": found.confidence, "page": found.page_no})
}
