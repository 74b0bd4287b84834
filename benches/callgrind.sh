#!/usr/bin/env bash
# Instructions per byte of each contender under callgrind:
#   (Ir(contender) - Ir(baseline)) / bytes, where baseline only builds the same input.
# Usage: benches/callgrind.sh [input ...]
#   inputs: small large tiny (response decoders), body attachment (framers); default: large small body attachment
set -euo pipefail
cd "$(dirname "$0")/.."
mixes=("$@")
[ ${#mixes[@]} -gt 0 ] || mixes=(large small body attachment)
cargo build -q -p atconform-benches --profile bench --example pass
bin="${CARGO_TARGET_DIR:-target}/release/examples/pass"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ir() { # contender mix -> prints "Ir bytes"
  valgrind --tool=callgrind --callgrind-out-file="$out/$1.$2" "$bin" "$1" "$2" >"$out/$1.$2.stdout" 2>"$out/$1.$2.log" ||
    { cat "$out/$1.$2.log" >&2; exit 1; }
  local total bytes
  total=$(sed -n 's/^summary: //p; s/^totals: //p' "$out/$1.$2" | head -n1 | awk '{print $1}')
  bytes=$(sed -n 's/^bytes=\([0-9]*\).*/\1/p' "$out/$1.$2.stdout")
  echo "$total $bytes"
}
printf '| mix | contender | Ir | bytes | instructions/byte |\n| --- | --- | ---: | ---: | ---: |\n'
for mix in "${mixes[@]}"; do
  case "$mix" in
    body | attachment) contenders=(quectel_scan quectel quectel16 quectel_stream quectel_stream16 multitech_scan multitech multitech16) ;;
    *) contenders=(floor floor16 atat ours ours16 ours_pull ours_infer) ;;
  esac
  read -r base bytes < <(ir baseline "$mix")
  for c in "${contenders[@]}"; do
    read -r total cbytes < <(ir "$c" "$mix")
    awk -v m="$mix" -v c="$c" -v t="$total" -v b="$base" -v n="$cbytes" \
      'BEGIN { printf "| %s | %s | %d | %d | %.1f |\n", m, c, t - b, n, (t - b) / n }'
  done
done
