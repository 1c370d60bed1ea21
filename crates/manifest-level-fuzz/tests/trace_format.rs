//! The serde form of ops, as traces store them (one JSON object per line). Pinned: a
//! change breaks every recorded trace.

use manifest_level_fuzz::level::generate::{generate_ops, Params};
use manifest_level_fuzz::level::ops::{FuzzOp, OpKind, Weights};
use manifest_level_fuzz::support::prng::Prng;

#[test]
fn ops_serialize_as_tagged_objects() {
    let cases = [
        (
            FuzzOp::InsertTables { count: 3 },
            r#"{"op":"insert_tables","count":3}"#,
        ),
        (
            FuzzOp::UpdateTables { count: 1 },
            r#"{"op":"update_tables","count":1}"#,
        ),
        (FuzzOp::TakeSnapshot, r#"{"op":"take_snapshot"}"#),
        (
            FuzzOp::RemoveInvisible { count: 7 },
            r#"{"op":"remove_invisible","count":7}"#,
        ),
        (
            FuzzOp::RemoveVisible { count: 2 },
            r#"{"op":"remove_visible","count":2}"#,
        ),
    ];
    for (op, json) in cases {
        assert_eq!(serde_json::to_string(&op).unwrap(), json);
        assert_eq!(serde_json::from_str::<FuzzOp>(json).unwrap(), op);
    }
    assert!(serde_json::from_str::<FuzzOp>(r#"{"op":"insert_tables"}"#).is_err());
    assert!(serde_json::from_str::<FuzzOp>(r#"{"op":"compact","count":1}"#).is_err());
    assert_eq!(
        serde_json::to_string(&OpKind::RemoveVisible).unwrap(),
        r#""remove_visible""#
    );
    assert_eq!(
        serde_json::to_string(&Weights::SEED).unwrap(),
        r#"{"insert_tables":8,"update_tables":5,"take_snapshot":3,"remove_invisible":3,"remove_visible":3}"#
    );
}

#[test]
fn generated_ops_round_trip_as_json_lines() {
    let ops = generate_ops(
        &mut Prng::from_seed(4),
        2_000,
        &Params::default(),
        &Weights::SEED,
    );
    let lines: Vec<String> = ops
        .iter()
        .map(|op| serde_json::to_string(op).unwrap())
        .collect();
    let back: Vec<FuzzOp> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(back, ops);
}
