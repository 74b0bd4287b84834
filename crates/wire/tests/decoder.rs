//! Response-stream decoder: every response line of 000/001/002, transcripts, properties.

use at_wire::decoder::{
    CmeCode, Decoder, DecoderConfig, Echo, Final, Kind, OwnedEvent, Pending, Terminator,
};
use proptest::prelude::*;
use rstest::rstest;

fn decode(cfg: DecoderConfig, pending: Option<&[u8]>, stream: &[u8]) -> Vec<OwnedEvent> {
    let mut dec = Decoder::new(cfg);
    if let Some(p) = pending {
        dec.expect_line(p);
    }
    let mut out = Vec::new();
    dec.decode_all(stream, |ev| out.push(ev.to_owned()));
    out
}

fn off() -> DecoderConfig {
    DecoderConfig {
        echo: Echo::Off,
        ..DecoderConfig::default()
    }
}

const F_OK: Kind = Kind::Final(Final::Ok);

/// Each response line, framed `\r\n<line>\r\n` (ERRATA W1), while `pending` awaits its answer.
#[rstest]
// 000 §2.2.1 (test response as completed in ERRATA E7), query responses, errors.
#[case::doc000_s2_2_1_test_account(
    "000 §2.2.1",
    "AT+QSMTPCFG=?",
    r#"+QSMTPCFG: "account",<username>,<password>"#,
    Kind::Info,
    r#"[Str("account"), Word(<username>), Word(<password>)]"#
)]
#[case::doc000_s2_2_1_test_sender(
    "000 §2.2.1",
    "AT+QSMTPCFG=?",
    r#"+QSMTPCFG: "sender",<sender_name>,<sender_email>"#,
    Kind::Info,
    r#"[Str("sender"), Word(<sender_name>), Word(<sender_email>)]"#
)]
#[case::doc000_s2_2_1_test_smtpserver(
    "000 §2.2.1",
    "AT+QSMTPCFG=?",
    r#"+QSMTPCFG: "smtpserver",<srvaddr>,<srvport>"#,
    Kind::Info,
    r#"[Str("smtpserver"), Word(<srvaddr>), Word(<srvport>)]"#
)]
#[case::doc000_s2_2_1_test_contextid_e7(
    "000 §2.2.1 (E7)",
    "AT+QSMTPCFG=?",
    r#"+QSMTPCFG: "contextid",(1-16)"#,
    Kind::Info,
    r#"[Str("contextid"), List([Range(1, 16)])]"#
)]
#[case::doc000_s2_2_1_test_sslctxid_e7(
    "000 §2.2.1 (E7)",
    "AT+QSMTPCFG=?",
    r#"+QSMTPCFG: "sslctxid",(0-5)"#,
    Kind::Info,
    r#"[Str("sslctxid"), List([Range(0, 5)])]"#
)]
#[case::doc000_s2_2_1_test_ssltype_e7(
    "000 §2.2.1 (E7)",
    "AT+QSMTPCFG=?",
    r#"+QSMTPCFG: "ssltype",(0-2)"#,
    Kind::Info,
    r#"[Str("ssltype"), List([Range(0, 2)])]"#
)]
#[case::doc000_s2_2_1_test_bodyoriginal_e7(
    "000 §2.2.1 (E7)",
    "AT+QSMTPCFG=?",
    r#"+QSMTPCFG: "bodyoriginal",(0,1)"#,
    Kind::Info,
    r#"[Str("bodyoriginal"), List([Int(0), Int(1)])]"#
)]
#[case::doc000_s2_2_1_test_ok("000 §2.2.1", "AT+QSMTPCFG=?", "OK", F_OK, "")]
#[case::doc000_s2_2_1_account_query(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="account""#,
    r#"+QSMTPCFG: "account",<username>,<password>"#,
    Kind::Info,
    r#"[Str("account"), Word(<username>), Word(<password>)]"#
)]
#[case::doc000_s2_2_1_contextid_query(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="contextid""#,
    r#"+QSMTPCFG: "contextid",<contextid>"#,
    Kind::Info,
    r#"[Str("contextid"), Word(<contextid>)]"#
)]
#[case::doc000_s2_2_1_sslctxid_query(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="sslctxid""#,
    r#"+QSMTPCFG: "sslctxid",<SSL_ctxid>"#,
    Kind::Info,
    r#"[Str("sslctxid"), Word(<SSL_ctxid>)]"#
)]
#[case::doc000_s2_2_1_ssltype_query(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="ssltype""#,
    r#"+QSMTPCFG: "ssltype",<SSL_type>"#,
    Kind::Info,
    r#"[Str("ssltype"), Word(<SSL_type>)]"#
)]
#[case::doc000_s2_2_1_bodyoriginal_query(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="bodyoriginal""#,
    r#"+QSMTPCFG: "bodyoriginal",<body_switch>"#,
    Kind::Info,
    r#"[Str("bodyoriginal"), Word(<body_switch>)]"#
)]
#[case::doc000_s2_2_1_sender_query(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="sender""#,
    r#"+QSMTPCFG: "sender",<sender_name>,<sender_email>"#,
    Kind::Info,
    r#"[Str("sender"), Word(<sender_name>), Word(<sender_email>)]"#
)]
#[case::doc000_s2_2_1_smtpserver_query(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="smtpserver""#,
    r#"+QSMTPCFG: "smtpserver",<srvaddr>,<srvport>"#,
    Kind::Info,
    r#"[Str("smtpserver"), Word(<srvaddr>), Word(<srvport>)]"#
)]
#[case::doc000_s2_2_1_cme_template(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="account","u","p""#,
    "+CME ERROR: <err>",
    Kind::Final(Final::CmeError(CmeCode::Text)),
    ""
)]
// 000 §2.2.2.
#[case::doc000_s2_2_2_test_e7(
    "000 §2.2.2 (E7)",
    "AT+QSMTPDST=?",
    "+QSMTPDST: (0,1),(1-3),<emailaddr>",
    Kind::Info,
    "[List([Int(0), Int(1)]), List([Range(1, 3)]), Word(<emailaddr>)]"
)]
#[case::doc000_s2_2_2_read_template(
    "000 §2.2.2",
    "AT+QSMTPDST?",
    "+QSMTPDST: <type>,<emailaddr>",
    Kind::Info,
    "[Word(<type>), Word(<emailaddr>)]"
)]
#[case::doc000_s2_2_2_read_1(
    "000 §2.2.2",
    "AT+QSMTPDST?",
    r#"+QSMTPDST: 1,"quectel_test@aol.com""#,
    Kind::Info,
    r#"[Int(1), Str("quectel_test@aol.com")]"#
)]
#[case::doc000_s2_2_2_read_2(
    "000 §2.2.2",
    "AT+QSMTPDST?",
    r#"+QSMTPDST: 2,"quectel_test@21cn.com""#,
    Kind::Info,
    r#"[Int(2), Str("quectel_test@21cn.com")]"#
)]
#[case::doc000_s2_2_2_add_ok(
    "000 §2.2.2",
    r#"AT+QSMTPDST=1,1,"quectel_test@aol.com""#,
    "OK",
    F_OK,
    ""
)]
// 000 §2.2.3.
#[case::doc000_s2_2_3_test_e7(
    "000 §2.2.3 (E7)",
    "AT+QSMTPSUB=?",
    "+QSMTPSUB: (0-3),<subject>",
    Kind::Info,
    "[List([Range(0, 3)]), Word(<subject>)]"
)]
#[case::doc000_s2_2_3_read_template(
    "000 §2.2.3",
    "AT+QSMTPSUB?",
    "+QSMTPSUB: <charset>,<subject>",
    Kind::Info,
    "[Word(<charset>), Word(<subject>)]"
)]
#[case::doc000_s2_2_3_read_ascii(
    "000 §2.2.3",
    "AT+QSMTPSUB?",
    r#"+QSMTPSUB: 0,"TEST SMTP""#,
    Kind::Info,
    r#"[Int(0), Str("TEST SMTP")]"#
)]
#[case::doc000_s2_2_3_read_hex(
    "000 §2.2.3",
    "AT+QSMTPSUB?",
    r#"+QSMTPSUB: 1,"7465737420534D5450""#,
    Kind::Info,
    r#"[Int(1), Str("7465737420534D5450")]"#
)]
// 000 §2.2.4.
#[case::doc000_s2_2_4_test_e7(
    "000 §2.2.4 (E7)",
    "AT+QSMTPBODY=?",
    "+QSMTPBODY: (0-3),(1-10240),(1-65535)",
    Kind::Info,
    "[List([Range(0, 3)]), List([Range(1, 10240)]), List([Range(1, 65535)])]"
)]
#[case::doc000_s2_2_4_read_ok("000 §2.2.4", "AT+QSMTPBODY?", "OK", F_OK, "")]
#[case::doc000_s2_2_4_connect("000 §2.2.4", "AT+QSMTPBODY=0,100,120", "CONNECT", Kind::Connect, "")]
#[case::doc000_s2_2_4_len_template(
    "000 §2.2.4",
    "AT+QSMTPBODY=0,100,120",
    "+QSMTPBODY: <input_length>",
    Kind::Info,
    "[Word(<input_length>)]"
)]
#[case::doc000_s2_2_4_len_100(
    "000 §2.2.4",
    "AT+QSMTPBODY=0,100,120",
    "+QSMTPBODY: 100",
    Kind::Info,
    "[Int(100)]"
)]
#[case::doc000_s2_2_4_len_90(
    "000 §2.2.4",
    "AT+QSMTPBODY=0,100,120",
    "+QSMTPBODY: 90",
    Kind::Info,
    "[Int(90)]"
)]
// 000 §2.2.5.
#[case::doc000_s2_2_5_test_e7(
    "000 §2.2.5 (E7)",
    "AT+QSMTPATT=?",
    "+QSMTPATT: (0,1),(1-10),<file_name>",
    Kind::Info,
    "[List([Int(0), Int(1)]), List([Range(1, 10)]), Word(<file_name>)]"
)]
#[case::doc000_s2_2_5_read_template(
    "000 §2.2.5",
    "AT+QSMTPATT?",
    "+QSMTPATT: <file_index>,<file_name>,<file_size>",
    Kind::Info,
    "[Word(<file_index>), Word(<file_name>), Word(<file_size>)]"
)]
#[case::doc000_s2_2_5_qfupl_connect(
    "000 §2.2.5",
    r#"AT+QFUPL="RAM:test.txt",200,300,1"#,
    "CONNECT",
    Kind::Connect,
    ""
)]
#[case::doc000_s2_2_5_qfupl(
    "000 §2.2.5 (E12)",
    r#"AT+QFUPL="RAM:test.txt",200,300,1"#,
    "+QFUPL: 200,707",
    Kind::Info,
    "[Int(200), Int(707)]"
)]
#[case::doc000_s2_2_5_qflst(
    "000 §2.2.5",
    r#"AT+QFLST="RAM:*""#,
    r#"+QFLST: "RAM:test.txt",200"#,
    Kind::Info,
    r#"[Str("RAM:test.txt"), Int(200)]"#
)]
#[case::doc000_s2_2_5_att_read(
    "000 §2.2.5",
    "AT+QSMTPATT?",
    r#"+QSMTPATT: 1,"RAM:test.txt",200"#,
    Kind::Info,
    r#"[Int(1), Str("RAM:test.txt"), Int(200)]"#
)]
// 000 §2.2.6.
#[case::doc000_s2_2_6_sub_empty(
    "000 §2.2.6",
    "AT+QSMTPSUB?",
    r#"+QSMTPSUB: 0,"""#,
    Kind::Info,
    r#"[Int(0), Str("")]"#
)]
#[case::doc000_s2_2_6_test_ok("000 §2.2.6", "AT+QSMTPCLR=?", "OK", F_OK, "")]
// 000 §2.2.7: the same prefix is a response to the test command and a URC after the set command.
#[case::doc000_s2_2_7_test_e7(
    "000 §2.2.7 (E7)",
    "AT+QSMTPPUT=?",
    "+QSMTPPUT: (60-65535)",
    Kind::Info,
    "[List([Range(60, 65535)])]"
)]
#[case::doc000_s2_2_7_urc(
    "000 §2.2.7",
    "AT+QSMTPPUT=300",
    "+QSMTPPUT: 0,0",
    Kind::Urc,
    "[Int(0), Int(0)]"
)]
#[case::doc000_s2_2_7_urc_template(
    "000 §2.2.7",
    "AT+QSMTPPUT=300",
    "+QSMTPPUT: <err>,<protocol_error>",
    Kind::Urc,
    "[Word(<err>), Word(<protocol_error>)]"
)]
// 000 §3.1.
#[case::doc000_s3_1_qiact(
    "000 §3.1",
    "AT+QIACT?",
    r#"+QIACT: 1,1,1,"10.7.157.1""#,
    Kind::Info,
    r#"[Int(1), Int(1), Int(1), Str("10.7.157.1")]"#
)]
#[case::doc000_s3_1_stray_smtp_e5(
    "000 §3.1 (E5)",
    r#"AT+QSMTPCFG="smtpserver","smtp.163.com",25"#,
    "SMTP",
    Kind::Text,
    ""
)]
#[case::doc000_s3_1_dst_1(
    "000 §3.1",
    "AT+QSMTPDST?",
    r#"+QSMTPDST: 1,"quectel_test@163.com""#,
    Kind::Info,
    r#"[Int(1), Str("quectel_test@163.com")]"#
)]
#[case::doc000_s3_1_dst_2(
    "000 §3.1",
    "AT+QSMTPDST?",
    r#"+QSMTPDST: 2,"quectel_test@21cn.com""#,
    Kind::Info,
    r#"[Int(2), Str("quectel_test@21cn.com")]"#
)]
#[case::doc000_s3_1_sub(
    "000 §3.1",
    "AT+QSMTPSUB?",
    r#"+QSMTPSUB: 0,"TEST SMTP""#,
    Kind::Info,
    r#"[Int(0), Str("TEST SMTP")]"#
)]
#[case::doc000_s3_1_body_len(
    "000 §3.1",
    "AT+QSMTPBODY=0,100,120",
    "+QSMTPBODY: 100",
    Kind::Info,
    "[Int(100)]"
)]
#[case::doc000_s3_1_qfupl(
    "000 §3.1 (E12)",
    r#"AT+QFUPL="RAM:smtp1.txt",100,200,1"#,
    "+QFUPL: 100,707",
    Kind::Info,
    "[Int(100), Int(707)]"
)]
#[case::doc000_s3_1_qflst(
    "000 §3.1",
    r#"AT+QFLST="RAM:*""#,
    r#"+QFLST: "RAM:smtp1.txt",100"#,
    Kind::Info,
    r#"[Str("RAM:smtp1.txt"), Int(100)]"#
)]
#[case::doc000_s3_1_att(
    "000 §3.1",
    "AT+QSMTPATT?",
    r#"+QSMTPATT: 1,"RAM:smtp1.txt",100"#,
    Kind::Info,
    r#"[Int(1), Str("RAM:smtp1.txt"), Int(100)]"#
)]
#[case::doc000_s3_1_put_urc(
    "000 §3.1",
    "AT+QSMTPPUT=300",
    "+QSMTPPUT: 0,0",
    Kind::Urc,
    "[Int(0), Int(0)]"
)]
// 000 §4.
#[case::doc000_s4_1_error("000 §4.1", "AT+QSMTPCLR", "ERROR", Kind::Final(Final::Error), "")]
#[case::doc000_s4_1_cpin("000 §4.1", "AT+CPIN?", "+CPIN: READY", Kind::Info, "[Word(READY)]")]
#[case::doc000_s4_3_dns_urc(
    "000 §4.3",
    "AT+QSMTPPUT=300",
    "+QSMTPPUT: 653,0",
    Kind::Urc,
    "[Int(653), Int(0)]"
)]
#[case::doc000_s5_cme_664(
    "000 §5 / E8",
    r#"AT+QSMTPSUB=1,"746""#,
    "+CME ERROR: 664",
    Kind::Final(Final::CmeError(CmeCode::Numeric(664))),
    ""
)]
// 001 (AG35, punctuation restored).
#[case::doc001_p9_contextid(
    "001 p.9",
    "AT+QSMTPCFG=?",
    r#"+QSMTPCFG: "contextid",(1-16)"#,
    Kind::Info,
    r#"[Str("contextid"), List([Range(1, 16)])]"#
)]
#[case::doc001_p9_sslctxid(
    "001 p.9",
    "AT+QSMTPCFG=?",
    r#"+QSMTPCFG: "sslctxid",(0-5)"#,
    Kind::Info,
    r#"[Str("sslctxid"), List([Range(0, 5)])]"#
)]
#[case::doc001_p9_ssltype(
    "001 p.9",
    "AT+QSMTPCFG=?",
    r#"+QSMTPCFG: "ssltype",(0-2)"#,
    Kind::Info,
    r#"[Str("ssltype"), List([Range(0, 2)])]"#
)]
#[case::doc001_p10_contextid_query(
    "001 p.10",
    r#"AT+QSMTPCFG="contextid""#,
    r#"+QSMTPCFG: "contextid",1"#,
    Kind::Info,
    r#"[Str("contextid"), Int(1)]"#
)]
#[case::doc001_p13_sub_test(
    "001 p.13",
    "AT+QSMTPSUB=?",
    "+QSMTPSUB: (0-3),<subject>",
    Kind::Info,
    "[List([Range(0, 3)]), Word(<subject>)]"
)]
#[case::doc001_p17_qfupl(
    "001 p.17",
    r#"AT+QFUPL="RAM:test.txt",200,300,1"#,
    "+QFUPL: 200,707",
    Kind::Info,
    "[Int(200), Int(707)]"
)]
#[case::doc001_p17_att(
    "001 p.17",
    "AT+QSMTPATT?",
    r#"+QSMTPATT: 1,"RAM:test.txt",200"#,
    Kind::Info,
    r#"[Int(1), Str("RAM:test.txt"), Int(200)]"#
)]
#[case::doc001_p19_cme(
    "001 p.19",
    "AT+QSMTPPUT=300",
    "+CME ERROR: <err>",
    Kind::Final(Final::CmeError(CmeCode::Text)),
    ""
)]
#[case::doc001_p21_sub(
    "001 p.21",
    "AT+QSMTPSUB?",
    r#"+QSMTPSUB: 0,"TEST SMTP""#,
    Kind::Info,
    r#"[Int(0), Str("TEST SMTP")]"#
)]
// 002 Multi-Tech.
#[case::doc002_waiting(
    "002 #PUTMAIL",
    "AT#PUTMAIL",
    "OK_Info_WaitingForData",
    Kind::WaitingForData,
    ""
)]
#[case::doc002_ok("002 #PUTMAIL", "AT#PUTMAIL", "OK", F_OK, "")]
#[case::doc002_dns(
    "002 #PUTMAIL",
    "AT#PUTMAIL",
    "#CME ERROR: 38027",
    Kind::Final(Final::MultiTechCme(38027)),
    ""
)]
#[case::doc002_value_template(
    "002 #PUTMAIL",
    "AT#PUTMAIL",
    "#CME ERROR: <value>",
    Kind::Final(Final::MultiTechCmeText),
    ""
)]
// V.250 result codes the issue lists.
#[case::no_carrier("V.250", "ATD*99#", "NO CARRIER", Kind::Final(Final::NoCarrier), "")]
#[case::busy("V.250", "ATD*99#", "BUSY", Kind::Final(Final::Busy), "")]
#[case::no_answer("V.250", "ATD*99#", "NO ANSWER", Kind::Final(Final::NoAnswer), "")]
#[case::no_dialtone("V.250", "ATD*99#", "NO DIALTONE", Kind::Final(Final::NoDialtone), "")]
#[case::connect_text("V.250", "ATD*99#", "CONNECT 150000000", Kind::Connect, "")]
#[case::cms(
    "27.005",
    "AT+CMGS=1",
    "+CMS ERROR: 500",
    Kind::Final(Final::CmsError(CmeCode::Numeric(500))),
    ""
)]
#[case::cme_verbose(
    "27.007",
    "AT+CPIN?",
    "+CME ERROR: SIM not inserted",
    Kind::Final(Final::CmeError(CmeCode::Text)),
    ""
)]
#[case::ring("V.250", "AT+QSMTPCLR", "RING", Kind::Urc, "")]
#[case::other_prefix_is_urc(
    "000 §2.2.7",
    "AT+QSMTPDST?",
    "+QSMTPPUT: 0,0",
    Kind::Urc,
    "[Int(0), Int(0)]"
)]
fn manual_response_lines(
    #[case] doc: &str,
    #[case] command: &str,
    #[case] line: &str,
    #[case] kind: Kind,
    #[case] params: &str,
) {
    let stream = format!("\r\n{line}\r\n");
    let events = decode(off(), Some(command.as_bytes()), stream.as_bytes());
    assert_eq!(events.len(), 2, "{doc}: {events:?}");
    assert_eq!(events[0].kind, Kind::Blank, "{doc}");
    let ev = events[1].as_event();
    assert_eq!(
        (ev.kind, ev.line, ev.offset, ev.term),
        (kind, line.as_bytes(), 2, Terminator::CRLF),
        "{doc}"
    );
    let got = match ev.params() {
        Some(Ok(p)) if matches!(kind, Kind::Info | Kind::Urc) => format!("{p:?}"),
        Some(Err(e)) => panic!("{doc}: params of {line}: {e}"),
        _ => String::new(),
    };
    assert_eq!(got, params, "{doc}: {line}");
}

/// 000 §5 table 3: every error code as `+CME ERROR: <err>`.
#[test]
fn doc000_s5_every_error_code() {
    for code in 651u16..=682 {
        let line = format!("\r\n+CME ERROR: {code}\r\n");
        let ev = decode(off(), Some(b"AT+QSMTPPUT=300"), line.as_bytes());
        assert_eq!(
            ev[1].kind,
            Kind::Final(Final::CmeError(CmeCode::Numeric(code)))
        );
        assert_eq!(
            ev[1].as_event().error_text(),
            Some(format!("{code}").as_bytes())
        );
    }
}

fn kinds(events: &[OwnedEvent]) -> Vec<(Kind, String)> {
    events
        .iter()
        .map(|e| (e.kind, String::from_utf8_lossy(&e.line).into_owned()))
        .collect()
}

/// 000 §2.2.2 with echo (W1 framing, W2 echo): `AT+QSMTPDST?` answering two recipients.
#[test]
fn doc000_s2_2_2_transcript_with_echo() {
    let stream = b"AT+QSMTPDST?\r\r\n+QSMTPDST: 1,\"quectel_test@aol.com\"\r\n+QSMTPDST: 2,\"quectel_test@21cn.com\"\r\n\r\nOK\r\n";
    let events = decode(DecoderConfig::default(), Some(b"AT+QSMTPDST?"), stream);
    assert_eq!(
        kinds(&events),
        vec![
            (Kind::Echo, "AT+QSMTPDST?".into()),
            (Kind::Info, "+QSMTPDST: 1,\"quectel_test@aol.com\"".into()),
            (Kind::Info, "+QSMTPDST: 2,\"quectel_test@21cn.com\"".into()),
            (Kind::Blank, "".into()),
            (F_OK, "OK".into()),
        ]
    );
    assert_eq!(events[0].term, Terminator { crs: 2, lf: true });
    let mut raw = Vec::new();
    for e in &events {
        e.as_event().encode_raw(&mut raw);
    }
    assert_eq!(raw, stream);
}

/// 000 §2.2.4: CONNECT, (payload goes the other way), then the info line and OK.
#[test]
fn doc000_s2_2_4_data_mode_transcript() {
    let mut dec = Decoder::new(DecoderConfig::default());
    dec.expect_line(b"AT+QSMTPBODY=0,100,120");
    let mut got = vec![];
    dec.decode_all(b"AT+QSMTPBODY=0,100,120\r\r\nCONNECT\r\n", |e| {
        got.push(e.kind)
    });
    assert_eq!(got, [Kind::Echo, Kind::Connect]);
    assert!(dec.in_data_mode());
    got.clear();
    dec.decode_all(b"\r\n+QSMTPBODY: 90\r\n\r\nOK\r\n", |e| got.push(e.kind));
    assert_eq!(got, [Kind::Blank, Kind::Info, Kind::Blank, F_OK]);
    assert!(!dec.in_data_mode());
    assert!(dec.pending().is_none());
}

/// 002: `AT#PUTMAIL` → `OK_Info_WaitingForData`, body (not echoed), `OK` — or a late error.
#[test]
fn doc002_putmail_transcript() {
    let mut dec = Decoder::new(DecoderConfig::default());
    dec.expect_line(b"AT#PUTMAIL");
    let mut got = vec![];
    dec.decode_all(b"AT#PUTMAIL\r\r\nOK_Info_WaitingForData\r\n", |e| {
        got.push(e.kind)
    });
    assert_eq!(got, [Kind::Echo, Kind::WaitingForData]);
    assert!(dec.in_data_mode());
    got.clear();
    dec.decode_all(b"\r\n#CME ERROR: 38027\r\n", |e| got.push(e.kind));
    assert_eq!(got, [Kind::Blank, Kind::Final(Final::MultiTechCme(38027))]);
}

/// The URC arrives between the echo and the answer, and long after OK (000 §2.2.7).
#[test]
fn urc_between_lines() {
    let stream = b"\r\n+QSMTPPUT: 0,0\r\nAT+QSMTPDST?\r\r\n+QSMTPDST: 1,\"a@b.c\"\r\n\r\n+QSMTPPUT: 651,0\r\n\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n";
    let events = decode(DecoderConfig::default(), Some(b"AT+QSMTPDST?"), stream);
    let k: Vec<Kind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        k,
        [
            Kind::Blank,
            Kind::Urc,
            Kind::Echo,
            Kind::Info,
            Kind::Blank,
            Kind::Urc,
            Kind::Blank,
            F_OK,
            Kind::Blank,
            Kind::Urc
        ]
    );
}

/// `AT+QSMTPPUT=300`: a too-early `+QSMTPPUT:` (before OK) is still a URC (set form).
#[test]
fn qsmtpput_set_never_has_info() {
    let events = decode(
        off(),
        Some(b"AT+QSMTPPUT=300"),
        b"\r\n+QSMTPPUT: 0,0\r\n\r\nOK\r\n",
    );
    assert_eq!(events[1].kind, Kind::Urc);
    // An explicit pending overrides the inference.
    let mut dec = Decoder::new(off());
    dec.expect(Pending {
        command: b"AT+X".to_vec(),
        info_prefixes: vec![b"+QSMTPPUT".to_vec()],
        ..Pending::default()
    });
    let mut k = vec![];
    dec.decode_all(b"\r\n+qsmtpput: 1\r\n", |e| k.push(e.kind));
    assert_eq!(k, [Kind::Blank, Kind::Info]);
}

#[test]
fn echo_modes() {
    let stream = b"AT+QSMTPCLR\r\r\nOK\r\n";
    let on = decode(
        DecoderConfig {
            echo: Echo::On,
            ..DecoderConfig::default()
        },
        Some(b"AT+QSMTPCLR"),
        stream,
    );
    let infer = decode(DecoderConfig::default(), Some(b"AT+QSMTPCLR"), stream);
    let off_ = decode(off(), Some(b"AT+QSMTPCLR"), stream);
    assert_eq!(on[0].kind, Kind::Echo);
    assert_eq!(infer[0].kind, Kind::Echo);
    assert_eq!(off_[0].kind, Kind::Text);
    // A differing echo: On still takes it as the echo, Infer does not.
    let garbled = b"at+qsmtpclr\r\r\nOK\r\n";
    let on = decode(
        DecoderConfig {
            echo: Echo::On,
            ..DecoderConfig::default()
        },
        Some(b"AT+QSMTPCLR"),
        garbled,
    );
    let infer = decode(DecoderConfig::default(), Some(b"AT+QSMTPCLR"), garbled);
    assert_eq!((on[0].kind, infer[0].kind), (Kind::Echo, Kind::Text));
}

#[test]
fn odd_endings_nuls_and_v0() {
    let cfg = DecoderConfig {
        numeric_codes: true,
        ..off()
    };
    let events = decode(cfg, Some(b"ATI"), b"\0\0Quectel\nEC25\r\r\n0\r4\rx");
    let k = kinds(&events);
    assert_eq!(
        k,
        vec![
            (Kind::Text, "Quectel".into()),
            (Kind::Text, "EC25".into()),
            (F_OK, "0".into()),
            (Kind::Final(Final::Error), "4".into()),
        ]
    );
    assert_eq!(
        (events[0].leading_nul, events[0].offset, events[0].term),
        (2, 0, Terminator { crs: 0, lf: true })
    );
    assert_eq!(events[1].term, Terminator { crs: 2, lf: true });
    assert_eq!(events[2].term, Terminator { crs: 1, lf: false });
    // Bare CR at the end is held until flushed.
    let mut dec = Decoder::new(off());
    dec.expect_line(b"ATE0");
    let mut got = vec![];
    dec.decode_all(b"0\r", |e| got.push(e.to_owned()));
    assert!(got.is_empty());
    dec.flush();
    while let Some(e) = dec.poll_event() {
        got.push(e.to_owned());
    }
    assert_eq!(
        (got[0].kind, got[0].term),
        (F_OK, Terminator { crs: 1, lf: false })
    );
}

#[test]
fn prompt() {
    let mut dec = Decoder::new(off());
    dec.expect(Pending {
        command: b"AT+CMGS=1".to_vec(),
        expects_prompt: true,
        ..Pending::default()
    });
    let mut got = vec![];
    dec.decode_all(b"\r\n>", |e| got.push(e.kind));
    assert_eq!(got, [Kind::Blank]);
    dec.decode_all(b" ", |e| got.push(e.kind));
    assert_eq!(got, [Kind::Blank, Kind::Prompt]);
    // Without a pending prompt, `> ` is text.
    let ev = decode(off(), Some(b"AT"), b"> x\r\n");
    assert_eq!(ev[0].kind, Kind::Text);
}

#[test]
fn overflow_recovers() {
    let cfg = DecoderConfig {
        max_line: 8,
        ..off()
    };
    let events = decode(
        cfg.clone(),
        Some(b"AT"),
        b"\r\n+QSMTPDST: 1,\"long@example.com\"\r\nOK\r\n",
    );
    assert_eq!(events.len(), 3);
    assert_eq!(events[1].kind, Kind::Overflow { len: 33 });
    assert_eq!(events[1].offset, 2);
    assert_eq!(events[2].kind, F_OK);
    // Byte by byte, the same.
    let stream = b"\r\n+QSMTPDST: 1,\"long@example.com\"\r\nOK\r\n";
    let mut dec = Decoder::new(cfg);
    dec.expect_line(b"AT");
    let mut got = vec![];
    for b in stream.chunks(1) {
        dec.decode_all(b, |e| got.push(e.to_owned()));
    }
    assert_eq!(got, events);
}

/// Guards the proptest regression: an over-long line with no LF before the input ends is reported
/// on `flush`, so no byte goes unaccounted.
#[test]
fn overflow_without_lf_is_reported_on_flush() {
    let mut dec = Decoder::new(DecoderConfig {
        max_line: 4,
        ..off()
    });
    let mut got = vec![];
    dec.decode_all(b"AT+QSMTPDST?\r", |e| got.push(e.to_owned()));
    assert!(got.is_empty());
    dec.flush();
    while let Some(e) = dec.poll_event() {
        got.push(e.to_owned());
    }
    assert_eq!(
        (got[0].kind, got[0].offset),
        (Kind::Overflow { len: 13 }, 0)
    );
}

#[test]
fn huge_bound_does_not_preallocate() {
    let cfg = DecoderConfig {
        max_line: usize::MAX,
        ..off()
    };
    let ev = decode(cfg, None, b"+QSMTPPUT: 0,0\r\n");
    assert_eq!(ev[0].kind, Kind::Urc);
}

#[test]
fn accessors() {
    let ev = decode(
        off(),
        Some(b"AT+QSMTPDST?"),
        b"+QSMTPDST: 1,\"a@b.c\"\r\nCONNECT 115200\r\n+CME ERROR: 664\r\n",
    );
    let e = ev[0].as_event();
    assert_eq!(e.prefix(), Some(&b"+QSMTPDST"[..]));
    assert!(e.prefix_eq("qsmtpdst") && e.prefix_eq("+QSMTPDST"));
    assert_eq!(e.payload(), Some(&b"1,\"a@b.c\""[..]));
    assert_eq!(ev[1].as_event().connect_text(), Some(&b"115200"[..]));
    assert_eq!(ev[2].as_event().error_text(), Some(&b"664"[..]));
    assert_eq!(e.raw_len(), 22);
}

/// A module transcript generator for the properties: lines of every kind, odd endings, NULs.
fn transcript() -> impl Strategy<Value = (bool, Vec<u8>)> {
    let line = prop_oneof![
        Just(b"+QSMTPDST: 1,\"a@b.c\"".to_vec()),
        Just(b"+QSMTPPUT: 0,0".to_vec()),
        Just(b"OK".to_vec()),
        Just(b"ERROR".to_vec()),
        Just(b"+CME ERROR: 664".to_vec()),
        Just(b"CONNECT".to_vec()),
        Just(b"0".to_vec()),
        Just(b"".to_vec()),
        Just(b"> ".to_vec()),
        Just(b"AT+QSMTPDST?".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..12),
    ];
    let ending = prop_oneof![
        Just(&b"\r\n"[..]),
        Just(&b"\n"[..]),
        Just(&b"\r\r\n"[..]),
        Just(&b"\r"[..]),
        Just(&b""[..])
    ];
    (
        any::<bool>(),
        proptest::collection::vec((0usize..3, line, ending), 0..12),
    )
        .prop_map(|(echo, parts)| {
            let mut out = Vec::new();
            if echo {
                out.extend_from_slice(b"AT+QSMTPDST?\r");
            }
            for (nuls, line, end) in parts {
                out.extend(std::iter::repeat_n(0u8, nuls));
                out.extend_from_slice(&line);
                out.extend_from_slice(end);
            }
            (echo, out)
        })
}

fn run_chunks(cfg: &DecoderConfig, echo: bool, stream: &[u8], cuts: &[usize]) -> Vec<OwnedEvent> {
    let mut dec = Decoder::new(cfg.clone());
    dec.set_echo(if echo { Echo::On } else { Echo::Off });
    dec.expect(Pending {
        command: b"AT+QSMTPDST?".to_vec(),
        info_prefixes: vec![b"+QSMTPDST".to_vec()],
        expects_prompt: true,
        enters_data_mode: false,
    });
    let mut out = Vec::new();
    let mut prev = 0;
    for &c in cuts.iter().chain([&stream.len()]) {
        dec.decode_all(&stream[prev..c], |e| out.push(e.to_owned()));
        prev = c;
    }
    dec.flush();
    while let Some(e) = dec.poll_event() {
        out.push(e.to_owned());
    }
    out
}

proptest! {
    /// Same events for every single split point, and for random multi-splits.
    #[test]
    fn chunking_invariance((echo, stream) in transcript(), max_line in prop_oneof![Just(4usize), Just(16), Just(4096)],
                           cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8)) {
        let cfg = DecoderConfig { max_line, ..DecoderConfig::default() };
        let whole = run_chunks(&cfg, echo, &stream, &[]);
        for split in 0..=stream.len() {
            prop_assert_eq!(&run_chunks(&cfg, echo, &stream, &[split]), &whole, "split at {}", split);
        }
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
        points.sort_unstable();
        prop_assert_eq!(&run_chunks(&cfg, echo, &stream, &points), &whole);
        // Byte by byte.
        let every: Vec<usize> = (1..stream.len()).collect();
        prop_assert_eq!(&run_chunks(&cfg, echo, &stream, &every), &whole);
    }

    /// Nothing is lost: the events' raw bytes (or overflow lengths) tile the stream exactly.
    #[test]
    fn events_tile_the_stream((echo, stream) in transcript(), max_line in prop_oneof![Just(4usize), Just(4096)]) {
        let cfg = DecoderConfig { max_line, ..DecoderConfig::default() };
        let events = run_chunks(&cfg, echo, &stream, &[]);
        let mut pos = 0u64;
        let mut raw = Vec::new();
        for e in &events {
            let ev = e.as_event();
            prop_assert_eq!(ev.offset, pos);
            pos += ev.raw_len();
            match ev.kind {
                Kind::Overflow { len } => raw.extend_from_slice(&stream[raw.len()..raw.len() + len as usize]),
                _ => ev.encode_raw(&mut raw),
            }
            prop_assert!(e.line.len() <= max_line);
        }
        // Trailing NULs with no line after them are the only bytes not reported.
        prop_assert!(stream[raw.len()..].iter().all(|&b| b == 0));
        prop_assert_eq!(&raw[..], &stream[..raw.len()]);
    }

    /// Arbitrary bytes in arbitrary chunks never panic and respect the bound.
    #[test]
    fn arbitrary_bytes(stream in proptest::collection::vec(any::<u8>(), 0..200), chunk in 1usize..17, max_line in 0usize..20) {
        let cfg = DecoderConfig { max_line, ..DecoderConfig::default() };
        let cuts: Vec<usize> = (chunk..stream.len()).step_by(chunk).collect();
        let a = run_chunks(&cfg, true, &stream, &cuts);
        let b = run_chunks(&cfg, true, &stream, &[]);
        prop_assert_eq!(a, b);
    }
}

/// 000 §3.1 end to end, as the emulator frames it (W1 blocks, W2 echo): one `expect` per command,
/// the `+QSMTPPUT` URC after `OK`, the stray `SMTP` line (E5) as text.
#[test]
fn doc000_s3_1_whole_transcript() {
    let ok = &["OK"][..];
    let exchanges: &[(&str, &[&str], &[&str])] = &[
        (r#"AT+QICSGP=1,1,"UNINET","",1"#, &[], ok),
        ("AT+QIACT=1", &[], ok),
        ("AT+QIACT?", &[r#"+QIACT: 1,1,1,"10.7.157.1""#], ok),
        (r#"AT+QSMTPCFG="contextid",1"#, &[], ok),
        (r#"AT+QSMTPCFG="ssltype",0"#, &[], ok),
        (
            r#"AT+QSMTPCFG="smtpserver","smtp.163.com",25"#,
            &["SMTP"],
            ok,
        ),
        (
            r#"AT+QSMTPCFG="account","sishen664551","wq664551""#,
            &[],
            ok,
        ),
        (
            r#"AT+QSMTPCFG="sender","sishen664551","sishen664551@163.com""#,
            &[],
            ok,
        ),
        (r#"AT+QSMTPDST=1,1,"quectel_test@163.com""#, &[], ok),
        (r#"AT+QSMTPDST=1,2,"quectel_test@21cn.com""#, &[], ok),
        (
            "AT+QSMTPDST?",
            &[
                r#"+QSMTPDST: 1,"quectel_test@163.com""#,
                r#"+QSMTPDST: 2,"quectel_test@21cn.com""#,
            ],
            ok,
        ),
        (r#"AT+QSMTPSUB=0,"TEST SMTP""#, &[], ok),
        ("AT+QSMTPSUB?", &[r#"+QSMTPSUB: 0,"TEST SMTP""#], ok),
        (
            r#"AT+QFLST="RAM:*""#,
            &[r#"+QFLST: "RAM:smtp1.txt",100"#],
            ok,
        ),
        (r#"AT+QSMTPATT=1,1,"RAM:smtp1.txt""#, &[], ok),
        ("AT+QSMTPATT?", &[r#"+QSMTPATT: 1,"RAM:smtp1.txt",100"#], ok),
        ("AT+QSMTPPUT=300", &[], &["OK", "+QSMTPPUT: 0,0"]),
        ("AT+QSMTPCLR", &[], ok),
        (r#"AT+QFDEL="RAM:smtp1.txt""#, &[], ok),
        ("AT+QIDEACT=1", &[], ok),
    ];
    let mut dec = Decoder::new(DecoderConfig::default());
    for (cmd, info, finals) in exchanges {
        let mut stream = format!("{cmd}\r");
        if !info.is_empty() {
            stream += &format!("\r\n{}\r\n", info.join("\r\n"));
        }
        for f in *finals {
            stream += &format!("\r\n{f}\r\n");
        }
        dec.expect_line(cmd.as_bytes());
        let mut got = Vec::new();
        dec.decode_all(stream.as_bytes(), |e| {
            if e.kind != Kind::Blank {
                got.push(e.kind);
            }
        });
        let mut want = vec![Kind::Echo];
        want.extend(info.iter().map(|l| {
            if l.starts_with('+') {
                Kind::Info
            } else {
                Kind::Text
            }
        }));
        want.push(F_OK);
        if finals.len() == 2 {
            want.push(Kind::Urc);
        }
        assert_eq!(got, want, "{cmd}");
        assert!(dec.pending().is_none(), "{cmd}");
    }
}

/// `expect_ref` (copy into the decoder's reused slot) decodes exactly like `expect`, across
/// commands with different prefix counts (the slot shrinks and grows).
#[test]
fn expect_ref_matches_expect() {
    let cfg = off();
    let session: [(&[u8], &[u8]); 5] = [
        (
            b"AT+QSMTPDST?",
            b"\r\n+QSMTPDST: 1,\"a@b.cn\"\r\n+QSMTPDST: 2,\"c@d.cn\"\r\n\r\nOK\r\n",
        ),
        (b"AT+QSMTPPUT=300", b"\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n"),
        (
            b"AT+QIACT?;+QSMTPSUB?",
            b"\r\n+QIACT: 1,1,1,\"10.7.157.1\"\r\n+QSMTPSUB: 0,\"T\"\r\n\r\nOK\r\n",
        ),
        (b"AT", b"\r\n+QSMTPDST: 1,\"x\"\r\n\r\nOK\r\n"),
        (
            b"AT+QSMTPBODY=0,5,120",
            b"\r\nCONNECT\r\n\r\n+QSMTPBODY: 5\r\n\r\nOK\r\n",
        ),
    ];
    let run = |by_ref: bool| {
        let mut dec = Decoder::new(cfg.clone());
        let mut out = Vec::new();
        for (cmd, resp) in session {
            let p = Pending::infer(cmd, &cfg);
            if by_ref {
                dec.expect_ref(&p);
            } else {
                dec.expect(p.clone());
            }
            assert_eq!(dec.pending(), Some(&p));
            dec.decode_all(resp, |ev| out.push(ev.to_owned()));
            assert_eq!(dec.pending(), None);
        }
        out
    };
    let by_value = run(false);
    assert_eq!(run(true), by_value);
    let info = by_value.iter().filter(|e| e.kind == Kind::Info).count();
    let urcs = by_value.iter().filter(|e| e.kind == Kind::Urc).count();
    assert_eq!((info, urcs), (5, 2));
}

/// Commands a host declares one after another (one at each final result code): prefixes,
/// none, a URC-like name, a prompt, data mode, and echo on/off.
fn script(cfg: &DecoderConfig) -> Vec<Pending> {
    let mut prompt = Pending::infer(b"AT+QSMTPDST?", cfg);
    prompt.expects_prompt = true;
    vec![
        prompt,
        Pending::infer(b"AT", cfg),
        Pending::infer(b"AT+QSMTPPUT=300", cfg),
        Pending::infer(b"AT+QSMTPBODY=0,5,120", cfg),
        Pending::infer(b"AT+QIACT?;+QSMTPSUB?", cfg),
    ]
}

/// The pull path: `push` + `poll_event` in chunks cut at `cuts`, the next command declared
/// between polls.
fn pull(cfg: &DecoderConfig, stream: &[u8], cuts: &[usize]) -> Vec<OwnedEvent> {
    let script = script(cfg);
    let mut next = script.iter().cycle();
    let mut dec = Decoder::new(cfg.clone());
    dec.expect_ref(next.next().unwrap());
    let mut out = Vec::new();
    let mut prev = 0;
    let mut poll = |dec: &mut Decoder, out: &mut Vec<OwnedEvent>| {
        while let Some(ev) = dec.poll_event() {
            let is_final = matches!(ev.kind, Kind::Final(_));
            out.push(ev.to_owned());
            if is_final {
                dec.expect_ref(next.next().unwrap());
            }
        }
    };
    for &c in cuts.iter().chain([&stream.len()]) {
        let mut chunk = &stream[prev..c];
        loop {
            let n = dec.push(chunk);
            chunk = &chunk[n..];
            poll(&mut dec, &mut out);
            if chunk.is_empty() {
                break;
            }
        }
        prev = c;
    }
    dec.flush();
    poll(&mut dec, &mut out);
    out
}

/// The batch path: `decode_with` per chunk, the next command declared through `Control`.
fn batch(cfg: &DecoderConfig, stream: &[u8], cuts: &[usize]) -> Vec<OwnedEvent> {
    let script = script(cfg);
    let mut next = script.iter().cycle();
    let mut dec = Decoder::new(cfg.clone());
    dec.expect_ref(next.next().unwrap());
    let mut out = Vec::new();
    let mut on_event = |ev: at_wire::Event<'_>, ctl: &mut at_wire::Control<'_>| {
        out.push(ev.to_owned());
        if matches!(ev.kind, Kind::Final(_)) {
            ctl.expect_ref(next.next().unwrap());
        }
    };
    let mut prev = 0;
    for &c in cuts.iter().chain([&stream.len()]) {
        dec.decode_with(&stream[prev..c], &mut on_event);
        prev = c;
    }
    dec.flush();
    dec.decode_with(&[], &mut on_event);
    out
}

fn cut_points(cuts: &[prop::sample::Index], len: usize) -> Vec<usize> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(len + 1)).collect();
    points.sort_unstable();
    points
}

proptest! {
    /// `decode_with` (lines decoded in place from the caller's slice) gives exactly the events
    /// of `push` + `poll_event`, for arbitrary input, bounds, echo modes and two independent
    /// chunkings, with commands declared mid-stream on both sides.
    #[test]
    fn batch_equals_pull(
        stream in prop_oneof![
            transcript().prop_map(|(_, s)| s),
            proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(0u8), Just(b'>'), Just(b' '), Just(b'O'), Just(b'K'), any::<u8>()], 0..300),
        ],
        max_line in prop_oneof![Just(0usize), Just(2), Just(4), Just(16), Just(4096)],
        echo in prop_oneof![Just(Echo::On), Just(Echo::Off), Just(Echo::Infer)],
        numeric_codes in any::<bool>(),
        cuts_a in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        cuts_b in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        chunk in 1usize..20,
    ) {
        let cfg = DecoderConfig { max_line, echo, numeric_codes, ..DecoderConfig::default() };
        let a = cut_points(&cuts_a, stream.len());
        let b = cut_points(&cuts_b, stream.len());
        let want = pull(&cfg, &stream, &a);
        prop_assert_eq!(&batch(&cfg, &stream, &b), &want);
        prop_assert_eq!(&batch(&cfg, &stream, &[]), &want);
        let every: Vec<usize> = (chunk..stream.len()).step_by(chunk).collect();
        prop_assert_eq!(&batch(&cfg, &stream, &every), &want);
        prop_assert_eq!(&pull(&cfg, &stream, &every), &want);
    }
}
/// A CR run before the LF after a long line goes the buffered way, with its two CRs.
#[test]
fn batch_cr_cr_lf_after_long_line() {
    let cfg = DecoderConfig::default();
    let mut s = vec![b'A'; 60];
    s.extend_from_slice(b"\r\r\nOK\r\n");
    assert_eq!(batch(&cfg, &s, &[]), pull(&cfg, &s, &[]));
}

/// Every `Control` mutator acts like the `Decoder` method of the same name: a host that switches
/// echo off after `ATE0`, declares commands by line, enters data mode (000 §2.2.4) and gives up
/// on a command sees the same events through `decode_with` as through `push` + `poll_event`.
#[test]
fn control_acts_like_the_decoder_methods() {
    let stream: &[u8] = b"ATE0\r\r\nOK\r\n\r\nCONNECT\r\n\r\n+QSMTPBODY: 5\r\n\r\nOK\r\n\r\n+QSMTPDST: 1,\"a@b.cn\"\r\n\r\nOK\r\n";
    // What the host saw at each event, after acting on it.
    #[derive(Debug, PartialEq)]
    struct Seen {
        kind: Kind,
        data_mode: bool,
        pending: Option<Vec<u8>>,
    }
    let pull = {
        let mut dec = Decoder::new(DecoderConfig::default());
        dec.expect_line(b"ATE0");
        let mut out = Vec::new();
        dec.push(stream);
        let mut n = 0;
        while let Some(ev) = dec.poll_event() {
            let kind = ev.kind;
            n += 1;
            match n {
                2 => {
                    dec.set_echo(Echo::Off);
                    dec.expect_line(b"AT+QSMTPBODY=0,5,120");
                }
                8 => dec.expect_line(b"AT+QSMTPDST?"),
                10 => dec.pending_done(),
                _ => {}
            }
            out.push(Seen {
                kind,
                data_mode: dec.in_data_mode(),
                pending: dec.pending().map(|p| p.command.clone()),
            });
        }
        out
    };
    let batch = {
        let mut dec = Decoder::new(DecoderConfig::default());
        dec.expect_line(b"ATE0");
        let mut out = Vec::new();
        let mut n = 0;
        dec.decode_with(stream, |ev, ctl| {
            n += 1;
            match n {
                2 => {
                    ctl.set_echo(Echo::Off);
                    ctl.expect_line(b"AT+QSMTPBODY=0,5,120");
                }
                8 => ctl.expect_line(b"AT+QSMTPDST?"),
                10 => ctl.pending_done(),
                _ => {}
            }
            out.push(Seen {
                kind: ev.kind,
                data_mode: ctl.in_data_mode(),
                pending: ctl.pending().map(|p| p.command.clone()),
            });
        });
        assert_eq!(dec.config().echo, Echo::Off);
        out
    };
    assert_eq!(batch, pull);
    let kinds: Vec<Kind> = batch.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::Echo,
            F_OK,
            Kind::Blank,
            Kind::Connect,
            Kind::Blank,
            Kind::Info,
            Kind::Blank,
            F_OK,
            Kind::Blank,
            Kind::Info,
            Kind::Blank,
            F_OK,
        ]
    );
    // Data mode from CONNECT until the body's final result code.
    assert!(batch[3].data_mode && batch[5].data_mode && !batch[7].data_mode);
    // `pending_done` after the 10th event: the last OK answers nothing.
    assert_eq!(batch[9].pending, None);
}

/// `is_final_line` (the rule the scenario loader, runner, recorder and device fuzzer use) says
/// what the decoder says of the same line while a command is pending.
#[rstest]
#[case("OK", true)]
#[case("ERROR", true)]
#[case("NO CARRIER", true)]
#[case("BUSY", true)]
#[case("NO ANSWER", true)]
#[case("NO DIALTONE", true)]
#[case("CONNECT", true)]
#[case("CONNECT 115200", true)]
#[case("OK_Info_WaitingForData", true)]
#[case("+CME ERROR: 10", true)]
#[case("+CME ERROR:10", true)]
#[case("+CMS ERROR: 500", true)]
#[case("#CME ERROR: 38027", true)]
#[case("#CME ERROR: timeout", true)]
#[case("+QSMTPPUT: 0,0", false)]
#[case("RING", false)]
#[case("OKAY", false)]
#[case("CONNECTED", false)]
#[case("0", false)]
#[case("ok", false)]
fn is_final_line_agrees_with_the_decoder(#[case] line: &str, #[case] fin: bool) {
    assert_eq!(at_wire::is_final_line(line.as_bytes()), fin, "{line}");
    let events = decode(
        off(),
        Some(b"AT+QSMTPPUT=300"),
        format!("\r\n{line}\r\n").as_bytes(),
    );
    let kind = events
        .iter()
        .map(|e| e.kind)
        .find(|k| *k != Kind::Blank)
        .unwrap();
    assert_eq!(kind.ends_response(), fin, "{line}: {kind:?}");
}

#[test]
fn final_prefixes_start_final_lines() {
    for p in at_wire::FINAL_PREFIXES {
        let mut line = p.to_vec();
        line.extend_from_slice(b"42");
        assert!(at_wire::is_final_line(&line));
        assert!(at_wire::starts_final_line(&line));
    }
    assert!(!at_wire::starts_final_line(b"OK"));
}
