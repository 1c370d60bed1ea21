//! `manifest-level-fuzz segmented-array`: its flags, and what it prints.

use crate::segmented_array::*;

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
    pub write_corpus: Option<std::path::PathBuf>,
    /// Instead of seeds, replay a libFuzzer input (a crash, say) of the
    /// `segmented_array` target: print the decoded trace, run it, and on failure print a
    /// regression test.
    #[cfg(feature = "arbitrary")]
    #[arg(long, value_name = "FILE", conflicts_with_all = ["seed", "write_corpus"])]
    pub replay_input: Option<std::path::PathBuf>,
    /// Plant the off-by-one in `lower_bound` (a demo that the checks catch it).
    #[cfg(feature = "fault-injection")]
    #[arg(long)]
    pub inject_search_fault: bool,
    /// On a failure, print the whole failing op list instead of shrinking it first.
    #[arg(long)]
    pub no_shrink: bool,
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
            record: self.write_corpus.is_some(),
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
        let mut command = format!(
            "manifest-level-fuzz segmented-array --seed {seed} --ops {}",
            self.ops
        );
        if let Some(element) = self.element {
            command.push_str(&format!(" --element {element}"));
        }
        if let Some(node_size) = self.node_size {
            command.push_str(&format!(" --node-size {node_size}"));
        }
        if self.sorted {
            command.push_str(" --sorted");
        }
        if self.positional {
            command.push_str(" --positional");
        }
        if self.faults().search_off_by_one {
            command.push_str(" --inject-search-fault");
        }
        command
    }
}

/// Shrinks a failure (unless `--no-shrink`) and prints the minimal ops and a regression
/// test.
fn report_failure(args: &SegmentedArrayArgs, failure: &Failure) {
    let (trace, shrunk) = if args.no_shrink {
        (failure.trace.clone(), failure.clone())
    } else {
        // Panics while shrinking are caught quietly (`support::panic`).
        shrink_failure(failure, args.faults(), Default::default())
    };
    if !args.no_shrink {
        println!(
            "\nshrunk {} ops -> {} ops, still failing check {:?}:",
            failure.trace.ops.len(),
            trace.ops.len(),
            failure_signature(failure)
        );
        for (index, op) in trace.ops.iter().enumerate() {
            println!("    {index}: {op:?}");
        }
        println!("{shrunk}");
    }
    println!(
        "\nregression test (paste into crates/manifest-level-fuzz/tests/):\n\n{}",
        trace.regression_test("segmented_array_regression", args.faults())
    );
}

/// Runs `manifest-level-fuzz segmented-array`: exit 0 when every seed passes, 1 at the
/// first failure (after printing it, the command that reproduces it, and a regression
/// test), 1 also when a corpus file cannot be written.
pub fn run_cli(args: &SegmentedArrayArgs) -> std::process::ExitCode {
    use std::process::ExitCode;

    #[cfg(feature = "arbitrary")]
    if let Some(path) = &args.replay_input {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                eprintln!("{}: {error}", path.display());
                return ExitCode::FAILURE;
            }
        };
        let trace = Trace::from_fuzz_input(&bytes);
        println!("{trace:#?}");
        return match run_ops(trace.setup, &trace.ops, args.faults()) {
            Ok(report) => {
                println!("{report}");
                ExitCode::SUCCESS
            }
            Err(failure) => {
                eprintln!("{failure}\n");
                report_failure(args, &failure);
                ExitCode::FAILURE
            }
        };
    }

    let first = args.seed.unwrap_or_else(|| {
        let seed = crate::cli::entropy_seed();
        println!("seed: {seed}");
        seed
    });
    if let Some(dir) = &args.write_corpus {
        if let Err(error) = std::fs::create_dir_all(dir) {
            eprintln!("{}: {error}", dir.display());
            return ExitCode::FAILURE;
        }
    }
    let started = std::time::Instant::now();
    let mut ops = 0u64;
    for seed in (0..args.seeds).map(|i| first.wrapping_add(i)) {
        match run(args.to_config(seed)) {
            Ok(report) => {
                ops += report.ops;
                println!("{report}");
                if let (Some(dir), Some(trace)) = (&args.write_corpus, &report.trace) {
                    let input = Trace {
                        setup: trace.setup,
                        ops: trace.ops[..trace.ops.len().min(INPUT_OPS_MAX)].to_vec(),
                    };
                    let path = dir.join(format!("seed-{seed}"));
                    if let Err(error) = std::fs::write(&path, input.to_fuzz_input()) {
                        eprintln!("{}: {error}", path.display());
                        return ExitCode::FAILURE;
                    }
                }
            }
            Err(failure) => {
                eprintln!("{failure}");
                eprintln!("reproduce: {}", args.reproduce_command(seed));
                report_failure(args, &failure);
                return ExitCode::FAILURE;
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
