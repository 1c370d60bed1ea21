//! Deterministic, seed-reproducible, model-based fuzzer for `manifest-level`.

pub mod prng;
pub mod segmented_array_fuzz;
