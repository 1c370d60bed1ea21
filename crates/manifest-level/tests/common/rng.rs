//! The deterministic random numbers of the tests and benchmarks: `rand_xoshiro`'s
//! SplitMix64 (its output is fixed, so a seed reproduces a run) behind the few helpers they
//! draw with. `tests/common/mod.rs` re-exports it; `tests/no_alloc.rs` and
//! `benches/baselines/mod.rs` include this file by path. SplitMix64 never allocates.
#![allow(dead_code)]

use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::SplitMix64;

/// A SplitMix64 stream and the way [`Rng::below`] maps its 64-bit outputs into a range.
#[derive(Clone, Debug)]
pub struct Rng {
    inner: SplitMix64,
    reduction: Reduction,
}

/// How [`Rng::below`] maps 64 random bits into `0..n`. Each user keeps the one its seeds
/// were chosen with, so its data stays the same.
#[derive(Clone, Copy, Debug)]
enum Reduction {
    /// `bits % n` (the modulo bias is far too small to matter here).
    Modulo,
    /// `(bits * n) >> 64`, Lemire's multiply-shift.
    MultiplyShift,
}

impl Rng {
    /// The integration tests' generator: state `seed ^ 0x5EED_0F7E_57A7`, ranges by modulo.
    pub fn new(seed: u64) -> Rng {
        Rng::with(seed ^ 0x5EED_0F7E_57A7, Reduction::Modulo)
    }

    /// A generator whose SplitMix64 state starts at `state`, drawing like [`Rng::new`].
    pub fn from_state(state: u64) -> Rng {
        Rng::with(state, Reduction::Modulo)
    }

    /// The benchmarks' generator: state `seed`, ranges by multiply-shift.
    pub fn multiply_shift(seed: u64) -> Rng {
        Rng::with(seed, Reduction::MultiplyShift)
    }

    fn with(state: u64, reduction: Reduction) -> Rng {
        // `seed_from_u64` takes `state` as the state itself (no scrambling).
        Rng {
            inner: SplitMix64::seed_from_u64(state),
            reduction,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// The next 128 random bits (two outputs, the first in the high half).
    pub fn next_u128(&mut self) -> u128 {
        (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64())
    }

    /// Uniform in `0..n`. `n > 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0);
        let bits = self.next_u64();
        match self.reduction {
            Reduction::Modulo => bits % n,
            Reduction::MultiplyShift => ((u128::from(bits) * u128::from(n)) >> 64) as u64,
        }
    }

    /// Uniform in `0..n` as usize. `n > 0`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi);
        if hi - lo == u64::MAX {
            return self.next_u64();
        }
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// A uniformly chosen element of a non-empty `slice`.
    pub fn pick<'a, T>(&mut self, slice: &'a [T]) -> &'a T {
        &slice[self.index(slice.len())]
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, slice: &mut [T]) {
        for i in (1..slice.len()).rev() {
            let j = self.index(i + 1);
            slice.swap(i, j);
        }
    }

    /// An index drawn from cumulative `weights`.
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut draw = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if draw < w {
                return i;
            }
            draw -= w;
        }
        unreachable!()
    }
}
