//! Operator corrections: a document's type or patient set by a person. Each is stored as a
//! human decision (who, when, old value, new value) in `corrections`, audited, and wins over
//! the machine from then on (`doc_type_source` / `patient_source` = `operator`).

use anyhow::bail;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// What a correction changed, for the operator's confirmation line.
#[derive(Debug, Clone)]
pub struct Corrected {
    pub field: &'static str,
    pub old: Option<String>,
    pub new: String,
    /// Set but worth a second look (an MRN the patient index does not know).
    pub flagged: Option<String>,
}

fn record(
    tx: &Connection,
    document_id: i64,
    field: &str,
    old: Option<&str>,
    new: &str,
    now: &str,
) -> anyhow::Result<()> {
    insert_correction(tx, document_id, field, old, new, now)?;
    // Values may be patient data (an MRN): the audit row names the field only.
    super::audit::append(
        tx,
        "correct",
        &[document_id],
        serde_json::json!({ "field": field }),
        now,
    )
}

/// One row of `corrections`: who decided what about a document, and when.
fn insert_correction(
    tx: &Connection,
    document_id: i64,
    field: &str,
    old: Option<&str>,
    new: &str,
    now: &str,
) -> anyhow::Result<()> {
    tx.execute(
        "INSERT INTO corrections (document_id, at, os_user, field, old_value, new_value)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![document_id, now, super::audit::os_user(), field, old, new],
    )?;
    Ok(())
}

/// A document's file and pages: (file id, first page, number of pages); an unknown id is an
/// error.
fn span(tx: &Connection, document_id: i64) -> anyhow::Result<(i64, u32, u32)> {
    match tx
        .query_row(
            "SELECT file_id, first_page, n_pages FROM documents WHERE id = ?1",
            [document_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
    {
        Some(found) => Ok(found),
        None => bail!("no document {document_id}"),
    }
}

/// A document's current value of a field (`sql` selects it by id); an unknown id is an error.
fn current(tx: &Connection, document_id: i64, sql: &str) -> anyhow::Result<Option<String>> {
    match tx.query_row(sql, [document_id], |r| r.get(0)).optional()? {
        Some(value) => Ok(value),
        None => bail!("no document {document_id}"),
    }
}

/// Sets a document's type (the caller has checked it against the taxonomy).
pub fn set_type(
    conn: &mut Connection,
    document_id: i64,
    doc_type: &str,
    now: &str,
) -> anyhow::Result<Corrected> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let old = current(&tx, document_id, "SELECT doc_type FROM documents WHERE id = ?1")?;
    tx.execute(
        "UPDATE documents SET doc_type = ?2, doc_type_confidence = 1.0, doc_type_source = 'operator',
                doc_type_reason = 'set by an operator'
         WHERE id = ?1",
        params![document_id, doc_type],
    )?;
    tx.execute(
        "UPDATE findings SET resolved_at = ?2 WHERE document_id = ?1 AND kind = 'doc_type' AND resolved_at IS NULL",
        params![document_id, now],
    )?;
    record(&tx, document_id, "doc_type", old.as_deref(), doc_type, now)?;
    tx.commit()?;
    Ok(Corrected {
        field: "doc_type",
        old,
        new: doc_type.to_string(),
        flagged: None,
    })
}

/// Files a document under the patient with this (normalised) MRN: name and date of birth come
/// from the patient index when it knows the MRN; an MRN it does not know is allowed but flagged
/// with a finding.
pub fn set_patient(
    conn: &mut Connection,
    document_id: i64,
    mrn: &str,
    now: &str,
) -> anyhow::Result<Corrected> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let old = current(
        &tx,
        document_id,
        "SELECT patient_mrn FROM documents WHERE id = ?1",
    )?;
    let known: Option<(String, String, String)> = tx
        .query_row(
            "SELECT last, first, dob FROM patients WHERE mrn = ?1",
            [mrn],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let flagged = match &known {
        Some((last, first, dob)) => {
            tx.execute(
                "UPDATE documents SET patient_mrn = ?2, patient_last = ?3, patient_first = ?4, patient_dob = ?5,
                        patient_confidence = 1.0, patient_match = 'operator', patient_source = 'operator'
                 WHERE id = ?1",
                params![document_id, mrn, last, first, dob],
            )?;
            tx.execute(
                "UPDATE findings SET resolved_at = ?2 WHERE document_id = ?1 AND kind = 'patient' AND resolved_at IS NULL",
                params![document_id, now],
            )?;
            None
        }
        None => {
            tx.execute(
                "UPDATE documents SET patient_mrn = ?2, patient_confidence = 1.0, patient_match = 'operator',
                        patient_source = 'operator'
                 WHERE id = ?1",
                params![document_id, mrn],
            )?;
            let why = "the MRN an operator set is not in the patient index";
            tx.execute(
                "INSERT INTO findings (document_id, kind, detail, created_at) VALUES (?1, 'patient', ?2, ?3)",
                params![document_id, why, now],
            )?;
            tx.execute(
                "UPDATE documents SET reviewed_at = NULL WHERE id = ?1",
                [document_id],
            )?;
            Some(why.to_string())
        }
    };
    record(&tx, document_id, "patient_mrn", old.as_deref(), mrn, now)?;
    tx.commit()?;
    Ok(Corrected {
        field: "patient_mrn",
        old,
        new: mrn.to_string(),
        flagged,
    })
}

/// Splits a document in two before its page `page` (1-based within the document, 2 or more):
/// the pages from there on become a new document with the same type and patient (and who
/// decided them), which re-indexing then leaves alone. Returns the change and the new
/// document's id.
pub fn split_at(
    conn: &mut Connection,
    document_id: i64,
    page: u32,
    now: &str,
) -> anyhow::Result<(Corrected, i64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (file_id, first, n) = span(&tx, document_id)?;
    if n < 2 {
        bail!("document {document_id} has one page: there is nothing to split");
    }
    if !(2..=n).contains(&page) {
        bail!(
            "document {document_id} has pages 1 to {n}: a split goes before one of pages 2 to {n}, not {page}"
        );
    }
    let split = first + page - 1;
    let last = first + n - 1;
    tx.execute(
        "INSERT INTO documents (file_id, first_page, n_pages, created_at, doc_type, doc_type_confidence,
                                doc_type_reason, doc_type_source, doc_type_model, patient_mrn, patient_last,
                                patient_first, patient_dob, patient_confidence, patient_evidence, patient_match,
                                patient_source, reviewed_at)
         SELECT file_id, ?2, ?3, ?4, doc_type, doc_type_confidence, doc_type_reason, doc_type_source,
                doc_type_model, patient_mrn, patient_last, patient_first, patient_dob, patient_confidence,
                patient_evidence, patient_match, patient_source, reviewed_at
         FROM documents WHERE id = ?1",
        params![document_id, split, last - split + 1, now],
    )?;
    let new_id = tx.last_insert_rowid();
    tx.execute(
        "UPDATE documents SET n_pages = ?2 WHERE id = ?1",
        params![document_id, page - 1],
    )?;
    tx.execute(
        "UPDATE pages SET document_id = ?2 WHERE file_id = ?1 AND page_no BETWEEN ?3 AND ?4",
        params![file_id, new_id, split, last],
    )?;
    let old = format!("pages {first}-{last}");
    let new = format!(
        "pages {first}-{} and {split}-{last} (document {new_id})",
        split - 1
    );
    for id in [document_id, new_id] {
        insert_correction(&tx, id, "split", Some(&old), &new, now)?;
    }
    super::audit::append(
        &tx,
        "correct",
        &[document_id, new_id],
        serde_json::json!({ "field": "split", "before_page": page }),
        now,
    )?;
    tx.commit()?;
    Ok((
        Corrected {
            field: "split",
            old: Some(old),
            new,
            flagged: None,
        },
        new_id,
    ))
}

/// Merges document `other` into `document_id`: two neighbouring documents of one file become
/// one (`document_id` keeps its id, type and patient; `other` is removed, its pages going to
/// `document_id`, its open findings dropped and the corrections recorded on it moved over).
pub fn merge(conn: &mut Connection, document_id: i64, other: i64, now: &str) -> anyhow::Result<Corrected> {
    if document_id == other {
        bail!("a document cannot be merged with itself");
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (file, first, n) = span(&tx, document_id)?;
    let (other_file, other_first, other_n) = span(&tx, other)?;
    if file != other_file {
        bail!(
            "documents {document_id} and {other} come from different files; only neighbouring documents of one file merge"
        );
    }
    let adjacent = first + n == other_first || other_first + other_n == first;
    if !adjacent {
        bail!("documents {document_id} and {other} are not next to each other in their file");
    }
    let (new_first, new_last) = (first.min(other_first), (first + n).max(other_first + other_n) - 1);
    tx.execute(
        "UPDATE pages SET document_id = ?1 WHERE document_id = ?2",
        params![document_id, other],
    )?;
    tx.execute(
        "UPDATE documents SET first_page = ?2, n_pages = ?3 WHERE id = ?1",
        params![document_id, new_first, new_last - new_first + 1],
    )?;
    // The decisions a person took about `other` (a split, its type) now concern the merged
    // document; its audit rows keep naming `other`.
    tx.execute(
        "UPDATE corrections SET document_id = ?1 WHERE document_id = ?2",
        params![document_id, other],
    )?;
    tx.execute("DELETE FROM findings WHERE document_id = ?1", [other])?;
    tx.execute("DELETE FROM documents WHERE id = ?1", [other])?;
    let old = format!(
        "pages {first}-{} and document {other} pages {other_first}-{}",
        first + n - 1,
        other_first + other_n - 1
    );
    let new = format!("pages {new_first}-{new_last}");
    insert_correction(&tx, document_id, "merge", Some(&old), &new, now)?;
    super::audit::append(
        &tx,
        "correct",
        &[document_id, other],
        serde_json::json!({ "field": "merge" }),
        now,
    )?;
    tx.commit()?;
    Ok(Corrected {
        field: "merge",
        old: Some(old),
        new,
        flagged: None,
    })
}
