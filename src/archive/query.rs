//! Reading the archive: full-text search, one document with its pages, the JSON-lines export
//! and the list of failed files. Read-only; each caller brings its own connection.

use anyhow::{Context, bail};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

/// A search as the operator typed it.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub text: String,
    pub limit: usize,
    /// Only documents of this type.
    pub doc_type: Option<String>,
    /// Only documents of the patient with this MRN (normalised).
    pub mrn: Option<String>,
}

/// One matching page, best first.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub document_id: i64,
    /// Page number within the document (1-based).
    pub page: u32,
    /// Page number within the source file (1-based).
    pub file_page: u32,
    pub source: String,
    pub doc_type: Option<String>,
    /// The matching passage, matches wrapped in `[` and `]`.
    pub snippet: String,
    /// bm25 relevance, higher is better.
    pub score: f64,
}

/// The patient a document belongs to, as exported.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PatientJson {
    pub mrn: Option<String>,
    pub last: Option<String>,
    pub first: Option<String>,
    pub dob: Option<String>,
}

/// One exported document: exactly the keys of the JSON-lines export, in this order.
#[derive(Debug, Clone, Serialize)]
pub struct ExportRecord {
    pub id: i64,
    pub source: String,
    pub sha256: String,
    pub first_page: u32,
    pub pages: u32,
    pub doc_type: Option<String>,
    pub doc_type_confidence: Option<f64>,
    pub patient: Option<PatientJson>,
    /// How sure the reading of the patient is (0..1), or how it matched the patient index.
    pub patient_confidence: Option<f64>,
    /// `mrn`, `mrn_ocr_name_dob`, `name_dob` (matched the patient index that way), `orphan`, or
    /// null (no index loaded).
    pub patient_match: Option<String>,
    pub text: String,
    pub ocr_confidence: Option<f64>,
}

/// One page of a shown document.
#[derive(Debug, Clone, Serialize)]
pub struct PageView {
    pub page: u32,
    pub file_page: u32,
    pub text_source: String,
    pub ocr_confidence: Option<f64>,
    pub dpi: Option<u32>,
    pub width: u32,
    pub height: u32,
    /// Clockwise degrees the page was turned before OCR.
    pub rotation: u16,
    /// Measured skew in degrees.
    pub skew: Option<f64>,
    pub blank: bool,
    pub low_confidence_share: Option<f64>,
    pub needs_rescan: bool,
    pub text: String,
}

/// A document with everything the archive knows of it.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    pub id: i64,
    pub source: String,
    pub sha256: String,
    pub size: u64,
    pub media_type: String,
    pub ingested_at: String,
    pub first_page: u32,
    pub pages: u32,
    pub file_pages: u32,
    pub doc_type: Option<String>,
    pub doc_type_confidence: Option<f64>,
    pub doc_type_reason: Option<String>,
    /// `machine`, or `operator` when a person set or confirmed the type.
    pub doc_type_source: String,
    pub patient: Option<PatientJson>,
    pub patient_confidence: Option<f64>,
    /// How the patient index matched (`mrn`, `mrn_ocr_name_dob`, `name_dob`, `orphan`), or
    /// `None` without an index.
    pub patient_match: Option<String>,
    /// `machine`, `index`, `cover_sheet` or `operator`.
    pub patient_source: String,
    pub ocr_confidence: Option<f64>,
    /// Open findings that need a person, as `kind: detail`.
    pub findings: Vec<String>,
    pub page_texts: Vec<PageView>,
}

/// A file that could not be filed.
#[derive(Debug, Clone, Serialize)]
pub struct FailureRow {
    pub at: String,
    pub source: String,
    pub path: String,
    pub sha256: Option<String>,
    pub stage: Option<String>,
    pub error_kind: Option<String>,
    pub reason: Option<String>,
}

pub fn search(conn: &Connection, query: &SearchQuery) -> anyhow::Result<Vec<Hit>> {
    let fts = fts_query(&query.text)?;
    let mut stmt = conn.prepare(
        "SELECT p.document_id, p.page_no - d.first_page + 1, p.page_no, f.source_name, d.doc_type,
                snippet(pages_fts, 0, '[', ']', ' ... ', 16), bm25(pages_fts)
         FROM pages_fts
         JOIN pages p ON p.id = pages_fts.rowid
         JOIN documents d ON d.id = p.document_id
         JOIN files f ON f.id = p.file_id
         WHERE pages_fts MATCH ?1 AND (?3 IS NULL OR d.doc_type = ?3) AND (?4 IS NULL OR d.patient_mrn = ?4)
         ORDER BY bm25(pages_fts), p.document_id, p.page_no
         LIMIT ?2",
    )?;
    let hits = stmt
        .query_map(
            params![fts, query.limit as i64, query.doc_type, query.mrn],
            |row| {
                Ok(Hit {
                    document_id: row.get(0)?,
                    page: row.get(1)?,
                    file_page: row.get(2)?,
                    source: row.get(3)?,
                    doc_type: row.get(4)?,
                    snippet: row.get::<_, String>(5)?.replace(['\n', '\r'], " "),
                    score: -row.get::<_, f64>(6)?,
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()
        .context("running the search")?;
    Ok(hits)
}

/// Turns what an operator typed into an FTS5 query: words are matched as words (punctuation
/// such as `D.O.B.` or `-` cannot break the query syntax), `"quoted phrases"` as phrases,
/// `word*` as a prefix, and bare `OR` / `NOT` keep their meaning.
fn fts_query(text: &str) -> anyhow::Result<String> {
    let mut terms = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        rest = &rest[start..];
        let (raw, phrase, next) = if let Some(inner) = rest.strip_prefix('"') {
            let end = inner.find('"').unwrap_or(inner.len());
            (&inner[..end], true, inner.get(end + 1..).unwrap_or(""))
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            (&rest[..end], false, &rest[end..])
        };
        rest = next;
        if !phrase && matches!(raw, "OR" | "NOT" | "AND") {
            terms.push(raw.to_string());
            continue;
        }
        let prefix = !phrase && raw.ends_with('*');
        let words: Vec<&str> = raw
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            continue;
        }
        let quoted = format!("\"{}\"", words.join(" "));
        terms.push(if prefix { format!("{quoted}*") } else { quoted });
    }
    while matches!(terms.first().map(String::as_str), Some("OR" | "NOT" | "AND")) {
        terms.remove(0);
    }
    while matches!(terms.last().map(String::as_str), Some("OR" | "NOT" | "AND")) {
        terms.pop();
    }
    if terms.is_empty() {
        bail!("the query holds no word to search for");
    }
    Ok(terms.join(" "))
}

pub fn document(conn: &Connection, id: i64) -> anyhow::Result<Option<DocumentView>> {
    let head = conn
        .query_row(
            "SELECT d.id, f.source_name, f.sha256, f.size, f.media_type, f.ingested_at, d.first_page,
                    d.n_pages, f.n_pages, d.doc_type, d.doc_type_confidence, d.doc_type_reason,
                    d.doc_type_source, d.patient_mrn, d.patient_last, d.patient_first, d.patient_dob,
                    d.patient_confidence, d.patient_match, d.patient_source
             FROM documents d JOIN files f ON f.id = d.file_id WHERE d.id = ?1",
            [id],
            |row| {
                Ok(DocumentView {
                    id: row.get(0)?,
                    source: row.get(1)?,
                    sha256: row.get(2)?,
                    size: row.get::<_, i64>(3)? as u64,
                    media_type: row.get(4)?,
                    ingested_at: row.get(5)?,
                    first_page: row.get(6)?,
                    pages: row.get(7)?,
                    file_pages: row.get(8)?,
                    doc_type: row.get(9)?,
                    doc_type_confidence: row.get(10)?,
                    doc_type_reason: row.get(11)?,
                    doc_type_source: row.get(12)?,
                    patient: patient_json(row, 13)?,
                    patient_confidence: row.get(17)?,
                    patient_match: row.get(18)?,
                    patient_source: row.get(19)?,
                    ocr_confidence: None,
                    findings: Vec::new(),
                    page_texts: Vec::new(),
                })
            },
        )
        .optional()?;
    let Some(mut view) = head else {
        return Ok(None);
    };
    view.page_texts = pages_of(conn, id)?;
    view.ocr_confidence = mean_confidence(&view.page_texts);
    let mut stmt = conn.prepare(
        "SELECT kind || ': ' || detail FROM findings WHERE document_id = ?1 AND resolved_at IS NULL ORDER BY id",
    )?;
    view.findings = stmt
        .query_map([id], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(Some(view))
}

/// Documents whose type a person set or confirmed, as (text, type): training examples.
pub fn operator_labelled(conn: &Connection) -> anyhow::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT id, doc_type FROM documents WHERE doc_type_source = 'operator' AND doc_type IS NOT NULL ORDER BY id",
    )?;
    let documents: Vec<(i64, String)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    documents
        .into_iter()
        .map(|(id, doc_type)| {
            let text = pages_of(conn, id)?
                .iter()
                .map(|p| p.text.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            Ok((text, doc_type))
        })
        .collect()
}

/// Streams every document, in id order, to `each`; returns how many there were.
pub fn export(
    conn: &Connection,
    mut each: impl FnMut(ExportRecord) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    let mut stmt = conn.prepare(
        "SELECT d.id, f.source_name, f.sha256, d.first_page, d.n_pages, d.doc_type, d.doc_type_confidence,
                d.patient_mrn, d.patient_last, d.patient_first, d.patient_dob, d.patient_confidence,
                d.patient_match
         FROM documents d JOIN files f ON f.id = d.file_id ORDER BY d.id",
    )?;
    let mut rows = stmt.query([])?;
    let mut n = 0;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let pages = pages_of(conn, id)?;
        let text = pages
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join("\u{c}");
        each(ExportRecord {
            id,
            source: row.get(1)?,
            sha256: row.get(2)?,
            first_page: row.get(3)?,
            pages: row.get(4)?,
            doc_type: row.get(5)?,
            doc_type_confidence: row.get(6)?,
            patient: patient_json(row, 7)?,
            patient_confidence: row.get(11)?,
            patient_match: row.get(12)?,
            text,
            ocr_confidence: mean_confidence(&pages),
        })?;
        n += 1;
    }
    Ok(n)
}

pub fn failures(conn: &Connection) -> anyhow::Result<Vec<FailureRow>> {
    let mut stmt = conn.prepare(
        "SELECT at, source_name, source_path, sha256, stage, error_kind, reason
         FROM intake WHERE outcome = 'failed' ORDER BY id",
    )?;
    let rows = stmt
        .query_map([], |row| {
            Ok(FailureRow {
                at: row.get(0)?,
                source: row.get(1)?,
                path: row.get(2)?,
                sha256: row.get(3)?,
                stage: row.get(4)?,
                error_kind: row.get(5)?,
                reason: row.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The patient columns (mrn, last, first, dob) starting at `at`; `None` when all are empty.
fn patient_json(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<PatientJson>> {
    let patient = PatientJson {
        mrn: row.get(at)?,
        last: row.get(at + 1)?,
        first: row.get(at + 2)?,
        dob: row.get(at + 3)?,
    };
    let empty =
        patient.mrn.is_none() && patient.last.is_none() && patient.first.is_none() && patient.dob.is_none();
    Ok((!empty).then_some(patient))
}

fn pages_of(conn: &Connection, document_id: i64) -> anyhow::Result<Vec<PageView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.page_no - d.first_page + 1, p.page_no, p.text_source, p.ocr_confidence, p.dpi,
                p.width, p.height, p.text, p.rotation, p.skew, p.blank, p.low_confidence_share, p.needs_rescan
         FROM pages p JOIN documents d ON d.id = p.document_id
         WHERE p.document_id = ?1 ORDER BY p.page_no",
    )?;
    let pages = stmt
        .query_map([document_id], page_view)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(pages)
}

fn page_view(row: &Row<'_>) -> rusqlite::Result<PageView> {
    Ok(PageView {
        page: row.get(0)?,
        file_page: row.get(1)?,
        text_source: row.get(2)?,
        ocr_confidence: row.get(3)?,
        dpi: row.get(4)?,
        width: row.get(5)?,
        height: row.get(6)?,
        text: row.get(7)?,
        rotation: row.get(8)?,
        skew: row.get(9)?,
        blank: row.get(10)?,
        low_confidence_share: row.get(11)?,
        needs_rescan: row.get(12)?,
    })
}

/// Mean OCR confidence over the document's OCRed pages; `None` when none was OCRed.
fn mean_confidence(pages: &[PageView]) -> Option<f64> {
    let confidences: Vec<f64> = pages.iter().filter_map(|p| p.ocr_confidence).collect();
    (!confidences.is_empty()).then(|| confidences.iter().sum::<f64>() / confidences.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_cannot_break_the_query() {
        assert_eq!(fts_query("D.O.B. 04/18/2005").unwrap(), r#""D O B" "04 18 2005""#);
        assert_eq!(fts_query("chest pain").unwrap(), r#""chest" "pain""#);
        assert_eq!(
            fts_query(r#""chest pain" OR dyspnea"#).unwrap(),
            r#""chest pain" OR "dyspnea""#
        );
        assert_eq!(fts_query("cardio*").unwrap(), r#""cardio"*"#);
        assert_eq!(fts_query("OR pain NOT").unwrap(), r#""pain""#);
        assert!(fts_query("  -- ** ").is_err());
    }
}

/// The station's day so far.
#[derive(Debug, Clone, Default)]
pub struct StationStatus {
    pub filed_today: i64,
    pub documents_today: i64,
    /// Pages read too poorly to trust, over the whole archive.
    pub pages_need_rescan: i64,
    /// The latest failure: (time, reason).
    pub last_error: Option<(String, String)>,
}

pub fn station_status(
    conn: &Connection,
    now: chrono::DateTime<chrono::Local>,
) -> anyhow::Result<StationStatus> {
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(chrono::Local).earliest())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| now.with_timezone(&chrono::Utc));
    let since = super::write::timestamp(midnight);
    let filed_today = conn.query_row(
        "SELECT count(*) FROM intake WHERE outcome = 'filed' AND at >= ?1",
        [&since],
        |r| r.get(0),
    )?;
    let documents_today = conn.query_row(
        "SELECT count(*) FROM documents d JOIN files f ON f.id = d.file_id WHERE f.ingested_at >= ?1",
        [&since],
        |r| r.get(0),
    )?;
    let pages_need_rescan = conn.query_row("SELECT count(*) FROM pages WHERE needs_rescan = 1", [], |r| {
        r.get(0)
    })?;
    let last_error = conn
        .query_row(
            "SELECT at, reason FROM intake WHERE outcome = 'failed' ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get::<_, Option<String>>(1)?.unwrap_or_default())),
        )
        .optional()?;
    Ok(StationStatus {
        filed_today,
        documents_today,
        pages_need_rescan,
        last_error,
    })
}
