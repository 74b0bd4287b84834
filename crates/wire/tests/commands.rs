//! Every command line printed in 000/001/002, parsed, described and re-encoded byte-exactly.

use at_wire::{Command, CommandLine, ErrorKind, Form, Param, parse_command_line};
use proptest::prelude::*;
use rstest::rstest;

use crate::strategies::command_line;

/// A compact, reviewable rendering of a parsed line.
pub fn describe(line: &CommandLine) -> String {
    let mut s = String::from_utf8_lossy(line.prefix.as_bytes()).into_owned();
    for cmd in &line.commands {
        s.push(' ');
        match cmd {
            Command::Basic { amp, letter, value } => {
                s += &format!(
                    "basic {}{}{:?}",
                    if *amp { "&" } else { "" },
                    *letter as char,
                    value
                )
            }
            Command::SRegister { letter, index, op } => {
                s += &format!("sreg {}{index} {op:?}", *letter as char)
            }
            Command::Dial { dial, .. } => s += &format!("dial {}", dial.escape_ascii()),
            Command::Extended { sigil, name, form } => {
                s += &format!("{}{name} {form:?}", *sigil as char)
            }
        }
    }
    s
}

#[rstest]
// 000 §1.2 step 1 and §4.2 (syntax as printed; `<contextID>` is a placeholder word).
#[case::doc000_s1_2_qicsgp_placeholder(
    "000 §4.2",
    "AT+QICSGP=<contextID>",
    r#"AT +QICSGP Set([Word(<contextID>)])"#
)]
#[case::doc000_s1_2_qiact("000 §1.2", "AT+QIACT", "AT +QIACT Execute")]
#[case::doc000_s1_2_contextid_syntax(
    "000 §1.2",
    r#"AT+QSMTPCFG="contextid",<contextid>"#,
    r#"AT +QSMTPCFG Set([Str("contextid"), Word(<contextid>)])"#
)]
#[case::doc000_s1_2_ssltype_syntax(
    "000 §1.2",
    r#"AT+QSMTPCFG="ssltype",<SSL_type>"#,
    r#"AT +QSMTPCFG Set([Str("ssltype"), Word(<SSL_type>)])"#
)]
#[case::doc000_s1_2_sslctxid_syntax(
    "000 §1.2",
    r#"AT+QSMTPCFG="sslctxid",<SSL_ctxid>"#,
    r#"AT +QSMTPCFG Set([Str("sslctxid"), Word(<SSL_ctxid>)])"#
)]
#[case::doc000_s1_2_ciphersuite_syntax(
    "000 §1.2",
    r#"AT+QSSLCFG="ciphersuite",<SSL_ctxid>,<ciphersuites>"#,
    r#"AT +QSSLCFG Set([Str("ciphersuite"), Word(<SSL_ctxid>), Word(<ciphersuites>)])"#
)]
#[case::doc000_s1_2_smtpserver_syntax(
    "000 §1.2",
    r#"AT+QSMTPCFG="smtpserver",<srvaddr>,<srvport>"#,
    r#"AT +QSMTPCFG Set([Str("smtpserver"), Word(<srvaddr>), Word(<srvport>)])"#
)]
#[case::doc000_s1_2_account_syntax(
    "000 §1.2",
    r#"AT+QSMTPCFG="account",<username>,<password>"#,
    r#"AT +QSMTPCFG Set([Str("account"), Word(<username>), Word(<password>)])"#
)]
#[case::doc000_s1_2_sender_syntax(
    "000 §1.2",
    r#"AT+QSMTPCFG="sender",<sender_name>,<sender_email>"#,
    r#"AT +QSMTPCFG Set([Str("sender"), Word(<sender_name>), Word(<sender_email>)])"#
)]
#[case::doc000_s1_2_qidect_syntax(
    "000 §1.2",
    "AT+QIDEACT=<contextID>",
    "AT +QIDEACT Set([Word(<contextID>)])"
)]
#[case::doc000_s1_2_cgqmin("000 §1.2", "AT+CGQMIN", "AT +CGQMIN Execute")]
#[case::doc000_s1_2_cgeqmin("000 §1.2", "AT+CGEQMIN", "AT +CGEQMIN Execute")]
#[case::doc000_s1_2_cgqreq("000 §1.2", "AT+CGQREQ", "AT +CGQREQ Execute")]
#[case::doc000_s1_2_cgeqreq("000 §1.2", "AT+CGEQREQ", "AT +CGEQREQ Execute")]
#[case::doc000_s1_2_qfdel("000 §1.2", "AT+QFDEL", "AT +QFDEL Execute")]
// 000 §1.3 data mode.
#[case::doc000_s1_3_and_d1("000 §1.3", "AT&D1", "AT basic &DSome(1)")]
#[case::doc000_s1_3_ato("000 §1.3", "ATO", "AT basic ONone")]
// 000 §2.1.2 table 2 (generic forms).
#[case::doc000_s2_1_2_test("000 §2.1.2", "AT+<cmd>=?", "error")]
// 000 §2.2.1 QSMTPCFG.
#[case::doc000_s2_2_1_test("000 §2.2.1", "AT+QSMTPCFG=?", "AT +QSMTPCFG Test")]
#[case::doc000_s2_2_1_account_query(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="account""#,
    r#"AT +QSMTPCFG Set([Str("account")])"#
)]
#[case::doc000_s2_2_1_sender_query(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="sender""#,
    r#"AT +QSMTPCFG Set([Str("sender")])"#
)]
#[case::doc000_s2_2_1_smtpserver_query(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="smtpserver""#,
    r#"AT +QSMTPCFG Set([Str("smtpserver")])"#
)]
#[case::doc000_s2_2_1_contextid_query(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="contextid""#,
    r#"AT +QSMTPCFG Set([Str("contextid")])"#
)]
#[case::doc000_s2_2_1_sslctxid_query(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="sslctxid""#,
    r#"AT +QSMTPCFG Set([Str("sslctxid")])"#
)]
#[case::doc000_s2_2_1_ssltype_query(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="ssltype""#,
    r#"AT +QSMTPCFG Set([Str("ssltype")])"#
)]
#[case::doc000_s2_2_1_bodyoriginal_query(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="bodyoriginal""#,
    r#"AT +QSMTPCFG Set([Str("bodyoriginal")])"#
)]
#[case::doc000_s2_2_1_bodyoriginal_syntax(
    "000 §2.2.1 (E6)",
    r#"AT+QSMTPCFG="bodyoriginal",<body_switch>]"#,
    r#"AT +QSMTPCFG Set([Str("bodyoriginal"), Word(<body_switch>])])"#
)]
#[case::doc000_s2_2_1_account_optional_syntax(
    "000 §2.2.1",
    r#"AT+QSMTPCFG="account"[,<username>,<password>]"#,
    "error"
)]
// 000 §2.2.2 QSMTPDST.
#[case::doc000_s2_2_2_test("000 §2.2.2", "AT+QSMTPDST=?", "AT +QSMTPDST Test")]
#[case::doc000_s2_2_2_read("000 §2.2.2", "AT+QSMTPDST?", "AT +QSMTPDST Read")]
#[case::doc000_s2_2_2_add_to(
    "000 §2.2.2",
    r#"AT+QSMTPDST=1,1,"quectel_test@aol.com""#,
    r#"AT +QSMTPDST Set([Int(1), Int(1), Str("quectel_test@aol.com")])"#
)]
#[case::doc000_s2_2_2_add_cc(
    "000 §2.2.2",
    r#"AT+QSMTPDST=1,2,"quectel_test@21cn.com""#,
    r#"AT +QSMTPDST Set([Int(1), Int(2), Str("quectel_test@21cn.com")])"#
)]
#[case::doc000_s2_2_2_delete_all("000 §2.2.2", "AT+QSMTPDST=0", "AT +QSMTPDST Set([Int(0)])")]
#[case::doc000_s2_2_2_set_syntax(
    "000 §2.2.2",
    "AT+QSMTPDST=<mode>[,<type>[,<emailaddr>]]",
    "AT +QSMTPDST Set([Word(<mode>[), Word(<type>[), Word(<emailaddr>]])])"
)]
// 000 §2.2.3 QSMTPSUB.
#[case::doc000_s2_2_3_test("000 §2.2.3", "AT+QSMTPSUB=?", "AT +QSMTPSUB Test")]
#[case::doc000_s2_2_3_read("000 §2.2.3", "AT+QSMTPSUB?", "AT +QSMTPSUB Read")]
#[case::doc000_s2_2_3_ascii(
    "000 §2.2.3",
    r#"AT+QSMTPSUB=0,"TEST SMTP""#,
    r#"AT +QSMTPSUB Set([Int(0), Str("TEST SMTP")])"#
)]
#[case::doc000_s2_2_3_utf8_hex(
    "000 §2.2.3",
    r#"AT+QSMTPSUB=1,"7465737420534D5450""#,
    r#"AT +QSMTPSUB Set([Int(1), Str("7465737420534D5450")])"#
)]
#[case::doc000_s2_2_3_stray_prompt_syntax(
    "000 §2.2.3 (E9)",
    "AT+QSMTPSUB=<charset>,<subject> >",
    "AT +QSMTPSUB Set([Word(<charset>), Word(<subject> >)])"
)]
// 000 §2.2.4 QSMTPBODY.
#[case::doc000_s2_2_4_test("000 §2.2.4", "AT+QSMTPBODY=?", "AT +QSMTPBODY Test")]
#[case::doc000_s2_2_4_read("000 §2.2.4", "AT+QSMTPBODY?", "AT +QSMTPBODY Read")]
#[case::doc000_s2_2_4_set(
    "000 §2.2.4",
    "AT+QSMTPBODY=0,100,120",
    "AT +QSMTPBODY Set([Int(0), Int(100), Int(120)])"
)]
#[case::doc000_s2_2_4_set_syntax(
    "000 §2.2.4",
    "AT+QSMTPBODY=<charset>,<body_length>[,<input_time>]",
    "AT +QSMTPBODY Set([Word(<charset>), Word(<body_length>[), Word(<input_time>])])"
)]
// 000 §2.2.5 QSMTPATT / QFUPL / QFLST.
#[case::doc000_s2_2_5_test("000 §2.2.5", "AT+QSMTPATT=?", "AT +QSMTPATT Test")]
#[case::doc000_s2_2_5_read("000 §2.2.5", "AT+QSMTPATT?", "AT +QSMTPATT Read")]
#[case::doc000_s2_2_5_add_mode("000 §2.2.5", "AT+QSMTPATT=1", "AT +QSMTPATT Set([Int(1)])")]
#[case::doc000_s2_2_5_delete("000 §2.2.5", "AT+QSMTPATT=0", "AT +QSMTPATT Set([Int(0)])")]
#[case::doc000_s2_2_5_qfupl(
    "000 §2.2.5",
    r#"AT+QFUPL="RAM:test.txt",200,300,1"#,
    r#"AT +QFUPL Set([Str("RAM:test.txt"), Int(200), Int(300), Int(1)])"#
)]
#[case::doc000_s2_2_5_qflst(
    "000 §2.2.5",
    r#"AT+QFLST="RAM:*""#,
    r#"AT +QFLST Set([Str("RAM:*")])"#
)]
#[case::doc000_s2_2_5_add(
    "000 §2.2.5",
    r#"AT+QSMTPATT=1,1,"RAM:test.txt""#,
    r#"AT +QSMTPATT Set([Int(1), Int(1), Str("RAM:test.txt")])"#
)]
#[case::doc000_s2_2_5_qfupl_exec("000 §2.2.5", "AT+QFUPL", "AT +QFUPL Execute")]
// 000 §2.2.6 QSMTPCLR.
#[case::doc000_s2_2_6_test("000 §2.2.6", "AT+QSMTPCLR=?", "AT +QSMTPCLR Test")]
#[case::doc000_s2_2_6_exec("000 §2.2.6", "AT+QSMTPCLR", "AT +QSMTPCLR Execute")]
// 000 §2.2.7 QSMTPPUT.
#[case::doc000_s2_2_7_test("000 §2.2.7", "AT+QSMTPPUT=?", "AT +QSMTPPUT Test")]
#[case::doc000_s2_2_7_put("000 §2.2.7", "AT+QSMTPPUT=300", "AT +QSMTPPUT Set([Int(300)])")]
#[case::doc000_s2_2_7_put_syntax(
    "000 §2.2.7",
    "AT+QSMTPPUT=<timeout>",
    "AT +QSMTPPUT Set([Word(<timeout>)])"
)]
// 000 §3.1 plain example.
#[case::doc000_s3_1_qicsgp(
    "000 §3.1",
    r#"AT+QICSGP=1,1,"UNINET","",1"#,
    r#"AT +QICSGP Set([Int(1), Int(1), Str("UNINET"), Str(""), Int(1)])"#
)]
#[case::doc000_s3_1_qiact("000 §3.1", "AT+QIACT=1", "AT +QIACT Set([Int(1)])")]
#[case::doc000_s3_1_qiact_read("000 §3.1", "AT+QIACT?", "AT +QIACT Read")]
#[case::doc000_s3_1_contextid(
    "000 §3.1",
    r#"AT+QSMTPCFG="contextid",1"#,
    r#"AT +QSMTPCFG Set([Str("contextid"), Int(1)])"#
)]
#[case::doc000_s3_1_ssltype0(
    "000 §3.1",
    r#"AT+QSMTPCFG="ssltype",0"#,
    r#"AT +QSMTPCFG Set([Str("ssltype"), Int(0)])"#
)]
#[case::doc000_s3_1_smtpserver(
    "000 §3.1",
    r#"AT+QSMTPCFG="smtpserver","smtp.163.com",25"#,
    r#"AT +QSMTPCFG Set([Str("smtpserver"), Str("smtp.163.com"), Int(25)])"#
)]
#[case::doc000_s3_1_account(
    "000 §3.1",
    r#"AT+QSMTPCFG="account","sishen664551","wq664551""#,
    r#"AT +QSMTPCFG Set([Str("account"), Str("sishen664551"), Str("wq664551")])"#
)]
#[case::doc000_s3_1_sender(
    "000 §3.1",
    r#"AT+QSMTPCFG="sender","sishen664551","sishen664551@163.com""#,
    r#"AT +QSMTPCFG Set([Str("sender"), Str("sishen664551"), Str("sishen664551@163.com")])"#
)]
#[case::doc000_s3_1_dst_to(
    "000 §3.1",
    r#"AT+QSMTPDST=1,1,"quectel_test@163.com""#,
    r#"AT +QSMTPDST Set([Int(1), Int(1), Str("quectel_test@163.com")])"#
)]
#[case::doc000_s3_1_dst_cc(
    "000 §3.1",
    r#"AT+QSMTPDST=1,2,"quectel_test@21cn.com""#,
    r#"AT +QSMTPDST Set([Int(1), Int(2), Str("quectel_test@21cn.com")])"#
)]
#[case::doc000_s3_1_dst_read("000 §3.1", "AT+QSMTPDST?", "AT +QSMTPDST Read")]
#[case::doc000_s3_1_sub(
    "000 §3.1",
    r#"AT+QSMTPSUB=0,"TEST SMTP""#,
    r#"AT +QSMTPSUB Set([Int(0), Str("TEST SMTP")])"#
)]
#[case::doc000_s3_1_sub_read("000 §3.1", "AT+QSMTPSUB?", "AT +QSMTPSUB Read")]
#[case::doc000_s3_1_body(
    "000 §3.1",
    "AT+QSMTPBODY=0,100,120",
    "AT +QSMTPBODY Set([Int(0), Int(100), Int(120)])"
)]
#[case::doc000_s3_1_qfupl(
    "000 §3.1",
    r#"AT+QFUPL="RAM:smtp1.txt",100,200,1"#,
    r#"AT +QFUPL Set([Str("RAM:smtp1.txt"), Int(100), Int(200), Int(1)])"#
)]
#[case::doc000_s3_1_qflst_unbalanced("000 §3.1 (E1)", r#"AT+QFLST="RAM: "*""#, "error")]
#[case::doc000_s3_1_att(
    "000 §3.1",
    r#"AT+QSMTPATT=1,1,"RAM:smtp1.txt""#,
    r#"AT +QSMTPATT Set([Int(1), Int(1), Str("RAM:smtp1.txt")])"#
)]
#[case::doc000_s3_1_att_read("000 §3.1", "AT+QSMTPATT?", "AT +QSMTPATT Read")]
#[case::doc000_s3_1_put("000 §3.1", "AT+QSMTPPUT=300", "AT +QSMTPPUT Set([Int(300)])")]
#[case::doc000_s3_1_clr("000 §3.1", "AT+QSMTPCLR", "AT +QSMTPCLR Execute")]
#[case::doc000_s3_1_qfdel(
    "000 §3.1 (E2)",
    r#"AT+QFDEL="RAM:smtp.txt""#,
    r#"AT +QFDEL Set([Str("RAM:smtp.txt")])"#
)]
#[case::doc000_s3_1_qideact("000 §3.1", "AT+QIDEACT=1", "AT +QIDEACT Set([Int(1)])")]
// 000 §3.2 SSL example.
#[case::doc000_s3_2_ssltype1(
    "000 §3.2",
    r#"AT+QSMTPCFG="ssltype",1"#,
    r#"AT +QSMTPCFG Set([Str("ssltype"), Int(1)])"#
)]
#[case::doc000_s3_2_sslctxid(
    "000 §3.2",
    r#"AT+QSMTPCFG="sslctxid",1"#,
    r#"AT +QSMTPCFG Set([Str("sslctxid"), Int(1)])"#
)]
#[case::doc000_s3_2_ciphersuite(
    "000 §3.2",
    r#"AT+QSSLCFG="ciphersuite",1,0xffff"#,
    r#"AT +QSSLCFG Set([Str("ciphersuite"), Int(1), HexInt(0xffff)])"#
)]
#[case::doc000_s3_2_secllevel(
    "000 §3.2 (E3)",
    r#"AT+QSSLCFG="secllevel",1,0"#,
    r#"AT +QSSLCFG Set([Str("secllevel"), Int(1), Int(0)])"#
)]
#[case::doc000_s3_2_sslversion(
    "000 §3.2",
    r#"AT+QSSLCFG="sslversion",1,1"#,
    r#"AT +QSSLCFG Set([Str("sslversion"), Int(1), Int(1)])"#
)]
#[case::doc000_s3_2_smtpserver(
    "000 §3.2 (E4)",
    r#"AT+QSMTPCFG="smtpserver","smtp.163.com",25"#,
    r#"AT +QSMTPCFG Set([Str("smtpserver"), Str("smtp.163.com"), Int(25)])"#
)]
#[case::doc000_s3_2_account(
    "000 §3.2",
    r#"AT+QSMTPCFG="account","sishen664551","wq664551""#,
    r#"AT +QSMTPCFG Set([Str("account"), Str("sishen664551"), Str("wq664551")])"#
)]
#[case::doc000_s3_2_sender(
    "000 §3.2",
    r#"AT+QSMTPCFG="sender","sishen664551","sishen664551@163.com""#,
    r#"AT +QSMTPCFG Set([Str("sender"), Str("sishen664551"), Str("sishen664551@163.com")])"#
)]
// 000 §3.3 STARTTLS example (the lines not already in §3.2).
#[case::doc000_s3_3_ssltype2(
    "000 §3.3",
    r#"AT+QSMTPCFG="ssltype",2"#,
    r#"AT +QSMTPCFG Set([Str("ssltype"), Int(2)])"#
)]
#[case::doc000_s3_3_sslctxid(
    "000 §3.3",
    r#"AT+QSMTPCFG="sslctxid",1"#,
    r#"AT +QSMTPCFG Set([Str("sslctxid"), Int(1)])"#
)]
#[case::doc000_s3_3_ciphersuite(
    "000 §3.3",
    r#"AT+QSSLCFG="ciphersuite",1,0xffff"#,
    r#"AT +QSSLCFG Set([Str("ciphersuite"), Int(1), HexInt(0xffff)])"#
)]
#[case::doc000_s3_3_secllevel(
    "000 §3.3 (E3)",
    r#"AT+QSSLCFG="secllevel",1,0"#,
    r#"AT +QSSLCFG Set([Str("secllevel"), Int(1), Int(0)])"#
)]
#[case::doc000_s3_3_sslversion(
    "000 §3.3",
    r#"AT+QSSLCFG="sslversion",1,1"#,
    r#"AT +QSSLCFG Set([Str("sslversion"), Int(1), Int(1)])"#
)]
// 000 §4 error handling.
#[case::doc000_s4_1_cpin("000 §4.1", "AT+CPIN?", "AT +CPIN Read")]
#[case::doc000_s4_2_cgatt_read("000 §4.2", "AT+CGATT?", "AT +CGATT Read")]
#[case::doc000_s4_2_cgatt_set("000 §4.2", "AT+CGATT=1", "AT +CGATT Set([Int(1)])")]
#[case::doc000_s4_2_cgreg("000 §4.2", "AT+CGREG?", "AT +CGREG Read")]
#[case::doc000_s4_2_cgact("000 §4.2", "AT+CGACT", "AT +CGACT Execute")]
#[case::doc000_s4_3_qiact_read("000 §4.3", "AT+QIACT?", "AT +QIACT Read")]
#[case::doc000_s4_4_qideact("000 §4.4", "AT+QIDEACT", "AT +QIDEACT Execute")]
// 001 (AG35; punctuation lost in extraction, restored from the page text).
#[case::doc001_p9_test("001 p.9", "AT+QSMTPCFG=?", "AT +QSMTPCFG Test")]
#[case::doc001_p10_contextid_query(
    "001 p.10",
    r#"AT+QSMTPCFG="contextid""#,
    r#"AT +QSMTPCFG Set([Str("contextid")])"#
)]
#[case::doc001_p12_delete_all("001 p.12", "AT+QSMTPDST=0", "AT +QSMTPDST Set([Int(0)])")]
#[case::doc001_p12_read("001 p.12", "AT+QSMTPDST?", "AT +QSMTPDST Read")]
#[case::doc001_p13_sub_test("001 p.13", "AT+QSMTPSUB=?", "AT +QSMTPSUB Test")]
#[case::doc001_p15_body(
    "001 p.15",
    "AT+QSMTPBODY=0,100,120",
    "AT +QSMTPBODY Set([Int(0), Int(100), Int(120)])"
)]
#[case::doc001_p17_qflst("001 p.17", r#"AT+QFLST="RAM:*""#, r#"AT +QFLST Set([Str("RAM:*")])"#)]
#[case::doc001_p17_att(
    "001 p.17",
    r#"AT+QSMTPATT=1,1,"RAM:test.txt""#,
    r#"AT +QSMTPATT Set([Int(1), Int(1), Str("RAM:test.txt")])"#
)]
#[case::doc001_p20_contextid(
    "001 p.20",
    r#"AT+QSMTPCFG="contextid",1"#,
    r#"AT +QSMTPCFG Set([Str("contextid"), Int(1)])"#
)]
#[case::doc001_p20_ssltype(
    "001 p.20",
    r#"AT+QSMTPCFG="ssltype",0"#,
    r#"AT +QSMTPCFG Set([Str("ssltype"), Int(0)])"#
)]
#[case::doc001_p22_qideact("001 p.22", "AT+QIDEACT=1", "AT +QIDEACT Set([Int(1)])")]
// 002 Multi-Tech.
#[case::doc002_putmail("002 #PUTMAIL", "AT#PUTMAIL", "AT #PUTMAIL Execute")]
// Case and concatenation (000 §2.1.2 "前缀 AT 或 at").
#[case::lower_prefix("000 §2.1.2", "at+qsmtpclr", "at +qsmtpclr Execute")]
#[case::bare_at("000 §2.1.2", "AT", "AT")]
#[case::echo_off("V.250 basic", "ATE0", "AT basic ESome(0)")]
#[case::echo_on("V.250 basic", "ATE1", "AT basic ESome(1)")]
#[case::ati("V.250 basic", "ATI", "AT basic INone")]
#[case::v0("V.250 basic", "ATV0", "AT basic VSome(0)")]
#[case::v1("V.250 basic", "ATV1", "AT basic VSome(1)")]
#[case::run_on_basic(
    "V.250 basic",
    "ATE0V1&D1",
    "AT basic ESome(0) basic VSome(1) basic &DSome(1)"
)]
#[case::concatenated(
    "V.250 §5.3",
    "AT+QSMTPCLR;+QSMTPDST?",
    "AT +QSMTPCLR Execute +QSMTPDST Read"
)]
#[case::basic_then_extended("V.250 §5.3", "ATE0+CMEE=2", "AT basic ESome(0) +CMEE Set([Int(2)])")]
#[case::sreg_read("V.250 S-parameters", "ATS0?", "AT sreg S0 Read")]
#[case::sreg_set("V.250 S-parameters", "ATS7=60", "AT sreg S7 Set(60)")]
#[case::dial("V.250 dial", "ATD*99#", "AT dial *99#")]
#[case::omitted(
    "000 §2.1.1 [...]",
    "AT+QSMTPDST=1,,",
    "AT +QSMTPDST Set([Int(1), Omitted, Omitted])"
)]
#[case::utf8_subject(
    "000 §2.2.3",
    "AT+QSMTPSUB=0,\"测试\"",
    "AT +QSMTPSUB Set([Int(0), Str(\"\\xe6\\xb5\\x8b\\xe8\\xaf\\x95\")])"
)]
fn manual_command_lines(#[case] doc: &str, #[case] line: &str, #[case] expected: &str) {
    match parse_command_line(line.as_bytes()) {
        Ok(parsed) => {
            assert_eq!(describe(&parsed), expected, "{doc}: {line}");
            assert_eq!(
                parsed.to_bytes(),
                line.as_bytes(),
                "{doc}: re-encode {line}"
            );
        }
        Err(e) => assert_eq!(expected, "error", "{doc}: {line}: {e}"),
    }
}

#[rstest]
#[case::unbalanced_quote_e1(r#"AT+QFLST="RAM: "*""#, 16, ErrorKind::ExpectedSeparator)]
#[case::unterminated(r#"AT+QSMTPSUB=0,"TEST"#, 14, ErrorKind::UnterminatedString)]
#[case::no_prefix("+QSMTPCLR", 0, ErrorKind::MissingPrefix)]
#[case::empty("", 0, ErrorKind::MissingPrefix)]
#[case::lone_a("A", 0, ErrorKind::MissingPrefix)]
#[case::empty_name("AT+=1", 3, ErrorKind::EmptyName)]
#[case::space_after_name("AT+QSMTPCFG \"x\"", 11, ErrorKind::UnexpectedByte)]
#[case::junk_after_read("AT+QSMTPDST?x", 12, ErrorKind::ExpectedSeparator)]
#[case::optional_bracket("AT+QSMTPCFG=\"account\"[,<u>]", 21, ErrorKind::ExpectedSeparator)]
#[case::unclosed_list("AT+X=(1-2", 5, ErrorKind::UnterminatedList)]
#[case::big_basic("ATE99999999999", 3, ErrorKind::NumberTooLarge)]
#[case::sreg_no_value("ATS7=", 5, ErrorKind::BadSRegister)]
#[case::control_byte("AT\x01", 2, ErrorKind::UnexpectedByte)]
fn parse_errors(#[case] line: &str, #[case] offset: usize, #[case] kind: ErrorKind) {
    let err = parse_command_line(line.as_bytes()).unwrap_err();
    assert_eq!((err.offset, err.kind), (offset, kind), "{line}: {err}");
}

/// ERRATA W3: a `"` always closes a string; there is no escape, backslash is an ordinary byte.
#[test]
fn quote_has_no_escape() {
    let line = parse_command_line(br#"AT+QSMTPSUB=0,"a\""#).unwrap();
    assert_eq!(
        line.single().unwrap().param(1).unwrap().as_str_bytes(),
        Some(&br"a\"[..])
    );
    let err = parse_command_line(br#"AT+QSMTPSUB=0,"a\"b""#).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ExpectedSeparator);
    assert!(Param::str(&b"a\"b"[..]).is_err());
}

#[test]
fn accessors() {
    let line = parse_command_line(br#"AT+QSSLCFG="ciphersuite",1,0xffff"#).unwrap();
    let cmd = line.single().unwrap();
    assert!(cmd.name_eq("qsslcfg"));
    assert!(!cmd.name_eq("QSSL"));
    assert_eq!(cmd.param(2).and_then(Param::as_int), Some(0xffff));
    assert_eq!(
        cmd.param(0).and_then(Param::as_str_bytes),
        Some(&b"ciphersuite"[..])
    );
    assert!(cmd.param(3).is_none());
    let e0 = parse_command_line(b"ATE0&D1").unwrap();
    assert!(e0.commands[0].name_eq("e"));
    assert!(e0.commands[1].name_eq("&d"));
    assert!(!e0.commands[1].name_eq("d"));
    assert_eq!(e0.commands[0].form(), None);
    let omitted = parse_command_line(b"AT+QSMTPDST=1,,").unwrap();
    assert!(omitted.commands[0].param(1).unwrap().is_omitted());
    assert_eq!(at_wire::strip_line_end(b"AT\r\n"), b"AT");
    assert_eq!(at_wire::strip_line_end(b"AT\r"), b"AT");
    assert_eq!(at_wire::strip_line_end(b"AT"), b"AT");
    assert_eq!(
        cmd.form(),
        Some(&Form::Set(vec![
            Param::str("ciphersuite").unwrap(),
            Param::Int(1),
            Param::HexInt(at_wire::HexInt::new("ffff").unwrap()),
        ]))
    );
}

#[rstest]
// 000 §2.2.3 calls this "TEST SMTP", but 0x74 is `t`: ERRATA W4.
#[case::subject_w4("7465737420534D5450", Ok(&b"test SMTP"[..]))]
#[case::lower("7465", Ok(&b"te"[..]))]
#[case::empty("", Ok(&b""[..]))]
#[case::odd_e8("746", Err(3))]
#[case::bad_digit("7G", Err(1))]
fn hex_strings(#[case] hex: &str, #[case] expected: Result<&[u8], usize>) {
    let got = at_wire::decode_hex_str(hex.as_bytes()).map_err(|e| e.offset);
    assert_eq!(got.as_deref().map_err(|e| *e), expected);
    if let Ok(bytes) = expected {
        assert_eq!(
            at_wire::encode_hex_str(bytes),
            hex.to_ascii_uppercase().as_bytes()
        );
    }
}

proptest! {
    /// parse(encode(x)) == x for every model value.
    #[test]
    fn encode_then_parse(line in command_line()) {
        let bytes = line.to_bytes();
        let parsed = parse_command_line(&bytes);
        prop_assert_eq!(parsed.as_ref(), Ok(&line), "{}", bytes.escape_ascii());
    }

    /// encode(parse(bytes)) == bytes for canonical bytes (the encoding of any model value,
    /// perturbed by the parser's own classification).
    #[test]
    fn parse_then_encode(line in command_line()) {
        let bytes = line.to_bytes();
        let reparsed = parse_command_line(&bytes).unwrap();
        prop_assert_eq!(reparsed.to_bytes(), bytes);
    }

    /// Arbitrary bytes never panic; whatever parses re-encodes to the same bytes unless it
    /// uses a non-canonical spelling the encoder normalises (`;` after a basic command, a
    /// trailing `;`, leading zeros in a basic number).
    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut line = b"AT".to_vec();
        line.extend_from_slice(&bytes);
        if let Ok(parsed) = parse_command_line(&line) {
            let again = parse_command_line(&parsed.to_bytes());
            prop_assert_eq!(again.as_ref(), Ok(&parsed));
        }
    }

    /// Lines made of printable AT-ish bytes re-encode byte-exactly when they contain no
    /// normalised spelling.
    #[test]
    fn canonical_bytes_round_trip(bytes in "[+#A-Z0-9=?,\"()x-]{0,40}") {
        let mut line = b"AT".to_vec();
        line.extend_from_slice(bytes.as_bytes());
        if let Ok(parsed) = parse_command_line(&line) {
            let normalised = parsed.commands.iter().any(|c| !matches!(c, Command::Extended { .. }))
                || line.ends_with(b";");
            if !normalised {
                prop_assert_eq!(parsed.to_bytes(), line);
            }
        }
    }
}
