//! The array under test, its `Vec` model and the sibling array sharing the pool: one
//! method per op, each comparing the array's answer and contents with the model's.

use std::fmt;

use manifest_level::{
    Cursor, Element, Error, Key, ManifestLevel, NodePool, SegmentedArray, TableInfo, NODE_ALIGN,
    NODE_COUNT_MAX, NODE_SIZE_MAX,
};

use super::element::{mix, FuzzElement};
use super::faults::Faults;
use super::ops::{Op, Position};
use super::report::Report;
use super::setup::Setup;
use crate::support::panic::CaughtPanic;

/// A check that failed inside one op.
pub(super) struct Mismatch {
    /// The check's name (stable across runs: what a failure signature keeps).
    pub(super) check: String,
    /// Where in the check it failed (an element position, which moves while shrinking).
    pub(super) detail: Option<String>,
    pub(super) expected: String,
    pub(super) found: String,
    /// The panic, when the check is `no panic`.
    pub(super) panic: Option<CaughtPanic>,
}

pub(super) fn mismatch(
    check: impl Into<String>,
    expected: impl fmt::Debug,
    found: impl fmt::Debug,
) -> Mismatch {
    Mismatch {
        check: check.into(),
        detail: None,
        expected: format!("{expected:?}"),
        found: format!("{found:?}"),
        panic: None,
    }
}

pub(super) fn ensure_eq<V: PartialEq + fmt::Debug>(
    check: &str,
    expected: V,
    found: V,
) -> Result<(), Mismatch> {
    if expected == found {
        Ok(())
    } else {
        Err(mismatch(check, expected, found))
    }
}

/// The pool's state before an insert, for judging a `NodePoolExhausted`.
#[derive(Clone, Copy)]
pub(super) struct PoolBefore {
    /// Free nodes.
    pub(super) free: u32,
    /// The most nodes the insert can acquire.
    pub(super) bound: u64,
    /// Whether a single insert at the index must acquire a node.
    pub(super) single_needs_node: bool,
}

/// The array, its model, and the second array sharing the pool.
pub(super) struct Harness<'pool, T: FuzzElement> {
    pub(super) setup: Setup,
    pub(super) pool: &'pool NodePool,
    pub(super) array: SegmentedArray<'pool, T>,
    pub(super) model: Vec<T>,
    pub(super) sibling: Option<SegmentedArray<'pool, u64>>,
    pub(super) sibling_model: Vec<u64>,
    /// Next insert serial number.
    pub(super) serial: u64,
    /// What the current op's positions resolved to, for failure messages.
    pub(super) resolved: String,
    /// Which element of a batch of single inserts the current op is at.
    pub(super) progress: Option<u16>,
    pub(super) report: Report,
}

impl<'pool, T: FuzzElement> Harness<'pool, T> {
    pub(super) fn new(pool: &'pool NodePool, setup: Setup) -> Self {
        // The harness runs `verify()` after every op itself; with the library's `verify`
        // feature on (workspace test builds), per-mutation checks would only repeat it
        // once per element of a batch.
        let mut array = SegmentedArray::<T>::new(pool, setup.capacity)
            .expect("a normalized setup makes a valid array");
        array.set_auto_verify(false);
        let sibling = (setup.sibling_capacity > 0).then(|| {
            let mut sibling = SegmentedArray::<u64>::new(pool, setup.sibling_capacity)
                .expect("a normalized setup makes a valid sibling array");
            sibling.set_auto_verify(false);
            sibling
        });
        Harness {
            setup,
            pool,
            array,
            model: Vec::new(),
            sibling,
            sibling_model: Vec::new(),
            serial: 0,
            resolved: String::new(),
            progress: None,
            report: Report {
                seed: None,
                setup,
                ops: 0,
                op_counts: [0; Op::KINDS],
                inserted: 0,
                removed: 0,
                capacity_errors: 0,
                pool_errors: 0,
                bounds_errors: 0,
                searches: 0,
                len_max: 0,
                node_count_max: 0,
                len_final: 0,
                trace: None,
            },
        }
    }

    /// What the current op resolved to, and how far a batch got.
    pub(super) fn describe(&self) -> String {
        match self.progress {
            Some(i) => format!("{}, at element {i}", self.resolved),
            None => self.resolved.clone(),
        }
    }

    pub(super) fn plant(&mut self, faults: Faults) {
        #[cfg(feature = "fault-injection")]
        self.array.inject_search_fault(faults.search_off_by_one);
        #[cfg(not(feature = "fault-injection"))]
        assert!(
            faults == Faults::default(),
            "planting faults needs the `fault-injection` feature"
        );
    }

    pub(super) fn len(&self) -> u32 {
        self.model.len() as u32
    }

    pub(super) fn resolve(&self, position: Position) -> u32 {
        let len = self.array.len();
        match position {
            Position::Start => 0,
            Position::End => len,
            Position::Index(index) => index % (len + 1),
            Position::Boundary { node, delta } => {
                let node_count = self.array.node_count();
                if node_count == 0 {
                    return 0;
                }
                let node = u32::from(node) % node_count;
                let start = self.array.index(Cursor { node, relative: 0 });
                (i64::from(start) + i64::from(delta)).clamp(0, i64::from(len)) as u32
            }
            Position::Past(n) => len + 1 + u32::from(n),
        }
    }

    pub(super) fn new_element(&mut self, key: u64) -> T {
        let serial = self.serial;
        self.serial += 1;
        T::make(key.min(self.setup.key_max), serial)
    }

    /// A random-looking key for positional mode.
    pub(super) fn positional_key(&self) -> u64 {
        let value = mix(self.serial ^ 0x5EED);
        match self.setup.key_max.checked_add(1) {
            Some(range) => value % range,
            None => value,
        }
    }

    /// The key a positional insert at `index` uses: in sorted mode one that keeps the order.
    pub(super) fn key_for_position(&self, index: u32) -> u64 {
        if !self.setup.sorted {
            return self.positional_key();
        }
        let index = index as usize;
        if let Some(element) = self.model.get(index) {
            element.domain_key()
        } else if let Some(last) = self.model.last() {
            last.domain_key()
        } else {
            self.setup.key_max / 2
        }
    }

    pub(super) fn note_error(&mut self, error: &Error) {
        match error {
            Error::CapacityExhausted { .. } => self.report.capacity_errors += 1,
            Error::NodePoolExhausted { .. } => self.report.pool_errors += 1,
            Error::IndexOutOfBounds { .. } => self.report.bounds_errors += 1,
            _ => {}
        }
    }

    /// What the pool allows an insert of `count` elements at `index` before it runs.
    pub(super) fn pool_before_insert(&self, index: u32, count: u32) -> PoolBefore {
        let half = self.array.node_capacity() / 2;
        // Inserts never merge nodes, and every state keeps `node_count <= ceil(len / half)`,
        // so the array never holds more than `ceil((len + count) / half)` nodes on the way.
        let bound = (u64::from(self.array.len()) + u64::from(count))
            .div_ceil(u64::from(half))
            .saturating_sub(u64::from(self.array.node_count()));
        // One insert needs a node only for a first node or to split a full one.
        let len = self.array.len();
        let single_needs_node = self.array.is_empty()
            || (index <= len && {
                let node = if index == len {
                    self.array.node_count() - 1
                } else {
                    self.array.cursor(index).node
                };
                self.array.node_len(node) == self.array.node_capacity()
            });
        PoolBefore {
            free: self.pool.free_count(),
            bound,
            single_needs_node,
        }
    }

    /// Checks an insert's result against what the model allows; returns whether the model
    /// must apply the insert.
    pub(super) fn judge_insert(
        &mut self,
        result: Result<(), Error>,
        index: u32,
        count: u32,
        before: PoolBefore,
        single: bool,
    ) -> Result<bool, Mismatch> {
        let len = self.len();
        let capacity = self.setup.capacity;
        if index > len {
            return match result {
                Err(error @ Error::IndexOutOfBounds { len: reported, .. }) if reported == len => {
                    self.note_error(&error);
                    Ok(false)
                }
                other => Err(mismatch(
                    "insert past the end fails",
                    format!("Err(IndexOutOfBounds {{ len: {len}, .. }})"),
                    other,
                )),
            };
        }
        if u64::from(count) > u64::from(capacity - len) {
            return match result {
                Err(error @ Error::CapacityExhausted { capacity: reported })
                    if reported == capacity =>
                {
                    self.note_error(&error);
                    Ok(false)
                }
                other => Err(mismatch(
                    "insert over capacity fails",
                    format!("Err(CapacityExhausted {{ capacity: {capacity} }})"),
                    other,
                )),
            };
        }
        match result {
            Ok(()) => Ok(true),
            Err(error @ Error::NodePoolExhausted { .. }) => {
                judge_pool_exhausted(&error, before, single)?;
                self.note_error(&error);
                Ok(false)
            }
            Err(other) => Err(mismatch(
                "insert succeeds",
                "Ok or NodePoolExhausted",
                other,
            )),
        }
    }

    pub(super) fn judge_remove(
        &mut self,
        result: Result<(), Error>,
        index: u32,
        count: u32,
    ) -> Result<bool, Mismatch> {
        let len = self.len();
        let in_bounds = index.checked_add(count).is_some_and(|end| end <= len);
        match result {
            Ok(()) if in_bounds => Ok(true),
            Err(error @ Error::IndexOutOfBounds { len: reported, .. })
                if !in_bounds && reported == len =>
            {
                self.note_error(&error);
                Ok(false)
            }
            other => Err(mismatch(
                "remove result",
                if in_bounds {
                    "Ok".to_string()
                } else {
                    format!("Err(IndexOutOfBounds {{ len: {len}, .. }})")
                },
                other,
            )),
        }
    }

    /// Runs `op` on the array and the model, comparing its answer with the model's.
    pub(super) fn apply(&mut self, op: Op) -> Result<(), Mismatch> {
        self.report.op_counts[op.kind_index()] += 1;
        match op {
            Op::Insert { at } => self.apply_insert(at),
            Op::InsertSlice { at, count } => self.apply_insert_slice(at, count),
            Op::InsertSorted { count, key, spread } => self.apply_insert_sorted(count, key, spread),
            Op::Remove { at } => self.apply_remove(at),
            Op::RemoveRange { at, count } => self.apply_remove_range(at, count),
            Op::LowerBound { key } => self.apply_lower_bound(key),
            Op::Cursors { at, count } => self.apply_cursors(at, count),
            Op::Iterate {
                start,
                len: range_len,
                pattern,
            } => self.apply_iterate(start, range_len, pattern),
            Op::Sibling { grow, count } => self.apply_sibling(grow, count),
            Op::Clear => self.apply_clear(),
        }
    }

    /// `insert` of one element at a resolved position.
    fn apply_insert(&mut self, at: Position) -> Result<(), Mismatch> {
        let index = self.resolve(at);
        let element = self.new_element(self.key_for_position(index));
        self.resolved = format!("index {index}, element {element:?}");
        let before = self.pool_before_insert(index, 1);
        if index <= self.len() {
            ensure_eq(
                "nodes_needed_to_insert: a node for a first or a full one",
                u32::from(before.single_needs_node),
                self.array.nodes_needed_to_insert(index),
            )?;
        }
        let result = self.array.insert(index, element);
        if self.judge_insert(result, index, 1, before, true)? {
            self.model.insert(index as usize, element);
            self.report.inserted += 1;
        }
        Ok(())
    }

    /// `insert_slice` of `count` elements at a resolved position (all or nothing).
    fn apply_insert_slice(&mut self, at: Position, count: u16) -> Result<(), Mismatch> {
        let index = self.resolve(at);
        let key = self.key_for_position(index);
        let elements: Vec<T> = (0..count)
            .map(|_| {
                let key = if self.setup.sorted {
                    key
                } else {
                    self.positional_key()
                };
                self.new_element(key)
            })
            .collect();
        self.resolved = format!("index {index}, {count} elements");
        let before = self.pool_before_insert(index, u32::from(count));
        let result = self.array.insert_slice(index, &elements);
        if self.judge_insert(result, index, u32::from(count), before, false)? {
            let at = index as usize;
            self.model.splice(at..at, elements);
            self.report.inserted += u64::from(count);
        }
        Ok(())
    }

    /// `count` single inserts: `insert_sorted` in sorted mode, appends in positional mode.
    fn apply_insert_sorted(&mut self, count: u16, key: u64, spread: u32) -> Result<(), Mismatch> {
        self.resolved = if self.setup.sorted {
            format!("{count} sorted inserts")
        } else {
            format!("{count} appends (positional mode)")
        };
        for i in 0..count {
            let offset = match u64::from(spread).checked_add(1) {
                Some(range) => mix(self.serial) % range,
                None => mix(self.serial),
            };
            let element = self.new_element(key.saturating_add(offset));
            if !self.setup.sorted {
                // Positional mode: append.
                let index = self.len();
                self.progress = Some(i);
                let before = self.pool_before_insert(index, 1);
                let result = self.array.insert(index, element);
                if !self.judge_insert(result, index, 1, before, true)? {
                    break;
                }
                self.model.push(element);
            } else {
                let expected_index = self.model.partition_point(|e| e.key() < element.key()) as u32;
                self.progress = Some(i);
                let before = self.pool_before_insert(expected_index, 1);
                let result = self.array.insert_sorted(element);
                let plain = result.map(|index| (index != expected_index).then_some(index));
                if let Ok(Some(found)) = plain {
                    return Err(mismatch(
                        "insert_sorted index (the model's partition_point)",
                        expected_index,
                        found,
                    ));
                }
                let result = plain.map(|_| ());
                if !self.judge_insert(result, expected_index, 1, before, true)? {
                    break;
                }
                self.model.insert(expected_index as usize, element);
            }
            self.report.inserted += 1;
        }
        Ok(())
    }

    /// `remove` of one element (positions aim inside the array).
    fn apply_remove(&mut self, at: Position) -> Result<(), Mismatch> {
        let len = self.len();
        let index = match at {
            // Aim inside the array: `Index` resolves modulo `len`, not `len + 1`.
            Position::Index(index) if len > 0 => index % len,
            other => self.resolve(other),
        };
        self.resolved = format!("index {index}");
        let result = self.array.remove(index);
        match result {
            Ok(element) if index < len => {
                let expected = self.model.remove(index as usize);
                ensure_eq("removed element", expected, element)?;
                self.report.removed += 1;
            }
            other => {
                let other = other.map(|_| ());
                self.judge_remove(other, index, 1)?;
            }
        }
        Ok(())
    }

    /// `remove_range` of `count` elements from a resolved position (all or nothing).
    fn apply_remove_range(&mut self, at: Position, count: u16) -> Result<(), Mismatch> {
        let index = self.resolve(at);
        let count = u32::from(count);
        self.resolved = format!("index {index}, count {count}");
        let result = self.array.remove_range(index, count);
        if self.judge_remove(result, index, count)? {
            let at = index as usize;
            self.model.drain(at..at + count as usize);
            self.report.removed += u64::from(count);
        }
        Ok(())
    }

    /// `lower_bound` against the model's `partition_point` (sorted mode), else `get`.
    fn apply_lower_bound(&mut self, key: u64) -> Result<(), Mismatch> {
        if self.setup.sorted {
            let array_key = T::key_of(key);
            let expected = self.model.partition_point(|e| e.key() < array_key) as u32;
            self.resolved = format!("key {array_key:?}");
            self.report.searches += 1;
            ensure_eq(
                "lower_bound (the model's partition_point)",
                expected,
                self.array.lower_bound(array_key),
            )?;
        } else {
            let index = (key % (u64::from(self.len()) + 1)) as u32;
            self.resolved = format!("get({index})");
            ensure_eq("get", self.model.get(index as usize), self.array.get(index))?;
        }
        Ok(())
    }

    /// Cursor round trips over a run of indexes: `cursor`, `index`, `element_at`, `get`,
    /// `end_cursor`, and consecutive cursors one element apart.
    fn apply_cursors(&mut self, at: Position, count: u16) -> Result<(), Mismatch> {
        let len = self.len();
        let first = self.resolve(at).min(len);
        let last = first.saturating_add(u32::from(count)).min(len);
        self.resolved = format!("indexes {first}..={last}");
        let mut previous: Option<Cursor> = None;
        for index in first..=last {
            let cursor = self.array.cursor(index);
            ensure_eq("index(cursor(i)) == i", index, self.array.index(cursor))?;
            let expected = self.model.get(index as usize);
            ensure_eq(
                "element_at(cursor(i))",
                expected,
                self.array.element_at(cursor),
            )?;
            ensure_eq("get(i)", expected, self.array.get(index))?;
            if index == len {
                ensure_eq(
                    "cursor(len) == end_cursor()",
                    self.array.end_cursor(),
                    cursor,
                )?;
            } else if cursor.relative >= self.array.node_len(cursor.node) {
                return Err(mismatch(
                    "cursor inside its node",
                    "relative < node_len",
                    cursor,
                ));
            }
            if let Some(previous) = previous {
                if index < len {
                    let next_in_node = Cursor {
                        node: previous.node,
                        relative: previous.relative + 1,
                    };
                    let next_node = Cursor {
                        node: previous.node + 1,
                        relative: 0,
                    };
                    if cursor != next_in_node && cursor != next_node {
                        return Err(mismatch(
                            "consecutive cursors step by one element",
                            format!("{next_in_node:?} or {next_node:?}"),
                            cursor,
                        ));
                    }
                }
            }
            previous = Some(cursor);
        }
        Ok(())
    }

    /// A range iterator driven from both ends by `pattern`, against the model's slice.
    fn apply_iterate(
        &mut self,
        start: Position,
        range_len: u16,
        pattern: u64,
    ) -> Result<(), Mismatch> {
        let len = self.len();
        let start = self.resolve(start).min(len);
        let end = start.saturating_add(u32::from(range_len)).min(len);
        self.resolved = format!("range {start}..{end}");
        let expected = &self.model[start as usize..end as usize];
        // The same range three ways (the pattern's top bits pick): by indexes, from the
        // start's cursor, or from the cursor to the end.
        let mut iter = match (start < len, pattern >> 62) {
            (true, 1) => self.array.range_from(self.array.cursor(start), end),
            (true, 2) if end == len => self.array.iter_from(self.array.cursor(start)),
            _ => self.array.range(start, end),
        };
        let (mut front, mut back) = (0usize, expected.len());
        // Every step takes one element from an end, so `len + 1` steps see the iterator
        // empty.
        for step in 0..=expected.len() {
            ensure_eq("iterator len", back - front, iter.len())?;
            if front == back {
                break;
            }
            if (pattern >> (step % 64)) & 1 == 1 {
                back -= 1;
                ensure_eq("next_back()", Some(&expected[back]), iter.next_back())?;
            } else {
                ensure_eq("next()", Some(&expected[front]), iter.next())?;
                front += 1;
            }
        }
        assert_eq!(front, back, "the loop bound lets every element be taken");
        ensure_eq("next() when exhausted", None, iter.next())?;
        ensure_eq("next_back() when exhausted", None, iter.next_back())?;
        Ok(())
    }

    /// Grows or shrinks the second array sharing the pool (a source of pool exhaustion).
    fn apply_sibling(&mut self, grow: bool, count: u16) -> Result<(), Mismatch> {
        let Some(sibling) = self.sibling.as_mut() else {
            self.resolved = "no sibling array".into();
            return Ok(());
        };
        let len = sibling.len();
        if grow {
            let index = len / 2;
            let elements: Vec<u64> = (0..u64::from(count))
                .map(|i| mix(self.serial.wrapping_add(i) ^ 0x51B))
                .collect();
            self.serial += u64::from(count);
            let room = sibling.capacity() - len;
            let free = self.pool.free_count();
            let half = u64::from(sibling.node_capacity() / 2);
            let bound = (u64::from(len) + u64::from(count))
                .div_ceil(half)
                .saturating_sub(u64::from(sibling.node_count()));
            self.resolved = format!("sibling insert {count} at {index}");
            match sibling.insert_slice(index, &elements) {
                Ok(()) if u32::from(count) <= room => {
                    let at = index as usize;
                    self.sibling_model.splice(at..at, elements);
                }
                Err(Error::CapacityExhausted { .. }) if u32::from(count) > room => {
                    self.report.capacity_errors += 1;
                }
                Err(Error::NodePoolExhausted { .. })
                    if u32::from(count) <= room && u64::from(free) < bound =>
                {
                    self.report.pool_errors += 1;
                }
                other => {
                    return Err(mismatch(
                        "sibling insert_slice result",
                        format!("room {room}, free nodes {free}, bound {bound}"),
                        other,
                    ))
                }
            }
        } else {
            let count = u32::from(count).min(len);
            self.resolved = format!("sibling remove {count} from 0");
            let result = sibling.remove_range(0, count);
            ensure_eq("sibling remove_range", Ok(()), result)?;
            self.sibling_model.drain(..count as usize);
        }
        Ok(())
    }

    /// `clear`: every element goes, every node back to the pool.
    fn apply_clear(&mut self) -> Result<(), Mismatch> {
        self.array.clear();
        self.report.removed += self.model.len() as u64;
        self.model.clear();
        // Packing an empty array holds no node and changes nothing.
        self.array.pack();
        ensure_eq(
            "node_count after packing an empty array",
            0,
            self.array.node_count(),
        )?;
        // An empty array needs one node for its first element.
        ensure_eq(
            "nodes_needed_to_insert(0) of an empty array",
            1,
            self.array.nodes_needed_to_insert(0),
        )
    }

    /// Compares everything with the model. Called after every op.
    pub(super) fn check_all(&mut self) -> Result<(), Mismatch> {
        self.array.verify();
        ensure_eq("len", self.len(), self.array.len())?;
        ensure_eq("is_empty", self.model.is_empty(), self.array.is_empty())?;
        compare("contents, forward", self.model.iter(), self.array.iter())?;
        compare(
            "contents, backward",
            self.model.iter().rev(),
            self.array.iter().rev(),
        )?;
        if self.setup.sorted {
            self.array.verify_sorted();
        }
        let node_count = self.array.node_count();
        let mut acquired = node_count;
        if let Some(sibling) = &self.sibling {
            sibling.verify();
            compare(
                "sibling contents",
                self.sibling_model.iter(),
                sibling.iter(),
            )?;
            acquired += sibling.node_count();
        }
        ensure_eq(
            "pool nodes acquired == nodes of both arrays",
            acquired,
            self.pool.acquired_count(),
        )?;
        let half = self.array.node_capacity() / 2;
        ensure_eq(
            "node_count_max == ceil(capacity / half a node)",
            self.array.capacity().div_ceil(half),
            self.array.node_count_max(),
        )?;
        let bound = self.array.len().div_ceil(half);
        if node_count > bound {
            return Err(mismatch(
                "node count <= ceil(len / half)",
                bound,
                node_count,
            ));
        }
        self.report.len_max = self.report.len_max.max(self.array.len());
        self.report.node_count_max = self.report.node_count_max.max(node_count);
        Ok(())
    }
}

/// Compares two sequences element by element; reports the first difference.
pub(super) fn compare<'a, V: PartialEq + fmt::Debug + 'a>(
    check: &str,
    expected: impl ExactSizeIterator<Item = &'a V>,
    found: impl ExactSizeIterator<Item = &'a V>,
) -> Result<(), Mismatch> {
    let at = |detail: String, mismatch: Mismatch| Mismatch {
        detail: Some(detail),
        ..mismatch
    };
    if expected.len() != found.len() {
        return Err(at(
            "length".into(),
            mismatch(check, expected.len(), found.len()),
        ));
    }
    for (position, (e, f)) in expected.zip(found).enumerate() {
        if e != f {
            return Err(at(format!("element {position}"), mismatch(check, e, f)));
        }
    }
    Ok(())
}

/// Checks a `NodePoolExhausted` from an insert: allowed only when the pool had fewer free
/// nodes than the insert could need, with `needed > free`, and for a single insert only
/// when it had to acquire a node and none was free.
fn judge_pool_exhausted(error: &Error, before: PoolBefore, single: bool) -> Result<(), Mismatch> {
    let Error::NodePoolExhausted { needed, free } = *error else {
        unreachable!("called with a pool error");
    };
    let PoolBefore {
        free: free_before,
        bound,
        single_needs_node,
    } = before;
    if u64::from(free_before) >= bound {
        return Err(mismatch(
            "no pool exhaustion while the pool has enough nodes",
            format!("Ok (pool has {free_before} free, insert needs at most {bound})"),
            error,
        ));
    }
    if needed <= free {
        return Err(mismatch(
            "pool error reports needed > free",
            "needed > free",
            error,
        ));
    }
    if single && (!single_needs_node || free_before != 0) {
        return Err(mismatch(
            "a single insert runs out of nodes only when it must acquire one and none is free",
            format!("Ok (free {free_before}, needs a node: {single_needs_node})"),
            error,
        ));
    }
    Ok(())
}

/// An element of no size, which a node pool refuses.
#[derive(Clone, Copy, Debug)]
struct NoBytes;

impl Element for NoBytes {
    type Key = ();
    fn key(&self) {}
}

/// An element aligned past the pool's alignment, which a node pool refuses.
#[derive(Clone, Copy, Debug)]
#[repr(align(32))]
struct OverAligned(u64);

impl Element for OverAligned {
    type Key = u64;
    fn key(&self) -> u64 {
        self.0
    }
}

/// An element of 48 bytes: one fits a 64-byte node, two do not.
#[derive(Clone, Copy, Debug)]
struct ThreeWords([u128; 3]);

impl Element for ThreeWords {
    type Key = u128;
    fn key(&self) -> u128 {
        self.0[0]
    }
}

/// The constructors' refusals: a node pool of a node size that is zero, not a multiple of
/// [`NODE_ALIGN`] or above [`NODE_SIZE_MAX`], or of more than [`NODE_COUNT_MAX`] nodes,
/// and an array of elements of no size, aligned past [`NODE_ALIGN`], or too big for two
/// to a node, and a manifest level on nodes of one table, each a typed
/// [`Error::InvalidArgument`]. Run once per seed, before the first op.
pub(super) fn check_constructor_refusals() -> Result<(), Mismatch> {
    for (node_size, node_count) in [
        (0, 1),
        (NODE_ALIGN + 8, 1),
        (NODE_SIZE_MAX + NODE_ALIGN, 1),
        (NODE_ALIGN, NODE_COUNT_MAX + 1),
    ] {
        let refused = matches!(
            NodePool::new(node_size, node_count),
            Err(Error::InvalidArgument(_))
        );
        ensure_eq(
            "NodePool::new refuses a bad node size or count",
            (node_size, node_count, true),
            (node_size, node_count, refused),
        )?;
    }
    let pool = NodePool::new(4 * NODE_ALIGN, 1).expect("a valid pool");
    let no_bytes = SegmentedArray::<NoBytes>::new(&pool, 1).map(|_| ());
    let over_aligned = SegmentedArray::<OverAligned>::new(&pool, 1).map(|_| ());
    // Four 16-byte slots hold two u128s but not two 48-byte elements.
    let one_per_node = SegmentedArray::<ThreeWords>::new(&pool, 1).map(|_| ());
    for (what, answer) in [
        ("no bytes", no_bytes),
        ("alignment 32", over_aligned),
        ("one element per node", one_per_node),
    ] {
        ensure_eq(
            "SegmentedArray::new refuses an element the pool cannot hold",
            (what, true),
            (what, matches!(answer, Err(Error::InvalidArgument(_)))),
        )?;
    }
    ensure_eq("a refused array takes no node", 0, pool.acquired_count())?;
    check_level_refusal::<u64>()?;
    check_level_refusal::<u128>()
}

/// A manifest level on nodes that hold one table each is refused: `ManifestLevel::new` and
/// `ManifestLevel::nodes_needed` both say [`Error::InvalidArgument`], and no node is taken.
fn check_level_refusal<K: Key>() -> Result<(), Mismatch> {
    let node_size = size_of::<TableInfo<K>>().next_multiple_of(NODE_ALIGN);
    let pool = NodePool::new(node_size, 1).expect("a valid pool");
    let refused = |answer: Result<(), Error>| matches!(answer, Err(Error::InvalidArgument(_)));
    let level = ManifestLevel::<K>::new(&pool, 8).map(|_| ());
    let needed = ManifestLevel::<K>::nodes_needed(node_size, 8).map(|_| ());
    ensure_eq(
        "a level on nodes of one table: new and nodes_needed refused, no node taken",
        (node_size, true, true, 0),
        (
            node_size,
            refused(level),
            refused(needed),
            pool.acquired_count(),
        ),
    )
}
