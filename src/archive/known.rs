//! The patients the archive's own documents identify clearly: MRN and date of birth read surely
//! off a document beside a name (with no patient index behind them), or all three set by a
//! person. With no patient index loaded, they are what a document whose MRN and date of birth
//! are both unreadable is filled in from (see [`crate::identify::match_known`]).

use std::collections::HashMap;

use rusqlite::Connection;

use super::patients::patient_from;
use crate::identify::{self, IndexPatient, KnownPatients, PersonName};

/// The documents that identify a patient clearly: every field present, and either a person's
/// decision or the machine's own sure reading of the MRN and the birth date, the values a faded
/// label is filled in with (its name, which only finds them, may have been faint). Not a match to
/// an index, nor a filling-in from other documents: no guess is built on another.
const CLEAR: &str = "patient_mrn IS NOT NULL AND patient_last IS NOT NULL AND patient_first IS NOT NULL
    AND patient_dob IS NOT NULL
    AND (patient_source = 'operator' OR (patient_match IS NULL
        AND json_extract(patient_evidence, '$.mrn.confidence') >= ?1
        AND json_extract(patient_evidence, '$.dob.confidence') >= ?1))";

/// A document's patient in [`patient_from`]'s columns (a document carries no aliases).
const PATIENT: &str = "patient_mrn, patient_last, patient_first, patient_dob, '[]'";

/// The patients of documents filed so far, looked up by family name in the database (ingest:
/// one lookup for each rare document with neither MRN nor birth date readable).
pub struct KnownLookup<'a> {
    pub conn: &'a Connection,
}

impl KnownPatients for KnownLookup<'_> {
    fn with_family_name(&self, name: &PersonName) -> Vec<IndexPatient> {
        let result = (|| -> rusqlite::Result<Vec<IndexPatient>> {
            let sql = format!(
                "SELECT DISTINCT {PATIENT} FROM documents
                 WHERE patient_last = ?2 COLLATE NOCASE AND {CLEAR}"
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params![identify::ACCEPT, name.last], patient_from)?;
            Ok(rows.filter_map(Result::ok).flatten().collect())
        })();
        result.unwrap_or_default()
    }
}

/// Every clearly identified patient of the archive in memory, by family name (re-indexing:
/// many documents from several threads).
#[derive(Debug, Default)]
pub struct KnownInMemory {
    by_last: HashMap<String, Vec<IndexPatient>>,
}

pub fn load_known(conn: &Connection) -> anyhow::Result<KnownInMemory> {
    let mut stmt = conn.prepare(&format!("SELECT DISTINCT {PATIENT} FROM documents WHERE {CLEAR}"))?;
    let mut known = KnownInMemory::default();
    for patient in stmt.query_map([identify::ACCEPT], patient_from)? {
        if let Some(patient) = patient? {
            known
                .by_last
                .entry(patient.name.last.to_lowercase())
                .or_default()
                .push(patient);
        }
    }
    Ok(known)
}

impl KnownPatients for KnownInMemory {
    fn with_family_name(&self, name: &PersonName) -> Vec<IndexPatient> {
        self.by_last
            .get(&name.last.to_lowercase())
            .cloned()
            .unwrap_or_default()
    }
}
