//! Running the fuzzer (docs/SEMANTICS.md §4.1): seed → ops → environment → report.
//!
//! A run is fully determined by its [`RunConfig`]: the seed gives the op count, the ops
//! and the contents of every table. Generation and execution are separate steps:
//! [`plan`] turns a config into its op list (no level involved), [`run_ops`] executes any
//! op list, and [`run`] is the two together. An explicit op list (a recorded trace, a
//! shrunk reproducer) runs through [`run_ops`] with the same config, so its tables get
//! the same contents as in the seed's own run as long as the ops before are the same.
//!
//! Failures are values, not panics: a failed check or a panic inside the level (an
//! assertion of the library) comes back as a [`RunFailure`] naming the op index, the op,
//! and the exact command that reproduces it.

// A `RunFailure` carries its whole config so it can print the reproducing command; it is
// built at most once per run, on the cold path, so its size does not matter.
#![allow(clippy::result_large_err)]

use core::fmt;
use std::time::{Duration, Instant};

#[cfg(feature = "fault-injection")]
use manifest_level::Fault;
use manifest_level::{NodePool, NODE_ALIGN, NODE_COUNT_MAX, NODE_SIZE_MAX};
use serde::{Deserialize, Serialize};

use crate::level::configuration::{self, Configuration, ConfigurationOverrides};
use crate::level::environment::ballast::Ballast;
use crate::level::environment::deep::{CheckMode, DeepChecker, DeepStats};
use crate::level::environment::{CheckFailure, Environment};
use crate::level::generate::{generate_more, GenerateContext, InvalidOp, Params, INSERT_COUNT_MAX};
use crate::level::key::{FuzzKey, KeyWidth};
use crate::level::ops::{FuzzOp, OpCounts, OpSet, Weights};
use crate::level::states::StateCounts;
use crate::support::panic::catch_panic;
use crate::support::prng::Prng;

/// The op count cap when none is given (docs/SEMANTICS.md §4.1).
pub const EVENTS_MAX_DEFAULT: u64 = 200_000;

/// The mean of the exponential op-count draw (docs/SEMANTICS.md §4.1).
pub const OP_COUNT_MEAN: u64 = 100_000;

/// The seed's node size, in bytes.
pub const NODE_SIZE_DEFAULT: usize = 1024;

/// The largest `table_count_max` a run accepts (16 times a level of a 7-level tree
/// with growth factor 8), which keeps the node pool around 1 GiB at most.
pub const TABLE_COUNT_MAX_LIMIT: u32 = 1 << 22;

/// The seed `--smoke` runs.
pub const SMOKE_SEED: u64 = 42;

/// The op cap `--smoke` runs with.
pub const SMOKE_EVENTS_MAX: u64 = 5_000;

/// Everything that determines a run.
///
/// Serializes with `serde` (a trace's header carries the whole config, so a replay runs
/// with exactly the recorded parameters). Unknown fields are rejected, so a trace written
/// by a newer fuzzer with settings this one does not know fails loudly instead of
/// replaying differently; a field added later should be `#[serde(default)]` so older
/// traces still load. `fault` is written by name, as `--inject-fault` takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// The seed every random choice derives from.
    pub seed: u64,
    /// Cap on the op count ([`EVENTS_MAX_DEFAULT`] when `None`).
    pub events_max: Option<u64>,
    /// The level's capacity, and the generator's table limit.
    pub table_count_max: u32,
    /// Node size of the node pool, in bytes.
    pub node_size: usize,
    /// The op weights ([`Weights::SEED`] in the faithful mode, [`Weights::EXTENDED`] for
    /// the extended op set; ignored when `swarm` is on).
    pub weights: Weights,
    /// What to check after every op (`--check`): the seed's checks, or those and the deep
    /// checks of [`crate::level::environment::deep`]. Does not change the ops or the tables.
    #[serde(default, skip_serializing_if = "is_default")]
    pub check: CheckMode,
    /// Which ops the run may contain (`--ops`): the seed's five, or the extended set of
    /// [`crate::level::environment::extended`] (which also needs `weights` for its kinds: see
    /// [`RunConfig::with_ops`]).
    #[serde(default, skip_serializing_if = "is_default")]
    pub ops: OpSet,
    /// Swarm testing (`--swarm`): the weights are drawn from the seed (see
    /// [`crate::level::swarm`]) instead of taken from `weights`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub swarm: bool,
    /// The most tables one insert op generates ([`INSERT_COUNT_MAX`] in the seed; a
    /// swarm run draws it, up to [`crate::level::configuration::INSERT_COUNT_MAX_DRAWN`]).
    #[serde(
        default = "insert_count_max_default",
        skip_serializing_if = "is_insert_count_max_default"
    )]
    pub insert_count_max: u32,
    /// The growth phase's target ([`Params::growth_tables`]): removals wait until the
    /// level first holds this many tables. 0 (the seed): no growth phase.
    #[serde(default, skip_serializing_if = "is_default")]
    pub growth_tables: u32,
    /// The level's key type (`--key`; a swarm run draws it): `u64`, the seed's, or
    /// `u128`, into which the model's keys embed ([`crate::level::key`]). Does not change
    /// the ops or the model's tables.
    #[serde(default, skip_serializing_if = "is_default")]
    pub key: KeyWidth,
    /// The share of the node pool, in percent, a ballast array holds back from the
    /// levels (`--ballast-percent`; a swarm run draws it), so inserts meet an exhausted
    /// pool ([`crate::level::environment::ballast`]). 0, the seed's: none. Extended op
    /// set only.
    #[serde(default, skip_serializing_if = "is_default")]
    pub ballast_percent: u8,
    /// Whether a third level C shares the node pool with levels A and B (`--levels 3`; a
    /// swarm run draws it): level B's inserts and removals then go to B or C, and the
    /// least-overlap op also asks B about C. Extended op set only.
    #[serde(default, skip_serializing_if = "is_default")]
    pub third_level: bool,
    /// Whether to log every op to stderr before executing it (`-v`). Not part of a
    /// trace: logging does not change a run.
    #[serde(skip)]
    pub log_ops: bool,
    /// A deliberate bug to plant in the level (tests and demos only).
    #[cfg(feature = "fault-injection")]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "fault_by_name"
    )]
    pub fault: Option<Fault>,
    /// Tests only: seed the table contents from the OS clock, so two runs of the same seed
    /// differ (for the determinism check's own test). Never part of a trace.
    #[cfg(feature = "fault-injection")]
    #[serde(skip)]
    pub plant_nondeterminism: bool,
}

impl RunConfig {
    /// The seed's configuration for `seed`: 1024 tables, 1024-byte nodes, weights
    /// 8/5/3/3/3, at most 200,000 ops.
    pub fn new(seed: u64) -> RunConfig {
        RunConfig {
            seed,
            events_max: None,
            table_count_max: Params::default().table_count_max,
            node_size: NODE_SIZE_DEFAULT,
            weights: Weights::SEED,
            check: CheckMode::Faithful,
            ops: OpSet::Faithful,
            swarm: false,
            insert_count_max: INSERT_COUNT_MAX,
            growth_tables: 0,
            key: KeyWidth::U64,
            ballast_percent: 0,
            third_level: false,
            log_ops: false,
            #[cfg(feature = "fault-injection")]
            fault: None,
            #[cfg(feature = "fault-injection")]
            plant_nondeterminism: false,
        }
    }

    /// A campaign's configuration for `seed`: the extended op set with deep checks.
    pub fn deep(seed: u64) -> RunConfig {
        RunConfig {
            check: CheckMode::Deep,
            ..RunConfig::new(seed).with_ops(OpSet::Extended)
        }
    }

    /// The same configuration with op set `ops` and its default weights
    /// ([`OpSet::default_weights`]).
    #[must_use]
    pub fn with_ops(self, ops: OpSet) -> RunConfig {
        RunConfig {
            ops,
            weights: ops.default_weights(),
            ..self
        }
    }

    /// The weights the run draws with: `weights`, or with `swarm` the seed's own
    /// (see [`crate::level::swarm`]).
    pub fn effective_weights(&self) -> Weights {
        if self.swarm {
            crate::level::swarm::swarm_weights(&mut streams(self.seed).swarm, self.ops)
        } else {
            self.weights
        }
    }

    /// With `swarm` on, the configuration with the seed's drawn level shape (capacity,
    /// node size, insert count, growth target, key type; see
    /// [`crate::level::configuration`]),
    /// `overrides` in place of their draws; without `swarm`, the configuration as it is.
    #[must_use]
    pub fn with_drawn_configuration(self, overrides: ConfigurationOverrides) -> RunConfig {
        if !self.swarm {
            return self;
        }
        let drawn = configuration::draw(&mut streams(self.seed).configuration, overrides);
        RunConfig {
            table_count_max: drawn.table_count_max,
            node_size: drawn.node_size,
            insert_count_max: drawn.insert_count_max,
            growth_tables: drawn.growth_tables,
            key: drawn.key,
            // Ballast needs the extended op set: a drawn one goes to those runs only.
            ballast_percent: if self.ops == OpSet::Extended || overrides.ballast_percent.is_some() {
                drawn.ballast_percent
            } else {
                0
            },
            third_level: (self.ops == OpSet::Extended || overrides.third_level.is_some())
                && drawn.third_level,
            ..self
        }
    }

    /// The configuration with the values `overrides` gives in place of its own, then
    /// (with `swarm`) the seed's draws for the others ([`RunConfig::with_drawn_configuration`]).
    #[must_use]
    pub fn with_shape(self, overrides: ConfigurationOverrides) -> RunConfig {
        RunConfig {
            table_count_max: overrides.table_count_max.unwrap_or(self.table_count_max),
            node_size: overrides.node_size.unwrap_or(self.node_size),
            insert_count_max: overrides.insert_count_max.unwrap_or(self.insert_count_max),
            growth_tables: overrides.growth_tables.unwrap_or(self.growth_tables),
            key: overrides.key.unwrap_or(self.key),
            ballast_percent: overrides.ballast_percent.unwrap_or(self.ballast_percent),
            third_level: overrides.third_level.unwrap_or(self.third_level),
            ..self
        }
        .with_drawn_configuration(overrides)
    }

    /// The level shape of this configuration.
    pub fn configuration(&self) -> Configuration {
        Configuration {
            table_count_max: self.table_count_max,
            node_size: self.node_size,
            insert_count_max: self.insert_count_max,
            growth_tables: self.growth_tables,
            key: self.key,
            ballast_percent: self.ballast_percent,
            third_level: self.third_level,
        }
    }

    /// The levels sharing the node pool: A alone in the faithful op set, A and B in the
    /// extended one, and C too with [`RunConfig::third_level`].
    pub fn levels(&self) -> u8 {
        match self.ops {
            OpSet::Faithful => 1,
            OpSet::Extended => 2 + u8::from(self.third_level),
        }
    }

    /// The `--smoke` configuration: [`SMOKE_SEED`], at most [`SMOKE_EVENTS_MAX`] ops.
    pub fn smoke() -> RunConfig {
        RunConfig {
            events_max: Some(SMOKE_EVENTS_MAX),
            ..RunConfig::new(SMOKE_SEED)
        }
    }

    /// The generation parameters.
    pub fn params(&self) -> Params {
        Params {
            table_count_max: self.table_count_max,
            insert_count_max: self.insert_count_max,
            growth_tables: self.growth_tables,
            third_level: self.third_level,
        }
    }

    /// The pool nodes a run needs, after checking the parameters fit together.
    pub fn validate(&self) -> Result<u32, ConfigError> {
        if self.table_count_max == 0 || self.table_count_max > TABLE_COUNT_MAX_LIMIT {
            return Err(ConfigError(format!(
                "table count max {} out of range 1..={TABLE_COUNT_MAX_LIMIT}",
                self.table_count_max
            )));
        }
        self.validate_growth()?;
        if self.node_size == 0 || self.node_size % NODE_ALIGN != 0 || self.node_size > NODE_SIZE_MAX
        {
            return Err(ConfigError(format!(
                "node size {} must be a positive multiple of {NODE_ALIGN}, at most {NODE_SIZE_MAX}",
                self.node_size
            )));
        }
        let (nodes, table_size) = match self.key {
            KeyWidth::U64 => self.nodes_needed::<u64>(),
            KeyWidth::U128 => self.nodes_needed::<u128>(),
        };
        let nodes = nodes.map_err(|_| {
            ConfigError(format!(
                "node size {} is too small: a node must hold at least 2 tables of {table_size} bytes",
                self.node_size,
            ))
        })?;
        if nodes > NODE_COUNT_MAX {
            return Err(ConfigError(format!(
                "{nodes} nodes of {} bytes needed for {} tables; at most {NODE_COUNT_MAX}",
                self.node_size, self.table_count_max
            )));
        }
        if !self.weights.is_valid() {
            return Err(ConfigError(format!(
                "op weights must have a positive sum that fits a u64: {}",
                self.weights
            )));
        }
        if self.ops == OpSet::Faithful && self.weights.has_extended() {
            return Err(ConfigError(format!(
                "weights for extended ops need the extended op set (--ops extended): {}",
                self.weights
            )));
        }
        Ok(nodes)
    }

    /// The pool nodes a run with keys `K` needs, and the size of one of its tables.
    fn nodes_needed<K: FuzzKey>(&self) -> (Result<u32, manifest_level::Error>, usize) {
        let nodes = Environment::<K>::nodes_needed_for(self.node_size, &self.params(), self.ops);
        (nodes, size_of::<manifest_level::TableInfo<K>>())
    }

    /// `insert_count_max` is positive and `growth_tables` at most the capacity.
    fn validate_growth(&self) -> Result<(), ConfigError> {
        if self.insert_count_max == 0
            || self.insert_count_max > self.table_count_max.max(INSERT_COUNT_MAX)
        {
            return Err(ConfigError(format!(
                "insert count max {} out of range 1..={}",
                self.insert_count_max,
                self.table_count_max.max(INSERT_COUNT_MAX)
            )));
        }
        if self.growth_tables > self.table_count_max {
            return Err(ConfigError(format!(
                "growth target {} is over the table count max {}",
                self.growth_tables, self.table_count_max
            )));
        }
        if self.ballast_percent > BALLAST_PERCENT_MAX {
            return Err(ConfigError(format!(
                "ballast percent {} out of range 0..={BALLAST_PERCENT_MAX}",
                self.ballast_percent
            )));
        }
        if self.ballast_percent > 0 && self.ops != OpSet::Extended {
            return Err(ConfigError(
                "ballast needs the extended op set (--ops extended)".into(),
            ));
        }
        if self.third_level && self.ops != OpSet::Extended {
            return Err(ConfigError(
                "a third level needs the extended op set (--ops extended)".into(),
            ));
        }
        Ok(())
    }

    /// The `cargo run` command line that repeats this run.
    pub fn reproduce_command(&self) -> String {
        let mut command = String::from("cargo run --release -p manifest-level-fuzz");
        #[cfg(feature = "fault-injection")]
        if self.fault.is_some() {
            command.push_str(" --features fault-injection");
        }
        command.push_str(&format!(" -- --seed {}", self.seed));
        if let Some(events_max) = self.events_max {
            command.push_str(&format!(" --events-max {events_max}"));
        }
        if self.table_count_max != Params::default().table_count_max {
            command.push_str(&format!(" --table-count-max {}", self.table_count_max));
        }
        if self.node_size != NODE_SIZE_DEFAULT {
            command.push_str(&format!(" --node-size {}", self.node_size));
        }
        if self.check != CheckMode::Faithful {
            command.push_str(&format!(" --check {}", self.check));
        }
        if self.ops != OpSet::Faithful {
            command.push_str(&format!(" --ops {}", self.ops));
        }
        if self.swarm {
            command.push_str(" --swarm");
        }
        if self.insert_count_max != INSERT_COUNT_MAX {
            command.push_str(&format!(" --insert-count-max {}", self.insert_count_max));
        }
        if self.growth_tables != 0 {
            command.push_str(&format!(" --growth-tables {}", self.growth_tables));
        }
        if self.key != KeyWidth::U64 {
            command.push_str(&format!(" --key {}", self.key));
        }
        if self.ballast_percent != 0 {
            command.push_str(&format!(" --ballast-percent {}", self.ballast_percent));
        }
        if self.third_level {
            command.push_str(" --levels 3");
        }
        #[cfg(feature = "fault-injection")]
        if let Some(fault) = self.fault {
            command.push_str(&format!(" --inject-fault {}", fault_name(fault)));
        }
        command
    }
}

/// The largest `ballast_percent`: the levels keep at least a tenth of their pool.
pub const BALLAST_PERCENT_MAX: u8 = 90;

/// Parameters that do not fit together (for the CLI: a usage error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// A run's ops, derived from its config alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunPlan {
    /// The seed.
    pub seed: u64,
    /// The op weights.
    pub weights: Weights,
    /// The ops, `min(events_max, max(1, exponential(mean 100,000)))` of them.
    pub ops: Vec<FuzzOp>,
}

fn insert_count_max_default() -> u32 {
    INSERT_COUNT_MAX
}

fn is_insert_count_max_default(value: &u32) -> bool {
    *value == INSERT_COUNT_MAX
}

/// Whether `value` is its type's default (for `skip_serializing_if`).
fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// The independent streams a seed splits into.
///
/// Forked up front, in this order, so the tables' contents do not depend on how many ops
/// were generated (a shorter `--events-max` runs a prefix of the same run), and the
/// streams added later (deep checks, query choices, swarm weights) do not change the
/// first two: a faithful run and a deep run of a seed execute the same ops on the same
/// tables.
pub struct Streams {
    /// The op count and the ops.
    pub ops: Prng,
    /// Table contents and every other choice that changes the state.
    pub tables: Prng,
    /// The deep checks' choices ([`crate::level::environment::deep`]).
    pub deep: Prng,
    /// The choices of read-only and misuse ops ([`crate::level::environment::extended`]).
    pub query: Prng,
    /// Swarm weights ([`crate::level::swarm`]).
    pub swarm: Prng,
    /// The swarm's configuration draw ([`crate::level::configuration`]).
    pub configuration: Prng,
}

/// The streams of `seed` (see [`Streams`]).
pub fn streams(seed: u64) -> Streams {
    let mut root = Prng::from_seed(seed);
    let ops = root.fork();
    let tables = root.fork();
    let deep = root.fork();
    let query = root.fork();
    let swarm = root.fork();
    let configuration = root.fork();
    Streams {
        ops,
        tables,
        deep,
        query,
        swarm,
        configuration,
    }
}

/// The number of ops a seed runs: `min(events_max, exponential(mean 100,000))`, and at
/// least 1 unless `events_max` is 0 (an exponential draw of 0 would make an empty run).
pub fn op_count(prng: &mut Prng, events_max: Option<u64>) -> usize {
    let drawn = prng.exponential(OP_COUNT_MEAN).max(1);
    let count = drawn.min(events_max.unwrap_or(EVENTS_MAX_DEFAULT));
    usize::try_from(count).expect("op count fits usize")
}

/// Generates the ops of `config`'s run (no level involved).
///
/// # Panics
///
/// If the config is invalid (see [`RunConfig::validate`]).
pub fn plan(config: &RunConfig) -> RunPlan {
    let mut prng = streams(config.seed).ops;
    let count = op_count(&mut prng, config.events_max);
    let weights = config.effective_weights();
    let mut context = GenerateContext::for_op_set(&config.params(), config.ops);
    let ops = generate_more(&mut context, &mut prng, count, &weights);
    RunPlan {
        seed: config.seed,
        weights,
        ops,
    }
}

/// What a successful run did.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    /// The seed.
    pub seed: u64,
    /// Ops executed.
    pub ops_run: usize,
    /// Ops executed, per kind.
    pub op_counts: OpCounts,
    /// The most tables the level held at once.
    pub peak_tables: usize,
    /// The most nodes the level held at once.
    pub peak_nodes: u32,
    /// The states the run reached ([`crate::level::states`]).
    pub states: StateCounts,
    /// Tables left at the end.
    pub final_tables: u32,
    /// The snapshot at the end.
    pub final_snapshot: u64,
    /// [`Environment::digest`] of the final state: equal digests, equal runs.
    pub digest: u64,
    /// Wall time of the execution (generation excluded).
    pub elapsed: Duration,
    /// What the deep checks did (`--check deep` only).
    pub deep: Option<DeepStats>,
}

impl RunReport {
    /// Ops per second of wall time.
    pub fn ops_per_sec(&self) -> f64 {
        self.ops_run as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The one-line summary: `ok: seed 7 ran 81234 ops (insert_tables=...), peak 412 tables in
/// 31 nodes, ..., 0.081s, 1002345 ops/s`.
impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ok: seed {} ran {} ops ({}), peak {} tables in {} nodes, final {} tables at snapshot {}, \
             digest {:016x}, {:.3}s, {:.0} ops/s",
            self.seed,
            self.ops_run,
            self.op_counts,
            self.peak_tables,
            self.peak_nodes,
            self.final_tables,
            self.final_snapshot,
            self.digest,
            self.elapsed.as_secs_f64(),
            self.ops_per_sec()
        )?;
        if let Some(deep) = &self.deep {
            write!(
                f,
                " (deep checks: {} full, {} sampled, {} tables compared, {} nodes checked)",
                deep.full, deep.sampled, deep.tables_compared, deep.nodes
            )?;
        }
        Ok(())
    }
}

/// Why a run failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureCause {
    /// A check of the environment failed.
    Check(CheckFailure),
    /// Something panicked while executing the op (typically an assertion inside the
    /// level).
    Panic {
        /// The panic message.
        message: String,
        /// Where it panicked, when known.
        location: Option<String>,
    },
    /// An op of an explicit list cannot apply (nothing was executed).
    InvalidOp(InvalidOp),
    /// The configuration is invalid (nothing was executed).
    Config(ConfigError),
}

impl fmt::Display for FailureCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureCause::Check(failure) => write!(f, "{failure}"),
            FailureCause::Panic { message, location } => match location {
                Some(location) => write!(f, "panicked at {location}: {message}"),
                None => write!(f, "panicked: {message}"),
            },
            FailureCause::InvalidOp(invalid) => write!(f, "invalid op list: {invalid}"),
            FailureCause::Config(error) => write!(f, "invalid configuration: {error}"),
        }
    }
}

/// A failed run: where, what, and how to get it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunFailure {
    /// The run's configuration.
    pub config: RunConfig,
    /// Whether the ops came from an explicit list rather than from the seed.
    pub explicit_ops: bool,
    /// Number of ops in the run.
    pub op_count: usize,
    /// Index of the op that failed (`None` when nothing was executed).
    pub op_index: Option<usize>,
    /// The op that failed.
    pub op: Option<FuzzOp>,
    /// What went wrong.
    pub cause: FailureCause,
}

impl RunFailure {
    /// The seed.
    pub fn seed(&self) -> u64 {
        self.config.seed
    }

    /// The failed check, if a check failed.
    pub fn check(&self) -> Option<&CheckFailure> {
        match &self.cause {
            FailureCause::Check(failure) => Some(failure),
            _ => None,
        }
    }

    /// The exact command that repeats the failing run (for a seed's own run; an explicit
    /// op list is not reproduced by its seed alone).
    pub fn reproduce_command(&self) -> String {
        self.config.reproduce_command()
    }
}

/// The multi-line failure report the CLI prints.
impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.op_index, self.op) {
            (Some(index), Some(op)) => writeln!(
                f,
                "FAILED: seed {} at op {index} of {}: {op}",
                self.seed(),
                self.op_count
            )?,
            _ => writeln!(f, "FAILED: seed {} before any op ran", self.seed())?,
        }
        match &self.cause {
            FailureCause::Check(failure) => {
                writeln!(f, "  check:    {}", failure.what)?;
                writeln!(f, "  expected: {}", failure.expected)?;
                writeln!(f, "  found:    {}", failure.found)?;
            }
            cause => writeln!(f, "  {cause}")?,
        }
        #[cfg(feature = "fault-injection")]
        if let Some(fault) = self.config.fault {
            writeln!(f, "  planted fault: {}", fault_name(fault))?;
        }
        if self.explicit_ops {
            write!(
                f,
                "  (explicit op list: the seed's own run is `{}`)",
                self.reproduce_command()
            )
        } else {
            write!(f, "reproduce: {}", self.reproduce_command())
        }
    }
}

impl std::error::Error for RunFailure {}

/// Generates `config`'s ops and runs them.
pub fn run(config: &RunConfig) -> Result<RunReport, RunFailure> {
    if let Err(error) = config.validate() {
        return Err(config_failure(config, error));
    }
    run_plan(config, &plan(config))
}

/// Runs the ops [`plan`] generated for `config` (so a caller can log the plan first).
/// A failure reproduces with `config`'s seed alone.
pub fn run_plan(config: &RunConfig, plan: &RunPlan) -> Result<RunReport, RunFailure> {
    if let Err(error) = config.validate() {
        return Err(config_failure(config, error));
    }
    debug_assert_eq!(
        (plan.seed, plan.weights),
        (config.seed, config.effective_weights())
    );
    execute_keyed(config, &plan.ops, false)
}

/// Runs an explicit op list with `config`'s parameters and table contents.
///
/// The list is validated first (every op must be able to apply); an invalid list fails
/// with [`FailureCause::InvalidOp`] before anything runs.
pub fn run_ops(config: &RunConfig, ops: &[FuzzOp]) -> Result<RunReport, RunFailure> {
    validate_ops(config, ops)?;
    execute_keyed(config, ops, true)
}

/// Like [`run_ops`], then calls `inspect` with the final environment (for tests that
/// compare final states, or extra checks at the end). For `u64` keys only (a `u128`
/// config fails as invalid; see [`run_ops_then_keyed`]).
pub fn run_ops_then<R>(
    config: &RunConfig,
    ops: &[FuzzOp],
    inspect: impl FnOnce(&Environment<'_>) -> R,
) -> Result<(RunReport, R), RunFailure> {
    run_ops_then_keyed::<u64, R>(config, ops, inspect)
}

/// [`run_ops_then`] for keys `K`, which must be `config.key`'s type.
pub fn run_ops_then_keyed<K: FuzzKey, R>(
    config: &RunConfig,
    ops: &[FuzzOp],
    inspect: impl FnOnce(&Environment<'_, K>) -> R,
) -> Result<(RunReport, R), RunFailure> {
    if config.key != K::WIDTH {
        let error = ConfigError(format!(
            "the inspector takes {} keys, the configuration has {}",
            K::WIDTH,
            config.key
        ));
        return Err(config_failure(config, error));
    }
    validate_ops(config, ops)?;
    execute(config, ops, true, inspect)
}

/// Checks `config`, then that every op of `ops` can apply in turn (nothing runs).
fn validate_ops(config: &RunConfig, ops: &[FuzzOp]) -> Result<(), RunFailure> {
    if let Err(error) = config.validate() {
        return Err(config_failure(config, error));
    }
    let mut context = GenerateContext::for_op_set(&config.params(), config.ops);
    for (index, op) in ops.iter().enumerate() {
        if let Err(invalid) = context.apply(index, op) {
            return Err(RunFailure {
                config: config.clone(),
                explicit_ops: true,
                op_count: ops.len(),
                op_index: None,
                op: None,
                cause: FailureCause::InvalidOp(invalid),
            });
        }
    }
    Ok(())
}

/// [`execute`] with the level's key type of `config.key`: the one dispatch on the key
/// width per run (the ops then run monomorphized).
fn execute_keyed(
    config: &RunConfig,
    ops: &[FuzzOp],
    explicit_ops: bool,
) -> Result<RunReport, RunFailure> {
    let result = match config.key {
        KeyWidth::U64 => execute::<u64, ()>(config, ops, explicit_ops, |_| ()),
        KeyWidth::U128 => execute::<u128, ()>(config, ops, explicit_ops, |_| ()),
    };
    result.map(|(report, ())| report)
}

fn config_failure(config: &RunConfig, error: ConfigError) -> RunFailure {
    RunFailure {
        config: config.clone(),
        explicit_ops: false,
        op_count: 0,
        op_index: None,
        op: None,
        cause: FailureCause::Config(error),
    }
}

/// Builds the environment and executes `ops` in it, catching panics. Whatever the ops
/// checked along the way, the run ends with the whole level against the whole model.
fn execute<K: FuzzKey, R>(
    config: &RunConfig,
    ops: &[FuzzOp],
    explicit_ops: bool,
    inspect: impl FnOnce(&Environment<'_, K>) -> R,
) -> Result<(RunReport, R), RunFailure> {
    let nodes = config.validate().expect("validated by the caller");
    let pool = NodePool::new(config.node_size, nodes).expect("validated node size and count");
    let streams = streams(config.seed);
    let mut env = environment::<K>(config, &pool, streams.tables, streams.query);
    let mut deep = (config.check == CheckMode::Deep).then(|| DeepChecker::new(streams.deep));

    let failure = |op_index: usize, cause: FailureCause| RunFailure {
        config: config.clone(),
        explicit_ops,
        op_count: ops.len(),
        op_index: Some(op_index),
        op: Some(ops[op_index]),
        cause,
    };

    let mut op_counts = OpCounts::default();
    let mut current = 0;
    let start = Instant::now();
    let outcome = catch_panics(|| {
        for (index, op) in ops.iter().enumerate() {
            current = index;
            if config.log_ops {
                eprintln!("op[{index}/{}] = {op}", ops.len());
            }
            env.apply(op)?;
            if let Some(deep) = &mut deep {
                deep.check(&env)?;
            }
            op_counts.add(op.kind());
        }
        if let Some(deep) = &mut deep {
            deep.finish(&env)?;
        }
        env.check_full_contents()
    });
    let elapsed = start.elapsed();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(check)) => return Err(failure(current, FailureCause::Check(check))),
        Err(cause) => {
            // The level may be half-way through a mutation: do not run its destructor.
            core::mem::forget(env);
            return Err(failure(current, cause));
        }
    }
    let report = RunReport {
        ops_run: ops.len(),
        op_counts,
        elapsed,
        deep: deep.map(|deep| *deep.stats()),
        ..final_report(config.seed, &env)
    };
    let inspected = inspect(&env);
    Ok((report, inspected))
}

/// The environment of `config`'s run on `pool`, with its planted fault if any.
fn environment<'pool, K: FuzzKey>(
    config: &RunConfig,
    pool: &'pool NodePool,
    tables: Prng,
    query: Prng,
) -> Environment<'pool, K> {
    let params = config.params();
    let tables = table_stream(config, tables);
    let env = match config.ops {
        OpSet::Faithful => Environment::new(pool, &params, tables),
        OpSet::Extended => Environment::new_extended(pool, &params, tables, query),
    };
    #[allow(unused_mut)]
    let mut env = env.expect("validated parameters");
    #[cfg(feature = "fault-injection")]
    env.level_mut().inject_fault(config.fault);
    let ballast_nodes = u64::from(pool.node_count()) * u64::from(config.ballast_percent) / 100;
    if ballast_nodes > 0 {
        let mut ballast = Ballast::new(pool, ballast_nodes as u32).expect("validated node size");
        ballast.fill();
        env.ballast = Some(ballast);
    }
    env
}

/// The table-contents stream of a run: the seed's, or with the planted nondeterminism
/// (tests only) one seeded from the clock.
fn table_stream(config: &RunConfig, seeded: Prng) -> Prng {
    #[cfg(feature = "fault-injection")]
    if config.plant_nondeterminism {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos() as u64);
        return Prng::from_seed(config.seed ^ nanos);
    }
    let _ = config;
    seeded
}

/// The report of a run of `seed` that ended in `env` (no ops counted, no time yet).
fn final_report<K: FuzzKey>(seed: u64, env: &Environment<'_, K>) -> RunReport {
    RunReport {
        seed,
        ops_run: 0,
        op_counts: OpCounts::default(),
        peak_tables: env.peak_tables(),
        peak_nodes: env.peak_nodes(),
        states: *env.states(),
        final_tables: env.level().len(),
        final_snapshot: env.snapshot(),
        digest: env.digest(),
        elapsed: Duration::ZERO,
        deep: None,
    }
}

/// Runs `f`, turning a panic into [`FailureCause::Panic`] with its message and location
/// (see [`catch_panic`]).
fn catch_panics<T>(f: impl FnOnce() -> T) -> Result<T, FailureCause> {
    catch_panic(f).map_err(|caught| FailureCause::Panic {
        message: caught.message,
        location: caught.location,
    })
}

/// The name of a fault, as `--inject-fault` takes it (`RetireKeepsCounters`, ...).
#[cfg(feature = "fault-injection")]
pub fn fault_name(fault: Fault) -> String {
    format!("{fault:?}")
}

/// Parses a fault name: the variant name, case-insensitive, `-` and `_` ignored
/// (`RetireKeepsCounters`, `retire-keeps-counters`, `retire_keeps_counters`).
#[cfg(feature = "fault-injection")]
pub fn parse_fault(text: &str) -> Result<Fault, String> {
    let normalize = |s: &str| {
        s.chars()
            .filter(|c| *c != '-' && *c != '_')
            .map(|c| c.to_ascii_lowercase())
            .collect::<String>()
    };
    let wanted = normalize(text);
    Fault::ALL
        .into_iter()
        .find(|fault| normalize(&fault_name(*fault)) == wanted)
        .ok_or_else(|| {
            let names: Vec<String> = Fault::ALL.into_iter().map(fault_name).collect();
            format!("unknown fault {text:?}; one of: {}", names.join(", "))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_failures() {
        assert_eq!(catch_panics(|| 5), Ok(5));
        let Err(FailureCause::Panic { message, location }) =
            catch_panics(|| -> u32 { panic!("boom {}", 7) })
        else {
            panic!("the panic was not caught");
        };
        assert_eq!(message, "boom 7");
        assert!(location.unwrap().contains("runner.rs"));
        let Err(FailureCause::Panic { message, .. }) = catch_panics(|| {
            let values: Vec<u32> = Vec::new();
            values[3]
        }) else {
            panic!("the panic was not caught");
        };
        assert!(message.contains("index out of bounds"), "{message}");
    }

    #[test]
    fn op_count_bounds() {
        let mut prng = Prng::from_seed(1);
        for _ in 0..1_000 {
            let count = op_count(&mut prng, Some(10));
            assert!((1..=10).contains(&count));
        }
        assert_eq!(op_count(&mut prng, Some(0)), 0);
        for _ in 0..1_000 {
            assert!(op_count(&mut prng, None) as u64 <= EVENTS_MAX_DEFAULT);
        }
    }

    #[test]
    fn config_validation() {
        // Tables of 64 bytes, 16 per 1024-byte node: 1024 / (16 / 2) = 128 nodes.
        assert_eq!(RunConfig::new(1).validate(), Ok(128));
        for (table_count_max, node_size) in [(0, 1024), (1024, 0), (1024, 1000), (1024, 64)] {
            let config = RunConfig {
                table_count_max,
                node_size,
                ..RunConfig::new(1)
            };
            assert!(config.validate().is_err(), "{table_count_max} {node_size}");
            assert!(matches!(
                run(&config).unwrap_err().cause,
                FailureCause::Config(_)
            ));
        }
        let config = RunConfig {
            node_size: 128,
            table_count_max: 7,
            ..RunConfig::new(1)
        };
        assert!(config.validate().is_ok());
    }

    #[test]
    fn reproduce_command() {
        let config = RunConfig {
            events_max: Some(500),
            node_size: 256,
            ..RunConfig::new(77)
        };
        assert_eq!(
            config.reproduce_command(),
            "cargo run --release -p manifest-level-fuzz -- --seed 77 --events-max 500 --node-size 256"
        );
    }

    #[test]
    fn invalid_op_list_runs_nothing() {
        let failure =
            run_ops(&RunConfig::new(1), &[FuzzOp::UpdateTables { count: 1 }]).unwrap_err();
        assert!(matches!(failure.cause, FailureCause::InvalidOp(_)));
        assert_eq!(failure.op_index, None);
    }

    #[test]
    fn explicit_ops_run() {
        let ops = [
            FuzzOp::InsertTables { count: 5 },
            FuzzOp::UpdateTables { count: 2 },
            FuzzOp::TakeSnapshot,
            FuzzOp::RemoveInvisible { count: 2 },
            FuzzOp::RemoveVisible { count: 3 },
        ];
        let report = run_ops(&RunConfig::new(9), &ops).unwrap();
        assert_eq!(report.ops_run, 5);
        assert_eq!(report.final_tables, 0);
        assert_eq!(report.peak_tables, 5);
        assert_eq!(report.final_snapshot, 2);
    }

    #[cfg(feature = "fault-injection")]
    #[test]
    fn every_fault_parses_by_its_names() {
        for fault in Fault::ALL {
            let name = fault_name(fault);
            let mut kebab = String::new();
            for c in name.chars() {
                if c.is_ascii_uppercase() && !kebab.is_empty() {
                    kebab.push('-');
                }
                kebab.push(c.to_ascii_lowercase());
            }
            assert_eq!(parse_fault(&name), Ok(fault));
            assert_eq!(parse_fault(&kebab), Ok(fault), "{kebab}");
            assert_eq!(parse_fault(&kebab.replace('-', "_")), Ok(fault));
        }
        let unknown = parse_fault("no-such-fault").unwrap_err();
        assert!(Fault::ALL
            .into_iter()
            .all(|fault| unknown.contains(&fault_name(fault))));
    }
}

/// `serde` for `RunConfig::fault`: the fault by name ([`fault_name`], [`parse_fault`]), so
/// the library's `Fault` needs no `serde` and the names match `--inject-fault`.
///
/// [`fault_name`]: crate::level::runner::fault_name
/// [`parse_fault`]: crate::level::runner::parse_fault
#[cfg(feature = "fault-injection")]
pub mod fault_by_name {
    use manifest_level::Fault;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::level::runner::{fault_name, parse_fault};

    /// Writes `Some(fault)` as its name, `None` as `null`.
    pub fn serialize<S: Serializer>(
        fault: &Option<Fault>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match fault {
            Some(fault) => serializer.serialize_str(&fault_name(*fault)),
            None => serializer.serialize_none(),
        }
    }

    /// Reads a fault name (as `--inject-fault` takes it) or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Fault>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|name| parse_fault(&name).map_err(serde::de::Error::custom))
            .transpose()
    }
}
