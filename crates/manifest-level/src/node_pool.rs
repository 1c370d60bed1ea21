//! [`NodePool`]: a fixed set of fixed-size memory nodes, reserved once and shared by arrays.
//!
//! The crate's `unsafe` functions live here (the segmented array calls them, each call with
//! a `SAFETY` argument; its only other `unsafe` is a prefetch hint). The pool hands out node
//! *ids*; whoever acquired an id owns that node's memory exclusively until it releases the
//! id, so typed views of different ids never alias. The segmented array tracks how many
//! elements of each node it has initialized and only reads those.

use core::cell::{Cell, UnsafeCell};
use core::mem::{align_of, size_of, MaybeUninit};

use crate::error::Error;

/// Node sizes must be a multiple of this, and element types at most this aligned.
pub const NODE_ALIGN: usize = 16;

/// The largest node size accepted, in bytes.
pub const NODE_SIZE_MAX: usize = 1 << 20;

/// The largest node count accepted (node ids are `u32`).
pub const NODE_COUNT_MAX: u32 = 1 << 28;

/// The memory unit nodes are carved from: cache-line aligned, so most nodes start on a line.
#[repr(C, align(64))]
struct Block([u8; 64]);

/// The id of one node of a [`NodePool`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct NodeId(u32);

impl NodeId {
    /// The node's position in the pool: nodes `i` and `i + 1` are adjacent in memory.
    #[inline]
    pub(crate) fn index(self) -> u32 {
        self.0
    }
}

/// A fixed number of fixed-size nodes, reserved at construction and never grown.
///
/// Segmented arrays acquire nodes from the pool as they grow and release them as they
/// shrink. One pool can serve the arrays of several levels at once (an
/// LSM tree has up to seven levels); levels borrow it, so it must outlive them. Running out
/// of nodes is an [`Error::NodePoolExhausted`] that leaves the requesting level unchanged.
///
/// The pool uses interior mutability and is therefore not `Sync`: one pool and the levels
/// built on it belong to one thread at a time.
///
/// ```
/// use manifest_level::{ManifestLevel, NodePool};
/// // Enough nodes for two levels of up to 1,000 tables each.
/// let nodes = 2 * ManifestLevel::<u64>::nodes_needed(1024, 1_000).unwrap();
/// let pool = NodePool::new(1024, nodes).unwrap();
/// let a = ManifestLevel::<u64>::new(&pool, 1_000).unwrap();
/// let b = ManifestLevel::<u64>::new(&pool, 1_000).unwrap();
/// assert_eq!(pool.free_count(), nodes);
/// # drop((a, b));
/// ```
pub struct NodePool {
    node_size: usize,
    node_count: u32,
    memory: Box<[UnsafeCell<MaybeUninit<Block>>]>,
    /// Stack of free node ids; `free[..free_len]` are free.
    free: Box<[Cell<u32>]>,
    free_len: Cell<u32>,
    /// Whether each node is currently acquired (catches double release and foreign ids).
    acquired: Box<[Cell<bool>]>,
}

impl core::fmt::Debug for NodePool {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NodePool")
            .field("node_size", &self.node_size)
            .field("node_count", &self.node_count)
            .field("free_count", &self.free_count())
            .finish()
    }
}

impl NodePool {
    /// Reserves `node_count` nodes of `node_size` bytes each.
    ///
    /// `node_size` must be a non-zero multiple of [`NODE_ALIGN`] (16) and at most
    /// [`NODE_SIZE_MAX`]; `node_count` at most [`NODE_COUNT_MAX`].
    pub fn new(node_size: usize, node_count: u32) -> Result<NodePool, Error> {
        if node_size == 0 || node_size % NODE_ALIGN != 0 || node_size > NODE_SIZE_MAX {
            return Err(Error::InvalidArgument(
                "node_size must be a non-zero multiple of 16, at most 1 MiB",
            ));
        }
        if node_count > NODE_COUNT_MAX {
            return Err(Error::InvalidArgument("node_count above NODE_COUNT_MAX"));
        }
        let bytes = node_size
            .checked_mul(node_count as usize)
            .ok_or(Error::InvalidArgument("node_size * node_count overflows"))?;
        let block_count = bytes.div_ceil(size_of::<Block>());
        let memory = (0..block_count)
            .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
            .collect();
        // Pop order hands out low ids first, so a fresh level's nodes are adjacent.
        let free = (0..node_count).rev().map(Cell::new).collect();
        let acquired = (0..node_count).map(|_| Cell::new(false)).collect();
        Ok(NodePool {
            node_size,
            node_count,
            memory,
            free,
            free_len: Cell::new(node_count),
            acquired,
        })
    }

    /// Size of every node, in bytes.
    #[inline]
    pub fn node_size(&self) -> usize {
        self.node_size
    }

    /// Number of nodes reserved.
    #[inline]
    pub fn node_count(&self) -> u32 {
        self.node_count
    }

    /// Number of nodes not acquired by any array.
    #[inline]
    pub fn free_count(&self) -> u32 {
        self.free_len.get()
    }

    /// Number of nodes currently acquired.
    #[inline]
    pub fn acquired_count(&self) -> u32 {
        self.node_count - self.free_len.get()
    }

    /// Bytes reserved for nodes.
    #[inline]
    pub fn memory_bytes(&self) -> usize {
        self.memory.len() * size_of::<Block>()
    }

    /// Takes a free node, or `None` when the pool is exhausted.
    pub(crate) fn acquire(&self) -> Option<NodeId> {
        let len = self.free_len.get();
        if len == 0 {
            return None;
        }
        let id = self.free[len as usize - 1].get();
        self.free_len.set(len - 1);
        let acquired = &self.acquired[id as usize];
        assert!(!acquired.get(), "node {id} handed out twice");
        acquired.set(true);
        Some(NodeId(id))
    }

    /// Returns a node acquired from this pool.
    pub(crate) fn release(&self, node: NodeId) {
        let acquired = &self.acquired[node.0 as usize];
        assert!(acquired.get(), "node {} released but not acquired", node.0);
        acquired.set(false);
        let len = self.free_len.get();
        assert!(len < self.node_count);
        self.free[len as usize].set(node.0);
        self.free_len.set(len + 1);
    }

    /// Whether `node` is currently acquired (for verification).
    pub(crate) fn is_acquired(&self, node: NodeId) -> bool {
        self.acquired[node.0 as usize].get()
    }

    /// The largest number of `T` a node can hold.
    #[inline]
    pub(crate) fn slots<T>(&self) -> usize {
        self.node_size / size_of::<T>().max(1)
    }

    /// Checks that `T` fits the pool's alignment.
    pub(crate) fn check_element_type<T>(&self) -> Result<(), Error> {
        if align_of::<T>() > NODE_ALIGN {
            return Err(Error::InvalidArgument("element alignment above 16"));
        }
        if size_of::<T>() == 0 {
            return Err(Error::InvalidArgument("zero-sized elements"));
        }
        Ok(())
    }

    #[inline]
    fn node_base(&self, node: NodeId) -> *mut u8 {
        debug_assert!(node.0 < self.node_count);
        let offset = node.0 as usize * self.node_size;
        debug_assert!(offset + self.node_size <= self.memory_bytes());
        // `UnsafeCell::raw_get` keeps the provenance of the whole `memory` slice (derived
        // from a shared reference to cells, which permit writes), so the pointer may reach
        // any byte of the allocation. `wrapping_add` needs no `unsafe`; the offset is in
        // bounds by the assertion above.
        let base = UnsafeCell::raw_get(self.memory.as_ptr()) as *mut u8;
        base.wrapping_add(offset)
    }

    /// The node's memory as slots of `T`, initialized or not.
    ///
    /// # Safety
    ///
    /// The caller must have acquired `node` from this pool, must not have released it, and
    /// must hold no other reference into the node's memory while the returned one lives
    /// (the array that owns a node calls this only from `&mut self` methods, one borrow per
    /// node at a time). `T` must have passed [`NodePool::check_element_type`].
    #[inline]
    #[allow(clippy::mut_from_ref)] // exclusivity comes from node ownership, see # Safety
    pub(crate) unsafe fn slots_mut<T>(&self, node: NodeId) -> &mut [MaybeUninit<T>] {
        debug_assert!(self.is_acquired(node));
        let len = self.slots::<T>();
        // SAFETY: the node's bytes `[offset, offset + node_size)` lie inside `memory`
        // (checked in `node_base`); `offset` is a multiple of 16 and `memory` is 64-aligned,
        // so the pointer is aligned for `T` (align <= 16, checked by `check_element_type`);
        // `len * size_of::<T>() <= node_size`; `MaybeUninit<T>` has no validity invariant;
        // and the caller guarantees exclusive access to this node's bytes.
        unsafe { core::slice::from_raw_parts_mut(self.node_base(node) as *mut MaybeUninit<T>, len) }
    }

    /// Swaps the whole contents (`node_size` bytes, initialized or not) of nodes `a` and `b`.
    ///
    /// # Safety
    ///
    /// The caller must own both nodes (acquired from this pool, not released), `a != b`,
    /// and hold no reference into either node's memory.
    pub(crate) unsafe fn swap_nodes(&self, a: NodeId, b: NodeId) {
        debug_assert!(self.is_acquired(a) && self.is_acquired(b));
        assert_ne!(a, b, "a node swapped with itself");
        // SAFETY: both ranges of `node_size` bytes lie inside `memory` (`node_base` checks
        // the offset) and do not overlap (distinct nodes); `MaybeUninit<u8>` may hold any
        // byte, initialized or not; the caller guarantees nothing else accesses them now.
        unsafe {
            core::ptr::swap_nonoverlapping(
                self.node_base(a) as *mut MaybeUninit<u8>,
                self.node_base(b) as *mut MaybeUninit<u8>,
                self.node_size,
            );
        }
    }

    /// The first `len` elements of the node, which must be initialized.
    ///
    /// # Safety
    ///
    /// The caller must own `node` (as for [`NodePool::slots_mut`]), must have written the
    /// first `len` slots with valid `T` values (`len <= slots::<T>()`), and must not mutate
    /// the node while the returned reference lives.
    #[inline]
    pub(crate) unsafe fn elements<T>(&self, node: NodeId, len: usize) -> &[T] {
        debug_assert!(self.is_acquired(node));
        debug_assert!(len <= self.slots::<T>());
        // SAFETY: bounds and alignment as in `slots_mut`; the first `len` slots hold
        // initialized `T` values by the caller's guarantee; shared access only.
        unsafe { core::slice::from_raw_parts(self.node_base(node) as *const T, len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acquire_and_release() {
        let pool = NodePool::new(64, 3).unwrap();
        assert_eq!((pool.free_count(), pool.acquired_count()), (3, 0));
        let a = pool.acquire().unwrap();
        let b = pool.acquire().unwrap();
        let c = pool.acquire().unwrap();
        // Low ids first, each handed out once.
        assert_eq!([a, b, c], [NodeId(0), NodeId(1), NodeId(2)]);
        assert_eq!(pool.acquire(), None);
        assert_eq!((pool.free_count(), pool.acquired_count()), (0, 3));
        assert!(pool.is_acquired(b));
        pool.release(b);
        assert!(!pool.is_acquired(b));
        assert_eq!(pool.free_count(), 1);
        // The last released node is the next one handed out.
        assert_eq!(pool.acquire(), Some(b));
        for node in [c, a, b] {
            pool.release(node);
        }
        assert_eq!((pool.free_count(), pool.acquired_count()), (3, 0));
    }

    #[test]
    #[should_panic(expected = "released but not acquired")]
    fn double_release_panics() {
        let pool = NodePool::new(64, 2).unwrap();
        let node = pool.acquire().unwrap();
        pool.release(node);
        pool.release(node);
    }

    #[test]
    fn empty_pool() {
        let pool = NodePool::new(16, 0).unwrap();
        assert_eq!(pool.acquire(), None);
        assert_eq!(pool.memory_bytes(), 0);
    }

    #[test]
    fn bad_sizes() {
        for size in [0, 8, 24, NODE_SIZE_MAX + NODE_ALIGN] {
            assert!(NodePool::new(size, 1).is_err(), "{size}");
        }
        assert!(NodePool::new(16, NODE_COUNT_MAX + 1).is_err());
    }

    #[test]
    fn element_types() {
        #[allow(dead_code)]
        #[repr(align(32))]
        #[derive(Clone, Copy)]
        struct Aligned32(u8);
        let pool = NodePool::new(64, 1).unwrap();
        assert!(pool.check_element_type::<u128>().is_ok());
        assert!(pool.check_element_type::<[u8; 3]>().is_ok());
        assert!(pool.check_element_type::<Aligned32>().is_err());
        assert!(pool.check_element_type::<()>().is_err());
        assert_eq!(pool.slots::<u128>(), 4);
        assert_eq!(pool.slots::<[u8; 24]>(), 2);
    }

    /// Nodes of 48 bytes straddle the 64-byte blocks: every node's slots are aligned, lie
    /// inside the pool's memory, and never alias another node's (Miri checks the accesses).
    #[test]
    fn nodes_are_aligned_and_disjoint() {
        let pool = NodePool::new(48, 5).unwrap();
        assert!(pool.memory_bytes() >= 5 * 48);
        assert_eq!(pool.memory_bytes() % 64, 0);
        let nodes = [(); 5].map(|()| pool.acquire().unwrap());
        for (i, &node) in nodes.iter().enumerate() {
            // SAFETY: acquired above, not released, no other view of it lives.
            let slots = unsafe { pool.slots_mut::<u128>(node) };
            assert_eq!(slots.len(), 3);
            assert_eq!(slots.as_ptr() as usize % NODE_ALIGN, 0);
            for (j, slot) in slots.iter_mut().enumerate() {
                *slot = MaybeUninit::new((i * 10 + j) as u128);
            }
        }
        {
            // A shared view of one node and an exclusive one of another, at once.
            // SAFETY: distinct acquired nodes; node 0 fully written above.
            let first = unsafe { pool.elements::<u128>(nodes[0], 3) };
            let second = unsafe { pool.slots_mut::<u128>(nodes[1]) };
            second[2] = MaybeUninit::new(first[1] + 100);
        }
        for (i, &node) in nodes.iter().enumerate() {
            // SAFETY: every slot of every node was written above.
            let elements = unsafe { pool.elements::<u128>(node, 3) };
            let expected: Vec<u128> = (0..3)
                .map(|j| match (i, j) {
                    (1, 2) => 101,
                    _ => (i * 10 + j) as u128,
                })
                .collect();
            assert_eq!(elements, expected.as_slice());
        }
        // The same memory reused as another element type after release and reacquire.
        pool.release(nodes[4]);
        let again = pool.acquire().unwrap();
        assert_eq!(again, nodes[4]);
        // SAFETY: reacquired; written before being read.
        let slots = unsafe { pool.slots_mut::<u32>(again) };
        assert_eq!(slots.len(), 12);
        for slot in slots.iter_mut() {
            *slot = MaybeUninit::new(7);
        }
        // SAFETY: all 12 written.
        assert_eq!(unsafe { pool.elements::<u32>(again, 12) }, &[7; 12]);
    }
}
