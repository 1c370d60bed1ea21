//! A run as data: its setup and its ops.

use super::ops::Op;
use super::setup::Setup;

/// An explicit run: a setup and its ops.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Trace {
    /// The setup (normalized when run).
    pub setup: Setup,
    /// The ops, in order.
    pub ops: Vec<Op>,
}
