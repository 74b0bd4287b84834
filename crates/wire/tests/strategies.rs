//! proptest strategies for the model types.

use at_wire::{Command, CommandLine, Form, HexInt, ListItem, Param, Prefix, QStr, SRegOp, Word};
use proptest::prelude::*;

pub fn qstr() -> impl Strategy<Value = QStr> {
    proptest::collection::vec(
        any::<u8>().prop_filter("no quote/CR", |b| *b != b'"' && *b != b'\r'),
        0..12,
    )
    .prop_map(|b| QStr::new(b).unwrap())
}

pub fn word() -> impl Strategy<Value = Word> {
    "[<>A-Za-z_.:@ *!-][<>A-Za-z0-9_.:@ *!-]{0,8}"
        .prop_filter_map("valid word", |s| Word::new(s).ok())
}

pub fn hex_int() -> impl Strategy<Value = HexInt> {
    (any::<bool>(), "[0-9a-fA-F]{1,16}").prop_map(|(upper, digits)| {
        let text = format!("{}{digits}", if upper { "0X" } else { "0x" });
        HexInt::parse(text.as_bytes()).unwrap()
    })
}

pub fn list_item() -> impl Strategy<Value = ListItem> {
    prop_oneof![
        any::<i64>().prop_map(ListItem::Int),
        (any::<u64>(), any::<u64>()).prop_map(|(a, b)| ListItem::Range(a, b)),
        qstr().prop_map(ListItem::Str),
        word().prop_map(ListItem::Word),
    ]
}

pub fn param() -> impl Strategy<Value = Param> {
    prop_oneof![
        any::<i64>().prop_map(Param::Int),
        hex_int().prop_map(Param::HexInt),
        qstr().prop_map(Param::Str),
        word().prop_map(Param::Word),
        Just(Param::Omitted),
        proptest::collection::vec(list_item(), 0..4).prop_map(Param::List),
    ]
}

pub fn name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_.:/%!-]{0,10}"
}

pub fn form() -> impl Strategy<Value = Form> {
    prop_oneof![
        Just(Form::Test),
        Just(Form::Read),
        Just(Form::Execute),
        proptest::collection::vec(param(), 1..6).prop_map(Form::Set),
    ]
}

pub fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (prop_oneof![Just(b'+'), Just(b'#')], name(), form())
            .prop_map(|(sigil, name, form)| Command::Extended { sigil, name, form }),
        (
            any::<bool>(),
            "[A-CE-RT-Za-ce-rt-z]",
            proptest::option::of(any::<u32>())
        )
            .prop_map(|(amp, l, value)| Command::Basic {
                amp,
                letter: l.as_bytes()[0],
                value
            }),
        (
            prop_oneof![Just(b'S'), Just(b's')],
            any::<u32>(),
            prop_oneof![
                Just(SRegOp::Read),
                Just(SRegOp::Test),
                any::<u32>().prop_map(SRegOp::Set),
            ]
        )
            .prop_map(|(letter, index, op)| Command::SRegister { letter, index, op }),
    ]
}

pub fn prefix() -> impl Strategy<Value = Prefix> {
    prop_oneof![
        Just(Prefix::Upper),
        Just(Prefix::Lower),
        Just(Prefix::UpperLower),
        Just(Prefix::LowerUpper),
    ]
}

pub fn command_line() -> impl Strategy<Value = CommandLine> {
    (
        prefix(),
        proptest::collection::vec(command(), 0..4),
        proptest::option::of(("[Dd]", "[0-9*#;A-Z,]{0,8}")),
    )
        .prop_map(|(prefix, mut commands, dial)| {
            if let Some((l, d)) = dial {
                commands.push(Command::Dial {
                    letter: l.as_bytes()[0],
                    dial: d.into_bytes(),
                });
            }
            CommandLine { prefix, commands }
        })
}
