//! Strict reading of the module's response stream: echo, then frames framed as ERRATA W1 says
//! (`\r\n<line>\r\n`, an information block `\r\nL1\r\nL2\r\n` followed by `\r\n<final>\r\n`).
//!
//! Anything else — a bare LF, a final result code glued to an information block, stray bytes —
//! is a framing error with its byte offset: the device fuzzer reports it as garbage.

/// One frame of module output.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Frame {
    /// An information block (or a URC framed alone): one or more lines.
    Info(Vec<String>),
    /// A final result code (`OK`, `ERROR`, `+CME ERROR: 651`, `CONNECT`, …).
    Final(String),
}

/// A framing violation at a byte offset of the parsed buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramingError {
    /// Offset of the offending byte.
    pub offset: usize,
    /// What was wrong.
    pub what: &'static str,
}

/// Frames parsed from a buffer, and how many bytes they used (the rest is an incomplete frame).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Complete frames, in order.
    pub frames: Vec<Frame>,
    /// Bytes used by them.
    pub consumed: usize,
    /// End offset of each frame.
    pub ends: Vec<usize>,
}

/// Whether `line` is a final result code ([`at_wire::is_final_line`]).
pub fn is_final(line: &str) -> bool {
    at_wire::is_final_line(line.as_bytes())
}

/// Whether a single-line block is an unsolicited result code rather than a response.
pub fn is_urc(line: &str) -> bool {
    line.strip_prefix("+QSMTPPUT: ")
        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        || line.starts_with("+QIURC:")
        || line == "RDY"
        || line.starts_with("+CPIN: NOT")
}

/// Parses as many complete frames as `buf` holds.
///
/// A trailing information block whose end cannot be known yet (no following frame) is reported
/// as complete only if `settled` (no more output is coming, e.g. the read deadline passed).
pub fn parse(buf: &[u8], settled: bool) -> Result<Parsed, FramingError> {
    let mut out = Parsed::default();
    let mut pos = 0;
    while pos < buf.len() {
        let rest = &buf[pos..];
        if !rest.starts_with(b"\r\n") {
            if b"\r\n".starts_with(rest) {
                break; // incomplete frame start
            }
            return Err(FramingError {
                offset: pos,
                what: "expected <CR><LF> before a response line (ERRATA W1)",
            });
        }
        let mut at = pos + 2;
        let mut lines: Vec<String> = Vec::new();
        let mut complete = false;
        let mut final_line = None;
        loop {
            let tail = &buf[at..];
            let Some(end) = tail.windows(2).position(|w| w == b"\r\n") else {
                if let Some(i) = tail.iter().position(|&b| b == b'\n') {
                    return Err(FramingError {
                        offset: at + i,
                        what: "bare <LF> line ending (000 §2.1.2: <CR><LF>)",
                    });
                }
                if let Some(i) = tail.iter().position(|&b| b == b'\r')
                    && i + 1 < tail.len()
                {
                    return Err(FramingError {
                        offset: at + i,
                        what: "bare <CR> inside a response line",
                    });
                }
                break; // line not finished yet
            };
            let raw = &tail[..end];
            if let Some(i) = raw.iter().position(|&b| b == b'\n' || b == b'\r') {
                return Err(FramingError {
                    offset: at + i,
                    what: "bare <CR>/<LF> inside a response line (000 §2.1.2: <CR><LF>)",
                });
            }
            if raw.is_empty() {
                return Err(FramingError {
                    offset: at,
                    what: "empty response line",
                });
            }
            let line = String::from_utf8_lossy(raw).into_owned();
            let next = at + end + 2;
            if is_final(&line) {
                if !lines.is_empty() {
                    return Err(FramingError {
                        offset: at,
                        what: "final result code not framed alone: missing empty line before it (ERRATA W1)",
                    });
                }
                final_line = Some(line);
                at = next;
                complete = true;
                break;
            }
            lines.push(line);
            at = next;
            let after = &buf[at..];
            if after.starts_with(b"\r\n") || (after.is_empty() && settled) {
                complete = true;
                break;
            }
            if after.is_empty() || b"\r\n".starts_with(after) {
                break; // cannot tell yet whether the block goes on
            }
        }
        if !complete {
            break;
        }
        out.frames.push(match final_line {
            Some(f) => Frame::Final(f),
            None => Frame::Info(lines),
        });
        pos = at;
        out.consumed = pos;
        out.ends.push(pos);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(b: &[u8]) -> Vec<Frame> {
        parse(b, true).unwrap().frames
    }

    #[test]
    fn w1_framing_is_accepted() {
        // 000 §2.2.2 example after ERRATA W1.
        let b = b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\n\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n";
        assert_eq!(
            frames(b),
            [
                Frame::Info(vec![
                    "+QSMTPDST: 1,\"a\"".into(),
                    "+QSMTPDST: 2,\"b\"".into()
                ]),
                Frame::Final("OK".into()),
                Frame::Info(vec!["+QSMTPPUT: 0,0".into()]),
            ]
        );
        assert_eq!(parse(b, true).unwrap().consumed, b.len());
    }

    #[test]
    fn partial_input_waits() {
        let p = parse(b"\r\nOK\r\n\r\n+QSMTPB", false).unwrap();
        assert_eq!(p.frames, [Frame::Final("OK".into())]);
        assert_eq!(p.consumed, 6);
        assert_eq!(parse(b"\r\nL1\r\n", false).unwrap().frames, []);
        assert_eq!(parse(b"\r\nL1\r\n", true).unwrap().frames.len(), 1);
        assert_eq!(parse(b"\r", false).unwrap().consumed, 0);
    }

    #[test]
    fn violations_are_located() {
        let e = parse(b"\r\n+QSMTPDST: 1,\"a\"\r\nOK\r\n", true).unwrap_err();
        assert_eq!(e.offset, 20);
        assert!(e.what.contains("W1"));
        assert_eq!(parse(b"\nOK\n", true).unwrap_err().offset, 0);
        assert_eq!(parse(b"\r\nOK\n", true).unwrap_err().offset, 4);
        assert_eq!(
            parse(b"\r\n\r\nOK\r\n", true).unwrap_err().what,
            "empty response line"
        );
        assert_eq!(parse(b"xx", true).unwrap_err().offset, 0);
    }
}
