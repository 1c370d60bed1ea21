//! Seeds the cargo-fuzz corpora from seed runs of the deterministic fuzzers.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --release --example seed_corpus -- DIR [SEEDS [OPS]]
//! ```
//!
//! Writes `SEEDS` (default 16) inputs per target into `DIR/segmented_array/` and
//! `DIR/manifest_level/`: the first `OPS` (default 96) ops of seed runs `0..SEEDS`, at
//! most as many as an input holds (256 for `segmented_array`, 64 for `manifest_level`),
//! encoded in each target's input format and checked to decode back to the
//! same ops. The `manifest_level` seeds are runs of a campaign's configuration
//! (`RunConfig::deep`: the extended op set, deep checks) at a few table limits and node
//! sizes. Short inputs keep libFuzzer fast; the checked-in `fuzz/seeds/` is
//! `seed_corpus fuzz/seeds 8`. libFuzzer then starts from states the seed runs reach
//! (full arrays, many nodes, retired, pinned and invisible tables, retained snapshots, a
//! second level) instead of from nothing.

use std::path::PathBuf;
use std::process::ExitCode;

use manifest_level_cargo_fuzz::{decode_manifest_level, encode_manifest_level, OPS_MAX};
use manifest_level_fuzz::level::runner::{plan, RunConfig};
use manifest_level_fuzz::segmented_array::INPUT_OPS_MAX;
use manifest_level_fuzz::segmented_array::{run, SegmentedArrayFuzzConfig, Trace};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: seed_corpus DIR [SEEDS [OPS]]");
        return ExitCode::from(2);
    };
    let mut number = |default: u64| match args.next().map(|text| text.parse::<u64>()) {
        None => Some(default),
        Some(Ok(value)) => Some(value),
        Some(Err(_)) => None,
    };
    let (Some(seeds), Some(ops)) = (number(16), number(96)) else {
        eprintln!("SEEDS and OPS must be numbers");
        return ExitCode::from(2);
    };
    match write(&dir, seeds, ops) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn write(dir: &std::path::Path, seeds: u64, ops: u64) -> std::io::Result<()> {
    let segmented = dir.join("segmented_array");
    let level = dir.join("manifest_level");
    std::fs::create_dir_all(&segmented)?;
    std::fs::create_dir_all(&level)?;
    for seed in 0..seeds {
        let config = SegmentedArrayFuzzConfig {
            seed,
            ops: ops.min(INPUT_OPS_MAX as u64),
            record: true,
            ..Default::default()
        };
        let report = run(config).unwrap_or_else(|failure| panic!("{failure}"));
        let trace = report.trace.expect("recorded");
        let bytes = trace.to_fuzz_input();
        let decoded = Trace::from_fuzz_input(&bytes);
        assert_eq!(
            decoded.ops, trace.ops,
            "segmented_array input of seed {seed}"
        );
        std::fs::write(segmented.join(format!("seed-{seed}")), bytes)?;

        // A campaign's seed run (extended op set, deep checks) at sizes inside the
        // manifest_level input format: a few table limits and nodes.
        let config = RunConfig {
            events_max: Some(ops.min(OPS_MAX as u64)),
            table_count_max: [256, 64, 16, 100][seed as usize % 4],
            node_size: [1024, 256, 128, 4096][(seed / 4) as usize % 4],
            ..RunConfig::deep(seed)
        };
        let planned = plan(&config).ops;
        let bytes = encode_manifest_level(&config, &planned).expect("encodable");
        let (decoded_config, decoded_ops) = decode_manifest_level(&bytes);
        assert_eq!(decoded_ops, planned, "manifest_level input of seed {seed}");
        assert_eq!(
            (
                decoded_config.seed,
                decoded_config.table_count_max,
                decoded_config.node_size,
                decoded_config.ops,
                decoded_config.check,
            ),
            (
                config.seed,
                config.table_count_max,
                config.node_size,
                config.ops,
                config.check,
            ),
            "manifest_level config of seed {seed}"
        );
        std::fs::write(level.join(format!("seed-{seed}")), bytes)?;
    }
    println!(
        "wrote {seeds} inputs each to {} and {}",
        segmented.display(),
        level.display()
    );
    Ok(())
}
