//! The manuals' examples, byte for byte (000 §2.2, §3; 001).

use core::time::Duration;

use at_mailer::{Charset, RecipientKind, SslType};

use crate::util::{Bench, s};

#[test]
fn echo_is_on_by_default_and_ate0_applies_to_the_next_line() {
    // ERRATA W2
    let mut b = Bench::new("ec25");
    assert_eq!(s(&b.send(b"AT\r")), "AT\r\r\nOK\r\n");
    assert_eq!(s(&b.send(b"\nATE0\r\n")), "\nATE0\r\n\r\nOK\r\n");
    assert_eq!(s(&b.send(b"AT\r\n")), "\r\nOK\r\n");
    assert_eq!(s(&b.send(b"ATE1\r")), "\r\nOK\r\n");
    assert_eq!(s(&b.send(b"at\r")), "at\r\r\nOK\r\n"); // 000 §2.1.2: AT or at
    assert!(b.emu().echo());
}

#[test]
fn echo_arrives_byte_by_byte() {
    let mut b = Bench::new("ec25");
    assert_eq!(s(&b.send(b"A")), "A");
    assert_eq!(s(&b.send(b"T")), "T");
    assert_eq!(s(&b.send(b"\r")), "\r\r\nOK\r\n");
}

#[test]
fn ati_is_an_information_block() {
    let mut b = Bench::quiet("ec25", Default::default());
    assert_eq!(
        b.cmd("ATI"),
        "\r\nQuectel\r\nEC25\r\nRevision: EC25EFAR06A03M4G\r\n\r\nOK\r\n"
    );
    let mut b = Bench::quiet("ag35", Default::default());
    assert!(b.cmd("ATI").contains("\r\nAG35\r\n"));
}

#[test]
fn qsmtpcfg_test_command_per_errata_e7() {
    let mut b = Bench::quiet("ec25", Default::default());
    assert_eq!(
        b.cmd("AT+QSMTPCFG=?"),
        "\r\n+QSMTPCFG: \"account\",<username>,<password>\r\n\
         +QSMTPCFG: \"sender\",<sender_name>,<sender_email>\r\n\
         +QSMTPCFG: \"smtpserver\",<srvaddr>,<srvport>\r\n\
         +QSMTPCFG: \"contextid\",(1-16)\r\n\
         +QSMTPCFG: \"sslctxid\",(0-5)\r\n\
         +QSMTPCFG: \"ssltype\",(0-2)\r\n\
         +QSMTPCFG: \"bodyoriginal\",(0,1)\r\n\r\nOK\r\n"
    );
    // 001 p.9: the AG35 lists no "bodyoriginal" and refuses it.
    let mut b = Bench::quiet("ag35", Default::default());
    let out = b.cmd("AT+QSMTPCFG=?");
    assert!(out.contains("\"ssltype\",(0-2)\r\n\r\nOK"));
    assert!(!out.contains("bodyoriginal"));
    assert_eq!(
        b.cmd("AT+QSMTPCFG=\"bodyoriginal\",1"),
        "\r\n+CME ERROR: 664\r\n"
    );
}

#[test]
fn other_test_commands() {
    let mut b = Bench::quiet("ec25", Default::default());
    for (cmd, want) in [
        ("AT+QSMTPDST=?", "+QSMTPDST: (0,1),(1-3),<emailaddr>"),
        ("AT+QSMTPSUB=?", "+QSMTPSUB: (0-3),<subject>"),
        ("AT+QSMTPBODY=?", "+QSMTPBODY: (0-3),(1-10240),(1-65535)"),
        ("AT+QSMTPATT=?", "+QSMTPATT: (0,1),(1-10),<file_name>"),
        ("AT+QSMTPPUT=?", "+QSMTPPUT: (60-65535)"),
    ] {
        assert_eq!(b.cmd(cmd), format!("\r\n{want}\r\n\r\nOK\r\n"), "{cmd}");
    }
    assert_eq!(b.cmd("AT+QSMTPCLR=?"), "\r\nOK\r\n"); // 000 §2.2.6
}

#[test]
fn qsmtpcfg_settings_query_and_set() {
    // 000 §2.2.1, ERRATA E6/E26
    let mut b = Bench::quiet("ec25", Default::default());
    assert_eq!(
        b.cmd("AT+QSMTPCFG=\"contextid\""),
        "\r\n+QSMTPCFG: \"contextid\",1\r\n\r\nOK\r\n"
    );
    assert_eq!(
        b.cmd("AT+QSMTPCFG=\"sslctxid\""),
        "\r\n+QSMTPCFG: \"sslctxid\",1\r\n\r\nOK\r\n"
    );
    assert_eq!(b.cmd("AT+QSMTPCFG=\"ssltype\",2"), "\r\nOK\r\n");
    assert_eq!(
        b.cmd("AT+QSMTPCFG=\"ssltype\""),
        "\r\n+QSMTPCFG: \"ssltype\",2\r\n\r\nOK\r\n"
    );
    assert_eq!(
        b.cmd("AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",465"),
        "\r\nOK\r\n"
    );
    assert_eq!(
        b.cmd("AT+QSMTPCFG=\"smtpserver\""),
        "\r\n+QSMTPCFG: \"smtpserver\",\"smtp.163.com\",465\r\n\r\nOK\r\n"
    );
    assert_eq!(
        b.cmd("AT+QSMTPCFG=\"account\",\"sishen664551\",\"wq664551\""),
        "\r\nOK\r\n"
    );
    assert_eq!(
        b.cmd("AT+QSMTPCFG=\"account\""),
        "\r\n+QSMTPCFG: \"account\",\"sishen664551\",\"wq664551\"\r\n\r\nOK\r\n"
    );
    // Out of range, wrong type, too long, half a pair, unknown keyword: 664.
    for bad in [
        "AT+QSMTPCFG=\"contextid\",0",
        "AT+QSMTPCFG=\"contextid\",17",
        "AT+QSMTPCFG=\"sslctxid\",6",
        "AT+QSMTPCFG=\"ssltype\",3",
        "AT+QSMTPCFG=\"ssltype\",\"1\"",
        "AT+QSMTPCFG=\"account\",\"only-user\"",
        "AT+QSMTPCFG=\"nosuch\",1",
        "AT+QSMTPCFG=1",
    ] {
        assert_eq!(b.cmd(bad), "\r\n+CME ERROR: 664\r\n", "{bad}");
    }
    let long = "a".repeat(51);
    assert_eq!(
        b.cmd(&format!("AT+QSMTPCFG=\"sender\",\"{long}\",\"x@y\"")),
        "\r\n+CME ERROR: 664\r\n"
    );
    // The failed commands changed nothing.
    assert_eq!(
        b.cmd("AT+QSMTPCFG=\"ssltype\""),
        "\r\n+QSMTPCFG: \"ssltype\",2\r\n\r\nOK\r\n"
    );
}

#[test]
fn qsmtpdst_example_2_2_2() {
    let mut b = Bench::quiet("ec25", Default::default());
    assert_eq!(
        b.cmd("AT+QSMTPDST=1,1,\"quectel_test@aol.com\""),
        "\r\nOK\r\n"
    );
    assert_eq!(
        b.cmd("AT+QSMTPDST=1,2,\"quectel_test@21cn.com\""),
        "\r\nOK\r\n"
    );
    assert_eq!(
        b.cmd("AT+QSMTPDST?"),
        "\r\n+QSMTPDST: 1,\"quectel_test@aol.com\"\r\n+QSMTPDST: 2,\"quectel_test@21cn.com\"\r\n\r\nOK\r\n"
    );
    assert_eq!(b.cmd("AT+QSMTPDST=0"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QSMTPDST?"), "\r\nOK\r\n");
}

#[test]
fn qsmtpdst_limits_and_partial_deletes() {
    let mut b = Bench::quiet("ec25", Default::default());
    for i in 0..20 {
        let t = i % 3 + 1;
        assert_eq!(
            b.cmd(&format!("AT+QSMTPDST=1,{t},\"r{i}@x.com\"")),
            "\r\nOK\r\n"
        );
    }
    // 000 §2.2.2: at most 20 recipients.
    assert_eq!(
        b.cmd("AT+QSMTPDST=1,1,\"r20@x.com\""),
        "\r\n+CME ERROR: 664\r\n"
    );
    // ERRATA E24
    assert_eq!(b.cmd("AT+QSMTPDST=0,3"), "\r\nOK\r\n");
    assert!(!b.cmd("AT+QSMTPDST?").contains("+QSMTPDST: 3,"));
    assert_eq!(b.cmd("AT+QSMTPDST=0,1,\"r0@x.com\""), "\r\nOK\r\n");
    let out = b.cmd("AT+QSMTPDST?");
    assert!(!out.contains("r0@x.com") && out.contains("r3@x.com"));
}

#[test]
fn qsmtpsub_example_2_2_3_and_hex_subject() {
    let mut b = Bench::quiet("ec25", Default::default());
    assert_eq!(b.cmd("AT+QSMTPSUB=0,\"TEST SMTP\""), "\r\nOK\r\n");
    assert_eq!(
        b.cmd("AT+QSMTPSUB?"),
        "\r\n+QSMTPSUB: 0,\"TEST SMTP\"\r\n\r\nOK\r\n"
    );
    assert_eq!(b.cmd("AT+QSMTPSUB=1,\"7465737420534D5450\""), "\r\nOK\r\n");
    assert_eq!(
        b.cmd("AT+QSMTPSUB?"),
        "\r\n+QSMTPSUB: 1,\"7465737420534D5450\"\r\n\r\nOK\r\n"
    );
    // ERRATA E8: odd length or non-hex → 664, and the previous subject stays.
    assert_eq!(b.cmd("AT+QSMTPSUB=1,\"746\""), "\r\n+CME ERROR: 664\r\n");
    assert_eq!(b.cmd("AT+QSMTPSUB=2,\"7G\""), "\r\n+CME ERROR: 664\r\n");
    let too_long = "41".repeat(101);
    assert_eq!(
        b.cmd(&format!("AT+QSMTPSUB=1,\"{too_long}\"")),
        "\r\n+CME ERROR: 664\r\n"
    );
    assert_eq!(
        b.cmd(&format!("AT+QSMTPSUB=0,\"{}\"", "a".repeat(101))),
        "\r\n+CME ERROR: 664\r\n"
    );
    assert_eq!(
        b.cmd(&format!("AT+QSMTPSUB=0,\"{}\"", "a".repeat(100))),
        "\r\nOK\r\n"
    );
    assert_eq!(b.cmd("AT+QSMTPSUB=1,\"7465737420534D5450\""), "\r\nOK\r\n");
    b.ready_mail_without_subject();
    b.cmd("AT+QSMTPPUT=300");
    let (_, job, _) = b.deliver();
    // ERRATA W4: decodes byte-exactly to "test SMTP".
    assert_eq!(job.subject.charset, Charset::Utf8);
    assert_eq!(job.subject.bytes, b"test SMTP");
}

impl Bench {
    fn ready_mail_without_subject(&mut self) {
        for l in [
            "AT+QIACT=1",
            "AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25",
            "AT+QSMTPDST=1,1,\"to@x.com\"",
        ] {
            assert_eq!(self.cmd(l), "\r\nOK\r\n");
        }
    }
}

#[test]
fn qsmtpbody_three_examples_of_2_2_4() {
    let mut b = Bench::quiet("ec25", Default::default());
    // 1. exactly 100 bytes
    assert_eq!(b.cmd("AT+QSMTPBODY=0,100,120"), "\r\nCONNECT\r\n");
    assert!(b.emu().in_data_mode());
    assert_eq!(
        s(&b.send(&[b'x'; 100])),
        "\r\n+QSMTPBODY: 100\r\n\r\nOK\r\n"
    );
    assert!(!b.emu().in_data_mode());
    // 2. 90 bytes, then +++ with 1 s guard times (000 §1.3)
    assert_eq!(b.cmd("AT+QSMTPBODY=0,100,120"), "\r\nCONNECT\r\n");
    assert_eq!(s(&b.send(&[b'y'; 90])), "");
    b.advance_ms(1100);
    assert_eq!(s(&b.send(b"+++")), "");
    assert_eq!(s(&b.advance_ms(999)), "");
    assert_eq!(s(&b.advance_ms(1)), "\r\n+QSMTPBODY: 90\r\n\r\nOK\r\n");
    // 3. 90 bytes, then 120 s pass: zero wall time.
    let t0 = b.now();
    assert_eq!(b.cmd("AT+QSMTPBODY=0,100,120"), "\r\nCONNECT\r\n");
    b.send(&[b'z'; 90]);
    assert_eq!(b.emu().poll_timeout(), Some(t0 + Duration::from_secs(120)));
    assert_eq!(s(&b.advance(Duration::from_secs(119))), "");
    assert_eq!(
        s(&b.advance(Duration::from_secs(1))),
        "\r\n+QSMTPBODY: 90\r\n\r\nOK\r\n"
    );
    // The body is not echoed, and AT works again.
    assert_eq!(b.cmd("AT"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QSMTPBODY?"), "\r\nOK\r\n"); // 000 §2.2.4: read answers OK
}

#[test]
fn qsmtpbody_default_input_time_is_90_s_and_ranges() {
    let mut b = Bench::quiet("ec25", Default::default());
    let t0 = b.now();
    b.cmd("AT+QSMTPBODY=1,10");
    assert_eq!(b.emu().poll_timeout(), Some(t0 + Duration::from_secs(90)));
    assert_eq!(
        s(&b.advance(Duration::from_secs(90))),
        "\r\n+QSMTPBODY: 0\r\n\r\nOK\r\n"
    );
    for bad in [
        "AT+QSMTPBODY=4,10",
        "AT+QSMTPBODY=0,0",
        "AT+QSMTPBODY=0,10241",
        "AT+QSMTPBODY=0,10,0",
        "AT+QSMTPBODY=0,10,65536",
        "AT+QSMTPBODY=0",
    ] {
        assert_eq!(b.cmd(bad), "\r\n+CME ERROR: 664\r\n", "{bad}");
    }
}

#[test]
fn lf_after_the_body_command_is_not_body_data() {
    // ERRATA E20
    let mut b = Bench::quiet("ec25", Default::default());
    assert_eq!(
        s(&b.send(b"AT+QSMTPBODY=0,3\r\nabc")),
        "\r\nCONNECT\r\n\r\n+QSMTPBODY: 3\r\n\r\nOK\r\n"
    );
}

#[test]
fn plus_signs_inside_the_body_are_data() {
    let mut b = Bench::quiet("ec25", Default::default());
    b.cmd("AT+QSMTPBODY=0,8,120");
    b.advance_ms(50);
    b.send(b"a+++b");
    // A guarded `+++` is an escape even where it would fill the length (at-wire framer).
    b.advance_ms(3000);
    assert_eq!(s(&b.send(b"+++")), "");
    assert_eq!(s(&b.advance_ms(1000)), "\r\n+QSMTPBODY: 5\r\n\r\nOK\r\n");
    // Unguarded, the same bytes are payload and complete the length.
    b.cmd("AT+QSMTPBODY=0,8,120");
    b.advance_ms(50);
    b.send(b"a+++b");
    assert_eq!(s(&b.send(b"+++")), "\r\n+QSMTPBODY: 8\r\n\r\nOK\r\n");
}

#[test]
fn dtr_drop_ends_the_body_only_after_at_and_d1() {
    // 000 §1.3, ERRATA E17
    let mut b = Bench::quiet("ec25", Default::default());
    b.cmd("AT+QSMTPBODY=0,100");
    b.send(b"abc");
    b.m.set_dtr(false);
    assert_eq!(s(&b.drain()), "");
    b.m.set_dtr(true);
    b.advance(Duration::from_secs(90));
    assert_eq!(b.cmd("AT&D1"), "\r\nOK\r\n");
    b.cmd("AT+QSMTPBODY=0,100");
    b.send(b"abcd");
    b.m.set_dtr(false);
    assert_eq!(s(&b.drain()), "\r\n+QSMTPBODY: 4\r\n\r\nOK\r\n");
    assert_eq!(b.cmd("AT&D3"), "\r\nERROR\r\n");
}

#[test]
fn ato_answers_no_carrier() {
    // ERRATA E16
    let mut b = Bench::quiet("ec25", Default::default());
    assert_eq!(b.cmd("ATO"), "\r\nNO CARRIER\r\n");
}

#[test]
fn files_and_attachments_2_2_5() {
    let mut b = Bench::quiet("ec25", Default::default());
    assert_eq!(
        b.cmd("AT+QFUPL=\"RAM:test.txt\",200,300,1"),
        "\r\nCONNECT\r\n"
    );
    let data: Vec<u8> = (0..200u8).collect();
    let cks = data
        .chunks(2)
        .fold(0u16, |a, c| a ^ (u16::from(c[0]) << 8 | u16::from(c[1])));
    assert_eq!(
        s(&b.send(&data)),
        format!("\r\n+QFUPL: 200,{cks:x}\r\n\r\nOK\r\n")
    );
    assert_eq!(
        b.cmd("AT+QFLST=\"RAM:*\""),
        "\r\n+QFLST: \"RAM:test.txt\",200\r\n\r\nOK\r\n"
    );
    assert_eq!(b.cmd("AT+QSMTPATT=1,1,\"RAM:test.txt\""), "\r\nOK\r\n");
    assert_eq!(
        b.cmd("AT+QSMTPATT?"),
        "\r\n+QSMTPATT: 1,\"RAM:test.txt\",200\r\n\r\nOK\r\n"
    );
    assert_eq!(b.cmd("AT+QSMTPATT=0"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QSMTPATT?"), "\r\nOK\r\n");
    // Missing file: 661; bad index: 664; existing upload name: 407.
    assert_eq!(
        b.cmd("AT+QSMTPATT=1,1,\"RAM:none.txt\""),
        "\r\n+CME ERROR: 661\r\n"
    );
    assert_eq!(
        b.cmd("AT+QSMTPATT=1,11,\"RAM:test.txt\""),
        "\r\n+CME ERROR: 664\r\n"
    );
    assert_eq!(
        b.cmd("AT+QFUPL=\"RAM:test.txt\",10"),
        "\r\n+CME ERROR: 407\r\n"
    );
    // E1: the line as printed in 000 §3.1 is not a well-formed command line.
    assert_eq!(b.cmd("AT+QFLST=\"RAM: \"*\""), "\r\nERROR\r\n");
    // E2: deleting the name the manual prints fails, the uploaded name works.
    assert_eq!(
        b.cmd("AT+QFDEL=\"RAM:smtp.txt\""),
        "\r\n+CME ERROR: 405\r\n"
    );
    assert_eq!(b.cmd("AT+QFDEL=\"RAM:test.txt\""), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QFLST=\"RAM:*\""), "\r\nOK\r\n");
}

#[test]
fn qfupl_ack_mode_and_timeout() {
    // ERRATA E18
    let mut b = Bench::quiet("ec25", Default::default());
    b.cmd("AT+QFUPL=\"big.bin\",3000,10,1");
    assert_eq!(s(&b.send(&[7u8; 2100])), "AA");
    let out = s(&b.advance(Duration::from_secs(10)));
    assert!(out.starts_with("\r\n+QFUPL: 2100,"), "{out}");
    assert_eq!(
        b.cmd("AT+QFLST"),
        "\r\n+QFLST: \"big.bin\",2100\r\n\r\nOK\r\n"
    );
    assert_eq!(
        b.cmd("AT+QFLST=\"UFS:*\""),
        "\r\n+QFLST: \"big.bin\",2100\r\n\r\nOK\r\n"
    );
}

#[test]
fn qsmtpclr_2_2_6() {
    let mut b = Bench::quiet("ec25", Default::default());
    b.ready_mail();
    assert_eq!(b.cmd("AT+QSMTPCLR"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QSMTPDST?"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QSMTPSUB?"), "\r\n+QSMTPSUB: 0,\"\"\r\n\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QSMTPATT?"), "\r\nOK\r\n");
    // The configuration is kept.
    assert!(b.cmd("AT+QSMTPCFG=\"smtpserver\"").contains("smtp.163.com"));
}

#[test]
fn example_3_1_plain_send_end_to_end() {
    let mut b = Bench::quiet("ec25", Default::default());
    let steps: &[(&str, &str)] = &[
        ("AT+QICSGP=1,1,\"UNINET\",\"\",\"\",1", "\r\nOK\r\n"), // ERRATA E15
        ("AT+QIACT=1", "\r\nOK\r\n"),
        (
            "AT+QIACT?",
            "\r\n+QIACT: 1,1,1,\"10.7.157.1\"\r\n\r\nOK\r\n",
        ),
        ("AT+QSMTPCFG=\"contextid\",1", "\r\nOK\r\n"),
        ("AT+QSMTPCFG=\"ssltype\",0", "\r\nOK\r\n"),
        (
            "AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25",
            "\r\nOK\r\n",
        ),
        (
            "AT+QSMTPCFG=\"account\",\"sishen664551\",\"wq664551\"",
            "\r\nOK\r\n",
        ),
        (
            "AT+QSMTPCFG=\"sender\",\"sishen664551\",\"sishen664551@163.com\"",
            "\r\nOK\r\n",
        ),
        ("AT+QSMTPDST=1,1,\"quectel_test@163.com\"", "\r\nOK\r\n"),
        ("AT+QSMTPDST=1,2,\"quectel_test@21cn.com\"", "\r\nOK\r\n"),
        (
            "AT+QSMTPDST?",
            "\r\n+QSMTPDST: 1,\"quectel_test@163.com\"\r\n+QSMTPDST: 2,\"quectel_test@21cn.com\"\r\n\r\nOK\r\n",
        ),
        ("AT+QSMTPSUB=0,\"TEST SMTP\"", "\r\nOK\r\n"),
        (
            "AT+QSMTPSUB?",
            "\r\n+QSMTPSUB: 0,\"TEST SMTP\"\r\n\r\nOK\r\n",
        ),
        ("AT+QSMTPBODY=0,100,120", "\r\nCONNECT\r\n"),
    ];
    for (cmd, want) in steps {
        assert_eq!(b.cmd(cmd), *want, "{cmd}");
    }
    let body: Vec<u8> = b"Hello from the module.\r\n.leading dot\r\n"
        .iter()
        .copied()
        .cycle()
        .take(100)
        .collect();
    assert_eq!(s(&b.send(&body)), "\r\n+QSMTPBODY: 100\r\n\r\nOK\r\n");
    assert_eq!(
        b.cmd("AT+QFUPL=\"RAM:smtp1.txt\",100,200,1"),
        "\r\nCONNECT\r\n"
    );
    let att = [b'A'; 100];
    assert!(s(&b.send(&att)).starts_with("\r\n+QFUPL: 100,"));
    assert_eq!(
        b.cmd("AT+QFLST=\"RAM:*\""),
        "\r\n+QFLST: \"RAM:smtp1.txt\",100\r\n\r\nOK\r\n"
    );
    assert_eq!(b.cmd("AT+QSMTPATT=1,1,\"RAM:smtp1.txt\""), "\r\nOK\r\n");
    assert_eq!(
        b.cmd("AT+QSMTPATT?"),
        "\r\n+QSMTPATT: 1,\"RAM:smtp1.txt\",100\r\n\r\nOK\r\n"
    );
    assert_eq!(b.cmd("AT+QSMTPPUT=300"), "\r\nOK\r\n");
    let (id, job, deadline) = b.deliver();
    assert_eq!(deadline, b.now() + Duration::from_secs(300));
    assert_eq!(job.server, "smtp.163.com");
    assert_eq!(job.port, 25);
    assert_eq!(job.ssl, SslType::Plain);
    let auth = job.auth.as_ref().unwrap();
    assert_eq!(auth.user, "sishen664551");
    assert_eq!(auth.password.expose(), "wq664551");
    assert!(!format!("{job:?}").contains("wq664551")); // secrets never in Debug
    assert_eq!(job.sender_name, "sishen664551");
    assert_eq!(job.sender_email, "sishen664551@163.com");
    assert_eq!(
        job.recipients,
        [
            (RecipientKind::To, "quectel_test@163.com".to_owned()),
            (RecipientKind::Cc, "quectel_test@21cn.com".to_owned())
        ]
    );
    assert_eq!(job.subject.bytes, b"TEST SMTP");
    assert_eq!(job.body.bytes, body);
    assert!(!job.body.original);
    assert_eq!(job.attachments.len(), 1);
    assert_eq!(job.attachments[0].file_name, "smtp1.txt");
    assert_eq!(job.attachments[0].bytes, att);
    assert_eq!(job.helo_domain, "[10.7.157.1]");
    assert_eq!(job.date, "Wed, 29 Jul 2020 00:00:00 +0000");
    assert_eq!(job.message_id, "0000000000000000.1@ec25.atconform.invalid");
    assert!(b.emu().is_sending());
    b.advance(Duration::from_secs(42));
    assert_eq!(b.finish(id, Ok(())), "\r\n+QSMTPPUT: 0,0\r\n");
    assert!(!b.emu().is_sending());
    // E13: content persists until AT+QSMTPCLR; a resend goes out again.
    assert_eq!(b.cmd("AT+QSMTPPUT=300"), "\r\nOK\r\n");
    let (id2, job2, _) = b.deliver();
    assert_ne!(id, id2);
    assert_eq!(job2.body.bytes, body);
    assert_eq!(job2.date, "Wed, 29 Jul 2020 00:00:42 +0000");
    b.finish(id2, Ok(()));
    assert_eq!(b.cmd("AT+QSMTPCLR"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QFDEL=\"RAM:smtp1.txt\""), "\r\nOK\r\n"); // E2
    assert_eq!(b.cmd("AT+QIDEACT=1"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QIACT?"), "\r\nOK\r\n");
}

#[test]
fn examples_3_2_and_3_3_ssl_settings() {
    for (ssltype, want) in [(1, SslType::Implicit), (2, SslType::StartTls)] {
        let mut b = Bench::quiet("ec25", Default::default());
        for (cmd, resp) in [
            (format!("AT+QSMTPCFG=\"ssltype\",{ssltype}"), "\r\nOK\r\n"),
            ("AT+QSMTPCFG=\"sslctxid\",1".into(), "\r\nOK\r\n"),
            ("AT+QSSLCFG=\"ciphersuite\",1,0xffff".into(), "\r\nOK\r\n"),
            ("AT+QSSLCFG=\"secllevel\",1,0".into(), "\r\nERROR\r\n"), // E3
            ("AT+QSSLCFG=\"seclevel\",1,0".into(), "\r\nOK\r\n"),
            ("AT+QSSLCFG=\"sslversion\",1,1".into(), "\r\nOK\r\n"),
        ] {
            assert_eq!(b.cmd(&cmd), resp, "{cmd}");
        }
        assert_eq!(
            b.cmd("AT+QSSLCFG=\"ciphersuite\",1"),
            "\r\n+QSSLCFG: \"ciphersuite\",1,0XFFFF\r\n\r\nOK\r\n"
        );
        assert_eq!(
            b.cmd("AT+QSSLCFG=\"sslversion\",1"),
            "\r\n+QSSLCFG: \"sslversion\",1,1\r\n\r\nOK\r\n"
        );
        b.ready_mail();
        b.cmd("AT+QSMTPPUT=60");
        let (_, job, _) = b.deliver();
        assert_eq!(job.ssl, want);
        assert_eq!(job.tls.verify, at_tls::Verify::Nothing); // seclevel 0
        // E28: "sslversion",1,1 offers TLS 1.0 only; 0xffff the catalog's suites, in order.
        assert_eq!(job.tls.versions.to_string(), "TLSv1");
        assert_eq!(
            job.tls.ciphers.tls12,
            "AES256-SHA:AES128-SHA:RC4-SHA:RC4-MD5:DES-CBC3-SHA:AES256-SHA256:\
             ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"
        );
        assert_eq!(job.port, 25); // E4: no port tied to SSL
    }
}

#[test]
fn seclevel_and_certificate_files_reach_the_job() {
    let mut b = Bench::quiet("ec25", Default::default());
    for (cmd, resp) in [
        ("AT+QSSLCFG=\"seclevel\",1,2", "\r\nOK\r\n"),
        ("AT+QSSLCFG=\"cacert\",1,\"UFS:ca.pem\"", "\r\nOK\r\n"),
        ("AT+QSSLCFG=\"clientcert\",1,\"RAM:m.pem\"", "\r\nOK\r\n"),
        ("AT+QSSLCFG=\"clientkey\",1,\"RAM:m.key\"", "\r\nOK\r\n"),
        (
            "AT+QSSLCFG=\"cacert\",1",
            "\r\n+QSSLCFG: \"cacert\",1,\"UFS:ca.pem\"\r\n\r\nOK\r\n",
        ),
        (
            "AT+QSSLCFG=\"clientkey\",0",
            "\r\n+QSSLCFG: \"clientkey\",0,\"\"\r\n\r\nOK\r\n",
        ),
        ("AT+QSSLCFG=\"cacert\",6,\"x\"", "\r\nERROR\r\n"),
        ("AT+QSSLCFG=\"cacert\",1,5", "\r\nERROR\r\n"),
    ] {
        assert_eq!(b.cmd(cmd), resp, "{cmd}");
    }
    b.ready_mail();
    b.cmd("AT+QSMTPPUT=60");
    let job = b.deliver().1;
    // The files do not exist: nothing to verify against, no client certificate.
    assert_eq!(
        job.tls.verify,
        at_tls::Verify::Chain {
            anchors: Vec::new(),
            check_host: true
        }
    );
    assert!(job.tls.identity.is_none());
}

#[test]
fn bodyoriginal_reaches_the_job() {
    let mut b = Bench::quiet("ec25", Default::default());
    assert_eq!(b.cmd("AT+QSMTPCFG=\"bodyoriginal\",1"), "\r\nOK\r\n");
    assert_eq!(
        b.cmd("AT+QSMTPCFG=\"bodyoriginal\""),
        "\r\n+QSMTPCFG: \"bodyoriginal\",1\r\n\r\nOK\r\n"
    );
    b.ready_mail();
    b.cmd("AT+QSMTPPUT=60");
    assert!(b.deliver().1.body.original);
}

#[test]
fn network_commands() {
    let mut b = Bench::quiet("ec25", Default::default());
    assert_eq!(b.cmd("AT+CPIN?"), "\r\n+CPIN: READY\r\n\r\nOK\r\n");
    assert_eq!(b.cmd("AT+CGATT?"), "\r\n+CGATT: 1\r\n\r\nOK\r\n");
    assert_eq!(b.cmd("AT+CGREG?"), "\r\n+CGREG: 0,1\r\n\r\nOK\r\n");
    assert_eq!(
        b.cmd("AT+QICSGP=1"),
        "\r\n+QICSGP: 1,\"\",\"\",\"\",0\r\n\r\nOK\r\n"
    );
    assert_eq!(
        b.cmd("AT+QICSGP=1,1,\"UNINET\",\"u\",\"p\",1"),
        "\r\nOK\r\n"
    );
    assert_eq!(
        b.cmd("AT+QICSGP=1"),
        "\r\n+QICSGP: 1,\"UNINET\",\"u\",\"p\",1\r\n\r\nOK\r\n"
    );
    assert_eq!(b.cmd("AT+QIACT=1"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QIACT=1"), "\r\nERROR\r\n"); // already active
    assert_eq!(b.cmd("AT+QIACT=2"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QIACT=3"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QIACT=4"), "\r\nERROR\r\n"); // 000 §4.2 item 5
    assert_eq!(
        b.cmd("AT+QIACT?"),
        "\r\n+QIACT: 1,1,1,\"10.7.157.1\"\r\n+QIACT: 2,1,1,\"10.7.157.2\"\r\n+QIACT: 3,1,1,\"10.7.157.3\"\r\n\r\nOK\r\n"
    );
    assert_eq!(b.cmd("AT+CGATT=0"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QIACT?"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QIACT=1"), "\r\nERROR\r\n"); // detached
    assert_eq!(b.cmd("AT+CGATT=1"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QIACT=17"), "\r\nERROR\r\n");
}

#[test]
fn put_reports_and_timeout_without_wall_time() {
    let mut b = Bench::quiet("ec25", Default::default());
    // No recipient: OK then 659 (ERRATA E19).
    assert_eq!(
        b.cmd("AT+QSMTPPUT=300"),
        "\r\nOK\r\n\r\n+QSMTPPUT: 659,0\r\n"
    );
    assert!(b.no_new_delivery());
    b.ready_mail();
    assert_eq!(b.cmd("AT+QSMTPPUT=59"), "\r\n+CME ERROR: 664\r\n");
    assert_eq!(b.cmd("AT+QSMTPPUT=65536"), "\r\n+CME ERROR: 664\r\n");
    assert_eq!(b.cmd("AT+QSMTPPUT=300"), "\r\nOK\r\n");
    let (id, _, deadline) = b.deliver();
    // Busy: 652 for edits and for a second send; queries still answer.
    assert_eq!(b.cmd("AT+QSMTPPUT=300"), "\r\n+CME ERROR: 652\r\n");
    assert_eq!(
        b.cmd("AT+QSMTPDST=1,1,\"x@y.z\""),
        "\r\n+CME ERROR: 652\r\n"
    );
    assert_eq!(b.cmd("AT+QSMTPBODY=0,10"), "\r\n+CME ERROR: 652\r\n");
    assert_eq!(b.cmd("AT+QSMTPCLR"), "\r\n+CME ERROR: 652\r\n");
    assert_eq!(
        b.cmd("AT+QSMTPCFG=\"ssltype\",1"),
        "\r\n+CME ERROR: 652\r\n"
    );
    assert!(b.cmd("AT+QSMTPDST?").contains("to@x.com"));
    assert_eq!(b.cmd("AT"), "\r\nOK\r\n");
    // 300 s of virtual time: the deadline fires, 658 and a Cancel.
    assert_eq!(b.emu().poll_timeout(), Some(deadline));
    assert_eq!(
        s(&b.advance(Duration::from_secs(300))),
        "\r\n+QSMTPPUT: 658,0\r\n"
    );
    assert!(b.cancelled(id));
    // A late outcome is ignored.
    assert_eq!(b.finish(id, Ok(())), "");
    assert!(!b.emu().is_sending());
}

#[test]
fn delivery_failures_map_to_table_codes() {
    use at_mailer::{Failure, Stage};
    let cases: Vec<(Failure, &str)> = vec![
        (crate::util::auth_failure(), "677,535"),
        (Failure::Dns, "653,0"),
        (Failure::Refused, "654,0"),
        (Failure::Reset { stage: Stage::Body }, "656,0"),
        (Failure::Tls("bad cert".into()), "665,0"),
        (Failure::AuthUnsupported, "655,0"),
        (
            Failure::Protocol {
                stage: Stage::RcptTo,
                code: 550,
                text: String::new(),
            },
            "678,550",
        ),
        (
            Failure::Protocol {
                stage: Stage::Data,
                code: 554,
                text: String::new(),
            },
            "682,554",
        ),
        (
            Failure::Protocol {
                stage: Stage::Data,
                code: 541,
                text: String::new(),
            },
            "660,541",
        ),
    ];
    for (failure, codes) in cases {
        let mut b = Bench::quiet("ec25", Default::default());
        b.ready_mail();
        b.cmd("AT+QSMTPPUT=300");
        let (id, _, _) = b.deliver();
        assert_eq!(
            b.finish(id, Err(failure)),
            format!("\r\n+QSMTPPUT: {codes}\r\n")
        );
    }
}

#[test]
fn put_with_inactive_context_is_653() {
    // 000 §4.3, ERRATA E19
    let mut b = Bench::quiet("ec25", Default::default());
    b.ready_mail();
    b.cmd("AT+QIDEACT=1");
    assert_eq!(
        b.cmd("AT+QSMTPPUT=300"),
        "\r\nOK\r\n\r\n+QSMTPPUT: 653,0\r\n"
    );
    // A deleted attachment file: 661.
    b.cmd("AT+QIACT=1");
    b.cmd("AT+QFUPL=\"RAM:a\",1");
    b.send(b"x");
    b.cmd("AT+QSMTPATT=1,1,\"RAM:a\"");
    b.cmd("AT+QFDEL=\"RAM:a\"");
    assert_eq!(
        b.cmd("AT+QSMTPPUT=300"),
        "\r\nOK\r\n\r\n+QSMTPPUT: 661,0\r\n"
    );
}

#[test]
fn deactivating_the_context_during_a_send_is_657() {
    let mut b = Bench::quiet("ec25", Default::default());
    b.ready_mail();
    b.cmd("AT+QSMTPPUT=300");
    let (id, _, _) = b.deliver();
    assert_eq!(b.cmd("AT+QIDEACT=1"), "\r\n+QSMTPPUT: 657,0\r\n\r\nOK\r\n");
    assert!(b.cancelled(id));
}

#[test]
fn urc_during_data_mode_waits_for_command_mode() {
    let mut b = Bench::quiet("ec25", Default::default());
    b.ready_mail();
    b.cmd("AT+QSMTPPUT=300");
    let (id, _, _) = b.deliver();
    assert_eq!(b.cmd("AT+QFUPL=\"RAM:z\",3"), "\r\nCONNECT\r\n");
    assert_eq!(b.finish(id, Ok(())), "");
    assert_eq!(
        s(&b.send(b"abc")),
        "\r\n+QFUPL: 3,262\r\n\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n"
    );
}

#[test]
fn virtual_time_is_deterministic_across_runs() {
    let run = || {
        let mut b = Bench::new("eg95");
        let mut all = Vec::new();
        all.extend(b.send(b"AT+QSMTPBODY=0,50,2\r"));
        all.extend(b.send(b"partial"));
        all.extend(b.advance(Duration::from_secs(5)));
        all.extend(b.send(b"ATI\r"));
        all
    };
    assert_eq!(run(), run());
}

#[test]
fn file_names_over_80_bytes_are_invalid_input() {
    // FILE note [4] (ERRATA E14, E29): <filename>/<name_pattern> ≤ 80 bytes, drive prefix
    // included, for AT+QFUPL, AT+QFLST and AT+QFDEL alike; 81 answers +CME ERROR: 400.
    let name80 = format!("RAM:{}", "n".repeat(76));
    let name81 = format!("RAM:{}", "n".repeat(77));
    assert_eq!((name80.len(), name81.len()), (80, 81));
    let mut b = Bench::quiet("ec25", Default::default());
    assert_eq!(
        b.cmd(&format!("AT+QFUPL=\"{name81}\",1")),
        "\r\n+CME ERROR: 400\r\n"
    );
    assert_eq!(
        b.cmd(&format!("AT+QFUPL=\"{name80}\",1")),
        "\r\nCONNECT\r\n"
    );
    assert!(s(&b.send(b"x")).ends_with("\r\nOK\r\n"));
    assert_eq!(
        b.cmd(&format!("AT+QFLST=\"{name80}\"")),
        format!("\r\n+QFLST: \"{name80}\",1\r\n\r\nOK\r\n")
    );
    assert_eq!(
        b.cmd(&format!("AT+QFLST=\"{name81}\"")),
        "\r\n+CME ERROR: 400\r\n"
    );
    assert_eq!(
        b.cmd(&format!("AT+QFDEL=\"{name81}\"")),
        "\r\n+CME ERROR: 400\r\n"
    );
    assert_eq!(b.cmd(&format!("AT+QFDEL=\"{name80}\"")), "\r\nOK\r\n");
    // Without a parameter AT+QFLST lists UFS (ERRATA E18); a number is not a name.
    assert_eq!(b.cmd("AT+QFLST"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QFLST=1"), "\r\n+CME ERROR: 400\r\n");
    assert_eq!(b.cmd("AT+QFDEL=1"), "\r\n+CME ERROR: 400\r\n");
}
