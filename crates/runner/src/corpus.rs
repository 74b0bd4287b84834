//! The scenario corpus embedded at build time, and loading of other corpora.

use std::path::Path;

use at_scenario::{LoadError, LoadErrors, Scenario};

include!(concat!(env!("OUT_DIR"), "/corpus.rs"));

/// Why a corpus did not load; each scenario error is rendered with its file:line:col.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// Embedded scenarios that do not load (a build defect), one report per line.
    #[error("{}", .0.iter().map(|e| format!("{e:?}")).collect::<Vec<_>>().join("\n"))]
    Embedded(Vec<LoadError>),
    /// A scenario file that does not load.
    #[error("{0:?}")]
    File(#[source] LoadError),
    /// Scenario files of a directory that do not load.
    #[error("{0:?}")]
    Dir(#[source] LoadErrors),
}

/// Loads the embedded corpus (names are paths under `scenarios/`).
pub fn embedded() -> Result<Vec<Scenario>, CorpusError> {
    let mut out = Vec::with_capacity(CORPUS.len());
    let mut errors = Vec::new();
    for (name, text) in CORPUS {
        match at_scenario::load_str(name, text) {
            Ok(sc) => out.push(sc),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(CorpusError::Embedded(errors))
    }
}

/// Loads scenario files and directories (recursively) in the order given.
pub fn load_paths(paths: &[impl AsRef<Path>]) -> Result<Vec<Scenario>, CorpusError> {
    let mut out = Vec::new();
    for p in paths {
        let p = p.as_ref();
        if p.is_dir() {
            out.extend(at_scenario::load_dir(p).map_err(CorpusError::Dir)?);
        } else {
            out.push(at_scenario::load_file(p).map_err(CorpusError::File)?);
        }
    }
    Ok(out)
}

/// Loads scenario files and directories like [`load_paths`], but keeps every file that
/// loads: returns them and the rendered error of each file that did not.
pub fn load_paths_each(paths: &[impl AsRef<Path>]) -> (Vec<Scenario>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let p = p.as_ref();
        if p.is_dir() {
            let (ok, bad) = at_scenario::load_dir_each(p);
            out.extend(ok);
            errors.extend(bad.iter().map(|e| format!("{e:?}")));
        } else {
            match at_scenario::load_file(p) {
                Ok(sc) => out.push(sc),
                Err(e) => errors.push(format!("{e:?}")),
            }
        }
    }
    (out, errors)
}

/// An embedded data file by its path under `scenarios/` (`data/report.txt`).
pub fn data_file(path: &str) -> Option<&'static [u8]> {
    DATA.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

/// `rel` (as written in a scenario) resolved against the directory of scenario `name`, both
/// corpus paths: `edge/x.scn` + `../data/r.txt` = `data/r.txt`.
pub fn resolve_relative(name: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = name.split('/').collect();
    parts.pop();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// Whether the citation `source` (`000 §2.2.4`, `001 p.9`) falls under `section`: the same
/// document, and `section`'s numbers a prefix of the citation's (`000 §2.2` selects
/// `000 §2.2.4`; `000` the whole document). `§` and spacing are optional: `000 2.2.4`.
pub fn cites(source: &str, section: &str) -> bool {
    fn parts(s: &str) -> (String, Vec<String>) {
        let s = s.trim();
        let (doc, rest) = match s.find(|c: char| c.is_whitespace() || c == '§') {
            Some(i) => (s.get(..i).unwrap_or(s), s.get(i..).unwrap_or("")),
            None => (s, ""),
        };
        let rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '§');
        let path = rest
            .split('.')
            .map(|p| p.trim().to_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        (doc.to_lowercase(), path)
    }
    let (sdoc, spath) = parts(source);
    let (want, wpath) = parts(section);
    sdoc == want && wpath.len() <= spath.len() && spath.iter().zip(&wpath).all(|(a, b)| a == b)
}

/// The scenario's path from the corpus root (`quectel/3.1-send-plain.scn`).
pub fn corpus_name(name: &str) -> &str {
    match name.rfind("scenarios/") {
        Some(i) => name.get(i + "scenarios/".len()..).unwrap_or(name),
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_select_their_subsections() {
        assert!(cites("000 §2.2.4", "000 §2.2.4"));
        assert!(cites("000 §2.2.4", "000 §2.2"));
        assert!(cites("000 §2.2.4", "000 2.2.4"));
        assert!(cites("000 §2.2.4", "000"));
        assert!(!cites("000 §2.2.4", "000 §2.2.40"));
        assert!(!cites("000 §2.2.40", "000 §2.2.4"));
        assert!(!cites("000 §2.2", "000 §2.2.4"));
        assert!(!cites("001 §2.2.4", "000 §2.2.4"));
        assert!(cites("001 p.9", "001 p.9"));
        assert!(!cites("001 p.19", "001 p.9"));
    }

    #[test]
    fn relative_paths_resolve_within_the_corpus() {
        assert_eq!(
            resolve_relative("edge/x.scn", "../data/r.txt"),
            "data/r.txt"
        );
        assert_eq!(resolve_relative("x.scn", "./d/r.txt"), "d/r.txt");
    }

    #[test]
    fn a_bad_file_does_not_hide_the_good_ones() {
        let dir = std::env::temp_dir().join(format!("atconform-corpus-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = "title: t\nsource: 000 §2.2.6\nprofiles: ec25\n> AT\n< OK\n";
        std::fs::write(dir.join("a.scn"), good).unwrap();
        std::fs::write(dir.join("b.scn"), "title: t\n@bogus\n").unwrap();
        std::fs::write(dir.join("c.scn"), good).unwrap();
        let (ok, bad) = load_paths_each(&[&dir]);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(ok.len(), 2);
        assert_eq!(bad.len(), 1);
        assert!(
            bad[0].contains("b.scn:2:1") && bad[0].contains("@bogus"),
            "{}",
            bad[0]
        );
    }

    #[test]
    fn embedded_corpus_loads_with_its_data() {
        let all = embedded().expect("corpus loads");
        assert!(all.len() >= 60, "{}", all.len());
        for (p, _) in DATA {
            assert!(data_file(p).is_some());
        }
    }
}
