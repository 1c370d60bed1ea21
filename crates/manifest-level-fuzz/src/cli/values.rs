//! Value parsers for the enums the level fuzzer defines, with plain-text help for each
//! possible value (the enums themselves know nothing of the command line).

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use crate::level::environment::deep::CheckMode;
use crate::level::key::KeyWidth;
use crate::level::ops::OpSet;

fn check_mode_help(mode: CheckMode) -> &'static str {
    match mode {
        CheckMode::Faithful => {
            "the seed's checks: the tables each op touches, then the counters and key_range_latest"
        }
        CheckMode::Deep => {
            "the faithful checks, then the level against the model after every op (whole or in windows)"
        }
    }
}

fn key_width_help(width: KeyWidth) -> &'static str {
    match width {
        KeyWidth::U64 => "u64 keys: the model's keys as they are",
        KeyWidth::U128 => {
            "u128 keys: the model's keys embedded, order kept, with information in both halves"
        }
    }
}

fn op_set_help(set: OpSet) -> &'static str {
    match set {
        OpSet::Faithful => {
            "the seed's five ops: insert, update, snapshot, remove invisible/visible"
        }
        OpSet::Extended => {
            "every op: also retained snapshots, compaction, next_table walks, overlap queries \
             against a second level, reset, and misuse that must fail with the right error"
        }
    }
}

/// Parses `--check faithful|deep`.
pub fn check_mode_parser() -> impl TypedValueParser<Value = CheckMode> {
    let values =
        CheckMode::ALL.map(|mode| PossibleValue::new(mode.name()).help(check_mode_help(mode)));
    PossibleValuesParser::new(values)
        .map(|name| CheckMode::from_name(&name).expect("clap checked the possible values"))
}

/// Parses `--ops faithful|extended`.
pub fn op_set_parser() -> impl TypedValueParser<Value = OpSet> {
    let values = OpSet::ALL.map(|set| PossibleValue::new(set.name()).help(op_set_help(set)));
    PossibleValuesParser::new(values)
        .map(|name| OpSet::from_name(&name).expect("clap checked the possible values"))
}

/// Parses `--key u64|u128`.
pub fn key_width_parser() -> impl TypedValueParser<Value = KeyWidth> {
    let values =
        KeyWidth::ALL.map(|width| PossibleValue::new(width.name()).help(key_width_help(width)));
    PossibleValuesParser::new(values)
        .map(|name| KeyWidth::from_name(&name).expect("clap checked the possible values"))
}
