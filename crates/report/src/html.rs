//! The matrix as one self-contained HTML file: inline CSS, no script, no external resource,
//! readable on a phone (the table scrolls sideways, the scenario column stays put).
//!
//! Each cell links to an in-page detail view (`#d-ROW-COL`, shown with CSS `:target`) with the
//! failing step's expected vs observed bytes and the full, escaped wire log.

use std::fmt::Write as _;

use crate::matrix::{Cell, Grade, Matrix};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Background colour of a grade (the render test looks for these pixels).
pub fn grade_colour(g: Grade) -> (u8, u8, u8) {
    match g {
        Grade::Pass => (0x1a, 0x7f, 0x37),
        Grade::NonStrict => (0x9a, 0x67, 0x00),
        Grade::Fail => (0xcf, 0x22, 0x2e),
        Grade::Informational => (0x6e, 0x77, 0x81),
        Grade::Unimplemented => (0x82, 0x50, 0xdf),
        Grade::Skip => (0x57, 0x60, 0x6a),
        Grade::Error => (0x82, 0x07, 0x1e),
        Grade::Interrupted => (0x3d, 0x44, 0x4d),
    }
}

fn css() -> String {
    let mut s = String::from(
        "*{box-sizing:border-box}\
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;padding:12px;color:#1f2328;background:#fff}\
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:16px 0 6px}\
.legend span,.g{display:inline-block;padding:2px 6px;border-radius:4px;color:#fff;font-size:12px;margin:0 4px 4px 0}\
.wrap{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid #d0d7de;border-radius:6px}\
table{border-collapse:collapse}table.counts{width:100%}\
th,td{border-bottom:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}\
thead th{background:#f6f8fa;position:sticky;top:0}\
th.sc{position:sticky;left:0;background:#fff;min-width:12em;max-width:22em;font-weight:normal}\
thead th.sc{background:#f6f8fa}\
tr.sec th{background:#eaeef2;font-weight:600;position:sticky;left:0}\
td.c{text-align:center;white-space:nowrap;padding:2px}\
td.c a{display:block;color:#fff;text-decoration:none;padding:4px 6px;border-radius:3px;font-size:12px}\
td.na{color:#8c959f;text-align:center}\
.t{color:#57606a;font-size:12px;display:block}\
.detail{display:none;position:fixed;inset:0;overflow:auto;background:#fff;padding:12px;z-index:10;border-top:4px solid #0969da}\
.detail:target{display:block}\
.detail h2{margin-top:0}\
pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:6px;border-radius:4px;font-size:12px;margin:4px 0}\
dt{font-weight:600}dd{margin:0 0 6px}\
.counts td{font-size:12px}\
@media (max-width:600px){body{padding:6px}th.sc{min-width:9em;max-width:12em}.t{display:none}}\n",
    );
    for g in Grade::ALL {
        let (r, gr, b) = grade_colour(g);
        let _ = writeln!(s, ".{n}{{background:rgb({r},{gr},{b})}}", n = class(g));
    }
    s
}

fn class(g: Grade) -> &'static str {
    match g {
        Grade::Pass => "gp",
        Grade::NonStrict => "gn",
        Grade::Fail => "gf",
        Grade::Informational => "gi",
        Grade::Unimplemented => "gu",
        Grade::Skip => "gs",
        Grade::Error => "ge",
        Grade::Interrupted => "gx",
    }
}

/// Renders the self-contained HTML report.
pub fn render(m: &Matrix, title: &str) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{t}</title><style>{css}</style></head><body>\n<h1>{t}</h1>\n<p class=\"legend\">",
        t = escape(title),
        css = css()
    );
    for g in Grade::ALL {
        let _ = write!(h, "<span class=\"{}\">{}</span>", class(g), g.as_str());
    }
    h.push_str("<span style=\"color:#57606a\">- = not applicable</span></p>\n");

    // Counts per column.
    h.push_str(
        "<div class=\"wrap\"><table class=\"counts\"><thead><tr><th class=\"sc\">target</th>",
    );
    // The run table's numbers: cases per outcome ([`at_runner::outcome::Tally`]).
    for o in at_runner::outcome::Outcome::ALL {
        let _ = write!(h, "<th>{}</th>", o.as_str());
    }
    h.push_str("<th>of the failures unimplemented</th></tr></thead><tbody>");
    for ((c, counts), u) in m.columns.iter().zip(&m.counts).zip(&m.unimplemented) {
        let _ = write!(
            h,
            "<tr><th class=\"sc\">{}<span class=\"t\">{}</span></th>",
            escape(&c.label),
            escape(&c.targets.join(", "))
        );
        for o in at_runner::outcome::Outcome::ALL {
            let _ = write!(h, "<td>{}</td>", counts.get(o));
        }
        let _ = write!(h, "<td>{u}</td></tr>");
    }
    h.push_str("</tbody></table></div>\n<h2>Matrix</h2>\n");

    // The matrix.
    h.push_str(
        "<div class=\"wrap\"><table class=\"matrix\"><thead><tr><th class=\"sc\">scenario</th>",
    );
    for c in &m.columns {
        let _ = write!(h, "<th>{}</th>", escape(&c.label));
    }
    h.push_str("</tr></thead><tbody>\n");
    let mut details = String::new();
    let mut ri = 0usize;
    for g in &m.groups {
        let _ = writeln!(
            h,
            "<tr class=\"sec\"><th colspan=\"{}\">{}</th></tr>",
            m.columns.len() + 1,
            escape(&g.section)
        );
        for row in &g.rows {
            let _ = write!(
                h,
                "<tr><th class=\"sc\">{}<span class=\"t\">{}</span></th>",
                escape(&row.scenario),
                escape(&row.title)
            );
            for (ci, cell) in row.cells.iter().enumerate() {
                match cell {
                    None => h.push_str("<td class=\"na\">-</td>"),
                    Some(cell) => {
                        let id = format!("d-{ri}-{ci}");
                        let _ = write!(
                            h,
                            "<td class=\"c\"><a class=\"{}\" href=\"#{id}\" title=\"{}\">{}</a></td>",
                            class(cell.grade),
                            escape(&cell.summary),
                            cell.grade.as_str()
                        );
                        let label = m.columns.get(ci).map(|c| c.label.as_str()).unwrap_or("");
                        detail(
                            &mut details,
                            &id,
                            &row.scenario,
                            &row.title,
                            &row.sources,
                            label,
                            cell,
                        );
                    }
                }
            }
            h.push_str("</tr>\n");
            ri += 1;
        }
    }
    h.push_str("</tbody></table></div>\n<p>Select a cell for its detail view: expected vs observed and the full wire log.</p>\n");
    h.push_str(&details);
    h.push_str("</body></html>\n");
    h
}

fn detail(
    out: &mut String,
    id: &str,
    scenario: &str,
    title: &str,
    sources: &[String],
    column: &str,
    cell: &Cell,
) {
    let _ = write!(
        out,
        "<section class=\"detail\" id=\"{id}\"><h2>{} <span class=\"g {}\">{}</span></h2>\
<p>{} — on <b>{}</b>{}</p><dl>",
        escape(scenario),
        class(cell.grade),
        cell.grade.as_str(),
        escape(title),
        escape(column),
        if sources.is_empty() {
            String::new()
        } else {
            format!(" — {}", escape(&sources.join(", ")))
        }
    );
    if !cell.summary.is_empty() {
        let _ = write!(out, "<dt>why</dt><dd>{}</dd>", escape(&cell.summary));
    }
    if cell.findings.len() > 1 || (cell.findings.len() == 1 && cell.grade != Grade::Fail) {
        out.push_str("<dt>findings</dt><dd><ul>");
        for f in &cell.findings {
            let _ = write!(out, "<li>{}</li>", escape(f));
        }
        out.push_str("</ul></dd>");
    }
    if !cell.sent.is_empty() {
        let _ = write!(
            out,
            "<dt>sent</dt><dd><pre>{}</pre></dd>",
            escape(&cell.sent)
        );
    }
    if !cell.expected.is_empty() || !cell.observed.is_empty() {
        let _ = write!(
            out,
            "<dt>expected</dt><dd><pre>{}</pre></dd><dt>observed</dt><dd><pre>{}</pre></dd>",
            escape(&cell.expected),
            escape(&cell.observed)
        );
        if let Some(o) = cell.offset {
            let _ = write!(out, "<dt>first difference</dt><dd>byte {o}</dd>");
        }
    }
    if let Some(cmd) = &cell.reproduce {
        let _ = write!(out, "<dt>reproduce</dt><dd><pre>{}</pre></dd>", escape(cmd));
    }
    out.push_str("</dl>");
    match &cell.wire {
        Some(w) => {
            let _ = write!(
                out,
                "<details open><summary>AT wire log</summary><pre>{}</pre></details>",
                escape(w)
            );
        }
        None => out.push_str("<p>No transcript recorded.</p>"),
    }
    if let Some(s) = &cell.smtp {
        let _ = write!(
            out,
            "<details><summary>SMTP sessions</summary><pre>{}</pre></details>",
            escape(s)
        );
    }
    out.push_str("<p><a href=\"#\">back to the matrix</a></p></section>\n");
}

/// The module × provider matrix as one self-contained HTML page.
pub fn render_providers(m: &crate::providers::ProviderMatrix, title: &str) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{t}</title><style>{css}</style></head><body>\n<h1>{t}</h1>\n\
<p>Each module profile replays its manual's send examples through each sink provider profile \
(emulator, virtual time). <span class=\"g gp\">ok</span> = delivered as the scenario describes; \
a refusal is <span class=\"g gf\">documented</span> on both sides, rests on an \
<span class=\"g gn\">ERRATA reading</span>, or on a <span class=\"g gi\">choice the manuals leave open</span> \
(an emulator liberty delivers the same example; the cell's title names it).</p>\n\
<div class=\"wrap\"><table class=\"matrix\"><thead><tr><th class=\"sc\">module</th>",
        t = escape(title),
        css = css()
    );
    for p in &m.providers {
        let _ = write!(h, "<th>{}</th>", escape(p));
    }
    h.push_str("</tr></thead><tbody>\n");
    for module in &m.modules {
        let _ = write!(h, "<tr><th class=\"sc\">{}</th>", escape(module));
        for p in &m.providers {
            h.push_str("<td>");
            if let Some(c) = m.cell(module, p) {
                for a in &c.attempts {
                    // A non-delivery is coloured by what it rests on: documented (fail),
                    // an ERRATA reading (non-strict), a choice the manuals leave open.
                    let (class, word) = match (a.delivered, a.grade.as_str()) {
                        (true, _) => ("gp", "ok".to_string()),
                        (false, "errata") => ("gn", a.result.clone()),
                        (false, "implementation-defined") => ("gi", a.result.clone()),
                        (false, _) => ("gf", a.result.clone()),
                    };
                    let mut title = format!("{}: {}", a.scenario, a.why);
                    if !a.delivered {
                        title.push_str(&format!(" [{}: {}", a.grade, a.rests_on));
                        if !a.delivers_with.is_empty() {
                            title.push_str(&format!(
                                "; delivers with liberty {}",
                                a.delivers_with.join(", ")
                            ));
                        }
                        title.push(']');
                    }
                    let _ = write!(
                        h,
                        "<span class=\"g {class}\" title=\"{}\">{} {}</span> ",
                        escape(&title),
                        escape(&a.variant),
                        escape(if word.is_empty() { "fail" } else { &word })
                    );
                }
            }
            h.push_str("</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n</body></html>\n");
    h
}

/// Every external reference in `html`: `http(s)://` URLs and `src=`/`href=` values that do not
/// point inside the page. The report must have none.
pub fn external_references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    for pat in ["http://", "https://", "url(", "@import"] {
        for (i, _) in lower.match_indices(pat) {
            out.push(
                html.get(i..(i + 60).min(html.len()))
                    .unwrap_or(pat)
                    .to_string(),
            );
        }
    }
    for attr in ["src=", "href=", "action=", "srcset=", "data="] {
        for (i, _) in lower.match_indices(attr) {
            // Attribute names follow a space inside a tag; wire logs are escaped text.
            if !lower.get(..i).is_some_and(|b| b.ends_with(' ')) {
                continue;
            }
            let rest = html.get(i + attr.len()..).unwrap_or("");
            let value = rest
                .trim_start_matches(['"', '\''])
                .split(['"', '\'', ' ', '>'])
                .next()
                .unwrap_or("");
            if !value.starts_with('#') {
                out.push(format!("{attr}{value}"));
            }
        }
    }
    out
}
