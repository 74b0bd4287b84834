//! Library errors are typed (thiserror), never `String` (ARCHITECTURE.md; issue 15): no
//! library source declares `Result<_, String>` or `type Err = String`. The binary, which only
//! prints errors (miette), is exempt.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `Result<…, String>` with the error type at the end of the generic list.
fn string_error(line: &str) -> bool {
    line.contains("type Err = String")
        || line.match_indices("Result<").any(|(i, _)| {
            let mut depth = 0usize;
            let mut last_comma = None;
            for (j, c) in line[i + 7..].char_indices() {
                match c {
                    '<' | '(' | '[' => depth += 1,
                    '>' | ')' | ']' if depth > 0 => depth -= 1,
                    '>' => {
                        return last_comma
                            .is_some_and(|k| line[i + 7 + k + 1..i + 7 + j].trim() == "String");
                    }
                    ',' if depth == 0 => last_comma = Some(j),
                    _ => {}
                }
            }
            false
        })
}

#[test]
fn the_detector_sees_what_it_looks_for() {
    assert!(string_error("pub fn f() -> Result<Vec<u8>, String> {"));
    assert!(string_error("    type Err = String;"));
    assert!(string_error("fn g() -> Result<(u8, &'static str), String>"));
    assert!(!string_error("fn f() -> Result<String, Error>"));
    assert!(!string_error("fn f() -> Result<Vec<String>, io::Error>"));
    assert!(!string_error("fn f() -> Option<(u32, String)>"));
}

#[test]
fn no_library_returns_string_errors() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for e in std::fs::read_dir(&crates).expect("crates/").flatten() {
        let src = e.path().join("src");
        if e.file_name() != "atconform" && src.is_dir() {
            sources(&src, &mut files);
        }
    }
    assert!(files.len() > 50, "found only {} sources", files.len());
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        for (n, line) in text.lines().enumerate() {
            if string_error(line) {
                found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "library errors are thiserror types, not String:\n{}",
        found.join("\n")
    );
}
