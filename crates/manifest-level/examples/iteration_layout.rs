//! What makes a full iteration of a large level fast: how full its nodes are, where they
//! sit in memory, or both.
//!
//! Fills a segmented array of 64-byte tables in random order (nodes about 70% full and
//! scattered over the pool), then times a full visible iteration after each step of two
//! orders: [`SegmentedArray::defragment`] (nodes in key order in memory) then
//! [`SegmentedArray::pack`] (nodes full), and the other way round; and once filled in key
//! order (nodes half full, in order in memory). Last, how the compacted layout degrades
//! as new tables arrive in random order. A sorted `Vec` of the same tables is the
//! yardstick. Best of 15 passes, nanoseconds per table.
//!
//! ```sh
//! cargo run --release -p manifest-level --example iteration_layout -- 262144 2048
//! ```
//!
//! Arguments: the table count (default 262,144) and the node size in bytes (default 2048).

use std::hint::black_box;
use std::time::Instant;

use manifest_level::{NodePool, SegmentedArray, TableInfo, SNAPSHOT_LATEST};

#[path = "../tests/common/rng.rs"]
mod rng;
use rng::Rng;

/// Passes per layout; the best one is reported (load from other processes only adds time).
const PASSES: usize = 15;

/// The most tables accepted: two copies of the tables and a pool for them take about 5 GiB.
const COUNT_MAX: u32 = 1 << 24;

fn main() {
    let mut args = std::env::args().skip(1);
    let parse = |arg: Option<String>, default: usize, name: &str| -> usize {
        arg.map_or(default, |text| {
            text.parse().unwrap_or_else(|_| {
                eprintln!("iteration_layout: {name} must be a number, not {text:?}");
                std::process::exit(2);
            })
        })
    };
    let count = parse(args.next(), 262_144, "the table count");
    let node_size = parse(args.next(), 2048, "the node size");
    let count = match u32::try_from(count) {
        Ok(count @ 1..=COUNT_MAX) => count,
        _ => {
            eprintln!("iteration_layout: the table count must be 1 to {COUNT_MAX}");
            std::process::exit(2);
        }
    };
    let tables = tables_in_random_order(count);
    let mut sorted = tables.clone();
    sorted.sort_by_key(|table| table.key_max);
    println!("{count} tables of 64 bytes, {node_size}-byte nodes; ns per table, best of {PASSES}");
    let per_table = best_pass(|| sum(sorted.iter())) / f64::from(count);
    println!("{:>32}: {per_table:5.2}", "sorted Vec");

    // Room for the tables `after_compact` adds (an eighth of the count).
    let capacity = count + count / 8;
    let pool = SegmentedArray::<TableInfo<u64>>::nodes_needed(node_size, capacity)
        .and_then(|nodes| NodePool::new(node_size, nodes))
        .unwrap_or_else(|error| {
            eprintln!("iteration_layout: {error}");
            std::process::exit(2);
        });
    // Appended in key order: every split leaves a half-full node behind, and the new node
    // is the next one the pool hands out, so the nodes follow each other in memory.
    report(&filled(&pool, capacity, &sorted), "filled in key order");
    for defragment_first in [true, false] {
        let mut array = filled(&pool, capacity, &tables);
        report(&array, "filled in random order");
        if defragment_first {
            array.defragment();
            report(&array, "defragmented");
            array.pack();
            report(&array, "defragmented, then packed");
        } else {
            array.pack();
            report(&array, "packed");
            array.defragment();
            report(&array, "packed, then defragmented");
        }
    }
    after_compact(&pool, capacity, &tables);
}

/// A new array of at most `capacity` tables on `pool`, `tables` inserted in their order.
fn filled<'pool>(
    pool: &'pool NodePool,
    capacity: u32,
    tables: &[TableInfo<u64>],
) -> SegmentedArray<'pool, TableInfo<u64>> {
    let mut array = SegmentedArray::<TableInfo<u64>>::new(pool, capacity).expect("pool fits");
    array.set_auto_verify(false);
    for table in tables {
        array.insert_sorted(*table).expect("pool and capacity fit");
    }
    array
}

/// How a compacted level degrades as new tables arrive: `compact()`'s layout (defragment,
/// then pack), then new tables between the old ones in random order, timed once 1, 2, 4
/// and 8% of the count went in. Packed nodes are 15/16 full, so the first inserts split
/// them, and each split takes a node from elsewhere in the pool.
fn after_compact(pool: &NodePool, capacity: u32, tables: &[TableInfo<u64>]) {
    let mut array = filled(pool, capacity, tables);
    array.defragment();
    array.pack();
    report(&array, "compacted");
    let count = tables.len() as u64;
    // Each new table takes the gap after an old one (keys `10k + 6 ..= 10k + 9` are free).
    let new_tables = tables.iter().map(|old| {
        let key_min = old.key_max + 2;
        TableInfo::new(2, old.address + count, 1, key_min, key_min + 1, 64)
    });
    let mut new_tables = new_tables.collect::<Vec<_>>().into_iter();
    let mut inserted = 0;
    for percent in [1, 2, 4, 8] {
        let goal = count * percent / 100;
        for table in new_tables.by_ref().take((goal - inserted) as usize) {
            array.insert_sorted(table).expect("pool and capacity fit");
        }
        inserted = goal;
        report(&array, &format!("compacted, then {percent}% inserted"));
    }
}

/// `count` disjoint tables, in a random order (the tests' and benchmarks' generator, with
/// a fixed seed: runs compare).
fn tables_in_random_order(count: u32) -> Vec<TableInfo<u64>> {
    let mut tables: Vec<TableInfo<u64>> = (0..u64::from(count))
        .map(|key| TableInfo::new(1, key + 1, 1, key * 10, key * 10 + 5, 64))
        .collect();
    Rng::new(1).shuffle(&mut tables);
    tables
}

/// The addresses of the tables visible to the latest snapshot, summed: a full visible
/// iteration whose result the compiler cannot drop.
fn sum<'a>(tables: impl Iterator<Item = &'a TableInfo<u64>>) -> u64 {
    tables
        .filter(|table| table.visible(SNAPSHOT_LATEST))
        .fold(0, |sum, table| sum.wrapping_add(table.address))
}

/// The best of [`PASSES`] passes of `pass`, in nanoseconds.
fn best_pass(mut pass: impl FnMut() -> u64) -> f64 {
    (0..PASSES)
        .map(|_| {
            let start = Instant::now();
            black_box(pass());
            start.elapsed().as_nanos() as f64
        })
        .fold(f64::MAX, f64::min)
}

/// Prints the best full iteration of `array` per table, its node count and fill.
fn report(array: &SegmentedArray<'_, TableInfo<u64>>, layout: &str) {
    let per_table = best_pass(|| sum(array.iter())) / f64::from(array.len());
    let slots = f64::from(array.node_count()) * f64::from(array.node_capacity());
    let fill = f64::from(array.len()) / slots;
    println!(
        "{layout:>32}: {per_table:5.2}  ({} nodes, {:.0}% full)",
        array.node_count(),
        fill * 100.0
    );
}
