//! Turns an input of the `manifest_level` cargo-fuzz target (a crash, say) into a trace
//! file of the seed fuzzer, which `manifest-level-fuzz --replay` runs and, on failure,
//! shrinks to a minimal reproducer with a printed regression test. The trace's config is
//! the decoded one (the extended op set, deep checks, and the planted fault of a
//! `plant-*-fault` feature), so the replay runs exactly what libFuzzer ran.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --release --example crash_to_trace -- \
//!     fuzz/artifacts/manifest_level/crash-<sha1> crash.jsonl
//! cargo run --release -p manifest-level-fuzz -- --replay crash.jsonl
//! ```
//!
//! (Inputs of the `segmented_array` target replay directly:
//! `manifest-level-fuzz segmented-array --replay-input FILE`, with `--features arbitrary`.)

use std::path::PathBuf;
use std::process::ExitCode;

use manifest_level_cargo_fuzz::decode_manifest_level;
use manifest_level_fuzz::level::trace::{replay_command, Trace};

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: crash_to_trace INPUT TRACE.jsonl");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(input) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("{}: {error}", input.display());
            return ExitCode::FAILURE;
        }
    };
    let (config, ops) = decode_manifest_level(&bytes);
    let count = ops.len();
    if let Err(error) = Trace::new(&config, ops).write(output) {
        eprintln!("{}: {error}", output.display());
        return ExitCode::FAILURE;
    }
    println!(
        "{count} ops (seed {}, table_count_max {}, node size {}, ops {}, check {}) written to {}",
        config.seed,
        config.table_count_max,
        config.node_size,
        config.ops,
        config.check,
        output.display()
    );
    println!("replay: {}", replay_command(&config, output));
    ExitCode::SUCCESS
}
