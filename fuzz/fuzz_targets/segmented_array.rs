//! libFuzzer target: the segmented array alone against a `Vec` model.
//!
//! The input decodes (`Trace::from_fuzz_input`, via `arbitrary`) into a setup — element
//! type, node size, capacity, pool size, sorted or positional mode — and at most 256 ops of
//! the same op model the seed-driven fuzzer (`manifest-level-fuzz segmented-array`) uses,
//! so every finding replays there with `run_ops`. `cargo fuzz fmt segmented_array <input>`
//! prints the decoded trace.
//!
//! With the `plant-search-fault` feature, the array has a deliberate off-by-one in
//! `lower_bound`, to watch libFuzzer find a bug (docs/fuzzing.md).

#![no_main]

use libfuzzer_sys::fuzz_target;
use manifest_level_fuzz::segmented_array::{run_ops, Faults, Trace};

fuzz_target!(|trace: Trace| {
    let faults = Faults {
        search_off_by_one: cfg!(feature = "plant-search-fault"),
    };
    if let Err(failure) = run_ops(trace.setup(), &trace.ops, faults) {
        panic!("{failure}\n\nreplay: {:?}", failure.trace);
    }
});
