//! The archive: a directory holding `chartscan.db` (SQLite: documents, pages, full-text index,
//! intake log) and `objects/`, the originals stored byte-identical under their SHA-256.
//!
//! This module is the only one that knows SQL. Writes go through [`file`], [`record_duplicate`]
//! and [`record_failure`], each one transaction, called from a single writer thread; readers
//! open their own connections. A stored original is written and fsynced before the transaction
//! that refers to it commits, so a committed row always has its original on disk.

pub mod audit;
pub mod correct;
mod integrity;
mod known;
mod models;
mod objects;
mod patients;
pub mod purge;
pub mod review;
mod query;
pub mod reindex;
mod schema;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use rusqlite::Connection;

pub use integrity::{IntegrityReport, verify_integrity};
pub use known::{KnownInMemory, KnownLookup, load_known};
pub use models::write_atomically;
pub use patients::{ImportReport, IndexLookup, import_csv, load_index, patient_count};
pub use query::{
    DocumentView, ExportRecord, FailureRow, Hit, PageView, PatientJson, SearchQuery, StationStatus, document,
    export, failures, operator_labelled, search, station_status,
};
pub use write::{
    ClaimOutcome, NewDocument, NewFile, Outcome, PatientRecord, claim_outcome, file, is_archived,
    parse_words, record_duplicate, record_failure,
};

/// The current time as the archive writes it.
pub fn timestamp_now() -> String {
    write::timestamp(chrono::Utc::now())
}

/// Where an archive lives; cheap to clone and to pass to threads.
#[derive(Debug, Clone)]
pub struct Archive {
    dir: PathBuf,
}

impl Archive {
    /// Opens the archive at `dir`, creating it (owner-only permissions) and bringing its schema
    /// up to date.
    pub fn open(dir: &Path) -> anyhow::Result<Archive> {
        create_private_dir(dir).with_context(|| format!("creating archive {}", dir.display()))?;
        create_private_dir(&dir.join("objects"))
            .with_context(|| format!("creating {}", dir.join("objects").display()))?;
        let archive = Archive {
            dir: dir.to_path_buf(),
        };
        let mut conn = archive.connect()?;
        schema::migrate(&mut conn).context("bringing the archive schema up to date")?;
        Ok(archive)
    }

    /// Opens an existing archive without creating anything (for read-only commands).
    pub fn existing(dir: &Path) -> anyhow::Result<Archive> {
        let db = dir.join("chartscan.db");
        anyhow::ensure!(
            db.is_file(),
            "no archive at {} (run `chartscan ingest` first)",
            dir.display()
        );
        Archive::open(dir)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join("chartscan.db")
    }

    /// A new connection with the archive's settings: WAL, `synchronous=FULL` (an inbox original
    /// is deleted once its row commits, so a commit must survive power loss), foreign keys on.
    pub fn connect(&self) -> anyhow::Result<Connection> {
        let path = self.db_path();
        let conn = Connection::open(&path).with_context(|| format!("opening {}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(conn)
    }

    /// Where the original with this SHA-256 is stored.
    pub fn object_path(&self, sha256: &str) -> PathBuf {
        objects::path(&self.dir, sha256)
    }

    /// Removes what writes of originals killed over an hour ago left behind; returns how many.
    pub fn sweep_stale_writes(&self) -> std::io::Result<usize> {
        objects::sweep_incoming(&self.dir, Duration::from_secs(3600))
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
