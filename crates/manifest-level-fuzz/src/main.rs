//! `manifest-level-fuzz`: the command-line fuzzer. See [`manifest_level_fuzz::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    manifest_level_fuzz::cli::main()
}
