//! Small text helpers shared by every host that shows tasks to a person.

use std::borrow::Cow;

/// Bytes as text, invalid UTF-8 replaced by U+FFFD: `String::from_utf8_lossy`, with the fast
/// validation of `str::from_utf8` first (several times faster on the ASCII lines agents
/// mostly print; output is decoded line by line on its hot path).
pub fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// A duration as a person reads it: `3.2s`, `4m 05s`, `1h 02m`.
pub fn duration(ms: u64) -> String {
    let secs = ms / 1000;
    if secs < 60 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if secs < 3600 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// At most `max` characters of `text`, with `…` when it was cut.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A place in a line: 1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th, 21st.
pub fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_cuts_read_naturally() {
        assert_eq!(duration(3_240), "3.2s");
        assert_eq!(duration(245_000), "4m 05s");
        assert_eq!(duration(3_720_000), "1h 02m");
        assert_eq!(shorten("héllo", 2), "hé…");
        assert_eq!(shorten("hi", 2), "hi");
    }

    #[test]
    fn places_in_a_line() {
        let places: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            places,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
                "111th"
            ]
        );
    }
}

#[cfg(test)]
mod lossy_tests {
    use super::lossy;

    #[test]
    fn valid_text_is_borrowed_and_invalid_bytes_are_replaced() {
        assert!(matches!(
            lossy(b"plain ascii"),
            std::borrow::Cow::Borrowed("plain ascii")
        ));
        assert_eq!(lossy("héllo ✓".as_bytes()), "héllo ✓");
        assert_eq!(lossy(b"a\xffb"), "a\u{fffd}b");
    }
}
