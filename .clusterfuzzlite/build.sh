#!/bin/bash -eu
# Builds every target of fuzz/ with the sanitizer flags the ClusterFuzzLite builder sets, and
# ships each with its committed seed corpus (corpus/<target>/) and the AT dictionary.
cd "$SRC/atconform/fuzz"
cargo fuzz build -O --debug-assertions
release=target/x86_64-unknown-linux-gnu/release
for target in $(cargo fuzz list); do
  cp "$release/$target" "$OUT/"
  cp ../corpus/at.dict "$OUT/$target.dict"
  if [ -d "../corpus/$target" ]; then
    (cd "../corpus/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
  fi
done
