//! Medical record numbers: normalised (upper case, separators removed), checked against the
//! site's formats and check-digit scheme, and read through OCR's usual confusions (O/0, I/l/1,
//! S/5, B/8, Z/2, G/6) only where exactly one reading with the fewest corrections fits the
//! format.

use regex::Regex;
use serde::Deserialize;

/// A validated MRN: upper-case letters and digits, no separators. Patient data: `Debug`
/// prints a placeholder.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mrn(String);

impl std::fmt::Debug for Mrn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mrn(**)")
    }
}

impl Mrn {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps an MRN that is already normalised (from the archive or the patient index).
    pub fn from_normalized(value: &str) -> Mrn {
        Mrn(normalize(value))
    }
}

/// The check-digit scheme a site's MRNs carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckDigit {
    None,
    /// The Luhn (mod 10) scheme over the MRN's digits.
    Luhn,
    /// Mod 11 over the digits: weights 2, 3, 4, ... from the right of the data digits; the last
    /// character is `(11 - sum % 11) % 11`, with 10 written `X`.
    Mod11,
}

/// What reading the text after an MRN label gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MrnReading {
    /// A valid MRN; `corrected` when OCR confusions had to be undone to get it.
    Valid { mrn: Mrn, corrected: bool },
    /// Fits a format, but its check digit is wrong.
    CheckFailed,
    /// More than one correction fits: not guessed.
    Ambiguous,
    /// Nothing that fits a format.
    NoFormat,
}

#[derive(Debug, Clone)]
pub struct MrnRules {
    formats: Vec<Regex>,
    check: CheckDigit,
}

/// Letter and digit look-alikes, each way.
const CONFUSIONS: &[(char, char)] = &[
    ('O', '0'),
    ('Q', '0'),
    ('D', '0'),
    ('I', '1'),
    ('L', '1'),
    ('S', '5'),
    ('B', '8'),
    ('Z', '2'),
    ('G', '6'),
];

/// At most this many look-alike positions are varied (2^10 readings).
const MAX_VARIED: usize = 10;

impl MrnRules {
    pub fn new(formats: &[String], check: CheckDigit) -> anyhow::Result<MrnRules> {
        let formats = formats
            .iter()
            .map(|f| Regex::new(f).map_err(|e| anyhow::anyhow!("MRN format {f:?}: {e}")))
            .collect::<anyhow::Result<_>>()?;
        Ok(MrnRules { formats, check })
    }

    /// Reads an MRN from the text that follows its label (already cut at the next label).
    pub fn read(&self, raw: &str) -> Option<MrnReading> {
        let normalized = normalize(raw);
        if normalized.is_empty() {
            return None;
        }
        if self.fits(&normalized) {
            return Some(if self.check_ok(&normalized) {
                MrnReading::Valid {
                    mrn: Mrn(normalized),
                    corrected: false,
                }
            } else {
                MrnReading::CheckFailed
            });
        }
        let positions: Vec<usize> = normalized
            .char_indices()
            .filter(|(_, c)| CONFUSIONS.iter().any(|(a, b)| c == a || c == b))
            .map(|(i, _)| i)
            .take(MAX_VARIED)
            .collect();
        // Readings that fit, with the fewest corrections: a reading needing more look-alike
        // swaps than another is the less likely one.
        let mut valid: Vec<String> = Vec::new();
        let mut fewest = u32::MAX;
        let mut check_failed = false;
        for mask in 1u32..(1 << positions.len()) {
            let swaps = mask.count_ones();
            if swaps > fewest {
                continue;
            }
            let mut variant: Vec<char> = normalized.chars().collect();
            for (bit, &at) in positions.iter().enumerate() {
                if mask & (1 << bit) != 0 {
                    variant[at] = swap(variant[at]);
                }
            }
            let variant: String = variant.into_iter().collect();
            if self.fits(&variant) {
                if self.check_ok(&variant) {
                    if swaps < fewest {
                        fewest = swaps;
                        valid.clear();
                    }
                    if !valid.contains(&variant) {
                        valid.push(variant);
                    }
                } else {
                    check_failed = true;
                }
            }
        }
        Some(match valid.len() {
            1 => MrnReading::Valid {
                mrn: Mrn(valid.remove(0)),
                corrected: true,
            },
            0 if check_failed => MrnReading::CheckFailed,
            0 => MrnReading::NoFormat,
            _ => MrnReading::Ambiguous,
        })
    }

    fn fits(&self, candidate: &str) -> bool {
        self.formats.iter().any(|f| f.is_match(candidate))
    }

    fn check_ok(&self, candidate: &str) -> bool {
        match self.check {
            CheckDigit::None => true,
            CheckDigit::Luhn => luhn_ok(candidate),
            CheckDigit::Mod11 => mod11_ok(candidate),
        }
    }
}

/// Two MRNs that differ only by OCR look-alikes.
pub fn same_under_confusion(a: &str, b: &str) -> bool {
    canonical(a) == canonical(b)
}

/// A normalised MRN with every look-alike letter read as its digit, so that readings that
/// differ only by OCR look-alikes are equal.
pub fn canonical(normalized: &str) -> String {
    normalized
        .chars()
        .map(|c| CONFUSIONS.iter().find(|(l, _)| *l == c).map_or(c, |(_, d)| *d))
        .collect()
}

/// Upper case, letters and digits only; symbols OCR makes of letters (`£` for `E`) read as
/// those letters, except right after that very letter, where the symbol is the same glyph read
/// twice (`E£1977145` is `E1977145`).
pub fn normalize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut previous = None;
    for c in raw.chars() {
        let letter = match c {
            '£' | '€' => Some('E'),
            '$' => Some('S'),
            '|' => Some('I'),
            _ => None,
        };
        let c = match letter {
            Some(l) if previous == Some(l) => continue,
            Some(l) => l,
            None => c.to_ascii_uppercase(),
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
            previous = Some(c);
        }
    }
    out
}

fn swap(c: char) -> char {
    CONFUSIONS
        .iter()
        .find_map(|&(letter, digit)| {
            if c == letter {
                Some(digit)
            } else if c == digit {
                Some(letter)
            } else {
                None
            }
        })
        .unwrap_or(c)
}

fn luhn_ok(mrn: &str) -> bool {
    let digits: Vec<u32> = mrn.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() < 2 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn mod11_ok(mrn: &str) -> bool {
    let chars: Vec<char> = mrn.chars().filter(|c| c.is_ascii_digit() || *c == 'X').collect();
    let Some((&check, data)) = chars.split_last() else {
        return false;
    };
    if data.is_empty() || data.iter().any(|c| !c.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = data
        .iter()
        .rev()
        .enumerate()
        .map(|(i, c)| c.to_digit(10).unwrap_or(0) * (i as u32 + 2))
        .sum();
    let expected = (11 - sum % 11) % 11;
    match check {
        'X' => expected == 10,
        digit => digit.to_digit(10) == Some(expected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(check: CheckDigit) -> MrnRules {
        MrnRules::new(&[r"^[A-Z]{0,3}[0-9]{5,12}$".to_string()], check).unwrap()
    }

    fn valid(reading: Option<MrnReading>) -> Option<(String, bool)> {
        match reading {
            Some(MrnReading::Valid { mrn, corrected }) => Some((mrn.0, corrected)),
            _ => None,
        }
    }

    #[test]
    fn separators_are_normalised_away() {
        let r = rules(CheckDigit::None);
        assert_eq!(valid(r.read("981-59-96")), Some(("9815996".into(), false)));
        assert_eq!(valid(r.read("MR493223")), Some(("MR493223".into(), false)));
        assert_eq!(valid(r.read("e 291.2904")), Some(("E2912904".into(), false)));
        assert_eq!(valid(r.read("£2917376")), Some(("E2917376".into(), false)));
        assert_eq!(
            valid(r.read("E£1977145")),
            Some(("E1977145".into(), false)),
            "one glyph read twice"
        );
        assert_eq!(valid(r.read("SS$12345")), Some(("SS12345".into(), false)));
    }

    #[test]
    fn ocr_confusions_are_undone_when_only_one_reading_fits() {
        let r = rules(CheckDigit::None);
        assert_eq!(valid(r.read("MR49322B")), Some(("MR493228".into(), true)));
        assert_eq!(valid(r.read("98l-59-96")), Some(("9815996".into(), true)));
        assert_eq!(valid(r.read("E29l29O4")), Some(("E2912904".into(), true)));
        // Two readings need the same number of corrections: not guessed.
        let formats = [r"^[0-9]{6}[A-Z]$".to_string(), r"^[A-Z][0-9]{6}$".to_string()];
        let strict = MrnRules::new(&formats, CheckDigit::None).unwrap();
        assert_eq!(valid(strict.read("S123456")), Some(("S123456".into(), false)));
        assert_eq!(strict.read("S12345B"), Some(MrnReading::Ambiguous));
        // A name is no MRN, whatever its letters look like.
        assert_eq!(r.read("Smith"), Some(MrnReading::NoFormat));
    }

    #[test]
    fn check_digits_are_enforced() {
        let luhn = rules(CheckDigit::Luhn);
        assert_eq!(
            valid(luhn.read("79927398713")),
            Some(("79927398713".into(), false))
        );
        assert_eq!(luhn.read("79927398710"), Some(MrnReading::CheckFailed));
        let mod11 = MrnRules::new(&[r"^[0-9]{6}[0-9X]$".to_string()], CheckDigit::Mod11).unwrap();
        // 123456: 6*2+5*3+4*4+3*5+2*6+1*7 = 77, 77 % 11 = 0, check 0.
        assert_eq!(valid(mod11.read("1234560")), Some(("1234560".into(), false)));
        assert_eq!(mod11.read("1234561"), Some(MrnReading::CheckFailed));
    }

    #[test]
    fn look_alikes_compare_equal() {
        assert!(same_under_confusion("MR49322B", "MR493228"));
        assert!(!same_under_confusion("MR493228", "MR493229"));
    }
}
