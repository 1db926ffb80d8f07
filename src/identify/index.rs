//! Matching a document's identifiers against the patient index (the master patient index a
//! records office keeps): exact MRN; an MRN one OCR slip away, confirmed by name and date of
//! birth; or name and date of birth when the MRN is unreadable; or, when neither MRN nor date of
//! birth could be read (a faded label), the one patient the index has by that name, if what
//! can be made out of both agrees with them, for a person to confirm. Anything else, and
//! anything that contradicts the index, is an orphan for a person to resolve.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{Glimpses, Mrn, PatientIds, PersonName, edit_distance, mrn};

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
    /// The patients whose name, or one of whose aliases, is `name` up to one OCR slip in each
    /// part. Asked only for documents whose MRN and date of birth were both unreadable.
    fn by_name(&self, name: &PersonName) -> Vec<IndexPatient>;
}

/// How a document was tied to a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchBasis {
    Mrn,
    /// The MRN read was one character off the index's, and name and date of birth agree.
    MrnOcrWithNameAndDob,
    NameAndDob,
    /// Neither MRN nor date of birth could be read, the name is one patient's, and what could be
    /// made out of the MRN and the date of birth agrees with that patient. For a person to
    /// confirm.
    NameAndPartialIds,
    /// As [`MatchBasis::NameAndPartialIds`], with no patient index loaded: the one patient of
    /// that name among those the archive's other documents identify clearly. For a person to
    /// confirm.
    KnownNameAndPartialIds,
}

impl MatchBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchBasis::Mrn => "mrn",
            MatchBasis::MrnOcrWithNameAndDob => "mrn_ocr_name_dob",
            MatchBasis::NameAndDob => "name_dob",
            MatchBasis::NameAndPartialIds => "name_partial_ids",
            MatchBasis::KnownNameAndPartialIds => "archive_name_partial_ids",
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
    // The read name folded once, for every patient it is compared with.
    let query = name.map(NameQuery::new);
    let dob = ids.dob.as_ref().map(|d| *d.value.expose());
    if let Some(mrn) = ids.mrn.as_ref().map(|m| &m.value) {
        if let Some(patient) = index.by_mrn(mrn) {
            if dob.is_some_and(|d| d != patient.dob) {
                return orphan("the MRN belongs to a patient with another date of birth");
            }
            if query.as_ref().is_some_and(|q| !q.matches(&patient)) {
                return orphan("the MRN belongs to a patient with another name");
            }
            return IndexMatch::Matched {
                patient,
                basis: MatchBasis::Mrn,
            };
        }
        // One OCR slip away from a patient whose name and date of birth agree.
        if let (Some(query), Some(dob)) = (&query, dob) {
            let named: Vec<IndexPatient> = by_name_and_dob(index, query, dob);
            let near: Vec<&IndexPatient> = named
                .iter()
                .filter(|p| edit_distance(p.mrn.as_str(), mrn.as_str()) <= 1)
                .collect();
            if let [patient] = near.as_slice() {
                return IndexMatch::Matched {
                    patient: (*patient).clone(),
                    basis: MatchBasis::MrnOcrWithNameAndDob,
                };
            }
            if named.len() == 1 {
                return orphan(
                    "the MRN is not in the index, but the name and date of birth are another MRN's",
                );
            }
        }
        return orphan("the MRN is not in the patient index");
    }
    match (name.zip(query.as_ref()), dob) {
        (Some((_, query)), Some(dob)) => match by_name_and_dob(index, query, dob).as_slice() {
            [patient] => IndexMatch::Matched {
                patient: patient.clone(),
                basis: MatchBasis::NameAndDob,
            },
            [] => orphan("no patient in the index has this name and date of birth"),
            _ => orphan("several patients in the index share this name and date of birth"),
        },
        (_, None) => match name_beside_glimpses(ids) {
            Some(name) => match_glimpsed(index, name, &ids.glimpses),
            None => orphan("too few identifiers to match (no MRN, and not both name and date of birth)"),
        },
        _ => orphan("too few identifiers to match (no MRN, and not both name and date of birth)"),
    }
}

/// The name a document's glimpses of MRN and birth date are matched with: the name read, or
/// one read too faintly to be the document's, which is still evidence beside the glimpses when
/// it was read one way only.
fn name_beside_glimpses(ids: &PatientIds) -> Option<&PersonName> {
    match (&ids.name, ids.glimpses.name.as_slice()) {
        (Some(read), _) => Some(&read.value),
        (None, [glimpsed, rest @ ..]) if rest.iter().all(|other| other.key() == glimpsed.key()) => {
            Some(glimpsed)
        }
        _ => None,
    }
}

/// A name with neither MRN nor date of birth readable: the patients of that name whose MRN and
/// date of birth both agree with what could be made out of them (a faded label's `ES46o4.002`
/// and `02/08`). A name alone never matches.
fn match_glimpsed(index: &dyn PatientIndex, name: &PersonName, glimpses: &Glimpses) -> IndexMatch {
    let orphan = |reason: &str| IndexMatch::Orphan {
        reason: reason.to_string(),
    };
    if glimpses.mrn.is_empty() || glimpses.dob.is_empty() {
        return orphan("too few identifiers to match (no MRN, and not both name and date of birth)");
    }
    let named = index.by_name(name);
    if named.is_empty() {
        return orphan("the MRN and date of birth are unreadable, and no patient in the index has this name");
    }
    match agreeing_with(named, glimpses).as_slice() {
        [patient] => IndexMatch::Matched {
            patient: patient.clone(),
            basis: MatchBasis::NameAndPartialIds,
        },
        [] => orphan(
            "the MRN and date of birth are unreadable, and what can be made out of them fits no patient of this name",
        ),
        _ => orphan("the MRN and date of birth are unreadable, and several patients of this name fit them"),
    }
}

/// The patients whose MRN and date of birth both agree with what was glimpsed of them.
fn agreeing_with(named: Vec<IndexPatient>, glimpses: &Glimpses) -> Vec<IndexPatient> {
    named
        .into_iter()
        .filter(|p| {
            glimpses
                .mrn
                .iter()
                .any(|g| mrn_glimpse_agrees(g.expose(), &p.mrn))
                && glimpses.dob.iter().any(|g| dob_glimpse_agrees(g.expose(), p.dob))
        })
        .collect()
}

/// The patients an archive's own documents identify clearly (MRN and date of birth read surely
/// beside a name, or all three set by a person), for filling in a document none of whose MRN and
/// date of birth can be read when no patient index is loaded.
pub trait KnownPatients {
    /// Those whose family name is `name`'s as read (any case), each once.
    fn with_family_name(&self, name: &PersonName) -> Vec<IndexPatient>;
}

/// With no patient index loaded, a document whose MRN and date of birth are both unreadable (a
/// faded label) but whose name was read, or glimpsed one way only, is the one patient
/// `known` holds by that name (given names up to one OCR slip) whose MRN and date of birth agree
/// with the glimpses of them, as [`match_patient`] decides with an index; `None` otherwise,
/// and for any document with an MRN or a date of birth of its own.
pub fn match_known(known: &dyn KnownPatients, ids: &PatientIds) -> Option<IndexPatient> {
    if ids.mrn.is_some() || ids.dob.is_some() || ids.glimpses.mrn.is_empty() || ids.glimpses.dob.is_empty() {
        return None;
    }
    let name = name_beside_glimpses(ids)?;
    let query = NameQuery::new(name);
    let mut named: Vec<IndexPatient> = known
        .with_family_name(name)
        .into_iter()
        .filter(|p| query.matches(p))
        .collect();
    named.sort_by(|a, b| (&a.mrn, a.dob).cmp(&(&b.mrn, b.dob)));
    named.dedup_by(|a, b| a.mrn == b.mrn && a.dob == b.dob);
    match agreeing_with(named, &ids.glimpses).as_slice() {
        [patient] => Some(patient.clone()),
        _ => None,
    }
}

/// Positions of two sequences that hold the same item.
fn in_place<T: PartialEq>(a: impl Iterator<Item = T>, b: impl Iterator<Item = T>) -> usize {
    a.zip(b).filter(|(x, y)| x == y).count()
}

/// What was made out of an MRN agrees with `mrn`: look-alikes read as digits, at least half of
/// its characters (and at least four) in place, counted from the front or from the back (a
/// character lost or doubled at one end), over the first one to four words.
fn mrn_glimpse_agrees(glimpse: &str, mrn: &Mrn) -> bool {
    let known: Vec<char> = mrn::canonical(mrn.as_str()).chars().collect();
    let words: Vec<&str> = glimpse.split_whitespace().take(4).collect();
    (1..=words.len()).any(|n| {
        let read: Vec<char> = mrn::canonical(&mrn::normalize(&words[..n].join(" ")))
            .chars()
            .collect();
        let agree = in_place(read.iter(), known.iter()).max(in_place(read.iter().rev(), known.iter().rev()));
        read.len().abs_diff(known.len()) <= 2 && agree >= 4 && 2 * agree >= known.len()
    })
}

/// What was made out of a date of birth agrees with `dob`. Its digits (look-alike letters in
/// words with digits read as digits; at least four) are, three in four of them and at least
/// three, the same as the date's written month first, year first, or month first with a
/// two-digit year: number by number (`02/0 1957` against 02/02/1957, each number compared from
/// whichever end agrees more), or as one run of digits when the separators were lost.
fn dob_glimpse_agrees(glimpse: &str, dob: NaiveDate) -> bool {
    let digit = |c: char| match c {
        'O' | 'o' | 'Q' | 'D' => Some('0'),
        'I' | 'l' | '|' | 'i' => Some('1'),
        'S' | 's' => Some('5'),
        'B' => Some('8'),
        'Z' | 'z' => Some('2'),
        c if c.is_ascii_digit() => Some(c),
        _ => None,
    };
    let mut numbers: Vec<Vec<char>> = Vec::new();
    for word in glimpse
        .split_whitespace()
        .filter(|w| w.contains(|c: char| c.is_ascii_digit()))
    {
        for part in word.split(|c: char| digit(c).is_none()).filter(|p| !p.is_empty()) {
            numbers.push(part.chars().filter_map(digit).collect());
        }
    }
    numbers.truncate(3);
    let read: usize = numbers.iter().map(Vec::len).sum();
    if read < 4 {
        return false;
    }
    let run: Vec<char> = numbers.concat();
    let both_ends =
        |a: &[char], b: &[char]| in_place(a.iter(), b.iter()).max(in_place(a.iter().rev(), b.iter().rev()));
    [["%m", "%d", "%Y"], ["%Y", "%m", "%d"], ["%m", "%d", "%y"]]
        .iter()
        .any(|parts| {
            let written: Vec<Vec<char>> = parts
                .iter()
                .map(|p| dob.format(p).to_string().chars().collect())
                .collect();
            let by_number: usize = numbers.iter().zip(&written).map(|(a, b)| both_ends(a, b)).sum();
            let as_run = in_place(run.iter(), written.concat().iter());
            let agree = by_number.max(as_run);
            agree >= 3 && 4 * agree >= 3 * read
        })
}

fn by_name_and_dob(index: &dyn PatientIndex, query: &NameQuery, dob: NaiveDate) -> Vec<IndexPatient> {
    index
        .by_dob(dob)
        .into_iter()
        .filter(|p| query.matches(p))
        .collect()
}

/// A read name folded once, for comparing with many patients' names. It is a patient's (or an
/// alias's) allowing one OCR slip in each part; given names agree when all of them do or the
/// first of them does (`Jane Marie` is `Jane`).
pub struct NameQuery {
    last: String,
    first: String,
    first_given: String,
}

impl NameQuery {
    pub fn new(read: &PersonName) -> NameQuery {
        NameQuery {
            last: super::fold_name(&read.last),
            first: super::fold_name(&read.first),
            first_given: super::fold_name(first_given(&read.first)),
        }
    }

    /// Whether the patient (or an alias of theirs) is the read name.
    pub fn matches(&self, patient: &IndexPatient) -> bool {
        std::iter::once(&patient.name)
            .chain(&patient.aliases)
            .any(|known| {
                self.may_be_last(&known.last)
                    && (close(&self.first, &known.first)
                        || close(&self.first_given, first_given(&known.first)))
            })
    }

    /// Whether `last` is the read family name up to one OCR slip: the one test that rules out
    /// nearly every patient of an index, cheaply (before the patient is read in full).
    pub fn may_be_last(&self, last: &str) -> bool {
        close(&self.last, last)
    }
}

/// `folded` (already folded) and `other` are one name up to one OCR slip (in names of four
/// letters or more).
fn close(folded: &str, other: &str) -> bool {
    let other = super::fold_name(other);
    *folded == other
        || (folded.len() >= 4
            && folded.len().abs_diff(other.len()) <= 1
            && edit_distance(folded, &other) <= 1)
}

fn first_given(given: &str) -> &str {
    given.split_whitespace().next().unwrap_or_default()
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

    fn by_name(&self, name: &PersonName) -> Vec<IndexPatient> {
        let query = NameQuery::new(name);
        self.by_mrn
            .values()
            .filter(|p| query.matches(p))
            .cloned()
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
            glimpses: Glimpses::default(),
        }
    }

    fn glimpsed(name: (&str, &str), mrn: &[&str], dob: &[&str]) -> PatientIds {
        let mut ids = ids(None, Some(name), None);
        ids.glimpses = Glimpses {
            mrn: mrn.iter().map(|g| Phi::new(g.to_string())).collect(),
            dob: dob.iter().map(|g| Phi::new(g.to_string())).collect(),
            name: Vec::new(),
        };
        ids
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
        let m = match_patient(
            &index,
            &ids(None, Some(("Brekke", "Niki Ann")), Some("1936-11-19")),
        );
        assert_eq!(
            basis(&m),
            Some(("6447548", MatchBasis::NameAndDob)),
            "a second given name the index does not have"
        );
        let m = match_patient(&index, &ids(None, Some(("Brekke", "Ann")), Some("1936-11-19")));
        assert!(matches!(m, IndexMatch::Orphan { .. }), "{m:?}");
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

    #[test]
    fn a_faded_label_matches_the_one_patient_of_that_name_its_remains_agree_with() {
        // A dot-matrix label faded past reading: `MRN ES46o4.002`, `HOB 02/08`.
        let faded = glimpsed(("Cruickshank", "Virgtl"), &["ES46o4.002 MOBY"], &["02/08"]);
        let m = match_patient(&index(), &faded);
        assert_eq!(basis(&m), Some(("E8469421", MatchBasis::NameAndPartialIds)));

        // A namesake whose MRN and birth date the remains do not fit changes nothing; one they
        // fit as well makes it a person's call.
        let mut patients = vec![
            patient("E8469421", "Cruickshank", "Virgil", "1957-02-02"),
            patient("E1120377", "Cruickshank", "Virgil", "1983-11-30"),
        ];
        let m = match_patient(&MemoryIndex::new(patients.clone()), &faded);
        assert_eq!(basis(&m), Some(("E8469421", MatchBasis::NameAndPartialIds)));
        patients.push(patient("E8461420", "Cruickshank", "Virgil", "1957-02-09"));
        let m = match_patient(&MemoryIndex::new(patients), &faded);
        assert!(
            matches!(m, IndexMatch::Orphan { ref reason } if reason.contains("several")),
            "{m:?}"
        );
    }

    #[test]
    fn a_name_too_faint_to_use_is_still_evidence_beside_the_remains() {
        let mut faded = glimpsed(("Cruickshank", "Virgtl"), &["ES46o4.002 MOBY"], &["02/08"]);
        let read = faded.name.take().unwrap().value;
        faded.glimpses.name = vec![read.clone(), read.clone()];
        let m = match_patient(&index(), &faded);
        assert_eq!(basis(&m), Some(("E8469421", MatchBasis::NameAndPartialIds)));
        // Glimpsed two ways, it is no evidence; glimpsed not at all, neither.
        faded.glimpses.name.push(PersonName {
            last: "Cruickshank".into(),
            first: "Sidney".into(),
        });
        assert!(matches!(
            match_patient(&index(), &faded),
            IndexMatch::Orphan { .. }
        ));
        faded.glimpses.name.clear();
        assert!(matches!(
            match_patient(&index(), &faded),
            IndexMatch::Orphan { .. }
        ));
    }

    /// The archive's clearly identified patients, as a list.
    struct Known(Vec<IndexPatient>);

    impl KnownPatients for Known {
        fn with_family_name(&self, name: &PersonName) -> Vec<IndexPatient> {
            let last = name.last.to_lowercase();
            self.0
                .iter()
                .filter(|p| p.name.last.to_lowercase() == last)
                .cloned()
                .collect()
        }
    }

    #[test]
    fn without_an_index_a_faded_label_is_filled_in_from_the_one_known_patient_it_fits() {
        let virgil = patient("E8469421", "Cruickshank", "Virgil", "1957-02-02");
        let faded = glimpsed(("Cruickshank", "Virgtl"), &["ES46o4.002 MOBY"], &["02/08"]);
        // The same patient known from several documents is one patient.
        let known = Known(vec![
            virgil.clone(),
            virgil.clone(),
            patient("MR493223", "Cruickshank", "Sidney", "1964-05-27"),
        ]);
        assert_eq!(match_known(&known, &faded), Some(virgil.clone()));

        // A second namesake the remains fit as well: no one.
        let twins = Known(vec![
            virgil.clone(),
            patient("E8461420", "Cruickshank", "Virgil", "1957-02-09"),
        ]);
        assert_eq!(match_known(&twins, &faded), None);

        // Not filled in: a document with an MRN or birth date of its own (it is matched, or
        // not, on those), no remains of one of them, or remains that fit no one known.
        let mut own_dob = faded.clone();
        own_dob.dob = Some(Found {
            value: Phi::new("1957-02-02".parse().unwrap()),
            confidence: 0.9,
            page_no: 1,
        });
        for ids in [
            own_dob,
            glimpsed(("Cruickshank", "Virgil"), &["ES46o4.002"], &[]),
            glimpsed(("Cruickshank", "Virgil"), &[], &["02/08"]),
            glimpsed(("Cruickshank", "Virgil"), &["E1120377"], &["02/08"]),
            glimpsed(("Cruickshank", "Walter"), &["ES46o4.002"], &["02/08"]),
        ] {
            assert_eq!(match_known(&known, &ids), None, "{ids:?}");
        }

        // A name too faint to use, glimpsed one way only, still finds the patient; glimpsed
        // two ways, it does not.
        let mut faint = faded.clone();
        let read = faint.name.take().unwrap().value;
        faint.glimpses.name = vec![read.clone()];
        assert_eq!(match_known(&known, &faint), Some(virgil));
        faint.glimpses.name.push(PersonName {
            last: "Cruickshank".into(),
            first: "Sidney".into(),
        });
        assert_eq!(match_known(&known, &faint), None);
    }

    #[test]
    fn a_name_with_remains_that_disagree_or_are_missing_is_an_orphan() {
        let index = index();
        for (mrn, dob) in [
            (&["E1120377"][..], &["02/08"][..]),   // another MRN
            (&["ES46o4.002"][..], &["11/30"][..]), // another birth date
            (&["ES46o4.002"][..], &[][..]),        // no birth date at all
            (&[][..], &["02/02/1957"][..]),        // no MRN at all
            (&["E84"][..], &["02/0"][..]),         // too little to go on
        ] {
            let m = match_patient(&index, &glimpsed(("Cruickshank", "Virgil"), mrn, dob));
            assert!(matches!(m, IndexMatch::Orphan { .. }), "{mrn:?} {dob:?}: {m:?}");
        }
        // The remains fit, but the name is no one's.
        let m = match_patient(
            &index,
            &glimpsed(("Cruickshank", "Walter"), &["ES46o4.002"], &["02/08"]),
        );
        assert!(matches!(m, IndexMatch::Orphan { .. }), "{m:?}");
    }

    #[test]
    fn remains_of_an_mrn_agree_only_with_mrns_they_share_most_characters_with() {
        let mrn = |m: &str| Mrn::from_normalized(m);
        assert!(mrn_glimpse_agrees("ES46o4.002", &mrn("E8469421")));
        assert!(
            mrn_glimpse_agrees("E84694", &mrn("E8469421")),
            "the end faded away"
        );
        assert!(
            mrn_glimpse_agrees("469421", &mrn("E8469421")),
            "the start faded away"
        );
        assert!(mrn_glimpse_agrees("MR49 3223", &mrn("MR493223")), "spaced");
        assert!(!mrn_glimpse_agrees("ES46o4.002", &mrn("E1269206")));
        assert!(!mrn_glimpse_agrees("E84", &mrn("E8469421")), "too short");
        // Over many MRNs of the same shape, few agree by chance.
        let mut state = 12345u64;
        let chance = (0..2000)
            .filter(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                mrn_glimpse_agrees("ES46o4.002", &mrn(&format!("E{:07}", (state >> 33) % 10_000_000)))
            })
            .count();
        assert!(chance < 2000 / 20, "{chance} of 2000 random MRNs agree");
    }

    #[test]
    fn remains_of_a_birth_date_agree_number_by_number() {
        let dob = |d: &str| d.parse::<NaiveDate>().unwrap();
        assert!(
            dob_glimpse_agrees("02/08", dob("1957-02-02")),
            "three of four digits"
        );
        assert!(dob_glimpse_agrees("02/0 1957", dob("1957-02-02")), "a digit lost");
        assert!(
            dob_glimpse_agrees("2/2/57", dob("1957-02-02")),
            "unpadded, two-digit year"
        );
        assert!(
            dob_glimpse_agrees("1957-O2-0", dob("1957-02-02")),
            "year first, a look-alike"
        );
        assert!(
            dob_glimpse_agrees("02021957", dob("1957-02-02")),
            "separators lost"
        );
        assert!(!dob_glimpse_agrees("11/30", dob("1957-02-02")));
        assert!(!dob_glimpse_agrees("02/0", dob("1957-02-02")), "too little");
        assert!(!dob_glimpse_agrees("07/29/2024", dob("1957-02-02")));
    }
}
