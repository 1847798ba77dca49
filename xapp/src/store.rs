//! The durable policy store: A1 policies and their last status in an embedded redb database.
//!
//! Every write is one redb transaction committed with `Durability::Immediate` (fsync) before
//! the caller sees success, so a PUT that returned 2xx survives a crash. An in-memory mirror
//! serves reads (the controller reads on every report period without touching the disk).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use maestro_api::a1::PolicyStatus;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

/// `"{policy type}/{policy id}"` -> JSON of [`StoredPolicy`].
const POLICIES: TableDefinition<&str, &[u8]> = TableDefinition::new("a1_policies");

/// A policy as kept by the xApp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPolicy {
    /// Policy type id.
    pub policy_type: String,
    /// Policy id.
    pub policy_id: String,
    /// The statement, as validated against the type's schema.
    pub statement: serde_json::Value,
    /// Where status changes are POSTed, if the client gave one.
    pub notification_destination: Option<String>,
    /// Last status computed by the controller.
    pub status: PolicyStatus,
}

impl StoredPolicy {
    /// Store key of this policy.
    pub fn key(&self) -> PolicyKey {
        PolicyKey::new(&self.policy_type, &self.policy_id)
    }
}

/// Identifies a policy: its type and id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PolicyKey {
    /// Policy type id.
    pub policy_type: String,
    /// Policy id.
    pub policy_id: String,
}

impl PolicyKey {
    /// A key.
    pub fn new(policy_type: &str, policy_id: &str) -> Self {
        Self {
            policy_type: policy_type.to_owned(),
            policy_id: policy_id.to_owned(),
        }
    }

    fn db_key(&self) -> String {
        format!("{}/{}", self.policy_type, self.policy_id)
    }
}

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("policy store: {0}")]
    Db(String),
    /// A stored record is not valid JSON (corruption or a foreign writer).
    #[error("policy store record {key} is corrupt: {source}")]
    Corrupt {
        /// Record key.
        key: String,
        /// Decoder error.
        source: serde_json::Error,
    },
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(e.to_string())
}

/// Whether a put created a policy or replaced one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// It did not exist before.
    Created,
    /// It replaced an existing policy.
    Updated,
}

/// The policy store; cheap to clone.
#[derive(Clone)]
pub struct PolicyStore {
    db: Arc<Database>,
    mirror: Arc<RwLock<BTreeMap<PolicyKey, StoredPolicy>>>,
    /// Held across every read-modify-write (disk commit and mirror update together), so a
    /// status update from the control loop can never write back a statement that a
    /// concurrent PUT has just replaced.
    writer: Arc<Mutex<()>>,
}

impl std::fmt::Debug for PolicyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyStore").finish_non_exhaustive()
    }
}

impl PolicyStore {
    /// Opens (or creates) `dir/policies.redb` and loads every policy into the mirror.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Db(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("policies.redb");
        let db = Database::create(&path)
            .map_err(|e| StoreError::Db(format!("cannot open {}: {e}", path.display())))?;
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(POLICIES).map_err(db_err)?;
        txn.commit().map_err(db_err)?;

        let mut mirror = BTreeMap::new();
        let read = db.begin_read().map_err(db_err)?;
        let table = read.open_table(POLICIES).map_err(db_err)?;
        for row in table.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            let policy: StoredPolicy =
                serde_json::from_slice(v.value()).map_err(|source| StoreError::Corrupt {
                    key: k.value().to_owned(),
                    source,
                })?;
            mirror.insert(policy.key(), policy);
        }
        Ok(Self {
            db: Arc::new(db),
            mirror: Arc::new(RwLock::new(mirror)),
            writer: Arc::new(Mutex::new(())),
        })
    }

    fn write(&self, key: &PolicyKey, value: Option<&StoredPolicy>) -> Result<bool, StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        let existed = {
            let mut table = txn.open_table(POLICIES).map_err(db_err)?;
            match value {
                Some(p) => {
                    let bytes = serde_json::to_vec(p).map_err(db_err)?;
                    table
                        .insert(key.db_key().as_str(), bytes.as_slice())
                        .map_err(db_err)?
                        .is_some()
                }
                None => table
                    .remove(key.db_key().as_str())
                    .map_err(db_err)?
                    .is_some(),
            }
        };
        txn.commit().map_err(db_err)?;
        Ok(existed)
    }

    /// Inserts or replaces a policy; returns once it is committed to disk.
    pub fn put(&self, policy: StoredPolicy) -> Result<PutOutcome, StoreError> {
        let key = policy.key();
        let _writing = self.writing();
        let existed = self.write(&key, Some(&policy))?;
        self.mirror_mut().insert(key, policy);
        Ok(if existed {
            PutOutcome::Updated
        } else {
            PutOutcome::Created
        })
    }

    /// Removes a policy; `Ok(None)` when it did not exist.
    pub fn delete(&self, key: &PolicyKey) -> Result<Option<StoredPolicy>, StoreError> {
        let _writing = self.writing();
        if !self.mirror_read().contains_key(key) {
            return Ok(None);
        }
        self.write(key, None)?;
        Ok(self.mirror_mut().remove(key))
    }

    /// Records a new status for a policy, if it still exists and the status changed.
    /// Returns the updated policy when it changed.
    pub fn set_status(
        &self,
        key: &PolicyKey,
        status: PolicyStatus,
    ) -> Result<Option<StoredPolicy>, StoreError> {
        let _writing = self.writing();
        let Some(mut policy) = self.get(key) else {
            return Ok(None);
        };
        if policy.status == status {
            return Ok(None);
        }
        policy.status = status;
        self.write(key, Some(&policy))?;
        self.mirror_mut().insert(key.clone(), policy.clone());
        Ok(Some(policy))
    }

    /// One policy.
    pub fn get(&self, key: &PolicyKey) -> Option<StoredPolicy> {
        self.mirror_read().get(key).cloned()
    }

    /// All policies, ordered by type then id.
    pub fn all(&self) -> Vec<StoredPolicy> {
        self.mirror_read().values().cloned().collect()
    }

    /// Ids of the policies of one type.
    pub fn ids_of_type(&self, policy_type: &str) -> Vec<String> {
        self.mirror_read()
            .keys()
            .filter(|k| k.policy_type == policy_type)
            .map(|k| k.policy_id.clone())
            .collect()
    }

    fn writing(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn mirror_read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<PolicyKey, StoredPolicy>> {
        self.mirror
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn mirror_mut(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<PolicyKey, StoredPolicy>> {
        self.mirror
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maestro_api::a1::EnforceReason;

    fn policy(id: &str, kbps: f64) -> StoredPolicy {
        StoredPolicy {
            policy_type: "T".into(),
            policy_id: id.into(),
            statement: serde_json::json!({"kbps": kbps}),
            notification_destination: None,
            status: PolicyStatus::enforced(),
        }
    }

    #[test]
    fn put_get_delete_and_reload_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = PolicyStore::open(dir.path()).unwrap();
            assert_eq!(store.put(policy("a", 1.0)).unwrap(), PutOutcome::Created);
            assert_eq!(store.put(policy("a", 2.0)).unwrap(), PutOutcome::Updated);
            store.put(policy("b", 3.0)).unwrap();
            let key_b = PolicyKey::new("T", "b");
            let changed = store
                .set_status(
                    &key_b,
                    PolicyStatus::not_enforced(EnforceReason::StatementNotApplicable),
                )
                .unwrap();
            assert!(changed.is_some());
            assert!(store
                .set_status(
                    &key_b,
                    PolicyStatus::not_enforced(EnforceReason::StatementNotApplicable)
                )
                .unwrap()
                .is_none());
            store.put(policy("c", 4.0)).unwrap();
            assert!(store.delete(&PolicyKey::new("T", "c")).unwrap().is_some());
            assert!(store.delete(&PolicyKey::new("T", "c")).unwrap().is_none());
        }
        let store = PolicyStore::open(dir.path()).unwrap();
        assert_eq!(store.ids_of_type("T"), vec!["a", "b"]);
        let a = store.get(&PolicyKey::new("T", "a")).unwrap();
        assert_eq!(a.statement["kbps"], 2.0);
        let b = store.get(&PolicyKey::new("T", "b")).unwrap();
        assert_eq!(
            b.status.enforce_reason,
            Some(EnforceReason::StatementNotApplicable)
        );
    }

    #[test]
    fn status_updates_never_undo_a_concurrent_put() {
        let dir = tempfile::tempdir().unwrap();
        let store = PolicyStore::open(dir.path()).unwrap();
        store.put(policy("p", 0.0)).unwrap();
        let key = PolicyKey::new("T", "p");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let statuses = {
            let (store, key, stop) = (store.clone(), key.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut flip = false;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    flip = !flip;
                    let status = if flip {
                        PolicyStatus::not_enforced(EnforceReason::OtherReason)
                    } else {
                        PolicyStatus::enforced()
                    };
                    store.set_status(&key, status).unwrap();
                }
            })
        };
        for kbps in 1..=300 {
            store.put(policy("p", f64::from(kbps))).unwrap();
            // What a PUT committed stays, whatever the control loop records meanwhile.
            assert_eq!(store.get(&key).unwrap().statement["kbps"], f64::from(kbps));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        statuses.join().unwrap();
        assert_eq!(store.get(&key).unwrap().statement["kbps"], 300.0);
        drop(store);
        let reopened = PolicyStore::open(dir.path()).unwrap();
        assert_eq!(reopened.get(&key).unwrap().statement["kbps"], 300.0);
    }
}
