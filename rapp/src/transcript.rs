//! Negotiation transcripts, kept in an embedded redb database and retrievable by negotiation
//! id.
//!
//! A [`Transcript`] is everything needed to replay or audit one negotiation: the topic, the
//! agents and the configuration it ran with, and the serialized
//! [`NegotiationOutcome`] — every round's intents, each agent's turn record with the LLM's raw
//! answers, the validation unit's notes, the arbitral unit's verdicts, and the timings.
//!
//! The store is one file, `dir/transcripts.redb`, with two tables written together in one
//! write transaction: the full transcript as JSON, and a small [`TranscriptSummary`] so that
//! [`TranscriptStore::list`] does not decode every round of every negotiation. redb commits
//! with immediate durability (fsync) by default, so a [`TranscriptStore::save`] that returned
//! `Ok` survives a crash.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::negotiation::{AgentSpec, NegotiationConfig, NegotiationOutcome};

/// Negotiation id -> JSON of [`Transcript`].
const TRANSCRIPTS: TableDefinition<&str, &[u8]> = TableDefinition::new("transcripts");
/// Negotiation id -> JSON of [`TranscriptSummary`].
const SUMMARIES: TableDefinition<&str, &[u8]> = TableDefinition::new("transcript_summaries");

/// Longest accepted negotiation id, in characters.
pub const MAX_ID_LEN: usize = 128;

/// One negotiation, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transcript {
    /// Negotiation id (see [`new_id`]; 1..=128 characters of `[A-Za-z0-9._~-]`).
    pub id: String,
    /// When the negotiation started, ms since the Unix epoch.
    pub started_unix_ms: u64,
    /// Its topic.
    pub topic: String,
    /// The agents that negotiated.
    pub agents: Vec<AgentSpec>,
    /// The configuration it ran with.
    pub config: NegotiationConfig,
    /// What happened, round by round.
    pub outcome: NegotiationOutcome,
}

impl Transcript {
    /// The transcript's summary, as [`TranscriptStore::list`] returns it.
    pub fn summary(&self) -> TranscriptSummary {
        TranscriptSummary {
            id: self.id.clone(),
            started_unix_ms: self.started_unix_ms,
            topic: self.topic.clone(),
            agents: self.agents.len(),
            rounds: self.outcome.rounds,
            converged: self.outcome.converged,
            consensus_mbps: self.outcome.consensus_mbps,
        }
    }
}

/// A line of the transcript list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptSummary {
    /// Negotiation id.
    pub id: String,
    /// When the negotiation started, ms since the Unix epoch.
    pub started_unix_ms: u64,
    /// Its topic.
    pub topic: String,
    /// Number of agents.
    pub agents: usize,
    /// Rounds after the opening.
    pub rounds: u32,
    /// Whether it reached consensus.
    pub converged: bool,
    /// The stake-weighted mean of the last round's demands, Mbps.
    pub consensus_mbps: f64,
}

/// Transcript store failures.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    /// The database could not be opened, read or written.
    #[error("transcript store: {0}")]
    Db(String),
    /// A stored record is not valid JSON (corruption, or a writer of another version).
    #[error("transcript {id} is corrupt: {source}")]
    Corrupt {
        /// Negotiation id of the record.
        id: String,
        /// Decoder error.
        source: serde_json::Error,
    },
    /// The negotiation id is empty, too long, or has characters outside `[A-Za-z0-9._~-]`.
    #[error(
        "bad negotiation id {0:?}: an id is 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', '~' \
         and '-'"
    )]
    BadId(String),
}

fn db_err(e: impl std::fmt::Display) -> TranscriptError {
    TranscriptError::Db(e.to_string())
}

/// Whether `id` is a usable negotiation id: 1..=128 characters of `[A-Za-z0-9._~-]` (the
/// characters a URL path segment carries unescaped).
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
}

fn check_id(id: &str) -> Result<(), TranscriptError> {
    if is_valid_id(id) {
        Ok(())
    } else {
        // Cut what goes into the message: a bad id may be arbitrarily long.
        Err(TranscriptError::BadId(id.chars().take(160).collect()))
    }
}

/// A fresh negotiation id, `neg-<unix ms>-<6 hex digits>`.
///
/// The hex part is a process-wide counter started at a random offset, so ids are unique
/// within a process (the counter would have to wrap 2^24 times within one millisecond to
/// repeat) and unlikely to collide across processes.
pub fn new_id() -> String {
    static OFFSET: OnceLock<u32> = OnceLock::new();
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let offset = *OFFSET.get_or_init(rand::random::<u32>);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_add(offset) & 0x00ff_ffff;
    format!("neg-{}-{n:06x}", unix_ms())
}

/// Now, ms since the Unix epoch (0 if the clock is before it).
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The transcript store; cheap to clone (clones share the database).
#[derive(Clone)]
pub struct TranscriptStore {
    db: Arc<Database>,
}

impl std::fmt::Debug for TranscriptStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TranscriptStore").finish_non_exhaustive()
    }
}

impl TranscriptStore {
    /// Opens (or creates) `dir/transcripts.redb`, creating `dir` if needed.
    pub fn open(dir: &Path) -> Result<Self, TranscriptError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| TranscriptError::Db(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("transcripts.redb");
        if !path.exists() {
            // A new store is built under a temporary name and renamed into place, so a process
            // killed while creating it leaves no half-written file that later opens refuse
            // ("not a redb database"); a stale temporary file is simply rebuilt.
            let creating = dir.join("transcripts.redb.creating");
            let _ = std::fs::remove_file(&creating);
            Self::create_tables(&creating)?;
            std::fs::rename(&creating, &path).map_err(|e| {
                TranscriptError::Db(format!("cannot create {}: {e}", path.display()))
            })?;
        }
        Ok(Self {
            db: Arc::new(Self::create_tables(&path)?),
        })
    }

    /// Opens or creates the database at `path` and makes sure both tables exist.
    fn create_tables(path: &Path) -> Result<Database, TranscriptError> {
        let db = Database::create(path)
            .map_err(|e| TranscriptError::Db(format!("cannot open {}: {e}", path.display())))?;
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(TRANSCRIPTS).map_err(db_err)?;
        txn.open_table(SUMMARIES).map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        Ok(db)
    }

    /// Stores a transcript under its id (replacing one with the same id), in one write
    /// transaction; returns once it is committed to disk.
    pub fn save(&self, t: &Transcript) -> Result<(), TranscriptError> {
        check_id(&t.id)?;
        let full = serde_json::to_vec(t).map_err(db_err)?;
        let summary = serde_json::to_vec(&t.summary()).map_err(db_err)?;
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = txn.open_table(TRANSCRIPTS).map_err(db_err)?;
            table
                .insert(t.id.as_str(), full.as_slice())
                .map_err(db_err)?;
            let mut table = txn.open_table(SUMMARIES).map_err(db_err)?;
            table
                .insert(t.id.as_str(), summary.as_slice())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    /// The transcript of negotiation `id`; `Ok(None)` when there is none.
    pub fn get(&self, id: &str) -> Result<Option<Transcript>, TranscriptError> {
        check_id(id)?;
        let read = self.db.begin_read().map_err(db_err)?;
        let table = read.open_table(TRANSCRIPTS).map_err(db_err)?;
        let Some(row) = table.get(id).map_err(db_err)? else {
            return Ok(None);
        };
        serde_json::from_slice(row.value())
            .map(Some)
            .map_err(|source| TranscriptError::Corrupt {
                id: id.to_owned(),
                source,
            })
    }

    /// Every stored negotiation, oldest first (ties by id).
    pub fn list(&self) -> Result<Vec<TranscriptSummary>, TranscriptError> {
        let read = self.db.begin_read().map_err(db_err)?;
        let table = read.open_table(SUMMARIES).map_err(db_err)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            let summary: TranscriptSummary =
                serde_json::from_slice(v.value()).map_err(|source| TranscriptError::Corrupt {
                    id: k.value().to_owned(),
                    source,
                })?;
            out.push(summary);
        }
        out.sort_by(|a, b| {
            a.started_unix_ms
                .cmp(&b.started_unix_ms)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::negotiation::{negotiate, PersonaNegotiator, Personality};

    #[test]
    fn a_store_left_half_created_by_a_killed_process_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        // What a kill during creation leaves: the temporary file, not a redb database.
        std::fs::write(dir.path().join("transcripts.redb.creating"), b"half").unwrap();
        let store = TranscriptStore::open(dir.path()).unwrap();
        assert!(store.list().unwrap().is_empty());
        assert!(!dir.path().join("transcripts.redb.creating").exists());
        drop(store);
        // Reopened: the same store.
        assert!(TranscriptStore::open(dir.path())
            .unwrap()
            .list()
            .unwrap()
            .is_empty());
    }

    fn agents(targets: &[f64]) -> Vec<AgentSpec> {
        targets
            .iter()
            .enumerate()
            .map(|(i, &t)| AgentSpec {
                id: format!("bo{i}"),
                business_intent: format!("We want {t} Mbps for our video slice."),
                target_mbps: t,
                weight: 1.0 + i as f64 * 0.5,
                personality: Personality::Normal,
                weight_above: None,
                utility: None,
            })
            .collect()
    }

    async fn run(
        id: &str,
        started_unix_ms: u64,
        cfg: NegotiationConfig,
        targets: &[f64],
    ) -> Transcript {
        let agents = agents(targets);
        let outcome = negotiate(&cfg, &agents, &PersonaNegotiator::new(1))
            .await
            .unwrap();
        Transcript {
            id: id.to_owned(),
            started_unix_ms,
            topic: cfg.topic.clone(),
            agents,
            config: cfg,
            outcome,
        }
    }

    /// Every f64 in a JSON tree, in document order, as bits.
    fn float_bits(v: &serde_json::Value, out: &mut Vec<u64>) {
        match v {
            serde_json::Value::Number(n) => {
                if let Some(f) = n.as_f64() {
                    out.push(f.to_bits());
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| float_bits(x, out)),
            serde_json::Value::Object(m) => m.values().for_each(|x| float_bits(x, out)),
            _ => {}
        }
    }

    #[tokio::test]
    async fn saves_reopens_gets_and_lists_real_negotiations() {
        let dir = tempfile::tempdir().unwrap();
        let store_dir = dir.path().join("nested/store");
        // Started later but saved first: the list must still be ordered by start time.
        let late = run(
            "neg-late",
            2_000,
            NegotiationConfig::default(),
            &[20.0, 60.0, 100.0],
        )
        .await;
        let capped = NegotiationConfig {
            max_rounds: 2,
            ..Default::default()
        };
        let early = run("neg-early.1", 1_000, capped, &[10.0, 190.0]).await;
        assert!(late.outcome.converged);
        assert_eq!(late.outcome.rounds, 4);
        assert!(!early.outcome.converged);
        assert_eq!(early.outcome.rounds, 2);
        {
            let store = TranscriptStore::open(&store_dir).unwrap();
            store.save(&late).unwrap();
            store.save(&early).unwrap();
        }
        assert!(store_dir.join("transcripts.redb").is_file());

        let store = TranscriptStore::open(&store_dir).unwrap();
        for t in [&late, &early] {
            let got = store.get(&t.id).unwrap().unwrap();
            let (want, got) = (
                serde_json::to_value(t).unwrap(),
                serde_json::to_value(&got).unwrap(),
            );
            assert_eq!(got, want, "{}", t.id);
            // Every float survived bit for bit (timings, stakes, demands).
            let (mut a, mut b) = (Vec::new(), Vec::new());
            float_bits(&want, &mut a);
            float_bits(&got, &mut b);
            assert!(a.len() > 20, "{} floats", a.len());
            assert_eq!(a, b, "{}", t.id);
        }
        let got = store.get("neg-late").unwrap().unwrap();
        assert_eq!(got.outcome.history.len(), 5);
        assert_eq!(got.outcome.history[1].turns.len(), 3);
        assert_eq!(got.outcome.history[1].turns[0].raw_answers.len(), 1);
        assert!(got.outcome.history[1].turns[0].raw_answers[0].contains("\"value\""));
        assert_eq!(got.outcome.llm, late.outcome.llm);

        let list = store.list().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0], early.summary());
        assert_eq!(list[1], late.summary());
        assert_eq!(
            (
                list[0].id.as_str(),
                list[0].agents,
                list[0].rounds,
                list[0].converged
            ),
            ("neg-early.1", 2, 2, false)
        );
        assert_eq!(
            (
                list[1].id.as_str(),
                list[1].agents,
                list[1].rounds,
                list[1].converged
            ),
            ("neg-late", 3, 4, true)
        );
        assert_eq!(list[1].started_unix_ms, 2_000);
        // Weights 1, 1.5, 2 over targets 20, 60, 100: the optimum is 620/9 = 68.9 Mbps.
        assert!(
            (list[1].consensus_mbps - 620.0 / 9.0).abs() < 1.0,
            "{}",
            list[1].consensus_mbps
        );
        assert_eq!(list[1].topic, NegotiationConfig::default().topic);

        // Saving under an existing id replaces it; equal start times order by id.
        let mut again = early.clone();
        again.started_unix_ms = 2_000;
        again.id = "neg-a".into();
        store.save(&again).unwrap();
        let mut replaced = early.clone();
        replaced.topic = "latency".into();
        store.save(&replaced).unwrap();
        let ids: Vec<String> = store.list().unwrap().into_iter().map(|s| s.id).collect();
        assert_eq!(ids, ["neg-early.1", "neg-a", "neg-late"]);
        assert_eq!(store.get("neg-early.1").unwrap().unwrap().topic, "latency");
        assert_eq!(store.list().unwrap()[0].topic, "latency");
    }

    #[tokio::test]
    async fn unknown_ids_are_none_and_bad_ids_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = TranscriptStore::open(dir.path()).unwrap();
        assert!(store.get("neg-nope").unwrap().is_none());
        assert!(store.list().unwrap().is_empty());

        let long_ok = "a".repeat(128);
        assert!(is_valid_id(&long_ok));
        assert!(store.get(&long_ok).unwrap().is_none());
        assert!(is_valid_id("A-z_0.9~"));
        let long_bad = "a".repeat(129);
        for bad in [
            "",
            "a/b",
            "a b",
            "neg\u{e9}",
            "../x",
            "id?",
            long_bad.as_str(),
        ] {
            let err = store.get(bad).unwrap_err();
            assert!(matches!(&err, TranscriptError::BadId(_)), "{bad:?}: {err}");
            assert!(err.to_string().contains("1 to 128 characters"), "{err}");
        }
        let mut t = run("ok", 1, NegotiationConfig::default(), &[30.0, 50.0]).await;
        t.id = "has space".into();
        let err = store.save(&t).unwrap_err();
        assert_eq!(err.to_string().matches("\"has space\"").count(), 1, "{err}");
        assert!(matches!(err, TranscriptError::BadId(ref id) if id == "has space"));
        assert!(store.list().unwrap().is_empty(), "nothing was written");
    }

    #[test]
    fn new_ids_are_unique_valid_and_well_formed() {
        let before = unix_ms();
        let ids: Vec<String> = (0..1000).map(|_| new_id()).collect();
        let after = unix_ms();
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), 1000);
        for id in &ids {
            assert!(is_valid_id(id), "{id}");
            let mut parts = id.split('-');
            assert_eq!(parts.next(), Some("neg"));
            let ms: u64 = parts.next().unwrap().parse().unwrap();
            assert!(
                (before..=after).contains(&ms),
                "{ms} not in {before}..={after}"
            );
            let hex = parts.next().unwrap();
            assert_eq!(hex.len(), 6, "{id}");
            assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
            assert_eq!(parts.next(), None);
        }
    }
}
