//! The HTML report rendered by a real headless browser (Debian's `chromium`), checked pixel by
//! pixel: the matrix shows graded cells on a desktop and on a phone, and a cell's detail view
//! covers the matrix.
//!
//! Needs `apt-get install -y chromium` (or `CHROMIUM=/path/to/chrome`), so it is `#[ignore]`d in
//! the README test command and run by `.ci/run` after installing the browser:
//! `cargo test -p at-report --test tests render -- --ignored` (it fails, never skips, without it).

use std::path::{Path, PathBuf};
use std::process::Command;

use at_report::html::{grade_colour, render};
use at_report::matrix::{Grade, Matrix};

use crate::common::{corpus, runs};

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return p.into();
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "headless chromium not found: install it with `apt-get update && apt-get install -y chromium` \
         (or set CHROMIUM=/path/to/chromium)"
    );
}

/// Screenshots `url` at `w`×`h` and returns the RGBA pixels.
fn screenshot(url: &str, w: u32, h: u32, out: &Path) -> Vec<[u8; 4]> {
    let profile = tempfile::tempdir().unwrap();
    let status = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", out.display()))
        .arg(format!("--window-size={w},{h}"))
        .arg(url)
        .output()
        .expect("chromium starts");
    assert!(
        status.status.success() && out.is_file(),
        "chromium failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(out).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (w, h), "screenshot size");
    let px = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    buf[..info.buffer_size()]
        .chunks_exact(px)
        .map(|c| [c[0], c[1], c[2], 255])
        .collect()
}

fn count(pixels: &[[u8; 4]], g: Grade) -> usize {
    let (r, gr, b) = grade_colour(g);
    pixels
        .iter()
        .filter(|p| p[0] == r && p[1] == gr && p[2] == b)
        .count()
}

#[test]
#[ignore = "needs headless chromium: .ci/run installs it and runs this with --ignored"]
fn chromium_renders_matrix_and_detail_view() {
    let dir = tempfile::tempdir().unwrap();
    let runs = runs(
        &["emulator:ec25", "emulator:ec25+body-length-off-by-one"],
        &["2.2.4-qsmtpbody-length", "dtr-ends-body", "2.2.3-qsmtpsub"],
        dir.path(),
    );
    let m = Matrix::build(&runs, &corpus());
    let page = dir.path().join("matrix.html");
    std::fs::write(&page, render(&m, "render test")).unwrap();
    let url = format!("file://{}", page.display());

    // Desktop: pass cells (green) and the quirk's fail cells (red) are painted.
    let desk = screenshot(&url, 1200, 900, &dir.path().join("desk.png"));
    let (pass, fail) = (count(&desk, Grade::Pass), count(&desk, Grade::Fail));
    assert!(pass > 2000, "pass cells visible on desktop: {pass} px");
    assert!(fail > 1000, "fail cells visible on desktop: {fail} px");
    assert!(
        desk.iter().filter(|p| p[..3] == [255, 255, 255]).count() > desk.len() / 4,
        "a page, not a blank colour"
    );

    // Phone: the page fits the width and the cells still show.
    let phone = screenshot(&url, 390, 844, &dir.path().join("phone.png"));
    assert!(
        count(&phone, Grade::Pass) > 500,
        "pass cells visible on a phone"
    );

    // Detail view of a failing cell: an overlay with the red badge, the matrix hidden.
    let row = m
        .rows()
        .position(|r| r.scenario == "quectel/2.2.4-qsmtpbody-length.scn")
        .unwrap();
    assert_eq!(
        m.rows().nth(row).unwrap().cells[1].as_ref().unwrap().grade,
        Grade::Fail
    );
    let detail = screenshot(
        &format!("{url}#d-{row}-1"),
        900,
        700,
        &dir.path().join("detail.png"),
    );
    assert!(count(&detail, Grade::Fail) > 100, "the fail badge");
    assert_eq!(count(&detail, Grade::Pass), 0, "the matrix is covered");
}
