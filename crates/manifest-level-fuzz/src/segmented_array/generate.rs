//! The seed-driven op generator: phases that fill the array and drain it, batches aimed
//! at node boundaries, and sorted inserts from a small key domain.

use super::element::FuzzElement;
use super::harness::Harness;
use super::ops::{Op, Position};
use crate::support::prng::Prng;

/// The shortest long growing phase, in ops.
const LONG_PHASE_MIN: u64 = 200;

/// The longest long growing phase, in ops.
const LONG_PHASE_MAX: u64 = 2_000;

/// The seed-driven op generator: reads the harness's state, emits one op at a time.
pub(super) struct Generator {
    pub(super) prng: Prng,
    /// Growing (inserts weigh more) or shrinking (removes weigh more).
    pub(super) growing: bool,
    /// Ops left in the current phase.
    pub(super) phase_left: u64,
}

impl Generator {
    pub(super) fn new(prng: Prng) -> Generator {
        // The first op flips this to a growing phase.
        Generator {
            prng,
            growing: false,
            phase_left: 0,
        }
    }

    pub(super) fn next<T: FuzzElement>(&mut self, harness: &Harness<'_, T>) -> Op {
        let len = harness.len();
        let capacity = harness.setup.capacity;
        let sorted = harness.setup.sorted;
        let prng = &mut self.prng;
        if self.phase_left == 0 {
            self.growing = !self.growing;
            // One growing phase in sixteen is long: big arrays really fill up.
            let long = self.growing && prng.chance(1, 16);
            self.phase_left = if long {
                prng.range_inclusive(LONG_PHASE_MIN, LONG_PHASE_MAX)
            } else {
                prng.range_inclusive(5, 60)
            };
        }
        self.phase_left -= 1;
        // At the edges: one op into the wall (an error path), then turn around.
        if self.growing && (len == capacity || harness.pool.free_count() == 0) && prng.chance(1, 2)
        {
            self.phase_left = 0;
            return Op::Insert {
                at: self.position(harness, false),
            };
        }
        if !self.growing && len == 0 {
            self.phase_left = 0;
        }
        let weights = kind_weights(sorted, self.growing, harness.sibling.is_some());
        let kind = self.prng.weighted(&weights);
        // Clear rarely: one in eight of the draws above.
        if kind == 9 && !self.prng.chance(1, 8) {
            return Op::Cursors {
                at: self.position(harness, false),
                count: self.prng.int_inclusive(4) as u16,
            };
        }
        match kind {
            0 => Op::Insert {
                at: self.position(harness, false),
            },
            1 => Op::InsertSlice {
                at: self.position(harness, false),
                count: self.count(harness, capacity - len),
            },
            2 => self.insert_sorted(harness),
            3 => Op::Remove {
                at: self.position(harness, true),
            },
            4 => self.remove_range(harness),
            5 => Op::LowerBound {
                key: self.search_key(harness),
            },
            6 => Op::Cursors {
                at: self.position(harness, false),
                count: self.count(harness, u32::MAX),
            },
            7 => self.iterate(harness),
            8 => Op::Sibling {
                grow: self.prng.boolean(),
                count: self.count(harness, u32::MAX),
            },
            _ => Op::Clear,
        }
    }

    /// `count` sorted inserts of keys near an existing element's or anywhere in the
    /// domain, with a spread of none, a little, or the whole domain.
    fn insert_sorted<T: FuzzElement>(&mut self, harness: &Harness<'_, T>) -> Op {
        let len = harness.len();
        let capacity = harness.setup.capacity;
        let key_max = harness.setup.key_max;
        let key = if len > 0 && self.prng.boolean() {
            harness.model[self.prng.index(len as usize)].domain_key()
        } else {
            self.prng.int_inclusive(key_max)
        };
        let spread = match self.prng.weighted(&[4, 3, 3]) {
            0 => 0,
            1 => self.prng.range_inclusive(1, 8) as u32,
            _ => key_max.min(u64::from(u32::MAX)) as u32,
        };
        Op::InsertSorted {
            count: self.count(harness, capacity - len),
            key,
            spread,
        }
    }

    /// A range removal of at least one element from a position inside the array.
    fn remove_range<T: FuzzElement>(&mut self, harness: &Harness<'_, T>) -> Op {
        let len = harness.len();
        let at = self.position(harness, true);
        let index = harness.resolve(at);
        let mut count = self.count(harness, len.saturating_sub(index));
        if count == 0 {
            count = 1;
        }
        Op::RemoveRange { at, count }
    }

    /// A range iteration driven from the front, the back, or both by a random pattern.
    fn iterate<T: FuzzElement>(&mut self, harness: &Harness<'_, T>) -> Op {
        Op::Iterate {
            start: self.position(harness, false),
            len: self.count(harness, u32::MAX),
            pattern: match self.prng.weighted(&[1, 1, 3]) {
                0 => 0,
                1 => u64::MAX,
                _ => self.prng.next_u64(),
            },
        }
    }

    /// A position: often a node boundary, sometimes the ends, rarely out of bounds.
    pub(super) fn position<T: FuzzElement>(
        &mut self,
        harness: &Harness<'_, T>,
        remove: bool,
    ) -> Position {
        let len = harness.len();
        let prng = &mut self.prng;
        match prng.weighted(&[2, 2, 8, 7, 1]) {
            0 => Position::Start,
            1 if !remove => Position::End,
            2 | 1 => {
                let bound = if remove { len.max(1) } else { len + 1 };
                Position::Index(prng.int_inclusive(u64::from(bound - 1)) as u32)
            }
            3 => {
                let node_count = harness.array.node_count().max(1);
                Position::Boundary {
                    node: prng.int_inclusive(u64::from(node_count - 1)) as u16,
                    delta: prng.range_inclusive(0, 4) as i8 - 2,
                }
            }
            _ => Position::Past(prng.int_inclusive(2) as u8),
        }
    }

    /// A batch size up to about two node capacities, often at the node-size thresholds;
    /// clamped to `room` nine times in ten (else it may overrun: an error path).
    pub(super) fn count<T: FuzzElement>(&mut self, harness: &Harness<'_, T>, room: u32) -> u16 {
        let node_capacity = u64::from(harness.array.node_capacity());
        let half = node_capacity / 2;
        let prng = &mut self.prng;
        let count = match prng.weighted(&[7, 6, 7]) {
            0 => prng.range_inclusive(1, 4),
            1 => {
                let thresholds = [
                    half.saturating_sub(1).max(1),
                    half,
                    half + 1,
                    node_capacity - 1,
                    node_capacity,
                    node_capacity + 1,
                ];
                thresholds[prng.index(thresholds.len())]
            }
            _ => prng.range_inclusive(1, 2 * node_capacity),
        };
        let count = if prng.chance(9, 10) {
            count.min(u64::from(room))
        } else {
            count
        };
        count.min(u64::from(u16::MAX)) as u16
    }

    /// A key for `lower_bound`: present keys, node fences, their neighbours, the extremes.
    pub(super) fn search_key<T: FuzzElement>(&mut self, harness: &Harness<'_, T>) -> u64 {
        let len = harness.len();
        let prng = &mut self.prng;
        let key_max = harness.setup.key_max;
        match prng.weighted(&[3, 3, 2, 2, 1, 1]) {
            0 if len > 0 => harness.model[prng.index(len as usize)].domain_key(),
            1 if len > 0 => {
                let node = prng.index(harness.array.node_count() as usize) as u32;
                harness.array.node_elements(node)[0].domain_key()
            }
            2 if len > 0 => {
                let key = harness.model[prng.index(len as usize)].domain_key();
                if prng.boolean() {
                    key.saturating_add(1)
                } else {
                    key.saturating_sub(1)
                }
            }
            4 => 0,
            5 => u64::MAX,
            _ => prng.int_inclusive(key_max),
        }
    }
}

/// The weight of each op kind (by [`Op::kind_index`]): growing phases favour inserts,
/// shrinking ones removes; sorted mode draws sorted inserts and searches, positional mode
/// none of the former; the sibling op only where there is a sibling array.
fn kind_weights(sorted: bool, growing: bool, has_sibling: bool) -> [u64; Op::KINDS] {
    let (grow, shrink) = if growing { (6, 2) } else { (2, 6) };
    let sibling = u64::from(has_sibling);
    if sorted {
        // insert, slice, sorted, remove, range, lower_bound, cursors, iterate, sibling, clear
        [
            grow,
            grow,
            3 * grow,
            shrink,
            2 * shrink,
            6,
            2,
            2,
            sibling * 2,
            1,
        ]
    } else {
        [
            2 * grow,
            3 * grow,
            0,
            2 * shrink,
            3 * shrink,
            1,
            2,
            2,
            sibling * 2,
            1,
        ]
    }
}
