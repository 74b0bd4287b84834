//! Credentials never reach Debug output (team rule; 000 §2.2.1 `"account"`, 002 `SMTPPW`).

use at_wire::decoder::{Decoder, DecoderConfig};
use at_wire::{LineAssembler, parse_command_line};

const ACCOUNT: &[u8] = br#"AT+QSMTPCFG="account","sishen664551","wq664551""#;

#[test]
fn command_line_debug_redacts() {
    let line = parse_command_line(ACCOUNT).unwrap();
    let dbg = format!("{line:?} {:?}", line.commands[0]);
    assert!(
        !dbg.contains("wq664551") && !dbg.contains("sishen664551"),
        "{dbg}"
    );
    assert!(dbg.contains("<redacted>"));
    let sender = parse_command_line(br#"AT+QSMTPCFG="sender","n","a@b.c""#).unwrap();
    assert_eq!(
        format!("{sender:?}"),
        r#"CommandLine("AT+QSMTPCFG=\"sender\",\"n\",\"a@b.c\"")"#
    );
    let mt = parse_command_line(br#"AT#SMTPPW="hunter2""#).unwrap();
    assert!(!format!("{mt:?}").contains("hunter2"));
}

#[test]
fn events_and_assembler_redact() {
    let mut dec = Decoder::new(DecoderConfig::default());
    dec.expect_line(ACCOUNT);
    let mut stream = ACCOUNT.to_vec();
    stream.extend_from_slice(
        b"\r\r\n+QSMTPCFG: \"account\",\"sishen664551\",\"wq664551\"\r\n\r\nOK\r\n",
    );
    let mut dbg = format!("{dec:?}");
    dec.decode_all(&stream, |ev| {
        dbg += &format!("{ev:?} {:?}", ev.to_owned());
    });
    assert!(!dbg.contains("wq664551"), "{dbg}");
    assert!(dbg.contains("Echo") && dbg.contains("<redacted>"));

    let mut asm = LineAssembler::new(128);
    let mut input = ACCOUNT.to_vec();
    input.push(b'\r');
    let feed = format!("{:?}", asm.feed(&input[..20]));
    let mut dbg = format!("{asm:?} {feed}");
    let feed = asm.feed(&input[20..]);
    dbg += &format!("{feed:?}");
    assert!(!dbg.contains("wq664551"), "{dbg}");
}
