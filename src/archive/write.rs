//! Writing to the archive: filing a file with its documents and pages, and recording duplicates
//! and failures in the intake log. Each call is one transaction.

use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{Archive, objects};
use crate::classify::Classification;
use crate::model::{DocumentSpan, Failure, MediaType, Origin, PageText};

/// One document found in a file, with what the machine made of it.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub span: DocumentSpan,
    pub classification: Classification,
    /// The version of the model that classified it.
    pub model_version: String,
    pub patient: PatientRecord,
    /// What needs a person: (kind, detail), e.g. ("doc_type", "best guess ..."), ("patient", ...).
    pub findings: Vec<(String, String)>,
}

/// The patient a document is filed under, and how that was decided. Patient data: `Debug`
/// prints a placeholder.
#[derive(Clone, Default)]
pub struct PatientRecord {
    pub mrn: Option<String>,
    pub last: Option<String>,
    pub first: Option<String>,
    /// `YYYY-MM-DD`
    pub dob: Option<String>,
    pub confidence: Option<f32>,
    /// What was read off the document, field by field, with confidence and page (JSON).
    pub evidence: Option<String>,
    /// How the patient index matched: `mrn`, `mrn_ocr_name_dob`, `name_dob`, `orphan`; `None`
    /// when no index is loaded.
    pub index_match: Option<String>,
    /// `machine` (read off the document), `index` (completed from the patient index) or
    /// `cover_sheet`.
    pub source: &'static str,
}

impl std::fmt::Debug for PatientRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientRecord")
            .field("index_match", &self.index_match)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// A file read, decoded and recognised, ready to be filed.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub origin: Origin,
    pub sha256: String,
    pub size: u64,
    pub bytes: Arc<[u8]>,
    pub media_type: MediaType,
    pub pages: Vec<PageText>,
    pub documents: Vec<NewDocument>,
    /// Cover and separator sheets: (1-based page number, payload). Their pages belong to no
    /// document and are not filed as content.
    pub covers: Vec<(u32, String)>,
}

/// How a file ended up in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Filed {
        file_id: i64,
        document_ids: Vec<i64>,
    },
    /// Already archived under `file_id` (same SHA-256); recorded, not filed again.
    Duplicate {
        file_id: i64,
    },
    Failed(Failure),
}

/// The id of the archived file with this SHA-256, if any.
pub fn is_archived(conn: &Connection, sha256: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT id FROM files WHERE sha256 = ?1", [sha256], |row| {
        row.get(0)
    })
    .optional()
}

/// Files `new`: stores the original, then in one transaction the file, its documents, its pages
/// (indexed for search) and an intake row. A file whose SHA-256 is already archived is recorded
/// as a duplicate instead.
pub fn file(
    conn: &mut Connection,
    archive: &Archive,
    new: &NewFile,
    now: DateTime<Utc>,
) -> anyhow::Result<Outcome> {
    let page_documents = assign_pages(new)?;
    let at = timestamp(now);
    let tx = conn.transaction()?;
    if let Some(file_id) = is_archived(&tx, &new.sha256)? {
        insert_intake(&tx, &IntakeRow::of(new, "duplicate", file_id), &at)?;
        let detail = serde_json::json!({"sha256": new.sha256, "duplicate_of_file": file_id});
        super::audit::append(&tx, "ingest", &[], detail, &at)?;
        tx.commit()?;
        return Ok(Outcome::Duplicate { file_id });
    }
    objects::store(archive.dir(), &new.sha256, &new.bytes).context("storing the original")?;
    tx.execute(
        "INSERT INTO files (sha256, size, source_name, media_type, n_pages, ingested_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            new.sha256,
            new.size as i64,
            new.origin.name.expose(),
            new.media_type.mime(),
            (new.pages.len() + new.covers.len()) as i64,
            at
        ],
    )?;
    let file_id = tx.last_insert_rowid();
    let mut document_ids = Vec::with_capacity(new.documents.len());
    for document in &new.documents {
        let class = &document.classification;
        let patient = &document.patient;
        tx.execute(
            "INSERT INTO documents (file_id, first_page, n_pages, created_at, doc_type, doc_type_confidence,
                                    doc_type_reason, doc_type_source, doc_type_model, patient_mrn, patient_last,
                                    patient_first, patient_dob, patient_confidence, patient_evidence, patient_match,
                                    patient_source)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'machine', ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                file_id,
                document.span.first_page,
                document.span.n_pages,
                at,
                class.doc_type,
                f64::from(class.confidence),
                class.reason,
                document.model_version,
                patient.mrn,
                patient.last,
                patient.first,
                patient.dob,
                patient.confidence.map(f64::from),
                patient.evidence,
                patient.index_match,
                patient.source,
            ],
        )?;
        let document_id = tx.last_insert_rowid();
        for (kind, detail) in &document.findings {
            add_finding(&tx, document_id, kind, detail, &at)?;
        }
        document_ids.push(document_id);
    }
    for (page, document_idx) in new.pages.iter().zip(&page_documents) {
        insert_page(&tx, file_id, document_ids[*document_idx], page)?;
    }
    insert_cover_sheets(&tx, file_id, &new.covers)?;
    insert_intake(&tx, &IntakeRow::of(new, "filed", file_id), &at)?;
    let detail = serde_json::json!({"sha256": new.sha256, "file_id": file_id});
    super::audit::append(&tx, "ingest", &document_ids, detail, &at)?;
    tx.commit()?;
    Ok(Outcome::Filed {
        file_id,
        document_ids,
    })
}

/// Stores one page of file `file_id`, in document `document_id`, with what clean-up and OCR
/// found (its words as JSON).
pub(super) fn insert_page(
    conn: &Connection,
    file_id: i64,
    document_id: i64,
    page: &PageText,
) -> anyhow::Result<()> {
    conn.prepare_cached(
        "INSERT INTO pages (file_id, document_id, page_no, text, text_source, ocr_confidence, dpi, width, height,
                            rotation, skew, dpi_estimated, normalized, blank, low_confidence_share,
                            needs_rescan, words, preprocess_ms, ocr_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
    )?
    .execute(params![
        file_id,
        document_id,
        page.page_no,
        page.text,
        page.source.as_str(),
        page.ocr_confidence.map(f64::from),
        page.dpi,
        page.width,
        page.height,
        page.quality.rotation,
        page.quality.skew.map(f64::from),
        page.quality.dpi_estimated,
        page.quality.normalized,
        page.quality.blank,
        page.quality.low_confidence_share.map(f64::from),
        page.quality.needs_rescan,
        words_json(&page.quality.words),
        page.quality.preprocess_ms.map(f64::from),
        page.quality.ocr_ms.map(f64::from),
    ])?;
    Ok(())
}

/// Records the cover sheets (page number, payload) of file `file_id`.
pub(super) fn insert_cover_sheets(
    conn: &Connection,
    file_id: i64,
    covers: &[(u32, String)],
) -> anyhow::Result<()> {
    for (page_no, payload) in covers {
        conn.prepare_cached("INSERT INTO cover_sheets (file_id, page_no, payload) VALUES (?1, ?2, ?3)")?
            .execute(params![file_id, page_no, payload])?;
    }
    Ok(())
}

/// What the archive committed for one daemon claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimOutcome {
    /// `filed`, `duplicate` or `failed`.
    pub outcome: String,
    pub stage: Option<String>,
    pub error_kind: Option<String>,
    pub reason: Option<String>,
}

/// What the archive committed for a daemon's claim, if anything.
pub fn claim_outcome(conn: &Connection, claim: &str) -> rusqlite::Result<Option<ClaimOutcome>> {
    conn.query_row(
        "SELECT outcome, stage, error_kind, reason FROM intake WHERE claim = ?1 ORDER BY id DESC LIMIT 1",
        [claim],
        |r| {
            Ok(ClaimOutcome {
                outcome: r.get(0)?,
                stage: r.get(1)?,
                error_kind: r.get(2)?,
                reason: r.get(3)?,
            })
        },
    )
    .optional()
}

/// Notes something about a document that needs a person (`kind`: `doc_type`, ...).
pub fn add_finding(
    conn: &Connection,
    document_id: i64,
    kind: &str,
    detail: &str,
    at: &str,
) -> anyhow::Result<()> {
    conn.execute(
        "INSERT INTO findings (document_id, kind, detail, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![document_id, kind, detail, at],
    )?;
    Ok(())
}

/// Records that a file was a duplicate of archived file `file_id`.
pub fn record_duplicate(
    conn: &Connection,
    origin: &Origin,
    sha256: &str,
    size: u64,
    file_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let row = IntakeRow {
        origin,
        sha256: Some(sha256),
        size: Some(size),
        outcome: "duplicate",
        file_id: Some(file_id),
        failure: None,
    };
    insert_intake(conn, &row, &timestamp(now))
}

/// Records that a file could not be filed, and why.
pub fn record_failure(
    conn: &Connection,
    origin: &Origin,
    identity: Option<(&str, u64)>,
    failure: &Failure,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let row = IntakeRow {
        origin,
        sha256: identity.map(|(sha, _)| sha),
        size: identity.map(|(_, size)| size),
        outcome: "failed",
        file_id: None,
        failure: Some(failure),
    };
    insert_intake(conn, &row, &timestamp(now))
}

/// A page's words from their stored JSON (see [`words_json`]); none if it cannot be read.
pub fn parse_words(json: &str) -> Vec<crate::model::Word> {
    serde_json::from_str::<Vec<(u32, u32, u32, u32, f32, String)>>(json)
        .map(|rows| {
            rows.into_iter()
                .map(
                    |(left, top, right, bottom, confidence, text)| crate::model::Word {
                        text,
                        confidence,
                        bbox: [left, top, right, bottom],
                    },
                )
                .collect()
        })
        .unwrap_or_default()
}

/// A page's words as compact JSON (`[[left, top, right, bottom, confidence, text], ...]`), or
/// null for pages without OCR words.
fn words_json(words: &[crate::model::Word]) -> Option<String> {
    if words.is_empty() {
        return None;
    }
    let rows: Vec<serde_json::Value> = words
        .iter()
        .map(|w| {
            let [left, top, right, bottom] = w.bbox;
            serde_json::json!([left, top, right, bottom, w.confidence.round() as u32, w.text])
        })
        .collect();
    Some(serde_json::Value::Array(rows).to_string())
}

/// For each content page (in `new.pages` order), the index of the document it belongs to.
/// Every content page belongs to exactly one document; cover sheets to none.
fn assign_pages(new: &NewFile) -> anyhow::Result<Vec<usize>> {
    let n_file_pages = new.pages.len() + new.covers.len();
    let mut owner: Vec<Option<usize>> = vec![None; n_file_pages];
    for (document_idx, document) in new.documents.iter().enumerate() {
        let DocumentSpan { first_page, n_pages } = document.span;
        for page_no in first_page..first_page + n_pages {
            let Some(slot) = owner.get_mut(page_no as usize - 1) else {
                bail!(
                    "document {document_idx} claims page {page_no} of {}",
                    new.pages.len()
                );
            };
            if slot.replace(document_idx).is_some() {
                bail!("page {page_no} is claimed by two documents");
            }
        }
    }
    for (page_no, _) in &new.covers {
        if owner.get(*page_no as usize - 1).is_some_and(Option::is_some) {
            bail!("cover sheet page {page_no} is claimed by a document");
        }
    }
    new.pages
        .iter()
        .map(|page| {
            owner
                .get(page.page_no as usize - 1)
                .copied()
                .flatten()
                .with_context(|| format!("page {} belongs to no document", page.page_no))
        })
        .collect()
}

/// One line of the intake log: what happened to one input file.
struct IntakeRow<'a> {
    origin: &'a Origin,
    sha256: Option<&'a str>,
    size: Option<u64>,
    outcome: &'a str,
    file_id: Option<i64>,
    failure: Option<&'a Failure>,
}

impl<'a> IntakeRow<'a> {
    fn of(new: &'a NewFile, outcome: &'a str, file_id: i64) -> Self {
        IntakeRow {
            origin: &new.origin,
            sha256: Some(&new.sha256),
            size: Some(new.size),
            outcome,
            file_id: Some(file_id),
            failure: None,
        }
    }
}

fn insert_intake(conn: &Connection, row: &IntakeRow<'_>, at: &str) -> anyhow::Result<()> {
    conn.execute(
        "INSERT INTO intake (at, source_name, source_path, sha256, size, outcome, file_id, stage, error_kind, reason,
                             claim)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            at,
            row.origin.name.expose(),
            row.origin.path.expose(),
            row.sha256,
            row.size.map(|s| s as i64),
            row.outcome,
            row.file_id,
            row.failure.map(|f| f.stage.as_str()),
            row.failure.map(|f| f.kind.as_str()),
            row.failure.map(ToString::to_string),
            row.origin.claim,
        ],
    )?;
    Ok(())
}

pub(crate) fn timestamp(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Millis, true)
}
