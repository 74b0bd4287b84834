//! Run directories: where a run's `report.json` and transcripts go, never mixed with another
//! run's.

use std::path::{Path, PathBuf};

/// Why a run directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    /// The directory holds files (of an earlier run) and `--force` was not given.
    #[error(
        "run directory {0} is not empty (an earlier run?); choose another --out, or add --force \
         to empty it first"
    )]
    NotEmpty(PathBuf),
    /// `--force` was given but the directory holds files a run does not write.
    #[error("{0} does not look like a run directory ({1}); refusing to empty it")]
    NotARunDir(PathBuf, String),
    /// Reading, emptying or creating it failed.
    #[error("run directory {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// Makes `dir` ready for a new run: created if missing; an existing empty directory is used;
/// a non-empty one is refused unless `force`, which empties it first, and only if everything
/// in it is what runs write (`*.txt`, `*.json`, `*.html`, `*.xml`, and directories of those).
pub fn prepare(dir: &Path, force: bool) -> Result<(), RunDirError> {
    let io = |e| RunDirError::Io(dir.to_path_buf(), e);
    match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return std::fs::create_dir_all(dir).map_err(io);
        }
        Err(e) => return Err(io(e)),
        Ok(mut rd) => {
            if rd.next().is_none() {
                return Ok(());
            }
        }
    }
    if !force {
        return Err(RunDirError::NotEmpty(dir.to_path_buf()));
    }
    if let Some(why) = foreign(dir, 0) {
        return Err(RunDirError::NotARunDir(dir.to_path_buf(), why));
    }
    for e in std::fs::read_dir(dir).map_err(io)?.flatten() {
        let p = e.path();
        let r = if e.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        r.map_err(io)?;
    }
    Ok(())
}

/// The first entry under `dir` that a run would not have written, if any.
fn foreign(dir: &Path, depth: usize) -> Option<String> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => return Some(format!("{}: {e}", dir.display())),
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(t) = e.file_type() else {
            return Some(name);
        };
        if t.is_dir() {
            // `run --target` writes one run directory per target.
            if depth > 0 {
                return Some(format!("directory {}", p.display()));
            }
            if let Some(why) = foreign(&p, depth + 1) {
                return Some(why);
            }
        } else if !t.is_file()
            || !(name.starts_with(smtp_sink::durable::TEMP_PREFIX)
                || [".txt", ".json", ".html", ".xml"]
                    .iter()
                    .any(|ext| name.ends_with(ext)))
        {
            return Some(format!("{} is not a report or transcript", p.display()));
        }
    }
    None
}

/// `base` if it does not exist yet, else `base-2`, `base-3`, ... (default run directories named
/// by the time must not collide when two runs start in the same second).
pub fn unused(base: &Path) -> PathBuf {
    if !base.exists() {
        return base.to_path_buf();
    }
    (2u32..)
        .map(|n| PathBuf::from(format!("{}-{n}", base.display())))
        .find(|p| !p.exists())
        .unwrap_or_else(|| base.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_used_directory_unless_forced_and_forces_only_run_directories() {
        let d = tempfile::tempdir().unwrap();
        let run = d.path().join("run");
        prepare(&run, false).unwrap();
        prepare(&run, false).unwrap(); // empty: fine
        std::fs::write(run.join("report.json"), b"{}").unwrap();
        std::fs::create_dir(run.join("ec25")).unwrap();
        std::fs::write(run.join("ec25/a.ec25.txt"), b"x").unwrap();
        assert!(matches!(
            prepare(&run, false),
            Err(RunDirError::NotEmpty(_))
        ));
        prepare(&run, true).unwrap();
        assert_eq!(std::fs::read_dir(&run).unwrap().count(), 0);
        // Something a run does not write: --force does not delete it.
        std::fs::write(run.join("notes.md"), b"mine").unwrap();
        let e = prepare(&run, true).unwrap_err();
        assert!(matches!(e, RunDirError::NotARunDir(..)), "{e}");
        assert!(run.join("notes.md").exists());
        assert_eq!(unused(&run), PathBuf::from(format!("{}-2", run.display())));
    }
}
