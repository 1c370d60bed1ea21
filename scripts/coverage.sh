#!/usr/bin/env bash
# Line and region coverage of the manifest-level library (crates/manifest-level/src) under
# each of the project's workloads, each measured on its own, with cargo-llvm-cov (see
# "Library coverage" in docs/fuzzing.md).
#
#   bash scripts/coverage.sh                       # prints one markdown table row per workload
#   CAMPAIGN_SECONDS=600 bash scripts/coverage.sh  # a longer campaign
#
# Workloads:
#   seed mode       manifest-level-fuzz --seed S --events-max 200000, S = 1..=5 (release)
#   campaign        manifest-level-fuzz campaign --duration ${CAMPAIGN_SECONDS}s --start 1
#                   --jobs 2 --no-progress, in a temporary directory (release)
#   segmented array manifest-level-fuzz segmented-array --seed 0 --seeds 20, seeds 0..=19 at
#                   the default 10000 ops each (release)
#   test suite      cargo test --workspace (dev profile, as the tests always run; doc tests
#                   are not measured, cargo-llvm-cov needs nightly for them)
#   campaign + tests  the campaign above, run with the binary `cargo test` builds, and then
#                   the test suite, measured together: what neither reaches is what no
#                   workload here reaches (its uncovered lines go to campaign-tests.missing.txt)
#
# Every workload starts from `cargo llvm-cov clean --workspace` and an instrumented build of
# its own. The fuzzer binary is built without features (the library as users build it, so
# the fault-injection code is not compiled in); `cargo test --workspace` turns on the
# library's `verify` and `fault-injection` features and compiles the `#[cfg(test)]` unit
# tests inside its source files, so its denominator is larger: the table shows the counts.
# llvm-cov counts the library's unit-test modules (`#[cfg(test)] mod tests`) as library
# lines; this script leaves them out (everything from a file's `#[cfg(test)]`-`mod tests`
# line to its end), so every row counts the library's own code only. Lines are counted
# once each (the lcov export's line records; llvm-cov's TOTAL sums lines over functions,
# so a closure's lines count twice there); regions are the code regions, the
# instantiations of a generic function merged. Without the cut these agree with
# llvm-cov's TOTAL within a fraction of a percent, which each workload's log shows.
#
# Environment: CAMPAIGN_SECONDS (default 60), COVERAGE_WORKLOADS (a comma-separated subset
# of seeds, campaign, segmented-array, tests, campaign-tests; default all), COVERAGE_OUT (where the per-workload JSON
# exports, uncovered-line lists and logs go; default target/coverage), COVERAGE_TARGET_DIR
# (the instrumented builds' target directory; default target/llvm-cov-target, apart from
# target/debug and target/release so that ordinary builds are neither disturbed nor reused).
# Measured on this repository's working tree as it is (uncommitted edits included).
# Needs: rustup component add llvm-tools; cargo install cargo-llvm-cov --locked
# (measured with cargo-llvm-cov 0.9.1). Installs nothing itself.
set -euo pipefail

if ! cargo llvm-cov --version >/dev/null 2>&1 \
    || { command -v rustup >/dev/null 2>&1 \
         && ! rustup component list --installed 2>/dev/null | grep -q '^llvm-tools'; }; then
    echo "coverage.sh needs cargo-llvm-cov and the llvm-tools component; install them with:" >&2
    echo "    rustup component add llvm-tools" >&2
    echo "    cargo install cargo-llvm-cov --locked" >&2
    exit 2
fi
command -v jq >/dev/null 2>&1 || { echo "coverage.sh needs jq (apt-get install jq)" >&2; exit 2; }
# Never let cargo-llvm-cov offer to install llvm-tools by itself.
export CARGO_LLVM_COV_SETUP=no

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
cd "$repo"
campaign_seconds=${CAMPAIGN_SECONDS:-60}
[[ $campaign_seconds =~ ^[0-9]+$ ]] || { echo "CAMPAIGN_SECONDS must be a whole number of seconds" >&2; exit 2; }
out=${COVERAGE_OUT:-$repo/target/coverage}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export CARGO_TARGET_DIR=${COVERAGE_TARGET_DIR:-$repo/target/llvm-cov-target}
# The instrumenting RUSTC_WRAPPER, LLVM_PROFILE_FILE (profraw files in the target dir) and
# the variables `cargo llvm-cov report` reads back.
show_env=$(cargo llvm-cov show-env --sh)
source <(printf '%s\n' "$show_env")

lib_src=$repo/crates/manifest-level/src/
ignore='crates/manifest-level-fuzz/|crates/manifest-level/(tests|benches)/|/\.cargo/(registry|git)/|/rustc/|/\.rustup/'
fuzz_release=$CARGO_TARGET_DIR/release/manifest-level-fuzz
fuzz_debug=$CARGO_TARGET_DIR/debug/manifest-level-fuzz
tmp=$(mktemp -d "${TMPDIR:-/tmp}/manifest-level-coverage.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=()

log() { echo "coverage.sh: $*" >&2; }

# The first line of each library file's unit-test module (`#[cfg(test)]` followed by
# `mod tests`, which runs to the end of the file), as "file<TAB>line" lines.
test_module_starts() {
    local f
    for f in "$lib_src"*.rs; do
        awk -v f="$f" 'prev ~ /^#\[cfg\(test\)\]/ && /^mod tests/ { print f "\t" NR - 1; exit }
                       { prev = $0 }' "$f"
    done
}

# Runs `cargo llvm-cov report` on the current profraw files and prints the row's two
# cells; $1 names the workload's files in $out, $2 is the profile flag (--release or "").
report() {
    local name=$1 profile=$2 cuts cuts_json lines_hit lines_all regions_hit regions_all llvm
    local -a flags=(--ignore-filename-regex "$ignore")
    [[ -n $profile ]] && flags+=("$profile")
    cargo llvm-cov report "${flags[@]}" --json --output-path "$out/$name.json" >>"$out/$name.log" 2>&1
    cargo llvm-cov report "${flags[@]}" --lcov --output-path "$out/$name.lcov" >>"$out/$name.log" 2>&1
    cargo llvm-cov report "${flags[@]}" --show-missing-lines >"$out/$name.missing.txt" 2>>"$out/$name.log"
    cuts=$tmp/cuts.tsv
    test_module_starts >"$cuts"
    cuts_json=$(jq -Rn '[inputs | split("\t") | {(.[0]): (.[1] | tonumber)}] | add // {}' "$cuts")
    # Lines: every library source line once (the lcov export's DA records: llvm-cov's
    # line coverage of the file), covered when its count is non-zero.
    read -r lines_hit lines_all < <(awk -v src="$lib_src" -F'\t' '
        FILENAME == ARGV[1] { cut[$1] = $2; next }
        /^SF:/ { file = substr($0, 4); lib = index(file, src) == 1
                 limit = (file in cut) ? cut[file] : 1e18 }
        lib && /^DA:/ { split(substr($0, 4), a, ",")
                        if (a[1] < limit) { all++; if (a[2] > 0) hit++ } }
        END { printf "%d %d\n", hit, all }' "$cuts" "$out/$name.lcov")
    # Regions: the code regions (kind 0) of the functions, those in library files; the
    # instantiations of a generic function share their regions (same file and span), and
    # a region is covered when any instantiation executed it.
    read -r regions_hit regions_all < <(jq -r --arg src "$lib_src" --argjson cut "$cuts_json" '
        [ .data[0].functions[] | .filenames as $names | .regions[]
          # [lineStart, colStart, lineEnd, colEnd, count, fileId, expandedFileId, kind]
          | select(.[7] == 0) | {file: $names[.[5]], span: .[0:4], line: .[0], count: .[4]}
          | select((.file | startswith($src)) and .line < ($cut[.file] // 1e18)) ]
        | group_by([.file, .span]) | map(any(.count > 0))
        | "\(map(select(.)) | length) \(length)"' "$out/$name.json")
    # llvm-cov's own TOTAL over the library files (unit-test modules included, lines
    # summed over functions), for comparison in the log.
    llvm=$(jq -r --arg src "$lib_src" '
        [ .data[0].files[] | select(.filename | startswith($src)) | .summary ]
        | "llvm-cov TOTAL: lines \(map(.lines.covered) | add)/\(map(.lines.count) | add),"
          + " regions \(map(.regions.covered) | add)/\(map(.regions.count) | add)"' "$out/$name.json")
    echo "$llvm" >>"$out/$name.log"
    log "$name: $llvm"
    printf '%s | %s' "$(cell "$lines_hit" "$lines_all")" "$(cell "$regions_hit" "$regions_all")"
}

cell() { awk -v h="$1" -v a="$2" 'BEGIN { if (a == 0) print "n/a"; else printf "%.1f%% (%d/%d)", 100 * h / a, h, a }'; }

# Runs one workload from clean coverage data: $1 short name, $2 the table's label, $3 the
# profile flag for the report, $4 the build function, $5 the run function.
measure() {
    local name=$1 label=$2 profile=$3 build=$4 run=$5 rc=0 start cells
    : >"$out/$name.log"
    log "$label: cleaning, building (log: $out/$name.log)"
    cargo llvm-cov clean --workspace >>"$out/$name.log" 2>&1
    "$build" >>"$out/$name.log" 2>&1 || { log "$label: build failed, see $out/$name.log"; exit 1; }
    log "$label: running"
    start=$SECONDS
    "$run" >>"$out/$name.log" 2>&1 || rc=$?
    if ((rc != 0)); then
        log "$label: exited with $rc (see $out/$name.log); coverage reported anyway"
        failed+=("$label (exit $rc)")
        label="$label (exit $rc)"
    fi
    cells=$(report "$name" "$profile")
    log "$label: $((SECONDS - start)) s of workload; $cells"
    printf '| %s | %s |\n' "$label" "$cells"
}

build_release() { cargo build --release -p manifest-level-fuzz; }
build_tests() { cargo test --workspace --no-run; }

run_seeds() {
    local seed rc=0
    for seed in 1 2 3 4 5; do
        "$fuzz_release" --seed "$seed" --events-max 200000 || rc=$?
    done
    return "$rc"
}

# The campaign writes its findings, traces and regression database into the working
# directory: a fresh temporary one. $1 is the binary.
campaign() {
    local dir
    dir=$(mktemp -d "$tmp/campaign.XXXXXX")
    (cd "$dir" && "$1" campaign --duration "${campaign_seconds}s" --start 1 --jobs 2 --no-progress)
}
run_campaign() { campaign "$fuzz_release"; }

run_segmented_array() { "$fuzz_release" segmented-array --seed 0 --seeds 20; }

run_tests() { cargo test --workspace; }

# The campaign with the test build's fuzzer binary (built by `cargo test --no-run` with the
# features the tests turn on, no fault planted), then the test suite, in one measurement.
run_campaign_and_tests() {
    local rc=0
    campaign "$fuzz_debug" || rc=$?
    cargo test --workspace || rc=$?
    return "$rc"
}

# Whether workload $1 is one of COVERAGE_WORKLOADS (all of them when unset).
wanted() { [[ -z ${COVERAGE_WORKLOADS:-} || " ${COVERAGE_WORKLOADS//,/ } " == *" $1 "* ]]; }

cargo llvm-cov --version >&2
echo "| workload | lines | regions |"
echo "|---|---|---|"
if wanted seeds; then
    measure seeds "seed mode: seeds 1..=5, --events-max 200000" --release build_release run_seeds
fi
if wanted campaign; then
    measure campaign "campaign: ${campaign_seconds} s, --jobs 2" --release build_release run_campaign
fi
if wanted segmented-array; then
    measure segmented-array "segmented array: seeds 0..=19, 10000 ops each" --release build_release run_segmented_array
fi
if wanted tests; then
    measure tests "cargo test --workspace" "" build_tests run_tests
fi
if wanted campaign-tests; then
    measure campaign-tests "campaign (${campaign_seconds} s) + cargo test --workspace" "" build_tests run_campaign_and_tests
fi
log "per-workload exports, uncovered lines and logs: $out"
if ((${#failed[@]} > 0)); then
    log "workloads that exited non-zero: ${failed[*]}"
    exit 1
fi
