//! Deep checking (`--check deep`): it passes on the correct level over bounded multi-seed
//! runs, runs exactly the faithful run's ops on the same tables, exercises both its full
//! and its sampled checks, notices what the faithful checks cannot, and allocates nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use manifest_level::{NodePool, TableInfo};
use manifest_level_fuzz::level::environment::deep::{
    full_interval, CheckMode, DeepChecker, RANGE_TABLES_MAX, WINDOW,
};
use manifest_level_fuzz::level::environment::{Check, Environment};
use manifest_level_fuzz::level::generate::{generate_ops, Params};
use manifest_level_fuzz::level::model::TOUCHED_MAX;
use manifest_level_fuzz::level::ops::{FuzzOp, OpSet};
use manifest_level_fuzz::level::runner::{run, RunConfig};
use manifest_level_fuzz::support::prng::Prng;

/// Counts the allocations of a thread while its `COUNTING` flag is set.
struct CountingAllocator;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn faithful(seed: u64, events_max: u64) -> RunConfig {
    RunConfig {
        events_max: Some(events_max),
        ..RunConfig::new(seed)
    }
}

#[test]
fn deep_runs_pass_and_run_the_faithful_ops() {
    for seed in 1..=6 {
        let config = faithful(seed, 3_000);
        let deep = RunConfig {
            check: CheckMode::Deep,
            ..config.clone()
        };
        let plain = run(&config).unwrap_or_else(|failure| panic!("{failure}"));
        let checked = run(&deep).unwrap_or_else(|failure| panic!("{failure}"));
        // Same ops, same tables, same final state: op indexes are comparable.
        assert_eq!(
            (plain.ops_run, plain.op_counts, plain.digest),
            (checked.ops_run, checked.op_counts, checked.digest),
            "seed {seed}"
        );
        assert!(deep.reproduce_command().contains("--check deep"));
        let stats = checked.deep.expect("deep statistics");
        assert_eq!(stats.ops, checked.ops_run as u64);
        // Every op gets a full or a sampled check, and the run ends with one more full.
        assert_eq!(stats.full + stats.sampled, stats.ops + 1);
        // Full checks at ops 1, 2, 4, ... and at the end (besides those every
        // full_interval(n) ops).
        assert!(
            stats.full > scheduled_full_checks(stats.ops),
            "seed {seed}: {stats:?}"
        );
        assert!(stats.nodes > 0, "{stats:?}");
        assert!(plain.deep.is_none());
    }
}

#[test]
fn deep_extended_runs_pass() {
    for seed in 1..=4 {
        let config = RunConfig {
            events_max: Some(2_500),
            ..RunConfig::deep(seed)
        };
        let report = run(&config).unwrap_or_else(|failure| panic!("{failure}"));
        let without = run(&RunConfig {
            check: CheckMode::Faithful,
            ..config.clone()
        })
        .unwrap();
        assert_eq!(report.digest, without.digest, "seed {seed}");
    }
    // Small levels and nodes: many node boundaries, full levels.
    for (seed, table_count_max, node_size) in [(5, 16, 128), (6, 40, 128), (7, 100, 256)] {
        let config = RunConfig {
            events_max: Some(2_500),
            table_count_max,
            node_size,
            ..RunConfig::deep(seed)
        };
        run(&config).unwrap_or_else(|failure| panic!("{failure}"));
    }
}

#[test]
fn large_levels_get_sampled_and_periodic_full_checks() {
    let params = Params::with_table_count_max(1_000);
    let nodes = Environment::<u64>::nodes_needed(1024, &params).unwrap();
    let pool = NodePool::new(1024, nodes).unwrap();
    let mut env = Environment::<u64>::new(&pool, &params, Prng::from_seed(1)).unwrap();
    let mut deep = DeepChecker::new(Prng::from_seed(2));
    let mut ops = vec![FuzzOp::InsertTables { count: 10 }; 60];
    ops.push(FuzzOp::UpdateTables { count: 30 });
    ops.push(FuzzOp::TakeSnapshot);
    ops.extend([FuzzOp::InsertTables { count: 1 }; 400]);
    for op in &ops {
        env.apply(op).unwrap();
        deep.check(&env)
            .unwrap_or_else(|failure| panic!("{op}: {failure}"));
    }
    let stats = *deep.stats();
    assert_eq!(stats.full + stats.sampled, stats.ops);
    // Full at ops 1, 2, 4, ..., 256 (exponentially spaced; the level holds 600 tables
    // from op 60 on, and full_interval(600) is past the run), sampled at every other op.
    assert!(full_interval(600) > stats.ops, "{stats:?}");
    assert_eq!(stats.full, 9, "{stats:?}");
    // Every op holds at least one node (the one in rotation) to the model.
    assert!(stats.nodes >= stats.ops, "{stats:?}");
    // The full checks compare every class whole in both directions; a sampled op compares
    // its windows and at most RANGE_TABLES_MAX tables of each random range.
    assert!(stats.tables_compared > 20_000, "{stats:?}");
    // The end of a run: one more full check.
    deep.finish(&env).unwrap();
    assert_eq!(deep.stats().full, 10);
}

/// The exponentially spaced full checks among `ops` ops: ops 1, 2, 4, ...
fn scheduled_full_checks(ops: u64) -> u64 {
    u64::from(ops.checked_ilog2().map_or(0, |log| log + 1))
}

#[test]
fn deep_checks_see_what_the_faithful_checks_cannot() {
    let params = Params::with_table_count_max(64);
    let pool = NodePool::new(256, Environment::<u64>::nodes_needed(256, &params).unwrap()).unwrap();
    let mut env = Environment::<u64>::new(&pool, &params, Prng::from_seed(1)).unwrap();
    for op in [
        FuzzOp::InsertTables { count: 10 },
        FuzzOp::UpdateTables { count: 3 },
        FuzzOp::TakeSnapshot,
        FuzzOp::TakeSnapshot,
    ] {
        env.apply(&op).unwrap();
    }
    // Behind the model's back: a retired table gets another snapshot_max (still retired,
    // so every counter and key_range_latest stay the same).
    let retired: TableInfo<u64> = *env
        .model()
        .tables()
        .iter()
        .find(|table| !table.is_live())
        .unwrap();
    let level = env.level_mut();
    level.remove_table(&retired).unwrap();
    level
        .insert_table(TableInfo {
            snapshot_max: retired.snapshot_max + 1,
            ..retired
        })
        .unwrap();
    env.check_after_op()
        .expect("the faithful checks see nothing");
    let failure = DeepChecker::new(Prng::from_seed(3))
        .check(&env)
        .unwrap_err();
    // The generation moved by two: the first deep check to notice.
    assert_eq!(failure.what, Check::Generation, "{failure}");
}

#[test]
fn deep_checks_allocate_nothing() {
    for op_set in [OpSet::Faithful, OpSet::Extended] {
        let params = Params::with_table_count_max(400);
        let nodes = Environment::<u64>::nodes_needed_for(512, &params, op_set).unwrap();
        let pool = NodePool::new(512, nodes).unwrap();
        let mut env = match op_set {
            OpSet::Faithful => Environment::<u64>::new(&pool, &params, Prng::from_seed(1)),
            OpSet::Extended => {
                Environment::new_extended(&pool, &params, Prng::from_seed(1), Prng::from_seed(4))
            }
        }
        .unwrap();
        let weights = op_set.default_weights();
        let ops = generate_ops(&mut Prng::from_seed(5), 3_000, &params, &weights);
        let mut deep = DeepChecker::new(Prng::from_seed(6));
        ALLOCATIONS.store(0, Ordering::Relaxed);
        for op in &ops {
            env.apply(op)
                .unwrap_or_else(|failure| panic!("{op}: {failure}"));
            COUNTING.with(|counting| counting.set(true));
            let result = deep.check(&env);
            COUNTING.with(|counting| counting.set(false));
            result.unwrap_or_else(|failure| panic!("{op}: {failure}"));
        }
        assert_eq!(ALLOCATIONS.load(Ordering::Relaxed), 0, "{op_set}");
        assert!(deep.stats().full > 0 && deep.stats().lookups > 0);
    }
}

#[test]
fn cli_flags() {
    let fuzz = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_manifest-level-fuzz"))
            .args(args)
            .output()
            .unwrap()
    };
    let output = fuzz(&[
        "--seed",
        "4",
        "--events-max",
        "300",
        "--check",
        "deep",
        "--ops",
        "extended",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("check=deep ops=extended"), "{stdout}");
    assert!(stdout.contains("ok: seed 4 ran 300 ops"), "{stdout}");
    for bad in [&["--check", "shallow"][..], &["--ops", "all"]] {
        assert_eq!(fuzz(bad).status.code(), Some(2), "{bad:?}");
    }
    // A failure's reproducing command carries the mode.
    let output = fuzz(&[
        "--seed",
        "1",
        "--events-max",
        "20000",
        "--check",
        "deep",
        "--inject-fault",
        "DescendingSkipsFirstNode",
        "--no-shrink",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("check:    iteration"), "{stderr}");
    assert!(
        stderr.contains(
            "-- --seed 1 --events-max 20000 --check deep --inject-fault DescendingSkipsFirstNode"
        ),
        "{stderr}"
    );
}

/// What an op between full checks costs does not grow with the level: on a level grown to
/// thousands of tables, as on one of a few dozen, it compares at most a window's and a
/// key range's worth of tables and checks at most `3 * TOUCHED_MAX + 1` nodes.
#[test]
fn an_op_between_full_checks_costs_the_same_at_any_size() {
    let mut most = Vec::new();
    for (table_count_max, growth_tables) in [(64, 48), (8_192, 6_000)] {
        let params = Params {
            table_count_max,
            insert_count_max: 40,
            growth_tables,
            ..Params::default()
        };
        let nodes = Environment::<u64>::nodes_needed_for(512, &params, OpSet::Extended).unwrap();
        let pool = NodePool::new(512, nodes).unwrap();
        let mut env = Environment::<u64>::new_extended(
            &pool,
            &params,
            Prng::from_seed(1),
            Prng::from_seed(4),
        )
        .unwrap();
        let weights = OpSet::Extended.default_weights();
        let ops = generate_ops(&mut Prng::from_seed(5), 2_000, &params, &weights);
        let mut deep = DeepChecker::new(Prng::from_seed(6));
        let (mut peak, mut most_tables, mut most_nodes) = (0, 0, 0);
        for op in &ops {
            env.apply(op)
                .unwrap_or_else(|failure| panic!("{op}: {failure}"));
            let before = *deep.stats();
            deep.check(&env)
                .unwrap_or_else(|failure| panic!("{op}: {failure}"));
            let after = *deep.stats();
            peak = peak.max(env.level().len());
            if after.full == before.full {
                most_tables = most_tables.max(after.tables_compared - before.tables_compared);
                most_nodes = most_nodes.max(after.nodes - before.nodes);
            }
        }
        assert!(peak >= growth_tables, "peak {peak} of {growth_tables}");
        let tables_bound = 4 * (WINDOW + RANGE_TABLES_MAX) as u64;
        assert!(
            most_tables <= tables_bound,
            "{table_count_max}: {most_tables} tables"
        );
        assert!(
            most_nodes <= 3 * TOUCHED_MAX as u64 + 1,
            "{table_count_max}: {most_nodes}"
        );
        most.push((most_tables, most_nodes));
    }
    // Both levels did real work between their full checks.
    assert!(
        most.iter().all(|&(tables, nodes)| tables > 0 && nodes > 0),
        "{most:?}"
    );
}
