//! Integration tests of at-mailer: composer, sans-IO client and tokio driver.

mod client;
mod compose;
mod driver;
mod parse;
mod props;

use at_mailer::{Attachment, Body, Charset, Credentials, MailJob, RecipientKind, Subject};

/// The job of 000 §3.1 (plain, `smtp.163.com:25`, To + Cc, ASCII subject, one attachment),
/// plus a Bcc recipient.
pub fn sample_job() -> MailJob {
    MailJob {
        server: "smtp.163.com".into(),
        port: 25,
        auth: Some(Credentials {
            user: "sishen664551".into(),
            password: "wq664551".into(),
        }),
        sender_name: "sishen664551".into(),
        sender_email: "sishen664551@163.com".into(),
        recipients: vec![
            (RecipientKind::To, "quectel_test@163.com".into()),
            (RecipientKind::Cc, "quectel_test@21cn.com".into()),
            (RecipientKind::Bcc, "hidden@example.test".into()),
        ],
        subject: Subject {
            charset: Charset::Ascii,
            bytes: b"TEST SMTP".to_vec(),
        },
        body: Body {
            charset: Charset::Ascii,
            bytes: b"Hello from the emulator.\r\n.leading dot\r\n".to_vec(),
            original: false,
        },
        attachments: vec![Attachment {
            file_name: "smtp1.txt".into(),
            bytes: (0u8..=255).collect(),
        }],
        helo_domain: "ec25.local".into(),
        date: "Mon, 23 Nov 2026 13:00:00 +0000".into(),
        message_id: "1@ec25.local".into(),
        ..MailJob::default()
    }
}
