//! One pass of one contender over one input, for `valgrind --tool=callgrind` (see
//! `benches/callgrind.sh`): `pass <contender> <input>`. The input is always built (stream,
//! pendings, framer payloads), so `baseline`, which does nothing else, gives the Ir to subtract:
//! instructions per byte = (Ir − Ir(baseline)) / bytes.
//!
//! - response contenders (inputs `small`, `large`, `tiny`): `floor`, `floor16`, `atat`,
//!   `ours`, `ours16`, `ours_pull`, `ours_infer`;
//! - framer contenders (inputs `body`, `attachment`): `quectel_scan`, `quectel`, `quectel16`,
//!   `quectel_stream`, `quectel_stream16` (`push_with`, the consumer only counts),
//!   `multitech_scan`, `multitech`, `multitech16`.

use std::hint::black_box;
use std::process::ExitCode;

use atconform_benches::{
    AtatDriver, Mix, Stream, base64_attachment, binary_attachment, byte_scan, command_lines,
    crlf_lines, crlf_lines_in_reads, decode_counts, decode_pull_counts, decoder_config,
    multitech_frame, pendings, quectel_frame, quectel_stream, text_body,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [contender, input] = args.as_slice() else {
        eprintln!("usage: pass <contender> <small|large|tiny|body|attachment>");
        return ExitCode::from(2);
    };
    match input.as_str() {
        "small" => response(contender, Mix::Small),
        "large" => response(contender, Mix::Large),
        "tiny" => response(contender, Mix::TinyLines),
        "body" => framer(contender, 10 * 1024),
        "attachment" => framer(contender, 4 * 1024 * 1024),
        other => {
            eprintln!("unknown input {other:?}");
            ExitCode::from(2)
        }
    }
}

fn response(contender: &str, mix: Mix) -> ExitCode {
    let stream = black_box(Stream::generate(mix));
    let pending = black_box(pendings(&stream));
    let want = stream.expected;
    let (got, expected) = match contender {
        "baseline" => (0, 0),
        "floor" => (crlf_lines(&stream.bytes), want.crlf_lines),
        "floor16" => (crlf_lines_in_reads(&stream.bytes, 16), want.crlf_lines),
        "atat" => (AtatDriver::run_reads(&stream).results(), want.results()),
        "ours" | "ours16" | "ours_pull" | "ours_infer" => {
            let counts = match contender {
                "ours" => decode_counts(&stream.bytes, &pending, usize::MAX),
                "ours16" => decode_counts(&stream.bytes, &pending, 16),
                "ours_pull" => decode_pull_counts(&stream.bytes, &pending, usize::MAX),
                _ => {
                    let cfg = decoder_config();
                    let p = command_lines(&stream.commands)
                        .map(|line| at_wire::Pending::infer(line, &cfg));
                    decode_counts(&stream.bytes, p, usize::MAX)
                }
            };
            (usize::from(counts == want), 1)
        }
        other => {
            eprintln!("unknown response contender {other:?}");
            return ExitCode::from(2);
        }
    };
    report(contender, stream.bytes.len(), got, expected)
}

fn framer(contender: &str, len: usize) -> ExitCode {
    let (payload, wire) = if len <= 10 * 1024 {
        let mut text = text_body(len - 2, 3);
        text.extend_from_slice(b"\r\n");
        (
            black_box(text_body(len, 1)),
            black_box(at_wire::dot_stuff(&text)),
        )
    } else {
        let body = base64_attachment(len / 4 * 3, 4);
        (
            black_box(binary_attachment(len, 2)),
            black_box(at_wire::dot_stuff(&body)),
        )
    };
    let (bytes, ok) = match contender {
        "baseline" => (payload.len(), true),
        "quectel_scan" => (payload.len(), black_box(byte_scan(&payload, b'+')) < len),
        "quectel" | "quectel16" => {
            let reads = if contender == "quectel" {
                usize::MAX
            } else {
                16
            };
            let framed = quectel_frame(&payload, reads);
            (payload.len(), framed.is_some_and(|f| f.payload == payload))
        }
        "quectel_stream" | "quectel_stream16" => {
            let reads = if contender == "quectel_stream" {
                usize::MAX
            } else {
                16
            };
            let mut n = 0usize;
            let framed = quectel_stream(&payload, reads, &mut |r| n += r.len());
            (
                payload.len(),
                framed.is_some_and(|f| f.len() == payload.len()) && n == payload.len(),
            )
        }
        "multitech_scan" => (wire.len(), black_box(byte_scan(&wire, b'\r')) > 0),
        "multitech" | "multitech16" => {
            let reads = if contender == "multitech" {
                usize::MAX
            } else {
                16
            };
            (wire.len(), multitech_frame(&wire, reads).is_some())
        }
        other => {
            eprintln!("unknown framer contender {other:?}");
            return ExitCode::from(2);
        }
    };
    report(contender, bytes, usize::from(ok), 1)
}

fn report(contender: &str, bytes: usize, got: usize, expected: usize) -> ExitCode {
    println!("bytes={bytes} result={got}");
    if got != expected {
        eprintln!("{contender}: got {got}, expected {expected}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
