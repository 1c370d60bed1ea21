//! `manifest-level-fuzz campaign`: its flags, and the summary it prints.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::CommandFactory;

use super::values::{check_mode_parser, key_width_parser, op_set_parser};
use super::{Cli, EXIT_FAILURE, EXIT_USAGE};
use crate::campaign::level_job::FuzzSeedJob;
use crate::campaign::mixed_job::{MixedSeedJob, ARRAY_SEED_EVERY};
use crate::campaign::regressions::{replay_stored, Replayed, StoredReplay};
use crate::campaign::report::{CampaignReport, ReportHeading};
use crate::campaign::segmented_array_job::SegmentedArraySeedJob;
use crate::campaign::{
    run_campaign_observed, CampaignConfig, CampaignSummary, Finding, SeedJob, Shard,
};
use crate::level::configuration::ConfigurationOverrides;
use crate::level::environment::deep::CheckMode;
use crate::level::key::KeyWidth;
use crate::level::ops::OpSet;
use crate::level::runner::RunConfig;
use crate::segmented_array::{Faults, SegmentedArrayFuzzConfig};
use crate::support::seed::{parse_duration, parse_seed_range, SeedPlan};
use crate::support::shrink::ShrinkLimits;

/// `manifest-level-fuzz campaign`: many seeds on all cores, each result saved as it ends.
/// By default most seeds run the level fuzzer with the extended op set and deep checks, and
/// one seed in 8 the segmented-array fuzzer (`--target all`); `--target level` and
/// `--target segmented-array` run one of them only.
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

    /// The failure database: every failure's shrunk trace is stored here, one file per
    /// distinct failure signature, and every campaign replays the stored traces first
    /// [default: campaign-regressions, next to the findings file].
    #[arg(long, value_name = "DIR")]
    pub regressions: Option<PathBuf>,

    /// What to fuzz: `all` (the level on most seeds, the segmented array alone on one seed
    /// in 8), `level` (the manifest level) or `segmented-array` (the array alone).
    #[arg(long, value_name = "TARGET", default_value = "all",
          value_parser = ["all", "level", "segmented-array"])]
    pub target: String,

    /// Cap on each seed's op count [default: 200000 for the level, 10000 for the
    /// segmented array].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub events_max: Option<u64>,

    /// The level's capacity, in tables [default: drawn per seed; 1024 with --no-swarm]
    /// (level only).
    #[arg(long, value_name = "N")]
    pub table_count_max: Option<u32>,

    /// Node size in bytes [default: drawn per seed; 1024 for the level with --no-swarm].
    #[arg(long, value_name = "BYTES")]
    pub node_size: Option<usize>,

    /// The most tables one insert op generates [default: drawn per seed; 10 with
    /// --no-swarm] (level only).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub insert_count_max: Option<u32>,

    /// Growth phase: removals wait until the level first holds N tables [default: drawn
    /// per seed; none with --no-swarm] (level only).
    #[arg(long, value_name = "N")]
    pub growth_tables: Option<u32>,

    /// The level's key type, `u64` or `u128` [default: drawn per seed, u128 on a quarter
    /// of the seeds; u64 with --no-swarm] (level only).
    #[arg(long, value_name = "KEY", value_parser = key_width_parser())]
    pub key: Option<KeyWidth>,

    /// Hold back this share of the node pool, in percent, in a ballast array, so inserts
    /// meet an exhausted pool (then the ballast lets go) [default: none; drawn per seed
    /// with --swarm, 10..=75 on a third of the seeds]. Level only.
    #[arg(long, value_name = "PERCENT",
          value_parser = clap::value_parser!(u8).range(0..=crate::level::runner::BALLAST_PERCENT_MAX as i64))]
    pub ballast_percent: Option<u8>,

    /// The levels sharing the node pool: 2 (A and B) or 3 (A, B and a third level C)
    /// [default: drawn per seed, 3 on half the seeds; 2 with --no-swarm]. Level only.
    #[arg(long = "levels", value_name = "N", value_parser = crate::cli::shape::parse_levels)]
    pub third_level: Option<bool>,

    /// What to check after every op: `deep` (the default in campaigns: the whole level
    /// against the model) or `faithful` (the seed's checks only). Level only.
    #[arg(long, value_name = "MODE", value_parser = check_mode_parser())]
    pub check: Option<CheckMode>,

    /// Which ops to draw: `extended` (the default in campaigns: every public method) or
    /// `faithful` (the seed's five). Level only.
    #[arg(long = "ops", value_name = "SET", value_parser = op_set_parser())]
    pub op_set: Option<OpSet>,

    /// Swarm testing, the default: each seed draws its own op weights (switching some
    /// ops off) and its level's shape (capacity, node size, insert count, growth, key
    /// type). Level only.
    #[arg(long, conflicts_with = "no_swarm")]
    pub swarm: bool,

    /// Every seed runs the same weights and level shape (the flags' or the defaults').
    /// Level only.
    #[arg(long)]
    pub no_swarm: bool,

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

    /// Exit 1 if some state of the level's state coverage (node splits, levels past 512
    /// nodes, least-overlap ties, ...) was reached by no seed.
    #[arg(long)]
    pub require_states: bool,

    /// Run one seed in N twice (those with seed % N == 0), from a fresh start each time,
    /// and fail the seed if the op streams, digests or outcomes differ. Level only.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub check_determinism: Option<u64>,

    /// Write the campaign's report, a static page, to DIR/index.html when it ends: the
    /// summary, ops/s over the run, the configurations drawn, peak level sizes, the op
    /// mix, the state coverage and every failure with its shrunk ops.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,

    /// Do not draw the progress bar.
    #[arg(long)]
    pub no_progress: bool,

    /// Plant a deliberate bug in the level (to see a campaign find it), by name. Level
    /// only.
    #[cfg(feature = "fault-injection")]
    #[arg(long, value_name = "NAME", value_parser = crate::level::runner::parse_fault)]
    pub inject_fault: Option<manifest_level::Fault>,

    /// Plant the off-by-one in the segmented array's `lower_bound`. Segmented array only.
    #[cfg(feature = "fault-injection")]
    #[arg(long)]
    pub inject_search_fault: bool,
}

fn parse_seed_arg(text: &str) -> Result<u64, String> {
    crate::support::prng::parse_seed(text).map_err(|error| error.to_string())
}

impl CampaignArgs {
    /// The configuration every level seed runs with (seed 0 in it).
    pub fn base_config(&self) -> RunConfig {
        RunConfig {
            events_max: self.events_max,
            table_count_max: self
                .table_count_max
                .unwrap_or(crate::level::generate::TABLE_COUNT_MAX_DEFAULT),
            node_size: self
                .node_size
                .unwrap_or(crate::level::runner::NODE_SIZE_DEFAULT),
            insert_count_max: self
                .insert_count_max
                .unwrap_or(crate::level::generate::INSERT_COUNT_MAX),
            growth_tables: self.growth_tables.unwrap_or(0),
            key: self.key.unwrap_or_default(),
            ballast_percent: self.ballast_percent.unwrap_or(0),
            third_level: self.third_level.unwrap_or(false),
            check: self.check.unwrap_or(CheckMode::Deep),
            swarm: !self.no_swarm,
            #[cfg(feature = "fault-injection")]
            fault: self.inject_fault,
            ..RunConfig::new(0).with_ops(self.op_set.unwrap_or(OpSet::Extended))
        }
    }

    /// The configuration every segmented-array seed runs with (seed 0 in it).
    pub fn array_config(&self) -> SegmentedArrayFuzzConfig {
        let defaults = SegmentedArrayFuzzConfig::default();
        SegmentedArrayFuzzConfig {
            ops: self.events_max.unwrap_or(defaults.ops),
            node_size: self
                .node_size
                .map(|size| size.min(u32::MAX as usize) as u32),
            faults: Faults {
                #[cfg(feature = "fault-injection")]
                search_off_by_one: self.inject_search_fault,
                #[cfg(not(feature = "fault-injection"))]
                search_off_by_one: false,
            },
            ..defaults
        }
    }

    /// The flags given that the target does not take.
    fn foreign_flags(&self) -> Vec<&'static str> {
        #[cfg_attr(not(feature = "fault-injection"), allow(unused_mut))]
        let mut level_only = vec![
            ("--table-count-max", self.table_count_max.is_some()),
            ("--insert-count-max", self.insert_count_max.is_some()),
            ("--growth-tables", self.growth_tables.is_some()),
            ("--key", self.key.is_some()),
            ("--ballast-percent", self.ballast_percent.is_some()),
            ("--levels", self.third_level.is_some()),
            ("--check", self.check.is_some()),
            ("--ops", self.op_set.is_some()),
            ("--swarm", self.swarm),
            ("--no-swarm", self.no_swarm),
            ("--require-states", self.require_states),
            ("--check-determinism", self.check_determinism.is_some()),
        ];
        #[cfg(feature = "fault-injection")]
        level_only.push(("--inject-fault", self.inject_fault.is_some()));
        #[cfg(feature = "fault-injection")]
        let array_only = [("--inject-search-fault", self.inject_search_fault)];
        #[cfg(not(feature = "fault-injection"))]
        let array_only: [(&str, bool); 0] = [];
        let foreign: Vec<_> = match self.target.as_str() {
            "all" => Vec::new(),
            "level" => array_only.to_vec(),
            _ => level_only,
        };
        foreign
            .into_iter()
            .filter_map(|(flag, given)| given.then_some(flag))
            .collect()
    }

    /// The level-shape flags given, which replace each swarm seed's draws.
    pub fn configuration_overrides(&self) -> ConfigurationOverrides {
        ConfigurationOverrides {
            table_count_max: self.table_count_max,
            node_size: self.node_size,
            insert_count_max: self.insert_count_max,
            growth_tables: self.growth_tables,
            key: self.key,
            ballast_percent: self.ballast_percent,
            third_level: self.third_level,
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

    /// The failure database's directory.
    pub fn regressions_dir(&self) -> PathBuf {
        self.regressions
            .clone()
            .unwrap_or_else(|| self.findings.with_file_name("campaign-regressions"))
    }

    fn shrink_limits(&self) -> Option<ShrinkLimits> {
        (!self.no_shrink).then(|| ShrinkLimits {
            attempts_max: self.shrink_attempts,
            time_max: Some(self.shrink_time),
            ..ShrinkLimits::default()
        })
    }
}

fn usage_error(message: String) -> ExitCode {
    let _ = Cli::command()
        .error(clap::error::ErrorKind::ValueValidation, message)
        .print();
    ExitCode::from(EXIT_USAGE)
}

/// The target's job, and its configuration as JSON for the first line.
fn job_for(args: &CampaignArgs) -> Result<(Box<dyn SeedJob>, String), String> {
    let foreign = args.foreign_flags();
    if !foreign.is_empty() {
        return Err(format!(
            "{} cannot be given with --target {}",
            foreign.join(", "),
            args.target
        ));
    }
    match args.target.as_str() {
        "level" => {
            let (job, shown) = level_job(args)?;
            Ok((Box::new(job), shown))
        }
        "segmented-array" => {
            let (job, shown) = array_job(args);
            Ok((Box::new(job), shown))
        }
        _ => {
            let (level, level_shown) = level_job(args)?;
            let (array, array_shown) = array_job(args);
            let level_shown: serde_json::Value =
                serde_json::from_str(&level_shown).expect("the level config is JSON");
            let shown = serde_json::json!({
                "level": level_shown,
                "segmented_array": array_shown,
                "array_seed_every": ARRAY_SEED_EVERY,
            })
            .to_string();
            Ok((Box::new(MixedSeedJob { level, array }), shown))
        }
    }
}

/// The level fuzzer's job, and its configuration as JSON.
fn level_job(args: &CampaignArgs) -> Result<(FuzzSeedJob, String), String> {
    let base = args.base_config();
    base.validate().map_err(|error| error.to_string())?;
    let shown = shown_level_config(&base, &args.configuration_overrides());
    let mut job = FuzzSeedJob::new(base, args.shrink_limits(), args.traces_dir());
    job.regressions = Some(args.regressions_dir());
    job.overrides = args.configuration_overrides();
    job.determinism_every = args.check_determinism;
    Ok((job, shown))
}

/// The segmented-array fuzzer's job, and its configuration as text.
fn array_job(args: &CampaignArgs) -> (SegmentedArraySeedJob, String) {
    let base = args.array_config();
    let shown = format!("{base:?}");
    let mut job = SegmentedArraySeedJob::new(base, args.shrink_limits(), args.traces_dir());
    job.regressions = Some(args.regressions_dir());
    (job, shown)
}

/// The level base configuration as JSON for the first line; with swarm, each value a
/// seed draws (and no flag pins) reads "drawn".
fn shown_level_config(base: &RunConfig, overrides: &ConfigurationOverrides) -> String {
    let mut shown = serde_json::to_value(base).expect("a config serializes");
    if base.swarm {
        let pinned = [
            ("table_count_max", overrides.table_count_max.is_some()),
            ("node_size", overrides.node_size.is_some()),
            ("insert_count_max", overrides.insert_count_max.is_some()),
            ("growth_tables", overrides.growth_tables.is_some()),
            ("key", overrides.key.is_some()),
            ("ballast_percent", overrides.ballast_percent.is_some()),
            ("third_level", overrides.third_level.is_some()),
            ("weights", false),
        ];
        for (field, pinned) in pinned {
            if !pinned {
                shown[field] = "drawn".into();
            }
        }
    }
    shown.to_string()
}

/// Runs `manifest-level-fuzz campaign`: exit 0 if every seed passed, 1 if any failed, 2
/// for bad arguments or an unwritable findings file or report.
pub fn run_cli(args: &CampaignArgs) -> ExitCode {
    let (job, shown) = match job_for(args) {
        Ok(job) => job,
        Err(message) => return usage_error(message),
    };
    let regressions = args.regressions_dir();
    for (flag, dir) in [
        ("--regressions", Some(&regressions)),
        ("--report", args.report.as_ref()),
    ] {
        if let Some(dir) = dir.filter(|dir| dir.exists() && !dir.is_dir()) {
            return usage_error(format!("{flag} {}: not a directory", dir.display()));
        }
    }
    let config = campaign_config(args);
    let description = describe(args, &config, &shown);
    println!("{description}");
    let report = args.report.as_ref().map(|_| {
        Mutex::new(CampaignReport::new(ReportHeading {
            target: args.target.clone(),
            description,
            stored_failures: None,
        }))
    });
    let stored = replay_stored_failures(&regressions);
    if let Some(report) = &report {
        lock(report).set_stored_failures(format!("{stored} (in {})", regressions.display()));
    }
    let observer = |finding: &Finding| {
        if let Some(report) = &report {
            lock(report).add(finding);
        }
    };
    let summary = match run_campaign_observed(&config, job.as_ref(), &observer) {
        Ok(summary) => summary,
        Err(error) => {
            return usage_error(format!(
                "findings file {}: {error}",
                args.findings.display()
            ))
        }
    };
    let code = report_summary(args, &summary, stored.still_failing());
    match (report, &args.report) {
        (Some(report), Some(dir)) => write_report(&lock(&report), dir, code),
        _ => code,
    }
}

fn lock(report: &Mutex<CampaignReport>) -> std::sync::MutexGuard<'_, CampaignReport> {
    report
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The campaign's plan and threads from the flags.
fn campaign_config(args: &CampaignArgs) -> CampaignConfig {
    let plan = match (args.seeds, args.duration) {
        (Some(plan), _) => plan,
        (_, duration) => SeedPlan::Duration {
            start: args.start.unwrap_or_else(crate::cli::entropy_seed),
            // clap requires one of --seeds and --duration.
            duration: duration.expect("--seeds or --duration"),
        },
    };
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |jobs| jobs as usize,
    );
    CampaignConfig {
        plan,
        jobs,
        shard: args.shard,
        findings: args.findings.clone(),
        progress: !args.no_progress,
    }
}

/// The campaign's first line: what runs, where its findings go, and its configuration.
fn describe(args: &CampaignArgs, config: &CampaignConfig, shown: &str) -> String {
    let what = match config.plan {
        SeedPlan::Range { start, end } => format!("seeds {start}..{end}"),
        SeedPlan::Duration { start, duration } => {
            format!("seeds from {start} for {}s", duration.as_secs())
        }
    };
    format!(
        "campaign: {} {what}, shard {}/{}, {} jobs, findings {}, config {shown}",
        args.target,
        config.shard.index,
        config.shard.count,
        config.jobs,
        args.findings.display(),
    )
}

/// Writes the report and says where: the campaign's exit `code`, or 2 when the report
/// cannot be written.
fn write_report(report: &CampaignReport, dir: &Path, code: ExitCode) -> ExitCode {
    match report.write(dir) {
        Ok(path) => {
            println!("report: {}", path.display());
            code
        }
        Err(error) => {
            eprintln!("error: report {}: {error}", dir.display());
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Replays the failure database in `dir` and says what each trace gave (a trace that
/// fails again or cannot be read is named, with why).
fn replay_stored_failures(dir: &Path) -> StoredReplay {
    let stored = replay_stored(dir);
    if let Some(error) = &stored.folder_error {
        eprintln!("regressions: cannot read the folder {error}");
    }
    for (path, replayed) in &stored.traces {
        match replayed {
            Replayed::StillFailing(failure) => {
                println!("regressions: {}: still failing: {failure}", path.display());
            }
            Replayed::Fixed => println!("regressions: {}: fixed", path.display()),
            Replayed::Error(error) => eprintln!("regressions: {}: {error}", path.display()),
        }
    }
    println!("{stored} (in {})", dir.display());
    stored
}

/// Prints the summary; the exit code (1 when a seed or a stored failure failed).
fn report_summary(
    args: &CampaignArgs,
    summary: &CampaignSummary,
    stored_failing: usize,
) -> ExitCode {
    println!("{summary}");
    print_states(summary);
    let unreached = summary.unreached_states();
    if args.require_states && !unreached.is_empty() {
        println!("--require-states: no seed reached {}", unreached.join(", "));
        return ExitCode::from(EXIT_FAILURE);
    }
    if summary.failures == 0 && stored_failing == 0 {
        return ExitCode::SUCCESS;
    }
    if summary.failures == 0 {
        return ExitCode::from(EXIT_FAILURE);
    }
    println!(
        "failing seeds are in {} (shrunk traces in {})",
        args.findings.display(),
        args.traces_dir().display()
    );
    ExitCode::from(EXIT_FAILURE)
}

/// The state-coverage table: each state the job names, with the seeds that reached it.
fn print_states(summary: &CampaignSummary) {
    if summary.states.is_empty() {
        return;
    }
    let width = summary
        .states
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0);
    println!("states (seeds that reached each, of {}):", summary.seeds);
    for (name, seeds) in &summary.states {
        let mark = if *seeds == 0 { "  never" } else { "" };
        println!("  {name:<width$}  {seeds:>8}{mark}");
    }
}
