//! The ready-to-paste Rust test a shrunk segmented-array failure prints.

use super::trace::Trace;

impl Trace {
    /// A ready-to-paste Rust test (for `crates/manifest-level-fuzz/tests/`) that replays
    /// this trace with [`run_ops`] and fails with the fuzzer's message while the bug is
    /// there. The ops are printed with `Debug`, which is valid Rust with the variants of
    /// [`ElementKind`], [`Op`] and [`Position`] in scope, as the test imports them. The
    /// trace's planted faults are replayed too (`Faults::default()` for a real bug).
    ///
    /// [`run_ops`]: crate::segmented_array::run_ops
    /// [`ElementKind`]: crate::segmented_array::ElementKind
    /// [`Op`]: crate::segmented_array::Op
    /// [`Position`]: crate::segmented_array::Position
    pub fn regression_test(&self, name: &str) -> String {
        let mut text = String::new();
        text.push_str("#[test]\n");
        text.push_str(&format!("fn {name}() {{\n"));
        text.push_str("    #[allow(unused_imports)]\n");
        text.push_str("    use manifest_level_fuzz::segmented_array::{\n");
        text.push_str("        run_ops, ElementKind::*, Faults, Op, Op::*, Position::*, Setup,\n");
        text.push_str("    };\n");
        text.push_str(&format!("    let setup = {:?};\n", self.setup()));
        text.push_str("    let ops: &[Op] = &[\n");
        for op in &self.ops {
            text.push_str(&format!("        {op:?},\n"));
        }
        text.push_str("    ];\n");
        text.push_str(&format!("    let faults = {:?};\n", self.faults()));
        text.push_str("    if let Err(failure) = run_ops(setup, ops, faults) {\n");
        text.push_str("        panic!(\"{failure}\");\n");
        text.push_str("    }\n");
        text.push_str("}\n");
        text
    }
}
