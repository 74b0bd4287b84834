//! The scenario corpus embedded at build time, and loading of other corpora.

use std::path::Path;

use at_scenario::Scenario;

include!(concat!(env!("OUT_DIR"), "/corpus.rs"));

/// Loads the embedded corpus (names are paths under `scenarios/`).
pub fn embedded() -> Result<Vec<Scenario>, String> {
    let mut out = Vec::with_capacity(CORPUS.len());
    let mut errors = Vec::new();
    for (name, text) in CORPUS {
        match at_scenario::load_str(name, text) {
            Ok(sc) => out.push(sc),
            Err(e) => errors.push(format!("{e:?}")),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.join("\n"))
    }
}

/// Loads scenario files and directories (recursively) in the order given.
pub fn load_paths(paths: &[impl AsRef<Path>]) -> Result<Vec<Scenario>, String> {
    let mut out = Vec::new();
    for p in paths {
        let p = p.as_ref();
        if p.is_dir() {
            out.extend(at_scenario::load_dir(p).map_err(|e| format!("{e:?}"))?);
        } else {
            out.push(at_scenario::load_file(p).map_err(|e| format!("{e:?}"))?);
        }
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_within_the_corpus() {
        assert_eq!(
            resolve_relative("edge/x.scn", "../data/r.txt"),
            "data/r.txt"
        );
        assert_eq!(resolve_relative("x.scn", "./d/r.txt"), "d/r.txt");
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
