//! Bounded text: every message, traceback or value the host quotes back to
//! a caller is cut to a documented size, with a marker saying so. A small
//! request must never become a huge response (or a huge stored row).

/// Longest error message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4 << 10;
/// Longest traceback, in bytes.
pub const MAX_TRACEBACK_BYTES: usize = 16 << 10;
/// Longest quoted value (an input, an expected or actual output) inside a
/// message, in bytes.
pub const MAX_QUOTE_BYTES: usize = 512;

/// `s` cut to at most `max` bytes plus a marker, on a character boundary.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated: {} more bytes]", &s[..end], s.len() - end)
}

/// A JSON value as compact text, cut to [`MAX_QUOTE_BYTES`].
pub fn quote(v: &serde_json::Value) -> String {
    truncate(&v.to_string(), MAX_QUOTE_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_a_char_boundary_and_says_so() {
        assert_eq!(truncate("short", 10), "short");
        let cut = truncate(&"é".repeat(10), 5);
        assert!(cut.starts_with("éé…"), "{cut}");
        assert!(cut.ends_with("[truncated: 16 more bytes]"), "{cut}");
        let big = "E".repeat(8_000_000);
        assert!(truncate(&big, MAX_MESSAGE_BYTES).len() < MAX_MESSAGE_BYTES + 64);
    }
}
