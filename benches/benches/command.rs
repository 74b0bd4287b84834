//! Command lines (host → module): the module-side assembler + parser, the parser alone and
//! the encoder, against a bare memchr count of CR-terminated lines.
//!
//! `cargo bench -p atconform-benches --bench command -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use atconform_benches::{Mix, Stream, assemble_and_parse, command_lines, cr_lines};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn command(c: &mut Criterion) {
    for mix in [Mix::Small, Mix::Large] {
        let stream = Stream::generate(mix);
        let commands = &stream.commands;
        let lines: Vec<&[u8]> = command_lines(commands).collect();
        let parsed: Vec<at_wire::CommandLine> = lines
            .iter()
            .filter_map(|line| at_wire::parse_command_line(line).ok())
            .collect();
        let encoded_len: usize = parsed.iter().map(|l| l.to_bytes().len()).sum();

        // Right answers first: every line found, only ERRATA E1's rejected.
        let counts = assemble_and_parse(commands, usize::MAX);
        assert_eq!(counts.lines, stream.command_count);
        assert_eq!(counts.rejected, stream.expected.error);
        assert_eq!(assemble_and_parse(commands, 16), counts);
        assert_eq!(cr_lines(commands), stream.command_count);

        let mut group = c.benchmark_group(format!("command/{}", mix.name()));
        group.throughput(Throughput::Bytes(commands.len() as u64));
        if mix == Mix::Large {
            group.sample_size(10);
        }
        group.bench_function(BenchmarkId::from_parameter("floor_memchr"), |b| {
            b.iter(|| cr_lines(black_box(commands)))
        });
        group.bench_function(
            BenchmarkId::from_parameter("assemble_parse_one_shot"),
            |b| b.iter(|| assemble_and_parse(black_box(commands), usize::MAX)),
        );
        group.bench_function(
            BenchmarkId::from_parameter("assemble_parse_16b_reads"),
            |b| b.iter(|| assemble_and_parse(black_box(commands), 16)),
        );
        group.bench_function(BenchmarkId::from_parameter("parse_lines"), |b| {
            b.iter(|| {
                let mut ok = 0usize;
                for line in &lines {
                    ok += usize::from(at_wire::parse_command_line(black_box(line)).is_ok());
                }
                ok
            })
        });
        group.throughput(Throughput::Bytes(encoded_len as u64));
        let mut out = Vec::with_capacity(encoded_len);
        group.bench_function(BenchmarkId::from_parameter("encode_lines"), |b| {
            b.iter(|| {
                out.clear();
                for line in &parsed {
                    black_box(line).encode(&mut out);
                }
                out.len()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, command);
criterion_main!(benches);
