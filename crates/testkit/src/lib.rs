//! Test support: the third-party Python peers (aiosmtpd, pyserial) that the interoperability
//! tests run against, provisioned by the tests themselves.
//!
//! [`python`] returns an interpreter that can import every package of `requirements.txt`. On
//! first use it creates a virtual environment under `<target>/pyenv/<hash of the requirements>`
//! and installs them there, once per machine, under a file lock (test binaries run in parallel).
//! A finished environment is never changed or removed, so a test binary built against other
//! requirements keeps its own and cannot pull one from under another. A fresh machine needs
//! only `python3` (with its `venv`/`pip` modules) and access to PyPI; nothing is skipped: when
//! provisioning fails, the calling test fails with what went wrong and how to fix it.
//!
//! `ATCONFORM_PYTHON=/path/to/python` uses that interpreter as it is (no provisioning).
//!
//! ```no_run
//! let out = std::process::Command::new(at_testkit::python())
//!     .args(["-c", "import aiosmtpd"])
//!     .output()
//!     .unwrap();
//! assert!(out.status.success());
//! ```

#![forbid(unsafe_code)]

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The pinned packages, one requirement per line.
pub const REQUIREMENTS: &str = include_str!("../requirements.txt");

/// An interpreter that imports every package of [`REQUIREMENTS`]; panics with the reason if it
/// cannot be provisioned.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| match provision() {
        Ok(p) => p,
        Err(e) => panic!(
            "cannot provision the Python test peers ({}): {e}\n\
             Fix: install python3 with its venv and pip modules and allow access to PyPI, \
             or set ATCONFORM_PYTHON to an interpreter that has: {}",
            pyenv_dir().display(),
            requirement_names().join(", ")
        ),
    })
}

/// Where the environment for [`REQUIREMENTS`] lives: `<target dir>/pyenv/<hash>`.
pub fn pyenv_dir() -> PathBuf {
    target_dir()
        .join("pyenv")
        .join(format!("{:016x}", fnv1a(REQUIREMENTS.as_bytes())))
}

/// FNV-1a, 64 bits: a stable name for a requirements text (not a security boundary).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    // crates/testkit → the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target")
        .components()
        .collect()
}

fn requirement_names() -> Vec<&'static str> {
    REQUIREMENTS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Why the Python peers could not be provisioned.
#[derive(Debug, thiserror::Error)]
enum ProvisionError {
    /// The target directory is `/`.
    #[error("target directory has no parent")]
    NoParent,
    /// A file-system operation or a command could not be carried out.
    #[error("{context}: {source}")]
    Io {
        /// What was done (a path, `create PATH`, `lock PATH`, `pip install`).
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A command ran and failed.
    #[error("{what} failed ({status}): {stderr}")]
    Failed {
        /// The command (`pip install`).
        what: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed on stderr.
        stderr: String,
    },
}

/// A closure mapping an `io::Error` to [`ProvisionError::Io`] with `context`.
fn io(context: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> ProvisionError {
    let context = context.to_string();
    move |source| ProvisionError::Io { context, source }
}

fn provision() -> Result<PathBuf, ProvisionError> {
    if let Some(p) = std::env::var_os("ATCONFORM_PYTHON") {
        return Ok(PathBuf::from(p));
    }
    let dir = pyenv_dir();
    let parent = dir.parent().ok_or(ProvisionError::NoParent)?;
    fs::create_dir_all(parent).map_err(io(format_args!("create {}", parent.display())))?;
    let lock_path = parent.join("pyenv.lock");
    let lock = File::create(&lock_path).map_err(io(lock_path.display()))?;
    lock.lock()
        .map_err(io(format_args!("lock {}", lock_path.display())))?;

    let python = dir.join("bin/python");
    // Written last: its presence means the environment is complete (and then never touched).
    let stamp = dir.join(".requirements");
    if fs::read_to_string(&stamp).is_ok_and(|s| s == REQUIREMENTS) && python.exists() {
        return Ok(python);
    }
    // Only an unfinished environment (an install that was interrupted) is removed.
    let _ = fs::remove_dir_all(&dir);
    let host = std::env::var_os("PYTHON3").unwrap_or_else(|| "python3".into());
    run(
        Command::new(&host).args(["-m", "venv"]).arg(&dir),
        "python3 -m venv",
    )?;
    let req_file = dir.join("requirements.txt");
    fs::write(&req_file, REQUIREMENTS).map_err(io(req_file.display()))?;
    eprintln!(
        "at-testkit: installing {} into {} (once)",
        requirement_names().join(", "),
        dir.display()
    );
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&req_file),
        "pip install",
    )?;
    let mut f = File::create(&stamp).map_err(io(stamp.display()))?;
    f.write_all(REQUIREMENTS.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(io(stamp.display()))?;
    Ok(python)
}

fn run(cmd: &mut Command, what: &str) -> Result<(), ProvisionError> {
    let out = cmd.output().map_err(io(what))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ProvisionError::Failed {
            what: what.into(),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn provisioned_python_imports_every_peer() {
        let out = std::process::Command::new(super::python())
            .args(["-c", "import aiosmtpd, serial; print('ok')"])
            .output()
            .expect("run python");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "ok",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
