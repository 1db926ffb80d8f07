//! The review queue: documents that need a person, each with why, oldest first; and
//! accepting a document, which confirms the machine's values (its type becomes an operator's
//! decision and training data) and closes its findings. Every acceptance is audited.

use anyhow::bail;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

/// One document waiting for a person.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem {
    pub document_id: i64,
    pub created_at: String,
    pub doc_type: Option<String>,
    /// Why, in words an operator reads: no patient data, only kinds and counts.
    pub reasons: Vec<String>,
}

/// Everything unreviewed that needs a person, oldest first.
pub fn queue(conn: &Connection) -> anyhow::Result<Vec<ReviewItem>> {
    let mut stmt = conn.prepare(
        "SELECT d.id, d.created_at, d.doc_type,
                d.doc_type IS NULL OR d.doc_type = 'unknown',
                d.patient_mrn IS NULL AND d.patient_last IS NULL,
                coalesce(d.patient_match, '') = 'orphan',
                (SELECT group_concat(DISTINCT f.kind) FROM findings f
                  WHERE f.document_id = d.id AND f.resolved_at IS NULL
                    AND NOT (f.kind = 'patient' AND f.detail = ?1)),
                (SELECT count(*) FROM pages p WHERE p.document_id = d.id AND p.needs_rescan = 1)
         FROM documents d
         WHERE d.reviewed_at IS NULL
         ORDER BY d.created_at, d.id",
    )?;
    let rows = stmt.query_map([crate::model::NO_IDENTIFIERS], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, bool>(3)?,
            r.get::<_, bool>(4)?,
            r.get::<_, bool>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, i64>(7)?,
        ))
    })?;
    let mut items = Vec::new();
    for row in rows {
        let (document_id, created_at, doc_type, untyped, no_patient, orphan, kinds, rescan) = row?;
        let kinds: Vec<String> = kinds
            .map(|k| k.split(',').map(str::to_string).collect())
            .unwrap_or_default();
        let mut reasons = Vec::new();
        let type_finding = kinds.iter().any(|k| k == "doc_type");
        if doc_type.as_deref() == Some(crate::classify::OTHER) && type_finding {
            reasons.push("not a clinical record".to_string());
        } else if untyped || type_finding {
            reasons.push("low type confidence".to_string());
        }
        if no_patient {
            reasons.push("no patient found".to_string());
        }
        if orphan {
            reasons.push("orphan: matches no one in the patient index, or contradicts it".to_string());
        }
        if kinds.iter().any(|k| k == "patient") {
            reasons.push("conflicting or doubtful identifiers".to_string());
        }
        for kind in kinds
            .iter()
            .filter(|k| !matches!(k.as_str(), "doc_type" | "patient"))
        {
            reasons.push(format!("finding: {kind}"));
        }
        if rescan > 0 {
            reasons.push(format!("{rescan} page(s) need a rescan"));
        }
        if !reasons.is_empty() {
            items.push(ReviewItem {
                document_id,
                created_at,
                doc_type,
                reasons,
            });
        }
    }
    Ok(items)
}

/// Confirms the machine's values of a document: its known type becomes an operator's decision,
/// its findings are closed, and it leaves the queue.
pub fn accept(conn: &mut Connection, document_id: i64, now: &str) -> anyhow::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: Option<(Option<String>, Option<String>)> = tx
        .query_row(
            "SELECT doc_type, reviewed_at FROM documents WHERE id = ?1",
            [document_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((doc_type, reviewed)) = found else {
        bail!("no document {document_id}");
    };
    if reviewed.is_some() {
        bail!("document {document_id} was already reviewed");
    }
    tx.execute(
        "UPDATE documents SET reviewed_at = ?2,
                doc_type_source = CASE WHEN ?3 THEN 'operator' ELSE doc_type_source END
         WHERE id = ?1",
        params![
            document_id,
            now,
            doc_type.as_deref().is_some_and(|t| t != crate::classify::UNKNOWN)
        ],
    )?;
    let closed = tx.execute(
        "UPDATE findings SET resolved_at = ?2 WHERE document_id = ?1 AND resolved_at IS NULL",
        params![document_id, now],
    )?;
    let detail = serde_json::json!({"confirmed_type": doc_type, "findings_closed": closed});
    super::audit::append(&tx, "review_accept", &[document_id], detail, now)?;
    tx.commit()?;
    Ok(())
}
