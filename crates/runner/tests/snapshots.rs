//! insta snapshots of every scenario's byte exchanges on the emulator, AT side and SMTP side,
//! one file per scenario in `/snapshots/` (profiles with identical exchanges share a section).
//!
//! Review changes with `cargo insta review` (or `INSTA_UPDATE=always` and `git diff`).

use std::path::Path;
use std::sync::atomic::AtomicBool;

#[test]
fn corpus_byte_exchanges() {
    let scenarios = at_runner::corpus::embedded().expect("the embedded corpus loads");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../snapshots");
    for sc in &scenarios {
        let mut sections: Vec<(Vec<String>, String)> = Vec::new();
        for profile in sc.meta.profiles.iter() {
            let r = at_runner::run_case_emulated(sc, profile, &[], &AtomicBool::new(false));
            let text = at_runner::snapshot::render_case(&r);
            match sections.iter_mut().find(|(_, t)| *t == text) {
                Some((ps, _)) => ps.push(profile.to_string()),
                None => sections.push((vec![profile.to_string()], text)),
            }
        }
        let mut body = String::new();
        for (profiles, text) in &sections {
            body.push_str(&format!(
                "=== profiles: {} ===\n{text}",
                profiles.join(", ")
            ));
        }
        let name = sc.name.trim_end_matches(".scn").replace('/', "__");
        insta::with_settings!({
            snapshot_path => &dir,
            prepend_module_to_snapshot => false,
            description => format!("{} — {}", sc.name, sc.meta.title),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, body);
        });
    }
}
