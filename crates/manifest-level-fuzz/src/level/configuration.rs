//! Configuration swarm: with `--swarm` (and in campaigns by default) each seed draws the
//! shape of its level, not only its op weights ([`crate::level::swarm`]).
//!
//! A fixed 1,024-table level with 1,024-byte nodes never leaves a few dozen nodes, so the
//! parts of the level built for big trees (the node-start index past 128 nodes, the group
//! fences past 512) would never run. Each seed therefore draws, from its own stream:
//!
//! - `table_count_max`, log-uniform over 8..=262,144 (each power-of-two octave equally
//!   likely, so the top octave is rare but present);
//! - `node_size`, log-uniform over the multiples of 64 in 128..=16,384 bytes, raised to
//!   the smallest that holds 2 tables;
//! - `insert_count_max`: the seed's 10 on half the seeds, else log-uniform over 8..=1,024
//!   (bulk inserts, as a compaction's output or a manifest replay makes);
//! - `growth_tables`: none on half the seeds, else 10%..=100% of the capacity. Until the
//!   level first holds that many tables, removals, resets and compactions insert instead
//!   ([`crate::level::generate::Params::growth_tables`]), so big levels become big;
//! - `key`: `u128` keys on a quarter of the seeds, else `u64` ([`crate::level::key`]).
//!   Drawn after the growth target, which does not depend on it. The node
//!   size is raised to hold 2 tables of the seed's key type; a node size given on the
//!   command line that holds fewer than 2 tables of `u128` keys keeps the seed at `u64`.
//! - `ballast_percent`: on a third of the seeds, 10%..=75% of the node pool held back
//!   from the levels ([`crate::level::environment::ballast`]), so inserts meet an
//!   exhausted pool; none on the others. Drawn after the key; extended op set only (a
//!   run of the seed's op set keeps none).
//! - `third_level`: on half of the seeds a third level C shares the pool with levels A
//!   and B. Drawn last; extended op set only.
//!
//! Every value is drawn on every seed, in this order, whatever is pinned: a value given on
//! the command line ([`ConfigurationOverrides`]) replaces its draw and leaves the others
//! as they were, so a drawn configuration printed as flags reproduces itself.

use serde::{Deserialize, Serialize};

use crate::level::environment::Environment;
use crate::level::generate::{Params, INSERT_COUNT_MAX};
use crate::level::key::KeyWidth;
use crate::support::prng::Prng;

/// The smallest `table_count_max` a swarm seed draws.
pub const TABLE_COUNT_MAX_DRAWN_MIN: u32 = 8;

/// The largest `table_count_max` a swarm seed draws.
pub const TABLE_COUNT_MAX_DRAWN_MAX: u32 = 1 << 18;

/// The smallest node size a swarm seed draws (before raising it to hold 2 tables).
pub const NODE_SIZE_DRAWN_MIN: usize = 128;

/// The largest node size a swarm seed draws.
pub const NODE_SIZE_DRAWN_MAX: usize = 16 * 1024;

/// Drawn node sizes are multiples of this.
pub const NODE_SIZE_DRAWN_STEP: usize = 64;

/// The largest share of the pool, in percent, a swarm seed holds back as ballast.
pub const BALLAST_PERCENT_DRAWN_MAX: u64 = 75;

/// The largest `insert_count_max` a swarm seed draws.
pub const INSERT_COUNT_MAX_DRAWN: u32 = 1024;

/// The shape of one seed's level: what [`draw`] decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Configuration {
    /// The level's capacity.
    pub table_count_max: u32,
    /// The node pool's node size, in bytes.
    pub node_size: usize,
    /// The most tables one insert op generates.
    pub insert_count_max: u32,
    /// The growth phase's target (0: none).
    pub growth_tables: u32,
    /// The level's key type.
    #[serde(default)]
    pub key: KeyWidth,
    /// The share of the pool held back as ballast, in percent (0: none; see
    /// [`crate::level::environment::ballast`]).
    #[serde(default)]
    pub ballast_percent: u8,
    /// Whether a third level shares the pool (see `RunConfig::third_level`).
    #[serde(default)]
    pub third_level: bool,
}

/// Values given on the command line, which replace their draws.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConfigurationOverrides {
    /// `--table-count-max`.
    pub table_count_max: Option<u32>,
    /// `--node-size`.
    pub node_size: Option<usize>,
    /// `--insert-count-max`.
    pub insert_count_max: Option<u32>,
    /// `--growth-tables`.
    pub growth_tables: Option<u32>,
    /// `--key`.
    pub key: Option<KeyWidth>,
    /// `--ballast-percent`.
    pub ballast_percent: Option<u8>,
    /// `--levels` (3: a third level; 2: none).
    pub third_level: Option<bool>,
}

/// The configuration a swarm seed draws from `prng` (see the [module docs](self)), with
/// `overrides` in place of their draws. Values that depend on the capacity (the growth
/// target, the insert count) are clamped to the final one.
pub fn draw(prng: &mut Prng, overrides: ConfigurationOverrides) -> Configuration {
    let table_count_max = log_uniform(prng, TABLE_COUNT_MAX_DRAWN_MIN, TABLE_COUNT_MAX_DRAWN_MAX);
    let node_size_step = log_uniform(
        prng,
        (NODE_SIZE_DRAWN_MIN / NODE_SIZE_DRAWN_STEP) as u32,
        (NODE_SIZE_DRAWN_MAX / NODE_SIZE_DRAWN_STEP) as u32,
    );
    let bulk = prng.boolean();
    let insert_count_max = log_uniform(prng, 8, INSERT_COUNT_MAX_DRAWN);
    let grows = prng.boolean();
    let growth_percent = prng.range_inclusive(10, 100);
    let wide_keys = prng.chance(1, 4);
    let ballast = prng.chance(1, 3);
    let ballast_percent = prng.range_inclusive(10, BALLAST_PERCENT_DRAWN_MAX) as u8;
    let third_level = prng.boolean();

    // A pinned node size too small for 2 tables of u128 keys keeps the seed at u64.
    let wide_fits = overrides
        .node_size
        .is_none_or(|size| holds_two_tables(size, KeyWidth::U128));
    let key = overrides.key.unwrap_or(if wide_keys && wide_fits {
        KeyWidth::U128
    } else {
        KeyWidth::U64
    });
    let table_count_max = overrides.table_count_max.unwrap_or(table_count_max);
    let node_size = overrides
        .node_size
        .unwrap_or_else(|| holding_two_tables(node_size_step as usize * NODE_SIZE_DRAWN_STEP, key));
    let insert_count_max = overrides.insert_count_max.unwrap_or(if bulk {
        insert_count_max.min(table_count_max.max(INSERT_COUNT_MAX))
    } else {
        INSERT_COUNT_MAX
    });
    let growth_tables = overrides.growth_tables.unwrap_or(if grows {
        (u64::from(table_count_max) * growth_percent / 100).max(1) as u32
    } else {
        0
    });
    let ballast_percent =
        overrides
            .ballast_percent
            .unwrap_or(if ballast { ballast_percent } else { 0 });
    Configuration {
        table_count_max,
        node_size,
        insert_count_max,
        growth_tables,
        key,
        ballast_percent,
        third_level: overrides.third_level.unwrap_or(third_level),
    }
}

/// A draw in `min..=max` (powers of two) where every octave `2^k..2^(k+1)` is equally
/// likely, and uniform within it.
fn log_uniform(prng: &mut Prng, min: u32, max: u32) -> u32 {
    debug_assert!(min.is_power_of_two() && max.is_power_of_two() && min < max);
    let octave = prng.range_inclusive(u64::from(min.ilog2()), u64::from(max.ilog2()) - 1);
    let low = 1u64 << octave;
    prng.range_inclusive(low, 2 * low) as u32
}

/// `node_size`, or the smallest larger multiple of [`NODE_SIZE_DRAWN_STEP`] whose node
/// holds 2 tables of keys `key`.
fn holding_two_tables(node_size: usize, key: KeyWidth) -> usize {
    let mut size = node_size;
    for _ in 0..NODE_SIZE_DRAWN_MAX / NODE_SIZE_DRAWN_STEP {
        if holds_two_tables(size, key) {
            return size;
        }
        size += NODE_SIZE_DRAWN_STEP;
    }
    panic!("no node size from {node_size} up holds 2 tables");
}

/// Whether a node of `node_size` bytes holds 2 tables of keys `key`.
fn holds_two_tables(node_size: usize, key: KeyWidth) -> bool {
    let params = Params::with_table_count_max(2);
    match key {
        KeyWidth::U64 => Environment::<u64>::nodes_needed(node_size, &params).is_ok(),
        KeyWidth::U128 => Environment::<u128>::nodes_needed(node_size, &params).is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_in_range_and_reach_both_ends() {
        let mut prng = Prng::from_seed(9);
        let (mut smallest, mut largest) = (u32::MAX, 0);
        let (mut grown, mut bulk, mut wide) = (0, 0, 0);
        for _ in 0..4000 {
            let drawn = draw(&mut prng, ConfigurationOverrides::default());
            assert!((8..=1 << 18).contains(&drawn.table_count_max), "{drawn:?}");
            assert!((128..=16 * 1024).contains(&drawn.node_size), "{drawn:?}");
            assert_eq!(drawn.node_size % 64, 0);
            assert!(drawn.growth_tables <= drawn.table_count_max);
            assert!(
                drawn.insert_count_max >= 1 && drawn.insert_count_max <= INSERT_COUNT_MAX_DRAWN
            );
            smallest = smallest.min(drawn.table_count_max);
            largest = largest.max(drawn.table_count_max);
            grown += u32::from(drawn.growth_tables > 0);
            bulk += u32::from(drawn.insert_count_max != INSERT_COUNT_MAX);
            wide += u32::from(drawn.key == KeyWidth::U128);
        }
        assert!((700..1300).contains(&wide), "{wide} of 4000 with u128 keys");
        assert!(smallest <= 9 && largest > 1 << 17, "{smallest}..{largest}");
        assert!((1500..2500).contains(&grown) && (1500..2500).contains(&bulk));
    }

    #[test]
    fn overrides_replace_only_their_own_draw() {
        let free = draw(&mut Prng::from_seed(4), ConfigurationOverrides::default());
        let pinned = draw(
            &mut Prng::from_seed(4),
            ConfigurationOverrides {
                node_size: Some(256),
                ..ConfigurationOverrides::default()
            },
        );
        assert_eq!(pinned.node_size, 256);
        assert_eq!(
            (
                pinned.table_count_max,
                pinned.insert_count_max,
                pinned.growth_tables
            ),
            (
                free.table_count_max,
                free.insert_count_max,
                free.growth_tables
            )
        );
        let all = ConfigurationOverrides {
            table_count_max: Some(free.table_count_max),
            node_size: Some(free.node_size),
            insert_count_max: Some(free.insert_count_max),
            growth_tables: Some(free.growth_tables),
            key: Some(free.key),
            ballast_percent: Some(free.ballast_percent),
            third_level: Some(free.third_level),
        };
        assert_eq!(draw(&mut Prng::from_seed(77), all), free);
    }
}
