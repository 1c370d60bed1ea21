//! The fuzzer's single source of randomness.
//!
//! Every random decision the fuzzer makes is drawn from a [`Prng`] that is
//! derived from one `u64` seed. A failing run is reported by its seed, and
//! that seed must reproduce the exact same run forever: after `cargo update`,
//! after a toolchain upgrade, on another operating system.
//!
//! That is why this module is hand-written instead of using the `rand`
//! ecosystem. `rand` does not promise that the *values* produced by its
//! distributions and helpers (`gen_range`, `shuffle`, `choose_weighted`, ...)
//! stay the same across minor releases, and it has changed them before. Here
//! every algorithm is spelled out, so the mapping from a seed to its values
//! changes only when this file changes:
//!
//! * The generator is xoshiro256++ (Blackman and Vigna), seeded by four
//!   successive outputs of SplitMix64, exactly like
//!   `rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64`; an integration test
//!   cross-checks the two.
//! * Bounded integers use Lemire's nearly-divisionless multiply-shift method
//!   with rejection, which is unbiased.
//! * The only floating-point code, [`Prng::exponential`], uses a natural
//!   logarithm implemented in this file from IEEE 754 `+ - * /` alone
//!   (which Rust evaluates exactly as written, without fused multiply-add or
//!   reassociation), so it does not depend on the platform's `libm`, whose
//!   last-bit results differ between C libraries.
//!
//! The golden-value test `tests/prng_golden.rs` pins concrete outputs for
//! fixed seeds. **If it fails, the stream of values changed and every
//! previously recorded seed is invalidated**; do that only deliberately.
//!
//! Each method documents how many raw 64-bit draws it consumes, because that
//! is part of the value contract: it determines what every later call sees.
//!
//! This generator is fast and statistically strong but not cryptographically
//! secure; it is meant for testing only.

use std::error::Error;
use std::fmt;

/// `2^-53`, exactly representable as an `f64`.
const TWO_POW_MINUS_53: f64 = 1.0 / 9_007_199_254_740_992.0;

/// Advances a SplitMix64 state and returns its next output (Vigna's reference algorithm,
/// from `rand_xoshiro`), used, as the xoshiro authors recommend, to expand one `u64` seed
/// into a full state.
fn splitmix64(state: &mut u64) -> u64 {
    let output = splitmix64_output(*state);
    *state = state.wrapping_add(SPLITMIX64_GAMMA);
    output
}

/// The 64-bit golden ratio SplitMix64 adds to its state per output.
const SPLITMIX64_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The output of a SplitMix64 generator in `state`: its state advanced once, mixed. A
/// bijection of `u64`, so also a cheap mix for payloads and keys.
pub fn splitmix64_output(state: u64) -> u64 {
    use rand_xoshiro::rand_core::{RngCore, SeedableRng};
    rand_xoshiro::SplitMix64::seed_from_u64(state).next_u64()
}

/// A deterministic xoshiro256++ pseudo-random number generator.
///
/// Construct it with [`Prng::from_seed`]. Cloning yields a generator that
/// produces the same values as the original from that point on; use
/// [`Prng::fork`] to get an independent child stream instead.
#[derive(Clone, Debug)]
pub struct Prng {
    /// The 256-bit xoshiro state. Never all zero: the four SplitMix64
    /// outputs come from four distinct internal states through a bijective
    /// mixer, so they are distinct and at most one of them is zero.
    state: [u64; 4],
}

impl Prng {
    /// Creates a generator from a 64-bit seed.
    ///
    /// The state is filled with four successive SplitMix64 outputs starting
    /// from `seed`, in order `state[0]..=state[3]`. This is the standard
    /// seeding for the xoshiro family and matches
    /// `rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed)` (version 0.6).
    #[must_use]
    pub fn from_seed(seed: u64) -> Prng {
        let mut sm = seed;
        let state = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Prng { state }
    }

    /// Returns the next raw 64-bit output of xoshiro256++ (one draw).
    ///
    /// All other methods are built on this one.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Returns a uniformly distributed `u32` (one draw).
    ///
    /// It is the **upper** 32 bits of [`Prng::next_u64`], which are the
    /// statistically strongest ones (and what `rand_xoshiro` returns too).
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Returns a uniformly distributed `u128` (two draws).
    ///
    /// The **first** draw becomes the high 64 bits and the **second** draw
    /// the low 64 bits.
    pub fn u128(&mut self) -> u128 {
        let high = self.next_u64();
        let low = self.next_u64();
        (u128::from(high) << 64) | u128::from(low)
    }

    /// Returns an integer uniformly distributed in `0..=max`, without bias.
    ///
    /// Uses Lemire's nearly-divisionless method ("Fast Random Integer
    /// Generation in an Interval", 2019): a draw `x` is mapped to the high
    /// 64 bits of the 128-bit product `x * (max + 1)`; draws whose low 64 bits
    /// fall below `2^64 mod (max + 1)` are rejected and redrawn, which removes
    /// the bias exactly. Each draw is rejected with probability
    /// `< (max + 1) / 2^64 <= 1/2`, so the loop terminates with probability 1
    /// and usually consumes exactly one draw (for small `max`, a rejection
    /// practically never happens).
    ///
    /// `max == u64::MAX` returns [`Prng::next_u64`] directly (one draw).
    /// `max == 0` returns `0` but still consumes one draw.
    pub fn int_inclusive(&mut self, max: u64) -> u64 {
        let Some(range) = max.checked_add(1) else {
            return self.next_u64();
        };
        let mut product = u128::from(self.next_u64()) * u128::from(range);
        let mut low = product as u64;
        if low < range {
            // 2^64 mod range, computed in u64 as (2^64 - range) mod range.
            let threshold = range.wrapping_neg() % range;
            // Terminates with probability 1 (see the method docs).
            while low < threshold {
                product = u128::from(self.next_u64()) * u128::from(range);
                low = product as u64;
            }
        }
        (product >> 64) as u64
    }

    /// Returns an integer uniformly distributed in `min..=max`.
    ///
    /// Consumes the same draws as `int_inclusive(max - min)`.
    ///
    /// # Panics
    ///
    /// Panics if `min > max`.
    pub fn range_inclusive(&mut self, min: u64, max: u64) -> u64 {
        assert!(
            min <= max,
            "range_inclusive: min ({min}) must not exceed max ({max})"
        );
        min + self.int_inclusive(max - min)
    }

    /// Returns an index uniformly distributed in `0..len`.
    ///
    /// Consumes the same draws as `int_inclusive(len - 1)`.
    ///
    /// # Panics
    ///
    /// Panics if `len == 0`.
    pub fn index(&mut self, len: usize) -> usize {
        assert!(len > 0, "index: len must be greater than zero");
        let max = u64::try_from(len - 1).expect("usize values fit in u64");
        let value = self.int_inclusive(max);
        usize::try_from(value).expect("value <= len - 1 fits in usize")
    }

    /// Returns `true` or `false` with equal probability (one draw).
    ///
    /// Uses the top bit of [`Prng::next_u64`].
    pub fn boolean(&mut self) -> bool {
        self.next_u64() >> 63 == 1
    }

    /// Returns `true` with probability exactly `numerator / denominator`.
    ///
    /// Computed as `int_inclusive(denominator - 1) < numerator` and consumes
    /// the same draws, including in the certain cases `numerator == 0`
    /// (always `false`) and `numerator == denominator` (always `true`), so
    /// that tuning a probability does not shift the rest of the stream.
    ///
    /// # Panics
    ///
    /// Panics if `denominator == 0` or `numerator > denominator`.
    pub fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        assert!(denominator > 0, "chance: denominator must be non-zero");
        assert!(
            numerator <= denominator,
            "chance: numerator ({numerator}) must not exceed denominator ({denominator})"
        );
        self.int_inclusive(denominator - 1) < numerator
    }

    /// Returns an index `i` into `weights` chosen with probability
    /// `weights[i] / sum(weights)`.
    ///
    /// Draws `r = int_inclusive(sum - 1)` (same draws as that call) and
    /// returns the first index whose cumulative weight exceeds `r`. Entries
    /// with weight zero are therefore never chosen.
    ///
    /// # Panics
    ///
    /// Panics if the weights sum to zero (including an empty slice) or if
    /// their sum overflows `u64`.
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total = weights.iter().try_fold(0u64, |acc, &w| acc.checked_add(w));
        let total = total.expect("weighted: sum of weights overflows u64");
        assert!(total > 0, "weighted: sum of weights must be non-zero");
        let target = self.int_inclusive(total - 1);
        let mut cumulative = 0u64;
        for (i, &weight) in weights.iter().enumerate() {
            cumulative += weight;
            if target < cumulative {
                return i;
            }
        }
        unreachable!("weighted: target {target} < total {total} is always covered")
    }

    /// Returns a sample of an exponential distribution with the given mean,
    /// rounded down (one draw).
    ///
    /// Computed by inversion as `floor(-ln(u) * mean)`, where
    /// `u = (top_53_bits + 1) / 2^53` is built from the top 53 bits of
    /// [`Prng::next_u64`] and is therefore uniform over the 2^53 evenly
    /// spaced values in `(0, 1]` (never zero, so the logarithm is finite).
    /// `-ln(u)` lies in `[0, 53 ln 2 ≈ 36.74]`, so results never exceed about
    /// `36.74 * mean`. `mean` is converted to `f64` (rounded to nearest if it
    /// exceeds 2^53), the product is computed in `f64`, and the conversion
    /// back saturates to `u64::MAX` for products that do not fit (only
    /// possible when `mean` is above about `5 * 10^17`). `mean == 0` always
    /// returns `0`.
    ///
    /// The logarithm is this module's own value-stable implementation (see
    /// the module docs), not the platform `libm`.
    pub fn exponential(&mut self, mean: u64) -> u64 {
        let u = ((self.next_u64() >> 11) + 1) as f64 * TWO_POW_MINUS_53;
        let sample = -ln(u) * mean as f64;
        // Float-to-int `as` casts saturate (and map NaN to 0); `sample` is
        // finite and non-negative, so this is floor() clamped to u64::MAX.
        sample as u64
    }

    /// Shuffles `items` in place, uniformly over all permutations.
    ///
    /// Fisher–Yates: for `i` from `len - 1` down to `1`, swaps `items[i]` with
    /// `items[index(i + 1)]`. Consumes one [`Prng::index`] call per step
    /// (none for slices of length 0 or 1).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }

    /// Derives an independent child generator (one draw from `self`).
    ///
    /// The child is `Prng::from_seed(self.next_u64())`. Use it to give a
    /// sub-task its own stream, so that changing how many values the
    /// sub-task consumes does not perturb the parent's later values.
    #[must_use = "forking advances the parent; use `next_u64` to just skip a value"]
    pub fn fork(&mut self) -> Prng {
        Prng::from_seed(self.next_u64())
    }
}

/// `ln(2)` split in two parts for [`ln`]: `LN2_HI` has its low 32 bits zero,
/// so `k * LN2_HI` is exact for `|k| < 2000`. This and the `LG*` constants
/// below are fdlibm's, written as the shortest decimal literals that round
/// to the intended bit patterns given in the comments (a unit test checks
/// the bits).
const LN2_HI: f64 = 6.931_471_803_691_238e-1; // 0x3FE62E42_FEE00000
/// Low part of `ln(2)`, see [`LN2_HI`].
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10; // 0x3DEA39EF_35793C76
/// Remez polynomial coefficients of [`ln`].
const LG: [f64; 7] = [
    6.666_666_666_666_735e-1,   // 0x3FE55555_55555593
    3.999_999_999_940_942e-1,   // 0x3FD99999_9997FA04
    2.857_142_874_366_239e-1,   // 0x3FD24924_94229359
    2.222_219_843_214_978_4e-1, // 0x3FCC71C5_1D8E78AF
    1.818_357_216_161_805e-1,   // 0x3FC74664_96CB03DE
    1.531_383_769_920_937_3e-1, // 0x3FC39A09_D078C69F
    1.479_819_860_511_658_6e-1, // 0x3FC2F112_DF3E5244
];

/// Natural logarithm of a positive, finite, normal `f64`.
///
/// A transcription of the classic fdlibm `__ieee754_log` algorithm (error
/// below 1 ulp), restricted to the inputs [`Prng::exponential`] produces
/// (`2^-53 <= x <= 1`). It uses only IEEE 754 basic operations, which Rust
/// evaluates exactly in the written order, so its results are identical on
/// every platform and toolchain, unlike `f64::ln`, which defers to the
/// platform's C library.
///
/// Method: write `x = 2^k * (1 + f)` with `sqrt(2)/2 < 1 + f < sqrt(2)`;
/// with `s = f / (2 + f)`, `ln(1 + f) = 2s + 2/3 s^3 + 2/5 s^5 + ...`, whose
/// tail is approximated by a degree-14 Remez polynomial; finally
/// `ln(x) = k * ln(2) + ln(1 + f)` with `ln(2)` split into a high part
/// (exact when multiplied by small `k`) and a low part.
///
/// The algorithm and constants come from fdlibm, which carries this notice:
///
/// > Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
/// >
/// > Developed at SunSoft, a Sun Microsystems, Inc. business.
/// > Permission to use, copy, modify, and distribute this
/// > software is freely granted, provided that this notice
/// > is preserved.
fn ln(x: f64) -> f64 {
    /// High 32 bits of sqrt(2)/2, used to centre the reduced argument.
    const SQRT_HALF_HIGH: u32 = 0x3FE6_A09E;
    /// High 32 bits of 1.0.
    const ONE_HIGH: u32 = 0x3FF0_0000;

    debug_assert!(
        x.is_normal() && x > 0.0,
        "ln: input must be positive and normal"
    );
    let bits = x.to_bits();
    let mut high = (bits >> 32) as u32;

    // Reduce x into [sqrt(2)/2, sqrt(2)) and extract the binary exponent k.
    // Adding (1.0 - sqrt(2)/2) to the high word carries into the exponent
    // exactly when the mantissa is at least that of sqrt(2).
    high += ONE_HIGH - SQRT_HALF_HIGH;
    let k = (high >> 20) as i32 - 0x3FF;
    high = (high & 0x000F_FFFF) + SQRT_HALF_HIGH;
    let reduced = f64::from_bits((u64::from(high) << 32) | (bits & 0xFFFF_FFFF));

    let f = reduced - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG[1] + w * (LG[3] + w * LG[5]));
    let t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])));
    let r = t2 + t1;
    let dk = f64::from(k);
    // Evaluation order matters for the exact result; keep it as in fdlibm.
    s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI
}

/// Why [`parse_seed`] rejected a seed string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedParseError {
    /// The string was empty.
    Empty,
    /// The string contained a character that is neither a decimal nor a
    /// hexadecimal digit (this includes signs, `0x` prefixes and whitespace).
    InvalidCharacter {
        /// The offending character.
        character: char,
        /// Its byte offset in the input.
        offset: usize,
    },
    /// The string was all decimal digits but its value exceeds `u64::MAX`.
    DecimalOverflow,
    /// The string was hexadecimal (it contains `a`-`f`) but not exactly 40
    /// digits long, so it is not a full git commit hash.
    HexLength {
        /// The number of hexadecimal digits found.
        len: usize,
    },
}

impl fmt::Display for SeedParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const EXPECTED: &str = "expected a decimal u64 or a 40-digit hexadecimal git commit hash";
        match self {
            SeedParseError::Empty => write!(f, "seed is empty; {EXPECTED}"),
            SeedParseError::InvalidCharacter { character, offset } => write!(
                f,
                "seed contains invalid character {character:?} at byte offset {offset}; {EXPECTED}"
            ),
            SeedParseError::DecimalOverflow => write!(
                f,
                "decimal seed is larger than the maximum u64 value {}",
                u64::MAX
            ),
            SeedParseError::HexLength { len } => write!(
                f,
                "hexadecimal seed has {len} digits, but a git commit hash has exactly 40"
            ),
        }
    }
}

impl Error for SeedParseError {}

/// Parses a fuzzer seed given on the command line or in a report.
///
/// Accepted forms (no surrounding whitespace, sign or `0x` prefix):
///
/// * exactly 40 hexadecimal digits, case-insensitive (a full git commit
///   hash, so CI can seed a run from the commit under test): the seed is the
///   value of the **last 16 digits**, i.e. the low 64 bits of the 160-bit
///   number. Any 40-character string of hex digits takes this path, even if
///   it contains only `0`-`9`;
/// * otherwise, a decimal number in `0..=u64::MAX` (leading zeros allowed).
///
/// # Errors
///
/// Returns a [`SeedParseError`] for an empty string, any character that is
/// not a hexadecimal digit, a hexadecimal string of a length other than 40,
/// or a decimal value above `u64::MAX`.
pub fn parse_seed(text: &str) -> Result<u64, SeedParseError> {
    /// Length of a full SHA-1 git commit hash in hex digits.
    const COMMIT_HASH_LEN: usize = 40;
    /// Hex digits covering the low 64 bits.
    const LOW_DIGITS: usize = 16;

    if text.is_empty() {
        return Err(SeedParseError::Empty);
    }
    if let Some((offset, character)) = text.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(SeedParseError::InvalidCharacter { character, offset });
    }
    // From here on, `text` is all ASCII hex digits, so byte offsets are
    // character offsets.
    if text.len() == COMMIT_HASH_LEN {
        let low = &text.as_bytes()[COMMIT_HASH_LEN - LOW_DIGITS..];
        let value = low.iter().fold(0u64, |acc, &digit| {
            let nibble = char::from(digit)
                .to_digit(16)
                .expect("validated as a hex digit");
            (acc << 4) | u64::from(nibble)
        });
        return Ok(value);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SeedParseError::HexLength { len: text.len() });
    }
    text.bytes().try_fold(0u64, |acc, digit| {
        acc.checked_mul(10)
            .and_then(|acc| acc.checked_add(u64::from(digit - b'0')))
            .ok_or(SeedParseError::DecimalOverflow)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DRAWS: usize = 100_000;

    #[test]
    fn int_inclusive_stays_in_range_and_hits_both_ends() {
        let mut rng = Prng::from_seed(7);
        for max in 0..=10u64 {
            let mut seen = vec![false; max as usize + 1];
            for _ in 0..2_000 {
                let v = rng.int_inclusive(max);
                assert!(v <= max, "{v} > {max}");
                seen[v as usize] = true;
            }
            assert!(seen[0], "max {max}: 0 never drawn");
            assert!(seen[max as usize], "max {max}: max never drawn");
            assert!(seen.iter().all(|&s| s), "max {max}: some value missing");
        }
    }

    #[test]
    fn int_inclusive_large_bounds_stay_in_range() {
        let mut rng = Prng::from_seed(8);
        let bounds = [
            u64::MAX,
            u64::MAX - 1,
            u64::MAX / 2,
            u64::MAX / 2 + 1,
            (1 << 63) + 12_345,
            1 << 32,
        ];
        for &max in &bounds {
            for _ in 0..1_000 {
                assert!(rng.int_inclusive(max) <= max);
            }
        }
    }

    #[test]
    fn int_inclusive_max_is_raw_draw() {
        let mut a = Prng::from_seed(9);
        let mut b = a.clone();
        for _ in 0..100 {
            assert_eq!(a.int_inclusive(u64::MAX), b.next_u64());
        }
    }

    #[test]
    fn int_inclusive_is_roughly_uniform() {
        let mut rng = Prng::from_seed(10);
        let mut counts = [0u32; 6];
        for _ in 0..DRAWS {
            counts[rng.int_inclusive(5) as usize] += 1;
        }
        let expected = DRAWS as f64 / 6.0;
        for &c in &counts {
            assert!(
                (f64::from(c) - expected).abs() < expected * 0.05,
                "{counts:?}"
            );
        }
    }

    #[test]
    fn range_inclusive_and_index_stay_in_bounds() {
        let mut rng = Prng::from_seed(11);
        let mut hit_min = false;
        let mut hit_max = false;
        for _ in 0..2_000 {
            let v = rng.range_inclusive(10, 13);
            assert!((10..=13).contains(&v));
            hit_min |= v == 10;
            hit_max |= v == 13;
            assert!(rng.index(3) < 3);
            assert_eq!(rng.index(1), 0);
        }
        assert!(hit_min && hit_max);
        assert_eq!(rng.range_inclusive(5, 5), 5);
        let _full_range: u64 = rng.range_inclusive(0, u64::MAX);
    }

    #[test]
    #[should_panic(expected = "must not exceed")]
    fn range_inclusive_rejects_inverted_bounds() {
        Prng::from_seed(0).range_inclusive(2, 1);
    }

    #[test]
    #[should_panic(expected = "len must be greater than zero")]
    fn index_rejects_zero_len() {
        Prng::from_seed(0).index(0);
    }

    #[test]
    fn boolean_is_roughly_fair() {
        let mut rng = Prng::from_seed(12);
        let trues = (0..DRAWS).filter(|_| rng.boolean()).count();
        assert!((48_000..52_000).contains(&trues), "{trues}");
    }

    #[test]
    fn chance_extremes_are_certain() {
        let mut rng = Prng::from_seed(13);
        for n in 1..=20u64 {
            for _ in 0..500 {
                assert!(!rng.chance(0, n));
                assert!(rng.chance(n, n));
            }
        }
        for _ in 0..500 {
            assert!(!rng.chance(0, u64::MAX));
            assert!(rng.chance(u64::MAX, u64::MAX));
        }
    }

    #[test]
    fn chance_matches_probability() {
        let mut rng = Prng::from_seed(14);
        let hits = (0..DRAWS).filter(|_| rng.chance(3, 10)).count();
        assert!((28_500..31_500).contains(&hits), "{hits}");
    }

    #[test]
    #[should_panic(expected = "denominator must be non-zero")]
    fn chance_rejects_zero_denominator() {
        Prng::from_seed(0).chance(0, 0);
    }

    #[test]
    #[should_panic(expected = "must not exceed denominator")]
    fn chance_rejects_numerator_above_denominator() {
        Prng::from_seed(0).chance(3, 2);
    }

    #[test]
    fn weighted_skips_zero_weights_and_matches_proportions() {
        let mut rng = Prng::from_seed(15);
        let weights = [0u64, 8, 0, 5, 3, 0, 3, 1, 0];
        let total: u64 = weights.iter().sum();
        let mut counts = [0u64; 9];
        for _ in 0..DRAWS {
            counts[rng.weighted(&weights)] += 1;
        }
        for (i, (&w, &c)) in weights.iter().zip(&counts).enumerate() {
            if w == 0 {
                assert_eq!(c, 0, "zero-weight index {i} was chosen");
            } else {
                let expected = DRAWS as f64 * w as f64 / total as f64;
                let error = (c as f64 - expected).abs() / expected;
                assert!(error < 0.10, "index {i}: {c} vs {expected} ({counts:?})");
            }
        }
    }

    #[test]
    fn weighted_single_nonzero_entry_always_chosen() {
        let mut rng = Prng::from_seed(16);
        for _ in 0..1_000 {
            assert_eq!(rng.weighted(&[0, 0, 7, 0]), 2);
            assert_eq!(rng.weighted(&[u64::MAX]), 0);
            assert_eq!(rng.weighted(&[0, u64::MAX]), 1);
        }
    }

    #[test]
    #[should_panic(expected = "must be non-zero")]
    fn weighted_rejects_all_zero() {
        Prng::from_seed(0).weighted(&[0, 0]);
    }

    #[test]
    #[should_panic(expected = "must be non-zero")]
    fn weighted_rejects_empty() {
        Prng::from_seed(0).weighted(&[]);
    }

    #[test]
    #[should_panic(expected = "overflows u64")]
    fn weighted_rejects_overflow() {
        Prng::from_seed(0).weighted(&[u64::MAX, 1]);
    }

    #[test]
    fn exponential_mean_is_close() {
        for (seed, mean) in [(17u64, 100_000u64), (18, 1_000), (19, 50)] {
            let mut rng = Prng::from_seed(seed);
            let sum: u128 = (0..DRAWS).map(|_| u128::from(rng.exponential(mean))).sum();
            // floor() lowers the mean by about 0.5, so compare with mean - 0.5.
            let observed = sum as f64 / DRAWS as f64;
            let target = mean as f64 - 0.5;
            assert!(
                (observed - target).abs() < target * 0.05,
                "mean {mean}: observed {observed}"
            );
        }
    }

    #[test]
    fn exponential_edge_cases() {
        let mut rng = Prng::from_seed(20);
        for _ in 0..1_000 {
            assert_eq!(rng.exponential(0), 0);
            // -ln(u) <= 53 ln 2 < 36.74.
            assert!(rng.exponential(1_000) <= 36_737);
        }
        // Saturation: with mean u64::MAX nearly every sample overflows.
        let saturated = (0..1_000)
            .filter(|_| rng.exponential(u64::MAX) == u64::MAX)
            .count();
        assert!(saturated > 300, "{saturated}");
    }

    #[test]
    fn ln_constants_have_intended_bits() {
        // The decimal literals must round to fdlibm's exact constants.
        assert_eq!(LN2_HI.to_bits(), 0x3FE6_2E42_FEE0_0000);
        assert_eq!(LN2_LO.to_bits(), 0x3DEA_39EF_3579_3C76);
        let lg_bits = LG.map(f64::to_bits);
        assert_eq!(
            lg_bits,
            [
                0x3FE5_5555_5555_5593,
                0x3FD9_9999_9997_FA04,
                0x3FD2_4924_9422_9359,
                0x3FCC_71C5_1D8E_78AF,
                0x3FC7_4664_96CB_03DE,
                0x3FC3_9A09_D078_C69F,
                0x3FC2_F112_DF3E_5244,
            ]
        );
        assert_eq!(TWO_POW_MINUS_53.to_bits(), 0x3CA0_0000_0000_0000);
    }

    #[test]
    fn ln_agrees_with_std_within_one_ulp() {
        let within_one_ulp = |x: f64| {
            let ours = ln(x);
            let std = x.ln();
            let diff = (ours.to_bits() as i64 - std.to_bits() as i64).abs();
            assert!(diff <= 1, "ln({x:e}): ours {ours:e}, std {std:e}");
        };
        assert_eq!(ln(1.0), 0.0);
        within_one_ulp(TWO_POW_MINUS_53);
        within_one_ulp(0.5);
        within_one_ulp(std::f64::consts::FRAC_1_SQRT_2);
        within_one_ulp(1.0 - TWO_POW_MINUS_53);
        let mut rng = Prng::from_seed(21);
        for _ in 0..DRAWS {
            let u = ((rng.next_u64() >> 11) + 1) as f64 * TWO_POW_MINUS_53;
            within_one_ulp(u);
            // Also cover tiny inputs with a random exponent.
            within_one_ulp(u * f64::from(1u32 << rng.int_inclusive(31)).recip());
        }
    }

    #[test]
    fn shuffle_is_a_permutation_and_moves_things() {
        let mut rng = Prng::from_seed(22);
        let mut items: Vec<u32> = (0..50).collect();
        rng.shuffle(&mut items);
        let mut sorted = items.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(items, sorted);
        // Trivial slices consume nothing.
        let mut a = rng.clone();
        a.shuffle::<u8>(&mut []);
        a.shuffle(&mut [1]);
        assert_eq!(a.next_u64(), rng.next_u64());
    }

    #[test]
    fn shuffle_is_roughly_uniform() {
        let mut rng = Prng::from_seed(23);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..60_000 {
            let mut items = [0u8, 1, 2];
            rng.shuffle(&mut items);
            *counts.entry(items).or_insert(0u32) += 1;
        }
        assert_eq!(counts.len(), 6);
        for &c in counts.values() {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn fork_is_from_seed_of_next_draw() {
        let mut parent = Prng::from_seed(24);
        let mut copy = parent.clone();
        let mut child = parent.fork();
        let mut expected = Prng::from_seed(copy.next_u64());
        for _ in 0..10 {
            assert_eq!(child.next_u64(), expected.next_u64());
        }
        // The parent advanced by exactly one draw.
        assert_eq!(parent.next_u64(), copy.next_u64());
    }

    #[test]
    fn clone_replays_and_seeds_differ() {
        let mut a = Prng::from_seed(25);
        let mut b = a.clone();
        let mut c = Prng::from_seed(26);
        let xs: Vec<u64> = (0..16).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..16).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..16).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn next_u32_and_u128_use_documented_bits() {
        let mut a = Prng::from_seed(27);
        let mut b = a.clone();
        assert_eq!(a.next_u32(), (b.next_u64() >> 32) as u32);
        let high = b.next_u64();
        let low = b.next_u64();
        assert_eq!(a.u128(), (u128::from(high) << 64) | u128::from(low));
    }

    #[test]
    fn splitmix64_reference_values() {
        // Produced by the reference C code (xoshiro.di.unimi.it/splitmix64.c),
        // as quoted in rand_xoshiro's own tests.
        let mut state = 1_477_776_061_723_855_037u64;
        let expected = [
            1_985_237_415_132_408_290u64,
            2_979_275_885_539_914_483,
            13_511_426_838_097_143_398,
            8_488_337_342_461_049_707,
            15_141_737_807_933_549_159,
        ];
        for &e in &expected {
            assert_eq!(splitmix64(&mut state), e);
        }
    }

    #[test]
    fn parse_seed_decimal() {
        assert_eq!(parse_seed("0"), Ok(0));
        assert_eq!(parse_seed("42"), Ok(42));
        assert_eq!(parse_seed("0042"), Ok(42));
        assert_eq!(parse_seed("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_seed("18446744073709551616"),
            Err(SeedParseError::DecimalOverflow)
        );
        assert_eq!(
            parse_seed("99999999999999999999999"),
            Err(SeedParseError::DecimalOverflow)
        );
    }

    #[test]
    fn parse_seed_commit_hash_uses_low_64_bits() {
        let hash = "0123456789abcdef0123456789ABCDEF00000000";
        assert_eq!(hash.len(), 40);
        assert_eq!(parse_seed(hash), Ok(0x89AB_CDEF_0000_0000));
        assert_eq!(
            parse_seed("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            Ok(0x9560_1890_afd8_0709)
        );
        assert_eq!(
            parse_seed("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"),
            Ok(0x9560_1890_afd8_0709)
        );
        assert_eq!(parse_seed(&"f".repeat(40)), Ok(u64::MAX));
        // 40 decimal digits are still a commit hash, read as hex.
        assert_eq!(
            parse_seed("1234567890123456789012345678901234567890"),
            Ok(0x5678_9012_3456_7890)
        );
    }

    #[test]
    fn parse_seed_errors() {
        assert_eq!(parse_seed(""), Err(SeedParseError::Empty));
        let hash = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
        assert_eq!(
            parse_seed(&hash[1..]),
            Err(SeedParseError::HexLength { len: 39 })
        );
        assert_eq!(
            parse_seed(&format!("{hash}a")),
            Err(SeedParseError::HexLength { len: 41 })
        );
        assert_eq!(parse_seed("abc"), Err(SeedParseError::HexLength { len: 3 }));
        let bad = format!("{}g", &hash[1..]);
        assert_eq!(
            parse_seed(&bad),
            Err(SeedParseError::InvalidCharacter {
                character: 'g',
                offset: 39
            })
        );
        for (text, character, offset) in [
            ("-1", '-', 0),
            ("+1", '+', 0),
            (" 1", ' ', 0),
            ("1 ", ' ', 1),
            ("0x1f", 'x', 1),
            ("1_000", '_', 1),
            ("12é", 'é', 2),
        ] {
            assert_eq!(
                parse_seed(text),
                Err(SeedParseError::InvalidCharacter { character, offset }),
                "{text:?}"
            );
        }
    }

    #[test]
    fn parse_seed_error_messages() {
        let messages = [
            SeedParseError::Empty.to_string(),
            SeedParseError::InvalidCharacter {
                character: 'g',
                offset: 3,
            }
            .to_string(),
            SeedParseError::DecimalOverflow.to_string(),
            SeedParseError::HexLength { len: 39 }.to_string(),
        ];
        assert!(messages[0].contains("empty"));
        assert!(messages[1].contains("'g'") && messages[1].contains("offset 3"));
        assert!(messages[2].contains("18446744073709551615"));
        assert!(messages[3].contains("39") && messages[3].contains("40"));
        let _: &dyn Error = &SeedParseError::Empty;
    }
}
