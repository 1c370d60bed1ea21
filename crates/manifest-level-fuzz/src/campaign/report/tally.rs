//! The bounded tallies a report keeps while a campaign runs: histograms over powers of
//! two, counts of named values, and ops over time. Each holds at most a fixed number of
//! buckets whatever the campaign's length, so a report of millions of seeds stays small.

use std::collections::BTreeMap;

/// Counts of values by power-of-two bucket: bucket `k` holds `2^k..2^(k+1)` (bucket 0
/// also holds 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log2Histogram {
    buckets: [u64; 64],
}

impl Default for Log2Histogram {
    fn default() -> Self {
        Log2Histogram { buckets: [0; 64] }
    }
}

impl Log2Histogram {
    /// Counts `value`.
    pub fn add(&mut self, value: u64) {
        let bucket = &mut self.buckets[bucket_of(value)];
        *bucket = bucket.saturating_add(1);
    }

    /// Values counted.
    pub fn total(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// `(label, count)` for each bucket from the lowest to the highest non-empty one
    /// (empty ones between included, so the shape shows); labels read `512..1023`.
    pub fn bars(&self) -> Vec<(String, u64)> {
        let Some(low) = self.buckets.iter().position(|count| *count > 0) else {
            return Vec::new();
        };
        let high = self
            .buckets
            .iter()
            .rposition(|count| *count > 0)
            .unwrap_or(low);
        (low..=high)
            .map(|bucket| (bucket_label(bucket), self.buckets[bucket]))
            .collect()
    }
}

fn bucket_of(value: u64) -> usize {
    if value == 0 {
        0
    } else {
        value.ilog2() as usize
    }
}

fn bucket_label(bucket: usize) -> String {
    let low = if bucket == 0 { 0 } else { 1u64 << bucket };
    let high = if bucket >= 63 {
        u64::MAX
    } else {
        (1u64 << (bucket + 1)) - 1
    };
    if low == high {
        low.to_string()
    } else {
        format!("{low}..{high}")
    }
}

/// Counts of named values (a configuration's key type, an op kind), at most
/// [`Self::NAMES_MAX`] names: later new names count under `other`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamedCounts {
    counts: BTreeMap<String, u64>,
}

impl NamedCounts {
    /// The most names kept.
    pub const NAMES_MAX: usize = 64;

    /// Adds `count` to `name`.
    pub fn add(&mut self, name: &str, count: u64) {
        let full = self.counts.len() >= Self::NAMES_MAX;
        let name = if full && !self.counts.contains_key(name) {
            "other"
        } else {
            name
        };
        let total = self.counts.entry(name.to_string()).or_insert(0);
        *total = total.saturating_add(count);
    }

    /// `(name, count)`, largest count first (ties by name).
    pub fn bars(&self) -> Vec<(String, u64)> {
        let mut bars: Vec<_> = self
            .counts
            .iter()
            .map(|(name, count)| (name.clone(), *count))
            .collect();
        bars.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        bars
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// Ops over the campaign's time, in equal buckets: a seed's ops are spread evenly over
/// the time it ran. When the run outgrows [`Self::BUCKETS_MAX`] buckets, neighbouring
/// buckets merge and each covers twice the time.
#[derive(Clone, Debug, PartialEq)]
pub struct Throughput {
    bucket_ms: u64,
    ops: Vec<f64>,
}

impl Default for Throughput {
    fn default() -> Self {
        Throughput {
            bucket_ms: 1_000,
            ops: Vec::new(),
        }
    }
}

impl Throughput {
    /// The most buckets kept.
    pub const BUCKETS_MAX: usize = 256;

    /// Counts `ops` run evenly from `finished_ms - elapsed_ms` to `finished_ms` (both in
    /// milliseconds since the campaign started).
    pub fn add(&mut self, finished_ms: u64, elapsed_ms: u64, ops: u64) {
        while finished_ms / self.bucket_ms >= Self::BUCKETS_MAX as u64 {
            self.halve();
        }
        let end = finished_ms as f64;
        let start = finished_ms.saturating_sub(elapsed_ms) as f64;
        let span = (end - start).max(1.0);
        let width = self.bucket_ms as f64;
        let first = (start / width) as usize;
        let last = (finished_ms / self.bucket_ms) as usize;
        if self.ops.len() <= last {
            self.ops.resize(last + 1, 0.0);
        }
        for bucket in first..=last {
            let low = (bucket as f64 * width).max(start);
            let high = ((bucket + 1) as f64 * width).min(end.max(start + 1.0));
            if high > low {
                self.ops[bucket] += ops as f64 * (high - low) / span;
            }
        }
    }

    fn halve(&mut self) {
        self.bucket_ms *= 2;
        self.ops = self.ops.chunks(2).map(|pair| pair.iter().sum()).collect();
    }

    /// `(seconds since the start, ops/s)` at each bucket's middle.
    pub fn points(&self) -> Vec<(f64, f64)> {
        let seconds = self.bucket_ms as f64 / 1_000.0;
        self.ops
            .iter()
            .enumerate()
            .map(|(bucket, ops)| ((bucket as f64 + 0.5) * seconds, ops / seconds))
            .collect()
    }

    /// The width of a bucket, in milliseconds.
    pub fn bucket_ms(&self) -> u64 {
        self.bucket_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_buckets_hold_their_powers_of_two() {
        let mut histogram = Log2Histogram::default();
        for value in [0, 1, 2, 3, 4, 1023, 1024, u64::MAX] {
            histogram.add(value);
        }
        assert_eq!(histogram.total(), 8);
        let bars = histogram.bars();
        assert_eq!(bars[0], ("0..1".to_string(), 2));
        assert_eq!(bars[1], ("2..3".to_string(), 2));
        assert_eq!(bars[2], ("4..7".to_string(), 1));
        assert!(bars.contains(&("512..1023".to_string(), 1)));
        assert!(bars.contains(&("1024..2047".to_string(), 1)));
        assert_eq!(bars.last().unwrap().1, 1);
        assert_eq!(
            bars.len(),
            64,
            "every bucket from the lowest to the highest"
        );
    }

    #[test]
    fn named_counts_cap_their_names() {
        let mut counts = NamedCounts::default();
        for index in 0..100u64 {
            counts.add(&format!("name{index:03}"), index);
        }
        let bars = counts.bars();
        assert_eq!(bars.len(), NamedCounts::NAMES_MAX + 1);
        let total: u64 = bars.iter().map(|(_, count)| count).sum();
        assert_eq!(total, (0..100).sum::<u64>());
        assert_eq!(bars[0].0, "other");
    }

    #[test]
    fn throughput_spreads_ops_and_keeps_their_sum() {
        let mut throughput = Throughput::default();
        throughput.add(2_000, 2_000, 4_000);
        let points = throughput.points();
        assert_eq!(points.len(), 3);
        assert!((points[0].1 - 2_000.0).abs() < 1e-6, "{points:?}");
        assert!((points[1].1 - 2_000.0).abs() < 1e-6, "{points:?}");
        // A run far longer than the buckets allow merges them and keeps every op.
        for second in 1..2_000u64 {
            throughput.add(second * 1_000, 1_000, 10);
        }
        assert!(throughput.points().len() <= Throughput::BUCKETS_MAX);
        assert!(throughput.bucket_ms() > 1_000);
        let seconds = throughput.bucket_ms() as f64 / 1_000.0;
        let total: f64 = throughput
            .points()
            .iter()
            .map(|(_, rate)| rate * seconds)
            .sum();
        assert!((total - (4_000.0 + 1_999.0 * 10.0)).abs() < 1e-3, "{total}");
    }
}
