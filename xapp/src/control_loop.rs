//! The near-RT control loop: on every E2 report (and right after an A1 change) run the
//! controller, send the PRB quota control when it changed, record policy statuses (notifying
//! their owners), and publish the period's KPIs. With no report for `report_silence_ms`, every
//! policy goes NOT_ENFORCED (A1AP v2 clause 5.2.6: the status says whether the policy is in
//! force) until reports resume, and the quotas are re-sent then.
//!
//! **Many cells.** Each cell (each `cell_id` the reports carry; one E2 node each) has its own
//! control state ([`CellLoop`]): controller (quotas, closed-loop gains), last control sent,
//! status hysteresis, silence watchdog and its status of each policy. A report goes to its
//! cell's state; a cell's first report creates it (cells may appear at run time), and one
//! whose reports stop goes silent alone. A policy applies to every cell serving its slice
//! (the A1TD allows no cell in a SliceSLATarget scope), each cell carrying its part of the
//! target ([`crate::cell_split::split_target`]); the policy's status is ENFORCED only when
//! every such cell enforces it ([`crate::cell_split::across_cells`]), the cells that do not
//! being named in the log and in the status (`notEnforcedCells`, ours). With one cell this is
//! the single-cell loop it always was.
//!
//! The statuses the controller estimates from the measurements pass the hysteresis of
//! [`crate::status_filter`] (`status_hold_ms`); facts do not: a refused or failed E2 control,
//! the reports gone silent, a policy rejected at validation (each resets the filter for the
//! policies it concerns), and the first status of a new or updated policy. Every status
//! written is logged and counted (`maestro_xapp_policy_status_changes_total`), and every flap
//! the hysteresis kept from an owner too (`maestro_xapp_policy_status_flaps_suppressed_total`).
//!
//! **Cost per report.** A report from one cell recomputes only what that cell's change can
//! affect: the statuses across cells of the policies the cell has (or had) a status of, or
//! rejects ([`Step::touched`]), read from the cells' statuses kept as they change
//! ([`CellStatuses`]), and its part of each target from the slices' cell weights kept as
//! cells report ([`SliceWeights`]); the silence watchdog waits on the earliest deadline of a
//! sorted set. So a period of C cells costs about C times one cell's policies, not every
//! policy times C squared. Everything else (an A1 change, a cell gone silent, a new cell)
//! recomputes every policy's status, as before.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use maestro_api::a1::{EnforceReason, PolicyStatus};
use maestro_e2sm::rc::{ControlOutcome, RrmPolicyMember, SlicePrbQuotaControl};
use maestro_e2sm::report::{CellMeasurement, SliceMeasurement};
use tokio::sync::{broadcast, watch, Notify};
use tokio::time::Instant;

use crate::cell_scope::{CellScope, KnownCells};
use crate::cell_split::statuses::CellStatuses;
use crate::cell_split::weights::SliceWeights;
use crate::cell_split::{cell_weight, split_target};
use crate::controller::{slice_effective_cqis, targets_from_policies, Controller, LoopTuning};
use crate::e2::{E2Backend, ServedCell};
use crate::kpi::cell_report;
use crate::kpi::metrics::XappMetrics;
use crate::kpi::stream::KpiHub;
use crate::notify::StatusNotifier;
use crate::status_filter::{StatusFilter, Verdict};
use crate::store::{PolicyKey, PolicyStore, StoredPolicy};

/// What the loop works with.
pub struct ControlLoop {
    /// The E2 nodes.
    pub backend: Arc<dyn E2Backend>,
    /// The cells known (each cell's first report adds it; the A1 server checks cell lists).
    pub cells: KnownCells,
    /// Durable policies.
    pub store: PolicyStore,
    /// KPI stream fan-out.
    pub hub: KpiHub,
    /// Metrics.
    pub metrics: XappMetrics,
    /// Status notifications.
    pub notifier: StatusNotifier,
    /// Sequence of the last processed report (read by `/readyz`).
    pub last_report: Arc<AtomicU64>,
    /// Woken by the A1 server after a change.
    pub changed: Arc<Notify>,
    /// Closed-loop knobs.
    pub tuning: LoopTuning,
}

/// One cell's control state: what the loop keeps per cell between its reports.
struct CellLoop {
    /// Its carrier and slices, as the backend described them at its first report.
    served: ServedCell,
    /// Quotas and closed-loop gains of its slices.
    controller: Controller,
    /// Its status hysteresis (on its own report time).
    filter: StatusFilter,
    /// The last control it acknowledged.
    last_control: Option<SlicePrbQuotaControl>,
    /// Its latest report.
    latest: Option<Arc<CellMeasurement>>,
    /// When it goes silent without another report.
    deadline: Instant,
    /// Its reports have stopped (for `report_silence_ms`).
    silent: bool,
    /// Its status of each policy it serves the slice of (after its hysteresis, or a fact).
    views: HashMap<PolicyKey, PolicyStatus>,
    /// Per policy: reports in a row in which its slice used more PRBs than its quota.
    overrun: HashMap<PolicyKey, u32>,
    /// Why its last control failed, while the controls keep failing (logged when it changes).
    failing: Option<String>,
}

impl CellLoop {
    fn new(served: ServedCell, tuning: &LoopTuning, deadline: Instant) -> Self {
        Self {
            served,
            controller: Controller::new(tuning.clone()),
            filter: StatusFilter::new(tuning.status_hold_ms),
            last_control: None,
            latest: None,
            deadline,
            silent: false,
            views: HashMap::new(),
            overrun: HashMap::new(),
            failing: None,
        }
    }

    /// Its statuses are now `views` (kept in `kept` too). Returns the policies whose status
    /// in this cell it had or now has: those whose status across cells may have changed.
    fn set_views(
        &mut self,
        cell_id: &str,
        kept: &mut CellStatuses,
        views: HashMap<PolicyKey, PolicyStatus>,
    ) -> HashSet<PolicyKey> {
        kept.replace(cell_id, &self.views, &views);
        let old = std::mem::replace(&mut self.views, views);
        let mut touched: HashSet<PolicyKey> = old.into_keys().collect();
        touched.extend(self.views.keys().cloned());
        touched
    }
}

/// The loop's cells by id (sorted: the order cells are named in), and what it keeps across
/// them as they report.
#[derive(Default)]
struct Cells {
    by_id: BTreeMap<String, CellLoop>,
    /// Each policy's status in each cell (what a status across cells is read from).
    statuses: CellStatuses,
    /// Each slice's cell weights (what a cell's part of a target is read from).
    weights: SliceWeights,
    /// The silence deadlines of the cells not silent, earliest first.
    deadlines: BTreeSet<(Instant, String)>,
}

impl Cells {
    /// Cell `id` reported: it goes silent at `deadline` without another report. Returns
    /// whether it was silent.
    fn rearm(&mut self, id: &str, deadline: Instant) -> bool {
        let Some(cell) = self.by_id.get_mut(id) else {
            return false;
        };
        if !cell.silent {
            self.deadlines.remove(&(cell.deadline, id.to_owned()));
        }
        cell.deadline = deadline;
        self.deadlines.insert((deadline, id.to_owned()));
        std::mem::take(&mut cell.silent)
    }

    /// The earliest silence deadline of a cell not silent.
    fn next_silence(&self) -> Option<Instant> {
        self.deadlines.first().map(|(at, _)| *at)
    }
}

/// What one cell's period leaves for the statuses across cells.
struct Step {
    /// The policies that cannot apply in the cell, and why.
    rejected: Vec<(PolicyKey, PolicyStatus)>,
    /// The policies whose status across cells the period may have changed: those the cell
    /// had or has a status of, and those it rejects.
    touched: HashSet<PolicyKey>,
}

impl Step {
    /// A period that did not happen (the cell is unknown).
    fn none() -> Self {
        Self {
            rejected: Vec::new(),
            touched: HashSet::new(),
        }
    }
}

/// What the loop last wrote for each policy across its cells.
type Written = HashMap<PolicyKey, PolicyStatus>;

/// The stored policies as one event of the loop reads them, each with the cells it applies
/// in, read once: an A1 change re-plans every cell from one read.
struct Policies {
    all: Vec<StoredPolicy>,
    scopes: HashMap<PolicyKey, CellScope>,
}

impl Policies {
    fn read(store: &PolicyStore) -> Self {
        let all = store.all();
        let scopes = all
            .iter()
            .map(|p| (p.key(), CellScope::of_statement(&p.statement)))
            .collect();
        Self { all, scopes }
    }
}

impl ControlLoop {
    /// Runs until `shutdown` turns true or the backend's report stream closes.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut reports = self.backend.subscribe();
        let mut cells = Cells::default();
        let mut written: Written = HashMap::new();
        let silence_limit = Duration::from_millis(self.tuning.report_silence_ms.max(1));
        // Before the first report: the whole E2 side is silent after the same time.
        let mut idle: Option<Instant> = Some(Instant::now() + silence_limit);
        loop {
            let next_silence = cells.next_silence().or(idle);
            tokio::select! {
                // An A1 change first: a policy PUT does not wait behind a burst of reports
                // (many cells report in the same instant); reports queue meanwhile.
                biased;
                _ = self.changed.notified() => {
                    let read = Policies::read(&self.store);
                    let policies = &read.all;
                    // A silent cell has no fresh report to decide on: its policies, new ones
                    // included, stay NOT_ENFORCED there until its reports resume.
                    let latest: Vec<Arc<CellMeasurement>> = cells
                        .by_id
                        .values()
                        .filter(|c| !c.silent)
                        .filter_map(|c| c.latest.clone())
                        .collect();
                    for (id, cell) in cells.by_id.iter_mut().filter(|(_, c)| c.silent) {
                        go_silent(id, cell, &mut cells.statuses, policies);
                    }
                    let mut rejected = all_silent(&cells, policies);
                    for m in latest {
                        rejected = self.step(&mut cells, &m, &read, &written, false).await.rejected;
                    }
                    if !cells.by_id.is_empty() {
                        self.write_across_cells(&cells, policies, &rejected, None, &mut written).await;
                    }
                }
                r = reports.recv() => match r {
                    Ok(m) => {
                        let Some(new_cell) = self.cell_for(&mut cells, &m) else {
                            continue;
                        };
                        idle = None;
                        if cells.rearm(&m.cell_id, Instant::now() + silence_limit) {
                            tracing::info!(cell = %m.cell_id, sequence = m.sequence, "E2 reports resumed");
                        }
                        let read = Policies::read(&self.store);
                        let step = self.step(&mut cells, &m, &read, &written, true).await;
                        // A new cell may change every status (a status names its cells once
                        // there are several): all of them then; else the cell's own.
                        let only = (!new_cell).then_some(&step.touched);
                        self.write_across_cells(&cells, &read.all, &step.rejected, only, &mut written).await;
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(skipped = n, "control loop lagging behind E2 reports");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                () = sleep_until_or_never(next_silence) => {
                    idle = None;
                    let now = Instant::now();
                    let policies = self.store.all();
                    while let Some((at, id)) = cells.deadlines.first().cloned() {
                        if at > now {
                            break;
                        }
                        cells.deadlines.remove(&(at, id.clone()));
                        let Some(cell) = cells.by_id.get_mut(&id) else {
                            continue;
                        };
                        cell.silent = true;
                        tracing::warn!(
                            cell = %id,
                            silence_ms = silence_limit.as_millis() as u64,
                            "no E2 report: the cell's policies NOT_ENFORCED until reports resume"
                        );
                        go_silent(&id, cell, &mut cells.statuses, &policies);
                    }
                    let rejected = all_silent(&cells, &policies);
                    self.write_across_cells(&cells, &policies, &rejected, None, &mut written).await;
                }
                _ = shutdown.changed() => break,
            }
        }
    }

    /// Makes sure the report's cell has its state, created at its first report (a cell
    /// appearing at run time): `Some(true)` when it was just created, `None` when the backend
    /// does not know the cell.
    fn cell_for(&self, cells: &mut Cells, m: &CellMeasurement) -> Option<bool> {
        let cells = &mut cells.by_id;
        if cells.contains_key(&m.cell_id) {
            return Some(false);
        }
        {
            let Some(served) = self.backend.served_cell(&m.cell_id) else {
                tracing::warn!(cell = %m.cell_id, "report from a cell the E2 backend does not serve: ignored");
                return None;
            };
            if !cells.is_empty() {
                tracing::info!(cell = %m.cell_id, "new cell: its first report");
            }
            self.cells.insert(&m.cell_id);
            let deadline = Instant::now();
            cells.insert(
                m.cell_id.clone(),
                CellLoop::new(served, &self.tuning, deadline),
            );
            self.metrics.shard_cells_at_least(cells.len());
        }
        Some(true)
    }

    /// One period of the report's cell: decide, control, the cell's statuses. Returns the
    /// policies that cannot apply in that cell and why, and those whose status across cells
    /// the period may have changed.
    async fn step(
        &self,
        cells: &mut Cells,
        m: &Arc<CellMeasurement>,
        policies: &Policies,
        written: &Written,
        publish: bool,
    ) -> Step {
        let started = std::time::Instant::now();
        let Cells {
            by_id: cells,
            statuses: kept,
            weights,
            ..
        } = cells;
        let Policies {
            all: policies,
            scopes,
        } = policies;
        // The policies that apply in this cell (every cell, or the cells they list).
        let here = policies
            .iter()
            .filter(|p| scopes.get(&p.key()).is_some_and(|s| s.includes(&m.cell_id)));
        let (mut targets, rejected) = {
            let Some(cell) = cells.get(&m.cell_id) else {
                return Step::none();
            };
            // The cell's weight in the split of each of its slices' targets, from this report.
            for member in &cell.served.slices {
                let weight = cell_weight(&slice_effective_cqis(m, member), &cell.served.carrier);
                weights.set(member, &m.cell_id, weight);
            }
            targets_from_policies(here, &cell.served.slices)
        };
        for t in &mut targets {
            t.target_bps *= match scopes.get(&t.policy) {
                // Among every cell serving the slice: from the weights kept.
                None | Some(CellScope::Every) => weights.share(&t.member, &m.cell_id),
                Some(scope) => share_of(cells, m, &t.member, scope),
            };
        }
        let Some(cell) = cells.get_mut(&m.cell_id) else {
            return Step::none();
        };
        let served = &cell.served.slices;
        let decision = cell
            .controller
            .decide(&cell.served.carrier, m, served, &targets);
        let mut control_failed = false;

        // No control to a cell no policy has touched yet: the node keeps its own split, and
        // a node that cannot take the control is not sent one it never needed (upstream
        // OAI aborts on an RC style 2 control; docs/TESTBED.md, F4). Once a cell was
        // controlled, a policy removed sends the default split back.
        let untouched = cell.last_control.is_none() && targets.is_empty();
        if !untouched && cell.last_control.as_ref() != Some(&decision.control) {
            let outcome = self
                .backend
                .control_cell(&m.cell_id, decision.control.clone())
                .await;
            let failure = match outcome {
                Ok(ControlOutcome::Acknowledged) => {
                    self.metrics.e2_control("ack");
                    cell.last_control = Some(decision.control.clone());
                    cell.failing = None;
                    None
                }
                Ok(ControlOutcome::Failed { cause }) => {
                    self.metrics.e2_control("failed");
                    Some(cause)
                }
                Err(e) => {
                    self.metrics.e2_control("error");
                    Some(e.to_string())
                }
            };
            if let Some(cause) = failure {
                // Once per cause: a node that refuses every control is tried every report.
                if cell.failing.as_ref() != Some(&cause) {
                    tracing::warn!(cell = %m.cell_id, %cause, "E2 control not applied");
                    cell.failing = Some(cause);
                }
                cell.controller.forget_quotas();
                control_failed = true;
            }
        }
        let mut statuses: Vec<(PolicyKey, PolicyStatus)> = if control_failed {
            // A fact: the node did not take the quotas.
            decision
                .statuses
                .iter()
                .map(|(key, _)| {
                    cell.filter.reset(key);
                    (
                        key.clone(),
                        PolicyStatus::not_enforced(EnforceReason::OtherReason),
                    )
                })
                .collect()
        } else {
            self.filter_statuses(cell, policies, written, &decision.statuses, m.time_ms)
        };
        if !control_failed {
            // A fact as well: the node acknowledged the quota but the slice keeps using more
            // (upstream OAI acknowledges SLICE controls it only prints).
            for d in &decision.slices {
                let Some(key) = &d.policy else { continue };
                let over = m
                    .slices
                    .iter()
                    .find(|s| s.member == d.member)
                    .filter(|s| over_quota(s));
                let n = cell.overrun.entry(key.clone()).or_insert(0);
                *n = if over.is_some() {
                    n.saturating_add(1)
                } else {
                    0
                };
                if *n < OVERRUN_REPORTS {
                    continue;
                }
                if let (Some(s), true) = (over, *n == OVERRUN_REPORTS) {
                    tracing::warn!(
                        cell = %m.cell_id,
                        policy = %key.policy_id,
                        prb_used = s.prb_used,
                        prb_quota = s.prb_quota,
                        reports = OVERRUN_REPORTS,
                        "E2 node acknowledged the PRB quota but does not apply it: policy NOT_ENFORCED"
                    );
                }
                cell.filter.reset(key);
                for (_, status) in statuses.iter_mut().filter(|(k, _)| k == key) {
                    *status = PolicyStatus::not_enforced(EnforceReason::OtherReason);
                }
            }
            cell.overrun
                .retain(|k, _| decision.slices.iter().any(|d| d.policy.as_ref() == Some(k)));
        }
        // Facts too: the policy cannot apply whatever the cell does.
        for (key, _) in &rejected {
            cell.filter.reset(key);
        }
        cell.filter
            .retain(|key| policies.iter().any(|p| is_policy(p, key)));
        let mut touched = cell.set_views(&m.cell_id, kept, statuses.into_iter().collect());
        touched.extend(rejected.iter().map(|(key, _)| key.clone()));
        self.metrics
            .control_latency(started.elapsed().as_secs_f64());

        if publish {
            self.last_report.store(m.sequence, Ordering::Relaxed);
            let report = cell_report(&cell.served.carrier, m, &decision);
            self.metrics.observe(&report);
            self.hub.publish(report);
        }
        cell.latest = Some(Arc::clone(m));
        Step { rejected, touched }
    }

    /// The cell's status of each policy it decided for, through its hysteresis: a held or
    /// unchanged one keeps the cell's status. The hysteresis starts from the cell's own
    /// status, unless another writer (the A1 server, the bridge's outage follower) has written
    /// the policy's status since the loop last did: then from that one, as with one cell.
    fn filter_statuses(
        &self,
        cell: &mut CellLoop,
        policies: &[StoredPolicy],
        written: &Written,
        decided: &[(PolicyKey, PolicyStatus)],
        time_ms: u64,
    ) -> Vec<(PolicyKey, PolicyStatus)> {
        let mut out = Vec::with_capacity(decided.len());
        let mut suppressed = 0;
        for (key, status) in decided {
            let Some(stored) = policies.iter().find(|p| is_policy(p, key)) else {
                continue;
            };
            // The policy's status as this cell last wrote it.
            let ours = written.get(key) == Some(&stored.status);
            let last = match cell.views.get(key).filter(|_| ours) {
                Some(mine) => mine,
                None => &stored.status,
            };
            let f = cell.filter.filter(stored, last, status, time_ms);
            if f.flap_suppressed {
                suppressed += 1;
                tracing::debug!(policy = %key.policy_id, status = ?last.enforce_status, "status flap suppressed by the hysteresis");
            }
            match f.verdict {
                Verdict::Write(s) => out.push((key.clone(), s)),
                Verdict::Held => {
                    tracing::trace!(policy = %key.policy_id, candidate = ?status.enforce_status, "status change held by the hysteresis");
                    out.push((key.clone(), last.clone()));
                }
                Verdict::Unchanged => out.push((key.clone(), last.clone())),
            }
        }
        if suppressed > 0 {
            self.metrics.policy_status_flaps_suppressed(suppressed);
        }
        out
    }

    /// Writes each policy's status across its cells (`only` those, when given: the ones a
    /// cell's period touched), by [`across_statuses`].
    async fn write_across_cells(
        &self,
        cells: &Cells,
        policies: &[StoredPolicy],
        rejected: &[(PolicyKey, PolicyStatus)],
        only: Option<&HashSet<PolicyKey>>,
        written: &mut Written,
    ) {
        let statuses = across_statuses(cells, policies, rejected, only, written);
        self.record_statuses(statuses).await;
    }

    async fn record_statuses(&self, statuses: Vec<(PolicyKey, PolicyStatus)>) {
        // Only changes touch the disk; most periods change nothing.
        let changed: Vec<(PolicyKey, PolicyStatus)> = statuses
            .into_iter()
            .filter(|(k, s)| self.store.get(k).is_some_and(|p| &p.status != s))
            .collect();
        if changed.is_empty() {
            return;
        }
        crate::status_writer::write_statuses(&self.store, &self.notifier, &self.metrics, changed)
            .await;
    }
}

/// Reports in a row in which a slice uses more PRBs than its acknowledged quota before its
/// policy reads NOT_ENFORCED (1 s at the usual 100 ms period: a quota changed mid-period
/// does not count).
const OVERRUN_REPORTS: u32 = 10;

/// The slice used clearly more PRBs per DL slot than the quota in force (10 % + 1 PRB of
/// slack for rounding and retransmissions).
fn over_quota(s: &SliceMeasurement) -> bool {
    s.prb_quota > 0 && s.prb_used > f64::from(s.prb_quota) * 1.1 + 1.0
}

/// Each policy's status across its cells (`only` those, when given), read from the kept
/// statuses ([`CellStatuses::across`], the rule of [`crate::cell_split::across_cells`]); a
/// policy no cell has a status of: its status in `rejected`, if any. With several cells the
/// status names the cells that do not enforce the policy (`notEnforcedCells`, ours), and the
/// log says so whenever they change. `written` is kept as what the loop last wrote.
fn across_statuses(
    cells: &Cells,
    policies: &[StoredPolicy],
    rejected: &[(PolicyKey, PolicyStatus)],
    only: Option<&HashSet<PolicyKey>>,
    written: &mut Written,
) -> Vec<(PolicyKey, PolicyStatus)> {
    let several = cells.by_id.len() > 1;
    let mut statuses = Vec::with_capacity(only.map_or(policies.len(), HashSet::len));
    for p in policies {
        let key = p.key();
        if only.is_some_and(|o| !o.contains(&key)) {
            continue;
        }
        match cells.statuses.across(&key) {
            Some((status, not_enforced)) => {
                // With several cells, the status names the cells not enforcing it.
                let status = if several {
                    status.in_cells(not_enforced)
                } else {
                    status
                };
                let before = written.get(&key).map(|s| &s.not_enforced_cells);
                if several && before != Some(&status.not_enforced_cells) {
                    if status.not_enforced_cells.is_empty() {
                        tracing::info!(policy = %key.policy_id, "policy enforced in every cell serving its slice");
                    } else {
                        tracing::info!(
                            policy = %key.policy_id,
                            cells = %status.not_enforced_cells.join(","),
                            reason = ?status.enforce_reason,
                            "policy NOT_ENFORCED in these cells"
                        );
                    }
                }
                written.insert(key.clone(), status.clone());
                statuses.push((key, status));
            }
            None => {
                written.remove(&key);
                if let Some((_, s)) = rejected.iter().find(|(k, _)| *k == key) {
                    written.insert(key.clone(), s.clone());
                    statuses.push((key, s.clone()));
                }
            }
        }
    }
    // Policies deleted: an A1 change, which recomputes them all.
    if only.is_none() {
        written.retain(|k, _| policies.iter().any(|p| is_policy(p, k)));
    }
    statuses
}

/// The part of a slice's target the report's cell carries: its weight over the weights of
/// every cell serving the slice within the policy's cells (their latest reports; this report
/// for its own cell), by the split rule of [`split_target`]. A silent cell keeps its share
/// from its last report: its UEs have not moved to the other cells because its reports
/// stopped. (For a policy over every cell, the same rule is read from the kept
/// [`SliceWeights`]; this visits every cell, for policies listing their cells.)
fn share_of(
    cells: &BTreeMap<String, CellLoop>,
    m: &CellMeasurement,
    member: &RrmPolicyMember,
    scope: &CellScope,
) -> f64 {
    let mut weights = Vec::new();
    let mut mine = None;
    for (id, c) in cells {
        if !c.served.slices.contains(member) || !scope.includes(id) {
            continue;
        }
        let report = if *id == m.cell_id {
            mine = Some(weights.len());
            Some(m)
        } else {
            c.latest.as_deref()
        };
        if let Some(report) = report {
            weights.push(cell_weight(
                &slice_effective_cqis(report, member),
                &c.served.carrier,
            ));
        }
    }
    let parts = split_target(1.0, &weights);
    mine.and_then(|i| parts.get(i).copied()).unwrap_or(1.0)
}

/// A silent cell: the node may come back with none of our quotas (sent again then), and
/// nothing shows they are in force, so every policy applying in the cell is NOT_ENFORCED
/// there, a fact (no hysteresis).
fn go_silent(
    cell_id: &str,
    cell: &mut CellLoop,
    kept: &mut CellStatuses,
    policies: &[StoredPolicy],
) {
    cell.last_control = None;
    cell.controller.forget_quotas();
    let here = policies
        .iter()
        .filter(|p| CellScope::of_statement(&p.statement).includes(cell_id));
    let (targets, _) = targets_from_policies(here, &cell.served.slices);
    let views = targets
        .into_iter()
        .map(|t| {
            cell.filter.reset(&t.policy);
            (
                t.policy,
                PolicyStatus::not_enforced(EnforceReason::OtherReason),
            )
        })
        .collect();
    cell.set_views(cell_id, kept, views);
}

/// With every cell silent (or none reported yet) the whole E2 side is: the policies no cell
/// decides for are NOT_ENFORCED too.
fn all_silent(cells: &Cells, policies: &[StoredPolicy]) -> Vec<(PolicyKey, PolicyStatus)> {
    if !cells.by_id.values().all(|c| c.silent) {
        return Vec::new();
    }
    policies
        .iter()
        .map(|p| {
            (
                p.key(),
                PolicyStatus::not_enforced(EnforceReason::OtherReason),
            )
        })
        .collect()
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until_or_never(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Whether `p` is the policy `key` names (without building its key).
fn is_policy(p: &StoredPolicy, key: &PolicyKey) -> bool {
    p.policy_id == key.policy_id && p.policy_type == key.policy_type
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nr::CellConfig;

    fn policy(id: &str) -> StoredPolicy {
        StoredPolicy {
            policy_type: "ORAN_SliceSLATarget_1.0.0".into(),
            policy_id: id.into(),
            // No cell list: the policy applies in every cell.
            statement: serde_json::json!({}),
            notification_destination: None,
            status: PolicyStatus::enforced(),
        }
    }

    fn three_cells() -> Cells {
        let mut cells = Cells::default();
        for id in ["a", "b", "c"] {
            let served = ServedCell {
                carrier: CellConfig::oai_40mhz(),
                slices: Vec::new(),
            };
            let cell = CellLoop::new(served, &LoopTuning::default(), Instant::now());
            cells.by_id.insert(id.into(), cell);
        }
        cells
    }

    /// Cell `id`'s statuses become `views`, as a period of the cell leaves them.
    fn period(cells: &mut Cells, id: &str, views: &[(&StoredPolicy, &PolicyStatus)]) -> Step {
        let views = views.iter().map(|(p, s)| (p.key(), (*s).clone())).collect();
        let Some(cell) = cells.by_id.get_mut(id) else {
            panic!("no cell {id}");
        };
        Step {
            rejected: Vec::new(),
            touched: cell.set_views(id, &mut cells.statuses, views),
        }
    }

    #[test]
    fn a_cells_period_recomputes_the_status_of_its_policies() {
        let (p, q) = (policy("p"), policy("q"));
        let policies = [p.clone(), q.clone()];
        let up = PolicyStatus::enforced();
        let down = PolicyStatus::not_enforced(EnforceReason::OtherReason);
        let mut cells = three_cells();
        let mut written = Written::new();
        for id in ["a", "b", "c"] {
            period(&mut cells, id, &[(&p, &up), (&q, &up)]);
        }
        let all = across_statuses(&cells, &policies, &[], None, &mut written);
        assert_eq!(all, vec![(p.key(), up.clone()), (q.key(), up.clone())]);

        // Cell b stops enforcing p: p's status across cells is recomputed from b's period
        // alone, and names b.
        let step = period(&mut cells, "b", &[(&p, &down), (&q, &up)]);
        let out = across_statuses(&cells, &policies, &[], Some(&step.touched), &mut written);
        let p_down = down.clone().in_cells(vec!["b".into()]);
        assert!(out.contains(&(p.key(), p_down.clone())), "{out:?}");
        assert_eq!(written.get(&p.key()), Some(&p_down));

        // Cell c too, then b enforces it again: each period moves the status.
        let step = period(&mut cells, "c", &[(&p, &down), (&q, &up)]);
        let out = across_statuses(&cells, &policies, &[], Some(&step.touched), &mut written);
        let both = down.clone().in_cells(vec!["b".into(), "c".into()]);
        assert!(out.contains(&(p.key(), both)), "{out:?}");
        let step = period(&mut cells, "b", &[(&p, &up), (&q, &up)]);
        let out = across_statuses(&cells, &policies, &[], Some(&step.touched), &mut written);
        let only_c = down.in_cells(vec!["c".into()]);
        assert!(out.contains(&(p.key(), only_c)), "{out:?}");

        // A period recomputes only the policies the cell has: a cell without q leaves it be.
        let step = period(&mut cells, "a", &[(&p, &up)]);
        let out = across_statuses(&cells, &policies, &[], Some(&step.touched), &mut written);
        assert!(
            out.iter().any(|(k, _)| *k == q.key()),
            "a dropped q: {out:?}"
        );
        let step = period(&mut cells, "a", &[(&p, &up)]);
        let out = across_statuses(&cells, &policies, &[], Some(&step.touched), &mut written);
        assert!(out.iter().all(|(k, _)| *k != q.key()), "{out:?}");
        // ... and the statuses read as if every cell were visited.
        let mut again = written.clone();
        let full = across_statuses(&cells, &policies, &[], None, &mut again);
        for (key, status) in full {
            assert_eq!(written.get(&key), Some(&status), "{}", key.policy_id);
        }
    }
}
