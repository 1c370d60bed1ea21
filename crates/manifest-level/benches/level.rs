//! `ManifestLevel` against the baselines a user would pick instead (see `baselines/mod.rs`),
//! side by side in one run, at 1,024, 32,768 and 262,144 tables.
//!
//! ```text
//! cargo bench -p manifest-level --bench level -- --warm-up-time 1 --measurement-time 3
//! python3 scripts/plot_benchmarks.py          # BENCHMARKS.md tables and docs/*.svg
//! ```
//!
//! Structures (benchmark function names):
//! - `level_1k`: `ManifestLevel<u64>` on 1024-byte nodes (the crate's documented default);
//! - `level_2k`: the same on 2048-byte nodes;
//! - `sorted_vec`, `btreemap`, `indexset`: the baselines.
//!
//! Data: `n` tables with u64 keys in `n - n/16` disjoint key slots; `n/16` slots hold a
//! retired table (visible to snapshots `a..=b`) and its replacement created at `b + 1`,
//! half of them with the same `key_max`; the other tables are live, created at random
//! snapshots 1..=1000. Every structure is filled in the same random order (the sorted
//! `Vec` is sorted once instead: the same final state, without the O(n²) build). Queries are
//! for `SNAPSHOT_LATEST`.
//!
//! Every level is built with `set_auto_verify(false)`: the crate's self dev-dependency
//! compiles the `verify` feature into benchmarks, and with auto-verify on every mutation
//! would run an O(n) check.
//!
//! Memory (bytes per table, reserved and in use) is measured with a counting allocator at
//! start-up, printed, and written to `<target>/criterion/memory.json`.

mod baselines;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use baselines::{BTreeMapLevel, IndexSetLevel, LevelOps, OverlapView, Rng, SortedVecLevel, Table};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use manifest_level::{
    Direction, KeyRange, ManifestLevel, NextTable, NodePool, Query, SegmentedArray, TableInfo,
    SNAPSHOT_LATEST,
};

// ---------------------------------------------------------------------------------------
// Allocation counting (only while `COUNTING` is set, so benchmarks pay one relaxed load).

struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to `System` unchanged; only counts sizes on the side.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Bytes allocated (net) while running `build`; the built value is returned alive.
fn allocated_by<T>(build: impl FnOnce() -> T) -> (T, usize) {
    LIVE_BYTES.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let value = build();
    COUNTING.store(false, Ordering::SeqCst);
    (value, LIVE_BYTES.load(Ordering::SeqCst).max(0) as usize)
}

// ---------------------------------------------------------------------------------------
// Workload

const SIZES: [usize; 7] = [8, 64, 512, 1_024, 4_096, 32_768, 262_144];
const SNAPSHOT_CURRENT: u64 = 1_001;
const QUERY_COUNT: usize = 4_096; // a power of two: queries cycle with a mask
const SLOT_WIDTH: u64 = 64;

/// Everything the benchmarks of one size use, identical for every structure.
struct Workload {
    n: usize,
    /// All `n` tables in insertion order (random); the last `held.len()` are `held`.
    tables: Vec<Table>,
    /// All tables in `(key_max, snapshot_min)` order.
    sorted: Vec<Table>,
    /// Tables the insert/remove benchmarks insert into a level of `n - k` and remove from
    /// a level of `n`.
    held: Vec<Table>,
    /// Live tables in random order, for the retire benchmark.
    live: Vec<Table>,
    /// Level A of the least-overlap benchmark (`n / 8` tables), in insertion order.
    tables_a: Vec<Table>,
    sorted_a: Vec<Table>,
    /// Present tables to `find`.
    finds: Vec<Table>,
    /// Key ranges spanning 8 consecutive slots.
    ranges: Vec<KeyRange<u64>>,
}

/// Checks that every table of `a` visible to the latest snapshot intersects a visible table
/// of `b` (both sorted), so that a least-overlap sweep never stops early at a table
/// overlapping nothing and the benchmark times a sweep over all of both levels.
fn assert_every_table_overlaps(a: &[Table], b: &[Table]) {
    let visible_b: Vec<&Table> = b.iter().filter(|t| t.visible(SNAPSHOT_LATEST)).collect();
    let mut low = 0;
    for table in a.iter().filter(|t| t.visible(SNAPSHOT_LATEST)) {
        // The first visible table of B that ends at or after this one's start.
        while low < visible_b.len() && visible_b[low].key_max < table.key_min {
            low += 1;
        }
        assert!(
            low < visible_b.len() && visible_b[low].intersects(&table.key_range()),
            "table {:?} of level A overlaps no table of B: the sweep would stop there",
            table.key_range()
        );
    }
}

/// A level of `n / 16` retired-and-replaced pairs and `n - n/8` single live tables, in
/// disjoint slots of `slot_width` keys.
fn generate_level(rng: &mut Rng, n: usize, slot_width: u64, width: (u64, u64)) -> Vec<Table> {
    let pairs = n / 16;
    let slots = n - pairs;
    let mut is_pair = vec![false; slots];
    for flag in is_pair.iter_mut().take(pairs) {
        *flag = true;
    }
    rng.shuffle(&mut is_pair);
    let mut tables = Vec::with_capacity(n);
    let mut address = 1u64;
    let mut table = |rng: &mut Rng, snapshot_min: u64, key_min: u64, key_max: u64| {
        address += 1;
        TableInfo::new(
            u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64()),
            address,
            snapshot_min,
            key_min,
            key_max,
            rng.between(1, 10_000) as u32,
        )
    };
    for (slot, &pair) in is_pair.iter().enumerate() {
        let base = slot as u64 * slot_width;
        let key_min = base + rng.below(8);
        let key_max = key_min + rng.between(width.0, width.1);
        assert!(key_max < base + slot_width);
        if pair {
            let snapshot_min = rng.between(1, 800);
            let snapshot_max = snapshot_min + rng.below(100);
            let mut old = table(rng, snapshot_min, key_min, key_max);
            old.snapshot_max = snapshot_max;
            // The replacement: the same key_max half the time, else a narrower range, still
            // at least `width.0` keys wide.
            let new_key_max = if rng.chance(1, 2) {
                key_max
            } else {
                rng.between(key_min + width.0, key_max)
            };
            tables.push(old);
            tables.push(table(rng, snapshot_max + 1, key_min, new_key_max));
        } else {
            let snapshot_min = rng.between(1, 1_000);
            tables.push(table(rng, snapshot_min, key_min, key_max));
        }
    }
    assert_eq!(tables.len(), n);
    rng.shuffle(&mut tables);
    tables
}

fn sorted(tables: &[Table]) -> Vec<Table> {
    let mut sorted = tables.to_vec();
    sorted.sort_by_key(|table| (table.key_max, table.snapshot_min));
    sorted
}

impl Workload {
    fn new(n: usize) -> Workload {
        let mut rng = Rng::multiply_shift(0x5EED ^ n as u64);
        let tables = generate_level(&mut rng, n, SLOT_WIDTH, (0, 40));
        let k = (n / 16).clamp(1, 256);
        let held = tables[n - k..].to_vec();
        let mut live: Vec<Table> = tables.iter().filter(|t| t.is_live()).copied().collect();
        rng.shuffle(&mut live);
        // Level A: slots of 8 B slots; each table spans 72..=440 keys, so it overlaps at
        // least one visible table of B and the sweep never stops early (checked below).
        let tables_a = generate_level(&mut rng, (n / 8).max(1), 8 * SLOT_WIDTH, (72, 440));
        let sorted_a = sorted(&tables_a);
        let sorted = sorted(&tables);
        assert_every_table_overlaps(&sorted_a, &sorted);
        let finds = (0..QUERY_COUNT)
            .map(|_| tables[rng.below(n as u64) as usize])
            .collect();
        let slots = (n - n / 16) as u64;
        let ranges = (0..QUERY_COUNT)
            .map(|_| {
                let first = rng.below((slots - 8).max(1));
                KeyRange::new(first * SLOT_WIDTH, (first + 8) * SLOT_WIDTH - 1).unwrap()
            })
            .collect();
        Workload {
            n,
            sorted,
            sorted_a,
            tables,
            held,
            live,
            tables_a,
            finds,
            ranges,
        }
    }

    /// The tables a structure starts with: all but `held`.
    fn prefill(&self) -> &[Table] {
        &self.tables[..self.n - self.held.len()]
    }
}

// ---------------------------------------------------------------------------------------
// Structures

fn level_pool(node_size: usize, n: usize) -> NodePool {
    NodePool::new(
        node_size,
        ManifestLevel::<u64>::nodes_needed(node_size, n as u32).unwrap(),
    )
    .unwrap()
}

fn level<'p>(pool: &'p NodePool, n: usize, tables: &[Table]) -> ManifestLevel<'p, u64> {
    let mut level = ManifestLevel::new(pool, n as u32).unwrap();
    // Benchmarks get `verify` compiled in (self dev-dependency): turn the O(n) checks off.
    level.set_auto_verify(false);
    for table in tables {
        level.insert_table(*table).unwrap();
    }
    level
}

fn baseline<L: LevelOps>(mut level: L, tables: &[Table]) -> L {
    for table in tables {
        level.insert(*table);
    }
    level
}

// ---------------------------------------------------------------------------------------
// Benchmarks: each takes the structure at `n - k` tables (insert) or `n` (the rest).

const LATEST: [u64; 1] = [SNAPSHOT_LATEST];

fn id(name: &str, n: usize) -> BenchmarkId {
    BenchmarkId::new(name, n)
}

/// Time per insert near size `n`: insert `held` (timed), remove it again (not timed).
fn bench_insert<L: LevelOps>(
    g: &mut BenchmarkGroup<WallTime>,
    name: &str,
    level: &mut L,
    w: &Workload,
) {
    assert_eq!(level.len(), w.n - w.held.len());
    let mut batch = Vec::with_capacity(w.held.len());
    let mut cursor = 0;
    g.bench_function(id(name, w.n), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut remaining = iters;
            while remaining > 0 {
                batch.clear();
                while batch.len() < w.held.len() && (batch.len() as u64) < remaining {
                    batch.push(w.held[cursor]);
                    cursor = (cursor + 1) % w.held.len();
                }
                let start = Instant::now();
                for table in &batch {
                    level.insert(black_box(*table));
                }
                total += start.elapsed();
                for table in batch.iter().rev() {
                    level.remove(table);
                }
                remaining -= batch.len() as u64;
            }
            total
        })
    });
    assert_eq!(level.len(), w.n - w.held.len());
}

/// Time per remove at size `n`: remove `held` in random order (timed), reinsert (not).
fn bench_remove<L: LevelOps>(
    g: &mut BenchmarkGroup<WallTime>,
    name: &str,
    level: &mut L,
    w: &Workload,
) {
    assert_eq!(level.len(), w.n);
    let mut batch = Vec::with_capacity(w.held.len());
    let mut cursor = 0;
    g.bench_function(id(name, w.n), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut remaining = iters;
            while remaining > 0 {
                batch.clear();
                while batch.len() < w.held.len() && (batch.len() as u64) < remaining {
                    // A different order than insertion: walk `held` backwards.
                    batch.push(w.held[w.held.len() - 1 - cursor]);
                    cursor = (cursor + 1) % w.held.len();
                }
                let start = Instant::now();
                for table in &batch {
                    level.remove(black_box(table));
                }
                total += start.elapsed();
                for table in &batch {
                    level.insert(*table);
                }
                remaining -= batch.len() as u64;
            }
            total
        })
    });
    assert_eq!(level.len(), w.n);
}

/// Time per `set_snapshot_max` (look the table up, retire it) on a level of `n`; when every
/// live table is retired the structure is rebuilt (not timed) in ascending order.
fn bench_retire<L: LevelOps>(
    g: &mut BenchmarkGroup<WallTime>,
    name: &str,
    level: &mut L,
    w: &Workload,
) {
    let mut cursor = 0;
    g.bench_function(id(name, w.n), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut remaining = iters;
            while remaining > 0 {
                // Rebuilt in ascending order first (untimed), whatever earlier ops left.
                if cursor == 0 || cursor == w.live.len() {
                    level.rebuild_sorted(&w.sorted);
                    cursor = 0;
                }
                let batch = remaining.min((w.live.len() - cursor) as u64) as usize;
                let start = Instant::now();
                for table in &w.live[cursor..cursor + batch] {
                    level.retire(black_box(table), SNAPSHOT_CURRENT);
                }
                total += start.elapsed();
                cursor += batch;
                remaining -= batch as u64;
            }
            total
        })
    });
    level.rebuild_sorted(&w.sorted);
}

fn bench_iterate<L: LevelOps>(
    g: &mut BenchmarkGroup<WallTime>,
    name: &str,
    level: &L,
    w: &Workload,
    direction: Direction,
) {
    g.bench_function(id(name, w.n), |b| {
        b.iter(|| {
            let mut sum = 0u64;
            level.for_each(Query::visible(&LATEST).direction(direction), |table| {
                sum = sum.wrapping_add(table.address);
            });
            black_box(sum)
        })
    });
}

fn bench_range<L: LevelOps>(g: &mut BenchmarkGroup<WallTime>, name: &str, level: &L, w: &Workload) {
    let mut i = 0;
    g.bench_function(id(name, w.n), |b| {
        b.iter(|| {
            let range = w.ranges[i % QUERY_COUNT];
            i += 1;
            let mut sum = 0u64;
            level.for_each(Query::visible(&LATEST).within(black_box(range)), |table| {
                sum = sum.wrapping_add(table.address);
            });
            black_box(sum)
        })
    });
}

fn bench_range_start<L: LevelOps>(
    g: &mut BenchmarkGroup<WallTime>,
    name: &str,
    level: &L,
    w: &Workload,
) {
    let mut i = 0;
    g.bench_function(id(name, w.n), |b| {
        b.iter(|| {
            let range = w.ranges[i % QUERY_COUNT];
            i += 1;
            black_box(
                level
                    .first(Query::visible(&LATEST).within(black_box(range)))
                    .map(|table| table.address),
            )
        })
    });
}

fn bench_find<L: LevelOps>(g: &mut BenchmarkGroup<WallTime>, name: &str, level: &L, w: &Workload) {
    let mut i = 0;
    g.bench_function(id(name, w.n), |b| {
        b.iter(|| {
            let table = &w.finds[i % QUERY_COUNT];
            i += 1;
            black_box(level.find(black_box(table)).map(|table| table.address))
        })
    });
}

fn bench_next_table_walk<L: LevelOps>(
    g: &mut BenchmarkGroup<WallTime>,
    name: &str,
    level: &L,
    w: &Workload,
) {
    g.bench_function(id(name, w.n), |b| {
        b.iter(|| {
            let mut args = NextTable {
                snapshot: SNAPSHOT_LATEST,
                key_range: KeyRange::full(),
                key_exclusive: None,
                direction: Direction::Ascending,
            };
            let mut sum = 0u64;
            while let Some(table) = level.next_table(black_box(args)) {
                sum = sum.wrapping_add(table.address);
                args.key_exclusive = Some(table.key_max);
            }
            black_box(sum)
        })
    });
}

fn bench_overlapping<L: LevelOps>(
    g: &mut BenchmarkGroup<WallTime>,
    name: &str,
    level: &L,
    w: &Workload,
) {
    let mut i = 0;
    g.bench_function(id(name, w.n), |b| {
        b.iter(|| {
            let range = w.ranges[i % QUERY_COUNT];
            i += 1;
            let overlap = level.overlapping(black_box(range), SNAPSHOT_LATEST, 8);
            black_box(overlap.map(|o| (o.tables().len(), o.key_range())))
        })
    });
}

fn bench_least_overlap<L: LevelOps>(
    g: &mut BenchmarkGroup<WallTime>,
    name: &str,
    level_a: &L,
    level_b: &L,
    w: &Workload,
) {
    g.bench_function(id(name, w.n), |b| {
        b.iter(|| {
            let answer = level_a.least_overlap(black_box(level_b), SNAPSHOT_LATEST, 8);
            black_box(answer.map(|(table, overlap)| (table.address, overlap.tables().len())))
        })
    });
}

/// One structure of every kind, at one size: the main structure and level A.
macro_rules! for_each_structure {
    ($s:ident, |$name:ident, $main:ident, $a:ident| $body:block) => {{
        {
            let $name = "level_1k";
            let $main = &mut $s.level_1k;
            let $a = &$s.level_1k_a;
            $body
        }
        {
            let $name = "level_2k";
            let $main = &mut $s.level_2k;
            let $a = &$s.level_2k_a;
            $body
        }
        {
            let $name = "sorted_vec";
            let $main = &mut $s.sorted_vec;
            let $a = &$s.sorted_vec_a;
            $body
        }
        {
            let $name = "btreemap";
            let $main = &mut $s.btreemap;
            let $a = &$s.btreemap_a;
            $body
        }
        {
            let $name = "indexset";
            let $main = &mut $s.indexset;
            let $a = &$s.indexset_a;
            $body
        }
    }};
}

struct Structures<'p> {
    level_1k: ManifestLevel<'p, u64>,
    level_1k_a: ManifestLevel<'p, u64>,
    level_2k: ManifestLevel<'p, u64>,
    level_2k_a: ManifestLevel<'p, u64>,
    sorted_vec: SortedVecLevel,
    sorted_vec_a: SortedVecLevel,
    btreemap: BTreeMapLevel,
    btreemap_a: BTreeMapLevel,
    indexset: IndexSetLevel,
    indexset_a: IndexSetLevel,
}

fn sorted_vec(n: usize, tables: &[Table]) -> SortedVecLevel {
    // Same final state as inserting in random order, without the O(n²) build.
    let mut level = SortedVecLevel::new(n);
    level.rebuild_sorted(&sorted(tables));
    level
}

fn configure(g: &mut BenchmarkGroup<WallTime>, n: usize, slow: bool) {
    if n >= 262_144 || slow {
        g.sample_size(10);
    } else {
        g.sample_size(20);
    }
    if slow {
        g.sampling_mode(SamplingMode::Flat);
    }
}

fn bench_size(c: &mut Criterion, n: usize) {
    let w = Workload::new(n);
    let n_a = w.tables_a.len();
    let pools = [
        level_pool(1024, n),
        level_pool(1024, n_a),
        level_pool(2048, n),
        level_pool(2048, n_a),
    ];
    let mut s = Structures {
        level_1k: level(&pools[0], n, w.prefill()),
        level_1k_a: level(&pools[1], n_a, &w.tables_a),
        level_2k: level(&pools[2], n, w.prefill()),
        level_2k_a: level(&pools[3], n_a, &w.tables_a),
        sorted_vec: sorted_vec(n, w.prefill()),
        sorted_vec_a: sorted_vec(n_a, &w.tables_a),
        btreemap: baseline(BTreeMapLevel::new(n), w.prefill()),
        btreemap_a: baseline(BTreeMapLevel::new(n_a), &w.tables_a),
        indexset: baseline(IndexSetLevel::new(n), w.prefill()),
        indexset_a: baseline(IndexSetLevel::new(n_a), &w.tables_a),
    };
    debug_assert!(w.sorted_a.len() == n_a);

    let mut g = c.benchmark_group("insert");
    configure(&mut g, n, false);
    for_each_structure!(s, |name, main, _a| {
        bench_insert(&mut g, name, main, &w);
    });
    g.finish();
    for_each_structure!(s, |_name, main, _a| {
        for table in &w.held {
            main.insert(*table);
        }
    });

    let mut g = c.benchmark_group("remove");
    configure(&mut g, n, false);
    for_each_structure!(s, |name, main, _a| {
        bench_remove(&mut g, name, main, &w);
    });
    g.finish();

    let slow = n >= 32_768;
    let mut g = c.benchmark_group("iter_visible_asc");
    configure(&mut g, n, slow);
    g.throughput(Throughput::Elements(n as u64));
    for_each_structure!(s, |name, main, _a| {
        bench_iterate(&mut g, name, &*main, &w, Direction::Ascending);
    });
    g.finish();

    let mut g = c.benchmark_group("iter_visible_desc");
    configure(&mut g, n, slow);
    g.throughput(Throughput::Elements(n as u64));
    for_each_structure!(s, |name, main, _a| {
        bench_iterate(&mut g, name, &*main, &w, Direction::Descending);
    });
    g.finish();

    let mut g = c.benchmark_group("range_8");
    configure(&mut g, n, false);
    for_each_structure!(s, |name, main, _a| {
        bench_range(&mut g, name, &*main, &w);
    });
    g.finish();

    let mut g = c.benchmark_group("range_start");
    configure(&mut g, n, false);
    for_each_structure!(s, |name, main, _a| {
        bench_range_start(&mut g, name, &*main, &w);
    });
    g.finish();

    let mut g = c.benchmark_group("find");
    configure(&mut g, n, false);
    for_each_structure!(s, |name, main, _a| {
        bench_find(&mut g, name, &*main, &w);
    });
    g.finish();

    let mut g = c.benchmark_group("next_table_walk");
    configure(&mut g, n, true);
    g.throughput(Throughput::Elements(n as u64));
    for_each_structure!(s, |name, main, _a| {
        bench_next_table_walk(&mut g, name, &*main, &w);
    });
    g.finish();

    let mut g = c.benchmark_group("overlapping");
    configure(&mut g, n, false);
    for_each_structure!(s, |name, main, _a| {
        bench_overlapping(&mut g, name, &*main, &w);
    });
    g.finish();

    let mut g = c.benchmark_group("least_overlap");
    configure(&mut g, n, slow);
    g.throughput(Throughput::Elements((n + n_a) as u64));
    for_each_structure!(s, |name, main, a| {
        bench_least_overlap(&mut g, name, a, &*main, &w);
    });
    g.finish();

    // After `compact()` (the level packed into nodes 15/16 full, in pool order; nothing for the
    // baselines).
    for (group, direction) in [
        ("iter_compacted_asc", Direction::Ascending),
        ("iter_compacted_desc", Direction::Descending),
    ] {
        let mut g = c.benchmark_group(group);
        configure(&mut g, n, slow);
        g.throughput(Throughput::Elements(n as u64));
        for_each_structure!(s, |name, main, _a| {
            main.compact();
            bench_iterate(&mut g, name, &*main, &w, direction);
        });
        g.finish();
    }

    let mut g = c.benchmark_group("least_overlap_compacted");
    configure(&mut g, n, slow);
    g.throughput(Throughput::Elements((n + n_a) as u64));
    for_each_structure!(s, |name, main, a| {
        main.compact();
        bench_least_overlap(&mut g, name, a, &*main, &w);
    });
    g.finish();

    // Last: it leaves the structures rebuilt in ascending order.
    let mut g = c.benchmark_group("set_snapshot_max");
    configure(&mut g, n, false);
    for_each_structure!(s, |name, main, _a| {
        bench_retire(&mut g, name, main, &w);
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------
// Memory

/// Bytes in use in the side tables of a level's segmented array holding `node_count` nodes
/// (per node: `nodes`, `counts`, `offsets`: `u32` each, `fences: K`; per 128 nodes:
/// `block_starts: u32`; per 32 nodes: `block_fences: K`; per 512 nodes: `group_fences: K`).
fn side_table_bytes<K>(node_count: usize) -> usize {
    let key = core::mem::size_of::<K>();
    node_count * (3 * 4 + key)
        + node_count.div_ceil(128).max(1) * 4
        + node_count.div_ceil(32) * key
        + node_count.div_ceil(512) * key
}

struct MemoryRow {
    structure: &'static str,
    n: usize,
    reserved: usize,
    used: usize,
    detail: String,
}

fn memory_rows(n: usize) -> Vec<MemoryRow> {
    let w = Workload::new(n);
    let mut rows = Vec::new();
    for (structure, node_size) in [("level_1k", 1024usize), ("level_2k", 2048)] {
        let ((pool, nodes_max), reserved) = allocated_by(|| {
            let nodes = ManifestLevel::<u64>::nodes_needed(node_size, n as u32).unwrap();
            let pool = NodePool::new(node_size, nodes).unwrap();
            (pool, nodes)
        });
        let (level, side) = allocated_by(|| {
            let mut level = ManifestLevel::new(&pool, n as u32).unwrap();
            level.set_auto_verify(false);
            level
        });
        let mut level = level;
        for table in &w.tables {
            level.insert_table(*table).unwrap();
        }
        let table_nodes_min =
            n.div_ceil(SegmentedArray::<Table>::node_capacity_for(node_size).unwrap() as usize);
        let nodes = level.node_count() as usize;
        // In use: the acquired nodes plus the side-table entries.
        let used = nodes * node_size + side_table_bytes::<u64>(nodes);
        // Inserts with cold caches (the held tables, after a full iteration streamed the
        // level through the caches), before and after `compact()`.
        let insert_cold = |level: &mut ManifestLevel<'_, u64>, compact: bool| {
            for table in &w.held {
                level.remove_table(table).unwrap();
            }
            if compact {
                level.compact();
            } else {
                let latest = [SNAPSHOT_LATEST];
                black_box(level.iter(Query::visible(&latest)).count());
            }
            let start = Instant::now();
            for table in &w.held {
                level.insert_table(*table).unwrap();
            }
            start.elapsed().as_nanos() as f64 / w.held.len() as f64
        };
        let insert_scattered = insert_cold(&mut level, false);
        let start = Instant::now();
        level.compact();
        let compact_time = start.elapsed();
        let packed = level.node_count() as usize;
        let capacity = SegmentedArray::<Table>::node_capacity_for(node_size).unwrap() as usize;
        assert!(
            packed <= n.div_ceil(capacity - capacity / 16),
            "compact() packs the nodes"
        );
        let packed_used = packed * node_size + side_table_bytes::<u64>(packed);
        let insert_packed = insert_cold(&mut level, true);
        rows.push(MemoryRow {
            structure,
            n,
            reserved: reserved + side,
            used,
            detail: format!(
                "pool {} B ({} nodes, worst case), side tables {} B; {} nodes in use (all full: {}); compact() in {:.2} ms: {} nodes, {:.1} B/table in use; cold insert {:.0} ns before, {:.0} ns after",
                pool.memory_bytes(),
                nodes_max,
                side,
                nodes,
                table_nodes_min,
                compact_time.as_secs_f64() * 1e3,
                packed,
                packed_used as f64 / n as f64,
                insert_scattered,
                insert_packed
            ),
        });
        drop(level);
    }
    let (vec, reserved) = allocated_by(|| {
        let mut level = SortedVecLevel::new(n);
        level.rebuild_sorted(&w.sorted);
        level
    });
    rows.push(MemoryRow {
        structure: "sorted_vec",
        n,
        reserved,
        used: vec.len() * core::mem::size_of::<Table>(),
        detail: format!(
            "Vec::with_capacity(n) of {}-byte tables",
            core::mem::size_of::<Table>()
        ),
    });
    drop(vec);
    let (map, bytes) = allocated_by(|| baseline(BTreeMapLevel::new(n), &w.tables));
    rows.push(MemoryRow {
        structure: "btreemap",
        n,
        reserved: bytes,
        used: bytes,
        detail: "allocated nodes, filled in random order".into(),
    });
    drop(map);
    let (map, bytes) = allocated_by(|| baseline(IndexSetLevel::new(n), &w.tables));
    rows.push(MemoryRow {
        structure: "indexset",
        n,
        reserved: bytes,
        used: bytes,
        detail: "allocated nodes and Fenwick tree, filled in random order".into(),
    });
    drop(map);
    rows
}

fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    // <target>/release/deps/level-<hash>
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

fn memory_report() {
    let mut json = String::from("[\n");
    println!("memory, bytes per table (reserved / in use):");
    for n in SIZES {
        for row in memory_rows(n) {
            println!(
                "  {:>10} n={:>7}: {:>8.1} / {:>8.1}   {}",
                row.structure,
                row.n,
                row.reserved as f64 / n as f64,
                row.used as f64 / n as f64,
                row.detail
            );
            if json.len() > 2 {
                json.push_str(",\n");
            }
            json.push_str(&format!(
                "  {{\"structure\": \"{}\", \"n\": {}, \"reserved_bytes\": {}, \"used_bytes\": {}, \"detail\": \"{}\"}}",
                row.structure, row.n, row.reserved, row.used, row.detail
            ));
        }
    }
    json.push_str("\n]\n");
    let dir = criterion_dir();
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("memory.json"), json);
    }
}

/// `LEVEL_PROFILE=<op>/<structure>/<n>/<repetitions>`: runs one operation in a loop, with
/// no criterion around it, for `valgrind --tool=callgrind` or `perf record`. Ops: `iter_asc`,
/// `iter_desc`, `find`, `range_8`, `range_start`, `next_table_walk`, `insert_held` (remove then insert the held tables, as the
/// `insert` benchmark does), `insert_remove`, `retire`, `least_overlap`.
fn profile(spec: &str) {
    let parts: Vec<&str> = spec.split('/').collect();
    let [op, structure, n, repetitions] = parts[..] else {
        panic!("LEVEL_PROFILE=<op>/<structure>/<n>/<repetitions>");
    };
    let n: usize = n.parse().expect("n");
    let repetitions: usize = repetitions.parse().expect("repetitions");
    let w = Workload::new(n);
    let n_a = w.tables_a.len();
    fn run<L: LevelOps>(op: &str, main: &mut L, a: &L, w: &Workload, repetitions: usize) -> u64 {
        let mut sum = 0u64;
        for i in 0..repetitions {
            match op {
                "iter_asc" | "iter_desc" => {
                    let direction = if op == "iter_asc" {
                        Direction::Ascending
                    } else {
                        Direction::Descending
                    };
                    main.for_each(Query::visible(&LATEST).direction(direction), |table| {
                        sum = sum.wrapping_add(table.address)
                    });
                }
                "find" => {
                    let table = &w.finds[i % QUERY_COUNT];
                    sum += main.find(black_box(table)).map_or(0, |t| t.address);
                }
                "range_8" => main.for_each(
                    Query::visible(&LATEST).within(w.ranges[i % QUERY_COUNT]),
                    |table| sum = sum.wrapping_add(table.address),
                ),
                "range_start" => {
                    sum += main
                        .first(Query::visible(&LATEST).within(w.ranges[i % QUERY_COUNT]))
                        .map_or(0, |t| t.address);
                }
                "next_table_walk" => {
                    let mut args = NextTable {
                        snapshot: SNAPSHOT_LATEST,
                        key_range: KeyRange::full(),
                        key_exclusive: None,
                        direction: Direction::Ascending,
                    };
                    while let Some(table) = main.next_table(black_box(args)) {
                        sum = sum.wrapping_add(table.address);
                        args.key_exclusive = Some(table.key_max);
                    }
                }
                "insert_held" => {
                    // What the `insert` benchmark times (the removes are untimed there).
                    for table in &w.held {
                        main.remove(table);
                    }
                    for table in &w.held {
                        main.insert(black_box(*table));
                    }
                }
                "insert_remove" => {
                    let table = w.held[i % w.held.len()];
                    main.remove(black_box(&table));
                    main.insert(table);
                }
                "retire" => {
                    let live = i % w.live.len();
                    if live == 0 {
                        main.rebuild_sorted(&w.sorted);
                    }
                    main.retire(black_box(&w.live[live]), SNAPSHOT_CURRENT);
                }
                "least_overlap" => {
                    sum += a
                        .least_overlap(black_box(main), SNAPSHOT_LATEST, 8)
                        .map_or(0, |(t, _)| t.address);
                }
                _ => panic!("unknown op {op}"),
            }
        }
        sum
    }
    let pools = [
        level_pool(1024, n),
        level_pool(1024, n_a),
        level_pool(2048, n),
        level_pool(2048, n_a),
    ];
    let sum = match structure {
        "level_1k" => run(
            op,
            &mut level(&pools[0], n, &w.tables),
            &level(&pools[1], n_a, &w.tables_a),
            &w,
            repetitions,
        ),
        "level_2k" => run(
            op,
            &mut level(&pools[2], n, &w.tables),
            &level(&pools[3], n_a, &w.tables_a),
            &w,
            repetitions,
        ),
        "sorted_vec" => run(
            op,
            &mut sorted_vec(n, &w.tables),
            &sorted_vec(n_a, &w.tables_a),
            &w,
            repetitions,
        ),
        "btreemap" => run(
            op,
            &mut baseline(BTreeMapLevel::new(n), &w.tables),
            &baseline(BTreeMapLevel::new(n_a), &w.tables_a),
            &w,
            repetitions,
        ),
        "indexset" => run(
            op,
            &mut baseline(IndexSetLevel::new(n), &w.tables),
            &baseline(IndexSetLevel::new(n_a), &w.tables_a),
            &w,
            repetitions,
        ),
        _ => panic!("unknown structure {structure}"),
    };
    println!("{spec}: {sum}");
}

// ---------------------------------------------------------------------------------------
// Interleaved comparison (`LEVEL_COMPARE=1`): robust ratios on a noisy machine.
//
// Criterion measures one benchmark after the other, so a burst of load from other processes
// lands on one structure and not on the others. This mode runs every structure in turn,
// round after round (each round a few milliseconds of the operation), and reports each
// structure's best round (load from other processes only ever adds time) and median round.

/// The operations of the comparison, in the order they run. The `iter_compacted` ones
/// leave the levels packed by `compact()`, so they come after every operation that should
/// see a level filled in random order.
const COMPARE_OPS: [&str; 15] = [
    "insert",
    "insert_cold",
    "remove",
    "iter_visible_asc",
    "iter_visible_desc",
    "range_8",
    "range_start",
    "find",
    "next_table_walk",
    "overlapping",
    "least_overlap",
    "iter_compacted_asc",
    "iter_compacted_desc",
    "least_overlap_compacted",
    "set_snapshot_max",
];

/// One round of `op` on `main` (a level of `n` tables): nanoseconds per operation (per
/// table for whole-level operations). `cursor` carries the retire position across rounds.
fn measure<L: LevelOps>(op: &str, main: &mut L, a: &L, w: &Workload, cursor: &mut usize) -> f64 {
    let latest = Query::visible(&LATEST);
    let n_a = w.tables_a.len();
    let mut sum = 0u64;
    let per_query = |elapsed: Duration, count: usize| elapsed.as_nanos() as f64 / count as f64;
    let value = match op {
        "insert" | "insert_cold" => {
            for table in &w.held {
                main.remove(table);
            }
            if op == "insert_cold" {
                // Untimed: stream the whole structure through the caches, so that the
                // inserts find the nodes the removes touched evicted, as an engine's
                // inserts after a compaction would.
                main.for_each(Query::visible(&LATEST), |table| {
                    sum = sum.wrapping_add(table.address)
                });
            }
            let start = Instant::now();
            for table in &w.held {
                main.insert(black_box(*table));
            }
            per_query(start.elapsed(), w.held.len())
        }
        "remove" => {
            let start = Instant::now();
            for table in w.held.iter().rev() {
                main.remove(black_box(table));
            }
            let elapsed = start.elapsed();
            for table in &w.held {
                main.insert(*table);
            }
            per_query(elapsed, w.held.len())
        }
        "iter_visible_asc" | "iter_visible_desc" | "iter_compacted_asc" | "iter_compacted_desc" => {
            let direction = if op.ends_with("_asc") {
                Direction::Ascending
            } else {
                Direction::Descending
            };
            if op.starts_with("iter_compacted") {
                // Untimed: pack the level into nodes 15/16 full, in pool order (a no-op for the
                // baselines; a cheap one once packed).
                main.compact();
            }
            let start = Instant::now();
            main.for_each(latest.direction(direction), |table| {
                sum = sum.wrapping_add(table.address)
            });
            per_query(start.elapsed(), w.n)
        }
        "range_8" => {
            let start = Instant::now();
            for range in &w.ranges {
                main.for_each(latest.within(black_box(*range)), |table| {
                    sum = sum.wrapping_add(table.address)
                });
            }
            per_query(start.elapsed(), w.ranges.len())
        }
        "range_start" => {
            let start = Instant::now();
            for range in &w.ranges {
                sum += main
                    .first(latest.within(black_box(*range)))
                    .map_or(0, |t| t.address);
            }
            per_query(start.elapsed(), w.ranges.len())
        }
        "find" => {
            let start = Instant::now();
            for table in &w.finds {
                sum += main.find(black_box(table)).map_or(0, |t| t.address);
            }
            per_query(start.elapsed(), w.finds.len())
        }
        "next_table_walk" => {
            let mut args = NextTable {
                snapshot: SNAPSHOT_LATEST,
                key_range: KeyRange::full(),
                key_exclusive: None,
                direction: Direction::Ascending,
            };
            let start = Instant::now();
            while let Some(table) = main.next_table(black_box(args)) {
                sum = sum.wrapping_add(table.address);
                args.key_exclusive = Some(table.key_max);
            }
            per_query(start.elapsed(), w.n)
        }
        "overlapping" => {
            let start = Instant::now();
            for range in &w.ranges {
                let overlap = main.overlapping(black_box(*range), SNAPSHOT_LATEST, 8);
                sum += overlap.map_or(0, |o| o.tables().len() as u64);
            }
            per_query(start.elapsed(), w.ranges.len())
        }
        "least_overlap" | "least_overlap_compacted" => {
            if op == "least_overlap_compacted" {
                // Untimed: B (n tables) packed by `compact()`; A stays as filled.
                main.compact();
            }
            let start = Instant::now();
            let answer = a.least_overlap(black_box(main), SNAPSHOT_LATEST, 8);
            let elapsed = start.elapsed();
            sum += answer.map_or(0, |(t, _)| t.address);
            per_query(elapsed, w.n + n_a)
        }
        "set_snapshot_max" => {
            let batch = 256.min(w.live.len());
            // Rebuilt in ascending order first (untimed), whatever earlier ops left.
            if *cursor == 0 || *cursor + batch > w.live.len() {
                main.rebuild_sorted(&w.sorted);
                *cursor = 0;
            }
            let start = Instant::now();
            for table in &w.live[*cursor..*cursor + batch] {
                main.retire(black_box(table), SNAPSHOT_CURRENT);
            }
            *cursor += batch;
            per_query(start.elapsed(), batch)
        }
        _ => panic!("unknown op {op}"),
    };
    black_box(sum);
    value
}

fn median(values: &mut [f64]) -> f64 {
    // Skipped structures have NaN rounds (0 / 0): `total_cmp` sorts them without a panic.
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Whether `LEVEL_COMPARE_STRUCTURES` (a comma-separated list; all when unset) selects
/// `name`: to profile one structure's rounds alone.
fn structure_selected(name: &str) -> bool {
    match std::env::var("LEVEL_COMPARE_STRUCTURES") {
        Ok(list) => list.split(',').any(|x| x == name),
        Err(_) => true,
    }
}

fn compare(sizes: &[usize], rounds: usize) {
    let names = ["level_1k", "level_2k", "sorted_vec", "btreemap", "indexset"];
    let mut json = String::from("[\n");
    for &n in sizes {
        let w = Workload::new(n);
        let n_a = w.tables_a.len();
        let pools = [
            level_pool(1024, n),
            level_pool(1024, n_a),
            level_pool(2048, n),
            level_pool(2048, n_a),
        ];
        let mut s = Structures {
            level_1k: level(&pools[0], n, &w.tables),
            level_1k_a: level(&pools[1], n_a, &w.tables_a),
            level_2k: level(&pools[2], n, &w.tables),
            level_2k_a: level(&pools[3], n_a, &w.tables_a),
            sorted_vec: sorted_vec(n, &w.tables),
            sorted_vec_a: sorted_vec(n_a, &w.tables_a),
            btreemap: baseline(BTreeMapLevel::new(n), &w.tables),
            btreemap_a: baseline(BTreeMapLevel::new(n_a), &w.tables_a),
            indexset: baseline(IndexSetLevel::new(n), &w.tables),
            indexset_a: baseline(IndexSetLevel::new(n_a), &w.tables_a),
        };
        let only = std::env::var("LEVEL_COMPARE_OPS").ok();
        let selected = |op: &str| {
            only.as_deref()
                .is_none_or(|list| list.split(',').any(|x| x == op))
        };
        for op in COMPARE_OPS.into_iter().filter(|op| selected(op)) {
            let mut samples: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
            let mut cursors = [0usize; 5];
            for _ in 0..rounds {
                for_each_structure!(s, |name, main, a| {
                    let index = names.iter().position(|x| *x == name).unwrap();
                    // Repeat within the round until it lasts a few milliseconds.
                    let start = Instant::now();
                    let (mut total, mut count) = (0.0, 0);
                    while structure_selected(name)
                        && (count == 0 || start.elapsed() < Duration::from_millis(5))
                    {
                        total += measure(op, main, a, &w, &mut cursors[index]);
                        count += 1;
                    }
                    samples[index].push(total / count as f64);
                });
            }
            let medians: Vec<f64> = samples.iter_mut().map(|s| median(s)).collect();
            // Sorted by `median`: the first sample is the best round.
            let minimums: Vec<f64> = samples.iter().map(|s| s[0]).collect();
            println!(
                "{op:>18} n={n:>7}: {}",
                names
                    .iter()
                    .zip(&minimums)
                    .map(|(name, m)| format!("{name} {m:.1} ns"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for ((name, median), min) in names.iter().zip(&medians).zip(&minimums) {
                if json.len() > 2 {
                    json.push_str(",\n");
                }
                json.push_str(&format!(
                    "  {{\"op\": \"{op}\", \"structure\": \"{name}\", \"n\": {n}, \"min_ns\": {min:.3}, \"median_ns\": {median:.3}, \"rounds\": {rounds}}}"
                ));
            }
        }
    }
    json.push_str("\n]\n");
    let dir = criterion_dir();
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("compare.json"), json);
    }
}

fn main() {
    if let Ok(spec) = std::env::var("LEVEL_PROFILE") {
        profile(&spec);
        return;
    }
    let sizes: Vec<usize> = match std::env::var("BENCH_SIZES") {
        Ok(list) => list
            .split(',')
            .map(|n| n.trim().parse().expect("BENCH_SIZES"))
            .collect(),
        Err(_) => SIZES.to_vec(),
    };
    if let Ok(rounds) = std::env::var("LEVEL_COMPARE") {
        compare(&sizes, rounds.parse().expect("LEVEL_COMPARE=<rounds>"));
        return;
    }
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    // `cargo test --benches` runs every benchmark once: skip the memory report there.
    let test_mode = std::env::args().any(|arg| arg == "--test" || arg == "--list");
    if !test_mode && std::env::var_os("BENCH_SKIP_MEMORY").is_none() {
        memory_report();
    }
    for n in sizes {
        bench_size(&mut criterion, n);
    }
    criterion.final_summary();
}
