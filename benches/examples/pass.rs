//! One pass of one contender over one mix, for `valgrind --tool=callgrind` (see
//! `benches/callgrind.sh`): `pass <contender> <mix>`; `baseline` only builds the input, so
//! instructions per byte = (Ir − Ir(baseline)) / bytes.

use std::hint::black_box;
use std::process::ExitCode;

use atconform_benches::{AtatDriver, Mix, Stream, crlf_lines};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [contender, mix] = args.as_slice() else {
        eprintln!("usage: pass <baseline|floor|atat> <small|large|tiny>");
        return ExitCode::from(2);
    };
    let mix = match mix.as_str() {
        "small" => Mix::Small,
        "large" => Mix::Large,
        "tiny" => Mix::TinyLines,
        other => {
            eprintln!("unknown mix {other:?}");
            return ExitCode::from(2);
        }
    };
    let stream = black_box(Stream::generate(mix));
    let (results, want) = match contender.as_str() {
        "baseline" => (0, 0),
        "floor" => (crlf_lines(&stream.bytes), stream.expected.crlf_lines),
        "atat" => (
            AtatDriver::run_reads(&stream).results(),
            stream.expected.results(),
        ),
        other => {
            eprintln!("unknown contender {other:?}");
            return ExitCode::from(2);
        }
    };
    black_box(results);
    println!(
        "bytes={} results={results} lines={} mean_line={:.1} mean_text_line={:.1}",
        stream.bytes.len(),
        stream.expected.crlf_lines,
        stream.mean_line_len(),
        stream.mean_text_line_len()
    );
    if results != want {
        eprintln!("{contender} counted {results}, expected {want}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
