//! Rendering bytes so that every control byte is visible (reviews, diffs, snapshots).

/// Escapes `bytes`: printable ASCII as is (`\` doubled), `\r`, `\n`, `\t`, others as `\xNN`.
///
/// ```
/// assert_eq!(at_runner::escape(b"AT\r\r\nOK\r\n\x1a\\"), r"AT\r\r\nOK\r\n\x1a\\");
/// ```
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 4);
    for &b in bytes {
        push_escaped(&mut out, b);
    }
    out
}

/// Appends the escaped form of one byte.
pub(crate) fn push_escaped(out: &mut String, b: u8) {
    match b {
        b'\r' => out.push_str("\\r"),
        b'\n' => out.push_str("\\n"),
        b'\t' => out.push_str("\\t"),
        b'\\' => out.push_str("\\\\"),
        0x20..=0x7e => out.push(char::from(b)),
        _ => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\x");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// Escapes `bytes` and breaks the result after each `\n`, one rendered line per device line.
pub fn escape_lines(bytes: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for &b in bytes {
        push_escaped(&mut cur, b);
        if b == b'\n' {
            lines.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Width of the escaped form of `bytes` (for aligning a caret under a byte).
pub(crate) fn escaped_width(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| match b {
            b'\r' | b'\n' | b'\t' | b'\\' => 2,
            0x20..=0x7e => 1,
            _ => 4,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_has_a_visible_form_and_width_agrees() {
        let all: Vec<u8> = (0..=255).collect();
        let s = escape(&all);
        assert!(s.chars().all(|c| c.is_ascii_graphic() || c == ' '));
        assert_eq!(s.len(), escaped_width(&all));
    }

    #[test]
    fn lines_break_after_lf_only() {
        assert_eq!(
            escape_lines(b"\r\nOK\r\nX\rY"),
            vec![r"\r\n", r"OK\r\n", r"X\rY"]
        );
    }
}
