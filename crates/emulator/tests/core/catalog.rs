//! The emulator answers exactly what the catalog says, for every profile (catalog-driven).

use at_catalog::{COMMANDS, Dialect, Form, PROFILE_NAMES, profile};

use crate::util::Bench;

#[test]
fn every_test_command_answers_the_catalog_lines_on_every_profile() {
    for name in PROFILE_NAMES {
        let p = profile(name).unwrap();
        let mut b = Bench::quiet(name, Default::default());
        for cmd in COMMANDS.iter().filter(|c| c.supports(Form::Test)) {
            let line = format!("AT{}=?", cmd.name);
            let got = b.cmd(&line);
            let supported = cmd.dialect == Dialect::Common || cmd.dialect == p.dialect;
            if !supported {
                assert_eq!(got, "\r\nERROR\r\n", "{name} {line}");
                continue;
            }
            let lines = p.test_response(cmd);
            // Answered at once: no virtual time passes (max response time 300 ms, 000 §2.2).
            let want = if lines.is_empty() {
                "\r\nOK\r\n".to_owned()
            } else {
                format!("\r\n{}\r\n\r\nOK\r\n", lines.join("\r\n"))
            };
            assert_eq!(got, want, "{name} {line}");
        }
    }
}

#[test]
fn unsupported_forms_answer_error() {
    let mut b = Bench::quiet("ec25", Default::default());
    for cmd in COMMANDS.iter().filter(|c| c.name.starts_with('+')) {
        for (form, suffix) in [(Form::Test, "=?"), (Form::Read, "?"), (Form::Exec, "")] {
            if !cmd.supports(form) {
                let line = format!("AT{}{suffix}", cmd.name);
                assert_eq!(b.cmd(&line), "\r\nERROR\r\n", "{line}");
            }
        }
    }
}

#[test]
fn ati_follows_each_profile() {
    for name in PROFILE_NAMES {
        let p = profile(name).unwrap();
        let mut b = Bench::quiet(name, Default::default());
        let [m, model, rev] = p.ati_lines();
        assert_eq!(
            b.cmd("ATI"),
            format!("\r\n{m}\r\n{model}\r\n{rev}\r\n\r\nOK\r\n"),
            "{name}"
        );
    }
}
