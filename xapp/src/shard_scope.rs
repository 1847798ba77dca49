//! What this xApp replica serves of a sharded RAN: its [`Shard`] (the rule is
//! [`maestro_api::shard`]: FNV-1a-64 of the cell id mod K) beside the cells of the configured
//! RAN, to say which cells it owns, which shard owns a cell it does not, and to read a
//! StatefulSet pod's shard from its environment ([`shard_of_pod`]).
//!
//! The filter itself is applied where the cells are built: the emulated gNB starts only the
//! cells its shard owns (`EmulatedGnb::start_shard`, from `e2::start`).

use maestro_api::shard::{owner_of, Shard, ShardError};

use crate::cell_scope::NrCgi;

/// How many cell ids a log line or a message names before it only counts.
pub const CELLS_NAMED: usize = 8;

/// This replica's shard and the RAN it is a shard of.
#[derive(Debug, Clone, Default)]
pub struct ShardScope {
    shard: Shard,
    /// The cells of the configured RAN, as configured (empty when the backend discovers its
    /// cells, or was built by the caller).
    ran: Vec<String>,
}

impl ShardScope {
    /// Shard `shard` of the RAN whose configured cells are `ran`.
    pub fn new(shard: Shard, ran: Vec<String>) -> Self {
        Self { shard, ran }
    }

    /// This replica's shard.
    pub fn shard(&self) -> Shard {
        self.shard
    }

    /// The configured cells this shard owns, in configured order.
    pub fn owned_cells(&self) -> Vec<String> {
        self.ran
            .iter()
            .filter(|c| self.shard.owns(c))
            .cloned()
            .collect()
    }

    /// Whether the RAN is configured and this shard owns none of its cells (it starts, serves
    /// no cell, and is ready without an E2 report).
    pub fn owns_no_configured_cell(&self) -> bool {
        !self.ran.is_empty() && self.owned_cells().is_empty()
    }

    /// When `cell` is a cell of the configured RAN that another shard owns: its id and that
    /// shard.
    pub fn other_owner(&self, cell: &NrCgi) -> Option<(String, Shard)> {
        let id = self
            .ran
            .iter()
            .find(|id| NrCgi::parse(id).as_ref() == Some(cell))?;
        let owner = owner_of(id, self.shard.count);
        (owner != self.shard.index).then(|| {
            (
                id.clone(),
                Shard {
                    index: owner,
                    count: self.shard.count,
                },
            )
        })
    }

    /// Why this replica does not serve `cell`, when another shard does: e.g. `cell
    /// 001-01-0000000004 is served by shard 2/3, not this one (0/3)`.
    pub fn served_elsewhere(&self, cell: &NrCgi) -> Option<String> {
        self.other_owner(cell).map(|(id, owner)| {
            format!(
                "cell {id} is served by shard {owner}, not this one ({})",
                self.shard
            )
        })
    }
}

/// `cells` for a log line: the first [`CELLS_NAMED`] ids, then how many more.
pub fn name_cells(cells: &[String]) -> String {
    let shown: Vec<&str> = cells.iter().take(CELLS_NAMED).map(String::as_str).collect();
    match cells.len().saturating_sub(CELLS_NAMED) {
        0 => shown.join(", "),
        more => format!("{}, ... ({more} more)", shown.join(", ")),
    }
}

/// Why a pod's shard cannot be read from its environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PodShardError {
    /// One of the two variables without the other.
    #[error("{set} is set but {missing} is not: a pod's shard needs both")]
    Half {
        /// The variable that is set.
        set: &'static str,
        /// The one that is not.
        missing: &'static str,
    },
    /// The index is neither a number nor a name ending in `-N`.
    #[error("MAESTRO_SHARD_INDEX {0:?} is neither an ordinal (2) nor a pod name ending in one (maestro-xapp-2)")]
    Index(String),
    /// The count is not a number.
    #[error("MAESTRO_SHARD_COUNT {0:?} is not a number of replicas")]
    Count(String),
    /// The two do not make a shard.
    #[error("MAESTRO_SHARD_INDEX/MAESTRO_SHARD_COUNT: {0}")]
    Shard(#[from] ShardError),
}

/// The shard of a StatefulSet pod from `MAESTRO_SHARD_INDEX` (its ordinal: the downward API
/// label `apps.kubernetes.io/pod-index`, or the pod name, whose trailing `-N` is read) and
/// `MAESTRO_SHARD_COUNT` (the replicas); `None` when neither is set.
pub fn shard_of_pod(
    index: Option<&str>,
    count: Option<&str>,
) -> Result<Option<Shard>, PodShardError> {
    const INDEX: &str = "MAESTRO_SHARD_INDEX";
    const COUNT: &str = "MAESTRO_SHARD_COUNT";
    let (index, count) = match (index, count) {
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err(PodShardError::Half {
                set: INDEX,
                missing: COUNT,
            })
        }
        (None, Some(_)) => {
            return Err(PodShardError::Half {
                set: COUNT,
                missing: INDEX,
            })
        }
        (Some(i), Some(k)) => (i.trim(), k.trim()),
    };
    let ordinal = index.rsplit('-').next().unwrap_or(index);
    let index_n = ordinal
        .parse::<u32>()
        .map_err(|_| PodShardError::Index(index.to_owned()))?;
    let count_n = count
        .parse::<u32>()
        .map_err(|_| PodShardError::Count(count.to_owned()))?;
    Ok(Some(Shard::new(index_n, count_n)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nine() -> Vec<String> {
        (1..=9).map(|n| format!("001-01-{n:010x}")).collect()
    }

    #[test]
    fn three_shards_own_the_nine_cells_once_and_name_the_owner_of_the_others() {
        let scopes: Vec<ShardScope> = (0..3)
            .map(|i| ShardScope::new(Shard::new(i, 3).unwrap(), nine()))
            .collect();
        let mut all: Vec<String> = scopes.iter().flat_map(|s| s.owned_cells()).collect();
        all.sort();
        assert_eq!(all, nine());
        for cell in nine() {
            let cgi = NrCgi::parse(&cell).unwrap();
            let owner = owner_of(&cell, 3);
            for s in &scopes {
                let msg = s.served_elsewhere(&cgi);
                if s.shard().index == owner {
                    assert_eq!(msg, None);
                } else {
                    let msg = msg.unwrap();
                    assert_eq!(
                        msg,
                        format!(
                            "cell {cell} is served by shard {owner}/3, not this one ({})",
                            s.shard()
                        )
                    );
                }
            }
        }
        let outside = NrCgi::parse("001-01-00000000ff").unwrap();
        assert!(scopes.iter().all(|s| s.other_owner(&outside).is_none()));
    }

    #[test]
    fn an_empty_shard_is_told_apart_from_an_unconfigured_ran() {
        let one = vec!["001-01-0000000001".to_owned()];
        let owner = owner_of(&one[0], 2);
        let empty = ShardScope::new(Shard::new(1 - owner, 2).unwrap(), one.clone());
        assert!(empty.owns_no_configured_cell());
        assert!(!ShardScope::new(Shard::new(owner, 2).unwrap(), one).owns_no_configured_cell());
        assert!(!ShardScope::new(Shard::new(0, 2).unwrap(), vec![]).owns_no_configured_cell());
    }

    #[test]
    fn cells_are_named_up_to_a_bound() {
        assert_eq!(
            name_cells(&nine()[..2]),
            "001-01-0000000001, 001-01-0000000002"
        );
        let many: Vec<String> = (0..20).map(|n| format!("c{n}")).collect();
        assert_eq!(
            name_cells(&many),
            "c0, c1, c2, c3, c4, c5, c6, c7, ... (12 more)"
        );
        assert_eq!(name_cells(&[]), "");
    }

    #[test]
    fn a_pod_reads_its_shard_from_its_ordinal_or_its_name() {
        let s = |i, k| shard_of_pod(i, k);
        assert_eq!(s(None, None), Ok(None));
        assert_eq!(s(Some("2"), Some("4")), Ok(Some(Shard::new(2, 4).unwrap())));
        assert_eq!(
            s(Some("demo-maestro-xapp-3"), Some("4")),
            Ok(Some(Shard::new(3, 4).unwrap()))
        );
        assert!(matches!(
            s(Some("2"), None),
            Err(PodShardError::Half { .. })
        ));
        assert!(matches!(
            s(None, Some("4")),
            Err(PodShardError::Half { .. })
        ));
        assert!(matches!(
            s(Some("x"), Some("4")),
            Err(PodShardError::Index(_))
        ));
        assert!(matches!(
            s(Some("1"), Some("four")),
            Err(PodShardError::Count(_))
        ));
        let err = s(Some("4"), Some("4")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "MAESTRO_SHARD_INDEX/MAESTRO_SHARD_COUNT: shard index 4 is not below the count 4 (indices run from 0)"
        );
    }
}
