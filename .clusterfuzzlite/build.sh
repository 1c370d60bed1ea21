#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script: builds every cargo-fuzz target in fuzz/ and
# copies the binaries, with their seed corpora, to $OUT.
#
# Runs inside gcr.io/oss-fuzz-base/base-builder-rust, whose default toolchain is nightly
# and whose environment supplies $SRC, $OUT and the sanitizer flags. To try it outside
# Docker: SRC=<dir holding a manifest-level checkout> OUT=/tmp/cflite-out
# RUSTUP_TOOLCHAIN=nightly bash .clusterfuzzlite/build.sh

cd "$SRC/manifest-level"

# -O: release build; --debug-assertions: keep the library's internal assertions on.
cargo fuzz build -O --debug-assertions

build_dir=fuzz/target/x86_64-unknown-linux-gnu/release
for target in $(cargo fuzz list); do
  cp "$build_dir/$target" "$OUT/"
  # Seed corpus: inputs made from seed runs (fuzz/examples/seed_corpus.rs).
  if [ -d "fuzz/seeds/$target" ]; then
    rm -f "$OUT/${target}_seed_corpus.zip"
    zip -q -j "$OUT/${target}_seed_corpus.zip" "fuzz/seeds/$target"/*
  fi
done
