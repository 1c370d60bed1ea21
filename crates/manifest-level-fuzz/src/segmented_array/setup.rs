//! A run's setup: element type, node size, capacities, pool size, mode and key domain.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::element::{ElementKind, CAPACITY_MAX, NODE_SIZE_MAX};
use crate::support::prng::Prng;

/// The largest capacity a fuzz input decodes to: the checks after every op are linear in
/// the length, and libFuzzer wants thousands of inputs a second.
pub const INPUT_CAPACITY_MAX: u32 = 512;

/// The fixed parameters of one run. Any value is accepted: [`Setup::normalized`] clamps
/// every field into its domain, and runs always use the normalized form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// The element type.
    pub element: ElementKind,
    /// Node size in bytes: a multiple of 16 in `element.node_size_min()..=NODE_SIZE_MAX`.
    pub node_size: u32,
    /// The array's element capacity (`element_count_max`), `1..=CAPACITY_MAX`.
    pub capacity: u32,
    /// Capacity of a second `SegmentedArray<u64>` sharing the pool, `0..=capacity`
    /// (0: no second array).
    pub sibling_capacity: u32,
    /// Nodes in the shared pool, at most [`Setup::pool_nodes_full`]; fewer makes the
    /// pool run out (an error path).
    pub pool_nodes: u32,
    /// Sorted mode: inserts keep the array sorted and `lower_bound` is checked. Otherwise
    /// positional mode: inserts go anywhere and keys are arbitrary.
    pub sorted: bool,
    /// Keys are drawn from `0..=key_max` (at most `element.key_max()`); small values make
    /// long runs of equal keys.
    pub key_max: u64,
}

pub(super) fn nodes_needed(node_capacity: u32, capacity: u32) -> u32 {
    capacity.div_ceil(node_capacity / 2)
}

impl Setup {
    /// Elements per node of the main array.
    pub fn node_capacity(&self) -> u32 {
        let slots = self.node_size as usize / self.element.size();
        (slots as u32 & !1).max(2)
    }

    /// Pool nodes that both arrays need in the worst case (every node half full).
    pub fn pool_nodes_full(&self) -> u32 {
        let sibling_node_capacity = (self.node_size / 8) & !1;
        nodes_needed(self.node_capacity(), self.capacity)
            + nodes_needed(sibling_node_capacity, self.sibling_capacity)
    }

    /// The same setup with every field clamped into its domain. Idempotent.
    pub fn normalized(self) -> Setup {
        let element = self.element;
        let node_size = self.node_size.clamp(element.node_size_min(), NODE_SIZE_MAX) / 16 * 16;
        let mut setup = Setup {
            element,
            node_size,
            capacity: self.capacity.clamp(1, CAPACITY_MAX),
            sibling_capacity: 0,
            pool_nodes: 0,
            sorted: self.sorted,
            key_max: self.key_max.min(element.key_max()),
        };
        setup.sibling_capacity = self.sibling_capacity.min(setup.capacity);
        setup.pool_nodes = self.pool_nodes.min(setup.pool_nodes_full());
        setup
    }

    /// The setup a fuzz input with this setup runs: capacity at most
    /// [`INPUT_CAPACITY_MAX`], normalized.
    pub fn for_fuzz_input(self) -> Setup {
        Setup {
            capacity: self.capacity.min(INPUT_CAPACITY_MAX),
            ..self
        }
        .normalized()
    }

    /// Draws a setup from `prng`: biased toward small nodes (many node boundaries), a full
    /// pool three times in four, sorted mode every other run.
    pub fn draw(prng: &mut Prng) -> Setup {
        let element = ElementKind::ALL[prng.index(ElementKind::ALL.len())];
        let sixteens = match prng.weighted(&[5, 3, 2]) {
            0 => prng.range_inclusive(2, 16),
            1 => prng.range_inclusive(17, 64),
            _ => prng.range_inclusive(65, 256),
        };
        let node_size = (sixteens * 16) as u32;
        let mut setup = Setup {
            element,
            node_size,
            capacity: 1,
            sibling_capacity: 0,
            pool_nodes: 0,
            sorted: false,
            key_max: 0,
        }
        .normalized();
        let node_capacity = u64::from(setup.node_capacity());
        setup.capacity = match prng.weighted(&[1, 4, 4, 2, 1]) {
            0 => prng.range_inclusive(1, node_capacity),
            1 => prng.range_inclusive(node_capacity, 4 * node_capacity),
            2 => prng.range_inclusive(4 * node_capacity, 16 * node_capacity),
            3 => prng.range_inclusive(16 * node_capacity, 64 * node_capacity),
            // Big arrays: past 128 nodes (the node-start index's later blocks) and 512
            // (more than one group), when the generator's long growth phases fill them.
            _ => prng.range_inclusive(64 * node_capacity, 1024 * node_capacity),
        }
        .min(u64::from(CAPACITY_MAX)) as u32;
        setup.sibling_capacity = if prng.boolean() {
            0
        } else {
            prng.range_inclusive(1, u64::from(setup.capacity)) as u32
        };
        setup.sorted = prng.boolean();
        setup.key_max = match prng.weighted(&[3, 3, 4]) {
            0 => prng.int_inclusive(3),
            1 => prng.range_inclusive(4, 255),
            _ => element.key_max(),
        };
        let full = setup.pool_nodes_full();
        setup.pool_nodes = if prng.chance(3, 4) {
            full
        } else {
            prng.int_inclusive(u64::from(full)) as u32
        };
        setup.normalized()
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} elements, node {} B ({} per node), capacity {}, {} mode, keys 0..={}, \
             pool {}/{} nodes, sibling capacity {}",
            self.element,
            self.node_size,
            self.node_capacity(),
            self.capacity,
            if self.sorted { "sorted" } else { "positional" },
            self.key_max,
            self.pool_nodes,
            self.pool_nodes_full(),
            self.sibling_capacity,
        )
    }
}
