//! The input format of the `manifest_level` cargo-fuzz target in `fuzz/` (feature
//! `arbitrary`): libFuzzer's bytes decode into the op model the seed runs of a campaign
//! use, the extended op set with deep checks ([`RunConfig::deep`]), bounded to
//! [`OPS_MAX`] ops and [`TABLE_COUNT_MAX`] tables so that one input runs in a few
//! milliseconds even under libFuzzer's instrumentation.
//!
//! The layout ([`decode_manifest_level`]): an environment seed (`u64`),
//! `table_count_max - 1` (`u16`, modulo [`TABLE_COUNT_MAX`]), a shape byte (its low six
//! bits a node-size index into [`NODE_SIZES`], bit 7 for `u128` keys ([`WIDE_KEYS`]),
//! bit 6 for a third level ([`THIRD_LEVEL`])), then per op a kind byte ([`kind_of_byte`])
//! and a 16-bit count seed.
//! The seed fuzzer's [`GenerateContext`] (of the extended op set) turns each kind and
//! count seed into an op that is valid where it stands, exactly as it turns the weighted
//! draws of a seed run into ops, so libFuzzer steers the op sequence while every op stays
//! applicable, and every byte string is a meaningful run (missing bytes read as zero).
//!
//! [`encode_manifest_level`] is the inverse for the op list of any run it can express (the
//! seed corpus in `fuzz/seeds/manifest_level` is seed runs encoded this way). A decoded
//! input runs through [`run_ops`](crate::level::runner::run_ops), and its config and ops make a
//! [`Trace`](crate::level::trace::Trace) that `--replay` runs: the trace's config records the op
//! set and check mode, so the replay is the same run.
//!
//! ```
//! use manifest_level_fuzz::level::environment::deep::CheckMode;
//! use manifest_level_fuzz::level::fuzz_input::{decode_manifest_level, OPS_MAX};
//! use manifest_level_fuzz::level::ops::OpSet;
//! use manifest_level_fuzz::level::runner::run_ops;
//!
//! let bytes: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8).collect();
//! let (config, ops) = decode_manifest_level(&bytes);
//! assert_eq!((config.ops, config.check), (OpSet::Extended, CheckMode::Deep));
//! assert!(!ops.is_empty() && ops.len() <= OPS_MAX);
//! run_ops(&config, &ops).expect("the level agrees with the model");
//! ```

use arbitrary::{Arbitrary, Unstructured};

use crate::level::generate::GenerateContext;
use crate::level::key::KeyWidth;
use crate::level::ops::{FuzzOp, OpKind, OpSet, Weights, KIND_COUNT};
use crate::level::runner::RunConfig;
use crate::support::prng::Prng;

/// The most ops one input decodes to.
///
/// The deep checks compare the whole level after every op, and libFuzzer's comparison
/// tracing makes that about fifteen times slower than in a seed run: 50 to 150 µs per op
/// here, so 64 ops take 4 to 9 ms (256 took 15 to 60 ms, a few dozen inputs a second).
pub const OPS_MAX: usize = 64;

/// The largest `table_count_max` an input decodes to: a level of any decoded size can
/// fill up within [`OPS_MAX`] ops (inserts of up to 10 tables), so full levels (inserts
/// falling back to removes, `CapacityExhausted`) are as reachable as empty ones.
pub const TABLE_COUNT_MAX: u32 = 256;

/// Node sizes an input picks from (a `TableInfo<u64>` is 64 bytes, so 128 holds two).
pub const NODE_SIZES: [usize; 6] = [128, 256, 512, 1024, 2048, 4096];

/// Bytes before the first op: seed, `table_count_max - 1`, shape byte.
pub const HEADER_LEN: usize = 8 + 2 + 1;

/// The shape byte's bit for `u128` keys (a node of 128 bytes, too small for 2 such
/// tables, becomes 256).
pub const WIDE_KEYS: u8 = 0x80;

/// The shape byte's bit for a third level on the node pool
/// ([`RunConfig::third_level`]).
pub const THIRD_LEVEL: u8 = 0x40;

/// The node size a shape byte picks, for its key width.
fn node_size_of(shape: u8) -> usize {
    let node_size = NODE_SIZES[usize::from(shape & 0x3F) % NODE_SIZES.len()];
    if shape & WIDE_KEYS != 0 {
        node_size.max(256)
    } else {
        node_size
    }
}

/// The op kind a kind byte draws.
///
/// Bytes `0..20` are [`OpKind::ALL`]`[byte]`, so every kind is one byte away (and
/// [`encode_manifest_level`] writes [`OpKind::index`]); the other 236 values are spread
/// over the kinds in proportion to [`Weights::EXTENDED`], the weights of a campaign's
/// seed runs, so random bytes draw ops about as a seed run does (inserts most, a reset
/// rarely).
pub fn kind_of_byte(byte: u8) -> OpKind {
    let byte = usize::from(byte);
    if byte < KIND_COUNT {
        return OpKind::ALL[byte];
    }
    let weights = Weights::EXTENDED.all();
    let total: u64 = weights.iter().sum();
    let slots = (256 - KIND_COUNT) as u64;
    // The middle of the byte's share of the cumulative weights.
    let point = ((byte - KIND_COUNT) as u64 * 2 + 1) * total / (2 * slots);
    let mut cumulative = 0;
    for (kind, weight) in OpKind::ALL.into_iter().zip(weights) {
        cumulative += weight;
        if point < cumulative {
            return kind;
        }
    }
    unreachable!("point {point} is below the total weight {total}")
}

/// The configuration every input starts from: [`RunConfig::deep`] (the extended op set,
/// its weights, deep checks) with `events_max` [`OPS_MAX`].
pub fn base_config(seed: u64) -> RunConfig {
    RunConfig {
        events_max: Some(OPS_MAX as u64),
        ..RunConfig::deep(seed)
    }
}

/// Decodes an input (see the [module docs](self) for the layout): a configuration of
/// [`base_config`] with the input's seed, `table_count_max` (`1..=`[`TABLE_COUNT_MAX`]),
/// node size (one of [`NODE_SIZES`]), key width and level count, and at most [`OPS_MAX`]
/// ops that are valid in order. Every byte string decodes, and the configuration always
/// validates.
pub fn decode_manifest_level(data: &[u8]) -> (RunConfig, Vec<FuzzOp>) {
    let mut input = Unstructured::new(data);
    let seed = u64::arbitrary(&mut input).unwrap_or(0);
    let table_count_max = 1 + u32::from(u16::arbitrary(&mut input).unwrap_or(0)) % TABLE_COUNT_MAX;
    let shape = u8::arbitrary(&mut input).unwrap_or(0);
    let config = RunConfig {
        table_count_max,
        node_size: node_size_of(shape),
        key: if shape & WIDE_KEYS != 0 {
            KeyWidth::U128
        } else {
            KeyWidth::U64
        },
        third_level: shape & THIRD_LEVEL != 0,
        ..base_config(seed)
    };
    let mut context = GenerateContext::for_op_set(&config.params(), config.ops);
    let mut ops = Vec::new();
    while !input.is_empty() && ops.len() < OPS_MAX {
        let kind = kind_of_byte(u8::arbitrary(&mut input).unwrap_or(0));
        let count_seed = u16::arbitrary(&mut input).unwrap_or(0);
        ops.push(context.next(&mut Prng::from_seed(u64::from(count_seed)), kind));
    }
    (config, ops)
}

/// Encodes a run as an input that [`decode_manifest_level`] turns back into the same seed,
/// `table_count_max`, node size and ops (the first [`OPS_MAX`]). Each op is written as its
/// kind's index and a count seed found by search.
///
/// `None` when the run is outside the input format: a `table_count_max` above
/// [`TABLE_COUNT_MAX`], a node size not in [`NODE_SIZES`] (or 128 bytes with `u128`
/// keys), an op list that is not valid in order, or an op the generator cannot draw from
/// a 16-bit count seed. Of the rest of the configuration only the key width and the third
/// level are encoded: the input decodes to [`base_config`]'s op set, weights and checks
/// (any op set's ops encode, since the extended set contains the faithful one).
pub fn encode_manifest_level(config: &RunConfig, ops: &[FuzzOp]) -> Option<Vec<u8>> {
    if config.table_count_max == 0 || config.table_count_max > TABLE_COUNT_MAX {
        return None;
    }
    let node_index = NODE_SIZES
        .iter()
        .position(|&size| size == config.node_size)?;
    let mut shape = node_index as u8;
    if config.key == KeyWidth::U128 {
        shape |= WIDE_KEYS;
    }
    if config.third_level {
        shape |= THIRD_LEVEL;
    }
    if node_size_of(shape) != config.node_size {
        return None;
    }
    let mut bytes = Vec::with_capacity(HEADER_LEN + 3 * ops.len().min(OPS_MAX));
    bytes.extend(config.seed.to_le_bytes());
    bytes.extend(((config.table_count_max - 1) as u16).to_le_bytes());
    bytes.push(shape);
    let mut context = GenerateContext::for_op_set(&config.params(), OpSet::Extended);
    for (index, op) in ops.iter().take(OPS_MAX).enumerate() {
        // A valid op draws from its own kind without a fallback; an invalid one is
        // rejected here rather than searched for in vain.
        context.clone().apply(index, op).ok()?;
        let kind = op.kind();
        let count_seed = (0..=u16::MAX).find(|&count_seed| {
            let mut trial = context.clone();
            trial.next(&mut Prng::from_seed(u64::from(count_seed)), kind) == *op
        })?;
        context.next(&mut Prng::from_seed(u64::from(count_seed)), kind);
        bytes.push(kind.index() as u8);
        bytes.extend(count_seed.to_le_bytes());
    }
    Some(bytes)
}
