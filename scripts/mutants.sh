#!/usr/bin/env bash
# Mutation score of the manifest-level library with cargo-mutants (see MUTANTS.md).
#
#   scripts/mutants.sh [k/n] [extra cargo-mutants arguments...]
#
#   scripts/mutants.sh                  # every mutant of the library (hours on 2 cores)
#   scripts/mutants.sh 0/8              # shard 0 of 8 (round-robin, deterministic)
#   scripts/mutants.sh 0/8 --file crates/manifest-level/src/segmented_array.rs \
#                          --file crates/manifest-level/src/manifest_level.rs
#   scripts/mutants.sh --list           # just list the mutants
#
# Too slow for .ci/run: each mutant rebuilds the library, the fuzzer crate and ten test
# binaries (~30-60 s on a loaded 2-core machine), and the library has ~700 mutants.
#
# The run tests a clean clone of HEAD (uncommitted edits are not included, and nothing in
# this working tree is touched: never --in-place). The test suite and the per-target
# selection are in .cargo/mutants.toml. Results go to $MUTANTS_OUT (default
# target/mutants/<shard>/mutants.out): outcomes.json, caught/missed/unviable/timeout.txt.
#
# Environment: MUTANTS_JOBS (default 2), MUTANTS_TIMEOUT (per-mutant test timeout in
# seconds, default 120), MUTANTS_OUT.
# Needs: cargo install cargo-mutants --locked   (measured with 27.1.0)
set -euo pipefail

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
shard_args=()
shard_name=all
if [[ $# -gt 0 && $1 =~ ^[0-9]+/[0-9]+$ ]]; then
    shard_args=(--shard "$1" --sharding round-robin)
    shard_name=${1/\//-of-}
    shift
fi
scope=(--package manifest-level)
for arg in "$@"; do
    if [[ $arg == --file || $arg == -f || $arg == --file=* ]]; then
        scope=()
    fi
done

out=${MUTANTS_OUT:-$repo/target/mutants/$shard_name}
mkdir -p "$out"
src=$(mktemp -d "${TMPDIR:-/tmp}/manifest-level-mutants-src.XXXXXX")
trap 'rm -rf "$src"' EXIT
git clone --quiet "$repo" "$src"
echo "testing $(git -C "$src" rev-parse --short HEAD) in $src; results in $out/mutants.out" >&2

cd "$src"
# No debug info: smaller objects, faster links; the tests need none.
export CARGO_PROFILE_DEV_DEBUG=0
cargo mutants --version >&2
exec cargo mutants \
    "${scope[@]}" \
    "${shard_args[@]}" \
    --no-shuffle \
    --jobs "${MUTANTS_JOBS:-2}" \
    --timeout "${MUTANTS_TIMEOUT:-120}" \
    --build-timeout 900 \
    --output "$out" \
    "$@"
