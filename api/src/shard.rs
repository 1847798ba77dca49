//! Sharding the RAN between replicas: which of K replicas owns a cell.
//!
//! An xApp replica serves only the E2 nodes (cells) of its shard, and an rApp replica
//! negotiates only the cells of its shard, so the two scale out the same way. The rule is
//! stable: it depends only on the cell id and K, never on the order cells are discovered or on
//! which replicas are up, so a restarted replica (a StatefulSet pod keeps its ordinal) owns
//! exactly the cells it owned before.
//!
//! The rule: `owner(cell) = FNV-1a-64(cell id as UTF-8) mod K`. A hash rather than the NR cell
//! identity modulo K, because NCIs put the gNB id in the high bits and the cell in the low
//! bits: with one cell per gNB every NCI can be equal modulo K and land on one shard.

use std::fmt;
use std::hash::Hasher;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One replica's place among K: index `index` of `count` (`0 <= index < count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    /// This replica's ordinal (a StatefulSet pod's index).
    pub index: u32,
    /// How many replicas share the RAN.
    pub count: u32,
}

/// A shard that cannot be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// Not of the form `INDEX/COUNT`.
    #[error("a shard is written INDEX/COUNT (e.g. 0/3), got {0:?}")]
    Syntax(String),
    /// No replicas.
    #[error("a shard count must be at least 1")]
    ZeroCount,
    /// The index is not below the count.
    #[error("shard index {index} is not below the count {count} (indices run from 0)")]
    IndexOutOfRange {
        /// The index given.
        index: u32,
        /// The count given.
        count: u32,
    },
}

impl Shard {
    /// The one shard of an unsharded deployment.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`, checked.
    pub fn new(index: u32, count: u32) -> Result<Self, ShardError> {
        if count == 0 {
            return Err(ShardError::ZeroCount);
        }
        if index >= count {
            return Err(ShardError::IndexOutOfRange { index, count });
        }
        Ok(Self { index, count })
    }

    /// Checks a shard read from a file.
    pub fn validate(&self) -> Result<(), ShardError> {
        Self::new(self.index, self.count).map(|_| ())
    }

    /// Whether this replica owns `cell_id`.
    pub fn owns(&self, cell_id: &str) -> bool {
        owner_of(cell_id, self.count) == self.index
    }

    /// Whether this is the whole RAN (one replica).
    pub fn is_whole(&self) -> bool {
        self.count <= 1
    }
}

impl Default for Shard {
    fn default() -> Self {
        Self::WHOLE
    }
}

/// The ordinal of the replica owning `cell_id` among `count` (0 when `count` is 0 or 1).
pub fn owner_of(cell_id: &str, count: u32) -> u32 {
    if count <= 1 {
        return 0;
    }
    let mut h = fnv::FnvHasher::default();
    h.write(cell_id.as_bytes());
    (h.finish() % u64::from(count)) as u32
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (i, k) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| ShardError::Syntax(s.to_owned()))?;
        let parse = |v: &str| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| ShardError::Syntax(s.to_owned()))
        };
        Self::new(parse(i)?, parse(k)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fnv1a_64() {
        // Published FNV-1a 64 test vectors (draft-eastlake-fnv): "" and "a".
        let fnv = |s: &str| {
            let mut h = fnv::FnvHasher::default();
            h.write(s.as_bytes());
            h.finish()
        };
        assert_eq!(fnv(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn every_cell_has_exactly_one_owner_and_cells_spread() {
        let cells: Vec<String> = (1..=900).map(|n| format!("001-01-{n:010x}")).collect();
        for count in [1u32, 3, 4] {
            let mut per_shard = vec![0u32; count as usize];
            for c in &cells {
                let owners: Vec<u32> = (0..count)
                    .filter(|&i| Shard::new(i, count).is_ok_and(|s| s.owns(c)))
                    .collect();
                assert_eq!(owners.len(), 1, "{c} owned by {owners:?} of {count}");
                per_shard[owners[0] as usize] += 1;
            }
            let fair = 900 / count;
            for n in per_shard {
                assert!(n > fair * 3 / 4 && n < fair * 5 / 4, "{count} shards: {n}");
            }
        }
    }

    #[test]
    fn one_cell_per_gnb_does_not_land_on_one_shard() {
        // NCI = gNB id << 4 | cell 1: every NCI is 1 mod 4, yet the owners differ.
        let owners: std::collections::BTreeSet<u32> = (1..=40u64)
            .map(|g| owner_of(&format!("001-01-{:09x}", (g << 4) | 1), 4))
            .collect();
        assert_eq!(owners.len(), 4);
    }

    #[test]
    fn shards_parse_and_refuse_nonsense() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(Shard::new(2, 3).map(|s| s.to_string()), Ok("2/3".into()));
        assert_eq!(
            "3/3".parse::<Shard>(),
            Err(ShardError::IndexOutOfRange { index: 3, count: 3 })
        );
        assert_eq!("0/0".parse::<Shard>(), Err(ShardError::ZeroCount));
        assert!(matches!("2".parse::<Shard>(), Err(ShardError::Syntax(_))));
        assert!(matches!("a/3".parse::<Shard>(), Err(ShardError::Syntax(_))));
        assert!(Shard::WHOLE.owns("anything") && Shard::WHOLE.is_whole());
    }
}
