//! The `manifest_level` cargo-fuzz target's input format (`fuzz_input`, which `fuzz/`
//! calls): every byte string decodes to a valid run of the extended op set with deep
//! checks and at most `OPS_MAX` ops; seed runs encode and decode back; the checked-in
//! seed corpus is in the current format; and a failing input becomes a trace whose replay
//! fails the same way.

use std::collections::BTreeSet;
use std::path::Path;

use manifest_level::Fault;
use manifest_level_fuzz::level::environment::deep::CheckMode;
use manifest_level_fuzz::level::fuzz_input::{
    base_config, decode_manifest_level, encode_manifest_level, kind_of_byte, HEADER_LEN,
    NODE_SIZES, OPS_MAX, TABLE_COUNT_MAX,
};
use manifest_level_fuzz::level::generate::validate_ops_for;
use manifest_level_fuzz::level::ops::{OpKind, OpSet, Weights, KIND_COUNT};
use manifest_level_fuzz::level::reduce::FailureSignature;
use manifest_level_fuzz::level::runner::{plan, run_ops, RunConfig};
use manifest_level_fuzz::level::trace::Trace;
use manifest_level_fuzz::support::prng::Prng;

/// `len` pseudo-random bytes from `seed`.
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut prng = Prng::from_seed(seed);
    (0..len)
        .map(|_| prng.range_inclusive(0, 255) as u8)
        .collect()
}

/// Some inputs: empty, short, all zeros, all ones, random of several lengths, and one
/// far longer than `OPS_MAX` ops.
fn inputs() -> Vec<Vec<u8>> {
    let mut inputs = vec![
        Vec::new(),
        vec![7],
        vec![0; HEADER_LEN],
        vec![0; 100],
        vec![0xff; 100],
        vec![0xff; HEADER_LEN + 3 * OPS_MAX + 50],
    ];
    for seed in 0..12 {
        inputs.push(random_bytes(seed, 16 + 97 * seed as usize));
    }
    inputs.push(random_bytes(99, 10_000));
    inputs
}

#[test]
fn every_input_is_an_extended_deep_run_of_bounded_length() {
    for bytes in inputs() {
        let (config, ops) = decode_manifest_level(&bytes);
        assert_eq!(config.ops, OpSet::Extended, "{bytes:?}");
        assert_eq!(config.check, CheckMode::Deep);
        assert_eq!(config.weights, Weights::EXTENDED);
        assert!(!config.swarm);
        assert_eq!(config.events_max, Some(OPS_MAX as u64));
        assert_eq!(config.fault, None);
        assert!((1..=TABLE_COUNT_MAX).contains(&config.table_count_max));
        assert!(NODE_SIZES.contains(&config.node_size));
        config.validate().expect("decoded configs validate");
        let expected_ops = bytes
            .len()
            .saturating_sub(HEADER_LEN)
            .div_ceil(3)
            .min(OPS_MAX);
        assert_eq!(ops.len(), expected_ops, "input of {} bytes", bytes.len());
        validate_ops_for(&config.params(), OpSet::Extended, &ops).expect("valid in order");
        // The same as the base config, but for the five decoded fields.
        assert_eq!(
            config,
            RunConfig {
                table_count_max: config.table_count_max,
                node_size: config.node_size,
                key: config.key,
                third_level: config.third_level,
                ..base_config(config.seed)
            }
        );
    }
    let (_, ops) = decode_manifest_level(&random_bytes(99, 10_000));
    assert_eq!(ops.len(), OPS_MAX);
}

#[test]
fn decoded_runs_pass_on_a_correct_level() {
    for bytes in inputs().into_iter().take(14) {
        let (config, ops) = decode_manifest_level(&bytes);
        let report = run_ops(&config, &ops).unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(report.ops_run, ops.len());
        if !ops.is_empty() {
            assert!(report.deep.is_some(), "deep checks ran");
        }
    }
}

#[test]
fn kind_bytes_reach_every_kind_and_follow_the_weights() {
    for (index, kind) in OpKind::ALL.into_iter().enumerate() {
        assert_eq!(kind_of_byte(index as u8), kind);
    }
    let mut slots = [0u32; KIND_COUNT];
    for byte in KIND_COUNT..256 {
        slots[kind_of_byte(byte as u8).index()] += 1;
    }
    let slot = |kind: OpKind| slots[kind.index()];
    // 236 values in proportion to the weights (3,231 in all): about 13.7 weight each.
    assert_eq!(slots.iter().sum::<u32>(), 256 - KIND_COUNT as u32);
    assert!((56..=60).contains(&slot(OpKind::InsertTables)), "{slots:?}");
    assert!((35..=38).contains(&slot(OpKind::UpdateTables)), "{slots:?}");
    assert!((13..=16).contains(&slot(OpKind::Compact)), "{slots:?}");
    assert_eq!(slot(OpKind::Reset), 0, "{slots:?}");
    // Random bytes draw every kind (misuse included) once the state allows it.
    let mut seen = BTreeSet::new();
    for seed in 0..60 {
        let bytes = random_bytes(1000 + seed, HEADER_LEN + 3 * OPS_MAX);
        for op in decode_manifest_level(&bytes).1 {
            seen.insert(op.kind());
        }
    }
    let missing: Vec<OpKind> = OpKind::ALL
        .into_iter()
        .filter(|kind| !seen.contains(kind))
        .collect();
    assert!(missing.is_empty(), "never decoded: {missing:?}");
}

#[test]
fn seed_runs_encode_and_decode_back() {
    for seed in 0..6u64 {
        let config = RunConfig {
            events_max: Some(OPS_MAX as u64 + 10),
            table_count_max: [TABLE_COUNT_MAX, 64, 16][seed as usize % 3],
            node_size: NODE_SIZES[seed as usize],
            ..RunConfig::deep(seed)
        };
        let ops = plan(&config).ops;
        let bytes = encode_manifest_level(&config, &ops).expect("encodable");
        assert_eq!(bytes.len(), HEADER_LEN + 3 * ops.len().min(OPS_MAX));
        let (decoded, decoded_ops) = decode_manifest_level(&bytes);
        assert_eq!(decoded_ops, ops[..ops.len().min(OPS_MAX)], "seed {seed}");
        assert_eq!(
            (decoded.seed, decoded.table_count_max, decoded.node_size),
            (config.seed, config.table_count_max, config.node_size)
        );
        // Decoding then encoding gives the canonical bytes back.
        assert_eq!(encode_manifest_level(&decoded, &decoded_ops), Some(bytes));
    }
    // Faithful runs are extended runs without the extended kinds.
    let faithful = RunConfig {
        events_max: Some(50),
        table_count_max: 100,
        ..RunConfig::new(3)
    };
    let ops = plan(&faithful).ops;
    let bytes = encode_manifest_level(&faithful, &ops).unwrap();
    assert_eq!(decode_manifest_level(&bytes).1, ops);
}

/// The shape byte's top bits carry `u128` keys and a third level: such runs encode, decode
/// back to the same run, and pass on a correct level; random bytes reach all four shapes.
#[test]
fn wide_keys_and_a_third_level_encode_and_decode_back() {
    use manifest_level_fuzz::level::key::KeyWidth;
    for (seed, key, third_level) in [
        (1, KeyWidth::U128, false),
        (2, KeyWidth::U64, true),
        (3, KeyWidth::U128, true),
    ] {
        let config = RunConfig {
            events_max: Some(OPS_MAX as u64),
            table_count_max: 64,
            node_size: 256,
            key,
            third_level,
            ..RunConfig::deep(seed)
        };
        let ops = plan(&config).ops;
        let bytes = encode_manifest_level(&config, &ops).expect("encodable");
        let (decoded, decoded_ops) = decode_manifest_level(&bytes);
        assert_eq!((decoded.key, decoded.third_level), (key, third_level));
        assert_eq!(decoded_ops, ops);
        run_ops(&decoded, &decoded_ops).unwrap_or_else(|failure| panic!("{failure}"));
        // u128 tables do not fit two to a 128-byte node: not encodable.
        let small = RunConfig {
            node_size: 128,
            ..config.clone()
        };
        assert_eq!(
            encode_manifest_level(&small, &ops).is_none(),
            key == KeyWidth::U128
        );
    }
    let shapes: BTreeSet<(&str, bool)> = inputs()
        .iter()
        .map(|bytes| {
            let (config, _) = decode_manifest_level(bytes);
            assert!(config.validate().is_ok());
            (config.key.name(), config.third_level)
        })
        .collect();
    assert_eq!(shapes.len(), 4, "{shapes:?}");
}

#[test]
fn runs_outside_the_format_do_not_encode() {
    let ops = plan(&RunConfig {
        events_max: Some(5),
        table_count_max: TABLE_COUNT_MAX,
        ..RunConfig::deep(1)
    })
    .ops;
    for (table_count_max, node_size) in [(TABLE_COUNT_MAX + 1, 1024), (1024, 192), (0, 1024)] {
        let config = RunConfig {
            table_count_max,
            node_size,
            ..RunConfig::deep(1)
        };
        assert_eq!(encode_manifest_level(&config, &ops), None);
    }
    let invalid = [manifest_level_fuzz::level::ops::FuzzOp::RemoveVisible { count: 1 }];
    let config = RunConfig {
        table_count_max: TABLE_COUNT_MAX,
        ..RunConfig::deep(1)
    };
    assert!(encode_manifest_level(&config, &ops).is_some());
    assert_eq!(encode_manifest_level(&config, &invalid), None);
}

#[test]
fn checked_in_seed_corpus_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/manifest_level");
    let mut files = 0;
    let mut kinds = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("fuzz/seeds/manifest_level") {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let (config, ops) = decode_manifest_level(&bytes);
        // Each seed is a seed run of the extended op set: decoding and re-encoding is
        // the identity, and it is that seed's run.
        assert_eq!(
            encode_manifest_level(&config, &ops).as_ref(),
            Some(&bytes),
            "{}",
            path.display()
        );
        let seed_run = RunConfig {
            table_count_max: config.table_count_max,
            node_size: config.node_size,
            events_max: Some(ops.len() as u64),
            ..RunConfig::deep(config.seed)
        };
        let planned = plan(&seed_run).ops;
        assert_eq!(
            ops[..],
            planned[..ops.len().min(planned.len())],
            "{} is not seed {}'s run (regenerate: docs/fuzzing.md)",
            path.display(),
            config.seed
        );
        run_ops(&config, &ops).unwrap_or_else(|failure| panic!("{}: {failure}", path.display()));
        kinds.extend(ops.iter().map(|op| op.kind()));
        files += 1;
    }
    assert!(files >= 4, "{files} seeds in {}", dir.display());
    assert!(
        kinds.iter().any(|kind| kind.is_extended()),
        "the seeds hold no extended op"
    );
}

/// The crash -> trace path (`fuzz/examples/crash_to_trace.rs`): a decoded input with a
/// planted fault fails; its trace records the extended op set and deep checks, and
/// replays to the same failure.
#[test]
fn a_failing_input_becomes_a_replayable_trace() {
    let dir = std::env::temp_dir().join(format!("fuzz-input-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (fault, extended_only) in [
        (Fault::RemoveTakesNeighbour, false),
        (Fault::NextTableInclusive, true),
    ] {
        let (config, ops, failure) = (0..200)
            .find_map(|seed| {
                let (config, ops) = decode_manifest_level(&random_bytes(seed, 300));
                let config = RunConfig {
                    fault: Some(fault),
                    ..config
                };
                let failure = run_ops(&config, &ops).err()?;
                Some((config, ops, failure))
            })
            .unwrap_or_else(|| panic!("no input of 200 found {fault:?}"));
        if extended_only {
            // Only an extended op (a `next_table` walk) can see this one.
            assert!(failure.op.unwrap().is_extended(), "{failure}");
        }
        let path = dir.join(format!("{fault:?}.jsonl"));
        Trace::new(&config, ops.clone()).write(&path).unwrap();
        let trace = Trace::read(&path).unwrap();
        assert_eq!(trace.config().ops, OpSet::Extended);
        assert_eq!(trace.config().check, CheckMode::Deep);
        assert_eq!(trace.config().fault, Some(fault));
        assert_eq!(trace.ops, ops);
        let replayed = run_ops(trace.config(), &trace.ops).expect_err("the replay fails");
        assert_eq!(
            FailureSignature::of(&replayed),
            FailureSignature::of(&failure)
        );
        assert_eq!(replayed.op_index, failure.op_index);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
