//! Property tests: the client never panics and is indifferent to how replies are split; the
//! composed message always parses back to what was put in.

use std::time::Duration;

use at_mailer::{Attachment, Charset, Event, SmtpClient, Subject, compose};
use mail_parser::{MessageParser, MimeHeaders};
use proptest::prelude::*;

use crate::sample_job;

const T: Duration = Duration::ZERO;

/// Feeds `chunks`, collecting what the client sends and the events it raises.
fn run(chunks: &[&[u8]], close: bool) -> (Vec<u8>, Vec<Event>) {
    let mut c = SmtpClient::new(&sample_job());
    let mut sent = Vec::new();
    let mut events = Vec::new();
    for chunk in chunks {
        c.handle_input(T, chunk);
        while let Some(b) = c.poll_transmit(T) {
            sent.extend(b);
        }
        while let Some(e) = c.poll_event() {
            events.push(e);
        }
    }
    if close {
        c.handle_close(T);
        while let Some(e) = c.poll_event() {
            events.push(e);
        }
    }
    (sent, events)
}

const SESSION: &[u8] = b"220 hi\r\n250-x\r\n250 AUTH PLAIN\r\n235 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n221 bye\r\n";

fn split_at_points(bytes: &[u8], mut points: Vec<usize>) -> Vec<&[u8]> {
    points.iter_mut().for_each(|p| *p %= bytes.len() + 1);
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut last = 0;
    for p in points {
        chunks.push(&bytes[last..p]);
        last = p;
    }
    chunks.push(&bytes[last..]);
    chunks
}

proptest! {
    #[test]
    fn arbitrary_server_bytes_never_panic_and_end_once(
        data in proptest::collection::vec(any::<u8>(), 0..600),
        points in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let chunks = split_at_points(&data, points);
        let (_, events) = run(&chunks, true);
        let dones = events.iter().filter(|e| matches!(e, Event::Done(_))).count();
        prop_assert_eq!(dones, 1, "exactly one Done after close: {:?}", events);
    }

    #[test]
    fn splitting_replies_changes_nothing(points in proptest::collection::vec(any::<usize>(), 0..12)) {
        let whole = run(&[SESSION], false);
        prop_assert_eq!(&whole.1, &vec![Event::Done(Ok(()))]);
        let split = run(&split_at_points(SESSION, points), false);
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn composed_message_parses_back(
        subject in "[a-zA-Z0-9测试邮件移远✓]([a-zA-Z0-9 测试邮件移远✓.]{0,58}[a-zA-Z0-9测试邮件移远✓])?",
        body in "[ -~\r\n测试]{0,300}",
        attachment in proptest::collection::vec(any::<u8>(), 0..400),
        name in "[a-z0-9]{1,12}\\.(txt|bin)",
    ) {
        let mut job = sample_job();
        job.subject = Subject { charset: Charset::Utf8, bytes: subject.as_bytes().to_vec() };
        job.body.charset = Charset::Utf8;
        job.body.bytes = body.as_bytes().to_vec();
        job.attachments = vec![Attachment { file_name: name.clone(), bytes: attachment.clone() }];
        let raw = compose(&job);
        let msg = MessageParser::default().parse(&raw).expect("parses");
        prop_assert_eq!(msg.subject(), Some(subject.as_str()));
        if !body.is_empty() {
            prop_assert_eq!(msg.text_part(0).map(|p| p.contents()), Some(body.as_bytes()));
        }
        let att = msg.attachments().next().expect("attachment");
        prop_assert_eq!(att.attachment_name(), Some(name.as_str()));
        prop_assert_eq!(att.contents(), attachment.as_slice());
        prop_assert!(msg.bcc().is_none());
    }
}
