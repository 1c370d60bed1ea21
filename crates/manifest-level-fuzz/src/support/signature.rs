//! Failure signatures: what makes two failures "the same bug", for shrinking, for a
//! trace's record of the failure it reproduces, and for grouping a campaign's findings.
//!
//! A failure is either a named check that did not hold, or a panic. Two panics are the
//! same when they happen at the same place with the same words: the message is cut at
//! its first digit, because values (indexes, keys, counts) change while ops are dropped
//! and the words do not.

use core::fmt;

use serde::{Deserialize, Serialize};

use super::panic::CaughtPanic;

/// What makes two failures the same. `C` names a check of the fuzzer that reports it.
///
/// ```
/// use manifest_level_fuzz::support::signature::{message_prefix, FailureSignature};
///
/// let a: FailureSignature<&str> = FailureSignature::Panic {
///     location: Some("src/x.rs:1:2".into()),
///     message_prefix: message_prefix("index 7 out of bounds"),
/// };
/// assert_eq!(a.to_string(), "panic at src/x.rs:1:2: index");
/// assert_eq!(FailureSignature::Check { check: "len" }.to_string(), "check len");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FailureSignature<C> {
    /// A check of the fuzzer failed.
    Check {
        /// Which check.
        check: C,
    },
    /// Something panicked (usually an assertion inside the code under test).
    Panic {
        /// Where, when known (`file:line:column`).
        location: Option<String>,
        /// The start of the message, up to its first digit ([`message_prefix`]).
        message_prefix: String,
    },
}

impl<C> FailureSignature<C> {
    /// The signature of a caught panic.
    pub fn of_panic(panic: &CaughtPanic) -> FailureSignature<C> {
        FailureSignature::Panic {
            location: panic.location.clone(),
            message_prefix: message_prefix(&panic.message),
        }
    }
}

/// `check table_count_visible`, `panic at src/x.rs:1:2: assertion failed`.
impl<C: fmt::Display> fmt::Display for FailureSignature<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureSignature::Check { check } => write!(f, "check {check}"),
            FailureSignature::Panic {
                location: Some(location),
                message_prefix,
            } => write!(f, "panic at {location}: {message_prefix}"),
            FailureSignature::Panic {
                location: None,
                message_prefix,
            } => write!(f, "panic: {message_prefix}"),
        }
    }
}

/// The first line of a panic message up to its first digit, trimmed, at most 80 chars.
pub fn message_prefix(message: &str) -> String {
    let first_line = message.lines().next().unwrap_or("");
    let cut = first_line
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(first_line.len());
    first_line[..cut].trim_end().chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_differing_only_in_values_are_the_same() {
        let at = |message: &str| {
            FailureSignature::<u8>::of_panic(&CaughtPanic {
                message: message.into(),
                location: Some("src/a.rs:3:4".into()),
            })
        };
        assert_eq!(at("index 7 out of range 9"), at("index 12 out of range 3"));
        assert_ne!(at("index 7 out of range"), at("key 7 out of range"));
        assert_eq!(message_prefix("  two\nlines"), "  two");
        assert_eq!(message_prefix(&"x".repeat(200)).len(), 80);
    }

    #[test]
    fn serializes_with_a_kind_tag() {
        let check = FailureSignature::Check {
            check: "len".to_string(),
        };
        let json = serde_json::to_string(&check).unwrap();
        assert_eq!(json, r#"{"kind":"check","check":"len"}"#);
        assert_eq!(
            serde_json::from_str::<FailureSignature<String>>(&json).unwrap(),
            check
        );
    }
}
