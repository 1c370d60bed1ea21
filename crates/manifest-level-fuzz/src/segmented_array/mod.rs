//! A deterministic fuzzer of [`SegmentedArray`] alone, against a `Vec` model.
//!
//! TigerBeetle fuzzes its segmented array on its own, apart from the manifest level built
//! on it; so do we. One `u64` seed picks a [`Setup`] (element type, node size, capacity,
//! pool size, sorted or positional mode, key domain) and then a stream of [`Op`]s, each
//! applied to the array and to a plain `Vec<T>` that is the model. After every op the
//! array's own [`SegmentedArray::verify`] runs, the whole contents are compared with the
//! model in both directions, and the node pool's accounting is checked.
//!
//! What it exercises:
//!
//! - random batches of inserts and removes ([`SegmentedArray::insert_slice`],
//!   [`SegmentedArray::remove_range`], single [`SegmentedArray::insert`] and
//!   [`SegmentedArray::remove`]) at random positions, up to about two node capacities per
//!   batch, often aimed at node boundaries ([`Position::Boundary`]), in phases that fill
//!   the array to capacity and drain it again (one growing phase in sixteen is 200 to
//!   2,000 ops long, so arrays of up to 65,536 elements fill: some seeds pass 512 nodes);
//! - sorted mode: [`SegmentedArray::insert_sorted`] with keys from a small domain, so runs
//!   of equal keys cross node boundaries; [`SegmentedArray::lower_bound`] is compared with
//!   `Vec::partition_point`, and [`SegmentedArray::verify_sorted`] runs after every op;
//! - cursors: absolute index → [`Cursor`] → index round trips, `element_at`, `get`,
//!   `end_cursor`;
//! - range iteration, interleaving `next` and `next_back` by a random pattern;
//! - five element types (`u32`, `u64`, `u128`, the 24-byte [`Record24`] and the 64-byte,
//!   16-aligned [`Record64`]) and node sizes from 32 to 4096 bytes;
//! - error paths, each of which must leave the contents unchanged: a deliberately small
//!   node pool ([`Error::NodePoolExhausted`]), a second array sharing the pool
//!   ([`Op::Sibling`]), capacity exhausted ([`Error::CapacityExhausted`]) and indexes past
//!   the end ([`Error::IndexOutOfBounds`]).
//!
//! A run is either a seed ([`run`]) or an explicit op list ([`run_ops`]); the seed-driven
//! generator only ever emits [`Op`]s, so every seed run can be recorded
//! ([`SegmentedArrayFuzzConfig::record`]) and replayed. Ops are total: any op is valid in
//! any state (positions are resolved against the current length when the op runs, and
//! out-of-range ones test the error paths), so byte-decoded ops from a coverage-guided
//! fuzzer (`Trace::from_fuzz_input`, feature `arbitrary`) run through the same code.
//! [`Trace::to_fuzz_input`] is the inverse, used to seed a libFuzzer corpus from seed
//! runs.
//!
//! [`SegmentedArray`]: manifest_level::SegmentedArray
//! [`SegmentedArray::verify`]: manifest_level::SegmentedArray::verify
//! [`SegmentedArray::insert_slice`]: manifest_level::SegmentedArray::insert_slice
//! [`SegmentedArray::remove_range`]: manifest_level::SegmentedArray::remove_range
//! [`SegmentedArray::insert`]: manifest_level::SegmentedArray::insert
//! [`SegmentedArray::remove`]: manifest_level::SegmentedArray::remove
//! [`SegmentedArray::insert_sorted`]: manifest_level::SegmentedArray::insert_sorted
//! [`SegmentedArray::lower_bound`]: manifest_level::SegmentedArray::lower_bound
//! [`SegmentedArray::verify_sorted`]: manifest_level::SegmentedArray::verify_sorted
//! [`Cursor`]: manifest_level::Cursor
//! [`Error::NodePoolExhausted`]: manifest_level::Error::NodePoolExhausted
//! [`Error::CapacityExhausted`]: manifest_level::Error::CapacityExhausted
//! [`Error::IndexOutOfBounds`]: manifest_level::Error::IndexOutOfBounds

// A `Failure` is returned at most once per run, at its end: its size costs nothing, and
// boxing it would only make callers' matches clumsier.
#![allow(clippy::result_large_err)]

pub mod element;
pub mod faults;
pub mod fuzz_input;
pub mod generate;
pub mod harness;
pub mod ops;
pub mod reduce;
pub mod regression;
pub mod report;
pub mod runner;
pub mod setup;
pub mod trace;

pub use element::{ElementKind, Record24, Record64, CAPACITY_MAX, NODE_SIZE_MAX, NODE_SIZE_MIN};
pub use faults::Faults;
pub use fuzz_input::INPUT_OPS_MAX;
pub use ops::{Op, Position};
pub use reduce::{default_shrunk_trace_path, failure_signature, shrink_failure};
pub use report::{Failure, Report};
pub use runner::{run, run_ops, SegmentedArrayFuzzConfig};
pub use setup::{Setup, INPUT_CAPACITY_MAX};
pub use trace::{replay_command, SegmentedArrayTarget, Trace, TraceConfig};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::prng::Prng;

    #[test]
    fn setups_are_normalized_and_valid() {
        let mut prng = Prng::from_seed(7);
        for _ in 0..2_000 {
            let setup = Setup::draw(&mut prng);
            assert_eq!(setup, setup.normalized(), "normalize is idempotent");
            assert_eq!(setup.node_size % 16, 0);
            assert!(setup.node_capacity() >= 2);
            assert!(setup.node_size as usize / setup.element.size() >= 2);
            assert!(setup.pool_nodes <= setup.pool_nodes_full());
        }
    }

    #[test]
    fn arbitrary_setups_normalize() {
        let raw = Setup {
            element: ElementKind::Record64,
            node_size: 17,
            capacity: 0,
            sibling_capacity: 99_999,
            pool_nodes: u32::MAX,
            sorted: true,
            key_max: u64::MAX,
        };
        let setup = raw.normalized();
        assert_eq!(setup.node_size, 128);
        assert_eq!(setup.capacity, 1);
        assert_eq!(setup.sibling_capacity, 1);
        assert_eq!(setup.pool_nodes, setup.pool_nodes_full());
        assert_eq!(setup, setup.normalized());
        let narrow = Setup {
            element: ElementKind::U32,
            ..raw
        }
        .normalized();
        assert_eq!(narrow.key_max, u64::from(u32::MAX));
        assert_eq!(narrow.node_size, 32);
    }

    #[cfg(feature = "arbitrary")]
    #[test]
    fn fuzz_input_round_trips() {
        for seed in 0..20 {
            let config = SegmentedArrayFuzzConfig {
                seed,
                ops: 300,
                record: true,
                ..Default::default()
            };
            let trace = run(config).expect("passes").trace.expect("recorded");
            let decoded = Trace::from_fuzz_input(&trace.to_fuzz_input());
            assert_eq!(decoded.setup(), trace.setup().for_fuzz_input());
            assert!(decoded.setup().capacity <= INPUT_CAPACITY_MAX);
            assert_eq!(decoded.ops, trace.ops[..INPUT_OPS_MAX]);
        }
        // Arbitrary bytes decode, and re-encode to a prefix-equivalent input.
        let mut prng = Prng::from_seed(3);
        for _ in 0..200 {
            let bytes: Vec<u8> = (0..prng.int_inclusive(300))
                .map(|_| prng.next_u64() as u8)
                .collect();
            let trace = Trace::from_fuzz_input(&bytes);
            let again = Trace::from_fuzz_input(&trace.to_fuzz_input());
            assert_eq!(again, trace);
        }
    }
}
