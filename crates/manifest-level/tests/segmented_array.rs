//! The sorted segmented array and its node pool, against plain `Vec` models.
//!
//! Every check recomputes the node structure independently of `SegmentedArray::verify`
//! (which the `verify` feature also runs after every operation).

mod common;

use common::Rng;
use manifest_level::{Cursor, Element, Error, LayoutEvents, NodePool, SegmentedArray};

/// A 24-byte element keyed by `key`, whose `tag` tells equal keys apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Record {
    key: u64,
    tag: u64,
    check: u64,
}

impl Element for Record {
    type Key = u64;
    fn key(&self) -> u64 {
        self.key
    }
}

/// What the tests need of an element type.
trait TestElement: Element + PartialEq {
    /// An element with key `key` (truncated to the type) and, where the type can carry one,
    /// a distinguishing `tag`.
    fn make(key: u64, tag: u64) -> Self;
    fn key_at(key: u64) -> Self::Key {
        Self::make(key, 0).key()
    }
}

impl TestElement for u32 {
    fn make(key: u64, _: u64) -> u32 {
        key as u32
    }
}
impl TestElement for u64 {
    fn make(key: u64, _: u64) -> u64 {
        key
    }
}
impl TestElement for u128 {
    fn make(key: u64, _: u64) -> u128 {
        // Use the high half too, keeping the order of `key`.
        (u128::from(key) << 64) | u128::from(key.rotate_left(17))
    }
}
impl TestElement for Record {
    fn make(key: u64, tag: u64) -> Record {
        Record {
            key,
            tag,
            check: !tag,
        }
    }
}

const NODE_SIZES: [usize; 4] = [32, 64, 128, 256];

/// Node sizes where at least two `T` fit.
fn node_sizes<T: Element>() -> impl Iterator<Item = usize> {
    NODE_SIZES
        .into_iter()
        .filter(|&size| size / core::mem::size_of::<T>() >= 2)
}

/// Checks `array` against `model` from scratch: node structure, contents, cursors, and
/// iterators in both directions over the whole array and some random ranges.
fn check<T: TestElement>(array: &SegmentedArray<'_, T>, model: &[T], rng: &mut Rng) {
    array.verify();
    let len = model.len() as u32;
    assert_eq!(array.len(), len);
    assert_eq!(array.is_empty(), model.is_empty());

    // Node structure, recomputed.
    let c = array.node_capacity();
    let h = c / 2;
    let node_count = array.node_count();
    assert_eq!(node_count == 0, model.is_empty());
    let mut joined: Vec<T> = Vec::with_capacity(model.len());
    for node in 0..node_count {
        let node_len = array.node_len(node);
        assert!(node_len >= 1 && node_len <= c, "node {node} has {node_len}");
        if node + 1 < node_count {
            assert!(node_len >= h, "node {node} under half: {node_len} < {h}");
        }
        let elements = array.node_elements(node);
        assert_eq!(elements.len() as u32, node_len);
        joined.extend_from_slice(elements);
    }
    assert_eq!(joined, model, "node contents");
    assert!(u64::from(node_count) <= u64::from(len).div_ceil(u64::from(h)));

    // Whole-array iteration, both ways.
    let forward: Vec<T> = array.iter().copied().collect();
    assert_eq!(forward, model);
    let backward: Vec<T> = array.iter().rev().copied().collect();
    assert!(backward.iter().eq(model.iter().rev()));
    assert_eq!(array.iter().len(), model.len());

    // Cursors and indexes.
    let mut previous: Option<Cursor> = None;
    for index in 0..=len {
        let cursor = array.cursor(index);
        assert_eq!(array.index(cursor), index);
        if let Some(previous) = previous {
            assert!(previous < cursor, "cursors out of order at {index}");
        }
        previous = Some(cursor);
        assert_eq!(array.get(index), model.get(index as usize));
        assert_eq!(array.element_at(cursor), model.get(index as usize));
        if index < len {
            assert!(cursor.node < node_count && cursor.relative < array.node_len(cursor.node));
        }
    }
    let end = array.end_cursor();
    assert_eq!(array.cursor(len), end);
    assert_eq!(array.index(end), len);
    assert_eq!(array.element_at(end), None);
    if node_count == 0 {
        assert_eq!(
            end,
            Cursor {
                node: 0,
                relative: 0
            }
        );
    } else {
        assert_eq!(end.node, node_count - 1);
        assert_eq!(end.relative, array.node_len(node_count - 1));
    }

    // Random ranges, forward, backward, and consumed from both ends at once.
    for _ in 0..6 {
        let a = rng.between(0, u64::from(len)) as u32;
        let b = rng.between(0, u64::from(len)) as u32;
        let (a, b) = (a.min(b), a.max(b));
        let expected = &model[a as usize..b as usize];
        assert_eq!(array.range(a, b).len(), expected.len());
        assert!(array.range(a, b).eq(expected.iter()));
        assert!(array.range(a, b).rev().eq(expected.iter().rev()));
        let mut iter = array.range(a, b);
        let (mut front, mut back) = (0usize, expected.len());
        loop {
            let from_front = rng.chance(1, 2);
            let got = if from_front {
                iter.next()
            } else {
                iter.next_back()
            };
            match got {
                None => {
                    assert_eq!(front, back);
                    assert!(iter.next().is_none() && iter.next_back().is_none());
                    break;
                }
                Some(element) if from_front => {
                    assert_eq!(element, &expected[front]);
                    front += 1;
                }
                Some(element) => {
                    back -= 1;
                    assert_eq!(element, &expected[back]);
                }
            }
            assert_eq!(iter.len(), back - front);
        }
    }
}

/// A positional operation of a build recipe.
#[derive(Clone, Copy, Debug)]
enum Op {
    Insert(u32),
    Remove(u32),
}

/// Operations that produce exactly the node lengths `layout` (each `h..=c` except the last,
/// which is `1..=c`), using only appends, inserts at a node's start, and removes at the end.
fn recipe(c: u32, layout: &[u32]) -> Vec<Op> {
    let h = c / 2;
    let k = layout.len() - 1;
    assert!(layout[..k].iter().all(|&l| l >= h && l <= c));
    assert!(layout[k] >= 1 && layout[k] <= c);
    let mut ops = Vec::new();
    if k == 0 {
        ops.extend((0..layout[0]).map(Op::Insert));
        return ops;
    }
    // Appending (k + 1) * h + 1 elements leaves k nodes at h and a last one at h + 1.
    let appended = (k as u32 + 1) * h + 1;
    ops.extend((0..appended).map(Op::Insert));
    let mut lens = vec![h; k];
    lens.push(h + 1);
    for (node, &target) in layout.iter().enumerate() {
        while lens[node] < target {
            let start: u32 = lens[..node].iter().sum();
            ops.push(Op::Insert(start));
            lens[node] += 1;
        }
        while lens[node] > target {
            assert_eq!(node, k);
            let len: u32 = lens.iter().sum();
            ops.push(Op::Remove(len - 1));
            lens[node] -= 1;
        }
    }
    ops
}

/// An array with node lengths exactly `layout` whose element at position `p` is `value(p)`.
fn build<'pool, T: TestElement>(
    pool: &'pool NodePool,
    layout: &[u32],
    value: impl Fn(usize) -> T,
) -> (SegmentedArray<'pool, T>, Vec<T>) {
    let c = SegmentedArray::<T>::node_capacity_for(pool.node_size()).unwrap();
    // Room for the recipe's intermediate states and a few more elements.
    let capacity = (layout.len() as u32 + 4) * c;
    let mut array = SegmentedArray::<T>::new(pool, capacity).unwrap();
    let ops = recipe(array.node_capacity(), layout);
    // Dry run on tokens to learn where each inserted element ends up.
    let mut tokens: Vec<usize> = Vec::new();
    let mut inserted = 0;
    for op in &ops {
        match *op {
            Op::Insert(at) => {
                tokens.insert(at as usize, inserted);
                inserted += 1;
            }
            Op::Remove(at) => {
                tokens.remove(at as usize);
            }
        }
    }
    let mut values: Vec<T> = (0..inserted).map(|_| value(0)).collect();
    for (position, &token) in tokens.iter().enumerate() {
        values[token] = value(position);
    }
    let mut next = 0;
    for op in &ops {
        match *op {
            Op::Insert(at) => {
                array.insert(at, values[next]).unwrap();
                next += 1;
            }
            Op::Remove(at) => {
                array.remove(at).unwrap();
            }
        }
    }
    let lens: Vec<u32> = (0..array.node_count()).map(|n| array.node_len(n)).collect();
    assert_eq!(lens, layout, "the recipe must produce the layout");
    let model: Vec<T> = (0..tokens.len()).map(&value).collect();
    assert!(array.iter().eq(model.iter()));
    (array, model)
}

/// Node layouts of one to three nodes covering every fill class: half, half + 1 and full
/// for inner nodes; 1, half, half + 1 and full for the last one.
fn layouts(c: u32) -> Vec<Vec<u32>> {
    let h = c / 2;
    let mut inner = vec![h, h + 1, c];
    inner.dedup();
    let mut last = vec![1, h, h + 1, c];
    last.sort_unstable();
    last.dedup();
    let mut out: Vec<Vec<u32>> = last.iter().map(|&l| vec![l]).collect();
    for &a in &inner {
        for &z in &last {
            out.push(vec![a, z]);
            for &b in &inner {
                out.push(vec![a, b, z]);
            }
        }
    }
    out
}

/// Node starts of a layout.
fn starts(layout: &[u32]) -> Vec<u32> {
    let mut starts = vec![0];
    for &l in layout {
        starts.push(starts.last().unwrap() + l);
    }
    starts
}

fn pool_for<T: Element>(node_size: usize, elements: u32) -> NodePool {
    let nodes = SegmentedArray::<T>::nodes_needed(node_size, elements).unwrap();
    NodePool::new(node_size, nodes).unwrap()
}

fn boundary_inserts<T: TestElement>(seed: u64) {
    let mut rng = Rng::new(seed);
    for node_size in node_sizes::<T>() {
        let pool = NodePool::new(node_size, 64).unwrap();
        let c = SegmentedArray::<T>::node_capacity_for(node_size).unwrap();
        assert_eq!(c % 2, 0);
        assert_eq!(c as usize, (node_size / core::mem::size_of::<T>()) & !1);
        let h = c / 2;
        for layout in layouts(c) {
            let starts = starts(&layout);
            let len = *starts.last().unwrap();
            let mut positions: Vec<u32> = Vec::new();
            for (node, &l) in layout.iter().enumerate() {
                let s = starts[node];
                for p in [s, s + 1, s + h - 1, s + h, s + h + 1, s + l - 1, s + l] {
                    positions.push(p.min(len));
                }
            }
            positions.sort_unstable();
            positions.dedup();
            for position in positions {
                let (mut array, mut model) =
                    build::<T>(&pool, &layout, |p| T::make(2 * p as u64 + 2, p as u64));
                // The insert goes to the node holding `position`, or the last one at the end.
                let node = if position == len {
                    layout.len() - 1
                } else {
                    starts.partition_point(|&s| s <= position) - 1
                };
                let splits = u32::from(layout[node] == c);
                assert_eq!(array.nodes_needed_to_insert(position), splits);
                let free = pool.free_count();
                let element = T::make(2 * u64::from(position) + 1, 1_000_000);
                array.insert(position, element).unwrap();
                model.insert(position as usize, element);
                check(&array, &model, &mut rng);
                assert_eq!(array.node_count(), layout.len() as u32 + splits);
                assert_eq!(free - pool.free_count(), splits);
                let lens: Vec<u32> = (0..array.node_count()).map(|n| array.node_len(n)).collect();
                if splits == 1 {
                    // The full node became two halves, one of them holding the new element.
                    let pair = (lens[node], lens[node + 1]);
                    assert!(
                        pair == (h + 1, h) || pair == (h, h + 1),
                        "{layout:?} {pair:?}"
                    );
                    let relative = position - starts[node];
                    if relative < h {
                        assert_eq!(pair, (h + 1, h));
                    } else if relative > h {
                        assert_eq!(pair, (h, h + 1));
                    }
                    assert_eq!(lens[..node], layout[..node]);
                    assert_eq!(lens[node + 2..], layout[node + 1..]);
                } else {
                    let mut expected = layout.clone();
                    expected[node] += 1;
                    assert_eq!(lens, expected);
                }
                drop(array);
                assert_eq!(pool.free_count(), pool.node_count());
            }
        }
    }
}

fn boundary_removes<T: TestElement>(seed: u64) {
    let mut rng = Rng::new(seed);
    for node_size in node_sizes::<T>() {
        let pool = NodePool::new(node_size, 64).unwrap();
        let c = SegmentedArray::<T>::node_capacity_for(node_size).unwrap();
        let h = c / 2;
        for layout in layouts(c) {
            let starts = starts(&layout);
            let len = *starts.last().unwrap();
            let mut removes: Vec<(u32, u32)> = vec![(0, len), (1, len.saturating_sub(2)), (0, 0)];
            for (node, &l) in layout.iter().enumerate() {
                let s = starts[node];
                removes.extend([
                    (s, 1),
                    (s + l - 1, 1),
                    (s + l / 2, 1),
                    // Leave the node at exactly half - 1.
                    (s, (l + 1).saturating_sub(h)),
                    (s + h - 1, (l + 1).saturating_sub(h)),
                    // The whole node, and spans into the next node.
                    (s, l),
                    (s + l - 1, 2),
                    (s + l.saturating_sub(2), 3),
                    (s + 1, l),
                    (s, l + 1),
                    (s + l - 1, h + 1),
                    // Across many nodes, to the end.
                    (s + 1, len),
                ]);
            }
            for (index, count) in removes {
                let index = index.min(len);
                let count = count.min(len - index);
                let (mut array, mut model) =
                    build::<T>(&pool, &layout, |p| T::make(p as u64, p as u64));
                array.remove_range(index, count).unwrap();
                model.drain(index as usize..(index + count) as usize);
                check(&array, &model, &mut rng);
                assert_eq!(pool.acquired_count(), array.node_count());
                // A single removal from an inner node at half must merge or borrow.
                let node = starts.partition_point(|&s| s <= index).saturating_sub(1);
                if count == 1 && node + 1 < layout.len() && layout[node] == h {
                    let merged = h - 1 + layout[node + 1] <= c;
                    let expected = layout.len() as u32 - u32::from(merged);
                    assert_eq!(array.node_count(), expected, "{layout:?} remove {index}");
                }
            }
        }
    }
}

/// `nodes_needed_to_insert_slice` predicts exactly what `insert_slice` acquires, from every
/// boundary of every layout (that prediction is what makes `insert_slice` all or nothing).
fn slice_prediction<T: TestElement>(seed: u64) {
    let mut rng = Rng::new(seed);
    for node_size in node_sizes::<T>().filter(|&size| size <= 128) {
        let pool = NodePool::new(node_size, 64).unwrap();
        let c = SegmentedArray::<T>::node_capacity_for(node_size).unwrap();
        let h = c / 2;
        for layout in layouts(c) {
            let starts = starts(&layout);
            let len = *starts.last().unwrap();
            for &s in &starts {
                for position in [s.saturating_sub(1), s, s + 1, s + h] {
                    let position = position.min(len);
                    let count = *rng.pick(&[1, 2, h, c, c + 1, 2 * c + 1]);
                    let (mut array, mut model) =
                        build::<T>(&pool, &layout, |p| T::make(p as u64, p as u64));
                    let slice: Vec<T> = (0..count)
                        .map(|i| T::make(u64::from(i), 1000 + u64::from(i)))
                        .collect();
                    let needed = array.nodes_needed_to_insert_slice(position, count);
                    let free = pool.free_count();
                    array.insert_slice(position, &slice).unwrap();
                    model.splice(position as usize..position as usize, slice);
                    assert_eq!(free - pool.free_count(), needed, "{layout:?} at {position}");
                    check(&array, &model, &mut rng);
                }
            }
        }
    }
}

fn duplicate_runs<T: TestElement>(seed: u64) {
    let mut rng = Rng::new(seed);
    for node_size in node_sizes::<T>() {
        let pool = NodePool::new(node_size, 64).unwrap();
        let c = SegmentedArray::<T>::node_capacity_for(node_size).unwrap();
        let h = c / 2;
        let shapes = [
            vec![c, c, c],
            vec![h, h, h],
            vec![c, h, 1],
            vec![h + 1, c, h],
        ];
        for layout in shapes {
            let len: u32 = layout.iter().sum();
            for run in [2, h, c - 1, c, c + 1, 2 * c + 1] {
                let run = run.max(1) as usize;
                // Keys 1, 4, 7, ... in runs of `run`; the tag is the position.
                let key_of = |p: usize| 3 * (p / run) as u64 + 1;
                let (mut array, mut model) =
                    build::<T>(&pool, &layout, |p| T::make(key_of(p), p as u64));
                let key_last = key_of(len as usize - 1);
                for key in 0..=key_last + 2 {
                    let expected = model.partition_point(|e| e.key() < T::key_at(key));
                    assert_eq!(
                        array.lower_bound(T::key_at(key)),
                        expected as u32,
                        "key {key}"
                    );
                }
                // Insert a duplicate of a run that crosses a node boundary: it must land first.
                let boundary = (layout[0] as usize).min(model.len() - 1);
                let key = model[boundary].key();
                let first = model.partition_point(|e| e.key() < key);
                let element = T::make(key_of(boundary), 999_999);
                assert_eq!(array.insert_sorted(element).unwrap(), first as u32);
                model.insert(first, element);
                check(&array, &model, &mut rng);
                array.verify_sorted();
                assert_eq!(array.get(first as u32), Some(&element));
                // And a key beyond everything lands at the end.
                let element = T::make(key_last + 5, 7);
                assert_eq!(array.insert_sorted(element).unwrap(), model.len() as u32);
                model.push(element);
                check(&array, &model, &mut rng);
            }
        }
    }
}

/// Random positional inserts (single and slices) and range removes against a `Vec`.
fn random_model<T: TestElement>(seed: u64, ops: usize) {
    for node_size in node_sizes::<T>() {
        let mut rng = Rng::new(seed ^ node_size as u64);
        let capacity = 300;
        let pool = pool_for::<T>(node_size, capacity);
        let mut array = SegmentedArray::<T>::new(&pool, capacity).unwrap();
        let c = array.node_capacity() as u64;
        let mut model: Vec<T> = Vec::new();
        let mut tag = 0u64;
        for op in 0..ops {
            let growing = (op / 150) % 2 == 0;
            let len = model.len() as u64;
            let layout_before = (array.node_count(), array.layout_events());
            let weights = if growing { [6, 1, 2, 1] } else { [2, 1, 5, 2] };
            match rng.weighted(&weights) {
                0 => {
                    let at = rng.between(0, len) as u32;
                    tag += 1;
                    let element = T::make(rng.next_u64(), tag);
                    if model.len() < capacity as usize {
                        array.insert(at, element).unwrap();
                        model.insert(at as usize, element);
                    } else {
                        let error = array.insert(at, element).unwrap_err();
                        assert_eq!(error, Error::CapacityExhausted { capacity });
                    }
                }
                1 => {
                    let at = rng.between(0, len) as u32;
                    let count = rng.between(0, 2 * c) as usize;
                    let elements: Vec<T> = (0..count)
                        .map(|i| T::make(rng.next_u64(), tag + i as u64))
                        .collect();
                    tag += count as u64;
                    if model.len() + count <= capacity as usize {
                        let needed = array.nodes_needed_to_insert_slice(at, count as u32);
                        let free = pool.free_count();
                        array.insert_slice(at, &elements).unwrap();
                        assert_eq!(free - pool.free_count(), needed, "predicted nodes");
                        model.splice(at as usize..at as usize, elements);
                    } else {
                        let error = array.insert_slice(at, &elements).unwrap_err();
                        assert_eq!(error, Error::CapacityExhausted { capacity });
                    }
                }
                2 if len > 0 => {
                    let at = rng.below(len) as u32;
                    assert_eq!(array.remove(at).unwrap(), model.remove(at as usize));
                }
                3 if len > 0 => {
                    let at = rng.below(len);
                    let count = rng.between(0, (3 * c).min(len - at)) as u32;
                    array.remove_range(at as u32, count).unwrap();
                    model.drain(at as usize..at as usize + count as usize);
                }
                _ => {}
            }
            if rng.chance(1, 60) {
                // Up to 64 elements per node here (32-256-byte nodes), so packing leaves
                // real slack (all but 1/16), and nodes filled past it since the last
                // packing must keep their elements.
                pack_and_check(&mut array, &model);
            }
            check_layout_events(&array, layout_before);
            if rng.chance(1, 400) {
                array.clear();
                model.clear();
                assert_eq!(pool.free_count(), pool.node_count());
            }
            check(&array, &model, &mut rng);
            assert_eq!(pool.acquired_count(), array.node_count());
        }
        // Every layout path ran (a node of two never borrows: under half is empty, and
        // an empty node merges with any neighbour).
        let events = array.layout_events();
        assert!(events.splits > 0 && events.merges > 0, "{events:?}");
        assert!(events.last_node_releases > 0, "{events:?}");
        assert!(events.pack_elements_moved > 0, "{events:?}");
        assert_eq!(events.borrows_from_next > 0, c > 2, "{events:?}");
        drop(array);
        assert_eq!(pool.free_count(), pool.node_count());
    }
}

/// The layout events account for every node the array gained or lost since `before` (its
/// node count and events then): a first node, splits, less merges, emptied last nodes and
/// nodes packing released.
fn check_layout_events<T: TestElement>(
    array: &SegmentedArray<'_, T>,
    (nodes_before, events_before): (u32, LayoutEvents),
) {
    let events = array.layout_events();
    let first_node = u64::from(nodes_before == 0 && array.node_count() > 0);
    let gained = first_node + events.splits - events_before.splits;
    let lost = (events.merges - events_before.merges)
        + (events.last_node_releases - events_before.last_node_releases)
        + (events.pack_nodes_released - events_before.pack_nodes_released);
    assert_eq!(
        i64::from(array.node_count()) - i64::from(nodes_before),
        gained as i64 - lost as i64,
        "{events_before:?} -> {events:?}"
    );
    assert!(events.borrows_from_next >= events_before.borrows_from_next);
}

/// Over a thousand nodes, so the index over node lengths spans many blocks of 128 nodes
/// and the search fences several groups of 512: inserts, removes, splits and merges in
/// every block, and lookups that cross block and group boundaries, against a `Vec`.
fn many_blocks<T: TestElement>(seed: u64) {
    let nodes_max = blocks_against_vec::<T>(seed, 10_000, 30_000, 1);
    assert!(
        nodes_max > 2 * 512,
        "the test must span several groups of blocks: {nodes_max} nodes"
    );
}

/// The body of `many_blocks`: `ops` random inserts and removes in nodes of 2 (or 4)
/// elements, growing towards `capacity`, shrinking to a sixth of it, growing again, with
/// the structure verified every `verify_every` ops and lookups checked after every op.
/// Returns the most nodes held.
fn blocks_against_vec<T: TestElement>(
    seed: u64,
    capacity: u32,
    ops: u64,
    verify_every: u64,
) -> u32 {
    let mut rng = Rng::new(seed);
    // The smallest node that holds 2 elements: every split and merge moves block starts.
    let node_size = (2 * core::mem::size_of::<T>()).next_multiple_of(16);
    let phase = ops / 4;
    let pool = pool_for::<T>(node_size, capacity);
    let mut array = SegmentedArray::<T>::new(&pool, capacity).unwrap();
    // Structure checks every `verify_every` ops (Miri runs this, slowly).
    array.set_auto_verify(verify_every == 1);
    let half = array.node_capacity() / 2;
    let mut model: Vec<T> = Vec::new();
    let mut nodes_max = 0;
    for op in 0..ops {
        // Grow to about 90% of the capacity, shrink to about a sixth, grow again.
        let growing = (op / phase) % 2 == 0;
        let len = model.len() as u64;
        if (growing && rng.chance(4, 5)) || (!growing && rng.chance(1, 5)) || len == 0 {
            if len < u64::from(capacity) {
                let at = rng.between(0, len) as u32;
                let element = T::make(rng.next_u64(), op);
                array.insert(at, element).unwrap();
                model.insert(at as usize, element);
            }
        } else if rng.chance(1, 10) {
            let at = rng.below(len);
            let count = rng.between(0, (8 * u64::from(half)).min(len - at)) as u32;
            array.remove_range(at as u32, count).unwrap();
            model.drain(at as usize..at as usize + count as usize);
        } else {
            let at = rng.below(len) as u32;
            assert_eq!(array.remove(at).unwrap(), model.remove(at as usize));
        }
        nodes_max = nodes_max.max(array.node_count());
        if op % verify_every == 0 {
            array.verify();
        }
        assert_eq!(array.len() as usize, model.len());
        // Lookups at random indexes and at the first index of random nodes (block edges
        // included): index -> cursor -> index, and the element there.
        for _ in 0..8 {
            if model.is_empty() {
                break;
            }
            let index = rng.below(model.len() as u64) as u32;
            let cursor = array.cursor(index);
            assert_eq!(array.index(cursor), index);
            assert_eq!(array.element_at(cursor), model.get(index as usize));
            let node = rng.below(u64::from(array.node_count())) as u32;
            let start = array.node_start(node);
            assert_eq!(array.cursor(start), Cursor { node, relative: 0 });
            assert_eq!(array.get(start), model.get(start as usize));
        }
        if op % (phase / 3).max(1) == 0 {
            assert!(array.iter().eq(model.iter()));
            assert!(array.iter().rev().eq(model.iter().rev()));
        }
        if op % (phase / 2).max(1) == 1 {
            defragment_and_check(&mut array, &model);
        }
        if op % (phase / 2).max(1) == (phase / 4).max(1) {
            pack_and_check(&mut array, &model);
        }
    }
    assert!(array.iter().eq(model.iter()));
    nodes_max
}

/// `lower_bound` against the model: in long nodes (256 `u32` each, with runs of equal keys),
/// and in an array of 10,000 nodes (20 groups of 32-node blocks) built in order and then
/// mutated all over, with lookups at every group's first key and next to it.
#[test]
#[cfg_attr(miri, ignore)]
fn lower_bound_long_and_short_slices() {
    let mut rng = Rng::new(11);
    // Long nodes: 1024-byte nodes of u32 hold 256 elements.
    let pool = pool_for::<u32>(1024, 3_000);
    let mut array = SegmentedArray::<u32>::new(&pool, 3_000).unwrap();
    let mut model: Vec<u32> = Vec::new();
    for _ in 0..3_000 {
        let key = rng.below(500) as u32;
        let at = model.partition_point(|&e| e < key);
        assert_eq!(array.insert_sorted(key).unwrap(), at as u32);
        model.insert(at, key);
    }
    assert!(array.node_capacity() > 64);
    for key in 0..=501u32 {
        let expected = model.partition_point(|&e| e < key) as u32;
        assert_eq!(array.lower_bound(key), expected, "key {key}");
    }
    // Many blocks and groups of blocks: 32-byte nodes of u32 (8 each), appended in order
    // (each split leaves a half-full node behind): 10,000 nodes.
    let count = 40_000u32;
    let pool = pool_for::<u32>(32, count);
    let mut array = SegmentedArray::<u32>::new(&pool, count).unwrap();
    array.set_auto_verify(false); // one check at the end instead of one per insert
    for key in 0..count {
        array.insert_sorted(2 * key).unwrap();
    }
    assert!(array.node_count() > 16 * 512, "{}", array.node_count());
    array.verify();
    for _ in 0..4_000 {
        let key = rng.below(u64::from(2 * count + 2)) as u32;
        assert_eq!(
            array.lower_bound(key),
            key.div_ceil(2).min(count),
            "key {key}"
        );
    }
    // Sorted removes and inserts all over (fences, block fences and group fences change
    // with first elements, merges and splits), then lookups against the model.
    let mut model: Vec<u32> = array.iter().copied().collect();
    for round in 0..6_000 {
        if round % 100 == 0 {
            array.verify();
        }
        if round % 3 == 2 {
            let key = rng.below(u64::from(2 * count)) as u32;
            let at = model.partition_point(|&e| e < key);
            assert_eq!(array.insert_sorted(key).unwrap(), at as u32);
            model.insert(at, key);
        } else {
            let at = rng.index(model.len());
            assert_eq!(array.remove(at as u32).unwrap(), model.remove(at));
        }
    }
    array.verify();
    // Where a stale group or block fence would misroute a search: at the first key of the
    // first node of every block, and one either side of it.
    let block_keys = (0..array.node_count())
        .step_by(32)
        .map(|node| array.node_elements(node)[0]);
    let near = block_keys.flat_map(|key| [key.saturating_sub(1), key, key + 1]);
    let random = (0..4_000).map(|_| rng.below(u64::from(2 * count + 2)) as u32);
    for key in near.collect::<Vec<_>>().into_iter().chain(random) {
        let expected = model.partition_point(|&e| e < key) as u32;
        assert_eq!(array.lower_bound(key), expected, "key {key}");
    }
}

/// `defragment` keeps every element, index and cursor, and leaves the nodes in ascending
/// memory order; the pool's use does not change.
fn defragment_and_check<T: TestElement>(array: &mut SegmentedArray<'_, T>, model: &[T]) {
    let nodes = array.node_count();
    let free = array.pool().free_count();
    let lengths: Vec<u32> = (0..nodes).map(|node| array.node_len(node)).collect();
    array.defragment();
    array.verify();
    assert_eq!(
        (array.node_count(), array.pool().free_count()),
        (nodes, free)
    );
    let after: Vec<u32> = (0..nodes).map(|node| array.node_len(node)).collect();
    assert_eq!(after, lengths);
    assert!(array.iter().eq(model.iter()));
    let starts: Vec<*const T> = (0..nodes)
        .map(|node| array.node_elements(node).as_ptr())
        .collect();
    assert!(
        starts.windows(2).all(|pair| pair[0] < pair[1]),
        "nodes out of pool order"
    );
    let events = array.layout_events();
    array.defragment();
    assert_eq!(
        array.layout_events(),
        events,
        "a second defragment swapped nodes"
    );
}

/// `pack` keeps every element and index, leaves every node but the last at least at its
/// target fill (all but 1/16 of the slots), and returns exactly the nodes it emptied to the
/// pool.
fn pack_and_check<T: TestElement>(array: &mut SegmentedArray<'_, T>, model: &[T]) {
    let nodes = array.node_count();
    let free = array.pool().free_count();
    let capacity = array.node_capacity();
    let target = array.pack_target();
    assert_eq!(target, capacity - capacity / 16);
    array.pack();
    array.verify();
    let packed = array.node_count();
    assert!(
        packed <= (model.len() as u32).div_ceil(target),
        "packed node count"
    );
    assert!(packed <= nodes);
    assert_eq!(array.pool().free_count(), free + (nodes - packed));
    for node in 0..packed.saturating_sub(1) {
        assert!(
            array.node_len(node) >= target,
            "node {node} under the target"
        );
    }
    assert!(array.iter().eq(model.iter()));
    assert!(array.iter().rev().eq(model.iter().rev()));
    for (index, element) in model.iter().enumerate() {
        assert_eq!(array.get(index as u32), Some(element));
    }
    // Packing a packed array moves nothing.
    let lengths: Vec<u32> = (0..packed).map(|node| array.node_len(node)).collect();
    let events = array.layout_events();
    array.pack();
    assert_eq!(
        array.layout_events(),
        events,
        "a second pack moved elements"
    );
    let again: Vec<u32> = (0..packed).map(|node| array.node_len(node)).collect();
    assert_eq!((array.node_count(), again), (packed, lengths));
}

/// `many_blocks` sized for Miri: the unsafe node accesses across block boundaries (several
/// blocks of 64 nodes of 2 `u128` each), through splits, merges, borrows and iteration.
#[test]
fn miri_block_boundaries() {
    let nodes_max = blocks_against_vec::<u128>(5, 600, 2_000, 100);
    assert!(
        nodes_max > 2 * 64,
        "must span several blocks: {nodes_max} nodes"
    );
}

/// Random sorted inserts with many duplicate keys; lower_bound against the model.
fn random_sorted<T: TestElement>(seed: u64, ops: usize) {
    for node_size in node_sizes::<T>() {
        let mut rng = Rng::new(seed ^ node_size as u64);
        let capacity = 200;
        let pool = pool_for::<T>(node_size, capacity);
        let mut array = SegmentedArray::<T>::new(&pool, capacity).unwrap();
        let mut model: Vec<T> = Vec::new();
        let domain = if rng.chance(1, 2) { 8 } else { 64 };
        for op in 0..ops {
            let growing = (op / 100) % 2 == 0;
            if (growing || rng.chance(1, 3)) && model.len() < capacity as usize {
                let element = T::make(rng.below(domain), op as u64);
                let at = model.partition_point(|e| e.key() < element.key());
                assert_eq!(array.insert_sorted(element).unwrap(), at as u32);
                model.insert(at, element);
            } else if !model.is_empty() {
                let at = rng.index(model.len());
                assert_eq!(array.remove(at as u32).unwrap(), model.remove(at));
            }
            for _ in 0..4 {
                let key = T::key_at(rng.below(domain + 2));
                let expected = model.partition_point(|e| e.key() < key);
                assert_eq!(array.lower_bound(key), expected as u32);
                // The cursor form names the node holding the answer, as `cursor` does, and
                // iterating from it needs no other lookup.
                let cursor = array.lower_bound_cursor(key);
                assert_eq!(cursor, array.cursor(expected as u32));
                assert!(array.iter_from(cursor).eq(model[expected..].iter()));
                assert!(array
                    .iter_from(cursor)
                    .rev()
                    .eq(model[expected..].iter().rev()));
                // The bounded forms, walked from either end and from both at once.
                let end = expected + rng.index(model.len() - expected + 1);
                let part = &model[expected..end];
                assert!(array.range_from(cursor, end as u32).eq(part.iter()));
                assert!(array
                    .range_from(cursor, end as u32)
                    .rev()
                    .eq(part.iter().rev()));
                assert!(array.range_to(cursor).eq(model[..expected].iter()));
                assert!(array
                    .range_to(cursor)
                    .rev()
                    .eq(model[..expected].iter().rev()));
                let mut both = array.range_to(cursor);
                let (mut front, mut back) = (0, expected);
                while front < back {
                    if rng.chance(1, 2) {
                        assert_eq!(both.next(), Some(&model[front]));
                        front += 1;
                    } else {
                        back -= 1;
                        assert_eq!(both.next_back(), Some(&model[back]));
                    }
                }
                assert_eq!(both.next(), None);
                // An end cursor one past the last element of its node, as a scan leaves it.
                if expected < model.len() {
                    let after = Cursor {
                        relative: cursor.relative + 1,
                        ..cursor
                    };
                    assert!(array
                        .range_to(after)
                        .rev()
                        .eq(model[..=expected].iter().rev()));
                }
            }
            check(&array, &model, &mut rng);
            array.verify_sorted();
        }
    }
}

/// `insert_slice` is all or nothing: when the pool runs out midway, nothing changes, not
/// even the number of free nodes; errors of single operations change nothing either.
fn errors_change_nothing<T: TestElement>(seed: u64) {
    let mut rng = Rng::new(seed);
    for node_size in node_sizes::<T>() {
        let c = SegmentedArray::<T>::node_capacity_for(node_size).unwrap();
        let h = c / 2;
        let pool = NodePool::new(node_size, 5).unwrap();
        let capacity = 12 * c;
        let mut array = SegmentedArray::<T>::new(&pool, capacity).unwrap();
        let mut model: Vec<T> = Vec::new();
        // Two nodes, [h, h + 1]; three nodes free.
        for i in 0..=c {
            let element = T::make(rng.next_u64(), u64::from(i));
            array.insert(i, element).unwrap();
            model.push(element);
        }
        assert_eq!(pool.free_count(), 3);
        let len = array.len();
        let unchanged = |array: &SegmentedArray<'_, T>, model: &[T], rng: &mut Rng| {
            check(array, model, rng);
            assert_eq!(pool.free_count(), 3);
            assert_eq!(array.node_count(), 2);
        };

        // Slices too big for the pool, inserted at the front, the middle, the end.
        let big: Vec<T> = (0..5 * c).map(|i| T::make(u64::from(i), 0)).collect();
        for at in [0, 1, h, len - 1, len] {
            let needed = array.nodes_needed_to_insert_slice(at, big.len() as u32);
            assert!(needed > 3);
            let error = array.insert_slice(at, &big).unwrap_err();
            assert_eq!(error, Error::NodePoolExhausted { needed, free: 3 });
            unchanged(&array, &model, &mut rng);
        }
        // Too big for the capacity.
        let huge: Vec<T> = (0..capacity - len + 1)
            .map(|i| T::make(u64::from(i), 0))
            .collect();
        assert_eq!(
            array.insert_slice(0, &huge).unwrap_err(),
            Error::CapacityExhausted { capacity }
        );
        unchanged(&array, &model, &mut rng);
        assert_eq!(
            array.insert_slice(len + 1, &big[..1]).unwrap_err(),
            Error::IndexOutOfBounds {
                index: len + 1,
                len
            }
        );
        unchanged(&array, &model, &mut rng);
        // Out-of-bounds single operations.
        let x = T::make(5, 5);
        assert_eq!(
            array.insert(len + 1, x).unwrap_err(),
            Error::IndexOutOfBounds {
                index: len + 1,
                len
            }
        );
        assert_eq!(
            array.remove(len).unwrap_err(),
            Error::IndexOutOfBounds { index: len, len }
        );
        for (index, count) in [
            (len, 1),
            (0, len + 1),
            (1, len),
            (u32::MAX, 2),
            (2, u32::MAX),
        ] {
            assert!(matches!(
                array.remove_range(index, count).unwrap_err(),
                Error::IndexOutOfBounds { .. }
            ));
        }
        unchanged(&array, &model, &mut rng);

        // A slice that fits the pool exactly goes in whole.
        let fits: Vec<T> = (0..2 * h).map(|i| T::make(u64::from(i) + 7, 1)).collect();
        array.insert_slice(1, &fits).unwrap();
        model.splice(1..1, fits.iter().copied());
        check(&array, &model, &mut rng);

        // Exhaust the pool, then a split is a NodePoolExhausted that changes nothing.
        while pool.free_count() > 0 {
            let element = T::make(rng.next_u64(), 0);
            array.insert(0, element).unwrap();
            model.insert(0, element);
        }
        while array.nodes_needed_to_insert(0) == 0 {
            let element = T::make(rng.next_u64(), 0);
            array.insert(0, element).unwrap();
            model.insert(0, element);
        }
        let nodes = array.node_count();
        assert_eq!(
            array.insert(0, x).unwrap_err(),
            Error::NodePoolExhausted { needed: 1, free: 0 }
        );
        assert_eq!(
            array.insert_slice(0, &[x]).unwrap_err(),
            Error::NodePoolExhausted { needed: 1, free: 0 }
        );
        check(&array, &model, &mut rng);
        assert_eq!((array.node_count(), pool.free_count()), (nodes, 0));
        // An empty second array cannot start its first node either.
        let mut other = SegmentedArray::<T>::new(&pool, 10).unwrap();
        assert_eq!(
            other.insert(0, x).unwrap_err(),
            Error::NodePoolExhausted { needed: 1, free: 0 }
        );
        assert_eq!(other.len(), 0);
        assert_eq!(other.node_count(), 0);

        // Capacity: fill a small array to its capacity.
        drop(other);
        array.clear();
        model.clear();
        assert_eq!(pool.free_count(), pool.node_count());
        let mut small = SegmentedArray::<T>::new(&pool, 3).unwrap();
        for i in 0..3 {
            small.insert(i, T::make(u64::from(i), 0)).unwrap();
        }
        assert_eq!(
            small.insert(1, x).unwrap_err(),
            Error::CapacityExhausted { capacity: 3 }
        );
        assert!(small.iter().copied().eq((0..3).map(|i| T::make(i, 0))));
    }
}

/// Nodes too small for two elements are rejected at construction.
#[test]
fn node_too_small_for_two_elements() {
    let pool = NodePool::new(16, 4).unwrap();
    assert!(matches!(
        SegmentedArray::<u128>::new(&pool, 10).unwrap_err(),
        Error::InvalidArgument(_)
    ));
    let pool = NodePool::new(32, 4).unwrap();
    assert!(matches!(
        SegmentedArray::<Record>::new(&pool, 10).unwrap_err(),
        Error::InvalidArgument(_)
    ));
    assert!(SegmentedArray::<Record>::node_capacity_for(47).is_err());
    assert_eq!(SegmentedArray::<Record>::node_capacity_for(48), Ok(2));
    // 5 fit, rounded down to even.
    assert_eq!(SegmentedArray::<Record>::node_capacity_for(128), Ok(4));
    assert_eq!(SegmentedArray::<u32>::node_capacity_for(24), Ok(6));
    assert_eq!(SegmentedArray::<u32>::node_capacity_for(28), Ok(6));
    assert_eq!(SegmentedArray::<Record>::nodes_needed(128, 9), Ok(5));
    assert_eq!(SegmentedArray::<u64>::nodes_needed(64, 0), Ok(0));
}

/// One pool serves several arrays of different element types at once; every node goes
/// back to it on `clear` and on drop.
#[test]
#[cfg_attr(miri, ignore)]
fn one_pool_many_arrays() {
    let mut rng = Rng::new(77);
    let pool = NodePool::new(64, 400).unwrap();
    let mut a = SegmentedArray::<u32>::new(&pool, 400).unwrap();
    let mut b = SegmentedArray::<u64>::new(&pool, 400).unwrap();
    let mut c = SegmentedArray::<u128>::new(&pool, 400).unwrap();
    let mut d = SegmentedArray::<Record>::new(&pool, 400).unwrap();
    let (mut ma, mut mb, mut mc, mut md) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    fn step<T: TestElement>(
        rng: &mut Rng,
        array: &mut SegmentedArray<'_, T>,
        model: &mut Vec<T>,
        grow: bool,
    ) {
        if grow || model.is_empty() {
            let element = T::make(rng.below(1000), rng.next_u64());
            let at = model.partition_point(|e| e.key() < element.key());
            match array.insert_sorted(element) {
                Ok(index) => {
                    assert_eq!(index, at as u32);
                    model.insert(at, element);
                }
                Err(Error::NodePoolExhausted { .. }) => {}
                Err(error) => panic!("{error:?}"),
            }
        } else {
            let at = rng.index(model.len());
            assert_eq!(array.remove(at as u32).unwrap(), model.remove(at));
        }
    }
    for round in 0..1500 {
        let grow = (round / 250) % 2 == 0 || rng.chance(1, 3);
        match rng.below(4) {
            0 => step(&mut rng, &mut a, &mut ma, grow),
            1 => step(&mut rng, &mut b, &mut mb, grow),
            2 => step(&mut rng, &mut c, &mut mc, grow),
            _ => step(&mut rng, &mut d, &mut md, grow),
        }
        let used = a.node_count() + b.node_count() + c.node_count() + d.node_count();
        assert_eq!(pool.acquired_count(), used);
        assert_eq!(pool.free_count() + used, pool.node_count());
        if round % 50 == 0 {
            check(&a, &ma, &mut rng);
            check(&b, &mb, &mut rng);
            check(&c, &mc, &mut rng);
            check(&d, &md, &mut rng);
        }
    }
    check(&c, &mc, &mut rng);
    let before = pool.free_count();
    let held = c.node_count();
    c.clear();
    mc.clear();
    check(&c, &mc, &mut rng);
    assert_eq!(pool.free_count(), before + held);
    drop((a, b, d));
    assert_eq!(pool.free_count(), pool.node_count());
    // The cleared array is still usable.
    c.insert_sorted(5).unwrap();
    assert_eq!(pool.acquired_count(), 1);
    drop(c);
    assert_eq!(pool.free_count(), pool.node_count());
}

/// A small run for Miri (node_pool.rs holds all the unsafe code): splits, merges, borrows,
/// iteration both ways, clear and drop, on several element types sharing one pool.
#[test]
fn miri_small() {
    fn exercise<T: TestElement>(pool: &NodePool, rng: &mut Rng) {
        let c = SegmentedArray::<T>::node_capacity_for(pool.node_size()).unwrap();
        let mut array = SegmentedArray::<T>::new(pool, 5 * c).unwrap();
        let mut model: Vec<T> = Vec::new();
        // Appends and front inserts: splits at the end and at the front.
        for i in 0..3 * c {
            let element = T::make(u64::from(i) * 7 % 23, u64::from(i));
            let at = if i % 2 == 0 { array.len() } else { 0 };
            array.insert(at, element).unwrap();
            model.insert(at as usize, element);
        }
        check(&array, &model, rng);
        // A slice in the middle.
        let slice: Vec<T> = (0..c + 1)
            .map(|i| T::make(u64::from(i), 100 + u64::from(i)))
            .collect();
        array.insert_slice(c / 2, &slice).unwrap();
        model.splice((c / 2) as usize..(c / 2) as usize, slice);
        check(&array, &model, rng);
        // Single removes from the front (merge or borrow), then a range across nodes.
        for _ in 0..c {
            assert_eq!(array.remove(1).unwrap(), model.remove(1));
        }
        check(&array, &model, rng);
        let len = array.len();
        array.remove_range(1, len - 2).unwrap();
        model.drain(1..(len - 1) as usize);
        check(&array, &model, rng);
        array.clear();
        check(&array, &[], rng);
        array.insert(0, T::make(1, 1)).unwrap();
        drop(array);
    }
    let mut rng = Rng::new(5);
    let pool = NodePool::new(64, 64).unwrap();
    exercise::<u32>(&pool, &mut rng);
    exercise::<u64>(&pool, &mut rng);
    exercise::<u128>(&pool, &mut rng);
    exercise::<Record>(&pool, &mut rng);
    assert_eq!(pool.free_count(), pool.node_count());
    let pool = NodePool::new(32, 64).unwrap();
    exercise::<u64>(&pool, &mut rng);
    exercise::<u128>(&pool, &mut rng);
    assert_eq!(pool.free_count(), pool.node_count());
}

/// One test per element type. `miri` marks small tests that also run under Miri; the rest
/// are ignored there (too slow interpreted).
macro_rules! per_type {
    (miri, $name:ident, $body:ident $(, $arg:expr)*) => {
        per_type!(@ cfg_attr(any(), ignore), $name, $body $(, $arg)*);
    };
    ($name:ident, $body:ident $(, $arg:expr)*) => {
        per_type!(@ cfg_attr(miri, ignore), $name, $body $(, $arg)*);
    };
    (@ $attr:meta, $name:ident, $body:ident $(, $arg:expr)*) => {
        mod $name {
            use super::*;
            #[test]
            #[$attr]
            fn u32() {
                $body::<u32>(1 $(, $arg)*);
            }
            #[test]
            #[$attr]
            fn u64() {
                $body::<u64>(2 $(, $arg)*);
            }
            #[test]
            #[$attr]
            fn u128() {
                $body::<u128>(3 $(, $arg)*);
            }
            #[test]
            #[$attr]
            fn record() {
                $body::<Record>(4 $(, $arg)*);
            }
        }
    };
}

per_type!(split_at_every_boundary, boundary_inserts);
per_type!(merge_and_borrow_at_every_boundary, boundary_removes);
per_type!(duplicate_runs_across_nodes, duplicate_runs);
per_type!(insert_slice_predicts_its_nodes, slice_prediction);
per_type!(random_against_vec, random_model, 1200);
per_type!(random_sorted_against_vec, random_sorted, 600);
per_type!(many_blocks_against_vec, many_blocks);
per_type!(miri, errors_and_all_or_nothing, errors_change_nothing);
