//! What every fuzzer of the crate builds on, with no knowledge of what it fuzzes: the
//! platform-stable PRNG, the generic shrinker, seed and duration parsing, panic capture,
//! failure signatures and the versioned trace file format. Depends on `std` (and `serde`
//! for the trace format) only.

pub mod panic;
pub mod prng;
pub mod seed;
pub mod shrink;
pub mod signature;
pub mod trace_file;
