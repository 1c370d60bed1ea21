//! Campaigns: many seeds on all cores, every result saved as it finishes.
//!
//! A campaign runs a [`SeedJob`] for a range of seeds (or until a deadline), `jobs` seeds at
//! a time, optionally only one shard of the range (`--shard k/n` splits a range across
//! machines). Each finished seed appends one JSON line to the findings file and flushes it
//! at once, so a killed campaign loses nothing it finished; a failing seed is recorded
//! *before* it is shrunk, and the shrunk result follows as a second line. A panic inside
//! a seed is caught, recorded, and the campaign goes on.
//!
//! The generic part ([`run_campaign`], [`SeedPlan`], [`Shard`], [`Finding`]) knows nothing
//! of the fuzzer; [`FuzzSeedJob`] runs the fuzzer per seed and shrinks failures into
//! traces, and [`run_cli`] is `manifest-level-fuzz campaign` ([`CampaignArgs`]).
//!
//! The findings file, one JSON object per line:
//!
//! ```text
//! {"record":"seed","seed":7,"status":"pass","ops":81234,"elapsed_ms":95,"reproduce":"cargo run ..."}
//! {"record":"seed","seed":8,"status":"fail","ops":12,"elapsed_ms":0,"detail":"FAILED: ...","reproduce":"cargo run ..."}
//! {"record":"shrunk","seed":8,"result":{"signature":{...},"ops_before":200000,"failed_at":11,"ops_after":5,"ops":[...],"attempts":80,"truncated":false,"trace":"...","replay":"cargo run ..."}}
//! {"record":"summary","seeds":1000,"failures":1,"ops":51234567,"elapsed_ms":41512}
//! ```

use core::fmt;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::CommandFactory;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::cli::{Cli, EXIT_FAILURE, EXIT_USAGE};
use crate::level::environment::deep::CheckMode;
use crate::level::ops::{FuzzOp, OpSet};
use crate::level::reduce::{default_shrunk_trace_path, reduce, FailureSignature};
use crate::level::runner::{self, RunConfig, RunFailure};
use crate::support::shrink::ShrinkLimits;
use crate::level::trace::{replay_command, Trace};

/// Which seeds a campaign runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedPlan {
    /// Seeds `start..end` (end exclusive).
    Range {
        /// First seed.
        start: u64,
        /// One past the last seed.
        end: u64,
    },
    /// Seeds `start, start + 1, ...` until `duration` has passed.
    Duration {
        /// First seed.
        start: u64,
        /// How long to keep starting seeds.
        duration: Duration,
    },
}

/// Parses `A..B` (exclusive) or `A..=B` (inclusive) into a [`SeedPlan::Range`].
pub fn parse_seed_range(text: &str) -> Result<SeedPlan, String> {
    let (start, end, inclusive) = if let Some((a, b)) = text.split_once("..=") {
        (a, b, true)
    } else if let Some((a, b)) = text.split_once("..") {
        (a, b, false)
    } else {
        return Err(format!("expected a seed range A..B or A..=B, got {text:?}"));
    };
    let parse = |part: &str| {
        part.trim()
            .parse::<u64>()
            .map_err(|error| format!("bad seed {part:?} in range {text:?}: {error}"))
    };
    let start = parse(start)?;
    let mut end = parse(end)?;
    if inclusive {
        end = end
            .checked_add(1)
            .ok_or_else(|| format!("range {text:?} ends past u64::MAX"))?;
    }
    if start >= end {
        return Err(format!("empty seed range {text:?}"));
    }
    Ok(SeedPlan::Range { start, end })
}

/// Parses a duration such as `90s`, `10m`, `2h` or `1h30m` (a bare number means seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("expected a duration like 30s, 10m or 1h30m, got {text:?}");
    if text.is_empty() {
        return Err(bad());
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for character in text.chars() {
        if let Some(digit) = character.to_digit(10) {
            let value = number.unwrap_or(0);
            number = Some(
                value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(digit)))
                    .ok_or_else(bad)?,
            );
            continue;
        }
        let unit = match character {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let value = number.take().ok_or_else(bad)?;
        total = value
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if number.is_some() || total == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// One shard `index` of `count` (0-based): the i-th seed of the plan belongs to shard
/// `i % count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

impl Shard {
    /// The whole plan.
    pub const ALL: Shard = Shard { index: 0, count: 1 };
}

impl FromStr for Shard {
    type Err = String;

    /// Parses `k/n` with `0 <= k < n`.
    fn from_str(text: &str) -> Result<Shard, String> {
        let bad = || format!("expected a shard k/n with 0 <= k < n, got {text:?}");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: u64 = index.trim().parse().map_err(|_| bad())?;
        let count: u64 = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// How a campaign runs.
#[derive(Clone, Debug)]
pub struct CampaignConfig {
    /// The seeds.
    pub plan: SeedPlan,
    /// Seeds run at once (threads).
    pub jobs: usize,
    /// The part of the plan this process runs.
    pub shard: Shard,
    /// The findings file (JSON lines, appended).
    pub findings: PathBuf,
    /// Whether to draw a progress bar on stderr.
    pub progress: bool,
}

/// What running one seed gave.
#[derive(Clone, Debug, Default)]
pub struct SeedOutcome {
    /// Ops run.
    pub ops: u64,
    /// `None` on success; else what failed.
    pub failure: Option<String>,
    /// The command that reproduces this seed.
    pub reproduce: String,
}

/// The work a campaign does per seed.
pub trait SeedJob: Sync {
    /// Runs one seed. Panics are caught by the campaign and recorded.
    fn run(&self, seed: u64) -> SeedOutcome;

    /// Shrinks a failing seed; the returned JSON is recorded as a `shrunk` line.
    fn shrink(&self, seed: u64, outcome: &SeedOutcome) -> Option<serde_json::Value>;
}

/// How one seed ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedStatus {
    /// Every check held.
    Pass,
    /// A check failed.
    Fail,
    /// The run panicked outside the fuzzer's own checks.
    Panic,
}

/// One line of the findings file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Finding {
    /// A seed finished.
    Seed {
        /// The seed.
        seed: u64,
        /// How it ended.
        status: SeedStatus,
        /// Ops run.
        ops: u64,
        /// Wall time, milliseconds.
        elapsed_ms: u64,
        /// What failed, if anything.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// The command that reproduces it.
        reproduce: String,
    },
    /// A failing seed was shrunk.
    Shrunk {
        /// The seed.
        seed: u64,
        /// What shrinking produced (minimal ops, trace path, ...).
        result: serde_json::Value,
    },
    /// The campaign ended (absent when it was killed).
    Summary {
        /// Seeds run.
        seeds: u64,
        /// Seeds that failed or panicked.
        failures: u64,
        /// Ops run in all.
        ops: u64,
        /// Wall time, milliseconds.
        elapsed_ms: u64,
    },
}

/// Totals of a campaign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CampaignSummary {
    /// Seeds run.
    pub seeds: u64,
    /// Seeds that failed or panicked.
    pub failures: u64,
    /// Ops run in all.
    pub ops: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Appends findings, one flushed line each, shared by the workers.
struct FindingsWriter {
    file: Mutex<File>,
}

impl FindingsWriter {
    fn open(path: &PathBuf) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(FindingsWriter {
            file: Mutex::new(file),
        })
    }

    fn write(&self, finding: &Finding) -> io::Result<()> {
        let mut line = serde_json::to_string(finding).map_err(io::Error::other)?;
        line.push('\n');
        // One write of the whole line to an O_APPEND file: lines never interleave, and a
        // kill between writes loses nothing already written.
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(line.as_bytes())?;
        file.flush()
    }
}

/// The seeds of `plan` for `shard`, as a source workers pull from.
struct SeedSource {
    plan: SeedPlan,
    shard: Shard,
    next: AtomicU64,
    started: Instant,
}

impl SeedSource {
    /// The next seed to run, or `None` when the plan is done.
    fn next(&self) -> Option<u64> {
        let position = self.next.fetch_add(1, Ordering::Relaxed);
        let offset = position
            .checked_mul(self.shard.count)?
            .checked_add(self.shard.index)?;
        match self.plan {
            SeedPlan::Range { start, end } => {
                let seed = start.checked_add(offset)?;
                (seed < end).then_some(seed)
            }
            SeedPlan::Duration { start, duration } => {
                if self.started.elapsed() >= duration {
                    return None;
                }
                Some(start.wrapping_add(offset))
            }
        }
    }

    fn len(&self) -> Option<u64> {
        match self.plan {
            SeedPlan::Range { start, end } => {
                let total = end - start;
                let base = total / self.shard.count;
                Some(base + u64::from(total % self.shard.count > self.shard.index))
            }
            SeedPlan::Duration { .. } => None,
        }
    }
}

/// Runs the campaign and returns its totals. Errors only on I/O with the findings file.
pub fn run_campaign(config: &CampaignConfig, job: &dyn SeedJob) -> io::Result<CampaignSummary> {
    assert!(config.jobs >= 1, "jobs must be at least 1");
    let writer = FindingsWriter::open(&config.findings)?;
    let source = SeedSource {
        plan: config.plan,
        shard: config.shard,
        next: AtomicU64::new(0),
        started: Instant::now(),
    };
    let bar = progress_bar(config, source.len());
    let seeds_done = AtomicU64::new(0);
    let failures = AtomicU64::new(0);
    let ops_total = AtomicU64::new(0);
    let io_error: Mutex<Option<io::Error>> = Mutex::new(None);

    // The panic hook is left alone: the fuzzer's runner catches the level's panics with
    // its own quiet hook (which records their location), and replacing the process's hook
    // here would lose that. A panic escaping a job is caught below and recorded; the
    // default hook prints it too, which is right for what is then a bug of the job.
    let say = |message: String| {
        // A hidden bar (--no-progress, or stderr is not a terminal) prints nothing.
        if bar.is_hidden() {
            eprintln!("{message}");
        } else {
            bar.println(message);
        }
    };

    std::thread::scope(|scope| {
        for _ in 0..config.jobs {
            scope.spawn(|| {
                while let Some(seed) = source.next() {
                    let started = Instant::now();
                    let (status, outcome) = match catch_unwind(AssertUnwindSafe(|| job.run(seed))) {
                        Ok(outcome) if outcome.failure.is_none() => (SeedStatus::Pass, outcome),
                        Ok(outcome) => (SeedStatus::Fail, outcome),
                        Err(payload) => (
                            SeedStatus::Panic,
                            SeedOutcome {
                                ops: 0,
                                failure: Some(panic_message(payload.as_ref())),
                                reproduce: String::new(),
                            },
                        ),
                    };
                    let finding = Finding::Seed {
                        seed,
                        status,
                        ops: outcome.ops,
                        elapsed_ms: started.elapsed().as_millis() as u64,
                        detail: outcome.failure.clone(),
                        reproduce: outcome.reproduce.clone(),
                    };
                    let mut result = writer.write(&finding);
                    if status != SeedStatus::Pass {
                        failures.fetch_add(1, Ordering::Relaxed);
                        say(format!(
                            "seed {seed}: {status:?}: {}",
                            finding_detail(&finding)
                        ));
                        if status == SeedStatus::Fail && result.is_ok() {
                            let shrunk =
                                catch_unwind(AssertUnwindSafe(|| job.shrink(seed, &outcome)));
                            if let Ok(Some(shrunk)) = shrunk {
                                result = writer.write(&Finding::Shrunk {
                                    seed,
                                    result: shrunk,
                                });
                            }
                        }
                    }
                    if let Err(error) = result {
                        *io_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
                        return;
                    }
                    ops_total.fetch_add(outcome.ops, Ordering::Relaxed);
                    let done = seeds_done.fetch_add(1, Ordering::Relaxed) + 1;
                    let elapsed = source.started.elapsed().as_secs_f64().max(1e-9);
                    bar.set_position(done);
                    bar.set_message(format!(
                        "{:.0} ops/s, {} failed",
                        ops_total.load(Ordering::Relaxed) as f64 / elapsed,
                        failures.load(Ordering::Relaxed)
                    ));
                }
            });
        }
    });
    bar.finish_and_clear();
    if let Some(error) = io_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(error);
    }
    let summary = CampaignSummary {
        seeds: seeds_done.into_inner(),
        failures: failures.into_inner(),
        ops: ops_total.into_inner(),
        elapsed: source.started.elapsed(),
    };
    writer.write(&Finding::Summary {
        seeds: summary.seeds,
        failures: summary.failures,
        ops: summary.ops,
        elapsed_ms: summary.elapsed.as_millis() as u64,
    })?;
    Ok(summary)
}

fn finding_detail(finding: &Finding) -> &str {
    match finding {
        Finding::Seed {
            detail: Some(detail),
            ..
        } => detail.lines().next().unwrap_or(""),
        _ => "",
    }
}

fn progress_bar(config: &CampaignConfig, len: Option<u64>) -> ProgressBar {
    if !config.progress {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(len) => ProgressBar::new(len).with_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} seeds, {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{elapsed_precise} {spinner} {pos} seeds, {msg}")
                .expect("valid template"),
        ),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
    bar
}

/// The message of a caught panic.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        format!("panic: {message}")
    } else if let Some(message) = payload.downcast_ref::<String>() {
        format!("panic: {message}")
    } else {
        "panic with a non-string payload".to_string()
    }
}

// ---------------------------------------------------------------------------------------
// The fuzzer's campaigns: `manifest-level-fuzz campaign`.
// ---------------------------------------------------------------------------------------

/// The [`SeedJob`] of `manifest-level-fuzz campaign`: each seed is a fuzzer run of
/// `base` with that seed; a failing one is shrunk ([`reduce`]) and its minimal ops are
/// written as a trace in `traces`.
pub struct FuzzSeedJob {
    /// The configuration every seed runs with (its `seed` is replaced).
    pub base: RunConfig,
    /// Shrinking limits per failing seed; `None` skips shrinking.
    pub shrink: Option<ShrinkLimits>,
    /// The directory shrunk traces go to (created when the first one is written).
    pub traces: PathBuf,
    /// Failures of seeds that are waiting to be shrunk.
    failures: Mutex<HashMap<u64, RunFailure>>,
}

impl FuzzSeedJob {
    /// A job running `base` per seed.
    pub fn new(base: RunConfig, shrink: Option<ShrinkLimits>, traces: PathBuf) -> FuzzSeedJob {
        FuzzSeedJob {
            base: RunConfig {
                log_ops: false,
                ..base
            },
            shrink,
            traces,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The configuration of `seed`.
    pub fn config(&self, seed: u64) -> RunConfig {
        RunConfig {
            seed,
            ..self.base.clone()
        }
    }

    /// The path of `seed`'s shrunk trace.
    pub fn trace_path(&self, seed: u64) -> PathBuf {
        self.traces.join(default_shrunk_trace_path(seed))
    }
}

impl SeedJob for FuzzSeedJob {
    fn run(&self, seed: u64) -> SeedOutcome {
        let config = self.config(seed);
        let reproduce = config.reproduce_command();
        match runner::run(&config) {
            Ok(report) => SeedOutcome {
                ops: report.ops_run as u64,
                failure: None,
                reproduce,
            },
            Err(failure) => {
                let outcome = SeedOutcome {
                    ops: failure.op_index.map_or(0, |index| index as u64 + 1),
                    failure: Some(failure.to_string()),
                    reproduce,
                };
                if self.shrink.is_some() {
                    self.failures
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .insert(seed, failure);
                }
                outcome
            }
        }
    }

    fn shrink(&self, seed: u64, _outcome: &SeedOutcome) -> Option<serde_json::Value> {
        let limits = self.shrink?;
        let failure = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&seed)?;
        let config = self.config(seed);
        let ops = runner::plan(&config).ops;
        let reduced = match reduce(&config, &ops, &failure, limits, |_, _| {}) {
            Ok(reduced) => reduced,
            Err(error) => return Some(serde_json::json!({ "error": error.to_string() })),
        };
        let path = self.trace_path(seed);
        let trace = Trace::new(&reduced.config, reduced.ops.clone())
            .with_failure(Some(reduced.signature.clone()));
        let written = std::fs::create_dir_all(&self.traces)
            .map_err(|error| error.to_string())
            .and_then(|()| trace.write(&path).map_err(|error| error.to_string()));
        let record = ShrunkRecord {
            signature: reduced.signature.clone(),
            ops_before: reduced.original_len,
            failed_at: reduced.failed_at,
            ops_after: reduced.ops.len(),
            ops: reduced.ops.clone(),
            attempts: reduced.attempts,
            truncated: reduced.truncated,
            trace: written.as_ref().ok().map(|()| path.display().to_string()),
            trace_error: written.err(),
            replay: replay_command(&reduced.config, &path),
        };
        Some(serde_json::to_value(record).expect("a shrunk record serializes"))
    }
}

/// What [`FuzzSeedJob`] records for a shrunk seed (the `result` of a `shrunk` finding).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShrunkRecord {
    /// The failure every shrinking step kept.
    pub signature: FailureSignature,
    /// The seed's op count.
    pub ops_before: usize,
    /// The index of the op the seed failed at.
    pub failed_at: usize,
    /// The minimal sequence's op count.
    pub ops_after: usize,
    /// The minimal sequence.
    pub ops: Vec<FuzzOp>,
    /// Runs made while shrinking.
    pub attempts: usize,
    /// Whether a limit stopped shrinking early.
    pub truncated: bool,
    /// The shrunk trace's path, if it was written.
    pub trace: Option<String>,
    /// Why the trace could not be written, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_error: Option<String>,
    /// The command that replays the shrunk trace.
    pub replay: String,
}

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
    #[arg(long, value_name = "BYTES", default_value_t = runner::NODE_SIZE_DEFAULT)]
    pub node_size: usize,

    /// What to check after every op: `deep` (the default in campaigns: the whole level
    /// against the model) or `faithful` (the seed's checks only).
    #[arg(long, value_enum, value_name = "MODE", default_value_t = CheckMode::Deep)]
    pub check: CheckMode,

    /// Which ops to draw: `extended` (the default in campaigns: every public method) or
    /// `faithful` (the seed's five).
    #[arg(long = "ops", value_enum, value_name = "SET", default_value_t = OpSet::Extended)]
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
    #[arg(long, value_name = "NAME", value_parser = runner::parse_fault)]
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

/// `campaign: 1000 seeds, 0 failed, 51234567 ops, 1234567 ops/s, 41.5s`.
impl fmt::Display for CampaignSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.elapsed.as_secs_f64();
        write!(
            f,
            "campaign: {} seeds, {} failed, {} ops, {:.0} ops/s, {:.1}s",
            self.seeds,
            self.failures,
            self.ops,
            self.ops as f64 / seconds.max(1e-9),
            seconds
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges() {
        assert_eq!(
            parse_seed_range("3..7"),
            Ok(SeedPlan::Range { start: 3, end: 7 })
        );
        assert_eq!(
            parse_seed_range("3..=7"),
            Ok(SeedPlan::Range { start: 3, end: 8 })
        );
        for bad in [
            "7..3",
            "3..3",
            "x..4",
            "3-7",
            "",
            "1..=18446744073709551615",
        ] {
            assert!(parse_seed_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        for bad in ["", "m", "10x", "5m3", "0s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_shards() {
        assert_eq!("1/4".parse::<Shard>(), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1/0", "a/2", "1", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_partition_the_range() {
        let plan = SeedPlan::Range { start: 10, end: 33 };
        let mut all = Vec::new();
        for index in 0..4 {
            let source = SeedSource {
                plan,
                shard: Shard { index, count: 4 },
                next: AtomicU64::new(0),
                started: Instant::now(),
            };
            let seeds: Vec<u64> = std::iter::from_fn(|| source.next()).collect();
            assert_eq!(seeds.len() as u64, source.len().unwrap());
            all.extend(seeds);
        }
        all.sort_unstable();
        assert_eq!(all, (10..33).collect::<Vec<_>>());
    }

    struct Toy;
    impl SeedJob for Toy {
        fn run(&self, seed: u64) -> SeedOutcome {
            if seed == 5 {
                panic!("boom at five");
            }
            SeedOutcome {
                ops: seed,
                failure: (seed % 3 == 0).then(|| format!("seed {seed} divisible by 3")),
                reproduce: format!("toy --seed {seed}"),
            }
        }
        fn shrink(&self, seed: u64, _: &SeedOutcome) -> Option<serde_json::Value> {
            Some(serde_json::json!({ "ops": [seed] }))
        }
    }

    #[test]
    fn records_every_seed_failure_panic_and_shrink() {
        let path = std::env::temp_dir().join(format!("campaign-test-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let config = CampaignConfig {
            plan: SeedPlan::Range { start: 1, end: 11 },
            jobs: 3,
            shard: Shard::ALL,
            findings: path.clone(),
            progress: false,
        };
        let summary = run_campaign(&config, &Toy).unwrap();
        assert_eq!(summary.seeds, 10);
        // 3, 6, 9 fail; 5 panics.
        assert_eq!(summary.failures, 4);
        let text = std::fs::read_to_string(&path).unwrap();
        let findings: Vec<Finding> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let seeds: Vec<_> = findings
            .iter()
            .filter_map(|f| match f {
                Finding::Seed { seed, status, .. } => Some((*seed, *status)),
                _ => None,
            })
            .collect();
        assert_eq!(seeds.len(), 10);
        assert!(seeds.contains(&(5, SeedStatus::Panic)));
        assert!(seeds.contains(&(6, SeedStatus::Fail)));
        assert!(seeds.contains(&(7, SeedStatus::Pass)));
        let shrunk = findings
            .iter()
            .filter(|f| matches!(f, Finding::Shrunk { .. }))
            .count();
        assert_eq!(shrunk, 3);
        assert!(matches!(
            findings.last(),
            Some(Finding::Summary {
                seeds: 10,
                failures: 4,
                ..
            })
        ));
        // A seed's record comes before its shrunk record.
        for (i, finding) in findings.iter().enumerate() {
            if let Finding::Shrunk { seed, .. } = finding {
                assert!(findings[..i]
                    .iter()
                    .any(|f| matches!(f, Finding::Seed { seed: s, .. } if s == seed)));
            }
        }
        std::fs::remove_file(&path).unwrap();
    }
}
