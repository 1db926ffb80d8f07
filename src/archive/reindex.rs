//! The archive's side of re-indexing: which files a selection covers, what is stored of them
//! (page texts, cover sheets, documents with who decided their values), writing the new machine
//! values, and where an interrupted run stopped.

use anyhow::bail;
use rusqlite::{Connection, OptionalExtension, Transaction, params, params_from_iter};

use super::{NewDocument, PatientRecord};
use crate::model::PageText;

/// Which documents to re-index; empty = all. Files are re-indexed whole (splitting is per
/// file), so a selection picks the files holding a selected document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub doc_type: Option<String>,
    /// Normalised.
    pub mrn: Option<String>,
    /// Files ingested at or after this time (`YYYY-MM-DD` or an RFC 3339 prefix).
    pub since: Option<String>,
    pub ids: Vec<i64>,
}

impl Selection {
    /// A key naming a run over this selection (reading stored text, or `ocr` the originals),
    /// under which an interrupted run's progress is kept. Not patient data in clear: the MRN is
    /// hashed.
    pub fn key(&self, ocr: bool) -> String {
        let text = format!(
            "type={:?} mrn={:?} since={:?} ids={:?} ocr={ocr}",
            self.doc_type, self.mrn, self.since, self.ids
        );
        super::audit::text_hash(&text)
    }
}

/// The ids of the files the selection covers, ascending, after `after` (resuming).
pub fn files(conn: &Connection, selection: &Selection, after: i64) -> anyhow::Result<Vec<i64>> {
    let mut sql = String::from(
        "SELECT DISTINCT d.file_id FROM documents d JOIN files f ON f.id = d.file_id WHERE d.file_id > ?",
    );
    let mut values: Vec<rusqlite::types::Value> = vec![after.into()];
    if let Some(doc_type) = &selection.doc_type {
        sql.push_str(" AND d.doc_type = ?");
        values.push(doc_type.clone().into());
    }
    if let Some(mrn) = &selection.mrn {
        sql.push_str(" AND d.patient_mrn = ?");
        values.push(mrn.clone().into());
    }
    if let Some(since) = &selection.since {
        sql.push_str(" AND f.ingested_at >= ?");
        values.push(since.clone().into());
    }
    if !selection.ids.is_empty() {
        let marks = vec!["?"; selection.ids.len()].join(",");
        let mut stmt = conn.prepare(&format!("SELECT id FROM documents WHERE id IN ({marks})"))?;
        let known = stmt
            .query_map(params_from_iter(&selection.ids), |r| r.get(0))?
            .collect::<rusqlite::Result<std::collections::HashSet<i64>>>()?;
        let missing: Vec<String> = selection
            .ids
            .iter()
            .filter(|id| !known.contains(id))
            .map(i64::to_string)
            .collect();
        if !missing.is_empty() {
            bail!("no document {}", missing.join(", "));
        }
        sql.push_str(&format!(" AND d.id IN ({marks})"));
        values.extend(selection.ids.iter().map(|&id| rusqlite::types::Value::from(id)));
    }
    sql.push_str(" ORDER BY d.file_id");
    let mut stmt = conn.prepare(&sql)?;
    let ids = stmt
        .query_map(params_from_iter(values), |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

/// A stored document and who decided its values.
#[derive(Debug, Clone)]
pub struct StoredDocument {
    pub id: i64,
    pub first_page: u32,
    pub n_pages: u32,
    pub doc_type: Option<String>,
    /// An operator set the type.
    pub type_by_operator: bool,
    pub patient: StoredPatient,
    /// An operator set the patient.
    pub patient_by_operator: bool,
    /// A person confirmed the machine's values (`review accept`).
    pub reviewed: bool,
}

/// A stored patient, as the archive keeps it. Patient data: `Debug` prints a placeholder.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StoredPatient {
    pub mrn: Option<String>,
    pub last: Option<String>,
    pub first: Option<String>,
    pub dob: Option<String>,
    pub index_match: Option<String>,
}

impl From<&PatientRecord> for StoredPatient {
    fn from(p: &PatientRecord) -> StoredPatient {
        StoredPatient {
            mrn: p.mrn.clone(),
            last: p.last.clone(),
            first: p.first.clone(),
            dob: p.dob.clone(),
            index_match: p.index_match.clone(),
        }
    }
}

impl std::fmt::Debug for StoredPatient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredPatient(**)")
    }
}

/// What is stored of one file: its content pages, cover sheets (number, payload) and documents
/// in page order.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub id: i64,
    /// Of the stored original.
    pub sha256: String,
    pub pages: Vec<StoredPage>,
    pub covers: Vec<(u32, String)>,
    pub documents: Vec<StoredDocument>,
}

/// A stored content page.
#[derive(Debug, Clone)]
pub struct StoredPage {
    pub page_no: u32,
    pub text: String,
    /// Its OCR words as stored (JSON), if it was OCRed; see [`super::parse_words`].
    pub words: Option<String>,
}

/// Loads the files `ids` (ascending) with four range queries.
pub fn load(conn: &Connection, ids: &[i64]) -> anyhow::Result<Vec<StoredFile>> {
    let (Some(&low), Some(&high)) = (ids.first(), ids.last()) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<StoredFile> = ids
        .iter()
        .map(|&id| StoredFile {
            id,
            sha256: String::new(),
            pages: Vec::new(),
            covers: Vec::new(),
            documents: Vec::new(),
        })
        .collect();
    let slot = |file_id: i64| ids.binary_search(&file_id).ok();
    let mut stmt = conn.prepare_cached("SELECT id, sha256 FROM files WHERE id BETWEEN ?1 AND ?2")?;
    let mut rows = stmt.query([low, high])?;
    while let Some(row) = rows.next()? {
        if let Some(i) = slot(row.get(0)?) {
            files[i].sha256 = row.get(1)?;
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT file_id, page_no, text, words FROM pages WHERE file_id BETWEEN ?1 AND ?2 ORDER BY file_id, page_no",
    )?;
    let mut rows = stmt.query([low, high])?;
    while let Some(row) = rows.next()? {
        if let Some(i) = slot(row.get(0)?) {
            files[i].pages.push(StoredPage {
                page_no: row.get(1)?,
                text: row.get(2)?,
                words: row.get(3)?,
            });
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT file_id, page_no, payload FROM cover_sheets WHERE file_id BETWEEN ?1 AND ?2 ORDER BY file_id, page_no",
    )?;
    let mut rows = stmt.query([low, high])?;
    while let Some(row) = rows.next()? {
        if let Some(i) = slot(row.get(0)?) {
            files[i].covers.push((row.get(1)?, row.get(2)?));
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT file_id, id, first_page, n_pages, doc_type, doc_type_source, patient_mrn, patient_last,
                patient_first, patient_dob, patient_match, patient_source, reviewed_at IS NOT NULL
         FROM documents WHERE file_id BETWEEN ?1 AND ?2 ORDER BY file_id, first_page",
    )?;
    let mut rows = stmt.query([low, high])?;
    while let Some(row) = rows.next()? {
        if let Some(i) = slot(row.get(0)?) {
            files[i].documents.push(StoredDocument {
                id: row.get(1)?,
                first_page: row.get(2)?,
                n_pages: row.get(3)?,
                doc_type: row.get(4)?,
                type_by_operator: row.get::<_, String>(5)? == "operator",
                patient: StoredPatient {
                    mrn: row.get(6)?,
                    last: row.get(7)?,
                    first: row.get(8)?,
                    dob: row.get(9)?,
                    index_match: row.get(10)?,
                },
                patient_by_operator: row.get::<_, String>(11)? == "operator",
                reviewed: row.get(12)?,
            });
        }
    }
    Ok(files)
}

/// Which of a document's machine values to write.
#[derive(Debug, Clone, Copy)]
pub struct Keep {
    pub doc_type: bool,
    pub patient: bool,
}

/// Writes the machine's new values of document `id` (leaving the kept ones), and replaces its
/// open findings.
pub fn update_document(
    tx: &Transaction<'_>,
    id: i64,
    new: &NewDocument,
    keep: Keep,
    at: &str,
) -> anyhow::Result<()> {
    if !keep.doc_type {
        let class = &new.classification;
        tx.prepare_cached(
            "UPDATE documents SET doc_type = ?2, doc_type_confidence = ?3, doc_type_reason = ?4, doc_type_model = ?5
             WHERE id = ?1",
        )?
        .execute(params![
            id,
            class.doc_type,
            f64::from(class.confidence),
            class.reason,
            new.model_version
        ])?;
    }
    if !keep.patient {
        let p = &new.patient;
        tx.prepare_cached(
            "UPDATE documents SET patient_mrn = ?2, patient_last = ?3, patient_first = ?4, patient_dob = ?5,
                    patient_confidence = ?6, patient_evidence = ?7, patient_match = ?8, patient_source = ?9
             WHERE id = ?1",
        )?
        .execute(params![
            id,
            p.mrn,
            p.last,
            p.first,
            p.dob,
            p.confidence.map(f64::from),
            p.evidence,
            p.index_match,
            p.source
        ])?;
    }
    tx.prepare_cached("DELETE FROM findings WHERE document_id = ?1 AND resolved_at IS NULL")?
        .execute([id])?;
    for (kind, detail) in &new.findings {
        let kept = (keep.doc_type && kind == "doc_type") || (keep.patient && kind != "doc_type");
        if !kept {
            super::write::add_finding(tx, id, kind, detail, at)?;
        }
    }
    Ok(())
}

/// Replaces the documents of file `file_id` with `new` (a different split): existing rows are
/// reused in page order, extra ones added, surplus ones removed, and every page reassigned.
/// Returns the ids of the documents now in the file.
pub fn resplit(
    tx: &Transaction<'_>,
    file_id: i64,
    old: &[StoredDocument],
    new: &[NewDocument],
    at: &str,
) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(new.len());
    for (i, document) in new.iter().enumerate() {
        let id = match old.get(i) {
            Some(stored) => {
                tx.execute(
                    "UPDATE documents SET first_page = ?2, n_pages = ?3 WHERE id = ?1",
                    params![stored.id, document.span.first_page, document.span.n_pages],
                )?;
                stored.id
            }
            None => {
                tx.execute(
                    "INSERT INTO documents (file_id, first_page, n_pages, created_at, doc_type_source, patient_source)
                     VALUES (?1, ?2, ?3, ?4, 'machine', 'machine')",
                    params![file_id, document.span.first_page, document.span.n_pages, at],
                )?;
                tx.last_insert_rowid()
            }
        };
        update_document(
            tx,
            id,
            document,
            Keep {
                doc_type: false,
                patient: false,
            },
            at,
        )?;
        tx.execute(
            "UPDATE pages SET document_id = ?2 WHERE file_id = ?1 AND page_no BETWEEN ?3 AND ?4",
            params![
                file_id,
                id,
                document.span.first_page,
                document.span.first_page + document.span.n_pages - 1
            ],
        )?;
        ids.push(id);
    }
    for surplus in old.iter().skip(new.len()) {
        tx.execute("DELETE FROM findings WHERE document_id = ?1", [surplus.id])?;
        tx.execute("DELETE FROM documents WHERE id = ?1", [surplus.id])?;
    }
    Ok(ids)
}

/// Replaces the stored pages and cover sheets of file `file_id` with ones read again from its
/// original; each page goes to the document (id, first page, pages) whose span holds it.
pub fn replace_pages(
    tx: &Transaction<'_>,
    file_id: i64,
    pages: &[PageText],
    covers: &[(u32, String)],
    documents: &[(i64, u32, u32)],
) -> anyhow::Result<()> {
    tx.execute("DELETE FROM pages WHERE file_id = ?1", [file_id])?;
    tx.execute("DELETE FROM cover_sheets WHERE file_id = ?1", [file_id])?;
    for page in pages {
        let Some(&(document_id, _, _)) = documents
            .iter()
            .find(|&&(_, first, n)| (first..first + n).contains(&page.page_no))
        else {
            bail!("file {file_id}: page {} belongs to no document", page.page_no);
        };
        super::write::insert_page(tx, file_id, document_id, page)?;
    }
    super::write::insert_cover_sheets(tx, file_id, covers)
}

/// Whether any document of these has a correction on record (a person decided something).
pub fn corrected(conn: &Connection, ids: &[i64]) -> anyhow::Result<bool> {
    if ids.is_empty() {
        return Ok(false);
    }
    let sql = format!(
        "SELECT EXISTS(SELECT 1 FROM corrections WHERE document_id IN ({}))",
        vec!["?"; ids.len()].join(",")
    );
    Ok(conn.query_row(&sql, params_from_iter(ids), |r| r.get(0))?)
}

/// Where an interrupted run of this selection stopped (the last file done), if one did.
pub fn progress(conn: &Connection, run: &str) -> anyhow::Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT last_file_id FROM reindex_progress WHERE run = ?1",
            [run],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn save_progress(tx: &Transaction<'_>, run: &str, last_file_id: i64, at: &str) -> anyhow::Result<()> {
    tx.execute(
        "INSERT INTO reindex_progress (run, last_file_id, started_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (run) DO UPDATE SET last_file_id = excluded.last_file_id",
        params![run, last_file_id, at],
    )?;
    Ok(())
}

/// The run finished: nothing to resume.
pub fn clear_progress(conn: &Connection, run: &str) -> anyhow::Result<()> {
    conn.execute("DELETE FROM reindex_progress WHERE run = ?1", [run])?;
    Ok(())
}
