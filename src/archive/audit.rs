//! The audit trail: one append-only row per access to or change of patient records (ingest,
//! show, search, export, ...), chained by hash so that an edited, inserted or removed row is
//! detected; the database itself refuses UPDATE and DELETE on the table (triggers).
//!
//! Rows hold document ids and hashes, never patient data: a search's text is stored as its
//! SHA-256.

use anyhow::Context;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash the first row chains to.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit row.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub os_user: String,
    pub action: String,
    /// JSON array of document ids.
    pub document_ids: String,
    /// JSON object of details (hashes, counts; never patient data).
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Who is running this process, as the OS knows them.
pub fn os_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// SHA-256 of a text (a search query), hex.
pub fn text_hash(text: &str) -> String {
    crate::intake::sha256_hex(text.as_bytes())
}

fn row_hash(prev: &str, id: i64, at: &str, user: &str, action: &str, ids: &str, detail: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [prev, &id.to_string(), at, user, action, ids, detail] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Appends a row inside the caller's transaction (so the record and its audit commit together).
pub fn append(
    conn: &Connection,
    action: &str,
    document_ids: &[i64],
    detail: serde_json::Value,
    at: &str,
) -> anyhow::Result<()> {
    let last: Option<(i64, String)> = conn
        .query_row("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let (id, prev) = match last {
        Some((id, hash)) => (id + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    let user = os_user();
    let ids = serde_json::to_string(document_ids)?;
    let detail = detail.to_string();
    let hash = row_hash(&prev, id, at, &user, action, &ids, &detail);
    conn.execute(
        "INSERT INTO audit (id, at, os_user, action, document_ids, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![id, at, user, action, ids, detail, prev, hash],
    )
    .context("writing the audit trail")?;
    Ok(())
}

/// Appends a row in a transaction of its own (reads: show, search, export).
pub fn record(
    conn: &mut Connection,
    action: &str,
    document_ids: &[i64],
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    append(
        &tx,
        action,
        document_ids,
        detail,
        &super::write::timestamp(chrono::Utc::now()),
    )?;
    tx.commit()?;
    Ok(())
}

/// Rows, oldest first, optionally only those naming a document or since a time (RFC 3339
/// prefix compare, e.g. `2026-11-24`).
pub fn list(conn: &Connection, document: Option<i64>, since: Option<&str>) -> anyhow::Result<Vec<AuditRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, at, os_user, action, document_ids, detail, prev_hash, hash FROM audit
         WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM json_each(audit.document_ids) WHERE value = ?1))
           AND (?2 IS NULL OR at >= ?2)
         ORDER BY id",
    )?;
    let rows = stmt
        .query_map(params![document, since], |r| {
            Ok(AuditRow {
                id: r.get(0)?,
                at: r.get(1)?,
                os_user: r.get(2)?,
                action: r.get(3)?,
                document_ids: r.get(4)?,
                detail: r.get(5)?,
                prev_hash: r.get(6)?,
                hash: r.get(7)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Walks the chain; each problem found, as a sentence naming the row. Empty: intact.
pub fn verify(conn: &Connection) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut expected_prev = GENESIS.to_string();
    let mut expected_id = 1;
    for row in list(conn, None, None)? {
        if row.id != expected_id {
            problems.push(format!("row {expected_id} to {} missing (removed)", row.id - 1));
        }
        if row.prev_hash != expected_prev {
            problems.push(format!(
                "row {} does not follow the row before it (a row removed or inserted)",
                row.id
            ));
        }
        let hash = row_hash(
            &row.prev_hash,
            row.id,
            &row.at,
            &row.os_user,
            &row.action,
            &row.document_ids,
            &row.detail,
        );
        if hash != row.hash {
            problems.push(format!("row {} was changed after it was written", row.id));
        }
        expected_prev = row.hash;
        expected_id = row.id + 1;
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let archive = super::super::Archive::open(dir.path()).unwrap();
        let conn = archive.connect().unwrap();
        (dir, conn)
    }

    #[test]
    fn the_chain_verifies_and_rows_cannot_be_updated_or_deleted() {
        let (_dir, mut conn) = archive();
        record(&mut conn, "show", &[3], serde_json::json!({})).unwrap();
        record(
            &mut conn,
            "search",
            &[3, 4],
            serde_json::json!({"query_sha256": text_hash("x")}),
        )
        .unwrap();
        assert!(verify(&conn).unwrap().is_empty());
        assert_eq!(list(&conn, Some(4), None).unwrap().len(), 1);
        assert!(conn.execute("UPDATE audit SET action = 'nothing'", []).is_err());
        assert!(conn.execute("DELETE FROM audit WHERE id = 1", []).is_err());
    }

    #[test]
    fn an_edited_or_removed_row_is_detected() {
        let (_dir, mut conn) = archive();
        for id in 1..=3 {
            record(&mut conn, "show", &[id], serde_json::json!({})).unwrap();
        }
        conn.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
            .unwrap();
        conn.execute("UPDATE audit SET document_ids = '[9]' WHERE id = 2", [])
            .unwrap();
        let problems = verify(&conn).unwrap();
        assert_eq!(problems, ["row 2 was changed after it was written"]);
        conn.execute("DELETE FROM audit WHERE id = 2", []).unwrap();
        let problems = verify(&conn).unwrap();
        assert!(problems.iter().any(|p| p.contains("missing")), "{problems:?}");
    }
}
