//! Where run directories go when the user does not say (`--out`): one place per machine or
//! checkout, never wherever the command happens to run.
//!
//! In order: `$ATCONFORM_DATA_DIR`; else `<workspace>/target/atconform` when the command runs
//! under Cargo (`cargo run`, or a test: the workspace of `$CARGO_MANIFEST_DIR`) or from inside a
//! Cargo workspace (the nearest ancestor of the current directory whose `Cargo.toml` has a
//! `[workspace]` table); else `$XDG_DATA_HOME/atconform` or `~/.local/share/atconform`; else
//! `target/atconform`.

use std::path::{Path, PathBuf};

/// The data directory (see the module documentation), not created.
pub fn data_dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let cwd = std::env::current_dir().ok();
    // Under Cargo, its package's workspace comes first (`cargo run --manifest-path`, tests
    // running the binary from a temporary directory).
    let cargo = env("CARGO_MANIFEST_DIR");
    resolve(
        env("ATCONFORM_DATA_DIR"),
        cargo.as_deref().or(cwd.as_deref()),
        env("XDG_DATA_HOME"),
        env("HOME"),
    )
}

/// A new directory name under the data directory: `<data>/<kind>/<unix-time>` (`kind` is
/// `runs` or `matrix`).
pub fn default_dir(kind: &str) -> PathBuf {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    data_dir().join(kind).join(t.to_string())
}

fn resolve(
    explicit: Option<PathBuf>,
    cwd: Option<&Path>,
    xdg: Option<PathBuf>,
    home: Option<PathBuf>,
) -> PathBuf {
    if let Some(d) = explicit {
        return d;
    }
    if let Some(root) = cwd.and_then(workspace_root) {
        return root.join("target").join("atconform");
    }
    if let Some(x) = xdg.filter(|p| p.is_absolute()) {
        return x.join("atconform");
    }
    if let Some(h) = home {
        return h.join(".local/share/atconform");
    }
    PathBuf::from("target/atconform")
}

/// The nearest ancestor of `dir` (itself included) whose `Cargo.toml` declares `[workspace]`.
fn workspace_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| {
            std::fs::read_to_string(d.join("Cargo.toml"))
                .is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_of_precedence() {
        let tmp = std::env::temp_dir().join(format!("atconform-data-dir-{}", std::process::id()));
        let ws = tmp.join("ws");
        let sub = ws.join("crates/x/src");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(ws.join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
        std::fs::write(ws.join("crates/x/Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        let outside = tmp.join("lab");
        std::fs::create_dir_all(&outside).unwrap();
        let home = Some(PathBuf::from("/home/qa"));
        // The environment variable wins.
        assert_eq!(
            resolve(Some("/data".into()), Some(&sub), None, home.clone()),
            PathBuf::from("/data")
        );
        // Anywhere inside the checkout: its target/ (not the member crate's directory).
        assert_eq!(
            resolve(None, Some(&sub), None, home.clone()),
            ws.join("target/atconform")
        );
        // Outside any workspace: the XDG data directory, then ~/.local/share.
        assert_eq!(
            workspace_root(&outside),
            None,
            "no Cargo workspace above {tmp:?}"
        );
        assert_eq!(
            resolve(None, Some(&outside), Some("/xdg".into()), home.clone()),
            PathBuf::from("/xdg/atconform")
        );
        assert_eq!(
            resolve(None, Some(&outside), None, home),
            PathBuf::from("/home/qa/.local/share/atconform")
        );
        let _ = std::fs::remove_dir_all(&tmp);
    }
}
