//! State coverage across a campaign: for every state a job names, how many seeds
//! reached it (see [`crate::level::states`] for the level's states).

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Seeds per state, shared by the workers.
pub(crate) struct StateTally {
    names: &'static [&'static str],
    seeds: Mutex<Vec<u64>>,
}

impl StateTally {
    /// A tally of `names`, every one at 0 seeds.
    pub(crate) fn new(names: &'static [&'static str]) -> StateTally {
        StateTally {
            names,
            seeds: Mutex::new(vec![0; names.len()]),
        }
    }

    /// Counts one more seed for every state `reached` has a positive count of.
    ///
    /// # Panics
    ///
    /// On a state the job did not name (a bug of the job).
    pub(crate) fn add(&self, reached: &BTreeMap<String, u64>) {
        let mut seeds = self.seeds.lock().unwrap_or_else(|p| p.into_inner());
        for (name, &count) in reached {
            let index = self
                .names
                .iter()
                .position(|known| known == name)
                .unwrap_or_else(|| panic!("state {name} is not among {:?}", self.names));
            seeds[index] += u64::from(count > 0);
        }
    }

    /// `(reached, named)`: how many of the named states some seed reached so far, of how
    /// many.
    pub(crate) fn reached(&self) -> (usize, usize) {
        let seeds = self.seeds.lock().unwrap_or_else(|p| p.into_inner());
        (
            seeds.iter().filter(|&&count| count > 0).count(),
            seeds.len(),
        )
    }

    /// Every named state with the seeds that reached it, in the job's order.
    pub(crate) fn finish(self) -> Vec<(&'static str, u64)> {
        let seeds = self.seeds.into_inner().unwrap_or_else(|p| p.into_inner());
        self.names.iter().copied().zip(seeds).collect()
    }
}
