//! Purging: destroying a record whose retention ran out. The unit is the stored file (its
//! original is one object): its documents, pages, findings, corrections and cover sheets go in
//! one transaction with an audit row naming the documents and the file's SHA-256; the intake
//! log keeps its rows, no longer pointing at a file; the original is removed after the commit.

use anyhow::bail;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params_from_iter};

use super::Archive;

/// What a purge removed (or would remove).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Purged {
    pub file_id: i64,
    pub sha256: String,
    pub document_ids: Vec<i64>,
    pub pages: i64,
}

/// The file holding document `document_id` and what purging it takes with it.
pub fn plan(conn: &Connection, document_id: i64) -> anyhow::Result<Purged> {
    let Some((file_id, sha256)) = conn
        .query_row(
            "SELECT f.id, f.sha256 FROM documents d JOIN files f ON f.id = d.file_id WHERE d.id = ?1",
            [document_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
    else {
        bail!("no document {document_id}");
    };
    let mut stmt = conn.prepare("SELECT id FROM documents WHERE file_id = ?1 ORDER BY first_page")?;
    let document_ids = stmt
        .query_map([file_id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    let pages = conn.query_row("SELECT count(*) FROM pages WHERE file_id = ?1", [file_id], |r| {
        r.get(0)
    })?;
    Ok(Purged {
        file_id,
        sha256,
        document_ids,
        pages,
    })
}

/// Purges the file holding document `document_id`, whole.
pub fn purge(
    archive: &Archive,
    conn: &mut Connection,
    document_id: i64,
    now: &str,
) -> anyhow::Result<Purged> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let purged = plan(&tx, document_id)?;
    let in_docs = vec!["?"; purged.document_ids.len()].join(",");
    for table in ["findings", "corrections"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE document_id IN ({in_docs})"),
            params_from_iter(&purged.document_ids),
        )?;
    }
    let file_id = purged.file_id;
    tx.execute("DELETE FROM pages WHERE file_id = ?1", [file_id])?;
    tx.execute("DELETE FROM cover_sheets WHERE file_id = ?1", [file_id])?;
    tx.execute("DELETE FROM documents WHERE file_id = ?1", [file_id])?;
    tx.execute("UPDATE intake SET file_id = NULL WHERE file_id = ?1", [file_id])?;
    tx.execute("DELETE FROM files WHERE id = ?1", [file_id])?;
    let detail = serde_json::json!({"file_id": file_id, "sha256": purged.sha256, "pages": purged.pages});
    super::audit::append(&tx, "purge", &purged.document_ids, detail, now)?;
    tx.commit()?;
    match std::fs::remove_file(archive.object_path(&purged.sha256)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(sha256 = %purged.sha256, error = %e, "the purged file's original could not be removed");
        }
    }
    Ok(purged)
}
