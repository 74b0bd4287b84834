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
