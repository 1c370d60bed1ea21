//! A campaign on one static page: `campaign --report DIR` writes `DIR/index.html`.
//!
//! [`CampaignReport`] is fed every [`Finding`] as the campaign records it (or, for
//! `manifest-level-fuzz report`, every finding of a findings file's last campaign) and
//! keeps bounded tallies only ([`tally`]), so its size does not grow with the number of
//! seeds; at most [`FAILURES_SHOWN`] failures are kept whole. [`CampaignReport::write`]
//! renders the page ([`page`]): the summary, ops/s over the run, the configurations the
//! seeds drew and the peak level sizes they reached, the op mix, the state coverage and
//! every failure with its shrunk ops, its replay command and its regression test. The
//! page is one file: the charts ([`plots`], drawn with `plotters`) are inline SVG, with
//! no script, no stylesheet or font to fetch and no server.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

use self::tally::{Log2Histogram, NamedCounts, Throughput};
use super::{Finding, SeedStatus};

mod page;
pub mod plots;
pub mod tally;

/// Each non-blank line of a findings file's `text` with its 0-based number, parsed; a
/// line that is not a finding is an error naming it (1-based).
fn parse_findings(text: &str) -> impl Iterator<Item = (usize, Result<Finding, String>)> + '_ {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| {
            let finding = serde_json::from_str(line)
                .map_err(|error| format!("line {}: not a finding: {error}", number + 1));
            (number, finding)
        })
}

/// The most failures a report shows whole; the rest are counted.
pub const FAILURES_SHOWN: usize = 50;

/// The most configuration fields a report tallies.
const CONFIG_FIELDS_MAX: usize = 32;

/// What a report says about the campaign before its findings: what ran and how.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportHeading {
    /// What was fuzzed: `level` or `segmented-array`.
    pub target: String,
    /// The campaign's first line (its seeds, jobs and base configuration).
    pub description: String,
    /// What replaying the failure database said, if it ran.
    pub stored_failures: Option<String>,
}

/// One failing seed, as the report shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct FailureEntry {
    /// The seed.
    pub seed: u64,
    /// Failed or panicked.
    pub status: SeedStatus,
    /// What failed.
    pub detail: String,
    /// The command that reproduces the seed.
    pub reproduce: String,
    /// The seed's drawn configuration.
    pub config: Option<Value>,
    /// The shrunk record (ops, replay command, regression test), once it arrives.
    pub shrunk: Option<Value>,
}

/// A campaign's findings, tallied for its report (see the [module docs](self)).
#[derive(Clone, Debug, Default)]
pub struct CampaignReport {
    heading: ReportHeading,
    seeds: u64,
    failed: u64,
    panicked: u64,
    ops: u64,
    /// The summary's elapsed time, else the latest seed's finish.
    elapsed_ms: u64,
    summary_seen: bool,
    config_numbers: BTreeMap<String, Log2Histogram>,
    config_names: BTreeMap<String, NamedCounts>,
    peak_tables: Log2Histogram,
    peak_nodes: Log2Histogram,
    op_mix: NamedCounts,
    /// Seeds per state, every state the summary names (in its order) or, before the
    /// summary, every state some seed reached.
    states: Vec<(String, u64)>,
    throughput: Throughput,
    failures: Vec<FailureEntry>,
    failures_omitted: u64,
}

impl CampaignReport {
    /// An empty report under `heading`.
    pub fn new(heading: ReportHeading) -> CampaignReport {
        CampaignReport {
            heading,
            ..CampaignReport::default()
        }
    }

    /// Sets what replaying the failure database said.
    pub fn set_stored_failures(&mut self, line: String) {
        self.heading.stored_failures = Some(line);
    }

    /// Tallies one finding.
    pub fn add(&mut self, finding: &Finding) {
        match finding {
            Finding::Seed { .. } => self.add_seed(finding),
            Finding::Shrunk { seed, result } => {
                // The latest entry of the seed: a file of several killed campaigns may
                // hold it twice.
                let latest = self
                    .failures
                    .iter_mut()
                    .rev()
                    .find(|entry| entry.seed == *seed);
                if let Some(entry) = latest {
                    entry.shrunk = Some(result.clone());
                }
            }
            Finding::Summary {
                elapsed_ms, states, ..
            } => {
                self.summary_seen = true;
                self.elapsed_ms = *elapsed_ms;
                // The summary names every state of the job, reached or not.
                if let Some(states) = states {
                    self.states = states
                        .iter()
                        .map(|(name, seeds)| (name.clone(), *seeds))
                        .collect();
                }
            }
        }
    }

    fn add_seed(&mut self, finding: &Finding) {
        let Finding::Seed {
            seed,
            status,
            ops,
            elapsed_ms,
            detail,
            reproduce,
            config,
            peak_tables,
            peak_nodes,
            states,
            op_mix,
            finished_ms,
        } = finding
        else {
            unreachable!("add_seed takes seed findings");
        };
        self.seeds += 1;
        self.ops = self.ops.saturating_add(*ops);
        if let Some(finished) = finished_ms {
            self.throughput.add(*finished, *elapsed_ms, *ops);
            if !self.summary_seen {
                self.elapsed_ms = self.elapsed_ms.max(*finished);
            }
        }
        peak_tables.inspect(|peak| self.peak_tables.add(*peak));
        peak_nodes.inspect(|peak| self.peak_nodes.add(*peak));
        if let Some(config) = config {
            self.add_config(config);
        }
        for (kind, count) in op_mix.iter().flatten() {
            self.op_mix.add(kind, *count);
        }
        for name in states.iter().flat_map(|states| states.keys()) {
            match self.states.iter_mut().find(|(known, _)| known == name) {
                Some((_, seeds)) => *seeds += 1,
                None => self.states.push((name.clone(), 1)),
            }
        }
        if *status == SeedStatus::Pass {
            return;
        }
        self.add_failure(*seed, *status, detail, reproduce, config);
    }

    fn add_failure(
        &mut self,
        seed: u64,
        status: SeedStatus,
        detail: &Option<String>,
        reproduce: &str,
        config: &Option<Value>,
    ) {
        match status {
            SeedStatus::Panic => self.panicked += 1,
            _ => self.failed += 1,
        }
        if self.failures.len() >= FAILURES_SHOWN {
            self.failures_omitted += 1;
            return;
        }
        self.failures.push(FailureEntry {
            seed,
            status,
            detail: detail.clone().unwrap_or_default(),
            reproduce: reproduce.to_string(),
            config: config.clone(),
            shrunk: None,
        });
    }

    /// Numbers count in power-of-two buckets per field, strings and booleans by value;
    /// anything else (the swarm's weights) is not tallied.
    fn add_config(&mut self, config: &Value) {
        let Some(fields) = config.as_object() else {
            return;
        };
        for (field, value) in fields {
            let known =
                self.config_numbers.contains_key(field) || self.config_names.contains_key(field);
            if !known && self.config_numbers.len() + self.config_names.len() >= CONFIG_FIELDS_MAX {
                continue;
            }
            // `levels` is a count of things, not a size: a table says it better.
            match value {
                Value::Number(number)
                    if field != "levels" && !self.config_names.contains_key(field) =>
                {
                    let number = number.as_u64().unwrap_or(0);
                    self.config_numbers
                        .entry(field.clone())
                        .or_default()
                        .add(number);
                }
                Value::String(_) | Value::Bool(_) | Value::Number(_) => {
                    let name = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_string);
                    self.config_names
                        .entry(field.clone())
                        .or_default()
                        .add(&name, 1);
                }
                _ => {}
            }
        }
    }

    /// Seeds tallied.
    pub fn seeds(&self) -> u64 {
        self.seeds
    }

    /// Seeds that failed or panicked.
    pub fn failures(&self) -> u64 {
        self.failed + self.panicked
    }

    /// The failures shown whole (the first [`FAILURES_SHOWN`]).
    pub fn failure_entries(&self) -> &[FailureEntry] {
        &self.failures
    }

    /// Writes the page to `dir/index.html` (creating `dir`) and returns its path.
    pub fn write(&self, dir: &Path) -> io::Result<PathBuf> {
        fs::create_dir_all(dir)?;
        let path = dir.join("index.html");
        fs::write(&path, self.to_html())?;
        Ok(path)
    }

    /// The report of the last campaign in a findings file's text: the findings after the
    /// one but last summary line (or all, when there is at most one). A line that is not
    /// a finding is an error naming its line number.
    pub fn from_findings(heading: ReportHeading, text: &str) -> Result<CampaignReport, String> {
        // Two passes, so that only the tallies are kept, never the file's findings: the
        // first finds where the last campaign starts, the second tallies it.
        let mut lines = 0;
        let mut summaries = (None, None); // the one but last and the last summary line
        for (number, finding) in parse_findings(text) {
            if matches!(finding?, Finding::Summary { .. }) {
                summaries = (summaries.1, Some(number));
            }
            lines = number + 1;
        }
        let start = match summaries {
            (before, Some(last)) if last + 1 == lines => before.map_or(0, |line| line + 1),
            (_, Some(last)) => last + 1,
            _ => 0,
        };
        let mut report = CampaignReport::new(heading);
        for (number, finding) in parse_findings(text) {
            if number >= start {
                report.add(&finding?);
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(seed: u64, status: SeedStatus, finished_ms: u64) -> Finding {
        Finding::Seed {
            seed,
            status,
            ops: 1_000 * seed,
            elapsed_ms: 500,
            detail: (status != SeedStatus::Pass).then(|| format!("FAILED: <seed {seed}> & co")),
            reproduce: format!("fuzz --seed {seed}"),
            config: Some(serde_json::json!({
                "table_count_max": 1u64 << seed, "key": "u64", "weights": [1, 2]
            })),
            peak_tables: Some(100 * seed),
            peak_nodes: Some(seed),
            states: Some(BTreeMap::from([("node_split".to_string(), seed)])),
            op_mix: Some(BTreeMap::from([("insert_tables".to_string(), 10 * seed)])),
            finished_ms: Some(finished_ms),
        }
    }

    fn campaign(first: u64) -> Vec<Finding> {
        vec![
            seed(first, SeedStatus::Pass, 500),
            seed(first + 1, SeedStatus::Fail, 900),
            Finding::Shrunk {
                seed: first + 1,
                result: serde_json::json!({
                    "ops_before": 2000, "ops_after": 3, "attempts": 40,
                    "ops": [{"op": "take_snapshot"}],
                    "replay": "fuzz --replay t.jsonl",
                    "regression_test": "#[test]\nfn seed_regression() {}",
                }),
            },
            seed(first + 2, SeedStatus::Panic, 1_400),
            Finding::Summary {
                seeds: 3,
                failures: 2,
                ops: 3_000 * first + 3_000,
                elapsed_ms: 2_000,
                states: Some(BTreeMap::from([
                    ("node_split".to_string(), 3),
                    ("never_reached".to_string(), 0),
                ])),
            },
        ]
    }

    #[test]
    fn tallies_every_finding_and_shows_it() {
        let mut report = CampaignReport::new(ReportHeading {
            target: "level".into(),
            description: "campaign: level seeds 1..4".into(),
            stored_failures: Some("replayed 0 stored failures".into()),
        });
        for finding in campaign(1) {
            report.add(&finding);
        }
        assert_eq!((report.seeds(), report.failures()), (3, 2));
        assert_eq!((report.failed, report.panicked, report.ops), (1, 1, 6_000));
        assert_eq!(report.elapsed_ms, 2_000);
        assert_eq!(report.peak_nodes.total(), 3);
        assert_eq!(report.op_mix.bars(), [("insert_tables".to_string(), 60)]);
        assert_eq!(report.config_numbers["table_count_max"].total(), 3);
        assert_eq!(report.config_names["key"].bars(), [("u64".to_string(), 3)]);
        assert!(!report.config_names.contains_key("weights"));
        let failures = report.failure_entries();
        assert_eq!(failures.len(), 2);
        assert!(failures[0].shrunk.is_some() && failures[1].shrunk.is_none());
        let html = report.to_html();
        for id in [
            "summary",
            "throughput",
            "sizes",
            "configurations",
            "op-mix",
            "states",
        ] {
            assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
        }
        assert!(html.contains("<tr class=\"never\"><td>never_reached</td>"));
        assert!(html.contains("1 of 2 states reached"));
        assert!(html.contains("FAILED: &lt;seed 2&gt; &amp; co"));
        assert!(!html.contains("<seed 2>"), "failure text is escaped");
        assert!(html.contains("Shrunk from 2000 ops to 3"));
        assert!(html.contains("fn seed_regression()"));
        assert!(html.contains("fuzz --replay t.jsonl"));
        assert!(html.contains("id=\"seed-3\""));
        assert!(html.contains("replayed 0 stored failures"));
        let charts = html.matches("<svg").count();
        assert_eq!(charts, 5, "ops/s, two peaks, one number field, the op mix");
    }

    #[test]
    fn keeps_a_bounded_number_of_failures() {
        let mut report = CampaignReport::default();
        for index in 0..(FAILURES_SHOWN as u64 + 7) {
            report.add(&seed(index, SeedStatus::Fail, index));
        }
        assert_eq!(report.failure_entries().len(), FAILURES_SHOWN);
        assert_eq!(report.failures(), FAILURES_SHOWN as u64 + 7);
        assert!(report
            .to_html()
            .contains("7 more failures are in the findings file"));
    }

    #[test]
    fn a_findings_file_reports_its_last_campaign() {
        let lines = |findings: Vec<Finding>| -> String {
            findings
                .iter()
                .map(|finding| serde_json::to_string(finding).unwrap() + "\n")
                .collect()
        };
        let two = lines(campaign(1)) + &lines(campaign(10));
        let report = CampaignReport::from_findings(ReportHeading::default(), &two).unwrap();
        assert_eq!(report.seeds(), 3);
        assert_eq!(report.failure_entries()[0].seed, 11);
        // A campaign killed before its summary: its seeds, after the previous summary.
        let killed = lines(campaign(1)) + &lines(campaign(10)[..2].to_vec());
        let report = CampaignReport::from_findings(ReportHeading::default(), &killed).unwrap();
        assert_eq!(report.seeds(), 2);
        assert!(!report.summary_seen);
        assert!(report.to_html().contains("the campaign did not finish"));
        let bad = lines(campaign(1)) + "{\"record\":\"nonsense\"}\n";
        let error = CampaignReport::from_findings(ReportHeading::default(), &bad).unwrap_err();
        assert!(error.starts_with("line 6: not a finding"), "{error}");
    }
}
