//! Shrinking: reduce a failing op sequence to a minimal one that still fails the same way.
//!
//! Deterministic delta debugging over an explicit op list, in three passes repeated until
//! nothing changes:
//!
//! 1. drop chunks (halves, quarters, ... down to single ops), keeping any removal after
//!    which the sequence still fails;
//! 2. drop single ops, one at a time, from the end backwards;
//! 3. simplify each op (the caller says how: for example a smaller count).
//!
//! The caller's predicate decides what "still fails the same way" means, and must answer
//! `false` for sequences that are not valid (an op that cannot apply in the state the
//! shorter prefix leaves), so only valid sequences are kept. Every step is bounded.

use std::time::{Duration, Instant};

/// What happened at one step of shrinking (for logging).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShrinkStep {
    /// A chunk of `removed` ops starting at `start` was dropped; `len` ops remain.
    DroppedChunk {
        /// Index of the first dropped op.
        start: usize,
        /// Number of ops dropped.
        removed: usize,
        /// Ops left.
        len: usize,
    },
    /// The op at `index` was replaced by a simpler one.
    Simplified {
        /// Index of the op.
        index: usize,
    },
    /// A full round of all passes finished.
    Round {
        /// Round number, from 1.
        round: usize,
        /// Ops left.
        len: usize,
        /// Predicate evaluations so far.
        attempts: usize,
    },
}

/// Limits on the work shrinking may do. Whichever is hit first stops shrinking with the
/// smallest failing sequence found so far ([`Shrunk::truncated`] says so).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShrinkLimits {
    /// Most predicate evaluations in all.
    pub attempts_max: usize,
    /// Most rounds of the three passes.
    pub rounds_max: usize,
    /// Most wall time (checked before each predicate evaluation); `None` for no limit.
    pub time_max: Option<Duration>,
}

impl Default for ShrinkLimits {
    /// 20,000 evaluations, 16 rounds, two minutes.
    fn default() -> Self {
        ShrinkLimits {
            attempts_max: 20_000,
            rounds_max: 16,
            time_max: Some(Duration::from_secs(120)),
        }
    }
}

/// The result of [`shrink`].
#[derive(Clone, Debug)]
pub struct Shrunk<Op> {
    /// The smallest failing sequence found.
    pub ops: Vec<Op>,
    /// Predicate evaluations made.
    pub attempts: usize,
    /// Whether a limit stopped shrinking before a fixed point.
    pub truncated: bool,
}

/// Shrinks `ops`, which must fail (`fails(&ops)` is true), to a locally minimal failing
/// sequence: no single op can be dropped and no op simplified (per `simpler`) without the
/// failure going away.
///
/// `simpler(op)` lists candidate replacements for one op, simplest first.
/// `log` sees every accepted step, with the sequence as it is after the step.
///
/// # Panics
///
/// When `ops` does not fail to begin with.
pub fn shrink<Op: Clone>(
    ops: Vec<Op>,
    limits: ShrinkLimits,
    mut fails: impl FnMut(&[Op]) -> bool,
    simpler: impl Fn(&Op) -> Vec<Op>,
    log: impl FnMut(&ShrinkStep, &[Op]),
) -> Shrunk<Op> {
    assert!(fails(&ops), "shrink: the sequence to shrink does not fail");
    let mut shrinker = Shrinker {
        limits,
        started: Instant::now(),
        candidate: Vec::with_capacity(ops.len()),
        current: ops,
        attempts: 1,
        fails,
        simpler,
        log,
    };
    let truncated = shrinker.rounds();
    Shrunk {
        ops: shrinker.current,
        attempts: shrinker.attempts,
        truncated,
    }
}

/// A limit of [`ShrinkLimits`] was hit: shrinking stops where it is.
struct OutOfBudget;

/// The state of one [`shrink`]: the smallest failing sequence so far, a scratch buffer for
/// candidates, and the caller's closures.
struct Shrinker<Op, Fails, Simpler, Log> {
    limits: ShrinkLimits,
    started: Instant,
    /// The smallest failing sequence found so far.
    current: Vec<Op>,
    /// Scratch: the sequence being tried.
    candidate: Vec<Op>,
    /// Predicate evaluations so far.
    attempts: usize,
    fails: Fails,
    simpler: Simpler,
    log: Log,
}

impl<Op, Fails, Simpler, Log> Shrinker<Op, Fails, Simpler, Log>
where
    Op: Clone,
    Fails: FnMut(&[Op]) -> bool,
    Simpler: Fn(&Op) -> Vec<Op>,
    Log: FnMut(&ShrinkStep, &[Op]),
{
    /// Runs rounds of the three passes until one changes nothing or a limit is hit;
    /// returns whether a limit stopped it.
    fn rounds(&mut self) -> bool {
        for round in 1..=self.limits.rounds_max {
            let len_before = self.current.len();
            if self.drop_chunks().is_err() {
                return true;
            }
            let Ok(simplified_any) = self.simplify_ops() else {
                return true;
            };
            let step = ShrinkStep::Round {
                round,
                len: self.current.len(),
                attempts: self.attempts,
            };
            (self.log)(&step, &self.current);
            if self.current.len() == len_before && !simplified_any {
                return false;
            }
        }
        // The last round still changed something.
        self.limits.rounds_max > 0
    }

    /// Fails when the evaluations or the time are used up (checked before each
    /// evaluation).
    fn check_budget(&self) -> Result<(), OutOfBudget> {
        let out = self.attempts >= self.limits.attempts_max
            || self
                .limits
                .time_max
                .is_some_and(|time_max| self.started.elapsed() >= time_max);
        if out {
            Err(OutOfBudget)
        } else {
            Ok(())
        }
    }

    /// Passes 1 and 2: drops chunks of `len/2` ops, then halves the chunk down to single
    /// ops.
    fn drop_chunks(&mut self) -> Result<(), OutOfBudget> {
        let mut chunk = self.current.len().div_ceil(2).max(1);
        // The chunk halves every round: at most log2(len) + 1 rounds.
        for _ in 0..=usize::BITS {
            self.drop_chunks_of(chunk)?;
            if chunk == 1 {
                return Ok(());
            }
            chunk = chunk.div_ceil(2);
        }
        unreachable!("the chunk size halves to 1 within usize::BITS rounds");
    }

    /// Tries dropping each chunk of `chunk` ops, from the end backwards (so that failing
    /// suffix checks stay valid longest), keeping every drop after which the sequence
    /// still fails.
    fn drop_chunks_of(&mut self, chunk: usize) -> Result<(), OutOfBudget> {
        let mut start = self.current.len();
        while start > 0 {
            let begin = start.saturating_sub(chunk);
            self.check_budget()?;
            self.candidate.clear();
            self.candidate.extend_from_slice(&self.current[..begin]);
            self.candidate.extend_from_slice(&self.current[start..]);
            self.attempts += 1;
            if !self.candidate.is_empty() && (self.fails)(&self.candidate) {
                let removed = start - begin;
                core::mem::swap(&mut self.current, &mut self.candidate);
                let step = ShrinkStep::DroppedChunk {
                    start: begin,
                    removed,
                    len: self.current.len(),
                };
                (self.log)(&step, &self.current);
            }
            start = begin;
        }
        Ok(())
    }

    /// Pass 3: replaces each op by the simplest of its `simpler` candidates that still
    /// fails; returns whether any op was replaced.
    fn simplify_ops(&mut self) -> Result<bool, OutOfBudget> {
        let mut simplified_any = false;
        for index in 0..self.current.len() {
            for replacement in (self.simpler)(&self.current[index]) {
                self.check_budget()?;
                self.candidate.clear();
                self.candidate.extend_from_slice(&self.current);
                self.candidate[index] = replacement;
                self.attempts += 1;
                if (self.fails)(&self.candidate) {
                    core::mem::swap(&mut self.current, &mut self.candidate);
                    simplified_any = true;
                    (self.log)(&ShrinkStep::Simplified { index }, &self.current);
                    break;
                }
            }
        }
        Ok(simplified_any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails when the sequence holds a 3 followed later by a 7 (an "interaction" bug).
    fn three_then_seven(ops: &[u32]) -> bool {
        ops.iter()
            .position(|&op| op == 3)
            .is_some_and(|at| ops[at..].contains(&7))
    }

    #[test]
    fn finds_the_minimal_pair() {
        let ops: Vec<u32> = (0..500).map(|i| (i * 7919 % 13) as u32).collect();
        assert!(three_then_seven(&ops));
        let mut steps = 0;
        let shrunk = shrink(
            ops,
            ShrinkLimits::default(),
            three_then_seven,
            |_| Vec::new(),
            |_, _| steps += 1,
        );
        assert_eq!(shrunk.ops, vec![3, 7]);
        assert!(!shrunk.truncated);
        assert!(steps > 0);
    }

    #[test]
    fn simplifies_op_values() {
        // Fails when the sum is at least 10; ops simplify by halving.
        let fails = |ops: &[u32]| ops.iter().sum::<u32>() >= 10;
        let shrunk = shrink(
            vec![40, 1, 2, 50],
            ShrinkLimits::default(),
            fails,
            |&op| {
                if op > 1 {
                    vec![1, op / 2, op - 1]
                } else {
                    vec![]
                }
            },
            |_, _| {},
        );
        assert_eq!(shrunk.ops, vec![10]);
    }

    #[test]
    fn respects_validity() {
        // Only sequences starting with 0 are valid; the failure needs a 9.
        let fails = |ops: &[u32]| ops.first() == Some(&0) && ops.contains(&9);
        let shrunk = shrink(
            vec![0, 5, 5, 9, 5],
            ShrinkLimits::default(),
            fails,
            |_| vec![],
            |_, _| {},
        );
        assert_eq!(shrunk.ops, vec![0, 9]);
    }

    #[test]
    fn stops_at_the_attempt_limit() {
        let limits = ShrinkLimits {
            attempts_max: 3,
            ..ShrinkLimits::default()
        };
        let shrunk = shrink(
            (0..100).collect::<Vec<u32>>(),
            limits,
            |ops| ops.contains(&42),
            |_| vec![],
            |_, _| {},
        );
        assert!(shrunk.truncated);
        assert!(shrunk.attempts <= 3);
        assert!(shrunk.ops.contains(&42));
    }

    #[test]
    fn stops_at_the_time_limit() {
        let limits = ShrinkLimits {
            time_max: Some(Duration::from_millis(20)),
            ..ShrinkLimits::default()
        };
        let started = Instant::now();
        let slow = |ops: &[u32]| {
            std::thread::sleep(Duration::from_millis(5));
            ops.contains(&42)
        };
        let shrunk = shrink(
            (0..1000).collect::<Vec<u32>>(),
            limits,
            slow,
            |_| vec![],
            |_, _| {},
        );
        assert!(shrunk.truncated);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(shrunk.ops.contains(&42));
    }

    #[test]
    fn logs_the_sequence_after_each_step() {
        let mut seen = Vec::new();
        shrink(
            vec![1u32, 2, 3, 4],
            ShrinkLimits::default(),
            |ops| ops.contains(&3),
            |_| vec![],
            |step, ops| {
                if let ShrinkStep::DroppedChunk { len, .. } = step {
                    assert_eq!(*len, ops.len());
                }
                seen.push(ops.to_vec());
            },
        );
        assert_eq!(seen.last(), Some(&vec![3]));
    }

    #[test]
    #[should_panic(expected = "does not fail")]
    fn refuses_a_passing_sequence() {
        shrink(
            vec![1u32],
            ShrinkLimits::default(),
            |_| false,
            |_| vec![],
            |_, _| {},
        );
    }
}
