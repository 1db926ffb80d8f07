//! Dates as US medical records print them: `MM/DD/YYYY`, `M/D/YY`, `MM-DD-YYYY`, `YYYY-MM-DD`,
//! `DD-Mon-YYYY`, `DDMONYYYY`, `Month D, YYYY`, `D Month YYYY`, `YYYY-Mon-DD`, `MM.DD.YYYY`, each
//! perhaps after a day of the week. Two-digit years take the
//! latest century that does not put the date after `today` (a birth date is never in the
//! future). Month-first wins where both readings are possible; day-first only when the first
//! number cannot be a month.

use chrono::{Datelike, NaiveDate};

/// What reading a date at the start of a text gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateReading {
    Valid(NaiveDate),
    /// Shaped like a date, but no such day exists (`02/30/1980`).
    Impossible(String),
}

/// Reads a date at the start of `text` (leading spaces allowed); `None` if it does not start
/// with something shaped like a date.
pub fn read_date(text: &str, today: NaiveDate) -> Option<DateReading> {
    let text = without_weekday(text.trim_start());
    numeric(text, today)
        .or_else(|| with_month_name(text, today))
        .or_else(|| numeric(&closed_up(text), today))
}

/// `Friday, March 14, 1958` without its day of the week (a full name, or an abbreviation with
/// its comma).
fn without_weekday(text: &str) -> &str {
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let Some((word, rest)) = text.split_once(' ') else {
        return text;
    };
    let (name, comma) = match word.strip_suffix(',') {
        Some(name) => (name.trim_end_matches('.').to_lowercase(), true),
        None => (word.to_lowercase(), false),
    };
    let weekday = DAYS
        .iter()
        .any(|day| *day == name || (comma && name.len() >= 3 && day.starts_with(name.as_str())));
    if weekday { rest.trim_start() } else { text }
}

/// A numeric date with a stray space OCR put inside it (`6/11/1 949`), closed up: spaces
/// between digits and separators in the first dozen characters are dropped.
fn closed_up(text: &str) -> String {
    let head: String = text.chars().take(14).collect();
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = head.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let between = |j: usize| {
            chars
                .get(j)
                .is_some_and(|c| c.is_ascii_digit() || "/-.".contains(*c))
        };
        if c == ' ' && i > 0 && between(i - 1) && between(i + 1) {
            continue;
        }
        out.push(c);
    }
    out.push_str(&text[head.len()..]);
    out
}

fn numeric(text: &str, today: NaiveDate) -> Option<DateReading> {
    let mut parts: Vec<&str> = Vec::with_capacity(3);
    let mut separator = None;
    let mut rest = text;
    for i in 0..3 {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 || digits > 4 {
            return None;
        }
        parts.push(&rest[..digits]);
        rest = &rest[digits..];
        if i < 2 {
            let sep = rest.chars().next()?;
            if !matches!(sep, '/' | '-' | '.') || separator.is_some_and(|s| s != sep) {
                return None;
            }
            separator = Some(sep);
            rest = &rest[1..];
        }
    }
    // The date must end here: `04/11/20245` or `1/2/3/4` is not a date.
    if rest
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '/')
    {
        return None;
    }
    let n: Vec<u32> = parts.iter().map(|p| p.parse().unwrap_or(0)).collect();
    let shown = format!("{}{}{}{}{}", parts[0], separator?, parts[1], separator?, parts[2]);
    if parts[1].len() > 2 || !matches!(parts[0].len(), 1 | 2 | 4) {
        return None;
    }
    let (year, month, day) = if parts[0].len() == 4 {
        if parts[2].len() > 2 {
            return None;
        }
        (n[0] as i32, n[1], n[2])
    } else if parts[2].len() == 4 || parts[2].len() == 2 {
        let year = if parts[2].len() == 2 {
            full_year(n[2], today)
        } else {
            n[2] as i32
        };
        if n[0] > 12 && n[1] <= 12 {
            (year, n[1], n[0])
        } else {
            (year, n[0], n[1])
        }
    } else {
        return None;
    };
    let two_digit_year = parts[0].len() != 4 && parts[2].len() == 2;
    Some(not_after(make(year, month, day, shown), two_digit_year, today))
}

/// A numeric date OCR misread a digit of as its look-alike letter (`O7/19/198l`), read with the
/// letters put back: only when the first word is made of digits, date separators and those
/// letters, with at least four real digits. `None` when there is nothing to put back.
pub fn read_date_undoing_confusions(text: &str, today: NaiveDate) -> Option<DateReading> {
    let text = text.trim_start();
    let word = text.split_whitespace().next()?;
    let digit = |c: char| match c {
        'O' | 'o' | 'Q' => Some('0'),
        'I' | 'l' | 'L' | '|' | 'i' => Some('1'),
        'S' | 's' => Some('5'),
        'B' => Some('8'),
        'Z' | 'z' => Some('2'),
        c if c.is_ascii_digit() => Some(c),
        _ => None,
    };
    // `Marl4,1958`: a month glued to a day with a look-alike in it.
    if let Some(month) = (3..word.len().min(10))
        .rev()
        .find(|&m| word.is_char_boundary(m) && month_of(&word[..m]).is_some())
    {
        let day: String = word[month..]
            .chars()
            .take_while(|&c| digit(c).is_some())
            .collect();
        let fixed: String = day.chars().filter_map(digit).collect();
        if (1..=2).contains(&day.len()) && day.contains(|c: char| c.is_ascii_digit()) && fixed != day {
            let rest = &text[month + day.len()..];
            return with_month_name(&format!("{} {fixed}{rest}", &word[..month]), today);
        }
        return None;
    }
    // `L4MAR1958`: a compact date whose day has a look-alike in it.
    for day_len in 1..=2 {
        let Some(day) = word.get(..day_len) else { break };
        let fixed: String = day.chars().filter_map(digit).collect();
        if fixed.len() == day_len && fixed != day && day.contains(|c: char| c.is_ascii_digit()) {
            let respelled = format!("{fixed}{}", &text[day_len..]);
            if let Some(spaced) = spaced_compact(&respelled) {
                return with_month_name(&spaced, today);
            }
        }
    }
    let digits = word.chars().filter(char::is_ascii_digit).count();
    let shaped = word.chars().all(|c| digit(c).is_some() || "/-.".contains(c));
    if digits < 4 || !shaped || word.chars().all(|c| c.is_ascii_digit() || "/-.".contains(c)) {
        return None;
    }
    let fixed: String = word.chars().map(|c| digit(c).unwrap_or(c)).collect();
    numeric(&format!("{fixed}{}", &text[word.len()..]), today)
}

/// `19JUL1981` or `19JUL81` (no separators, as lab systems print it) spaced out as
/// `19 JUL 1981`; so is a `DD-Mon-YYYY` date OCR lost one of its hyphens from (`14-MAR1958`).
fn spaced_compact(text: &str) -> Option<String> {
    let word = text.split_whitespace().next()?;
    fn separator(s: &str) -> &str {
        s.strip_prefix(['-', '.', '/']).unwrap_or(s)
    }
    let day = word.chars().take_while(char::is_ascii_digit).count();
    let after_day = separator(&word[day..]);
    let month = after_day.chars().take_while(char::is_ascii_alphabetic).count();
    let year = separator(&after_day[month..]);
    let ok = (1..=2).contains(&day)
        && (3..=9).contains(&month)
        && matches!(year.len(), 2 | 4)
        && year.chars().all(|c| c.is_ascii_digit());
    ok.then(|| format!("{} {} {year}", &word[..day], &after_day[..month]))
}

/// A date printed as eight bare digits (`19580314`, as systems that print HL7 dates do, or
/// `03141958`): only where a label says it is a date, since an MRN looks the same. `YYYYMMDD`
/// or `MMDDYYYY`, whichever has a year from 1850 to `today`'s (never both: such a year starts
/// 18, 19 or 20, which is no month). `None` when the word is not eight digits or has no such year.
pub fn read_compact_date(text: &str, today: NaiveDate) -> Option<DateReading> {
    let word = text
        .split_whitespace()
        .next()?
        .trim_end_matches([',', ';', '.', ')']);
    if word.len() != 8 || !word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |range: std::ops::Range<usize>| word[range].parse::<u32>().unwrap_or(0);
    let plausible = |year: u32| (1850..=today.year() as u32).contains(&year);
    [(n(0..4), n(4..6), n(6..8)), (n(4..8), n(0..2), n(2..4))]
        .into_iter()
        .find(|&(year, ..)| plausible(year))
        .map(|(year, month, day)| make(year as i32, month, day, word.to_string()))
}

/// `Mar14,1958` (OCR lost the space after the month) spaced out as `Mar 14,1958`.
fn month_glued_to_day(text: &str) -> Option<String> {
    let text = text.trim_start();
    let word = text.split_whitespace().next()?;
    let month = word.chars().take_while(char::is_ascii_alphabetic).count();
    let day = word[month..].chars().take_while(char::is_ascii_digit).count();
    let ok = (3..=9).contains(&month) && (1..=2).contains(&day) && month_of(&word[..month]).is_some();
    ok.then(|| format!("{} {}", &text[..month], &text[month..]))
}

fn with_month_name(text: &str, today: NaiveDate) -> Option<DateReading> {
    if let Some(spaced) = spaced_compact(text).or_else(|| month_glued_to_day(text)) {
        return with_month_name(&spaced, today);
    }
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '-' || c == '/' || c == '.')
        .filter(|w| !w.is_empty())
        .take(3)
        .collect();
    if words.len() < 3 {
        return None;
    }
    let year_of = |w: &str| -> Option<i32> {
        let digits: String = w.chars().take_while(char::is_ascii_digit).collect();
        match digits.len() {
            4 if digits.len() == w.len() => digits.parse().ok(),
            2 if digits.len() == w.len() => digits.parse().ok().map(|y| full_year(y, today)),
            _ => None,
        }
    };
    let day_of = |w: &str| -> Option<u32> {
        let digits: String = w.chars().take_while(char::is_ascii_digit).collect();
        let suffix = &w[digits.len()..];
        (!digits.is_empty() && digits.len() <= 2 && matches!(suffix, "" | "st" | "nd" | "rd" | "th"))
            .then(|| digits.parse().ok())
            .flatten()
    };
    let two_digits = words[2].len() == 2;
    let shown = format!("{} {} {}", words[0], words[1], words[2]);
    // Month D, YYYY
    if let (Some(month), Some(day), Some(year)) = (month_of(words[0]), day_of(words[1]), year_of(words[2])) {
        return Some(not_after(make(year, month, day, shown), two_digits, today));
    }
    // D Month YYYY / DD-Mon-YYYY
    if let (Some(day), Some(month), Some(year)) = (day_of(words[0]), month_of(words[1]), year_of(words[2])) {
        return Some(not_after(make(year, month, day, shown), two_digits, today));
    }
    // YYYY-Mon-DD / YYYY Month D: a four-digit year only, or `58 Mar 14` would be read too.
    let full_year_first = words[0].len() == 4 && year_of(words[0]).is_some();
    if let (true, Some(year), Some(month), Some(day)) = (
        full_year_first,
        year_of(words[0]),
        month_of(words[1]),
        day_of(words[2]),
    ) {
        return Some(make(year, month, day, shown));
    }
    None
}

fn make(year: i32, month: u32, day: u32, shown: String) -> DateReading {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) if (1850..=2200).contains(&year) => DateReading::Valid(date),
        _ => DateReading::Impossible(shown),
    }
}

/// A two-digit year in today's century, or the one before if that is a later year.
fn full_year(two_digits: u32, today: NaiveDate) -> i32 {
    let century = today.year() / 100 * 100;
    let year = century + two_digits as i32;
    if year > today.year() { year - 100 } else { year }
}

/// A date written with a two-digit year that still lands after today belongs to the century
/// before (later this year, in this century, is next century's past).
fn not_after(reading: DateReading, two_digit_year: bool, today: NaiveDate) -> DateReading {
    match reading {
        DateReading::Valid(date) if two_digit_year && date > today => date
            .with_year(date.year() - 100)
            .map_or(DateReading::Valid(date), DateReading::Valid),
        other => other,
    }
}

fn month_of(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let word = word.to_lowercase();
    let word = word.trim_end_matches('.');
    if word.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(word) || (word == "sept" && *m == "september"))
        .map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    fn date(text: &str) -> Option<NaiveDate> {
        match read_date(text, today()) {
            Some(DateReading::Valid(d)) => Some(d),
            _ => None,
        }
    }

    fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn reads_the_formats_us_records_use() {
        assert_eq!(date("05/27/1964"), ymd(1964, 5, 27));
        assert_eq!(date("5/7/1964 Age: 60"), ymd(1964, 5, 7));
        assert_eq!(date("05-27-1964"), ymd(1964, 5, 27));
        assert_eq!(date("05.27.1964"), ymd(1964, 5, 27));
        assert_eq!(date("1962-01-08  MR#"), ymd(1962, 1, 8));
        assert_eq!(date("07-Jan-1980"), ymd(1980, 1, 7));
        assert_eq!(date("July 19, 1981"), ymd(1981, 7, 19));
        assert_eq!(date("Sept. 3, 2001"), ymd(2001, 9, 3));
        assert_eq!(date("3 March 1999"), ymd(1999, 3, 3));
        assert_eq!(date("December 26th, 1987"), ymd(1987, 12, 26));
        assert_eq!(date("1958-Mar-14"), ymd(1958, 3, 14));
        assert_eq!(date("1958 March 14th"), ymd(1958, 3, 14));
        assert_eq!(date("58-Mar-14"), None, "a two-digit year never comes first");
        assert_eq!(date("6/11/1 949  MRN"), ymd(1949, 6, 11), "a stray OCR space");
        assert_eq!(date("19JUL1981"), ymd(1981, 7, 19));
        assert_eq!(date("07JAN80 Sex: F"), ymd(1980, 1, 7));
        assert_eq!(date("19JULY1981"), ymd(1981, 7, 19));
        // One of the hyphens of `DD-Mon-YYYY` lost.
        assert_eq!(date("14-MAR1958"), ymd(1958, 3, 14));
        assert_eq!(date("14MAR-1958"), ymd(1958, 3, 14));
        assert_eq!(date("14--MAR1958"), None);
        assert_eq!(
            date("Mar14,1958 68 F"),
            ymd(1958, 3, 14),
            "OCR lost the space after the month"
        );
        assert_eq!(date("Mar14"), None);
        assert_eq!(
            date("\u{a0}\u{a0}Mar14,1958"),
            ymd(1958, 3, 14),
            "odd spaces before it"
        );
    }

    #[test]
    fn eight_bare_digits_after_a_label() {
        let compact = |text: &str| read_compact_date(text, today());
        assert_eq!(
            compact("19580314"),
            Some(DateReading::Valid(NaiveDate::from_ymd_opt(1958, 3, 14).unwrap()))
        );
        assert_eq!(
            compact("03141958 Sex: F"),
            Some(DateReading::Valid(NaiveDate::from_ymd_opt(1958, 3, 14).unwrap()))
        );
        assert_eq!(
            compact("19580231"),
            Some(DateReading::Impossible("19580231".into()))
        );
        // Never two real readings: a year of 1850 on starts 18, 19 or 20, which is no month.
        assert_eq!(
            compact("19191920"),
            Some(DateReading::Impossible("19191920".into()))
        );
        for text in [
            "448213",
            "123456789",
            "1958-03-14",
            "99999999",
            "12345678",
            "E1958031",
        ] {
            assert_eq!(compact(text), None, "{text}");
        }
    }

    #[test]
    fn digits_read_as_look_alike_letters_are_put_back_only_on_request() {
        let fixed = |text: &str| match read_date_undoing_confusions(text, today()) {
            Some(DateReading::Valid(d)) => Some(d),
            _ => None,
        };
        assert_eq!(date("O7/19/198l"), None, "the plain reading does not guess");
        assert_eq!(fixed("O7/19/198l"), ymd(1981, 7, 19));
        assert_eq!(fixed("05-27-l964 Age 60"), ymd(1964, 5, 27));
        assert_eq!(fixed("1962-O1-08"), ymd(1962, 1, 8));
        assert_eq!(
            fixed("Marl4,1958 68 F"),
            ymd(1958, 3, 14),
            "a month glued to its day"
        );
        assert_eq!(fixed("L4MAR1958"), ymd(1958, 3, 14), "a compact date's day");
        assert_eq!(fixed("lOMAR1958"), None, "no real digit left in the day");
        for text in [
            "LAMAR",
            "14MAR1958",
            "05/27/1964",
            "Male",
            "SOS",
            "O7/l9",
            "12 years",
            "BOB 1/2/3",
            "",
            "Mayo Clinic",
            "Mar14,1958",
        ] {
            assert_eq!(fixed(text), None, "{text}");
        }
    }

    #[test]
    fn two_digit_years_never_land_in_the_future() {
        assert_eq!(date("04/26/07"), ymd(2007, 4, 26));
        assert_eq!(date("04/26/45"), ymd(1945, 4, 26));
        assert_eq!(
            date("11/30/26"),
            ymd(1926, 11, 30),
            "after today this year: the last century"
        );
        assert_eq!(
            date("2099-01-01"),
            ymd(2099, 1, 1),
            "four-digit years are as written"
        );
    }

    #[test]
    fn day_first_only_when_unambiguous() {
        assert_eq!(date("25/12/1990"), ymd(1990, 12, 25));
        assert_eq!(date("03/04/1990"), ymd(1990, 3, 4));
    }

    #[test]
    fn impossible_dates_are_reported_not_guessed() {
        assert_eq!(
            read_date("02/30/1980", today()),
            Some(DateReading::Impossible("02/30/1980".into()))
        );
        assert_eq!(
            read_date("13/13/1980", today()),
            Some(DateReading::Impossible("13/13/1980".into()))
        );
        assert!(matches!(
            read_date("February 30, 1980", today()),
            Some(DateReading::Impossible(_))
        ));
    }

    #[test]
    fn a_day_of_the_week_before_the_date_is_passed_over() {
        assert_eq!(date("Friday, March 14, 1958"), ymd(1958, 3, 14));
        assert_eq!(date("Fri, 03/14/1958"), ymd(1958, 3, 14));
        assert_eq!(date("Tues. 14 Mar 1958"), None, "an abbreviation needs its comma");
        assert_eq!(date("Sun 03/14/1958"), None);
    }

    #[test]
    fn other_text_is_not_a_date() {
        for text in [
            "",
            "MRN 123",
            "1/2/3/4",
            "04/11/20245",
            "123-45-6789",
            "Male",
            "12 years",
            "12ABC1980",
            "123JUL1981",
        ] {
            assert_eq!(date(text), None, "{text}");
        }
    }
}
