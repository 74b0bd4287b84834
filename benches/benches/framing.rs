//! Data-mode framers on a 10 KB mail body and a 4 MB attachment, against a bare memchr scan
//! for the byte each framer must stop at.
//!
//! `cargo bench -p atconform-benches --bench framing -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use atconform_benches::{
    base64_attachment, binary_attachment, byte_scan, byte_scan_in_reads, multitech_frame,
    quectel_frame, quectel_stream, text_body,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// 000 §2.2.4: "邮件正文的最大长度为 10 Kbytes".
const BODY: usize = 10 * 1024;
const ATTACHMENT: usize = 4 * 1024 * 1024;

fn quectel(c: &mut Criterion) {
    // `AT+QSMTPBODY` takes text; `AT+QFUPL` uploads the attachment file as raw bytes.
    for (name, payload) in [
        ("body_10k", text_body(BODY, 1)),
        ("attachment_4m", binary_attachment(ATTACHMENT, 2)),
    ] {
        for read_size in [usize::MAX, 16] {
            let framed = quectel_frame(&payload, read_size).expect("framer finished");
            assert_eq!(framed.payload, payload, "{name}, reads of {read_size}");
            let mut got = Vec::new();
            let framed = quectel_stream(&payload, read_size, &mut |r| got.extend_from_slice(r))
                .expect("framer finished");
            assert_eq!(
                (framed.len(), &got),
                (payload.len(), &payload),
                "{name} streamed"
            );
        }
        // The streaming consumer only counts what it is handed (what it does with the bytes is
        // its own cost: a hash, a file write, a copy).
        let count = |payload: &[u8], reads: usize| {
            let mut n = 0usize;
            let framed = quectel_stream(payload, reads, &mut |r| n += r.len());
            (framed.map(|f| f.len()), n)
        };
        let mut group = c.benchmark_group(format!("framing/quectel_{name}"));
        group.throughput(Throughput::Bytes(payload.len() as u64));
        if payload.len() > BODY {
            group.sample_size(10);
        }
        group.bench_function(BenchmarkId::from_parameter("memchr_scan"), |b| {
            b.iter(|| byte_scan(black_box(&payload), b'+'))
        });
        group.bench_function(BenchmarkId::from_parameter("memchr_scan_16b_reads"), |b| {
            b.iter(|| byte_scan_in_reads(black_box(&payload), b'+', 16))
        });
        group.bench_function(BenchmarkId::from_parameter("framer_one_shot"), |b| {
            b.iter(|| quectel_frame(black_box(&payload), usize::MAX))
        });
        group.bench_function(BenchmarkId::from_parameter("framer_16b_reads"), |b| {
            b.iter(|| quectel_frame(black_box(&payload), 16))
        });
        group.bench_function(BenchmarkId::from_parameter("framer_streaming"), |b| {
            b.iter(|| count(black_box(&payload), usize::MAX))
        });
        group.bench_function(
            BenchmarkId::from_parameter("framer_streaming_16b_reads"),
            |b| b.iter(|| count(black_box(&payload), 16)),
        );
        group.finish();
    }
}

fn multitech(c: &mut Criterion) {
    // `#PUTMAIL` (002) carries everything in the body: text, or an attachment in base64.
    let mut text = text_body(BODY - 2, 3);
    text.extend_from_slice(b"\r\n");
    for (name, body) in [
        ("body_10k", text),
        ("attachment_4m", base64_attachment(ATTACHMENT / 4 * 3, 4)),
    ] {
        let wire = at_wire::dot_stuff(&body);
        for read_size in [usize::MAX, 16] {
            let got = multitech_frame(&wire, read_size);
            assert_eq!(got.as_ref(), Some(&body), "{name}, reads of {read_size}");
        }
        let mut group = c.benchmark_group(format!("framing/multitech_{name}"));
        group.throughput(Throughput::Bytes(wire.len() as u64));
        if wire.len() > 2 * BODY {
            group.sample_size(10);
        }
        group.bench_function(BenchmarkId::from_parameter("memchr_scan"), |b| {
            b.iter(|| byte_scan(black_box(&wire), b'\r'))
        });
        group.bench_function(BenchmarkId::from_parameter("memchr_scan_16b_reads"), |b| {
            b.iter(|| byte_scan_in_reads(black_box(&wire), b'\r', 16))
        });
        group.bench_function(BenchmarkId::from_parameter("framer_one_shot"), |b| {
            b.iter(|| multitech_frame(black_box(&wire), usize::MAX))
        });
        group.bench_function(BenchmarkId::from_parameter("framer_16b_reads"), |b| {
            b.iter(|| multitech_frame(black_box(&wire), 16))
        });
        group.finish();
    }
}

criterion_group!(benches, quectel, multitech);
criterion_main!(benches);
