//! `manifest-level-fuzz campaign`: its flags, and the summary it prints.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::CommandFactory;

use super::values::{check_mode_parser, op_set_parser};
use super::{Cli, EXIT_FAILURE, EXIT_USAGE};
use crate::campaign::level_job::FuzzSeedJob;
use crate::campaign::{run_campaign, CampaignConfig, Shard};
use crate::level::environment::deep::CheckMode;
use crate::level::ops::OpSet;
use crate::level::runner::RunConfig;
use crate::support::seed::{parse_duration, parse_seed_range, SeedPlan};
use crate::support::shrink::ShrinkLimits;

/// `manifest-level-fuzz campaign`: many seeds on all cores, each result saved as it ends.
/// By default every seed runs the extended op set with deep checks
/// ([`RunConfig::deep`]).
#[derive(Clone, Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["seeds", "duration"])))]
pub struct CampaignArgs {
    /// The seeds to run: A..B (B excluded) or A..=B.
    #[arg(long, value_name = "A..B", value_parser = parse_seed_range)]
    pub seeds: Option<SeedPlan>,

    /// Keep starting seeds for this long (30s, 10m, 1h30m), from --start on.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// The first seed of a --duration campaign [default: drawn, and printed]. Give the
    /// same one to every shard.
    #[arg(long, value_name = "SEED", conflicts_with = "seeds", value_parser = parse_seed_arg)]
    pub start: Option<u64>,

    /// Seeds run at once [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub jobs: Option<u64>,

    /// Run only shard k of n (0 <= k < n): the i-th seed of the range belongs to shard
    /// i mod n, so n machines given 0/n .. (n-1)/n cover the range exactly once.
    #[arg(long, value_name = "k/n", default_value = "0/1")]
    pub shard: Shard,

    /// The findings file: one JSON line per finished seed (appended and flushed at once),
    /// a `shrunk` line after each failing one, and a summary line at the end.
    #[arg(long, value_name = "FILE", default_value = "campaign-findings.jsonl")]
    pub findings: PathBuf,

    /// Where shrunk traces go [default: the findings file's name without .jsonl, plus
    /// -traces].
    #[arg(long, value_name = "DIR")]
    pub traces: Option<PathBuf>,

    /// Cap on each seed's op count (default 200000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub events_max: Option<u64>,

    /// The level's capacity, in tables.
    #[arg(long, value_name = "N", default_value_t = crate::level::generate::TABLE_COUNT_MAX_DEFAULT)]
    pub table_count_max: u32,

    /// Node size of the node pool, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = crate::level::runner::NODE_SIZE_DEFAULT)]
    pub node_size: usize,

    /// What to check after every op: `deep` (the default in campaigns: the whole level
    /// against the model) or `faithful` (the seed's checks only).
    #[arg(long, value_name = "MODE", default_value = "deep", value_parser = check_mode_parser())]
    pub check: CheckMode,

    /// Which ops to draw: `extended` (the default in campaigns: every public method) or
    /// `faithful` (the seed's five).
    #[arg(long = "ops", value_name = "SET", default_value = "extended", value_parser = op_set_parser())]
    pub op_set: OpSet,

    /// Swarm testing: each seed draws its own op weights, switching some ops off.
    #[arg(long)]
    pub swarm: bool,

    /// Do not shrink failing seeds.
    #[arg(long)]
    pub no_shrink: bool,

    /// Most runs shrinking one failing seed may make.
    #[arg(long, value_name = "N", default_value_t = 5_000,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub shrink_attempts: usize,

    /// Most time shrinking one failing seed may take.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub shrink_time: Duration,

    /// Do not draw the progress bar.
    #[arg(long)]
    pub no_progress: bool,

    /// Plant a deliberate bug in the level (to see a campaign find it), by name.
    #[cfg(feature = "fault-injection")]
    #[arg(long, value_name = "NAME", value_parser = crate::level::runner::parse_fault)]
    pub inject_fault: Option<manifest_level::Fault>,
}

fn parse_seed_arg(text: &str) -> Result<u64, String> {
    crate::support::prng::parse_seed(text).map_err(|error| error.to_string())
}

impl CampaignArgs {
    /// The configuration every seed runs with (seed 0 in it).
    pub fn base_config(&self) -> RunConfig {
        RunConfig {
            events_max: self.events_max,
            table_count_max: self.table_count_max,
            node_size: self.node_size,
            check: self.check,
            swarm: self.swarm,
            #[cfg(feature = "fault-injection")]
            fault: self.inject_fault,
            ..RunConfig::new(0).with_ops(self.op_set)
        }
    }

    /// The shrunk traces' directory.
    pub fn traces_dir(&self) -> PathBuf {
        self.traces.clone().unwrap_or_else(|| {
            let stem = self.findings.file_stem().map_or_else(
                || "campaign-findings".into(),
                |s| s.to_string_lossy().into_owned(),
            );
            self.findings.with_file_name(format!("{stem}-traces"))
        })
    }
}

/// Runs `manifest-level-fuzz campaign`: exit 0 if every seed passed, 1 if any failed, 2
/// for bad arguments or an unwritable findings file.
pub fn run_cli(args: &CampaignArgs) -> ExitCode {
    let usage_error = |message: String| {
        let _ = Cli::command()
            .error(clap::error::ErrorKind::ValueValidation, message)
            .print();
        ExitCode::from(EXIT_USAGE)
    };
    let base = args.base_config();
    if let Err(error) = base.validate() {
        return usage_error(error.to_string());
    }
    let plan = match (args.seeds, args.duration) {
        (Some(plan), _) => plan,
        (None, Some(duration)) => {
            let start = args.start.unwrap_or_else(crate::cli::entropy_seed);
            SeedPlan::Duration { start, duration }
        }
        (None, None) => return usage_error("give --seeds A..B or --duration D".into()),
    };
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |jobs| jobs as usize,
    );
    let config = CampaignConfig {
        plan,
        jobs,
        shard: args.shard,
        findings: args.findings.clone(),
        progress: !args.no_progress,
    };
    let limits = (!args.no_shrink).then(|| ShrinkLimits {
        attempts_max: args.shrink_attempts,
        time_max: Some(args.shrink_time),
        ..ShrinkLimits::default()
    });
    let job = FuzzSeedJob::new(base.clone(), limits, args.traces_dir());
    let what = match plan {
        SeedPlan::Range { start, end } => format!("seeds {start}..{end}"),
        SeedPlan::Duration { start, duration } => {
            format!("seeds from {start} for {}s", duration.as_secs())
        }
    };
    println!(
        "campaign: {what}, shard {}/{}, {jobs} jobs, findings {}, config {}",
        args.shard.index,
        args.shard.count,
        args.findings.display(),
        serde_json::to_string(&base).expect("a config serializes")
    );
    match run_campaign(&config, &job) {
        Ok(summary) => {
            println!("{summary}");
            if summary.failures > 0 {
                println!(
                    "failing seeds are in {} (shrunk traces in {})",
                    args.findings.display(),
                    args.traces_dir().display()
                );
                ExitCode::from(EXIT_FAILURE)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => usage_error(format!(
            "findings file {}: {error}",
            args.findings.display()
        )),
    }
}
