//! [`SegmentedArray`]: an unrolled linked list of fixed-size nodes from a [`NodePool`].
//!
//! Elements live in nodes of `node_capacity` slots (the node size divided by the element
//! size, rounded down to even). Contiguous side tables describe the nodes:
//!
//! - `nodes[i]`: the pool id of the i-th node;
//! - `counts[i]`: how many elements node i holds;
//! - `fences[i]`: the key of node i's first element, so a key search runs over contiguous
//!   arrays of keys and then inside a single node, never a pointer chase per probe;
//! - `block_starts[b]`: the absolute index of the first element of node `b * INDEX_NODES`
//!   (index blocks of 128 nodes);
//! - `offsets[i]`: where node i starts relative to its index block's start;
//! - `block_fences[b]`: the fence of node `b * BLOCK_NODES` (search blocks of 32 nodes), and
//!   `group_fences[g]`: the fence of block `g * GROUP_BLOCKS` (groups of 16 blocks, 512
//!   nodes). A key search goes through the group fences (a few dozen keys that stay in the
//!   closest cache), then the group's 16 block fences, then the block's 32 fences, then one
//!   node: four short rounds instead of one long bisection (at 262,144 tables in 1 or 2 KiB
//!   nodes the fences alone are 90 to 190 KiB, mostly out of L1). Every round over at
//!   most 64 keys (`LINEAR_SEARCH_MAX`) counts instead of bisecting (all but a group round
//!   over more than 64 groups; see `sorted_count`), so the loads within a round are
//!   independent. An array of one block skips the first two rounds, one group the first,
//!   and an array of one node searches that node alone.
//!
//! `block_starts` and `offsets` form a two-level prefix sum over the node lengths: node i
//! starts at the absolute index `block_starts[i / INDEX_NODES] + offsets[i]`, and an
//! absolute index maps to its node by one binary search over `block_starts` and one over the
//! block's `offsets`. An insert or remove inside a node updates its count, the offsets after
//! it in its block and the starts of the later blocks: O(INDEX_NODES + node_count /
//! INDEX_NODES) instead of the O(node_count) of one flat prefix array of node starts (the
//! `indexes` array of TigerBeetle's segmented array, whose update would be most of an
//! insert at 262,144 tables). Splits and merges, which shift the side tables anyway,
//! recompute both from the changed node on.
//!
//! Invariants (checked by [`SegmentedArray::verify`]): every node holds at least one
//! element; every node except the last is at least half full; a full node splits into two
//! halves before an insert; a node that drops under half merges with, or borrows from, the
//! next node. Hence `n` elements never need more than `ceil(n / (node_capacity / 2))` nodes,
//! and all side tables are reserved at that size up front: nothing allocates afterwards.

use core::fmt::Debug;
use core::mem::MaybeUninit;

use crate::error::Error;
use crate::node_pool::{NodeId, NodePool};

/// An element of a [`SegmentedArray`]: a `Copy` value with an ordered key.
///
/// The array keeps the key of every node's first element, which [`SegmentedArray::lower_bound`]
/// searches. Integers are their own key; a [`TableInfo`](super::TableInfo) is keyed by
/// `key_max`.
pub trait Element: Copy + Debug {
    /// The ordered key of an element.
    type Key: Copy + Ord + Debug;
    /// The element's key.
    fn key(&self) -> Self::Key;
}

macro_rules! impl_element_for_int {
    ($($ty:ty),*) => {$(
        impl Element for $ty {
            type Key = $ty;
            #[inline]
            fn key(&self) -> $ty {
                *self
            }
        }
    )*};
}
impl_element_for_int!(u8, u16, u32, u64, u128);

/// A position in a [`SegmentedArray`]: a node and an index inside it.
///
/// The end position of an array is `(node_count - 1, len of last node)`, or `(0, 0)` when
/// the array is empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    /// Index of the node (0-based, in array order).
    pub node: u32,
    /// Index of the element inside the node.
    pub relative: u32,
}

/// How often a [`SegmentedArray`] changed its node layout, since its creation.
///
/// The layout is invisible in the array's contents: a split, a merge or a pack moves
/// elements between nodes without changing one element or its index. These counters say
/// which of those paths ran, for metrics and for a fuzzer that wants to know it reached
/// them (it must not take them for expected answers). They only grow; [`SegmentedArray::clear`]
/// keeps them. One increment per event, in paths that move elements anyway.
///
/// ```
/// use manifest_level::{NodePool, SegmentedArray};
/// let pool = NodePool::new(32, 8).unwrap(); // 4 u64 per node
/// let mut array = SegmentedArray::<u64>::new(&pool, 32).unwrap();
/// for key in 0..5u64 {
///     array.insert_sorted(key).unwrap(); // the fifth splits the full first node
/// }
/// assert_eq!(array.layout_events().splits, 1);
/// array.remove_range(0, 2).unwrap(); // node 0 drops under half and takes in node 1
/// assert_eq!(array.layout_events().merges, 1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayoutEvents {
    /// A full node gave its upper half to a new node after it.
    pub splits: u64,
    /// A node under half full took in all of the next node, which went back to the pool.
    pub merges: u64,
    /// A node under half full took elements from the next node, too full to merge.
    pub borrows_from_next: u64,
    /// The last node lost its last element and went back to the pool.
    pub last_node_releases: u64,
    /// Elements [`SegmentedArray::pack`] copied into an earlier node.
    pub pack_elements_moved: u64,
    /// Nodes [`SegmentedArray::pack`] left empty and gave back to the pool.
    pub pack_nodes_released: u64,
    /// Node swaps [`SegmentedArray::defragment`] made.
    pub defragment_swaps: u64,
}

/// A sequence of `T` in nodes of a shared [`NodePool`], with a fixed element capacity.
///
/// ```
/// use manifest_level::{NodePool, SegmentedArray};
/// let pool = NodePool::new(64, 64).unwrap(); // 8 u64 per node
/// let mut array = SegmentedArray::<u64>::new(&pool, 100).unwrap();
/// for key in [5, 1, 4, 2, 3] {
///     array.insert_sorted(key).unwrap();
/// }
/// assert_eq!(array.iter().copied().collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
/// assert_eq!(array.lower_bound(3), 2);
/// array.remove_range(1, 3).unwrap();
/// assert_eq!(array.iter().rev().copied().collect::<Vec<_>>(), [5, 1]);
/// ```
pub struct SegmentedArray<'pool, T: Element> {
    pool: &'pool NodePool,
    node_capacity: u32,
    element_count_max: u32,
    node_count_max: u32,
    nodes: Vec<NodeId>,
    /// `counts[i]`: elements in node i.
    counts: Vec<u32>,
    /// `block_starts[b]`: absolute index of the first element of node `b * INDEX_NODES`;
    /// one entry per block that has a node, and always at least one.
    block_starts: Vec<u32>,
    /// `offsets[i]`: index of node i's first element relative to `block_starts` of its block.
    offsets: Vec<u32>,
    fences: Vec<T::Key>,
    /// `block_fences[b] == fences[b * BLOCK_NODES]`: one per block that has a node.
    block_fences: Vec<T::Key>,
    /// `group_fences[g] == block_fences[g * GROUP_BLOCKS]`: one per group of blocks that
    /// has a node.
    group_fences: Vec<T::Key>,
    /// Working space of [`SegmentedArray::defragment`] (one slot per node, reserved up front
    /// so that it allocates nothing).
    scratch: Vec<u32>,
    len: u32,
    events: LayoutEvents,
    /// With the `verify` feature, whether every mutation ends with [`SegmentedArray::verify`].
    auto_verify: bool,
    #[cfg(feature = "fault-injection")]
    pub(crate) fault_search_off_by_one: bool,
    /// `Fault::IndexStalePastFirstBlock`: see [`SegmentedArray::starts_after`].
    #[cfg(feature = "fault-injection")]
    pub(crate) fault_index_offsets_stale: bool,
    /// `Fault::GroupFencesStaleAfterShift`: see [`SegmentedArray::reindex_after`].
    #[cfg(feature = "fault-injection")]
    pub(crate) fault_group_fences_stale: bool,
    /// `Fault::MergeLeaksNode`: see [`SegmentedArray::rebalance`].
    #[cfg(feature = "fault-injection")]
    pub(crate) fault_merge_leaks_node: bool,
}

impl<T: Element> Debug for SegmentedArray<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SegmentedArray")
            .field("len", &self.len())
            .field("node_count", &self.node_count())
            .field("node_capacity", &self.node_capacity)
            .finish()
    }
}

impl<'pool, T: Element> SegmentedArray<'pool, T> {
    /// The node capacity for `T` in nodes of `node_size` bytes: rounded down to even, or an
    /// error when under 2.
    pub fn node_capacity_for(node_size: usize) -> Result<u32, Error> {
        let slots = node_size / core::mem::size_of::<T>().max(1);
        let capacity = (slots.min(u32::MAX as usize) as u32) & !1;
        if capacity < 2 {
            return Err(Error::InvalidArgument(
                "node too small: fewer than 2 elements fit",
            ));
        }
        Ok(capacity)
    }

    /// Worst-case node count for `element_count_max` elements in nodes of `node_size` bytes:
    /// `ceil(n / (node_capacity / 2))`, every node half full.
    pub fn nodes_needed(node_size: usize, element_count_max: u32) -> Result<u32, Error> {
        let half = Self::node_capacity_for(node_size)? / 2;
        Ok(element_count_max.div_ceil(half))
    }

    /// An empty array of at most `element_count_max` elements, on nodes of `pool`.
    ///
    /// Reserves the side tables for the worst case now; acquires no node yet.
    pub fn new(pool: &'pool NodePool, element_count_max: u32) -> Result<Self, Error> {
        pool.check_element_type::<T>()?;
        let node_capacity = Self::node_capacity_for(pool.node_size())?;
        debug_assert!(node_capacity as usize <= pool.slots::<T>());
        let node_count_max = element_count_max.div_ceil(node_capacity / 2);
        let reserve = node_count_max as usize + 1;
        let mut block_starts = Vec::with_capacity(reserve.div_ceil(INDEX_NODES) + 1);
        block_starts.push(0);
        Ok(SegmentedArray {
            pool,
            node_capacity,
            element_count_max,
            node_count_max,
            nodes: Vec::with_capacity(reserve),
            counts: Vec::with_capacity(reserve),
            block_starts,
            offsets: Vec::with_capacity(reserve),
            fences: Vec::with_capacity(reserve),
            block_fences: Vec::with_capacity(reserve.div_ceil(BLOCK_NODES) + 1),
            group_fences: Vec::with_capacity(reserve.div_ceil(GROUP_NODES) + 1),
            scratch: Vec::with_capacity(reserve),
            len: 0,
            events: LayoutEvents::default(),
            auto_verify: true,
            #[cfg(feature = "fault-injection")]
            fault_search_off_by_one: false,
            #[cfg(feature = "fault-injection")]
            fault_index_offsets_stale: false,
            #[cfg(feature = "fault-injection")]
            fault_group_fences_stale: false,
            #[cfg(feature = "fault-injection")]
            fault_merge_leaks_node: false,
        })
    }

    /// Plants (`on = true`) or removes a deliberate bug in [`SegmentedArray::lower_bound`]:
    /// when the answer is the first element of a node, it skips that element. For tests
    /// that prove a fuzzer catches it; never for production.
    #[cfg(feature = "fault-injection")]
    pub fn inject_search_fault(&mut self, on: bool) {
        self.fault_search_off_by_one = on;
    }

    /// With the `verify` feature, whether every mutation ends with a structural
    /// [`SegmentedArray::verify`] (on by default; O(node count) each). Without the feature
    /// this does nothing.
    pub fn set_auto_verify(&mut self, on: bool) {
        self.auto_verify = on;
    }

    /// The pool the array's nodes come from.
    #[inline]
    pub fn pool(&self) -> &'pool NodePool {
        self.pool
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the array holds no element.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The largest number of elements the array accepts.
    #[inline]
    pub fn capacity(&self) -> u32 {
        self.element_count_max
    }

    /// Elements per node.
    #[inline]
    pub fn node_capacity(&self) -> u32 {
        self.node_capacity
    }

    /// Number of nodes in use.
    #[inline]
    pub fn node_count(&self) -> u32 {
        self.nodes.len() as u32
    }

    /// The worst-case node count this array was sized for.
    #[inline]
    pub fn node_count_max(&self) -> u32 {
        self.node_count_max
    }

    /// How often the array changed its node layout since its creation.
    #[inline]
    pub fn layout_events(&self) -> LayoutEvents {
        self.events
    }

    /// Number of elements in node `node`.
    #[inline]
    pub fn node_len(&self, node: u32) -> u32 {
        self.counts[node as usize]
    }

    /// The absolute index of node `node`'s first element.
    ///
    /// # Panics
    ///
    /// When `node >= node_count`.
    #[inline]
    pub fn node_start(&self, node: u32) -> u32 {
        self.view().node_start(node as usize)
    }

    /// The elements of node `node`, in order.
    #[inline]
    pub fn node_elements(&self, node: u32) -> &[T] {
        self.view().node_elements(node)
    }

    #[inline]
    fn node_slots_mut(&mut self, node: usize) -> &mut [MaybeUninit<T>] {
        let slots = {
            // SAFETY: the array owns `nodes[node]` exclusively and `&mut self` guarantees no
            // other view into it lives. Callers use one node view at a time.
            unsafe { self.pool.slots_mut::<T>(self.nodes[node]) }
        };
        &mut slots[..self.node_capacity as usize]
    }

    /// The element at absolute `index`.
    #[inline]
    pub fn get(&self, index: u32) -> Option<&T> {
        if index >= self.len() {
            return None;
        }
        let cursor = self.cursor(index);
        Some(&self.node_elements(cursor.node)[cursor.relative as usize])
    }

    /// The element at `cursor`, if the cursor points at one.
    #[inline]
    pub fn element_at(&self, cursor: Cursor) -> Option<&T> {
        if cursor.node >= self.node_count() {
            return None;
        }
        self.node_elements(cursor.node)
            .get(cursor.relative as usize)
    }

    /// The cursor of absolute `index` (`index <= len`; `len` gives the end cursor).
    ///
    /// # Panics
    ///
    /// When `index > len`.
    #[inline]
    pub fn cursor(&self, index: u32) -> Cursor {
        let len = self.len();
        assert!(index <= len, "index {index} past length {len}");
        if index == len {
            return self.end_cursor();
        }
        self.view().locate(index)
    }

    /// The cursor of absolute `index` (below the length), trying node `hint` first: when
    /// the hint's node holds `index` the cursor comes from its start and length (three
    /// loads), otherwise from the search [`SegmentedArray::cursor`] runs.
    ///
    /// Any hint gives the right cursor: a node holds exactly the indexes from its start to
    /// its start plus its length, so a hint that passes the check names the only node that
    /// can hold `index`. A hint kept from before the layout changed (or any other number)
    /// only costs the search.
    ///
    /// # Panics
    ///
    /// When `index >= len`.
    #[inline]
    pub(crate) fn cursor_hinted(&self, index: u32, hint: u32) -> Cursor {
        assert!(
            index < self.len(),
            "index {index} past length {}",
            self.len()
        );
        let view = self.view();
        if (hint as usize) < self.nodes.len() {
            let start = view.node_start(hint as usize);
            if let Some(relative) = index.checked_sub(start) {
                if relative < self.counts[hint as usize] {
                    return Cursor {
                        node: hint,
                        relative,
                    };
                }
            }
        }
        view.locate(index)
    }

    /// The cursor one past the last element.
    #[inline]
    pub fn end_cursor(&self) -> Cursor {
        match self.nodes.len() {
            0 => Cursor {
                node: 0,
                relative: 0,
            },
            count => Cursor {
                node: count as u32 - 1,
                relative: self.node_len(count as u32 - 1),
            },
        }
    }

    /// The absolute index of `cursor`.
    ///
    /// # Panics
    ///
    /// When the cursor is past the last node or past its node's length (a cursor of another
    /// array, or of this one before a mutation).
    #[inline]
    pub fn index(&self, cursor: Cursor) -> u32 {
        if self.nodes.is_empty() {
            assert_eq!(
                cursor,
                Cursor {
                    node: 0,
                    relative: 0
                }
            );
            return 0;
        }
        assert!(cursor.node < self.node_count());
        assert!(cursor.relative <= self.node_len(cursor.node));
        self.node_start(cursor.node) + cursor.relative
    }

    /// The absolute index of the first element whose key is `>= key`, or `len` if none.
    ///
    /// The array must be sorted by key (as [`SegmentedArray::insert_sorted`] keeps it).
    #[inline]
    pub fn lower_bound(&self, key: T::Key) -> u32 {
        self.lower_bound_indexed(key).1
    }

    /// The position of the first element whose key is `>= key` (one past the end if none),
    /// as a cursor: a search over the group fences (one key per 512 nodes), one over the
    /// group's block fences (one per 32 nodes), one over the block's node fences, and one
    /// inside a node. An array of one node (a level of up to a node's capacity) searches
    /// that node alone: the smallest levels of a tree skip the fence round's set-up.
    ///
    /// The cursor points at that element, as [`SegmentedArray::cursor`] of its index
    /// would (or is the end cursor). The array must be sorted by key.
    ///
    /// ```
    /// use manifest_level::{NodePool, SegmentedArray};
    /// let pool = NodePool::new(32, 8).unwrap(); // 4 u64 per node
    /// let mut array = SegmentedArray::<u64>::new(&pool, 16).unwrap();
    /// array.insert_slice(0, &[10, 20, 30, 40, 50, 60]).unwrap();
    /// let cursor = array.lower_bound_cursor(35);
    /// assert_eq!(array.index(cursor), 3);
    /// assert_eq!(array.element_at(array.cursor(3)), Some(&40));
    /// ```
    pub fn lower_bound_cursor(&self, key: T::Key) -> Cursor {
        if self.nodes.len() == 1 {
            // One node (a level of up to a node's capacity): no fence round, only the check
            // of the one fence that spares the count for a key at or before the first.
            let relative = if self.fences[0] < key {
                sorted_count(self.node_elements(0), |element| element.key() < key)
            } else {
                0
            };
            return Cursor {
                node: 0,
                relative: relative as u32,
            };
        }
        // The first node whose first key is >= key: everything before it is < key except,
        // possibly, a tail of the node just before it.
        let Some(first) = self.search_block(key) else {
            return Cursor {
                node: 0,
                relative: 0,
            };
        };
        let last = (first + BLOCK_NODES).min(self.nodes.len());
        let fences = &self.fences[first..last];
        let node_after = first + sorted_count(fences, |fence| *fence < key);
        if node_after == 0 {
            return Cursor {
                node: 0,
                relative: 0,
            };
        }
        let node = node_after - 1;
        let elements = self.node_elements(node as u32);
        let relative = sorted_count(elements, |element| element.key() < key);
        if relative == elements.len() && node_after < self.nodes.len() {
            // Past this node's last element: the answer starts the next node.
            #[cfg(feature = "fault-injection")]
            if self.fault_search_off_by_one {
                // Planted bug: at a node boundary, skip the next node's first element.
                return Cursor {
                    node: node_after as u32,
                    relative: 1,
                };
            }
            return Cursor {
                node: node_after as u32,
                relative: 0,
            };
        }
        Cursor {
            node: node as u32,
            relative: relative as u32,
        }
    }

    /// [`SegmentedArray::lower_bound_cursor`] and its cursor's absolute index, for a caller
    /// that needs both (an insert, a range iteration counting the tables it passes): the
    /// cursor comes from the search, so it needs none of the checks
    /// [`SegmentedArray::index`] runs on a caller's cursor.
    #[inline]
    pub(crate) fn lower_bound_indexed(&self, key: T::Key) -> (Cursor, u32) {
        let cursor = self.lower_bound_cursor(key);
        if self.nodes.is_empty() {
            return (cursor, 0);
        }
        let index = self.view().node_start(cursor.node as usize) + cursor.relative;
        debug_assert_eq!(index, self.index(cursor));
        (cursor, index)
    }

    /// The first node of the search block holding the first node whose first key is
    /// `>= key`, or of the block before it (when that node starts a block): node 0 while the
    /// array has a single block. `None`, in an array of more than one block, when no fence
    /// is `< key` (the answer is the very first position); an array of one block leaves
    /// that case to the search over its fences.
    #[inline]
    fn search_block(&self, key: T::Key) -> Option<usize> {
        if self.nodes.len() <= BLOCK_NODES {
            // One block (the array the seed fuzzer drives has ~20 nodes): skip two rounds.
            return Some(0);
        }
        // One group (up to 512 nodes): its fence is the first block fence, searched below.
        let group_after = match self.group_fences.len() {
            1 => usize::from(self.group_fences[0] < key),
            _ => sorted_count(&self.group_fences, |fence| *fence < key),
        };
        if group_after == 0 {
            return None;
        }
        // The group's first block fence is its group fence, which is < key: the block is in
        // this group, or is the next group's first.
        let first_block = (group_after - 1) * GROUP_BLOCKS;
        let last_block = (first_block + GROUP_BLOCKS).min(self.block_fences.len());
        let block_fences = &self.block_fences[first_block..last_block];
        let block_after = first_block + sorted_count(block_fences, |fence| *fence < key);
        debug_assert!(block_after > first_block);
        Some((block_after - 1) * BLOCK_NODES)
    }

    /// Inserts `element` at its lower bound (before any element with an equal key) and
    /// returns its index. The array must be sorted by key.
    pub fn insert_sorted(&mut self, element: T) -> Result<u32, Error> {
        // One search: the cursor is where the element goes.
        let (cursor, index) = self.lower_bound_indexed(element.key());
        self.insert_at(cursor, element)?;
        Ok(index)
    }

    /// Nodes the next insert at `index` would acquire: 1 when it must split or start the
    /// first node, else 0.
    ///
    /// # Panics
    ///
    /// When `index > len`.
    pub fn nodes_needed_to_insert(&self, index: u32) -> u32 {
        if self.nodes.is_empty() {
            return 1;
        }
        let cursor = self.insertion_cursor(index);
        u32::from(self.node_len(cursor.node) == self.node_capacity)
    }

    /// Where an insert at `index` goes: the cursor of `index`, or the end of the last node
    /// when `index == len`. The array must not be empty.
    #[inline]
    fn insertion_cursor(&self, index: u32) -> Cursor {
        debug_assert!(!self.nodes.is_empty());
        self.cursor(index)
    }

    /// Inserts `element` at absolute `index` (`index <= len`), shifting later elements.
    ///
    /// Errors, changing nothing: [`Error::IndexOutOfBounds`], [`Error::CapacityExhausted`],
    /// [`Error::NodePoolExhausted`].
    pub fn insert(&mut self, index: u32, element: T) -> Result<(), Error> {
        let len = self.len();
        if index > len {
            return Err(Error::IndexOutOfBounds { index, len });
        }
        let cursor = if self.nodes.is_empty() {
            Cursor {
                node: 0,
                relative: 0,
            }
        } else {
            self.insertion_cursor(index)
        };
        self.insert_at(cursor, element).map(|_| ())
    }

    /// Inserts `element` at `cursor` (a position from [`SegmentedArray::cursor`] or
    /// [`SegmentedArray::lower_bound_cursor`]), shifting later elements, and returns the
    /// node it went to (the cursor's, or the next one when the insert split the node). The
    /// cursor must be valid for the array as it is.
    ///
    /// Errors, changing nothing: [`Error::CapacityExhausted`],
    /// [`Error::NodePoolExhausted`].
    pub(crate) fn insert_at(&mut self, cursor: Cursor, element: T) -> Result<u32, Error> {
        let len = self.len();
        if self.nodes.is_empty() {
            assert_eq!(
                (cursor.node, cursor.relative),
                (0, 0),
                "cursor past the end"
            );
        } else {
            assert!(cursor.node < self.node_count(), "cursor past the last node");
            assert!(
                cursor.relative <= self.node_len(cursor.node),
                "cursor past its node"
            );
        }
        if len >= self.element_count_max {
            return Err(Error::CapacityExhausted {
                capacity: self.element_count_max,
            });
        }
        // Where the element goes (nowhere yet when empty).
        let target = (!self.nodes.is_empty()).then_some(cursor);
        let needed = match target {
            None => 1,
            Some(cursor) => u32::from(self.node_len(cursor.node) == self.node_capacity),
        };
        if needed > self.pool.free_count() {
            return Err(Error::NodePoolExhausted {
                needed,
                free: self.pool.free_count(),
            });
        }

        let (mut node, mut relative) = match target {
            Some(cursor) => (cursor.node as usize, cursor.relative as usize),
            None => {
                let node = self.pool.acquire().expect("free node counted above");
                self.nodes.push(node);
                self.counts.push(0);
                self.offsets.push(0);
                self.fences.push(element.key());
                self.block_fences.push(element.key());
                self.group_fences.push(element.key());
                (0, 0)
            }
        };
        if self.node_len(node as u32) == self.node_capacity {
            self.split(node);
            let half = (self.node_capacity / 2) as usize;
            if relative > half {
                node += 1;
                relative -= half;
            }
        }

        let node_len = self.node_len(node as u32) as usize;
        assert!(node_len < self.node_capacity as usize);
        let slots = self.node_slots_mut(node);
        slots.copy_within(relative..node_len, relative + 1);
        slots[relative] = MaybeUninit::new(element);
        self.grow_node(node, 1);
        if relative == 0 {
            self.set_fence(node, element.key());
        }
        debug_assert_eq!(self.len(), len + 1);
        self.verify_if_enabled();
        Ok(node as u32)
    }

    /// Nodes that inserting `count` elements at `index` one after the other (as
    /// [`SegmentedArray::insert_slice`] does) would acquire. `index <= len`.
    ///
    /// A dry run of the splits over node lengths only: O(count), no allocation.
    ///
    /// # Panics
    ///
    /// When `index > len`.
    pub fn nodes_needed_to_insert_slice(&self, index: u32, count: u32) -> u32 {
        assert!(
            index <= self.len(),
            "index {index} past length {}",
            self.len()
        );
        if count == 0 {
            return 0;
        }
        let capacity = self.node_capacity;
        let half = capacity / 2;
        // The node receiving the next element: its length and the position in it.
        let (mut needed, mut len, mut relative) = if self.nodes.is_empty() {
            (1, 0, 0)
        } else {
            let cursor = self.insertion_cursor(index);
            (0, self.node_len(cursor.node), cursor.relative)
        };
        let at_end = index == self.len();
        // Halves split off ahead of the current node and not reached yet: `half` each.
        let mut pending = 0u32;
        for _ in 0..count {
            if relative == len {
                // The end of the current node. The insertion cursor points at an element
                // unless `index == len` (then it is the end of the last node). The gap
                // `len - relative` stays the same as elements go in; a split keeps it or
                // makes it `half - relative` with a half pending; moving into a pending half
                // makes it `half`. So the position reaches a node's end only with a half
                // pending (the next element starts that half) or at the end of the array
                // (the last node grows until it splits), never with an existing node after
                // it: an insert never lands at the end of an inner node.
                if pending > 0 {
                    pending -= 1;
                    len = half;
                    relative = 0;
                } else {
                    assert!(at_end, "dry run at the end of an inner node");
                }
            }
            if len == capacity {
                needed += 1;
                if relative > half {
                    relative -= half;
                } else {
                    pending += 1;
                }
                len = half;
            }
            len += 1;
            relative += 1;
        }
        needed
    }

    /// Inserts `elements` at absolute `index`, in order. All or nothing: the nodes needed
    /// are counted first, so a pool too small is an error that changes nothing (not even
    /// the pool's free count).
    ///
    /// Errors, changing nothing: [`Error::IndexOutOfBounds`], [`Error::CapacityExhausted`],
    /// [`Error::NodePoolExhausted`].
    pub fn insert_slice(&mut self, index: u32, elements: &[T]) -> Result<(), Error> {
        let len = self.len();
        if index > len {
            return Err(Error::IndexOutOfBounds { index, len });
        }
        if elements.len() as u64 > u64::from(self.element_count_max - len) {
            return Err(Error::CapacityExhausted {
                capacity: self.element_count_max,
            });
        }
        let needed = self.nodes_needed_to_insert_slice(index, elements.len() as u32);
        let free = self.pool.free_count();
        if needed > free {
            return Err(Error::NodePoolExhausted { needed, free });
        }
        for (offset, element) in elements.iter().enumerate() {
            if let Err(error) = self.insert(index + offset as u32, *element) {
                // Unreachable when the count above is right; stay consistent regardless.
                // Removing never acquires a node, so the rollback cannot fail.
                debug_assert!(false, "insert_slice miscounted its nodes: {error:?}");
                self.remove_range(index, offset as u32)
                    .expect("rollback of a partial insert");
                return Err(error);
            }
        }
        debug_assert_eq!(free - self.pool.free_count(), needed, "nodes acquired");
        Ok(())
    }

    /// Moves the upper half of full node `node` into a new node right after it.
    fn split(&mut self, node: usize) {
        let half = (self.node_capacity / 2) as usize;
        assert_eq!(self.node_len(node as u32), self.node_capacity);
        assert!(self.nodes.len() < self.nodes.capacity(), "node table full");
        let new_node = self.pool.acquire().expect("free node checked by caller");
        {
            // SAFETY: `node` and `new_node` are distinct nodes owned by this array; the
            // source is read-only here and the destination is fresh.
            let source = unsafe { self.pool.elements::<T>(self.nodes[node], 2 * half) };
            let destination = unsafe { self.pool.slots_mut::<T>(new_node) };
            for (slot, element) in destination.iter_mut().zip(&source[half..]) {
                *slot = MaybeUninit::new(*element);
            }
            self.fences.insert(node + 1, source[half].key());
        }
        self.nodes.insert(node + 1, new_node);
        self.counts[node] = half as u32;
        self.counts.insert(node + 1, half as u32);
        self.offsets.insert(node + 1, 0);
        self.reindex_after(node);
        self.events.splits += 1;
    }

    /// Adds `count` to the length of node `node` (whose slots were just written): to the
    /// offsets of the later nodes of its block and to the starts of the later blocks.
    #[inline]
    fn grow_node(&mut self, node: usize, count: u32) {
        self.counts[node] += count;
        let (offsets, block_starts) = self.starts_after(node);
        // Two loops, not one over a chain: each vectorizes (a chain does not: +55%
        // instructions per insert and remove, measured with callgrind).
        for offset in offsets {
            *offset += count;
        }
        for start in block_starts {
            *start += count;
        }
        self.len += count;
    }

    /// Takes `count` off the length of node `node`, and off the offsets and block starts
    /// after it.
    #[inline]
    fn shrink_node(&mut self, node: usize, count: u32) {
        self.counts[node] -= count;
        let (offsets, block_starts) = self.starts_after(node);
        // Two loops, not one over a chain: each vectorizes (a chain does not: +55%
        // instructions per insert and remove, measured with callgrind).
        for offset in offsets {
            *offset -= count;
        }
        for start in block_starts {
            *start -= count;
        }
        self.len -= count;
    }

    /// The index entries that move when node `node` changes length: the offsets of the
    /// later nodes of its index block, and the starts of the later blocks.
    #[inline]
    fn starts_after(&mut self, node: usize) -> (&mut [u32], &mut [u32]) {
        let block = node / INDEX_NODES;
        let offsets_end =
            self.fault_only_offsets_end(node, ((block + 1) * INDEX_NODES).min(self.offsets.len()));
        (
            &mut self.offsets[node + 1..offsets_end],
            &mut self.block_starts[block + 1..],
        )
    }

    /// Where the offsets that [`SegmentedArray::starts_after`] shifts end: `end`, or with
    /// `Fault::IndexStalePastFirstBlock` planted and `node` past the first index
    /// block, right after `node` (none of its block's later offsets move).
    #[inline(always)]
    #[allow(unused_variables)]
    fn fault_only_offsets_end(&self, node: usize, end: usize) -> usize {
        #[cfg(feature = "fault-injection")]
        if self.fault_index_offsets_stale && node >= INDEX_NODES {
            return node + 1;
        }
        end
    }

    /// How many group fences [`SegmentedArray::reindex_after`] keeps before pushing the
    /// rest: `kept`, or with `Fault::GroupFencesStaleAfterShift` planted, every existing
    /// one that is still needed (only new groups get a fence).
    #[inline(always)]
    #[allow(unused_variables)]
    fn fault_only_group_fences_kept(&self, kept: usize, fenced_groups: usize) -> usize {
        #[cfg(feature = "fault-injection")]
        if self.fault_group_fences_stale {
            return self.group_fences.len().min(fenced_groups);
        }
        kept
    }

    /// Whether a merge returns the merged node to the pool: always, unless
    /// `Fault::MergeLeaksNode` is planted.
    #[inline(always)]
    fn fault_only_merge_releases(&self) -> bool {
        #[cfg(feature = "fault-injection")]
        if self.fault_merge_leaks_node {
            return false;
        }
        true
    }

    /// Recomputes the offsets and block starts of every node after `node`, once nodes were
    /// inserted or removed after it (its own start, and everything before it, did not
    /// move). O(node count), as is the shift of the side tables that made it necessary.
    fn reindex_after(&mut self, node: usize) {
        let node_count = self.nodes.len();
        let blocks = node_count.div_ceil(INDEX_NODES).max(1);
        debug_assert_eq!(self.offsets.len(), node_count);
        self.block_starts
            .truncate((node / INDEX_NODES + 1).min(blocks));
        // `node` is gone when it was the last node and was just dropped; otherwise the loop
        // below recomputes the nodes after it (none when it is the last).
        if node < node_count {
            // Block by block, with the running sums in registers: a branch-free inner loop
            // over each block's nodes (this runs over every later node on each split and
            // merge).
            let mut block_start = self.block_starts[node / INDEX_NODES];
            let mut offset = self.offsets[node] + self.counts[node];
            let mut first = node + 1;
            // Each round finishes one index block: at most `blocks` rounds.
            let mut rounds = 0;
            while first < node_count {
                assert!(
                    rounds < blocks,
                    "reindexing takes one round per index block"
                );
                rounds += 1;
                if first % INDEX_NODES == 0 {
                    block_start += offset;
                    self.block_starts.push(block_start);
                    offset = 0;
                }
                let end = ((first / INDEX_NODES + 1) * INDEX_NODES).min(node_count);
                for (slot, count) in self.offsets[first..end]
                    .iter_mut()
                    .zip(&self.counts[first..end])
                {
                    *slot = offset;
                    offset += count;
                }
                first = end;
            }
        }
        debug_assert_eq!(self.block_starts.len(), blocks);
        let fenced_blocks = node_count.div_ceil(BLOCK_NODES);
        self.block_fences
            .truncate((node / BLOCK_NODES + 1).min(fenced_blocks));
        for block in self.block_fences.len()..fenced_blocks {
            self.block_fences.push(self.fences[block * BLOCK_NODES]);
        }
        let fenced_groups = node_count.div_ceil(GROUP_NODES);
        let kept_groups = self.fault_only_group_fences_kept(
            (node / GROUP_NODES + 1).min(fenced_groups),
            fenced_groups,
        );
        self.group_fences.truncate(kept_groups);
        for group in self.group_fences.len()..fenced_groups {
            self.group_fences.push(self.fences[group * GROUP_NODES]);
        }
    }

    /// Changes the element at `cursor` (which must point at one) in place. `change` must
    /// not change its key.
    pub(crate) fn update_at(&mut self, cursor: Cursor, change: impl FnOnce(&mut T)) {
        let node_len = self.node_len(cursor.node) as usize;
        assert!((cursor.relative as usize) < node_len);
        let slots = self.node_slots_mut(cursor.node as usize);
        let mut element = {
            // SAFETY: slots below the node's length are initialized.
            unsafe { slots[cursor.relative as usize].assume_init() }
        };
        let key = element.key();
        change(&mut element);
        assert!(element.key() == key, "update changed an element's key");
        slots[cursor.relative as usize] = MaybeUninit::new(element);
    }

    /// Removes and returns the element at `index`.
    pub fn remove(&mut self, index: u32) -> Result<T, Error> {
        let len = self.len();
        if index >= len {
            return Err(Error::IndexOutOfBounds { index, len });
        }
        Ok(self.remove_at(self.cursor(index)))
    }

    /// Removes and returns the element at `cursor`, which must point at one.
    pub(crate) fn remove_at(&mut self, cursor: Cursor) -> T {
        let len = self.len();
        let element = self.node_elements(cursor.node)[cursor.relative as usize];
        let taken = self.remove_in_node(cursor, 1);
        assert_eq!(taken, 1);
        debug_assert_eq!(self.len(), len - 1);
        self.verify_if_enabled();
        element
    }

    /// Removes `count` elements starting at absolute `index`.
    pub fn remove_range(&mut self, index: u32, count: u32) -> Result<(), Error> {
        let len = self.len();
        let end = index.checked_add(count).filter(|&end| end <= len);
        if end.is_none() {
            return Err(Error::IndexOutOfBounds {
                index: index.saturating_add(count),
                len,
            });
        }
        let mut remaining = count;
        // Each round removes at least one element.
        for _ in 0..count {
            if remaining == 0 {
                break;
            }
            remaining -= self.remove_in_node(self.cursor(index), remaining);
        }
        assert_eq!(remaining, 0);
        debug_assert_eq!(self.len(), len - count);
        self.verify_if_enabled();
        Ok(())
    }

    /// Removes up to `count` elements from `cursor` to the end of its node, restores the
    /// fill invariant, and returns how many it removed (at least one).
    fn remove_in_node(&mut self, cursor: Cursor, count: u32) -> u32 {
        let node = cursor.node as usize;
        let relative = cursor.relative as usize;
        let node_len = self.node_len(cursor.node) as usize;
        assert!(relative < node_len && count >= 1);
        let take = count.min((node_len - relative) as u32) as usize;
        let slots = self.node_slots_mut(node);
        slots.copy_within(relative + take..node_len, relative);
        self.shrink_node(node, take as u32);
        if relative == 0 && take < node_len {
            self.set_fence(node, self.node_elements(node as u32)[0].key());
        }
        self.rebalance(node);
        take as u32
    }

    /// Restores the fill invariant of `node` after a removal from it.
    fn rebalance(&mut self, node: usize) {
        let half = self.node_capacity / 2;
        let len = self.node_len(node as u32);
        let last = node + 1 == self.nodes.len();
        if last {
            if len == 0 {
                self.pool.release(self.nodes[node]);
                self.nodes.pop();
                self.fences.pop();
                self.counts.pop();
                self.offsets.pop();
                self.reindex_after(node);
                self.events.last_node_releases += 1;
            }
            return;
        }
        if len >= half {
            return;
        }
        let next_len = self.node_len(node as u32 + 1);
        if len + next_len <= self.node_capacity {
            // Merge the next node into this one.
            self.move_from_next(node, next_len as usize);
            if self.fault_only_merge_releases() {
                self.pool.release(self.nodes[node + 1]);
            }
            self.nodes.remove(node + 1);
            self.fences.remove(node + 1);
            self.counts[node] += next_len;
            self.counts.remove(node + 1);
            self.offsets.remove(node + 1);
            self.reindex_after(node);
            self.events.merges += 1;
        } else {
            // Borrow from the next node until both are at least half full.
            let take = (len + next_len) / 2 - len;
            self.move_from_next(node, take as usize);
            self.grow_node(node, take);
            self.shrink_node(node + 1, take);
            self.set_fence(node + 1, self.node_elements(node as u32 + 1)[0].key());
            debug_assert!(self.node_len(node as u32) >= half);
            debug_assert!(self.node_len(node as u32 + 1) >= half);
            self.events.borrows_from_next += 1;
        }
        self.set_fence(node, self.node_elements(node as u32)[0].key());
    }

    /// Sets node `node`'s fence (and its block's, when it is the block's first node).
    #[inline]
    fn set_fence(&mut self, node: usize, key: T::Key) {
        self.fences[node] = key;
        if node % BLOCK_NODES == 0 {
            self.block_fences[node / BLOCK_NODES] = key;
            if node % GROUP_NODES == 0 {
                self.group_fences[node / GROUP_NODES] = key;
            }
        }
    }

    /// Appends the first `count` elements of node `node + 1` to node `node` and closes the
    /// gap in the next node. Does not touch the counts.
    fn move_from_next(&mut self, node: usize, count: usize) {
        let len = self.node_len(node as u32) as usize;
        let next_len = self.node_len(node as u32 + 1) as usize;
        assert!(len + count <= self.node_capacity as usize && count <= next_len);
        {
            // SAFETY: distinct nodes owned by this array; one shared view of the source and
            // one exclusive view of the destination, which do not overlap.
            let source = unsafe { self.pool.elements::<T>(self.nodes[node + 1], next_len) };
            let destination = unsafe { self.pool.slots_mut::<T>(self.nodes[node]) };
            for (slot, element) in destination[len..len + count].iter_mut().zip(source) {
                *slot = MaybeUninit::new(*element);
            }
        }
        self.node_slots_mut(node + 1)
            .copy_within(count..next_len, 0);
    }

    /// Moves the nodes' contents so that the array's nodes lie in ascending pool order: node
    /// 0 in the array's lowest pool node, and so on. The elements, their order, indexes and
    /// cursors do not change.
    ///
    /// A fill in random order leaves consecutive nodes anywhere in the pool, so iteration
    /// jumps through memory at every node boundary; after this it walks the pool forwards,
    /// as through one contiguous slice (with gaps where other arrays' nodes sit). At most
    /// one swap of two nodes per node (`2 × node_size` bytes each) and a sort of the node
    /// ids: O(nodes × node_size), no allocation.
    ///
    /// ```
    /// use manifest_level::{NodePool, SegmentedArray};
    /// let pool = NodePool::new(32, 16).unwrap(); // 4 u64 per node
    /// let mut array = SegmentedArray::<u64>::new(&pool, 32).unwrap();
    /// for key in [50, 10, 40, 20, 30, 60, 70, 15, 25, 35, 45] {
    ///     array.insert_sorted(key).unwrap();
    /// }
    /// let before: Vec<u64> = array.iter().copied().collect();
    /// array.defragment();
    /// assert!(array.iter().copied().eq(before));
    /// let starts: Vec<*const u64> =
    ///     (0..array.node_count()).map(|n| array.node_elements(n).as_ptr()).collect();
    /// assert!(starts.windows(2).all(|pair| pair[0] < pair[1]));
    /// ```
    pub fn defragment(&mut self) {
        let node_count = self.nodes.len();
        // `order` is a permutation of node slots: the content of slot p (in pool node
        // `nodes[p]`) must go to slot `order[p]`, the slot holding the p-th lowest node id.
        let (nodes, order) = (&self.nodes, &mut self.scratch);
        order.clear();
        order.extend(0..node_count as u32);
        order.sort_unstable_by_key(|&slot| nodes[slot as usize]);
        // Apply it with swaps, one cycle at a time: each swap puts one content where it
        // belongs, so a cycle takes fewer swaps than there are nodes.
        for start in 0..node_count {
            for _ in 0..node_count {
                let target = order[start] as usize;
                if target == start {
                    break;
                }
                // SAFETY: slots `start` and `target` differ (checked just above),
                // so the two pool nodes differ; both belong to this array, and `&mut self`
                // rules out any reference into them.
                unsafe {
                    self.pool.swap_nodes(self.nodes[start], self.nodes[target]);
                }
                // The content now in slot `start` came from `target` and goes where that
                // one was headed; slot `target` is done.
                order[start] = order[target];
                order[target] = target as u32;
                self.events.defragment_swaps += 1;
            }
            assert_eq!(
                order[start] as usize, start,
                "a cycle of a permutation needs fewer swaps than nodes"
            );
        }
        // Slot p now holds node p's content and is the p-th lowest id.
        self.nodes.sort_unstable();
        self.verify_if_enabled();
    }

    /// Moves the elements towards the front so that every node but the last holds at least
    /// [`SegmentedArray::pack_target`] elements (all but 1/16 of its slots), and returns
    /// the nodes left empty to the pool. The elements, their order and their indexes do not
    /// change; cursors taken before do (they name nodes).
    ///
    /// Inserting in random order leaves nodes about 70% full on average; a packed array
    /// takes fewer nodes and iterates through fewer, longer runs of memory. Nodes are filled
    /// up to the target only, so the free 1/16 lets the next inserts land without splitting
    /// (an insert into a full node splits it, which shifts the side tables after it: many
    /// times the cost of an insert without a split, see BENCHMARKS.md). A node that already
    /// holds more than the target when the packing reaches it keeps its elements (packing
    /// never moves elements backwards, into nodes not yet read), so packing a packed array
    /// moves nothing, and nodes filled past the target since the last packing stay that
    /// full. Each element is copied at most once: O(len + nodes), no allocation.
    ///
    /// ```
    /// use manifest_level::{NodePool, SegmentedArray};
    /// let pool = NodePool::new(256, 16).unwrap(); // 32 u64 per node
    /// let mut array = SegmentedArray::<u64>::new(&pool, 256).unwrap();
    /// for key in 0..100u64 {
    ///     array.insert_sorted((key * 37) % 100).unwrap(); // an order far from sorted
    /// }
    /// let before: Vec<u64> = array.iter().copied().collect();
    /// array.pack();
    /// assert!(array.iter().copied().eq(before));
    /// assert_eq!(array.pack_target(), 30);
    /// assert_eq!(array.node_count(), 4); // 30 + 30 + 30 + 10
    /// assert_eq!(pool.free_count(), 16 - 4);
    /// ```
    pub fn pack(&mut self) {
        let node_count = self.nodes.len();
        let target = self.pack_target() as usize;
        let len = self.len as usize;
        if node_count == 0 {
            return;
        }
        // `write` is the node being filled and `filled` its length; `write <= read`
        // throughout, so a copy goes to an earlier node or, when both are the same node, to
        // earlier slots of it. Node 0 keeps its elements in place, and so does a node the
        // writer catches up with: it may then hold more than `target` (up to capacity).
        // `counts[node]` is rewritten once the writer leaves `node`, which it has read.
        let (mut write, mut filled) = (0usize, self.counts[0] as usize);
        for read in 1..node_count {
            let read_len = self.counts[read] as usize;
            let mut taken = 0;
            // Each round copies at least one element, after moving on to the next write
            // node when this one has reached the target.
            for _ in 0..read_len {
                if taken == read_len {
                    break;
                }
                if filled >= target {
                    self.counts[write] = filled as u32;
                    write += 1;
                    filled = 0;
                }
                if write == read {
                    // Caught up: the rest of the node stays in it, moved to its front.
                    debug_assert_eq!(filled, 0);
                    if taken > 0 {
                        self.node_slots_mut(read).copy_within(taken..read_len, 0);
                    }
                    filled += read_len - taken;
                    taken = read_len;
                    break;
                }
                let chunk = (target - filled).min(read_len - taken);
                // SAFETY: `write < read`: distinct nodes owned by this array; one shared
                // view of the source's initialized elements and one exclusive view of the
                // destination's slots.
                let source = unsafe { self.pool.elements::<T>(self.nodes[read], read_len) };
                let destination = unsafe { self.pool.slots_mut::<T>(self.nodes[write]) };
                for (slot, element) in destination[filled..filled + chunk]
                    .iter_mut()
                    .zip(&source[taken..taken + chunk])
                {
                    *slot = MaybeUninit::new(*element);
                }
                filled += chunk;
                taken += chunk;
                self.events.pack_elements_moved += chunk as u64;
            }
            assert_eq!(taken, read_len, "every element of node {read} moved");
        }
        self.counts[write] = filled as u32;
        let kept = write + 1;
        assert!(kept <= len.div_ceil(target).max(1), "packed node count");
        self.keep_packed_nodes(kept);
        debug_assert_eq!(self.counts.iter().sum::<u32>() as usize, len);
        self.verify_if_enabled();
    }

    /// The end of [`SegmentedArray::pack`], once the elements sit in the first `kept` nodes
    /// (with their `counts` set): returns the other nodes to the pool and rebuilds the
    /// fences, offsets and block starts of the ones left.
    fn keep_packed_nodes(&mut self, kept: usize) {
        self.events.pack_nodes_released += (self.nodes.len() - kept) as u64;
        for node in self.nodes.drain(kept..) {
            self.pool.release(node);
        }
        self.counts.truncate(kept);
        self.offsets.truncate(kept);
        self.fences.truncate(kept);
        for node in 0..kept {
            let fence = self.node_elements(node as u32)[0].key();
            self.set_fence(node, fence);
        }
        self.reindex_after(0);
    }

    /// The fewest elements [`SegmentedArray::pack`] leaves in every node but the last:
    /// the capacity less 1/16 of it (rounded down), so 30 of 32, 15 of 16, all of 8.
    pub fn pack_target(&self) -> u32 {
        self.node_capacity - self.node_capacity / 16
    }

    /// Removes every element and returns every node to the pool.
    pub fn clear(&mut self) {
        for node in self.nodes.drain(..) {
            self.pool.release(node);
        }
        self.fences.clear();
        self.block_fences.clear();
        self.group_fences.clear();
        self.counts.clear();
        self.offsets.clear();
        self.block_starts.clear();
        self.block_starts.push(0);
        self.len = 0;
    }

    /// An iterator over all elements, front to back (reverse it for back to front).
    pub fn iter(&self) -> Iter<'_, T> {
        self.range(0, self.len())
    }

    /// The first position at or after `from` whose element satisfies `stop`, with its
    /// absolute index; the end cursor and the length when none does.
    ///
    /// A search by scanning, node slice by node slice, with no iterator state: what the
    /// level's lookups do after a [`SegmentedArray::lower_bound_cursor`]. `from` must be a
    /// valid position (as `lower_bound_cursor` and `cursor` return).
    pub(crate) fn seek(&self, from: Cursor, stop: impl FnMut(&T) -> bool) -> (Cursor, u32) {
        match self.seek_element(from, stop) {
            Some((cursor, index, _)) => (cursor, index),
            None => (self.end_cursor(), self.len),
        }
    }

    /// [`SegmentedArray::seek`] for a caller that wants the element too: its cursor, its
    /// absolute index and the element, or `None` when no element from `from` on
    /// satisfies `stop`. The element comes from the node slice the scan found it in, so
    /// the caller does not look it up again.
    #[inline]
    pub(crate) fn seek_element(
        &self,
        from: Cursor,
        mut stop: impl FnMut(&T) -> bool,
    ) -> Option<(Cursor, u32, &T)> {
        let mut relative = from.relative as usize;
        // One round per node from the cursor's, each node at most once.
        for node in from.node as usize..self.nodes.len() {
            let elements = self.node_elements(node as u32);
            if let Some(offset) = elements[relative..].iter().position(&mut stop) {
                let cursor = Cursor {
                    node: node as u32,
                    relative: (relative + offset) as u32,
                };
                let index = self.view().node_start(node) + cursor.relative;
                return Some((cursor, index, &elements[relative + offset]));
            }
            relative = 0;
        }
        None
    }

    /// An iterator over the elements from `cursor` (see [`SegmentedArray::cursor`] and
    /// [`SegmentedArray::lower_bound_cursor`]) to the end, with no lookup: the cursor
    /// already names the node.
    ///
    /// # Panics
    ///
    /// When the cursor is past its node or past the last node.
    pub fn iter_from(&self, cursor: Cursor) -> Iter<'_, T> {
        self.range_from(cursor, self.len())
    }

    /// An iterator over the elements from `cursor` up to absolute index `end` (exclusive),
    /// with no lookup for the front: what a key search followed by a scan needs, in one
    /// search instead of two.
    ///
    /// # Panics
    ///
    /// When the cursor is past its node or past the last node, or `end` lies before the
    /// cursor or past the length.
    pub fn range_from(&self, cursor: Cursor, end: u32) -> Iter<'_, T> {
        self.range_at(cursor, self.index(cursor), end)
    }

    /// [`SegmentedArray::range_from`] for a caller that already has the cursor's index
    /// `start`.
    #[inline]
    pub(crate) fn range_at(&self, cursor: Cursor, start: u32, end: u32) -> Iter<'_, T> {
        debug_assert_eq!(self.index(cursor), start);
        assert!(
            start <= end && end <= self.len(),
            "bad range {start}..{end}"
        );
        if start == end {
            return self.range(start, end);
        }
        Iter {
            array: self.view(),
            start,
            end,
            remaining: end - start,
            front_node: cursor.node,
            front: self.node_elements(cursor.node)[cursor.relative as usize..].iter(),
            back_node: NOT_LOCATED,
            back: [].iter(),
        }
    }

    /// An iterator over the elements before `end` (exclusive; a cursor as
    /// [`SegmentedArray::cursor`] returns, or one past the last element of its node), with
    /// no lookup for the back: what a descending scan from a key search needs.
    ///
    /// # Panics
    ///
    /// When the cursor is past its node or past the last node.
    pub fn range_to(&self, end: Cursor) -> Iter<'_, T> {
        let end_index = self.index(end);
        if end_index == 0 {
            return self.range(0, 0);
        }
        // The back starts at the element just before `end`: in its node, or the last of
        // the node before (an index above 0 at relative 0 is not in node 0).
        let (back_node, back) = if end.relative > 0 {
            let elements = self.node_elements(end.node);
            (end.node, &elements[..end.relative as usize])
        } else {
            (end.node - 1, self.node_elements(end.node - 1))
        };
        Iter {
            array: self.view(),
            start: 0,
            end: end_index,
            remaining: end_index,
            front_node: NOT_LOCATED,
            front: [].iter(),
            back_node,
            back: back.iter(),
        }
    }

    /// An iterator over the elements at absolute indexes `start..end`.
    ///
    /// # Panics
    ///
    /// When `start > end` or `end > len`.
    pub fn range(&self, start: u32, end: u32) -> Iter<'_, T> {
        assert!(
            start <= end && end <= self.len(),
            "bad range {start}..{end}"
        );
        // Each end finds its node on first use only: most iterations go one way.
        Iter {
            array: self.view(),
            start,
            end,
            remaining: end - start,
            front_node: NOT_LOCATED,
            front: [].iter(),
            back_node: NOT_LOCATED,
            back: [].iter(),
        }
    }

    /// The read-only view of the side tables that lookups and iterators share.
    #[inline]
    fn view(&self) -> ArrayView<'_, T> {
        ArrayView { array: self }
    }

    /// Checks every structural invariant from scratch; panics on the first violation.
    ///
    /// Node fill, counts, block starts, fences, side-table sizes, and ownership of every
    /// node.
    pub fn verify(&self) {
        let node_count = self.nodes.len();
        assert_eq!(self.counts.len(), node_count);
        assert_eq!(self.offsets.len(), node_count);
        assert_eq!(self.fences.len(), node_count);
        assert_eq!(self.block_fences.len(), node_count.div_ceil(BLOCK_NODES));
        for (block, fence) in self.block_fences.iter().enumerate() {
            assert_eq!(
                *fence,
                self.fences[block * BLOCK_NODES],
                "fence of block {block}"
            );
        }
        assert_eq!(self.group_fences.len(), node_count.div_ceil(GROUP_NODES));
        for (group, fence) in self.group_fences.iter().enumerate() {
            assert_eq!(
                *fence,
                self.fences[group * GROUP_NODES],
                "fence of group {group}"
            );
        }
        assert!(node_count as u32 <= self.node_count_max);
        assert_eq!(
            self.block_starts.len(),
            node_count.div_ceil(INDEX_NODES).max(1)
        );
        assert!(self.len() <= self.element_count_max);
        let half = self.node_capacity / 2;
        let mut start = 0u32;
        for node in 0..node_count {
            let block_start = self.block_starts[node / INDEX_NODES];
            if node % INDEX_NODES == 0 {
                assert_eq!(block_start, start, "start of block of node {node}");
            }
            assert_eq!(
                block_start + self.offsets[node],
                start,
                "offset of node {node}"
            );
            assert!(self.pool.is_acquired(self.nodes[node]));
            let len = self.node_len(node as u32);
            assert!(len >= 1, "node {node} is empty");
            assert!(len <= self.node_capacity, "node {node} over capacity");
            if node + 1 < node_count {
                assert!(len >= half, "node {node} under half full: {len} < {half}");
            }
            let elements = self.node_elements(node as u32);
            assert_eq!(self.fences[node], elements[0].key(), "fence of node {node}");
            start += len;
        }
        assert_eq!(start, self.len, "len is the sum of the node lengths");
        if node_count == 0 {
            assert_eq!(self.block_starts[0], 0);
        }
        let bound = u64::from(self.len()).div_ceil(u64::from(half));
        assert!(node_count as u64 <= bound, "more nodes than the worst case");
    }

    /// Checks that keys never decrease across the whole array.
    pub fn verify_sorted(&self) {
        let mut previous: Option<T::Key> = None;
        for element in self.iter() {
            let key = element.key();
            if let Some(previous) = previous {
                assert!(previous <= key, "keys out of order: {previous:?} > {key:?}");
            }
            previous = Some(key);
        }
    }

    #[inline]
    fn verify_if_enabled(&self) {
        #[cfg(feature = "verify")]
        if self.auto_verify {
            self.verify();
        }
    }
}

impl<T: Element> Drop for SegmentedArray<'_, T> {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Slices up to this long are searched by counting instead of by bisection: the block and
/// node fence rounds (16 and 32 keys), the group round up to 64 groups, and the search
/// inside a node of up to 64 elements; longer slices bisect.
const LINEAR_SEARCH_MAX: usize = 64;

/// How many leading elements of `sorted` satisfy `less` (which holds for a prefix): the
/// partition point.
///
/// Up to [`LINEAR_SEARCH_MAX`] elements are counted, branch-free: the loads do not depend
/// on each other, so the cache lines of a node (a `TableInfo` is a line each) arrive in
/// parallel instead of one per bisection step, and no step waits on the one before. That
/// holds in cache too: against a bisection inside nodes of arrays that fit in L1, counting
/// makes `find` 7-19% and insert-plus-remove 13-25% faster at 8 to 256 tables
/// (BENCHMARKS.md, "The key search"). Longer slices bisect.
#[inline]
fn sorted_count<E>(sorted: &[E], less: impl Fn(&E) -> bool) -> usize {
    if sorted.len() <= LINEAR_SEARCH_MAX {
        sorted.iter().filter(|element| less(element)).count()
    } else {
        sorted.partition_point(less)
    }
}

/// Nodes per search block: a key search counts (or bisects) over one fence per block of
/// a group (`block_fences`), then over the 32 fences of one block. Against 64 (with groups
/// of 16 blocks either way): insert 2-4% and remove 0-3% faster at 262,144 tables.
const BLOCK_NODES: usize = 32;

/// Search blocks per group: a key search starts by counting over one fence per group
/// (`group_fences`: 23 at 262,144 tables on 2 KiB nodes, three cache lines), then over the
/// group's 16 block fences, instead of a bisection over all the block fences (~190 at that
/// size): eight dependent loads, about a fifth of a key search.
const GROUP_BLOCKS: usize = 16;

/// Nodes per group of search blocks.
const GROUP_NODES: usize = GROUP_BLOCKS * BLOCK_NODES;

/// Nodes per block of the index over node lengths (`block_starts`, `offsets`): an insert
/// or remove adds to the offsets after its node in its block (INDEX_NODES / 2 on average)
/// and to the starts of the later blocks (blocks / 2 on average), so the best size is about
/// the square root of the node count: 128 at 262,144 tables (8,000 to 23,000 nodes).
/// Measured against 64 (interleaved, two passes): insert 2-3% and remove 3-7% faster on
/// 2 KiB nodes, 3% and 4-7% on 1 KiB nodes, lookups unchanged.
const INDEX_NODES: usize = 128;

/// What lookups and an [`Iter`] need of an array: read access to its side tables, through
/// one pointer (an iterator stays small and cheap to create).
struct ArrayView<'a, T: Element> {
    array: &'a SegmentedArray<'a, T>,
}

impl<T: Element> Clone for ArrayView<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Element> Copy for ArrayView<'_, T> {}

impl<'a, T: Element> ArrayView<'a, T> {
    /// The absolute index of node `node`'s first element (`node < node count`).
    #[inline]
    fn node_start(&self, node: usize) -> u32 {
        self.array.block_starts[node / INDEX_NODES] + self.array.offsets[node]
    }

    /// The cursor of absolute `index`, which must be below the length.
    #[inline]
    fn locate(&self, index: u32) -> Cursor {
        // The last block, then the last node of it, starting at or before `index`: starts
        // strictly increase, as every node holds at least one element.
        let block = self
            .array
            .block_starts
            .partition_point(|&start| start <= index)
            - 1;
        let first = block * INDEX_NODES;
        let last = (first + INDEX_NODES).min(self.array.offsets.len());
        let offset = index - self.array.block_starts[block];
        let node = first + self.array.offsets[first..last].partition_point(|&o| o <= offset) - 1;
        let relative = offset - self.array.offsets[node];
        assert!(
            relative < self.array.counts[node],
            "index {index} is past its node"
        );
        Cursor {
            node: node as u32,
            relative,
        }
    }

    #[inline]
    fn node_elements(&self, node: u32) -> &'a [T] {
        let node = node as usize;
        let len = self.array.counts[node] as usize;
        // SAFETY: `nodes[node]` was acquired by the array and not released; its first
        // `counts[node]` slots were written by `insert`/`split`/`move_from_next` (every path
        // that grows a count writes the slots first); the view borrows the array immutably
        // for `'a`, so the node cannot change while the slice lives.
        unsafe { self.array.pool.elements::<T>(self.array.nodes[node], len) }
    }

    /// Whether node `to` lies `distance` pool nodes from node `from` in memory (both must
    /// exist): then the nodes between most likely follow each other in memory (as after
    /// [`SegmentedArray::defragment`] and [`SegmentedArray::pack`]), and the hardware
    /// prefetcher, which follows a sequential stream, is already loading them. Only a
    /// hint's decision: a wrong guess costs a cache miss or a useless prefetch.
    #[inline]
    fn adjacent(&self, from: u32, to: u32, distance: u32) -> bool {
        let nodes = &self.array.nodes;
        let (from, to) = (nodes[from as usize].index(), nodes[to as usize].index());
        if to >= from {
            to - from == distance
        } else {
            from - to == distance
        }
    }

    /// Whether node `node` holds at least [`SegmentedArray::pack_target`] elements: an
    /// iteration through it reads its memory nearly to the end.
    #[inline]
    fn packed(&self, node: u32) -> bool {
        self.array.counts[node as usize] >= self.array.pack_target()
    }

    /// Whether an iteration entering node `node` should prefetch node `target` (`distance`
    /// nodes on): unless the nodes from `node` to `target` lie one after the other in
    /// memory and `node` is packed, the case the hardware prefetcher handles alone.
    ///
    /// Nodes filled in random order sit anywhere in the pool, so the hardware prefetcher
    /// cannot guess the next one: without the hint an iteration waits for a cache miss at
    /// every node boundary. Adjacent nodes that are full make one sequential stream, where
    /// the hint only gets in the way (a packed level iterated 20-40% slower with it).
    /// Adjacent nodes with empty tails (a level filled in key order: half full, each new
    /// node the next in the pool) leave a gap after every node that the hardware prefetcher
    /// does not jump: there the hint halves the time (`examples/iteration_layout.rs`).
    #[inline]
    fn wants_prefetch(&self, node: u32, target: u32, distance: u32) -> bool {
        !(self.packed(node) && self.adjacent(node, target, distance))
    }

    /// Prefetches the start of the node [`PREFETCH_DISTANCE`] nodes after `node` (iterating
    /// forwards), when [`ArrayView::wants_prefetch`].
    #[inline]
    fn prefetch_ahead_of(&self, node: u32) {
        let target = node.saturating_add(PREFETCH_DISTANCE);
        if (target as usize) < self.array.nodes.len()
            && self.wants_prefetch(node, target, PREFETCH_DISTANCE)
        {
            prefetch(self.node_elements(target));
        }
    }

    /// Prefetches the start of the node [`PREFETCH_DISTANCE`] nodes before `node`, if there
    /// is one (iterating backwards), when [`ArrayView::wants_prefetch`].
    #[inline]
    fn prefetch_behind(&self, node: u32) {
        if node >= PREFETCH_DISTANCE
            && self.wants_prefetch(node, node - PREFETCH_DISTANCE, PREFETCH_DISTANCE)
        {
            prefetch(self.node_elements(node - PREFETCH_DISTANCE));
        }
    }
}

/// How many nodes ahead an iterator prefetches: about one memory latency of work.
const PREFETCH_DISTANCE: u32 = 4;

/// The most bytes of a node prefetched at once; beyond that the hardware prefetcher has
/// caught on to the sequential access within the node.
const PREFETCH_BYTES_MAX: usize = 1024;

/// Hints the CPU to load the first [`PREFETCH_BYTES_MAX`] bytes of `elements` into cache.
///
/// Iterating backwards too: prefetching a node's end instead measures slower (2 KiB nodes,
/// 262,144 tables).
#[inline(always)]
fn prefetch<T>(elements: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = elements.as_ptr() as *const i8;
        let bytes = core::mem::size_of_val(elements).min(PREFETCH_BYTES_MAX);
        let mut offset = 0;
        while offset < bytes {
            // SAFETY: a prefetch is only a hint: it never faults, does not dereference in
            // the language's sense, and has no effect on memory; the address lies inside
            // `elements` anyway. (`unsafe` is needed before Rust 1.86 only.)
            #[allow(unused_unsafe)]
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset))
            };
            offset += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = elements;
}

/// Marks an iterator end whose node has not been looked up yet.
const NOT_LOCATED: u32 = u32::MAX;

/// A double-ended iterator over a range of a [`SegmentedArray`].
///
/// Created by [`SegmentedArray::iter`], [`SegmentedArray::iter_from`] and
/// [`SegmentedArray::range`]. Each end walks one node's elements as a plain slice
/// iterator and looks at the side tables only when it moves to the next node; a count of
/// the elements left keeps the two ends from crossing (they may share a node, each with its
/// own slice of it).
#[derive(Clone)]
pub struct Iter<'a, T: Element> {
    array: ArrayView<'a, T>,
    /// Absolute indexes of the range's first element and one past its last (where each end
    /// is located from on first use).
    start: u32,
    end: u32,
    /// Elements not yet yielded from either end.
    remaining: u32,
    /// The front's node (once located) and the rest of that node after the front.
    front_node: u32,
    front: core::slice::Iter<'a, T>,
    /// The back's node (once located) and the part of that node before the back.
    back_node: u32,
    back: core::slice::Iter<'a, T>,
}

impl<'a, T: Element> Iter<'a, T> {
    /// The front's next node (or, the first time, the node holding `start`) and its
    /// elements from the front on.
    ///
    /// Out of line and by value (no `&mut self`): the iterator's state never escapes to a
    /// call, so in a caller's loop it stays in registers.
    #[cold]
    #[inline(never)]
    fn front_step(array: ArrayView<'a, T>, node: u32, start: u32) -> (u32, &'a [T]) {
        if node == NOT_LOCATED {
            let cursor = array.locate(start);
            let elements = array.node_elements(cursor.node);
            (cursor.node, &elements[cursor.relative as usize..])
        } else {
            let next = node + 1;
            array.prefetch_ahead_of(next);
            (next, array.node_elements(next))
        }
    }

    /// The back's next node going backwards (or, the first time, the node holding
    /// `end - 1`) and its elements up to the back.
    #[cold]
    #[inline(never)]
    fn back_step(array: ArrayView<'a, T>, node: u32, end: u32) -> (u32, &'a [T]) {
        if node == NOT_LOCATED {
            // Nothing was taken from the back yet: it starts at the range's last element.
            let cursor = array.locate(end - 1);
            let elements = array.node_elements(cursor.node);
            (cursor.node, &elements[..=cursor.relative as usize])
        } else {
            let previous = node - 1;
            array.prefetch_behind(previous);
            (previous, array.node_elements(previous))
        }
    }
}

impl<T: Element> Iter<'_, T> {
    /// The node of the element [`Iterator::next`] returned last (unspecified before the
    /// first): a hint for [`SegmentedArray::cursor_hinted`].
    #[inline]
    pub(crate) fn front_node(&self) -> u32 {
        self.front_node
    }

    /// The node of the element [`DoubleEndedIterator::next_back`] returned last
    /// (unspecified before the first).
    #[inline]
    pub(crate) fn back_node(&self) -> u32 {
        self.back_node
    }
}

impl<'a, T: Element> Iterator for Iter<'a, T> {
    type Item = &'a T;

    #[inline]
    fn next(&mut self) -> Option<&'a T> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        if let Some(element) = self.front.next() {
            return Some(element);
        }
        let (node, elements) = Self::front_step(self.array, self.front_node, self.start);
        self.front_node = node;
        self.front = elements.iter();
        Some(self.front.next().expect("a node is never empty"))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = self.remaining as usize;
        (remaining, Some(remaining))
    }
}

impl<'a, T: Element> DoubleEndedIterator for Iter<'a, T> {
    #[inline]
    fn next_back(&mut self) -> Option<&'a T> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        if let Some(element) = self.back.next_back() {
            return Some(element);
        }
        let (node, elements) = Self::back_step(self.array, self.back_node, self.end);
        self.back_node = node;
        self.back = elements.iter();
        Some(self.back.next_back().expect("a node is never empty"))
    }
}

impl<T: Element> ExactSizeIterator for Iter<'_, T> {}
impl<T: Element> core::iter::FusedIterator for Iter<'_, T> {}

/// The structure checks themselves: a broken array must fail [`SegmentedArray::verify`],
/// and with the `verify` feature every mutation must run it. Only code inside the module can
/// break an array (the public API keeps it valid), so these are unit tests. They pin down
/// what mutation testing found unobserved: a weakened or skipped check passes every test
/// that only ever feeds it valid arrays (see MUTANTS.md).
#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    fn panics(f: impl FnOnce()) -> bool {
        catch_unwind(AssertUnwindSafe(f)).is_err()
    }

    /// `count` ascending `u64`s appended in 64-byte nodes (8 per node): inner nodes end up
    /// half full (4), so 300 elements take about 75 nodes, more than one block.
    fn filled(pool: &NodePool, count: u32) -> SegmentedArray<'_, u64> {
        let mut array = SegmentedArray::<u64>::new(pool, count + 8).unwrap();
        let elements: Vec<u64> = (0..u64::from(count)).map(|i| i * 2).collect();
        array.insert_slice(0, &elements).unwrap();
        array.verify();
        array
    }

    fn pool() -> NodePool {
        NodePool::new(64, SegmentedArray::<u64>::nodes_needed(64, 308).unwrap()).unwrap()
    }

    #[test]
    fn verify_rejects_an_inner_node_under_half_full() {
        let pool = pool();
        let mut array = filled(&pool, 300);
        assert!(array.node_count() > 3);
        assert_eq!(array.node_len(1), 4);
        // Consistent counts, offsets and length; only the fill invariant is broken.
        array.shrink_node(1, 1);
        assert!(panics(|| array.verify()), "node 1 holds 3 < 4");
    }

    #[test]
    fn verify_rejects_a_wrong_block_start() {
        let pool =
            NodePool::new(64, SegmentedArray::<u64>::nodes_needed(64, 1_208).unwrap()).unwrap();
        let mut array = filled(&pool, 1_200);
        let node_count = array.node_count() as usize;
        assert!(node_count > INDEX_NODES);
        // Block 1 starts one element early and its offsets make up for it: every node's
        // start is still right, only the block's own start is wrong.
        array.block_starts[1] -= 1;
        for offset in &mut array.offsets[INDEX_NODES..node_count.min(2 * INDEX_NODES)] {
            *offset += 1;
        }
        assert!(panics(|| array.verify()), "start of block 1");
    }

    #[test]
    fn verify_rejects_a_wrong_group_fence() {
        // Nodes of 2 elements: over two groups of nodes.
        let count = 3000;
        let pool =
            NodePool::new(16, SegmentedArray::<u64>::nodes_needed(16, count).unwrap()).unwrap();
        let mut array = SegmentedArray::<u64>::new(&pool, count).unwrap();
        array.set_auto_verify(false); // one check below instead of one per insert
        let elements: Vec<u64> = (0..u64::from(count)).map(|i| i * 2).collect();
        array.insert_slice(0, &elements).unwrap();
        assert!(array.node_count() as usize > GROUP_NODES);
        array.verify();
        array.group_fences[1] += 1;
        assert!(panics(|| array.verify()), "fence of group 1");
    }

    #[test]
    fn verify_rejects_a_wrong_block_fence() {
        let pool = pool();
        let mut array = filled(&pool, 300);
        array.block_fences[1] += 1;
        assert!(panics(|| array.verify()), "fence of block 1");
    }

    /// Kills mutants of `sorted_count`'s strategy choice: both strategies give the same
    /// answer, so only the number of probes tells them apart (every element up to
    /// `LINEAR_SEARCH_MAX`, a bisection's few beyond).
    #[test]
    fn sorted_count_counts_short_slices_and_bisects_long_ones() {
        use core::cell::Cell;
        for len in [0, 1, 7, LINEAR_SEARCH_MAX, LINEAR_SEARCH_MAX + 1, 1000] {
            let sorted: Vec<usize> = (0..len).collect();
            for point in [0, len / 3, len] {
                let probes = Cell::new(0);
                let count = sorted_count(&sorted, |&x| {
                    probes.set(probes.get() + 1);
                    x < point
                });
                assert_eq!(count, point, "len {len}");
                if len <= LINEAR_SEARCH_MAX {
                    assert_eq!(probes.get(), len, "counts every element of {len}");
                } else {
                    assert!(
                        probes.get() <= 2 + len.max(1).ilog2() as usize,
                        "bisects {len}"
                    );
                }
            }
        }
    }

    /// Every index's cursor, by walking the node lengths (the oracle owns its answer).
    fn cursors_by_walking(array: &SegmentedArray<'_, u64>) -> Vec<Cursor> {
        let mut cursors = Vec::new();
        for node in 0..array.node_count() {
            for relative in 0..array.node_len(node) {
                cursors.push(Cursor { node, relative });
            }
        }
        cursors
    }

    /// A hint gives the right cursor whatever it names: the right node, a neighbour, the
    /// ends, no node at all, and every hint kept from before the layout changed.
    #[test]
    fn cursor_hinted_is_right_for_any_hint() {
        let pool = pool();
        let mut array = filled(&pool, 300);
        let before = cursors_by_walking(&array);
        assert!(array.node_count() > BLOCK_NODES as u32);
        let last = array.node_count() - 1;
        for (index, expected) in before.iter().enumerate() {
            let wrong = [0, last, last + 1, u32::MAX, expected.node.saturating_sub(1)];
            for hint in wrong.into_iter().chain([expected.node, expected.node + 1]) {
                assert_eq!(array.cursor_hinted(index as u32, hint), *expected);
            }
        }
        array.pack();
        let after = cursors_by_walking(&array);
        assert_ne!(before, after, "packing moved elements to other nodes");
        for (index, (stale, expected)) in before.iter().zip(&after).enumerate() {
            assert_eq!(array.cursor_hinted(index as u32, stale.node), *expected);
        }
        assert!(panics(|| {
            array.cursor_hinted(300, 0);
        }));
    }

    #[test]
    fn verify_sorted_rejects_keys_out_of_order() {
        let pool = pool();
        let mut array = filled(&pool, 20);
        array.verify_sorted();
        array.insert(0, 1_000).unwrap();
        array.verify();
        assert!(panics(|| array.verify_sorted()));
    }

    /// With the `verify` feature every mutation checks the structure (unless turned off):
    /// an append to an array whose node 1 was broken panics, and passes with the checks off.
    #[cfg(feature = "verify")]
    #[test]
    fn mutations_verify_unless_turned_off() {
        let pool = pool();
        let mut array = filled(&pool, 40);
        array.shrink_node(1, 1);
        let len = array.len();
        assert!(panics(|| array.insert(len, 1_000).unwrap()));
        array.set_auto_verify(false);
        let len = array.len();
        array.insert(len, 1_002).unwrap();
        array.remove(len).unwrap();
        array.set_auto_verify(true);
        let last = array.len() - 1;
        assert!(panics(|| {
            array.remove(last).unwrap();
        }));
    }
}
