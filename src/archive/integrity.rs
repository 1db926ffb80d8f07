//! `chartscan verify`: every stored original re-hashed against its recorded SHA-256, and
//! SQLite's own integrity check. Problems name file ids and hashes, never file names.

use anyhow::Context;
use rusqlite::Connection;

use super::Archive;

#[derive(Debug, Default)]
pub struct IntegrityReport {
    pub files_checked: usize,
    pub problems: Vec<String>,
}

pub fn verify_integrity(archive: &Archive, conn: &Connection) -> anyhow::Result<IntegrityReport> {
    let mut report = IntegrityReport::default();
    let mut stmt = conn.prepare("SELECT id, sha256, size FROM files ORDER BY id")?;
    let files = stmt
        .query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (id, sha256, size) in files {
        report.files_checked += 1;
        let path = archive.object_path(&sha256);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let actual = crate::intake::sha256_hex(&bytes);
                if actual != sha256 {
                    report.problems.push(format!(
                        "file {id}: stored original {sha256} does not match its hash (now {actual}, {} bytes, recorded {size})",
                        bytes.len()
                    ));
                }
            }
            Err(e) => report.problems.push(format!(
                "file {id}: stored original {sha256} cannot be read ({})",
                e.kind()
            )),
        }
    }
    let checks: Vec<String> = conn
        .prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()
        .context("running the database integrity check")?;
    if checks != ["ok"] {
        report
            .problems
            .extend(checks.into_iter().map(|c| format!("database: {c}")));
    }
    Ok(report)
}
