//! The one duration syntax of atconform: scenario files (`timeout: 1.5s`, `@wait 300ms`,
//! `@fault pdp-deactivate@1.5s`), command-line flags (`--case-budget 90s`, `--idle-timeout 10m`),
//! fault scripts and emulator fault names all read and write durations here.
//!
//! Grammar: `DIGITS [ "." DIGITS ] UNIT`, `UNIT` one of `ms`, `s`, `m`/`min`, `h`. The value is
//! exact to the nanosecond: nothing is rounded or truncated, and a value finer than a
//! nanosecond is an error. [`parse_or_secs`] (flags, fault scripts) also takes a bare number as
//! seconds and ignores surrounding white space.
//!
//! ```
//! use at_wire::duration;
//! use core::time::Duration;
//! assert_eq!(duration::parse("1.5s"), Ok(Duration::from_millis(1500)));
//! assert_eq!(duration::parse("2min"), Ok(Duration::from_secs(120)));
//! assert_eq!(duration::parse_or_secs(" 90 "), Ok(Duration::from_secs(90)));
//! assert_eq!(duration::format(Duration::from_millis(1500)), "1500ms");
//! assert_eq!(duration::format(Duration::from_secs(30)), "30s");
//! assert!(duration::parse("10").is_err());
//! ```

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::time::Duration;

/// Why a duration does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DurationError {
    /// No number (`s`, `.5s`, `1.s`, `-1s`, empty).
    NoNumber,
    /// No unit, or an unknown one (`10`, `10 s`, `1sec`, `1e3ms`).
    BadUnit,
    /// Finer than a nanosecond (`0.0000000001s`).
    TooPrecise,
    /// Longer than `Duration` can hold.
    TooLong,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DurationError::NoNumber => "expected a number and a unit (300ms, 1.5s, 2min, 1h)",
            DurationError::BadUnit => "expected a unit: ms, s, m (or min), h",
            DurationError::TooPrecise => "finer than a nanosecond",
            DurationError::TooLong => "too long",
        })
    }
}

impl core::error::Error for DurationError {}

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Parses `300ms`, `1.5s`, `2min`, `5m`, `1h`: a number and a unit, exact to the nanosecond.
pub fn parse(s: &str) -> Result<Duration, DurationError> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let unit_ns: u128 = match unit {
        "ms" => 1_000_000,
        "s" => NANOS_PER_SEC,
        "m" | "min" => 60 * NANOS_PER_SEC,
        "h" => 3_600 * NANOS_PER_SEC,
        _ if num.is_empty() => return Err(DurationError::NoNumber),
        _ => return Err(DurationError::BadUnit),
    };
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || (num.contains('.') && !digits(frac)) {
        return Err(DurationError::NoNumber);
    }
    // Leading zeros say nothing; bounded lengths keep the arithmetic in u128.
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    if int.len() > 20 {
        return Err(DurationError::TooLong);
    }
    if frac.len() > 18 {
        return Err(DurationError::TooPrecise);
    }
    let int: u128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| DurationError::TooLong)?
    };
    let frac_ns = if frac.is_empty() {
        0
    } else {
        let f: u128 = frac.parse().map_err(|_| DurationError::TooPrecise)?;
        let scale = 10u128.pow(u32::try_from(frac.len()).map_err(|_| DurationError::TooPrecise)?);
        let scaled = f * unit_ns;
        if !scaled.is_multiple_of(scale) {
            return Err(DurationError::TooPrecise);
        }
        scaled / scale
    };
    let total = int
        .checked_mul(unit_ns)
        .and_then(|n| n.checked_add(frac_ns))
        .ok_or(DurationError::TooLong)?;
    let secs = u64::try_from(total / NANOS_PER_SEC).map_err(|_| DurationError::TooLong)?;
    // Below 1e9, so it fits.
    let nanos = (total % NANOS_PER_SEC) as u32;
    Ok(Duration::new(secs, nanos))
}

/// [`parse`], and a bare number means seconds (`90`, `1.5`); surrounding white space is ignored.
/// For command-line flags and fault scripts.
pub fn parse_or_secs(s: &str) -> Result<Duration, DurationError> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        parse(&format!("{t}s"))
    } else {
        parse(t)
    }
}

/// Writes `d` in the syntax [`parse`] reads, exactly: `30s`, `1500ms`, `0.0000015s`.
pub fn format(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns.is_multiple_of(NANOS_PER_SEC) {
        format!("{}s", d.as_secs())
    } else if ns.is_multiple_of(1_000_000) {
        format!("{}ms", ns / 1_000_000)
    } else {
        let frac = format!("{:09}", d.subsec_nanos());
        format!("{}.{}s", d.as_secs(), frac.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let ok: &[(&str, Duration)] = &[
            ("0s", Duration::ZERO),
            ("300ms", Duration::from_millis(300)),
            ("1.5s", Duration::from_millis(1500)),
            ("1.5ms", Duration::from_micros(1500)),
            ("1.2345s", Duration::from_micros(1_234_500)),
            ("2min", Duration::from_secs(120)),
            ("5m", Duration::from_secs(300)),
            ("1h", Duration::from_secs(3600)),
            ("0.000000001s", Duration::from_nanos(1)),
            ("007s", Duration::from_secs(7)),
        ];
        for (text, d) in ok {
            assert_eq!(parse(text), Ok(*d), "{text}");
        }
        for (bad, e) in [
            ("", DurationError::NoNumber),
            ("s", DurationError::NoNumber),
            (".5s", DurationError::NoNumber),
            ("1.s", DurationError::NoNumber),
            ("-1s", DurationError::NoNumber),
            ("1..5s", DurationError::NoNumber),
            ("10", DurationError::BadUnit),
            ("10 s", DurationError::BadUnit),
            ("1e3ms", DurationError::BadUnit),
            ("1sec", DurationError::BadUnit),
            ("0.0000000001s", DurationError::TooPrecise),
            ("99999999999999999999h", DurationError::TooLong),
            ("999999999999999999999s", DurationError::TooLong),
        ] {
            assert_eq!(parse(bad), Err(e), "{bad:?}");
        }
        assert_eq!(parse_or_secs("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_or_secs(" 1.5 "), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_or_secs("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_or_secs("x"), Err(DurationError::NoNumber));
    }

    #[test]
    fn format_table() {
        assert_eq!(format(Duration::ZERO), "0s");
        assert_eq!(format(Duration::from_secs(2)), "2s");
        assert_eq!(format(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format(Duration::from_nanos(1_500_001)), "0.001500001s");
    }
}
