//! `manifest-level-fuzz segmented-array`: its flags, and what it prints.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{EXIT_FAILURE, EXIT_USAGE};
use crate::segmented_array::*;
use crate::support::trace_file::read_text;

/// Arguments of `manifest-level-fuzz segmented-array`.
#[derive(Clone, Debug, clap::Args)]
pub struct SegmentedArrayArgs {
    /// The first seed: a decimal u64, or a 40-hex-digit git commit hash (its low 64 bits).
    /// Drawn from the OS clock and entropy, and printed, when absent.
    #[arg(long, value_parser = parse_seed_arg)]
    pub seed: Option<u64>,
    /// Ops per seed.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub ops: u64,
    /// Run this many consecutive seeds, from `--seed`.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: u64,
    /// Element type instead of the drawn one: u32, u64, u128, record24, record64.
    #[arg(long, value_name = "TYPE", value_parser = parse_element_kind)]
    pub element: Option<ElementKind>,
    /// Node size in bytes instead of the drawn one (rounded to a multiple of 16, clamped
    /// to 32..=4096 and to two elements).
    #[arg(long, value_name = "BYTES")]
    pub node_size: Option<u32>,
    /// Force sorted mode (`insert_sorted`, `lower_bound`).
    #[arg(long, conflicts_with = "positional")]
    pub sorted: bool,
    /// Force positional mode (inserts anywhere).
    #[arg(long)]
    pub positional: bool,
    /// Also write each seed's first 256 ops as a libFuzzer input into DIR (seeds the
    /// corpus of the `segmented_array` cargo-fuzz target).
    #[arg(long, value_name = "DIR")]
    pub write_corpus: Option<PathBuf>,
    /// Instead of seeds, replay a libFuzzer input (a crash, say) of the
    /// `segmented_array` target: print the decoded trace, run it, and on failure print a
    /// regression test.
    #[cfg(feature = "arbitrary")]
    #[arg(long, value_name = "FILE", conflicts_with_all = ["seed", "write_corpus"])]
    pub replay_input: Option<PathBuf>,
    /// Plant the off-by-one in `lower_bound` (a demo that the checks catch it).
    #[cfg(feature = "fault-injection")]
    #[arg(long)]
    pub inject_search_fault: bool,
    /// Write the run's trace (setup, planted faults, every op; JSON lines in the format
    /// `--replay` reads) to FILE. Needs a single seed.
    #[arg(long, value_name = "FILE", conflicts_with = "seeds")]
    pub record: Option<PathBuf>,
    /// Run the trace in FILE again, bit for bit (its setup and faults come from its
    /// header, so flags that set them are rejected with it).
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "seed", "seeds", "ops", "element", "node_size", "sorted", "positional",
        "write_corpus", "record",
    ])]
    pub replay: Option<PathBuf>,
    /// On a failure, print the whole failing op list instead of shrinking it first.
    #[arg(long)]
    pub no_shrink: bool,
    /// Where to write the shrunk trace of a failure [default:
    /// segmented-array-fuzz-SEED-shrunk.jsonl].
    #[arg(long, value_name = "FILE")]
    pub shrink_out: Option<PathBuf>,
}

fn parse_seed_arg(text: &str) -> Result<u64, String> {
    crate::support::prng::parse_seed(text).map_err(|error| error.to_string())
}

fn parse_element_kind(text: &str) -> Result<ElementKind, String> {
    ElementKind::from_name(text)
        .ok_or_else(|| "expected one of u32, u64, u128, record24, record64".to_string())
}

impl SegmentedArrayArgs {
    /// The run configuration for `seed`.
    pub fn to_config(&self, seed: u64) -> SegmentedArrayFuzzConfig {
        SegmentedArrayFuzzConfig {
            seed,
            ops: self.ops,
            element: self.element,
            node_size: self.node_size,
            sorted: match (self.sorted, self.positional) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            record: self.write_corpus.is_some() || self.record.is_some(),
            faults: self.faults(),
        }
    }

    fn faults(&self) -> Faults {
        Faults {
            #[cfg(feature = "fault-injection")]
            search_off_by_one: self.inject_search_fault,
            #[cfg(not(feature = "fault-injection"))]
            search_off_by_one: false,
        }
    }

    /// The command line that reruns `seed` alone.
    pub fn reproduce_command(&self, seed: u64) -> String {
        self.to_config(seed).reproduce_command()
    }
}

/// Shrinks a failure (unless `--no-shrink`), prints the minimal ops, writes them as a
/// trace, and prints a regression test.
fn report_failure(args: &SegmentedArrayArgs, failure: &Failure) {
    let trace = if args.no_shrink {
        failure.trace.clone()
    } else {
        // Panics while shrinking are caught quietly (`support::panic`).
        let (trace, shrunk) = shrink_failure(failure, Default::default());
        println!(
            "\nshrunk {} ops -> {} ops, still failing {}:",
            failure.trace.ops.len(),
            trace.ops.len(),
            failure_signature(failure)
        );
        for (index, op) in trace.ops.iter().enumerate() {
            println!("    {index}: {op:?}");
        }
        println!("{shrunk}");
        let path = args
            .shrink_out
            .clone()
            .unwrap_or_else(|| default_shrunk_trace_path(failure.seed));
        match trace.write(&path) {
            Ok(()) => println!(
                "shrunk trace: {} (replay: {})",
                path.display(),
                replay_command(&trace, &path)
            ),
            Err(error) => eprintln!("could not write the shrunk trace: {error}"),
        }
        trace
    };
    println!(
        "\nregression test (paste into crates/manifest-level-fuzz/tests/):\n\n{}",
        trace.regression_test("segmented_array_regression")
    );
}

/// A usage error (bad flag value, unreadable or malformed input file): exit 2.
fn usage_error(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// Runs `manifest-level-fuzz segmented-array`: exit 0 when every seed (or the replayed
/// trace) passes; 1 at the first failure, after printing it, the command that reproduces
/// it, its shrunk form and a regression test; 2 for an unreadable or malformed input and
/// for a file that cannot be written.
pub fn run_cli(args: &SegmentedArrayArgs) -> ExitCode {
    #[cfg(feature = "arbitrary")]
    if let Some(path) = &args.replay_input {
        return replay_input_cli(args, path);
    }
    if let Some(path) = &args.replay {
        return match read_text(path).and_then(|text| Trace::parse(&text)) {
            Ok(trace) => replay_trace(args, path, &trace),
            Err(error) => usage_error(format!("--replay {}: {error}", path.display())),
        };
    }
    run_seeds(args)
}

/// `--replay-input FILE`: decodes a libFuzzer input, prints it, and runs it.
#[cfg(feature = "arbitrary")]
fn replay_input_cli(args: &SegmentedArrayArgs, path: &Path) -> ExitCode {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => return usage_error(format!("{}: {error}", path.display())),
    };
    let trace = Trace::from_fuzz_input(&bytes);
    let trace = Trace::of(trace.setup(), args.faults(), trace.ops);
    println!("{trace:#?}");
    run_trace(args, &trace)
}

/// `--replay FILE`: runs a trace read from a file and says whether the failure it
/// records (if any) happened again.
pub(super) fn replay_trace(args: &SegmentedArrayArgs, path: &Path, trace: &Trace) -> ExitCode {
    println!(
        "replay: {}: {} ops on {}",
        path.display(),
        trace.ops.len(),
        trace.setup()
    );
    let expected = trace.header.failure.as_ref();
    if let Some(expected) = expected {
        println!("replay: the trace records the failure: {expected}");
    }
    let failure = match run_ops(trace.setup(), &trace.ops, trace.faults()) {
        Ok(report) => {
            println!("{report}");
            if let Some(expected) = expected {
                println!("replay: the recorded failure ({expected}) did not happen");
            }
            return ExitCode::SUCCESS;
        }
        Err(failure) => failure,
    };
    eprintln!("{failure}\n");
    let found = failure_signature(&failure);
    match expected {
        Some(expected) if *expected == found => {
            eprintln!("replay: reproduced the recorded failure: {found}");
        }
        Some(expected) => {
            eprintln!("replay: the trace records {expected}, but this run failed with {found}");
        }
        None => {}
    }
    report_failure(args, &failure);
    ExitCode::from(EXIT_FAILURE)
}

/// Runs an explicit trace and reports like a seed run.
#[cfg(feature = "arbitrary")]
fn run_trace(args: &SegmentedArrayArgs, trace: &Trace) -> ExitCode {
    match run_ops(trace.setup(), &trace.ops, trace.faults()) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("{failure}\n");
            report_failure(args, &failure);
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// `--seeds N` seeds from `--seed` (drawn and printed when absent).
fn run_seeds(args: &SegmentedArrayArgs) -> ExitCode {
    let first = args.seed.unwrap_or_else(|| {
        let seed = crate::support::seed::entropy_seed();
        println!("seed: {seed}");
        seed
    });
    if let Some(dir) = &args.write_corpus {
        if let Err(error) = std::fs::create_dir_all(dir) {
            return usage_error(format!("--write-corpus {}: {error}", dir.display()));
        }
    }
    let started = std::time::Instant::now();
    let mut ops = 0u64;
    for seed in (0..args.seeds).map(|i| first.wrapping_add(i)) {
        match run(args.to_config(seed)) {
            Ok(report) => {
                ops += report.ops;
                println!("{report}");
                if let Err(message) = save_recording(args, seed, report.trace.as_ref()) {
                    return usage_error(message);
                }
            }
            Err(failure) => {
                eprintln!("{failure}");
                eprintln!("reproduce: {}", args.reproduce_command(seed));
                if let Err(message) = save_recording(args, seed, Some(&failure.trace)) {
                    eprintln!("error: {message}");
                }
                report_failure(args, &failure);
                return ExitCode::from(EXIT_FAILURE);
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} seed(s) passed, {ops} ops in {seconds:.2} s ({:.0} ops/s)",
        args.seeds,
        ops as f64 / seconds.max(1e-9)
    );
    if let Some(dir) = &args.write_corpus {
        println!("corpus inputs written to {}", dir.display());
    }
    ExitCode::SUCCESS
}

/// Writes a seed's recorded ops where `--record` and `--write-corpus` ask.
fn save_recording(
    args: &SegmentedArrayArgs,
    seed: u64,
    trace: Option<&Trace>,
) -> Result<(), String> {
    let Some(trace) = trace else {
        return Ok(());
    };
    if let Some(path) = &args.record {
        trace
            .write(path)
            .map_err(|error| format!("--record: {error}"))?;
        println!("recorded: {}", path.display());
    }
    if let Some(dir) = &args.write_corpus {
        let prefix = trace.ops[..trace.ops.len().min(INPUT_OPS_MAX)].to_vec();
        let input = Trace::of(trace.setup(), Faults::default(), prefix);
        let path = dir.join(format!("seed-{seed}"));
        std::fs::write(&path, input.to_fuzz_input())
            .map_err(|error| format!("{}: {error}", path.display()))?;
    }
    Ok(())
}
