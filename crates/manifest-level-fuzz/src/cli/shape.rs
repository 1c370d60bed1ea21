//! The level-shape flags of a run and of `bench`: capacity, node size, insert size, growth
//! target, key type, ballast and level count, each a default or, with `--swarm`, a per-seed draw that the flag
//! replaces.

use clap::Args;
use manifest_level::{NODE_ALIGN, NODE_SIZE_MAX};

use crate::cli::values::key_width_parser;
use crate::level::configuration::ConfigurationOverrides;
use crate::level::key::KeyWidth;
use crate::level::runner::{RunConfig, TABLE_COUNT_MAX_LIMIT};

/// `--table-count-max`, `--node-size`, `--insert-count-max`, `--growth-tables`, `--key`,
/// `--ballast-percent`, `--levels`.
#[derive(Clone, Debug, Default, Args)]
pub struct ShapeArgs {
    /// The level's capacity, in tables [default: 1024; drawn per seed with --swarm].
    #[arg(long, value_name = "N", value_parser = parse_table_count_max)]
    pub table_count_max: Option<u32>,

    /// Node size of the node pool, in bytes: a multiple of 16, holding at least 2 tables
    /// [default: 1024; drawn per seed with --swarm].
    #[arg(long, value_name = "BYTES", value_parser = parse_node_size)]
    pub node_size: Option<usize>,

    /// The most tables one insert op generates [default: 10; drawn per seed with --swarm].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub insert_count_max: Option<u32>,

    /// Growth phase: removals wait until the level first holds N tables [default: none;
    /// drawn per seed with --swarm].
    #[arg(long, value_name = "N")]
    pub growth_tables: Option<u32>,

    /// The level's key type; the model's u64 keys embed into it, order kept [default:
    /// u64; drawn per seed with --swarm, u128 on a quarter of the seeds].
    #[arg(long, value_name = "KEY", value_parser = key_width_parser())]
    pub key: Option<KeyWidth>,

    /// Hold back this share of the node pool, in percent, in a ballast array, so inserts
    /// meet an exhausted pool (then the ballast lets go) [default: none; drawn per seed
    /// with --swarm, 10..=75 on a third of the seeds]. Extended op set only.
    #[arg(long, value_name = "PERCENT",
          value_parser = clap::value_parser!(u8).range(0..=crate::level::runner::BALLAST_PERCENT_MAX as i64))]
    pub ballast_percent: Option<u8>,

    /// The levels sharing the node pool in the extended op set: 2 (A and B) or 3 (A, B and
    /// a third level C) [default: 2; drawn per seed with --swarm, 3 on half the seeds].
    #[arg(long = "levels", value_name = "N", value_parser = parse_levels)]
    pub third_level: Option<bool>,
}

impl ShapeArgs {
    /// The flags given, which replace a swarm seed's draws.
    pub fn overrides(&self) -> ConfigurationOverrides {
        ConfigurationOverrides {
            table_count_max: self.table_count_max,
            node_size: self.node_size,
            insert_count_max: self.insert_count_max,
            growth_tables: self.growth_tables,
            key: self.key,
            ballast_percent: self.ballast_percent,
            third_level: self.third_level,
        }
    }

    /// `config` with the flags given in place of its values and, with `swarm`, the
    /// seed's draws for the others ([`RunConfig::with_shape`]).
    pub fn apply(&self, config: RunConfig) -> RunConfig {
        config.with_shape(self.overrides())
    }
}

/// `--levels`: whether a third level shares the pool (`3`) or not (`2`).
pub(crate) fn parse_levels(text: &str) -> Result<bool, String> {
    match text.trim() {
        "2" => Ok(false),
        "3" => Ok(true),
        _ => Err("must be 2 (levels A and B) or 3 (A, B and a third level C)".into()),
    }
}

fn parse_table_count_max(text: &str) -> Result<u32, String> {
    let value: u32 = text
        .parse()
        .map_err(|error| format!("not a table count: {error}"))?;
    if value == 0 || value > TABLE_COUNT_MAX_LIMIT {
        return Err(format!("must be in 1..={TABLE_COUNT_MAX_LIMIT}"));
    }
    Ok(value)
}

fn parse_node_size(text: &str) -> Result<usize, String> {
    let value: usize = text
        .parse()
        .map_err(|error| format!("not a byte count: {error}"))?;
    if value == 0 || value % NODE_ALIGN != 0 || value > NODE_SIZE_MAX {
        return Err(format!(
            "must be a positive multiple of {NODE_ALIGN}, at most {NODE_SIZE_MAX}"
        ));
    }
    Ok(value)
}
