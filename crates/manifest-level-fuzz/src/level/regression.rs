//! Ready-to-paste regression tests for shrunk failures.
//!
//! [`regression_test`] prints a `#[test]` function that builds the failing run's
//! [`RunConfig`] and its op list literally and asserts that [`run_ops`] passes, so it fails
//! (with the fuzzer's report) until the bug is fixed, and guards the fix afterwards. It
//! compiles as an integration test of this crate (`crates/manifest-level-fuzz/tests/`),
//! or anywhere `manifest_level_fuzz` (and, for a planted fault, `manifest_level` with its
//! `fault-injection` feature) is a dependency. `tests/regression_example.rs` holds one
//! printed test, checked against this function's output.
//!
//! Config fields are printed as Rust literals when the printer knows their type, and
//! otherwise (fields added after it was written) as `serde_json::from_str(...)`
//! expressions, whose type the struct field gives; ops likewise print as
//! `FuzzOp::Variant { .. }` literals when their `Debug` form is one, else through
//! `serde_json`. Either way the printed test runs exactly the shrunk trace.
//!
//! [`run_ops`]: crate::level::runner::run_ops

use crate::level::ops::{FuzzOp, OpSet};
use crate::level::reduce::Reduced;
use crate::level::runner::RunConfig;

/// Config fields printed as literals (the rest, when they differ from the base the
/// literal starts from, print through `serde_json`).
const LITERAL_FIELDS: [&str; 9] = [
    "seed",
    "events_max",
    "table_count_max",
    "node_size",
    "weights",
    "check",
    "ops",
    "swarm",
    "fault",
];

/// The test function's name for a shrunk failure of `seed`.
pub fn test_name(seed: u64) -> String {
    format!("manifest_level_regression_seed_{seed}")
}

/// A `#[test]` for `reduced` (see the [module docs](self)), named [`test_name`].
pub fn regression_test_for(reduced: &Reduced) -> String {
    let comment = format!(
        "Shrunk by manifest-level-fuzz from a {}-op run of seed {}: {}.",
        reduced.original_len, reduced.config.seed, reduced.signature
    );
    regression_test(
        &test_name(reduced.config.seed),
        &comment,
        &reduced.config,
        &reduced.ops,
    )
}

/// A `#[test]` function called `name`, documented by `comment`, that runs `ops` under
/// `config` with [`run_ops`](crate::level::runner::run_ops) and panics with the failure report if
/// the run fails.
pub fn regression_test(name: &str, comment: &str, config: &RunConfig, ops: &[FuzzOp]) -> String {
    let mut text = String::new();
    for line in comment.lines() {
        text.push_str(&format!("/// {line}\n"));
    }
    text.push_str("#[test]\n");
    text.push_str(&format!("fn {name}() {{\n"));
    text.push_str("    use manifest_level_fuzz::level::ops::FuzzOp;\n");
    text.push_str("    use manifest_level_fuzz::level::runner::{run_ops, RunConfig};\n\n");
    text.push_str(&config_literal(config));
    text.push_str("    let ops: &[FuzzOp] = &[\n");
    for op in ops {
        text.push_str(&format!("        {},\n", op_literal(op)));
    }
    text.push_str("    ];\n");
    text.push_str("    if let Err(failure) = run_ops(&config, ops) {\n");
    text.push_str("        panic!(\"{failure}\");\n");
    text.push_str("    }\n");
    text.push_str("}\n");
    text
}

/// `    let config = RunConfig { ..., ..RunConfig::new(seed) };\n`, listing the fields that
/// differ from the base: [`RunConfig::new`], or for the extended op set
/// `RunConfig::new(seed).with_ops(OpSet::Extended)` (whose weights are
/// [`Weights::EXTENDED`](crate::level::ops::Weights::EXTENDED)).
fn config_literal(config: &RunConfig) -> String {
    let (base, base_text) = literal_base(config);
    let mut fields = known_field_literals(config, &base);
    fields.extend(unknown_field_literals(config, &base));
    if fields.is_empty() {
        return format!("    let config = {base_text};\n");
    }
    let mut text = String::from("    let config = RunConfig {\n");
    for field in fields {
        text.push_str(&format!("        {field},\n"));
    }
    text.push_str(&format!("        ..{base_text}\n    }};\n"));
    text
}

/// The config the literal starts from, for `config`'s op set, and its Rust expression.
fn literal_base(config: &RunConfig) -> (RunConfig, String) {
    match config.ops {
        OpSet::Faithful => (
            RunConfig::new(config.seed),
            format!("RunConfig::new({})", config.seed),
        ),
        OpSet::Extended => (
            RunConfig::new(config.seed).with_ops(OpSet::Extended),
            format!(
                "RunConfig::new({}).with_ops(manifest_level_fuzz::level::ops::OpSet::Extended)",
                config.seed
            ),
        ),
    }
}

/// `name: literal` for each of the [`LITERAL_FIELDS`] where `config` differs from `base`
/// (`seed` and `ops` are in the base already), in declaration order.
fn known_field_literals(config: &RunConfig, base: &RunConfig) -> Vec<String> {
    let mut fields = Vec::new();
    if config.events_max != base.events_max {
        fields.push(format!("events_max: {:?}", config.events_max));
    }
    if config.table_count_max != base.table_count_max {
        fields.push(format!("table_count_max: {}", config.table_count_max));
    }
    if config.node_size != base.node_size {
        fields.push(format!("node_size: {}", config.node_size));
    }
    if config.weights != base.weights {
        fields.push(weights_literal(config));
    }
    if config.check != base.check {
        fields.push(format!(
            "check: manifest_level_fuzz::level::environment::deep::CheckMode::{:?}",
            config.check
        ));
    }
    if config.swarm != base.swarm {
        fields.push(format!("swarm: {}", config.swarm));
    }
    #[cfg(feature = "fault-injection")]
    if let Some(fault) = config.fault {
        fields.push(format!(
            "fault: Some(manifest_level::Fault::{})",
            crate::level::runner::fault_name(fault)
        ));
    }
    fields
}

/// `weights: Weights::from_array(..)` for faithful weights, else `Weights::from_all(..)`.
fn weights_literal(config: &RunConfig) -> String {
    if !config.weights.has_extended() {
        format!(
            "weights: manifest_level_fuzz::level::ops::Weights::from_array({:?})",
            config.weights.as_array()
        )
    } else {
        format!(
            "weights: manifest_level_fuzz::level::ops::Weights::from_all({:?})",
            config.weights.all()
        )
    }
}

/// `name: serde_json::from_str(..).unwrap()` for each field this printer does not know
/// where `config` differs from `base`, in their serde order.
fn unknown_field_literals(config: &RunConfig, base: &RunConfig) -> Vec<String> {
    let value = serde_json::to_value(config).expect("a config serializes");
    let base_value = serde_json::to_value(base).expect("a config serializes");
    let mut fields = Vec::new();
    if let (Some(object), Some(base_object)) = (value.as_object(), base_value.as_object()) {
        for (key, field) in object {
            if LITERAL_FIELDS.contains(&key.as_str()) || base_object.get(key) == Some(field) {
                continue;
            }
            fields.push(format!(
                "{key}: serde_json::from_str({}).unwrap()",
                raw_string(&field.to_string())
            ));
        }
    }
    fields
}

/// `FuzzOp::InsertTables { count: 3 }` when the op's `Debug` form is a plain Rust literal
/// (a variant with integer or boolean fields; `NextTableWalk` names its direction's
/// type), else `serde_json::from_str::<FuzzOp>(..)`.
fn op_literal(op: &FuzzOp) -> String {
    let debug = match op {
        FuzzOp::NextTableWalk { direction } => format!(
            "NextTableWalk {{ direction: manifest_level_fuzz::level::ops::WalkDirection::{direction:?} }}"
        ),
        op => format!("{op:?}"),
    };
    if debug.starts_with("NextTableWalk ") || is_plain_literal(&debug) {
        rustfmt_struct_literal(&format!("FuzzOp::{debug}"), 8)
    } else {
        let json = serde_json::to_string(op).expect("an op serializes");
        format!(
            "serde_json::from_str::<FuzzOp>({}).unwrap()",
            raw_string(&json)
        )
    }
}

/// A one-line struct literal `Name { a: 1, b: 2 }` laid out as rustfmt does at
/// `indent`: on one line when its body is at most 18 characters (rustfmt's
/// `struct_lit_width`), else one field per line. So printed tests are rustfmt-clean.
fn rustfmt_struct_literal(literal: &str, indent: usize) -> String {
    const STRUCT_LIT_WIDTH: usize = 18;
    let Some((name, rest)) = literal.split_once(" { ") else {
        return literal.to_string();
    };
    let Some(body) = rest.strip_suffix(" }") else {
        return literal.to_string();
    };
    if body.len() <= STRUCT_LIT_WIDTH {
        return literal.to_string();
    }
    let pad = " ".repeat(indent + 4);
    let mut text = format!("{name} {{\n");
    for field in body.split(", ") {
        text.push_str(&format!("{pad}{field},\n"));
    }
    text.push_str(&" ".repeat(indent));
    text.push('}');
    text
}

/// Whether `debug` is `Variant` or `Variant { field: 12, flag: true, .. }` with only
/// integer and boolean values: valid Rust once prefixed with `FuzzOp::`.
fn is_plain_literal(debug: &str) -> bool {
    let is_ident = |s: &str| {
        !s.is_empty()
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let is_value = |s: &str| {
        s == "true"
            || s == "false"
            || (!s.is_empty()
                && s.strip_prefix('-')
                    .unwrap_or(s)
                    .chars()
                    .all(|c| c.is_ascii_digit()))
    };
    let (name, rest) = match debug.split_once(' ') {
        None => return is_ident(debug) && debug.starts_with(|c: char| c.is_ascii_uppercase()),
        Some(parts) => parts,
    };
    if !is_ident(name) || !name.starts_with(|c: char| c.is_ascii_uppercase()) {
        return false;
    }
    let Some(body) = rest.strip_prefix("{ ").and_then(|r| r.strip_suffix(" }")) else {
        return false;
    };
    body.split(", ").all(|field| {
        field
            .split_once(": ")
            .is_some_and(|(key, value)| is_ident(key) && is_value(value))
    })
}

/// `text` as a Rust raw string literal (`r#"..."#`, with enough `#`s).
fn raw_string(text: &str) -> String {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_literals() {
        assert!(is_plain_literal("TakeSnapshot"));
        assert!(is_plain_literal("InsertTables { count: 3 }"));
        assert!(is_plain_literal("X { a: 1, b_c: true, d: -4 }"));
        assert!(!is_plain_literal("X { a: Ascending }"));
        assert!(!is_plain_literal("X { a: Some(3) }"));
        assert!(!is_plain_literal("X { a: \"s\" }"));
        assert!(!is_plain_literal("X(3)"));
        assert!(!is_plain_literal("x { a: 1 }"));
        assert!(!is_plain_literal("X { a: 1, b: [1, 2] }"));
    }

    #[test]
    fn raw_strings() {
        assert_eq!(raw_string(r#"{"a":1}"#), r##"r#"{"a":1}"#"##);
        assert_eq!(raw_string(r##"x"#y"##), r###"r##"x"#y"##"###);
    }

    #[test]
    fn prints_a_default_config_compactly() {
        let text = regression_test(
            "t",
            "c",
            &RunConfig::new(4),
            &[FuzzOp::InsertTables { count: 2 }, FuzzOp::TakeSnapshot],
        );
        assert_eq!(
            text,
            "/// c\n#[test]\nfn t() {\n    use manifest_level_fuzz::level::ops::FuzzOp;\n    \
             use manifest_level_fuzz::level::runner::{run_ops, RunConfig};\n\n    \
             let config = RunConfig::new(4);\n    let ops: &[FuzzOp] = &[\n        \
             FuzzOp::InsertTables { count: 2 },\n        FuzzOp::TakeSnapshot,\n    ];\n    \
             if let Err(failure) = run_ops(&config, ops) {\n        panic!(\"{failure}\");\n    \
             }\n}\n"
        );
        let text = regression_test(
            "t",
            "c",
            &RunConfig {
                events_max: Some(9),
                node_size: 256,
                weights: crate::level::ops::Weights::from_array([1, 0, 0, 0, 2]),
                ..RunConfig::new(4)
            },
            &[],
        );
        assert!(text.contains(
            "    let config = RunConfig {\n        events_max: Some(9),\n        \
             node_size: 256,\n        weights: \
             manifest_level_fuzz::level::ops::Weights::from_array([1, 0, 0, 0, 2]),\n        \
             ..RunConfig::new(4)\n    };\n"
        ));
    }

    #[test]
    fn prints_extended_configs() {
        use crate::level::environment::deep::CheckMode;
        use crate::level::ops::{WalkDirection, Weights};
        let ops = [
            FuzzOp::Compact {
                inputs: 2,
                outputs: 1,
            },
            FuzzOp::NextTableWalk {
                direction: WalkDirection::Descending,
            },
        ];
        let text = regression_test("t", "c", &RunConfig::deep(7), &ops);
        assert!(text.contains(
            "    let config = RunConfig {\n        \
             check: manifest_level_fuzz::level::environment::deep::CheckMode::Deep,\n        \
             ..RunConfig::new(7).with_ops(manifest_level_fuzz::level::ops::OpSet::Extended)\n    };\n"
        ));
        assert!(text.contains(
            "        FuzzOp::Compact {\n            inputs: 2,\n            outputs: 1,\n        },\n"
        ));
        assert!(text.contains(
            "        FuzzOp::NextTableWalk {\n            \
             direction: manifest_level_fuzz::level::ops::WalkDirection::Descending,\n        },\n"
        ));
        let mut weights = Weights::EXTENDED.all();
        weights[7] = 0;
        let swarm = RunConfig {
            swarm: true,
            weights: Weights::from_all(weights),
            check: CheckMode::Faithful,
            ..RunConfig::deep(7)
        };
        let text = regression_test("t", "c", &swarm, &[]);
        assert!(text.contains(&format!(
            "        weights: manifest_level_fuzz::level::ops::Weights::from_all({weights:?}),\n"
        )));
        assert!(text.contains("        swarm: true,\n"));
        assert!(!text.contains("check:"));
    }
}
