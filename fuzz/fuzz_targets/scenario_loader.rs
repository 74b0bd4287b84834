//! Scenario-file loader on arbitrary text: never panics, and every error points inside the file
//! (line within the text, non-empty message) and renders; a file that loads is loaded the same
//! way twice.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match at_scenario::load_str("fuzz.scn", &text) {
        Ok(sc) => {
            let again = at_scenario::load_str("fuzz.scn", &text);
            assert_eq!(
                format!("{sc:?}"),
                format!("{:?}", again.expect("second load of the same text failed"))
            );
        }
        Err(e) => {
            let lines = u32::try_from(text.lines().count()).unwrap_or(u32::MAX);
            assert!(
                e.line() >= 1 && e.line() <= lines.saturating_add(1),
                "line {} of {lines}",
                e.line()
            );
            assert!(e.col() >= 1, "column {}", e.col());
            assert!(!e.message().is_empty());
            assert!(!e.to_string().is_empty());
        }
    }
});
