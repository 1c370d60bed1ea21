//! Which seeds to run and for how long: seed ranges, durations, and a fresh seed from the
//! OS when none is given.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which seeds a campaign runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedPlan {
    /// Seeds `start..end` (end exclusive).
    Range {
        /// First seed.
        start: u64,
        /// One past the last seed.
        end: u64,
    },
    /// Seeds `start, start + 1, ...` until `duration` has passed.
    Duration {
        /// First seed.
        start: u64,
        /// How long to keep starting seeds.
        duration: Duration,
    },
}

/// Parses `A..B` (exclusive) or `A..=B` (inclusive) into a [`SeedPlan::Range`].
pub fn parse_seed_range(text: &str) -> Result<SeedPlan, String> {
    let (start, end, inclusive) = if let Some((a, b)) = text.split_once("..=") {
        (a, b, true)
    } else if let Some((a, b)) = text.split_once("..") {
        (a, b, false)
    } else {
        return Err(format!("expected a seed range A..B or A..=B, got {text:?}"));
    };
    let parse = |part: &str| {
        part.trim()
            .parse::<u64>()
            .map_err(|error| format!("bad seed {part:?} in range {text:?}: {error}"))
    };
    let start = parse(start)?;
    let mut end = parse(end)?;
    if inclusive {
        end = end
            .checked_add(1)
            .ok_or_else(|| format!("range {text:?} ends past u64::MAX"))?;
    }
    if start >= end {
        return Err(format!("empty seed range {text:?}"));
    }
    Ok(SeedPlan::Range { start, end })
}

/// Parses a duration such as `90s`, `10m`, `2h` or `1h30m` (a bare number means seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("expected a duration like 30s, 10m or 1h30m, got {text:?}");
    if text.is_empty() {
        return Err(bad());
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for character in text.chars() {
        if let Some(digit) = character.to_digit(10) {
            let value = number.unwrap_or(0);
            number = Some(
                value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(digit)))
                    .ok_or_else(bad)?,
            );
            continue;
        }
        let unit = match character {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let value = number.take().ok_or_else(bad)?;
        total = value
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if number.is_some() || total == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// A seed from the clock and the OS's per-process hash keys.
pub fn entropy_seed() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges() {
        assert_eq!(
            parse_seed_range("3..7"),
            Ok(SeedPlan::Range { start: 3, end: 7 })
        );
        assert_eq!(
            parse_seed_range("3..=7"),
            Ok(SeedPlan::Range { start: 3, end: 8 })
        );
        for bad in [
            "7..3",
            "3..3",
            "x..4",
            "3-7",
            "",
            "1..=18446744073709551615",
        ] {
            assert!(parse_seed_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        for bad in ["", "m", "10x", "5m3", "0s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
