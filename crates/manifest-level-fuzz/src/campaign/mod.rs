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
//! of the fuzzers; [`level_job::FuzzSeedJob`] runs the level fuzzer per seed and
//! [`segmented_array_job::SegmentedArraySeedJob`] the segmented-array fuzzer, each
//! shrinking failures into traces. [`report`] tallies the findings into a static page.
//!
//! The findings file, one JSON object per line:
//!
//! ```text
//! {"record":"seed","seed":7,"status":"pass","ops":81234,"elapsed_ms":95,"reproduce":"cargo run ...","config":{...},"peak_tables":412,"peak_nodes":31,"states":{...},"op_mix":{"insert_tables":20311,...},"finished_ms":1203}
//! {"record":"seed","seed":8,"status":"fail","ops":12,"elapsed_ms":0,"detail":"FAILED: ...","reproduce":"cargo run ..."}
//! {"record":"shrunk","seed":8,"result":{"signature":{...},"ops_before":200000,"failed_at":11,"ops_after":5,"ops":[...],"attempts":80,"truncated":false,"trace":"...","replay":"cargo run ..."}}
//! {"record":"summary","seeds":1000,"failures":1,"ops":51234567,"elapsed_ms":41512}
//! ```

use core::fmt;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

pub mod level_job;
pub mod mixed_job;
pub mod regressions;
pub mod report;
pub mod segmented_array_job;
mod states;

use self::states::StateTally;
use crate::support::panic::panic_message;
use crate::support::seed::SeedPlan;

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
    /// What the seed ran with, when the job draws it per seed (the level's shape).
    pub config: Option<serde_json::Value>,
    /// The most tables and nodes the seed's level held, when the job knows them.
    pub peaks: Option<Peaks>,
    /// The states the seed reached, by name ([`SeedJob::state_names`]), with counts.
    pub states: Option<BTreeMap<String, u64>>,
    /// Ops run per kind, by the kind's name, when the job counts them.
    pub op_mix: Option<BTreeMap<String, u64>>,
}

/// The most tables and nodes a seed's level held at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Peaks {
    /// Tables.
    pub tables: u64,
    /// Nodes.
    pub nodes: u64,
}

/// The work a campaign does per seed.
pub trait SeedJob: Sync {
    /// Runs one seed. Panics are caught by the campaign and recorded.
    fn run(&self, seed: u64) -> SeedOutcome;

    /// Shrinks a failing seed; the returned JSON is recorded as a `shrunk` line.
    fn shrink(&self, seed: u64, outcome: &SeedOutcome) -> Option<serde_json::Value>;

    /// The states its seeds count ([`SeedOutcome::states`]); the summary says how many
    /// seeds reached each. None by default.
    fn state_names(&self) -> &'static [&'static str] {
        &[]
    }
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
        /// The configuration the seed drew (level: `table_count_max`, `node_size`,
        /// `insert_count_max`, `growth_tables`, `key`, `levels`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        config: Option<serde_json::Value>,
        /// The most tables its level held.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peak_tables: Option<u64>,
        /// The most nodes its level held.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peak_nodes: Option<u64>,
        /// The states it reached, with counts (only the reached ones).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        states: Option<BTreeMap<String, u64>>,
        /// Ops run per kind (only the kinds that ran).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        op_mix: Option<BTreeMap<String, u64>>,
        /// When it finished, in milliseconds since the campaign started.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        finished_ms: Option<u64>,
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
        /// Every state the job names, with the seeds that reached it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        states: Option<BTreeMap<String, u64>>,
    },
}

/// Totals of a campaign.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CampaignSummary {
    /// Seeds run.
    pub seeds: u64,
    /// Seeds that failed or panicked.
    pub failures: u64,
    /// Ops run in all.
    pub ops: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Every state the job names, with the seeds that reached it, in the job's order.
    pub states: Vec<(&'static str, u64)>,
}

impl CampaignSummary {
    /// The named states no seed reached.
    pub fn unreached_states(&self) -> Vec<&'static str> {
        self.states
            .iter()
            .filter(|(_, seeds)| *seeds == 0)
            .map(|(name, _)| *name)
            .collect()
    }
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
    run_campaign_observed(config, job, &|_| {})
}

/// [`run_campaign`], also handing `observer` every finding once it is written (from the
/// worker threads, one at a time per thread): a report ([`report::CampaignReport`]) is
/// built this way while the campaign runs.
pub fn run_campaign_observed(
    config: &CampaignConfig,
    job: &dyn SeedJob,
    observer: &(dyn Fn(&Finding) + Sync),
) -> io::Result<CampaignSummary> {
    assert!(config.jobs >= 1, "jobs must be at least 1");
    let source = SeedSource {
        plan: config.plan,
        shard: config.shard,
        next: AtomicU64::new(0),
        started: Instant::now(),
    };
    let workers = Workers {
        job,
        writer: FindingsWriter::open(&config.findings)?,
        observer,
        bar: progress_bar(config, source.len()),
        source,
        seeds_done: AtomicU64::new(0),
        failures: AtomicU64::new(0),
        ops_total: AtomicU64::new(0),
        states: StateTally::new(job.state_names()),
        io_error: Mutex::new(None),
    };
    // The panic hook is left alone: the fuzzers catch the code under test's panics with
    // `support::panic` (which records their location), and replacing the process's hook
    // here would lose that. A panic escaping a job is caught in `Workers::outcome` and
    // recorded; the default hook prints it too, which is right for what is then a bug of
    // the job.
    std::thread::scope(|scope| {
        for _ in 0..config.jobs {
            scope.spawn(|| workers.work());
        }
    });
    workers.finish()
}

/// What the worker threads of one campaign share.
struct Workers<'a> {
    job: &'a dyn SeedJob,
    writer: FindingsWriter,
    observer: &'a (dyn Fn(&Finding) + Sync),
    bar: ProgressBar,
    source: SeedSource,
    seeds_done: AtomicU64,
    failures: AtomicU64,
    ops_total: AtomicU64,
    states: StateTally,
    /// The first I/O error with the findings file: every worker stops at it.
    io_error: Mutex<Option<io::Error>>,
}

impl Workers<'_> {
    /// One worker: runs seeds until the plan is done or the findings file fails.
    fn work(&self) {
        while let Some(seed) = self.source.next() {
            if self.stopped() {
                return;
            }
            if let Err(error) = self.run_seed(seed) {
                *self.io_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
                return;
            }
        }
    }

    fn stopped(&self) -> bool {
        self.io_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Runs one seed, records it (and its shrunk form when it fails), and advances the
    /// progress bar.
    fn run_seed(&self, seed: u64) -> io::Result<()> {
        let started = Instant::now();
        let (status, outcome) = self.outcome(seed);
        let finding = Finding::Seed {
            seed,
            status,
            ops: outcome.ops,
            elapsed_ms: started.elapsed().as_millis() as u64,
            detail: outcome.failure.clone(),
            reproduce: outcome.reproduce.clone(),
            config: outcome.config.clone(),
            peak_tables: outcome.peaks.map(|peaks| peaks.tables),
            peak_nodes: outcome.peaks.map(|peaks| peaks.nodes),
            states: outcome.states.clone(),
            op_mix: outcome.op_mix.clone(),
            finished_ms: Some(self.source.started.elapsed().as_millis() as u64),
        };
        if let Some(states) = &outcome.states {
            self.states.add(states);
        }
        self.record(&finding)?;
        if status != SeedStatus::Pass {
            self.failures.fetch_add(1, Ordering::Relaxed);
            self.say(format!(
                "seed {seed}: {status:?}: {}",
                finding_detail(&finding)
            ));
        }
        if status == SeedStatus::Fail {
            self.record_shrunk(seed, &outcome)?;
        }
        self.ops_total.fetch_add(outcome.ops, Ordering::Relaxed);
        self.progress();
        Ok(())
    }

    /// The job's outcome for `seed`, with a panic escaping the job caught.
    fn outcome(&self, seed: u64) -> (SeedStatus, SeedOutcome) {
        match catch_unwind(AssertUnwindSafe(|| self.job.run(seed))) {
            Ok(outcome) if outcome.failure.is_none() => (SeedStatus::Pass, outcome),
            Ok(outcome) => (SeedStatus::Fail, outcome),
            Err(payload) => (
                SeedStatus::Panic,
                SeedOutcome {
                    failure: Some(panic_message(payload.as_ref())),
                    ..SeedOutcome::default()
                },
            ),
        }
    }

    /// Shrinks a failing seed and records the result (a panic while shrinking records
    /// nothing more: the seed's own record is already written).
    fn record_shrunk(&self, seed: u64, outcome: &SeedOutcome) -> io::Result<()> {
        let shrunk = catch_unwind(AssertUnwindSafe(|| self.job.shrink(seed, outcome)));
        match shrunk {
            Ok(Some(result)) => self.record(&Finding::Shrunk { seed, result }),
            Ok(None) | Err(_) => Ok(()),
        }
    }

    /// Writes `finding` to the findings file, then shows it to the observer.
    fn record(&self, finding: &Finding) -> io::Result<()> {
        self.writer.write(finding)?;
        (self.observer)(finding);
        Ok(())
    }

    /// A line above the progress bar (or on stderr when there is none).
    fn say(&self, message: String) {
        // A hidden bar (--no-progress, or stderr is not a terminal) prints nothing.
        if self.bar.is_hidden() {
            eprintln!("{message}");
        } else {
            self.bar.println(message);
        }
    }

    fn progress(&self) {
        let done = self.seeds_done.fetch_add(1, Ordering::Relaxed) + 1;
        let elapsed = self.source.started.elapsed().as_secs_f64().max(1e-9);
        self.bar.set_position(done);
        let (reached, named) = self.states.reached();
        let states = if named == 0 {
            String::new()
        } else {
            format!(", states {reached}/{named}")
        };
        self.bar.set_message(format!(
            "{:.0} ops/s, {} failed{states}",
            self.ops_total.load(Ordering::Relaxed) as f64 / elapsed,
            self.failures.load(Ordering::Relaxed)
        ));
    }

    /// The campaign's totals, recorded as the summary line.
    fn finish(self) -> io::Result<CampaignSummary> {
        self.bar.finish_and_clear();
        if let Some(error) = self
            .io_error
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
        {
            return Err(error);
        }
        let summary = CampaignSummary {
            seeds: self.seeds_done.into_inner(),
            failures: self.failures.into_inner(),
            ops: self.ops_total.into_inner(),
            elapsed: self.source.started.elapsed(),
            states: self.states.finish(),
        };
        let states = (!summary.states.is_empty()).then(|| {
            summary
                .states
                .iter()
                .map(|(name, seeds)| (name.to_string(), *seeds))
                .collect()
        });
        let finding = Finding::Summary {
            seeds: summary.seeds,
            failures: summary.failures,
            ops: summary.ops,
            elapsed_ms: summary.elapsed.as_millis() as u64,
            states,
        };
        // `record`, on what is left of `self` (its state tally is spent).
        self.writer.write(&finding)?;
        (self.observer)(&finding);
        Ok(summary)
    }
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
            // Two states: "even" on even seeds, "big" on none.
            let states = BTreeMap::from([("even".to_string(), (seed + 1) % 2)]);
            SeedOutcome {
                ops: seed,
                failure: (seed % 3 == 0).then(|| format!("seed {seed} divisible by 3")),
                reproduce: format!("toy --seed {seed}"),
                peaks: Some(Peaks {
                    tables: seed,
                    nodes: 1,
                }),
                states: Some(states),
                ..SeedOutcome::default()
            }
        }
        fn state_names(&self) -> &'static [&'static str] {
            &["even", "big"]
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
        // Even seeds 2, 4, 6, 8, 10 reached "even" (the panicking 5 records nothing).
        assert_eq!(summary.states, [("even", 5), ("big", 0)]);
        assert_eq!(summary.unreached_states(), ["big"]);
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
                states: Some(states),
                ..
            }) if states == &BTreeMap::from([("even".into(), 5), ("big".into(), 0)])
        ));
        assert!(findings.iter().any(|f| matches!(
            f,
            Finding::Seed {
                seed: 7,
                peak_tables: Some(7),
                peak_nodes: Some(1),
                ..
            }
        )));
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
