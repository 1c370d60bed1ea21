//! Ballast: a segmented array on the levels' own node pool that holds a share of its
//! nodes, so the levels run out of pool nodes before they reach their capacity.
//!
//! The pool is sized for the levels' worst case ([`Environment::nodes_needed_for`]), so
//! without ballast no insert ever meets an exhausted pool. With ballast
//! (`RunConfig::ballast_percent`), an insert that needs a node the ballast holds gets
//! [`Error::NodePoolExhausted`]: the environment checks that the failed insert changed
//! nothing (the level's length, generation and nodes, the pool's count), releases the
//! ballast, and retries, which must then succeed. So every planned op still runs whole,
//! and the exhausted pool's "typed error, nothing changed" path runs on every seed that
//! draws ballast. The ballast takes its nodes back at the next snapshot bump.
//!
//! [`Environment::nodes_needed_for`]: crate::level::environment::Environment::nodes_needed_for

use manifest_level::{Error, NodePool, SegmentedArray};

/// A segmented array of `u64`s holding up to a target number of pool nodes.
pub struct Ballast<'pool> {
    array: SegmentedArray<'pool, u64>,
    /// The nodes it holds after [`Ballast::fill`] when the pool has them free.
    target: u32,
    /// One node's worth of elements, appended per node taken (allocated once).
    chunk: Vec<u64>,
}

impl core::fmt::Debug for Ballast<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ballast")
            .field("nodes", &self.nodes())
            .field("target", &self.target)
            .finish()
    }
}

impl<'pool> Ballast<'pool> {
    /// Ballast of `target` nodes on `pool` (empty until [`Ballast::fill`]).
    pub fn new(pool: &'pool NodePool, target: u32) -> Result<Ballast<'pool>, Error> {
        assert!(target > 0);
        let per_node = SegmentedArray::<u64>::node_capacity_for(pool.node_size())?;
        let array = SegmentedArray::new(pool, target.saturating_mul(per_node))?;
        Ok(Ballast {
            array,
            target,
            chunk: vec![0; per_node as usize],
        })
    }

    /// Takes free pool nodes until it holds its target (or one more: the array may split
    /// its last node on the way) or the pool has none left.
    pub fn fill(&mut self) {
        // One node per round; the capacity (target nodes' worth) bounds the rounds.
        for _ in 0..self.target {
            if self.array.node_count() >= self.target {
                return;
            }
            let room = self.array.capacity() - self.array.len();
            let count = (self.chunk.len() as u32).min(room);
            if count == 0 {
                return;
            }
            match self
                .array
                .insert_slice(self.array.len(), &self.chunk[..count as usize])
            {
                Ok(()) => {}
                Err(Error::NodePoolExhausted { .. }) => return,
                Err(error) => panic!("ballast fill: {error}"),
            }
        }
    }

    /// Gives every node back to the pool.
    pub fn release(&mut self) {
        self.array.clear();
        assert_eq!(self.array.node_count(), 0);
    }

    /// The pool nodes it holds.
    pub fn nodes(&self) -> u32 {
        self.array.node_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_to_its_target_or_the_pool_and_gives_everything_back() {
        let pool = NodePool::new(256, 10).unwrap();
        let mut ballast = Ballast::new(&pool, 6).unwrap();
        assert_eq!(ballast.nodes(), 0);
        ballast.fill();
        assert!((6..=7).contains(&ballast.nodes()), "{ballast:?}");
        assert_eq!(pool.acquired_count(), ballast.nodes());
        ballast.release();
        assert_eq!(pool.acquired_count(), 0);
        // A pool with fewer free nodes than the target: it takes what there is.
        let mut other = Ballast::new(&pool, 8).unwrap();
        ballast.fill();
        other.fill();
        assert_eq!(ballast.nodes() + other.nodes(), 10);
        assert_eq!(pool.free_count(), 0);
    }
}
