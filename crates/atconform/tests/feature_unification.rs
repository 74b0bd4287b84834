//! README's two commands share one build: every dependency feature set `cargo run -p atconform`
//! resolves is one `cargo test --workspace` resolves too (the unification block of
//! crates/atconform/Cargo.toml; docs/building.md). Without it the run and the tests each build
//! most of the graph, serde and syn included, with their own features.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// `cargo tree` lines `name vX.Y.Z feature,feature` for `args`, deduplicated.
fn resolved(args: &[&str]) -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args(["tree", "--quiet", "--prefix", "none", "--format", "{p} {f}"])
        .args(args)
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_end_matches(" (*)").to_string())
        // Workspace members are listed with their path, which differs per checkout.
        .filter(|l| !l.contains(" ("))
        .collect()
}

#[test]
fn the_binary_resolves_no_feature_set_the_tests_do_not() {
    let run = resolved(&["-p", "atconform", "-e", "no-dev"]);
    let tests = resolved(&["--workspace", "-e", "normal,build,dev"]);
    assert!(run.len() > 100, "the binary's graph looks empty: {run:?}");
    let only_run: Vec<&String> = run.difference(&tests).collect();
    assert!(
        only_run.is_empty(),
        "`cargo run -p atconform` resolves these feature sets and `cargo test --workspace` \
         does not, so the two commands would build them twice; add the test's features to the \
         unification block of crates/atconform/Cargo.toml:\n{}",
        only_run
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
