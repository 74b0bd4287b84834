//! Command-line encoder → parser round trip on structured input: any command line built from
//! valid parts (catalog names, integers, hex integers, quoted strings, words, omitted
//! parameters, basic commands) encodes to bytes that parse back to exactly the same value.
#![no_main]

use arbitrary::Arbitrary;
use at_wire::command::{Command, CommandLine, Form, Prefix};
use at_wire::param::{HexInt, Param, QStr, Word};

/// Names the SMTP flows use (000 §2.2, 002), plus an escape hatch for arbitrary ones.
const NAMES: &[&str] = &[
    "QSMTPCFG",
    "QSMTPDST",
    "QSMTPSUB",
    "QSMTPBODY",
    "QSMTPATT",
    "QSMTPCLR",
    "QSMTPPUT",
    "QIACT",
    "QIDEACT",
    "QICSGP",
    "QFUPL",
    "QFLST",
    "QFDEL",
    "QSSLCFG",
    "CPIN",
    "CGATT",
    "CGREG",
    "PUTMAIL",
    "REC1",
    "SMTPSERV",
    "SMTPPW",
    "qsmtpcfg",
];

#[derive(Debug, Arbitrary)]
enum Name {
    Known(u8),
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum P {
    Int(i64),
    Hex(bool, u64),
    Str(Vec<u8>),
    Word(Vec<u8>),
    Omitted,
}

#[derive(Debug, Arbitrary)]
enum F {
    Test,
    Read,
    Execute,
    Set(P, Vec<P>),
}

#[derive(Debug, Arbitrary)]
enum C {
    Extended {
        hash: bool,
        name: Name,
        form: F,
    },
    Basic {
        amp: bool,
        letter: u8,
        value: Option<u32>,
    },
}

#[derive(Debug, Arbitrary)]
struct Input {
    prefix: u8,
    commands: Vec<C>,
}

fn param(p: P) -> Option<Param> {
    Some(match p {
        P::Int(v) => Param::Int(v),
        P::Hex(upper, v) => {
            let digits = if upper {
                format!("{v:X}")
            } else {
                format!("{v:x}")
            };
            Param::HexInt(HexInt::new(&digits)?)
        }
        P::Str(b) => Param::Str(QStr::new(b).ok()?),
        P::Word(b) => Param::Word(Word::new(b).ok()?),
        P::Omitted => Param::Omitted,
    })
}

fn command(c: C) -> Option<Command> {
    Some(match c {
        C::Extended { hash, name, form } => {
            let name = match name {
                Name::Known(i) => NAMES[usize::from(i) % NAMES.len()].to_owned(),
                Name::Other(s) => s,
            };
            let name_ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!%-./:_".contains(&b));
            if !name_ok {
                return None;
            }
            let form = match form {
                F::Test => Form::Test,
                F::Read => Form::Read,
                F::Execute => Form::Execute,
                F::Set(first, rest) => Form::Set(
                    std::iter::once(first)
                        .chain(rest)
                        .map(param)
                        .collect::<Option<Vec<_>>>()?,
                ),
            };
            Command::Extended {
                sigil: if hash { b'#' } else { b'+' },
                name,
                form,
            }
        }
        C::Basic { amp, letter, value } => {
            let letter = letter.to_ascii_uppercase();
            // `D` is the dial command (rest of line) and `S` an S-register, each its own variant.
            if !letter.is_ascii_alphabetic() || (!amp && matches!(letter, b'D' | b'S')) {
                return None;
            }
            Command::Basic { amp, letter, value }
        }
    })
}

libfuzzer_sys::fuzz_target!(|input: Input| {
    let prefix = [
        Prefix::Upper,
        Prefix::Lower,
        Prefix::UpperLower,
        Prefix::LowerUpper,
    ][usize::from(input.prefix % 4)];
    let Some(commands) = input
        .commands
        .into_iter()
        .map(command)
        .collect::<Option<Vec<_>>>()
    else {
        return;
    };
    let line = CommandLine { prefix, commands };
    let bytes = line.to_bytes();
    let parsed = at_wire::parse_command_line(&bytes);
    assert_eq!(
        parsed.as_ref(),
        Ok(&line),
        "{:?}",
        bytes.escape_ascii().to_string()
    );
});
