//! Loader errors: one input file per error kind under `tests/errors/`, one snapshot each with
//! the `file:line:col: message` line, the diagnostic code, and miette's rendering.

use std::path::Path;

use at_scenario::load_file;
use miette::{GraphicalReportHandler, GraphicalTheme};

fn render(path: &Path) -> String {
    let err = match load_file(path) {
        Ok(_) => panic!("{} loaded but must fail", path.display()),
        Err(e) => e,
    };
    // Paths relative to the crate keep snapshots machine-independent.
    let mut report = String::new();
    GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .render_report(&mut report, &err)
        .expect("render");
    format!(
        "{}\ncode: {}\nline: {} col: {}\n\n{}",
        err,
        err.kind().code(),
        err.line(),
        err.col(),
        report
    )
}

#[test]
fn loader_error_snapshots() {
    insta::glob!("errors/*.scn", |path| {
        // cargo runs tests from the package root: loading by the crate-relative path keeps
        // every path in the diagnostics (including resolved payload files) machine-independent.
        let rel = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .expect("glob paths are under the crate");
        let text = render(rel);
        assert!(
            !text.contains(env!("CARGO_MANIFEST_DIR")),
            "absolute checkout path leaked into a diagnostic:\n{text}"
        );
        insta::assert_snapshot!(text);
    });
}

#[test]
fn unknown_keys_are_errors_not_ignored() {
    let head = "title: t\nsource: 000 §2.2.2\nprofiles: ec25\n";
    for (body, kind) in [
        (
            "colour: red\n> AT\n< OK\n",
            at_scenario::ErrorKind::UnknownHeader,
        ),
        (
            "> AT\n< OK\n@colour red\n",
            at_scenario::ErrorKind::UnknownDirective,
        ),
        (
            "> AT\n< OK\n@mail\n    colour: red\n",
            at_scenario::ErrorKind::UnknownKey,
        ),
        (
            "> AT\n< OK\n@smtp\n    colour: red\n",
            at_scenario::ErrorKind::UnknownKey,
        ),
        (
            "> AT\n< OK\n@escape colour=red\n",
            at_scenario::ErrorKind::UnknownKey,
        ),
        (
            "> AT\n< CONNECT\n@data 5 colour=red\n",
            at_scenario::ErrorKind::UnknownKey,
        ),
        (
            "> AT\n< OK\n@mail\n    attachment: a.txt colour=red\n",
            at_scenario::ErrorKind::UnknownKey,
        ),
    ] {
        let err = at_scenario::load_str("k.scn", &format!("{head}{body}")).unwrap_err();
        assert_eq!(err.kind(), kind, "{body:?}: {err}");
        assert!(err.to_string().contains("colour"), "{err}");
    }
}

#[test]
fn debug_is_the_rendered_report() {
    let err = at_scenario::load_str("d.scn", "title: t\n@bogus\n").unwrap_err();
    let dbg = format!("{err:?}");
    assert!(
        dbg.contains("d.scn:2:1: unknown directive `@bogus`"),
        "{dbg}"
    );
    assert!(dbg.contains("help: directives:"), "{dbg}");
    assert!(dbg.contains("2 │ @bogus"), "{dbg}");
}
