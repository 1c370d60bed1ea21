//! What makes a full iteration of a large level fast: how full its nodes are, where they
//! sit in memory, or both.
//!
//! Fills a segmented array of 64-byte tables in random order (nodes about 70% full and
//! scattered over the pool), then times a full visible iteration after each step of two
//! orders: [`SegmentedArray::defragment`] (nodes in key order in memory) then
//! [`SegmentedArray::pack`] (nodes full), and the other way round; and once filled in key
//! order (nodes half full, in order in memory). A sorted `Vec` of the same tables is the
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

/// Passes per layout; the best one is reported (load from other processes only adds time).
const PASSES: usize = 15;

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
    let Ok(count) = u32::try_from(count) else {
        eprintln!("iteration_layout: at most {} tables", u32::MAX);
        std::process::exit(2);
    };
    if count == 0 {
        eprintln!("iteration_layout: the table count must be at least 1");
        std::process::exit(2);
    }
    let tables = tables_in_random_order(count);
    let mut sorted = tables.clone();
    sorted.sort_by_key(|table| table.key_max);
    println!("{count} tables of 64 bytes, {node_size}-byte nodes; ns per table, best of {PASSES}");
    let per_table = best_pass(|| sum(sorted.iter())) / f64::from(count);
    println!("{:>32}: {per_table:5.2}", "sorted Vec");

    let pool = SegmentedArray::<TableInfo<u64>>::nodes_needed(node_size, count)
        .and_then(|nodes| NodePool::new(node_size, nodes))
        .unwrap_or_else(|error| {
            eprintln!("iteration_layout: {error}");
            std::process::exit(2);
        });
    {
        // Appended in key order: every split leaves a half-full node behind, and the new
        // node is the next one the pool hands out, so the nodes follow each other in memory.
        let mut array = SegmentedArray::<TableInfo<u64>>::new(&pool, count).expect("pool fits");
        array.set_auto_verify(false);
        for table in &sorted {
            array.insert_sorted(*table).expect("pool and capacity fit");
        }
        report(&array, "filled in key order");
    }
    for defragment_first in [true, false] {
        let mut array = SegmentedArray::<TableInfo<u64>>::new(&pool, count).expect("pool fits");
        array.set_auto_verify(false);
        for table in &tables {
            array.insert_sorted(*table).expect("pool and capacity fit");
        }
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
}

/// `count` disjoint tables, in a random order (xorshift64, fixed seed: runs compare).
fn tables_in_random_order(count: u32) -> Vec<TableInfo<u64>> {
    let mut tables: Vec<TableInfo<u64>> = (0..u64::from(count))
        .map(|key| TableInfo::new(1, key + 1, 1, key * 10, key * 10 + 5, 64))
        .collect();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for i in (1..tables.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        tables.swap(i, (state % (i as u64 + 1)) as usize);
    }
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

fn report(array: &SegmentedArray<'_, TableInfo<u64>>, layout: &str) {
    let per_table = best_pass(|| sum(array.iter())) / f64::from(array.len());
    let fill = f64::from(array.len()) / f64::from(array.node_count() * array.node_capacity());
    println!(
        "{layout:>32}: {per_table:5.2}  ({} nodes, {:.0}% full)",
        array.node_count(),
        fill * 100.0
    );
}
