//! Campaigns: many seeds on all cores, every result saved as it finishes.
//!
//! A campaign runs a [`SeedJob`] for a range of seeds (or until a deadline), `jobs` seeds at
//! a time, optionally only one shard of the range (`--shard k/n` splits a range across
//! machines). Each finished seed appends one JSON line to the findings file and flushes it
//! at once, so a killed campaign loses nothing it finished; a failing seed is recorded
//! *before* it is shrunk, and the shrunk result follows as a second line. A panic inside
//! a seed is caught, recorded, and the campaign goes on.

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
        let mut file = self.file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
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
        let offset = position.checked_mul(self.shard.count)?.checked_add(self.shard.index)?;
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

    // Panics are expected and recorded; keep their default report off the progress bar.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));

    std::thread::scope(|scope| {
        for _ in 0..config.jobs {
            scope.spawn(|| {
                while let Some(seed) = source.next() {
                    let started = Instant::now();
                    let (status, outcome) = match catch_unwind(AssertUnwindSafe(|| job.run(seed)))
                    {
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
                        bar.println(format!("seed {seed}: {status:?}: {}", finding_detail(&finding)));
                        if status == SeedStatus::Fail && result.is_ok() {
                            let shrunk = catch_unwind(AssertUnwindSafe(|| job.shrink(seed, &outcome)));
                            if let Ok(Some(shrunk)) = shrunk {
                                result = writer.write(&Finding::Shrunk { seed, result: shrunk });
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
    std::panic::set_hook(previous_hook);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges() {
        assert_eq!(parse_seed_range("3..7"), Ok(SeedPlan::Range { start: 3, end: 7 }));
        assert_eq!(parse_seed_range("3..=7"), Ok(SeedPlan::Range { start: 3, end: 8 }));
        for bad in ["7..3", "3..3", "x..4", "3-7", "", "1..=18446744073709551615"] {
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
        let findings: Vec<Finding> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
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
        let shrunk = findings.iter().filter(|f| matches!(f, Finding::Shrunk { .. })).count();
        assert_eq!(shrunk, 3);
        assert!(matches!(findings.last(), Some(Finding::Summary { seeds: 10, failures: 4, .. })));
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
