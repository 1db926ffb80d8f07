//! Person names as headers print them: `LAST, FIRST M.` and `First M. Last Jr.`, with
//! courtesy titles, middle names and initials, and suffixes set aside. Clinicians (`..., MD`)
//! are not patients.

/// A patient's family and given name, in title case as the archive stores them. Patient data:
/// `Debug` prints a placeholder.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName {
    pub last: String,
    pub first: String,
}

impl std::fmt::Debug for PersonName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonName(**)")
    }
}

const TITLES: &[&str] = &["mr", "mrs", "ms", "miss", "mx", "master"];
const SUFFIXES: &[&str] = &["jr", "sr", "ii", "iii", "iv", "v"];
/// Words that begin a family name (`De La Cruz`, `van Dyke`) when they stand before its last word.
const PARTICLES: &[&str] = &[
    "de", "del", "della", "la", "le", "van", "von", "der", "den", "da", "di", "du", "dos", "das", "st",
];
/// Words printed after a name that are not a given name.
const NOT_GIVEN: &[&str] = &["male", "female"];
/// Words that name no one, found after a name label in running text or in place of a name
/// (`RE: Follow Up`, `Patient: Doing well`, `Patient Name: Unknown Female`): none of them a
/// surname or a given name (`See` and `Her` are surnames, so not these).
const NOT_NAMES: &[&str] = &[
    "above",
    "applicable",
    "below",
    "doing",
    "follow",
    "from",
    "lab",
    "labs",
    "none",
    "not",
    "pending",
    "refused",
    "result",
    "results",
    "same",
    "seen",
    "today",
    "unidentified",
    "unknown",
    "up",
    "well",
    "your",
    "the",
    "and",
    "with",
    "was",
    "has",
    "had",
    "his",
    "their",
    "this",
    "that",
    "of",
    "is",
    "for",
];
/// Words of institutions' names and titles (`RIVERSIDE HEALTH, INC`, `PROGRESS NOTE`): text
/// holding one is not taken for a name where no label says it is one. (The index's own rows
/// are not held to this: a registry's `Center, John` is a person.)
const INSTITUTIONAL: &[&str] = &[
    "inc",
    "llc",
    "ltd",
    "corp",
    "pc",
    "pllc",
    "hospital",
    "clinic",
    "clinics",
    "center",
    "centre",
    "medical",
    "health",
    "healthcare",
    "associates",
    "group",
    "department",
    "dept",
    "laboratory",
    "laboratories",
    "radiology",
    "pathology",
    "imaging",
    "university",
    "institute",
    "services",
    "foundation",
    "practice",
    "physicians",
    "report",
    "note",
    "summary",
    "letter",
    "results",
    "history",
    "physical",
    "consultation",
    "consult",
    "examination",
    "exam",
    "procedure",
    "discharge",
    "admission",
    "operative",
    "lab",
    "visit",
    "progress",
    "emergency",
    "record",
    "records",
    "medicine",
    "surgery",
    "dear",
    "dr",
    "doctor",
    "attending",
    "physician",
    "sincerely",
];
/// A name followed by one of these is a clinician's.
const CREDENTIALS: &[&str] = &[
    "md", "do", "rn", "np", "pa", "pac", "dds", "dmd", "phd", "mbbs", "facs", "dpm", "od", "crna", "lpn",
    "aprn",
];

/// Whether `text` has a word of an institution's name or a title in it.
pub fn institutional(text: &str) -> bool {
    text.split(|c: char| !c.is_alphabetic())
        .any(|w| INSTITUTIONAL.contains(&w.to_lowercase().as_str()))
}

impl PersonName {
    /// Parses a name; `None` unless it is clearly a person's name.
    pub fn parse(raw: &str) -> Option<PersonName> {
        let raw = raw.trim().trim_end_matches([',', ';', '.', ':']).trim();
        if raw.is_empty() || raw.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        // `Jane M. Doe, Jr.`: a suffix after a comma ends a `First Last` name.
        let raw = match raw.rsplit_once(',') {
            Some((name, suffix)) if only_suffixes(suffix) => name.trim(),
            _ => raw,
        };
        let raw = comma_from_period(raw);
        let common = raw
            .split(|c: char| !c.is_alphabetic())
            .any(|w| NOT_NAMES.contains(&w.to_lowercase().as_str()));
        if common {
            return None;
        }
        let (last, first) = match raw.split_once(',') {
            Some((last, rest)) => {
                let last_words = clean_words(last)?;
                let rest_words = clean_words(rest)?;
                if rest_words.iter().any(|w| is_credential(w)) || last_words.len() > 3 {
                    return None;
                }
                let given: Vec<String> = rest_words.into_iter().filter(|w| !is_initial(w)).collect();
                (last_words.join(" "), given_names(&given)?)
            }
            None => {
                let mut words = clean_words(&raw)?;
                // Debris OCR made of a speck or a stamp after the name (`Jane Doe mo`): a short
                // lower-case word at the end, after two capitalised ones, names no one.
                while words.len() > 2
                    && words
                        .last()
                        .is_some_and(|w| w.chars().count() <= 3 && w.chars().all(|c| c.is_ascii_lowercase()))
                    && words.iter().filter(|w| w.starts_with(char::is_uppercase)).count() >= 2
                {
                    words.pop();
                }
                if words.len() < 2 || words.len() > 4 || words.iter().any(|w| is_credential(w)) {
                    return None;
                }
                // `DOE JANE M`: a middle initial last says the family name came first (in
                // capitals, as records systems print it; not `I`, which is often a speck or bar).
                if let [last, first, initial] = words.as_slice()
                    && is_initial(initial)
                    && initial != "I"
                    && [last, first]
                        .iter()
                        .all(|w| w.chars().count() > 1 && !w.chars().any(char::is_lowercase))
                {
                    return PersonName::checked(last, first);
                }
                let (first, last) = (words.first()?, words.last()?);
                if is_initial(first) || is_initial(last) {
                    return None;
                }
                // Particles before the last word are the surname's (`Jane De La Cruz`).
                let mut surname_from = words.len() - 1;
                while surname_from > 1 && PARTICLES.contains(&words[surname_from - 1].to_lowercase().as_str())
                {
                    surname_from -= 1;
                }
                let given: Vec<String> = words[..surname_from]
                    .iter()
                    .filter(|w| !is_initial(w))
                    .cloned()
                    .collect();
                (words[surname_from..].join(" "), given_names(&given)?)
            }
        };
        PersonName::checked(&last, &first)
    }

    /// The name in title case, when both parts have two letters or more.
    fn checked(last: &str, first: &str) -> Option<PersonName> {
        if !plausible(last) || !plausible(first) {
            return None;
        }
        Some(PersonName {
            last: title_case(last),
            first: title_case(first),
        })
    }

    /// Whether `self` is `other` with a second given name `other` was printed without
    /// (`María Luisa` beside `María L.`).
    pub fn fuller_than(&self, other: &PersonName) -> bool {
        fold(&self.last) == fold(&other.last)
            && self
                .first
                .split_once(' ')
                .is_some_and(|(first, _)| fold(first) == fold(&other.first))
    }

    /// Lower-case letters only, accents folded: for comparing names across OCR and sources.
    pub fn key(&self) -> String {
        format!("{}|{}", fold(&self.last), fold(&self.first))
    }
}

/// OCR often reads the comma of `DENESIK, SOLANGE` as a period or a semicolon: a first word of
/// two letters or more ending in a period or semicolon, not a title, is taken as `LAST,`.
pub(super) fn comma_from_period(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.contains(',') {
        return raw.into();
    }
    let Some((first, rest)) = raw.split_once(". ").or_else(|| raw.split_once("; ")) else {
        return raw.into();
    };
    let is_word =
        first.chars().count() >= 2 && first.chars().all(|c| c.is_alphabetic() || c == '\'' || c == '-');
    if is_word && !TITLES.contains(&first.to_lowercase().as_str()) && !rest.trim().is_empty() {
        format!("{first}, {rest}").into()
    } else {
        raw.into()
    }
}

/// Words of a name part with courtesy titles and suffixes dropped; `None` if any word is not
/// name-like.
fn clean_words(part: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    // An initial glued to the name after it (`A.Doe`) is two words.
    let split = part
        .split_whitespace()
        .flat_map(|word| match word.split_once('.') {
            Some((initial, rest))
                if initial.chars().count() == 1 && rest.starts_with(char::is_alphabetic) =>
            {
                vec![initial, rest]
            }
            _ => vec![word],
        });
    for word in split {
        // Specks and quote marks OCR stuck to either end (`‘Doe`); an apostrophe inside stays.
        let bare = word.trim_matches(|c: char| ".,‘’'`\"“”".contains(c));
        // A speck OCR read as a lone small letter or mark (`Jane Doe i`, `Jane ©`).
        if bare.chars().count() == 1 && !bare.starts_with(char::is_uppercase) {
            continue;
        }
        let lower = bare.to_lowercase();
        if bare.is_empty() || TITLES.contains(&lower.as_str()) || SUFFIXES.contains(&lower.as_str()) {
            continue;
        }
        if !bare
            .chars()
            .all(|c| c.is_alphabetic() || c == '\'' || c == '-' || c == '’')
        {
            return None;
        }
        words.push(bare.to_string());
    }
    (!words.is_empty()).then_some(words)
}

/// A person's given names from the words after the family name: the first, and a second given
/// name printed like it (`MARÍA LUISA`, `Mary Ann`; not `JANE Female` or the speck `Jane mo`).
fn given_names(words: &[String]) -> Option<String> {
    let (first, rest) = words.split_first()?;
    let style = |w: &str| {
        (
            w.chars().all(|c| !c.is_lowercase()),
            w.starts_with(char::is_uppercase),
        )
    };
    let second = rest.first().filter(|w| {
        rest.len() == 1 && style(w) == style(first) && !NOT_GIVEN.contains(&w.to_lowercase().as_str())
    });
    Some(match second {
        Some(second) => format!("{first} {second}"),
        None => first.clone(),
    })
}

/// Words that are all suffixes (`Jr.`, `III`), and at least one.
fn only_suffixes(part: &str) -> bool {
    let mut words = part.split_whitespace().peekable();
    words.peek().is_some()
        && words.all(|w| SUFFIXES.contains(&w.trim_end_matches('.').to_lowercase().as_str()))
}

fn is_initial(word: &str) -> bool {
    word.chars().count() == 1
}

fn is_credential(word: &str) -> bool {
    CREDENTIALS.contains(&word.to_lowercase().replace('.', "").as_str())
}

fn plausible(part: &str) -> bool {
    part.chars().filter(|c| c.is_alphabetic()).count() >= 2
}

/// `O'KEEFE` → `O'Keefe`, `smith-jones` → `Smith-Jones`.
fn title_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = true;
    for c in text.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = !c.is_alphabetic();
    }
    out
}

/// Lower-case ASCII letters only: accents folded, punctuation and spaces dropped.
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ý' | 'ÿ' => 'y',
            other => other,
        })
        .filter(char::is_ascii_lowercase)
        .collect()
}

/// Levenshtein distance, for telling OCR slips from different names.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            current.push((previous[j + 1] + 1).min(current[j] + 1).min(previous[j] + cost));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(raw: &str) -> Option<(String, String)> {
        PersonName::parse(raw).map(|n| (n.last, n.first))
    }

    fn pair(last: &str, first: &str) -> Option<(String, String)> {
        Some((last.to_string(), first.to_string()))
    }

    #[test]
    fn reads_both_orders_with_initials_titles_and_suffixes() {
        assert_eq!(name("CRUICKSHANK, SIDNEY"), pair("Cruickshank", "Sidney"));
        assert_eq!(
            name("Jane ‘Doe"),
            pair("Doe", "Jane"),
            "a quote mark OCR stuck on"
        );
        assert_eq!(name("O'Brien-Smith, Mary"), pair("O'Brien-Smith", "Mary"));
        assert_eq!(name("Hilll, Raymundo J."), pair("Hilll", "Raymundo"));
        assert_eq!(name("Sidney Cruickshank"), pair("Cruickshank", "Sidney"));
        assert_eq!(name("Mr. John Q. Public Jr."), pair("Public", "John"));
        assert_eq!(name("John Q. Public, Jr."), pair("Public", "John"));
        assert_eq!(name("John Public, III"), pair("Public", "John"));
        assert_eq!(name("PUBLIC, JOHN Q, JR"), pair("Public", "John"));
        assert_eq!(name("O'KEEFE, ELICIA"), pair("O'Keefe", "Elicia"));
        assert_eq!(name("Silvia Farías"), pair("Farías", "Silvia"));
        assert_eq!(name("SMITH-JONES, ANNE MARIE"), pair("Smith-Jones", "Anne Marie"));
        assert_eq!(name("Van Dyke, Ann"), pair("Van Dyke", "Ann"));
        assert_eq!(
            name("DENESIK. SOLANGE"),
            pair("Denesik", "Solange"),
            "a comma read as a period"
        );
        assert_eq!(name("Mr. John Public"), pair("Public", "John"));
        assert_eq!(name("Jane Doe mo"), pair("Doe", "Jane"), "debris after the name");
        assert_eq!(name("Ludwig van Beethoven"), pair("Van Beethoven", "Ludwig"));
    }

    #[test]
    fn two_given_names_and_a_family_name_of_several_words_are_kept_whole() {
        assert_eq!(name("MONTENEGRO, MARÍA LUISA"), pair("Montenegro", "María Luisa"));
        assert_eq!(name("María Luisa Montenegro"), pair("Montenegro", "María Luisa"));
        assert_eq!(name("María L. Montenegro"), pair("Montenegro", "María"));
        assert_eq!(name("Jane De La Cruz"), pair("De La Cruz", "Jane"));
        assert_eq!(name("DE LA CRUZ, JANE"), pair("De La Cruz", "Jane"));
        assert_eq!(
            name("Van Morrison"),
            pair("Morrison", "Van"),
            "a particle is not a first name's"
        );
        assert_eq!(
            name("DOE, JANE Female"),
            pair("Doe", "Jane"),
            "a word printed otherwise"
        );
        assert_eq!(name("DOE, JANE FEMALE"), pair("Doe", "Jane"));
        assert_eq!(name("Doe, Jane mo"), pair("Doe", "Jane"), "debris");
        assert_eq!(
            name("Doe, Jane Ann Marie"),
            pair("Doe", "Jane"),
            "given names beyond two"
        );
        assert_eq!(
            name("DOE JANE M"),
            pair("Doe", "Jane"),
            "an initial last: family name first"
        );
        assert_eq!(name("JANE M DOE"), pair("Doe", "Jane"));
        assert_eq!(name("Jane Doe M"), None, "not in capitals");
        for words in [
            "Follow Up",
            "Lab Results",
            "doing well today",
            "Unknown Female",
            "Not Applicable",
            "See above",
        ] {
            assert_eq!(name(words), None, "{words}");
        }
        assert_eq!(name("JANE DOE I"), None, "a bar read as I");
        assert_eq!(
            name("HER, XEE"),
            pair("Her", "Xee"),
            "a Hmong surname, not the word"
        );
        let full = PersonName::parse("MONTENEGRO, MARÍA LUISA").unwrap();
        let short = PersonName::parse("Maria L. Montenegro").unwrap();
        assert!(full.fuller_than(&short) && !short.fuller_than(&full));
        assert!(!full.fuller_than(&PersonName::parse("Montenegro, Luisa").unwrap()));
    }

    #[test]
    fn refuses_what_is_not_a_patient_name() {
        for raw in [
            "KUPHAL, SHIRLY MD",
            "Zelda Rath, MD",
            "Sidney",
            "12345",
            "",
            "A B",
            "Tel (402) 555-0196",
        ] {
            assert_eq!(name(raw), None, "{raw}");
        }
        for raw in [
            "RIVERSIDE HEALTH, INC",
            "Lincoln Radiology Group",
            "PROGRESS NOTE, Sai",
        ] {
            assert!(institutional(raw), "{raw}");
        }
        assert!(
            name("Center, John").is_some(),
            "a registry's row is parsed without it"
        );
    }

    #[test]
    fn keys_fold_case_accents_and_punctuation() {
        let a = PersonName::parse("Farías, Silvia").unwrap();
        let b = PersonName::parse("FARIAS, SILVIA").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(edit_distance("cruickshank", "cruickshamk"), 1);
    }
}
