//! Response decoding: ours (`at_wire::Decoder`) against atat 0.25 (driven as `atat::Ingress`
//! drives it) and the memchr floor, on the same bytes, in one run.
//!
//! `cargo bench -p atconform-benches --bench decoder -- --warm-up-time 1 --measurement-time 3`
//! then `python3 benches/ratios.py` for the ratios.
//!
//! - `floor_memchr`: CRLF-terminated lines counted with memchr; `_16b_reads`: the same per
//!   16-byte read.
//! - `atat_ingress_1k`: `AtDigester` behind `Ingress::try_advance`'s loop, one read per command
//!   response or URC (atat misparses other read patterns; see `benches/lib.rs` tests).
//! - `ours_one_shot`, `ours_16b_reads`: `Decoder::decode_with` (lines decoded in place from the
//!   read) fed everything at once / 16-byte reads, each command's `Pending` (inferred
//!   beforehand) declared with `Control::expect_ref` when the previous final result arrives.
//! - `ours_pull_one_shot`: the same through `push` + `poll_event` (every line copied into the
//!   decoder's buffer first).
//! - `ours_one_shot_infer`: the same, inferring each `Pending` from its command line on the
//!   way (`Pending::infer` parses the line): the host's whole per-exchange cost.

use std::hint::black_box;

use atconform_benches::{
    AtatDriver, Mix, Stream, command_lines, crlf_lines, crlf_lines_in_reads, decode_counts,
    decode_pull_counts, decoder_config, pendings,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn decoder(c: &mut Criterion) {
    for mix in Mix::ALL {
        let stream = Stream::generate(mix);
        let want = stream.expected;
        let pending = pendings(&stream);
        let cfg = decoder_config();

        // Every contender must count right before its speed means anything.
        assert_eq!(
            crlf_lines(&stream.bytes),
            want.crlf_lines,
            "floor on {mix:?}"
        );
        let atat = AtatDriver::run_reads(&stream);
        assert_eq!(atat.results(), want.results(), "atat on {mix:?}");
        assert_eq!(atat.prompts, 0, "atat on {mix:?}");
        for read_size in [usize::MAX, 16] {
            let ours = decode_counts(&stream.bytes, &pending, read_size);
            assert_eq!(ours, want, "ours on {mix:?}, reads of {read_size}");
            let pulled = decode_pull_counts(&stream.bytes, &pending, read_size);
            assert_eq!(pulled, want, "ours (pull) on {mix:?}, reads of {read_size}");
        }

        let mut group = c.benchmark_group(format!("decoder/{}", mix.name()));
        group.throughput(Throughput::Bytes(stream.bytes.len() as u64));
        if mix == Mix::Large {
            group.sample_size(10);
        }
        group.bench_function(BenchmarkId::from_parameter("floor_memchr"), |b| {
            b.iter(|| crlf_lines(black_box(&stream.bytes)))
        });
        group.bench_function(BenchmarkId::from_parameter("floor_memchr_16b_reads"), |b| {
            b.iter(|| crlf_lines_in_reads(black_box(&stream.bytes), 16))
        });
        group.bench_function(BenchmarkId::from_parameter("atat_ingress_1k"), |b| {
            b.iter(|| AtatDriver::run_reads(black_box(&stream)))
        });
        group.bench_function(BenchmarkId::from_parameter("ours_one_shot"), |b| {
            b.iter(|| decode_counts(black_box(&stream.bytes), &pending, usize::MAX))
        });
        group.bench_function(BenchmarkId::from_parameter("ours_16b_reads"), |b| {
            b.iter(|| decode_counts(black_box(&stream.bytes), &pending, 16))
        });
        group.bench_function(BenchmarkId::from_parameter("ours_pull_one_shot"), |b| {
            b.iter(|| decode_pull_counts(black_box(&stream.bytes), &pending, usize::MAX))
        });
        group.bench_function(BenchmarkId::from_parameter("ours_one_shot_infer"), |b| {
            b.iter(|| {
                let p =
                    command_lines(&stream.commands).map(|line| at_wire::Pending::infer(line, &cfg));
                decode_counts(black_box(&stream.bytes), p, usize::MAX)
            })
        });
        group.finish();
    }
}

criterion_group!(benches, decoder);
criterion_main!(benches);
