//! Matching a document's identifiers against the patient index (the master patient index a
//! records office keeps): exact MRN; an MRN one OCR slip away, confirmed by name and date of
//! birth; or name and date of birth when the MRN is unreadable. Anything else, and anything
//! that contradicts the index, is an orphan for a person to resolve.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{Mrn, PatientIds, PersonName, edit_distance};

/// A patient as the index knows them. Patient data: `Debug` prints a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct IndexPatient {
    pub mrn: Mrn,
    pub name: PersonName,
    pub dob: NaiveDate,
    /// Other names the patient is known by (maiden names, spellings).
    pub aliases: Vec<PersonName>,
}

impl std::fmt::Debug for IndexPatient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IndexPatient(**)")
    }
}

/// Read access to a patient index.
pub trait PatientIndex {
    fn by_mrn(&self, mrn: &Mrn) -> Option<IndexPatient>;
    fn by_dob(&self, dob: NaiveDate) -> Vec<IndexPatient>;
}

/// How a document was tied to a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchBasis {
    Mrn,
    /// The MRN read was one character off the index's, and name and date of birth agree.
    MrnOcrWithNameAndDob,
    NameAndDob,
}

impl MatchBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchBasis::Mrn => "mrn",
            MatchBasis::MrnOcrWithNameAndDob => "mrn_ocr_name_dob",
            MatchBasis::NameAndDob => "name_dob",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexMatch {
    Matched {
        patient: IndexPatient,
        basis: MatchBasis,
    },
    /// No patient, or a contradiction; the reason is for a person.
    Orphan { reason: String },
}

pub fn match_patient(index: &dyn PatientIndex, ids: &PatientIds) -> IndexMatch {
    let orphan = |reason: &str| IndexMatch::Orphan {
        reason: reason.to_string(),
    };
    let name = ids.name.as_ref().map(|n| &n.value);
    let dob = ids.dob.as_ref().map(|d| *d.value.expose());
    if let Some(mrn) = ids.mrn.as_ref().map(|m| &m.value) {
        if let Some(patient) = index.by_mrn(mrn) {
            if dob.is_some_and(|d| d != patient.dob) {
                return orphan("the MRN belongs to a patient with another date of birth");
            }
            if name.is_some_and(|n| !same_person_name(n, &patient)) {
                return orphan("the MRN belongs to a patient with another name");
            }
            return IndexMatch::Matched {
                patient,
                basis: MatchBasis::Mrn,
            };
        }
        // One OCR slip away from a patient whose name and date of birth agree.
        if let (Some(name), Some(dob)) = (name, dob) {
            let near: Vec<IndexPatient> = index
                .by_dob(dob)
                .into_iter()
                .filter(|p| edit_distance(p.mrn.as_str(), mrn.as_str()) <= 1 && same_person_name(name, p))
                .collect();
            if let [patient] = near.as_slice() {
                return IndexMatch::Matched {
                    patient: patient.clone(),
                    basis: MatchBasis::MrnOcrWithNameAndDob,
                };
            }
            if by_name_and_dob(index, name, dob).len() == 1 {
                return orphan(
                    "the MRN is not in the index, but the name and date of birth are another MRN's",
                );
            }
        }
        return orphan("the MRN is not in the patient index");
    }
    match (name, dob) {
        (Some(name), Some(dob)) => match by_name_and_dob(index, name, dob).as_slice() {
            [patient] => IndexMatch::Matched {
                patient: patient.clone(),
                basis: MatchBasis::NameAndDob,
            },
            [] => orphan("no patient in the index has this name and date of birth"),
            _ => orphan("several patients in the index share this name and date of birth"),
        },
        _ => orphan("too few identifiers to match (no MRN, and not both name and date of birth)"),
    }
}

fn by_name_and_dob(index: &dyn PatientIndex, name: &PersonName, dob: NaiveDate) -> Vec<IndexPatient> {
    index
        .by_dob(dob)
        .into_iter()
        .filter(|p| same_person_name(name, p))
        .collect()
}

/// The read name is the patient's (or an alias), allowing one OCR slip in each part.
fn same_person_name(read: &PersonName, patient: &IndexPatient) -> bool {
    let close = |a: &str, b: &str| {
        let (a, b) = (super::fold_name(a), super::fold_name(b));
        a == b || (a.len() >= 4 && edit_distance(&a, &b) <= 1)
    };
    std::iter::once(&patient.name)
        .chain(&patient.aliases)
        .any(|known| close(&read.last, &known.last) && close(&read.first, &known.first))
}

/// A patient index held in memory (tests, and small sites' imports before they are stored).
#[derive(Debug, Clone, Default)]
pub struct MemoryIndex {
    by_mrn: HashMap<Mrn, IndexPatient>,
    by_dob: HashMap<NaiveDate, Vec<Mrn>>,
}

impl MemoryIndex {
    pub fn new(patients: impl IntoIterator<Item = IndexPatient>) -> MemoryIndex {
        let by_mrn: HashMap<Mrn, IndexPatient> = patients.into_iter().map(|p| (p.mrn.clone(), p)).collect();
        let mut by_dob: HashMap<NaiveDate, Vec<Mrn>> = HashMap::new();
        for patient in by_mrn.values() {
            by_dob.entry(patient.dob).or_default().push(patient.mrn.clone());
        }
        MemoryIndex { by_mrn, by_dob }
    }
}

impl PatientIndex for MemoryIndex {
    fn by_mrn(&self, mrn: &Mrn) -> Option<IndexPatient> {
        self.by_mrn.get(mrn).cloned()
    }

    fn by_dob(&self, dob: NaiveDate) -> Vec<IndexPatient> {
        self.by_dob
            .get(&dob)
            .into_iter()
            .flatten()
            .filter_map(|mrn| self.by_mrn.get(mrn).cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identify::Found;
    use crate::model::Phi;

    fn patient(mrn: &str, last: &str, first: &str, dob: &str) -> IndexPatient {
        IndexPatient {
            mrn: Mrn::from_normalized(mrn),
            name: PersonName {
                last: last.into(),
                first: first.into(),
            },
            dob: dob.parse().unwrap(),
            aliases: Vec::new(),
        }
    }

    fn index() -> MemoryIndex {
        MemoryIndex::new([
            patient("MR493223", "Cruickshank", "Sidney", "1964-05-27"),
            patient("MR493224", "Okafor", "Ines", "1970-01-01"),
            patient("E8469421", "Cruickshank", "Virgil", "1957-02-02"),
            patient("E8018374", "O'Keefe", "Elicia", "1936-11-19"),
            patient("6447548", "Brekke", "Niki", "1936-11-19"),
        ])
    }

    fn ids(mrn: Option<&str>, name: Option<(&str, &str)>, dob: Option<&str>) -> PatientIds {
        PatientIds {
            mrn: mrn.map(|m| Found {
                value: Mrn::from_normalized(m),
                confidence: 0.9,
                page_no: 1,
            }),
            name: name.map(|(l, f)| Found {
                value: PersonName {
                    last: l.into(),
                    first: f.into(),
                },
                confidence: 0.9,
                page_no: 1,
            }),
            dob: dob.map(|d| Found {
                value: Phi::new(d.parse().unwrap()),
                confidence: 0.9,
                page_no: 1,
            }),
            findings: Vec::new(),
        }
    }

    fn basis(m: &IndexMatch) -> Option<(&str, MatchBasis)> {
        match m {
            IndexMatch::Matched { patient, basis } => Some((patient.mrn.as_str(), *basis)),
            IndexMatch::Orphan { .. } => None,
        }
    }

    #[test]
    fn exact_mrn_matches_and_a_contradiction_is_an_orphan() {
        let index = index();
        let m = match_patient(
            &index,
            &ids(
                Some("MR493223"),
                Some(("CRUICKSHANK", "Sidney")),
                Some("1964-05-27"),
            ),
        );
        assert_eq!(basis(&m), Some(("MR493223", MatchBasis::Mrn)));
        let m = match_patient(&index, &ids(Some("MR493223"), None, Some("1957-02-02")));
        assert!(
            matches!(m, IndexMatch::Orphan { ref reason } if reason.contains("another date of birth")),
            "{m:?}"
        );
        let m = match_patient(&index, &ids(Some("MR493223"), Some(("Okafor", "Ines")), None));
        assert!(
            matches!(m, IndexMatch::Orphan { ref reason } if reason.contains("another name")),
            "{m:?}"
        );
    }

    #[test]
    fn one_ocr_slip_needs_name_and_birth_date_to_agree() {
        let index = index();
        let m = match_patient(
            &index,
            &ids(
                Some("MR493228"),
                Some(("Cruickshank", "Sidney")),
                Some("1964-05-27"),
            ),
        );
        assert_eq!(basis(&m), Some(("MR493223", MatchBasis::MrnOcrWithNameAndDob)));
        // One slip from two MRNs, but only one patient has this name and date of birth.
        let m = match_patient(
            &index,
            &ids(Some("MR493220"), Some(("Okafor", "Ines")), Some("1970-01-01")),
        );
        assert_eq!(basis(&m), Some(("MR493224", MatchBasis::MrnOcrWithNameAndDob)));
        let m = match_patient(&index, &ids(Some("MR493228"), None, Some("1964-05-27")));
        assert!(
            matches!(m, IndexMatch::Orphan { .. }),
            "without the name it is not enough"
        );
    }

    #[test]
    fn name_and_birth_date_when_the_mrn_is_unreadable() {
        let index = index();
        let m = match_patient(&index, &ids(None, Some(("Brekke", "Niki")), Some("1936-11-19")));
        assert_eq!(basis(&m), Some(("6447548", MatchBasis::NameAndDob)));
        let m = match_patient(&index, &ids(None, Some(("Brekke", "Nikki")), Some("1936-11-19")));
        assert_eq!(
            basis(&m),
            Some(("6447548", MatchBasis::NameAndDob)),
            "one slip in a name part is allowed"
        );
        let m = match_patient(&index, &ids(None, Some(("Brekke", "Niki")), None));
        assert!(
            matches!(m, IndexMatch::Orphan { ref reason } if reason.starts_with("too few")),
            "{m:?}"
        );
        let m = match_patient(
            &index,
            &ids(Some("9999999"), Some(("Brekke", "Niki")), Some("1936-11-19")),
        );
        assert!(
            matches!(m, IndexMatch::Orphan { ref reason } if reason.contains("another MRN")),
            "{m:?}"
        );
    }
}
