//! The patient index kept in the archive: imported from the site's CSV (`mrn, last, first,
//! dob` and optionally `sex` and `aliases`), re-imports update it, and the pipeline reads it
//! through [`IndexLookup`] (or, for re-indexing, [`load_index`] into memory) to match documents
//! to patients.

use std::io::Read;

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;

use super::write::timestamp;
use crate::identify::{
    DateReading, IndexPatient, MemoryIndex, Mrn, NameQuery, PatientIndex, PersonName, normalize_mrn,
    read_date,
};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// (CSV line number, why the row was refused).
    pub rejected: Vec<(u64, String)>,
}

#[derive(Debug, Deserialize)]
struct Row {
    mrn: String,
    last: String,
    first: String,
    dob: String,
    #[serde(default)]
    sex: Option<String>,
    #[serde(default)]
    aliases: Option<String>,
}

/// Imports (or re-imports) a patient index CSV in one transaction. Rows that cannot be read are
/// refused with their line number; the others are added or update the patient with that MRN.
pub fn import_csv(conn: &mut Connection, csv: impl Read) -> anyhow::Result<ImportReport> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(csv);
    let headers = reader.headers().context("reading the CSV header")?.clone();
    for required in ["mrn", "last", "first", "dob"] {
        if !headers.iter().any(|h| h.eq_ignore_ascii_case(required)) {
            bail!(
                "the CSV has no {required:?} column (columns: mrn, last, first, dob, optional sex and aliases)"
            );
        }
    }
    let lowered: csv::StringRecord = headers.iter().map(str::to_lowercase).collect();
    reader.set_headers(lowered);
    let today = Utc::now().date_naive();
    let now = timestamp(Utc::now());
    let mut report = ImportReport::default();
    let tx = conn.transaction()?;
    for (i, record) in reader.records().enumerate() {
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i as u64 + 2, |p| p.line());
        let row: Row = match record.and_then(|r| r.deserialize(None)) {
            Ok(row) => row,
            Err(e) => {
                report.rejected.push((line, format!("unreadable row: {e}")));
                continue;
            }
        };
        let patient = match validate(&row, today) {
            Ok(patient) => patient,
            Err(reason) => {
                report.rejected.push((line, reason));
                continue;
            }
        };
        let aliases = serde_json::to_string(
            &patient
                .aliases
                .iter()
                .map(|a| [a.last.as_str(), a.first.as_str()])
                .collect::<Vec<_>>(),
        )?;
        let sex = row.sex.filter(|s| !s.is_empty());
        let existing: Option<(String, String, String, Option<String>, String)> = tx
            .query_row(
                "SELECT last, first, dob, sex, aliases FROM patients WHERE mrn = ?1",
                [patient.mrn.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let new_values = (
            patient.name.last.clone(),
            patient.name.first.clone(),
            patient.dob.to_string(),
            sex.clone(),
            aliases.clone(),
        );
        match existing {
            Some(old) if old == new_values => report.unchanged += 1,
            Some(_) => {
                tx.execute(
                    "UPDATE patients SET last = ?2, first = ?3, dob = ?4, sex = ?5, aliases = ?6, updated_at = ?7
                     WHERE mrn = ?1",
                    params![patient.mrn.as_str(), new_values.0, new_values.1, new_values.2, sex, aliases, now],
                )?;
                report.updated += 1;
            }
            None => {
                tx.execute(
                    "INSERT INTO patients (mrn, last, first, dob, sex, aliases, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        patient.mrn.as_str(),
                        new_values.0,
                        new_values.1,
                        new_values.2,
                        sex,
                        aliases,
                        now
                    ],
                )?;
                report.added += 1;
            }
        }
    }
    tx.commit()?;
    Ok(report)
}

fn validate(row: &Row, today: NaiveDate) -> Result<IndexPatient, String> {
    let mrn = normalize_mrn(&row.mrn);
    if mrn.is_empty() {
        return Err("no MRN".into());
    }
    let name = PersonName::parse(&format!("{}, {}", row.last, row.first))
        .ok_or_else(|| "the last and first names are not a person's name".to_string())?;
    let dob = match read_date(&row.dob, today) {
        Some(DateReading::Valid(dob)) if dob <= today => dob,
        Some(DateReading::Valid(_)) => return Err("the date of birth is in the future".into()),
        _ => return Err("the date of birth is not a date".into()),
    };
    let aliases = row
        .aliases
        .as_deref()
        .unwrap_or("")
        .split([';', '|'])
        .filter(|a| !a.trim().is_empty())
        .map(|a| {
            PersonName::parse(a)
                .ok_or_else(|| "an alias is not a person's name (use \"Last, First\")".to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(IndexPatient {
        mrn: Mrn::from_normalized(&mrn),
        name,
        dob,
        aliases,
    })
}

/// How many patients the index holds.
pub fn patient_count(conn: &Connection) -> anyhow::Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM patients", [], |r| r.get(0))?)
}

/// The patient index, read from the archive's database.
pub struct IndexLookup<'a> {
    pub conn: &'a Connection,
}

/// The columns a patient is read from, in [`patient_from`]'s order.
const PATIENT_COLUMNS: &str = "mrn, last, first, dob, aliases";

/// A patient from a row of `SELECT {PATIENT_COLUMNS}` (aliases as a JSON list of
/// `[last, first]`); `None` for a stored birth date that does not parse.
pub(super) fn patient_from(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<IndexPatient>> {
    let (mrn, last, first, dob, aliases): (String, String, String, String, String) =
        (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?);
    let Ok(dob) = dob.parse() else {
        return Ok(None);
    };
    let aliases: Vec<[String; 2]> = serde_json::from_str(&aliases).unwrap_or_default();
    Ok(Some(IndexPatient {
        mrn: Mrn::from_normalized(&mrn),
        name: PersonName { last, first },
        dob,
        aliases: aliases
            .into_iter()
            .map(|[last, first]| PersonName { last, first })
            .collect(),
    }))
}

/// The whole patient index in memory (for matching many documents from several threads);
/// `None` when none is loaded.
pub fn load_index(conn: &Connection) -> anyhow::Result<Option<MemoryIndex>> {
    let mut stmt = conn.prepare(&format!("SELECT {PATIENT_COLUMNS} FROM patients"))?;
    let patients = stmt
        .query_map([], patient_from)?
        .filter_map(Result::transpose)
        .collect::<rusqlite::Result<Vec<IndexPatient>>>()?;
    Ok((!patients.is_empty()).then(|| MemoryIndex::new(patients)))
}

impl IndexLookup<'_> {
    fn query(&self, column: &str, param: &str) -> Vec<IndexPatient> {
        let result = (|| -> rusqlite::Result<Vec<IndexPatient>> {
            let sql = format!("SELECT {PATIENT_COLUMNS} FROM patients WHERE {column} = ?1");
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map([param], patient_from)?;
            Ok(rows.filter_map(Result::ok).flatten().collect())
        })();
        result.unwrap_or_default()
    }
}

impl PatientIndex for IndexLookup<'_> {
    fn by_mrn(&self, mrn: &Mrn) -> Option<IndexPatient> {
        self.query("mrn", mrn.as_str()).into_iter().next()
    }

    fn by_dob(&self, dob: NaiveDate) -> Vec<IndexPatient> {
        self.query("dob", &dob.to_string())
    }

    /// Looks through the whole index: a name is compared up to OCR slips and accents, which no
    /// SQL index serves. Each row's family name is compared where it lies, and only a row
    /// whose family name may be the one sought (or that has aliases) is read in full. Asked
    /// only for documents with neither MRN nor birth date readable.
    fn by_name(&self, name: &PersonName) -> Vec<IndexPatient> {
        let query = NameQuery::new(name);
        let result = (|| -> rusqlite::Result<Vec<IndexPatient>> {
            let mut stmt = self
                .conn
                .prepare_cached(&format!("SELECT {PATIENT_COLUMNS} FROM patients"))?;
            let mut rows = stmt.query([])?;
            let mut named = Vec::new();
            while let Some(row) = rows.next()? {
                let (last, aliases) = (row.get_ref(1)?.as_str()?, row.get_ref(4)?.as_str()?);
                if aliases == "[]" && !query.may_be_last(last) {
                    continue;
                }
                if let Some(patient) = patient_from(row)?
                    && query.matches(&patient)
                {
                    named.push(patient);
                }
            }
            Ok(named)
        })();
        result.unwrap_or_default()
    }
}
