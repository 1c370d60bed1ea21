//! The level fuzzer: `ManifestLevel` against a reference model.
//!
//! [`ops`] is the op model, [`generate`] turns drawn kinds into valid ops (with weights
//! and level shapes a swarm seed draws in [`swarm`] and [`configuration`]), [`model`] is the
//! reference (with `u64` keys, which [`key`] embeds into the level's key type), with its
//! own answers to the level's predicates in [`oracle`],
//! [`environment`] runs ops on the level and the model side by side (with the extended op
//! set and the deep checker as its parts), [`runner`] runs a seed or an op list to a report
//! or a failure, and [`reduce`], [`trace`] and [`regression`] turn a failure into a
//! minimal, replayable reproducer.

pub mod bench;
pub mod configuration;
pub mod determinism;
pub mod environment;
#[cfg(feature = "arbitrary")]
pub mod fuzz_input;
pub mod generate;
pub mod key;
pub mod model;
pub mod ops;
pub mod oracle;
pub mod reduce;
pub mod regression;
pub mod runner;
pub mod sample;
pub mod states;
pub mod swarm;
pub mod trace;
