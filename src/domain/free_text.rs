//! Free text that people type (names, organisations, reasons, messages) or appliances
//! send (host names). One rule for all of it: trimmed, bounded, and without control
//! characters or Unicode bidirectional overrides and isolates (U+202A..U+202E,
//! U+2066..U+2069), which could make a name show as something else in the console, a
//! log line, an audit export or a terminal.

use super::DomainError;

/// Whether `c` may never appear in free text: a control character (C0, DEL, C1) or a
/// bidirectional embedding, override or isolate.
pub fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The first forbidden character, described for a message (`U+202E`).
fn first_forbidden(s: &str, allow_newline: bool) -> Option<String> {
    s.chars()
        .find(|c| is_forbidden(*c) && !(allow_newline && *c == '\n'))
        .map(|c| format!("U+{:04X}", u32::from(c)))
}

/// Checks one line of free text: trimmed, at most `max_chars` characters, required or
/// not. Returns the trimmed text.
pub fn line(
    field: &'static str,
    raw: &str,
    max_chars: usize,
    required: bool,
) -> Result<String, DomainError> {
    checked(field, raw.trim(), max_chars, required, false)
}

/// Checks free text that may span lines (`\n`; a `\r\n` from a browser's text area
/// counts as `\n`). Returns the trimmed text with `\n` line ends.
pub fn lines(
    field: &'static str,
    raw: &str,
    max_chars: usize,
    required: bool,
) -> Result<String, DomainError> {
    let text = raw.replace("\r\n", "\n");
    checked(field, text.trim(), max_chars, required, true)
}

fn checked(
    field: &'static str,
    text: &str,
    max_chars: usize,
    required: bool,
    allow_newline: bool,
) -> Result<String, DomainError> {
    if required && text.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if text.chars().count() > max_chars {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if let Some(c) = first_forbidden(text, allow_newline) {
        return Err(DomainError::invalid(
            field,
            format!(
                "contains {c}; control characters and bidirectional-override characters are not allowed"
            ),
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_passes_trimmed() {
        assert_eq!(
            line("name", "  Plant 7 – Zürich  ", 200, true).unwrap(),
            "Plant 7 – Zürich"
        );
        assert_eq!(line("name", "שלום עולם", 200, true).unwrap(), "שלום עולם");
        assert_eq!(line("org", "", 200, false).unwrap(), "");
        assert_eq!(lines("message", "a\r\nb\n", 500, true).unwrap(), "a\nb");
    }

    #[test]
    fn control_and_bidi_characters_are_refused_naming_the_field() {
        for bad in [
            "a\u{0}b",
            "a\tb",
            "a\rb",
            "a\u{1b}[31mb",
            "a\u{7f}b",
            "a\u{85}b",
            "a\u{202a}b",
            "a\u{202e}b",
            "a\u{2066}b",
            "a\u{2069}b",
        ] {
            let e = line("hostname", bad, 253, false).unwrap_err().to_string();
            assert!(e.starts_with("hostname: contains U+"), "{bad:?}: {e}");
        }
        assert!(line("name", "a\nb", 200, true).is_err());
        assert!(lines("message", "a\u{202e}b", 500, true).is_err());
        assert!(lines("message", "a\rb", 500, true).is_err());
    }

    #[test]
    fn length_and_presence() {
        assert!(line("name", "   ", 10, true).is_err());
        assert!(line("name", &"é".repeat(10), 10, true).is_ok());
        assert!(line("name", &"é".repeat(11), 10, true).is_err());
    }
}
