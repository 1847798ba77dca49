//! The durable policy store: A1 policies and their last status in an embedded redb database.
//!
//! Every write is committed with `Durability::Immediate` (fsync) before the caller sees
//! success, so a PUT that returned 2xx survives a crash. Writes go through one writer thread
//! that **group-commits**: it takes every request waiting in its queue (up to
//! [`MAX_BATCH`] operations), applies them in arrival order in one redb transaction, commits
//! once, then answers each caller. Under concurrent PUTs one fsync serves many of them instead
//! of each PUT queueing behind the previous one's fsync; a lone PUT costs what it did before.
//! An in-memory mirror serves reads (the controller reads on every report period without
//! touching the disk); it changes only after the batch that changes it is on disk.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use maestro_api::a1::PolicyStatus;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

/// `"{policy type}/{policy id}"` -> JSON of [`StoredPolicy`].
const POLICIES: TableDefinition<&str, &[u8]> = TableDefinition::new("a1_policies");

/// Most operations one group commit takes from the queue.
pub const MAX_BATCH: usize = 1024;

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

/// One write asked of the writer thread.
#[derive(Debug)]
enum Op {
    Put(StoredPolicy),
    Delete(PolicyKey),
    SetStatus(PolicyKey, PolicyStatus),
}

/// What one [`Op`] did.
#[derive(Debug)]
enum Done {
    Put(PutOutcome),
    /// The removed policy, if it existed.
    Delete(Option<StoredPolicy>),
    /// The updated policy, if it existed and its status changed.
    SetStatus(Option<StoredPolicy>),
}

/// Operations of one caller, answered together once committed (or all failed).
struct Request {
    ops: Vec<Op>,
    reply: mpsc::SyncSender<Result<Vec<Done>, String>>,
}

type Mirror = Arc<RwLock<BTreeMap<PolicyKey, StoredPolicy>>>;

/// The writer thread's queue; dropping the last handle stops the thread and waits for it, so
/// the database file is closed when the last [`PolicyStore`] clone is gone.
struct Writer {
    queue: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
    /// Transactions committed so far (each may carry many requests).
    commits: Arc<AtomicU64>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.queue.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The policy store; cheap to clone.
#[derive(Clone)]
pub struct PolicyStore {
    mirror: Mirror,
    writer: Arc<Writer>,
}

impl std::fmt::Debug for PolicyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyStore").finish_non_exhaustive()
    }
}

impl PolicyStore {
    /// Opens (or creates) `dir/policies.redb`, loads every policy into the mirror and starts
    /// the writer thread.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Db(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("policies.redb");
        let db = Database::create(&path)
            .map_err(|e| StoreError::Db(format!("cannot open {}: {e}", path.display())))?;
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(POLICIES).map_err(db_err)?;
        txn.commit().map_err(db_err)?;

        let mut loaded = BTreeMap::new();
        {
            let read = db.begin_read().map_err(db_err)?;
            let table = read.open_table(POLICIES).map_err(db_err)?;
            for row in table.iter().map_err(db_err)? {
                let (k, v) = row.map_err(db_err)?;
                let policy: StoredPolicy =
                    serde_json::from_slice(v.value()).map_err(|source| StoreError::Corrupt {
                        key: k.value().to_owned(),
                        source,
                    })?;
                loaded.insert(policy.key(), policy);
            }
        }
        let mirror: Mirror = Arc::new(RwLock::new(loaded));
        let (queue, requests) = mpsc::channel();
        let commits = Arc::new(AtomicU64::new(0));
        let thread = {
            let (mirror, commits) = (Arc::clone(&mirror), Arc::clone(&commits));
            std::thread::Builder::new()
                .name("policy-store".into())
                .spawn(move || group_commit_loop(&db, &mirror, &requests, &commits))
                .map_err(|e| StoreError::Db(format!("cannot start the writer thread: {e}")))?
        };
        Ok(Self {
            mirror,
            writer: Arc::new(Writer {
                queue: Some(queue),
                thread: Some(thread),
                commits,
            }),
        })
    }

    /// Hands operations to the writer thread and waits until they are on disk.
    fn submit(&self, ops: Vec<Op>) -> Result<Vec<Done>, StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let stopped = || StoreError::Db("the writer thread has stopped".into());
        self.writer
            .queue
            .as_ref()
            .ok_or_else(stopped)?
            .send(Request { ops, reply })
            .map_err(|_| stopped())?;
        answer
            .recv()
            .map_err(|_| stopped())?
            .map_err(StoreError::Db)
    }

    fn submit_one(&self, op: Op) -> Result<Done, StoreError> {
        self.submit(vec![op])?
            .pop()
            .ok_or_else(|| StoreError::Db("the writer thread answered nothing".into()))
    }

    /// Inserts or replaces a policy; returns once it is committed to disk.
    pub fn put(&self, policy: StoredPolicy) -> Result<PutOutcome, StoreError> {
        match self.submit_one(Op::Put(policy))? {
            Done::Put(outcome) => Ok(outcome),
            other => Err(mismatch(&other)),
        }
    }

    /// Removes a policy; `Ok(None)` when it did not exist.
    pub fn delete(&self, key: &PolicyKey) -> Result<Option<StoredPolicy>, StoreError> {
        if !self.mirror_read().contains_key(key) {
            return Ok(None);
        }
        match self.submit_one(Op::Delete(key.clone()))? {
            Done::Delete(removed) => Ok(removed),
            other => Err(mismatch(&other)),
        }
    }

    /// Records a new status for a policy, if it still exists and the status changed.
    /// Returns the updated policy when it changed.
    pub fn set_status(
        &self,
        key: &PolicyKey,
        status: PolicyStatus,
    ) -> Result<Option<StoredPolicy>, StoreError> {
        Ok(self
            .set_statuses(vec![(key.clone(), status)])?
            .into_iter()
            .next())
    }

    /// Records several statuses in one commit; returns the policies whose status changed.
    pub fn set_statuses(
        &self,
        statuses: Vec<(PolicyKey, PolicyStatus)>,
    ) -> Result<Vec<StoredPolicy>, StoreError> {
        if statuses.is_empty() {
            return Ok(Vec::new());
        }
        let ops = statuses
            .into_iter()
            .map(|(k, s)| Op::SetStatus(k, s))
            .collect();
        let mut changed = Vec::new();
        for done in self.submit(ops)? {
            match done {
                Done::SetStatus(Some(p)) => changed.push(p),
                Done::SetStatus(None) => {}
                other => return Err(mismatch(&other)),
            }
        }
        Ok(changed)
    }

    /// Disk transactions committed since open; fewer than the writes when group commit
    /// merged concurrent ones.
    pub fn commits(&self) -> u64 {
        self.writer.commits.load(Ordering::Relaxed)
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

    fn mirror_read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<PolicyKey, StoredPolicy>> {
        read_mirror(&self.mirror)
    }
}

fn mismatch(done: &Done) -> StoreError {
    StoreError::Db(format!(
        "the writer thread answered the wrong operation: {done:?}"
    ))
}

fn read_mirror(
    mirror: &Mirror,
) -> std::sync::RwLockReadGuard<'_, BTreeMap<PolicyKey, StoredPolicy>> {
    mirror
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The writer thread: waits for a request, takes every other one already queued (up to
/// [`MAX_BATCH`] operations), commits them together and answers each. Ends when every
/// [`PolicyStore`] handle is gone.
fn group_commit_loop(
    db: &Database,
    mirror: &Mirror,
    requests: &mpsc::Receiver<Request>,
    commits: &AtomicU64,
) {
    while let Ok(first) = requests.recv() {
        let mut batch = vec![first];
        let mut ops = batch[0].ops.len();
        while ops < MAX_BATCH {
            match requests.try_recv() {
                Ok(next) => {
                    ops += next.ops.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        if commit_batch(db, mirror, batch) {
            commits.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Applies a batch in arrival order against the mirror plus the batch's own earlier writes,
/// writes the resulting rows in one transaction, and only after the commit updates the mirror
/// and answers. A failed commit fails every request of the batch and changes nothing.
/// Returns whether a transaction was committed.
fn commit_batch(db: &Database, mirror: &Mirror, batch: Vec<Request>) -> bool {
    // key -> the row after this batch (None: deleted).
    let mut rows: BTreeMap<PolicyKey, Option<StoredPolicy>> = BTreeMap::new();
    let mut answers = Vec::with_capacity(batch.len());
    {
        let current = read_mirror(mirror);
        let now = |rows: &BTreeMap<PolicyKey, Option<StoredPolicy>>, key: &PolicyKey| match rows
            .get(key)
        {
            Some(row) => row.clone(),
            None => current.get(key).cloned(),
        };
        for request in &batch {
            let mut done = Vec::with_capacity(request.ops.len());
            for op in &request.ops {
                done.push(match op {
                    Op::Put(policy) => {
                        let key = policy.key();
                        let existed = now(&rows, &key).is_some();
                        rows.insert(key, Some(policy.clone()));
                        Done::Put(if existed {
                            PutOutcome::Updated
                        } else {
                            PutOutcome::Created
                        })
                    }
                    Op::Delete(key) => {
                        let old = now(&rows, key);
                        if old.is_some() {
                            rows.insert(key.clone(), None);
                        }
                        Done::Delete(old)
                    }
                    Op::SetStatus(key, status) => match now(&rows, key) {
                        Some(mut policy) if policy.status != *status => {
                            policy.status = status.clone();
                            rows.insert(key.clone(), Some(policy.clone()));
                            Done::SetStatus(Some(policy))
                        }
                        _ => Done::SetStatus(None),
                    },
                });
            }
            answers.push(done);
        }
    }
    let wrote = !rows.is_empty();
    let committed = if wrote { write_rows(db, &rows) } else { Ok(()) };
    match committed {
        Ok(()) => {
            {
                let mut m = mirror
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                for (key, row) in rows {
                    match row {
                        Some(policy) => m.insert(key, policy),
                        None => m.remove(&key),
                    };
                }
            }
            for (request, done) in batch.into_iter().zip(answers) {
                let _ = request.reply.send(Ok(done));
            }
            wrote
        }
        Err(e) => {
            tracing::error!(error = %e, requests = batch.len(), "policy store commit failed");
            for request in batch {
                let _ = request.reply.send(Err(e.to_string()));
            }
            false
        }
    }
}

/// One redb transaction holding every row of a batch, committed with fsync.
fn write_rows(
    db: &Database,
    rows: &BTreeMap<PolicyKey, Option<StoredPolicy>>,
) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(db_err)?;
    {
        let mut table = txn.open_table(POLICIES).map_err(db_err)?;
        for (key, row) in rows {
            match row {
                Some(policy) => {
                    let bytes = serde_json::to_vec(policy).map_err(db_err)?;
                    table
                        .insert(key.db_key().as_str(), bytes.as_slice())
                        .map_err(db_err)?;
                }
                None => {
                    table.remove(key.db_key().as_str()).map_err(db_err)?;
                }
            }
        }
    }
    txn.commit().map_err(db_err)
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

    #[test]
    fn queued_requests_are_committed_together_in_arrival_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("policies.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(POLICIES).unwrap();
        txn.commit().unwrap();
        let mirror: Mirror = Arc::new(RwLock::new(BTreeMap::new()));
        let (queue, requests) = mpsc::channel();
        let mut answers = Vec::new();
        let mut ask = |ops: Vec<Op>| {
            let (reply, answer) = mpsc::sync_channel(1);
            queue.send(Request { ops, reply }).unwrap();
            answers.push(answer);
        };
        let key = |id: &str| PolicyKey::new("T", id);
        ask(vec![Op::Put(policy("a", 1.0))]);
        ask(vec![Op::Put(policy("a", 2.0))]);
        ask(vec![
            Op::SetStatus(
                key("a"),
                PolicyStatus::not_enforced(EnforceReason::OtherReason),
            ),
            Op::SetStatus(
                key("a"),
                PolicyStatus::not_enforced(EnforceReason::OtherReason),
            ),
            Op::SetStatus(key("zz"), PolicyStatus::enforced()),
        ]);
        ask(vec![Op::Put(policy("b", 3.0))]);
        ask(vec![Op::Delete(key("b"))]);
        ask(vec![Op::Delete(key("b"))]);
        ask(vec![Op::Put(policy("c", 4.0))]);
        drop(queue);
        let commits = AtomicU64::new(0);
        // Everything was queued before the loop started: one batch, one transaction.
        group_commit_loop(&db, &mirror, &requests, &commits);
        assert_eq!(commits.load(Ordering::Relaxed), 1);

        let got: Vec<Vec<Done>> = answers
            .into_iter()
            .map(|a| a.recv().unwrap().unwrap())
            .collect();
        assert!(matches!(got[0][..], [Done::Put(PutOutcome::Created)]));
        assert!(matches!(got[1][..], [Done::Put(PutOutcome::Updated)]));
        match &got[2][..] {
            [Done::SetStatus(Some(p)), Done::SetStatus(None), Done::SetStatus(None)] => {
                // The status applies to the statement the earlier request of the batch wrote.
                assert_eq!(p.statement["kbps"], 2.0);
                assert_eq!(p.status.enforce_reason, Some(EnforceReason::OtherReason));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(got[3][..], [Done::Put(PutOutcome::Created)]));
        assert!(matches!(&got[4][..], [Done::Delete(Some(p))] if p.policy_id == "b"));
        assert!(matches!(got[5][..], [Done::Delete(None)]));
        assert!(matches!(got[6][..], [Done::Put(PutOutcome::Created)]));

        let ids: Vec<String> = mirror
            .read()
            .unwrap()
            .keys()
            .map(|k| k.policy_id.clone())
            .collect();
        assert_eq!(ids, vec!["a", "c"]);
        drop(db);
        let reopened = PolicyStore::open(dir.path()).unwrap();
        assert_eq!(reopened.ids_of_type("T"), vec!["a", "c"]);
        let a = reopened.get(&key("a")).unwrap();
        assert_eq!(a.statement["kbps"], 2.0);
        assert_eq!(a.status.enforce_reason, Some(EnforceReason::OtherReason));
    }

    #[test]
    fn concurrent_puts_from_many_threads_all_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = PolicyStore::open(dir.path()).unwrap();
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        let id = format!("t{t:02}-{i:02}");
                        assert_eq!(
                            store.put(policy(&id, f64::from(i))).unwrap(),
                            PutOutcome::Created
                        );
                        assert_eq!(
                            store.put(policy(&id, f64::from(i + 100))).unwrap(),
                            PutOutcome::Updated
                        );
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(store.commits() >= 1);
        drop(store);
        let reopened = PolicyStore::open(dir.path()).unwrap();
        let all = reopened.all();
        assert_eq!(all.len(), 400);
        for p in all {
            let i: f64 = p.policy_id[4..].parse().unwrap();
            assert_eq!(p.statement["kbps"], i + 100.0, "{}", p.policy_id);
        }
    }
}
