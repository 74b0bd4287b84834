//! Response decoding: ours against atat 0.25 (driven as `atat::Ingress` drives it) and the
//! memchr floor, on the same bytes, in one run.
//!
//! `cargo bench -p atconform-benches --bench decoder -- --warm-up-time 1 --measurement-time 3`
//! then `python3 benches/ratios.py` for the ratios.

use std::hint::black_box;

use atconform_benches::{AtatDriver, Mix, Stream, crlf_lines, crlf_lines_in_reads};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn decoder(c: &mut Criterion) {
    for mix in Mix::ALL {
        let stream = Stream::generate(mix);
        let want = stream.expected;

        // Every contender must count right before its speed means anything.
        assert_eq!(
            crlf_lines(&stream.bytes),
            want.crlf_lines,
            "floor on {mix:?}"
        );
        assert_eq!(
            AtatDriver::run_reads(&stream).results(),
            want.results(),
            "atat on {mix:?}"
        );

        let mut group = c.benchmark_group(format!("decoder/{}", mix.name()));
        group.throughput(Throughput::Bytes(stream.bytes.len() as u64));
        if mix == Mix::Large {
            group.sample_size(10);
        }
        group.bench_with_input(
            BenchmarkId::from_parameter("floor_memchr"),
            &stream,
            |b, s| b.iter(|| crlf_lines(black_box(&s.bytes))),
        );
        group.bench_with_input(
            BenchmarkId::from_parameter("floor_memchr_16b_reads"),
            &stream,
            |b, s| b.iter(|| crlf_lines_in_reads(black_box(&s.bytes), 16)),
        );
        group.bench_with_input(
            BenchmarkId::from_parameter("atat_ingress_1k"),
            &stream,
            |b, s| b.iter(|| AtatDriver::run_reads(black_box(s))),
        );
        group.finish();
    }
}

criterion_group!(benches, decoder);
criterion_main!(benches);
