//! The duration syntax round-trips: every `Duration` is written exactly and read back.

use at_wire::duration::{format, parse, parse_or_secs};
use core::time::Duration;
use proptest::prelude::*;

proptest! {
    #[test]
    fn parse_format_round_trip(secs in 0u64..=u64::MAX, nanos in 0u32..1_000_000_000) {
        let d = Duration::new(secs, nanos);
        prop_assert_eq!(parse(&format(d)), Ok(d));
        prop_assert_eq!(parse_or_secs(&format(d)), Ok(d));
    }

    #[test]
    fn millisecond_durations_round_trip(ms in 0u64..100_000_000) {
        let d = Duration::from_millis(ms);
        prop_assert_eq!(parse(&format(d)), Ok(d));
    }

    #[test]
    fn never_panics(s in "\\PC{0,30}") {
        let _ = parse(&s);
        let _ = parse_or_secs(&s);
    }
}
