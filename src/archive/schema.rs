//! The archive's schema as an ordered list of migrations, tracked in `PRAGMA user_version`.
//!
//! A migration is only ever appended, never edited: an archive made by an older chartscan is
//! brought forward one step at a time, each step in its own transaction.

use anyhow::{Context, bail};
use rusqlite::Connection;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: files, documents, pages with a full-text index, and the intake log.
    r#"
    CREATE TABLE files (
        id          INTEGER PRIMARY KEY,
        sha256      TEXT    NOT NULL UNIQUE,
        size        INTEGER NOT NULL,
        source_name TEXT    NOT NULL,
        media_type  TEXT    NOT NULL,
        n_pages     INTEGER NOT NULL,
        ingested_at TEXT    NOT NULL
    );
    CREATE TABLE documents (
        id                  INTEGER PRIMARY KEY,
        file_id             INTEGER NOT NULL REFERENCES files(id),
        first_page          INTEGER NOT NULL,
        n_pages             INTEGER NOT NULL,
        doc_type            TEXT,
        doc_type_confidence REAL,
        created_at          TEXT    NOT NULL
    );
    CREATE INDEX documents_file ON documents(file_id, first_page);
    CREATE TABLE pages (
        id             INTEGER PRIMARY KEY,
        file_id        INTEGER NOT NULL REFERENCES files(id),
        document_id    INTEGER NOT NULL REFERENCES documents(id),
        page_no        INTEGER NOT NULL,
        text           TEXT    NOT NULL,
        text_source    TEXT    NOT NULL CHECK (text_source IN ('ocr', 'text_layer')),
        ocr_confidence REAL,
        dpi            INTEGER,
        width          INTEGER NOT NULL,
        height         INTEGER NOT NULL,
        UNIQUE (file_id, page_no)
    );
    CREATE INDEX pages_document ON pages(document_id, page_no);
    CREATE VIRTUAL TABLE pages_fts USING fts5(
        text, content = 'pages', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER pages_fts_insert AFTER INSERT ON pages BEGIN
        INSERT INTO pages_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER pages_fts_delete AFTER DELETE ON pages BEGIN
        INSERT INTO pages_fts(pages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    CREATE TRIGGER pages_fts_update AFTER UPDATE OF text ON pages BEGIN
        INSERT INTO pages_fts(pages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO pages_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TABLE intake (
        id          INTEGER PRIMARY KEY,
        at          TEXT    NOT NULL,
        source_name TEXT    NOT NULL,
        source_path TEXT    NOT NULL,
        sha256      TEXT,
        size        INTEGER,
        outcome     TEXT    NOT NULL CHECK (outcome IN ('filed', 'duplicate', 'failed')),
        file_id     INTEGER REFERENCES files(id),
        stage       TEXT,
        error_kind  TEXT,
        reason      TEXT
    );
    CREATE INDEX intake_outcome ON intake(outcome, id);
    CREATE INDEX intake_sha256 ON intake(sha256);
    "#,
    // 2: document types (with who decided them and why) and findings that need a person.
    r#"
    ALTER TABLE documents ADD COLUMN doc_type_reason TEXT;
    ALTER TABLE documents ADD COLUMN doc_type_source TEXT NOT NULL DEFAULT 'machine'
        CHECK (doc_type_source IN ('machine', 'operator'));
    ALTER TABLE documents ADD COLUMN doc_type_model TEXT;
    CREATE INDEX documents_type ON documents(doc_type);
    CREATE TABLE findings (
        id          INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id),
        kind        TEXT    NOT NULL,
        detail      TEXT    NOT NULL,
        created_at  TEXT    NOT NULL,
        resolved_at TEXT
    );
    CREATE INDEX findings_document ON findings(document_id);
    "#,
    // 3: the patient index, each document's patient (as read, or as matched in the index) and
    // the cover sheets that introduced documents.
    r#"
    CREATE TABLE patients (
        mrn        TEXT PRIMARY KEY,
        last       TEXT NOT NULL,
        first      TEXT NOT NULL,
        dob        TEXT NOT NULL,
        sex        TEXT,
        aliases    TEXT NOT NULL DEFAULT '[]',
        updated_at TEXT NOT NULL
    );
    CREATE INDEX patients_dob ON patients(dob);
    ALTER TABLE documents ADD COLUMN patient_mrn TEXT;
    ALTER TABLE documents ADD COLUMN patient_last TEXT;
    ALTER TABLE documents ADD COLUMN patient_first TEXT;
    ALTER TABLE documents ADD COLUMN patient_dob TEXT;
    ALTER TABLE documents ADD COLUMN patient_confidence REAL;
    ALTER TABLE documents ADD COLUMN patient_evidence TEXT;
    ALTER TABLE documents ADD COLUMN patient_match TEXT;
    ALTER TABLE documents ADD COLUMN patient_source TEXT NOT NULL DEFAULT 'machine'
        CHECK (patient_source IN ('machine', 'cover_sheet', 'index', 'operator'));
    CREATE INDEX documents_mrn ON documents(patient_mrn);
    CREATE TABLE cover_sheets (
        file_id INTEGER NOT NULL REFERENCES files(id),
        page_no INTEGER NOT NULL,
        payload TEXT    NOT NULL,
        PRIMARY KEY (file_id, page_no)
    );
    "#,
    // 4: the daemon's claim token on each intake row, so a restarted daemon knows which files
    // in processing/ were already committed.
    r#"
    ALTER TABLE intake ADD COLUMN claim TEXT;
    CREATE INDEX intake_claim ON intake(claim);
    "#,
    // 5: page clean-up and quality: what was done to each scanned page, how well it read, its
    // words with boxes (JSON: [[left, top, right, bottom, confidence, text], ...]).
    r#"
    ALTER TABLE pages ADD COLUMN rotation INTEGER NOT NULL DEFAULT 0 CHECK (rotation IN (0, 90, 180, 270));
    ALTER TABLE pages ADD COLUMN skew REAL;
    ALTER TABLE pages ADD COLUMN dpi_estimated INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE pages ADD COLUMN normalized INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE pages ADD COLUMN blank INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE pages ADD COLUMN low_confidence_share REAL;
    ALTER TABLE pages ADD COLUMN needs_rescan INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE pages ADD COLUMN words TEXT;
    ALTER TABLE pages ADD COLUMN preprocess_ms REAL;
    ALTER TABLE pages ADD COLUMN ocr_ms REAL;
    CREATE INDEX pages_needs_rescan ON pages(needs_rescan) WHERE needs_rescan = 1;
    "#,
    // 6: the audit trail, append-only and chained by hash (see archive::audit).
    r#"
    CREATE TABLE audit (
        id           INTEGER PRIMARY KEY,
        at           TEXT NOT NULL,
        os_user      TEXT NOT NULL,
        action       TEXT NOT NULL,
        document_ids TEXT NOT NULL,
        detail       TEXT NOT NULL,
        prev_hash    TEXT NOT NULL,
        hash         TEXT NOT NULL
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    "#,
    // 7: when a person reviewed a document (it leaves the review queue).
    r#"
    ALTER TABLE documents ADD COLUMN reviewed_at TEXT;
    "#,
    // 8: operator corrections, as human decisions.
    r#"
    CREATE TABLE corrections (
        id          INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id),
        at          TEXT    NOT NULL,
        os_user     TEXT    NOT NULL,
        field       TEXT    NOT NULL,
        old_value   TEXT,
        new_value   TEXT    NOT NULL
    );
    CREATE INDEX corrections_document ON corrections(document_id);
    "#,
    // 9: where an interrupted re-index stopped, by its selection, so running it again resumes.
    r#"
    CREATE TABLE reindex_progress (
        run          TEXT    PRIMARY KEY,
        last_file_id INTEGER NOT NULL,
        started_at   TEXT    NOT NULL
    );
    CREATE INDEX documents_file_type ON documents(doc_type, file_id);
    "#,
    // Patients the archive's documents know, looked up by family name (a faded label filled in
    // from another document of the same patient).
    r#"
    CREATE INDEX documents_last ON documents(patient_last COLLATE NOCASE);
    "#,
];

/// The schema version this build writes.
pub const VERSION: usize = MIGRATIONS.len();

pub fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let current = usize::try_from(current).unwrap_or(0);
    if current > VERSION {
        bail!(
            "the archive has schema version {current}, newer than this chartscan understands ({VERSION}); upgrade chartscan"
        );
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .with_context(|| format!("migration to schema version {}", version + 1))?;
        tx.pragma_update(None, "user_version", (version + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_a_new_database_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version as usize, VERSION);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", VERSION as i64 + 1)
            .unwrap();
        assert!(migrate(&mut conn).is_err());
    }
}
