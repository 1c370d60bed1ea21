//! Bounded multi-seed runs of the faithful fuzzer inside `cargo test`.

use manifest_level_fuzz::level::ops::OpKind;
use manifest_level_fuzz::level::runner::{run, RunConfig};

#[test]
fn twenty_seeds_of_five_thousand_ops() {
    let mut ops = 0;
    let mut peak = 0;
    for seed in 1..=20 {
        let config = RunConfig {
            events_max: Some(5_000),
            ..RunConfig::new(seed)
        };
        let report = run(&config).unwrap_or_else(|failure| panic!("{failure}"));
        assert!(report.ops_run >= 1 && report.ops_run <= 5_000);
        assert_eq!(report.op_counts.total(), report.ops_run as u64);
        ops += report.ops_run;
        peak = peak.max(report.peak_tables);
    }
    // Exponential op counts (mean 100,000) mostly exceed the cap.
    assert!(ops > 50_000, "only {ops} ops ran");
    // The level grows past a single node (16 tables of 64 bytes per 1 KiB node).
    assert!(peak > 100, "peak {peak} tables");
}

#[test]
fn small_levels_and_nodes_fill_up() {
    // Small capacities and nodes: the level is often full (so the generator's "no room"
    // fallbacks execute, not only generate), with many nodes and node boundaries.
    for (seed, table_count_max, node_size) in [
        (1, 16, 128),
        (2, 33, 128),
        (3, 64, 256),
        (4, 100, 128),
        (5, 1, 128),
        (6, 48, 512),
    ] {
        let config = RunConfig {
            events_max: Some(5_000),
            table_count_max,
            node_size,
            ..RunConfig::new(seed)
        };
        let report = run(&config).unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(report.peak_tables, table_count_max as usize, "{config:?}");
        for kind in OpKind::FAITHFUL {
            assert!(
                report.op_counts.get(kind) > 0,
                "{kind} never ran: {config:?}"
            );
        }
    }
}
