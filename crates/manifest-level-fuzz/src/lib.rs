//! Deterministic, seed-reproducible, model-based fuzzer for [`manifest_level`].
//!
//! This is a Rust rendering of the fuzzer TigerBeetle runs against its `ManifestLevel`
//! (docs/SEMANTICS.md §4): one seed drives a random sequence of LSM-style operations, which run
//! against the level and against a simple reference model side by side, with the two
//! compared after every op.
//!
//! # How a run works
//!
//! 1. **Seed.** Every random choice derives from one `u64` through [`support::prng::Prng`], a
//!    hand-written xoshiro256++ whose values are pinned by golden tests, so a seed
//!    reproduces the same run forever. The CLI also takes a 40-hex-digit git commit
//!    hash (its low 64 bits), so CI can fuzz with its commit as the seed.
//! 2. **Ops** ([`ops`](level::ops)). The seed draws an op count, `min(events_max, exponential(mean
//!    100,000))`, then that many [`ops::FuzzOp`](level::ops::FuzzOp)s: insert tables, update (retire)
//!    tables, take a snapshot, remove invisible tables, remove visible tables, with
//!    weights 8/5/3/3/3.
//! 3. **Generation** ([`generate`](level::generate)). A [`generate::GenerateContext`](level::generate::GenerateContext) tracks how many
//!    tables are inserted, retired at the current snapshot, and invisible, and turns
//!    each drawn kind into an op that can apply, falling back to another kind when it
//!    cannot. Generation needs no level: a run is a seed, or an explicit op list.
//! 4. **Execution** ([`environment`](level::environment)). The [`environment::Environment`](level::environment::Environment) holds the level
//!    (on a fixed-size node pool), the reference [`model::Model`](level::model::Model) (a sorted `Vec`) and
//!    the current snapshot. Inserts create tables that overlap nothing; updates retire
//!    the newest live tables; removals take the newest removable ones; every table an
//!    op touches is checked against the model, and after every op the level's counters
//!    and `key_range_latest` are compared with the model's.
//! 5. **Report** ([`runner`](level::runner)). A run ends with a [`runner::RunReport`](level::runner::RunReport), or a
//!    [`runner::RunFailure`](level::runner::RunFailure) with the op index, the op, what was expected and found (or
//!    the message of a panic inside the level), and the command that reproduces it.
//!
//! # Beyond the seed
//!
//! The seed's fuzzer above is the *faithful* mode, kept exactly as docs/SEMANTICS.md §4 describes it.
//! Three switches of [`runner::RunConfig`](level::runner::RunConfig) (and the CLI) go further:
//!
//! - **`--check deep`** ([`deep`](level::environment::deep)): after every op, the level against the
//!   model: every visibility class in both directions, random key ranges, the counters,
//!   the generation, `find`/`contains` on present and perturbed tables,
//!   `key_range_contains` and `verify()`; whole at exponentially spaced ops, at intervals
//!   and at the end, in rotating windows between, so an op's cost does not grow with the
//!   level. Its randomness has its own stream,
//!   so a deep run executes the faithful run's ops on the same tables.
//! - **`--ops extended`** ([`extended`](level::environment::extended)): retained snapshots, compaction, `next_table`
//!   walks, overlap queries against a second level, `reset`, and misuse ops that must
//!   fail with the right typed error and change nothing: every public method under fuzz.
//! - **`--swarm`** ([`swarm`](level::swarm), [`configuration`](level::configuration)):
//!   each seed draws its own op weights, some ops off, and its level's shape (capacity,
//!   node size, bulk inserts, a growth phase that makes big levels big).
//!
//! Every run counts the [states](level::states) it reached (node splits, levels past 128
//! and 512 nodes, least-overlap ties, ...). Campaigns run the extended op set with deep
//! checks and swarm ([`RunConfig::deep`](level::runner::RunConfig::deep) with `swarm`), and
//! sum the states over seeds. The `manifest_level` libFuzzer target in `fuzz/` runs the
//! extended op set with deep checks (its input format is `level::fuzz_input`, feature
//! `arbitrary`).
//!
//! # Layout
//!
//! The modules form layers; each depends only on the layers before it:
//!
//! 1. [`support`]: what every fuzzer builds on, knowing nothing of what it fuzzes: the
//!    PRNG, the generic shrinker, seed parsing, panic capture, failure signatures and the
//!    versioned trace file format.
//! 2. [`level`] and [`segmented_array`]: the two fuzzers, each an op model, a generator,
//!    a reference model, a harness that runs ops on both sides, shrinking, traces and
//!    printed regression tests. Neither knows the other.
//! 3. [`campaign`]: many seeds on all cores for any job (seed in, outcome out), with
//!    findings written as they finish; one job per fuzzer (`level_job`,
//!    `segmented_array_job`).
//! 4. [`cli`]: the command line, the only module that parses arguments, prints and picks
//!    exit codes.
//!
//! # Proving the checks work
//!
//! With the `fault-injection` feature, [`runner::RunConfig`](level::runner::RunConfig) can plant one of the
//! library's deliberate bugs (`manifest_level::Fault`) in the level; the crate's tests
//! assert that the fuzzer reports each reachable one within a few seeds.
//!
//! ```
//! use manifest_level_fuzz::level::runner::{plan, run, run_ops, RunConfig};
//!
//! let config = RunConfig { events_max: Some(1_000), ..RunConfig::new(42) };
//! let report = run(&config).expect("the level agrees with the model");
//! // The same seed gives the same ops and the same final state.
//! let again = run_ops(&config, &plan(&config).ops).unwrap();
//! assert_eq!((report.ops_run, report.digest), (again.ops_run, again.digest));
//! ```

#![deny(missing_docs)]

pub mod campaign;
pub mod cli;
pub mod level;
pub mod segmented_array;
pub mod support;
