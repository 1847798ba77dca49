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

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use maestro_api::a1::{EnforceReason, PolicyStatus};
use maestro_e2sm::rc::{ControlOutcome, RrmPolicyMember, SlicePrbQuotaControl};
use maestro_e2sm::report::{CellMeasurement, SliceMeasurement};
use tokio::sync::{broadcast, watch, Notify};
use tokio::time::Instant;

use crate::cell_scope::{CellScope, KnownCells};
use crate::cell_split::{across_cells, cell_weight, split_target};
use crate::controller::{targets_from_policies, Controller, LoopTuning};
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
        }
    }
}

/// The loop's cells by id (sorted: the order cells are named in).
type Cells = BTreeMap<String, CellLoop>;

/// What the loop last wrote for each policy across its cells.
type Written = HashMap<PolicyKey, PolicyStatus>;

impl ControlLoop {
    /// Runs until `shutdown` turns true or the backend's report stream closes.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut reports = self.backend.subscribe();
        let mut cells: Cells = BTreeMap::new();
        let mut written: Written = HashMap::new();
        let silence_limit = Duration::from_millis(self.tuning.report_silence_ms.max(1));
        // Before the first report: the whole E2 side is silent after the same time.
        let mut idle: Option<Instant> = Some(Instant::now() + silence_limit);
        loop {
            let next_silence = cells
                .values()
                .filter(|c| !c.silent)
                .map(|c| c.deadline)
                .min()
                .or(idle);
            tokio::select! {
                r = reports.recv() => match r {
                    Ok(m) => {
                        let Some(cell) = self.cell_for(&mut cells, &m) else {
                            continue;
                        };
                        idle = None;
                        cell.deadline = Instant::now() + silence_limit;
                        if std::mem::take(&mut cell.silent) {
                            tracing::info!(cell = %m.cell_id, sequence = m.sequence, "E2 reports resumed");
                        }
                        let policies = self.store.all();
                        let rejected = self.step(&mut cells, &m, &policies, &written, true).await;
                        self.write_across_cells(&cells, &policies, &rejected, &mut written).await;
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(skipped = n, "control loop lagging behind E2 reports");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = self.changed.notified() => {
                    let policies = self.store.all();
                    // A silent cell has no fresh report to decide on: its policies, new ones
                    // included, stay NOT_ENFORCED there until its reports resume.
                    let latest: Vec<Arc<CellMeasurement>> = cells
                        .values()
                        .filter(|c| !c.silent)
                        .filter_map(|c| c.latest.clone())
                        .collect();
                    for (id, cell) in cells.iter_mut().filter(|(_, c)| c.silent) {
                        go_silent(id, cell, &policies);
                    }
                    let mut rejected = all_silent(&cells, &policies);
                    for m in latest {
                        rejected = self.step(&mut cells, &m, &policies, &written, false).await;
                    }
                    if !cells.is_empty() {
                        self.write_across_cells(&cells, &policies, &rejected, &mut written).await;
                    }
                }
                () = sleep_until_or_never(next_silence) => {
                    idle = None;
                    let now = Instant::now();
                    let policies = self.store.all();
                    for (id, cell) in cells.iter_mut().filter(|(_, c)| !c.silent && c.deadline <= now) {
                        cell.silent = true;
                        tracing::warn!(
                            cell = %id,
                            silence_ms = silence_limit.as_millis() as u64,
                            "no E2 report: the cell's policies NOT_ENFORCED until reports resume"
                        );
                        go_silent(id, cell, &policies);
                    }
                    let rejected = all_silent(&cells, &policies);
                    self.write_across_cells(&cells, &policies, &rejected, &mut written).await;
                }
                _ = shutdown.changed() => break,
            }
        }
    }

    /// The state of the report's cell, created at its first report (a cell appearing at run
    /// time); `None` when the backend does not know the cell.
    fn cell_for<'a>(&self, cells: &'a mut Cells, m: &CellMeasurement) -> Option<&'a mut CellLoop> {
        if !cells.contains_key(&m.cell_id) {
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
        }
        cells.get_mut(&m.cell_id)
    }

    /// One period of the report's cell: decide, control, the cell's statuses. Returns the
    /// policies that cannot apply in that cell and why.
    async fn step(
        &self,
        cells: &mut Cells,
        m: &Arc<CellMeasurement>,
        policies: &[StoredPolicy],
        written: &Written,
        publish: bool,
    ) -> Vec<(PolicyKey, PolicyStatus)> {
        let started = std::time::Instant::now();
        // The policies that apply in this cell (every cell, or the cells they list).
        let scopes: HashMap<PolicyKey, CellScope> = policies
            .iter()
            .map(|p| (p.key(), CellScope::of_statement(&p.statement)))
            .collect();
        let here: Vec<StoredPolicy> = policies
            .iter()
            .filter(|p| scopes.get(&p.key()).is_some_and(|s| s.includes(&m.cell_id)))
            .cloned()
            .collect();
        let (mut targets, rejected) = {
            let Some(cell) = cells.get(&m.cell_id) else {
                return Vec::new();
            };
            targets_from_policies(&here, &cell.served.slices)
        };
        for t in &mut targets {
            let scope = scopes.get(&t.policy).unwrap_or(&CellScope::Every);
            t.target_bps *= share_of(cells, m, &t.member, scope);
        }
        let Some(cell) = cells.get_mut(&m.cell_id) else {
            return Vec::new();
        };
        let served = &cell.served.slices;
        let decision = cell
            .controller
            .decide(&cell.served.carrier, m, served, &targets);
        let mut control_failed = false;

        if cell.last_control.as_ref() != Some(&decision.control) {
            let outcome = self
                .backend
                .control_cell(&m.cell_id, decision.control.clone())
                .await;
            let failure = match outcome {
                Ok(ControlOutcome::Acknowledged) => {
                    self.metrics.e2_control("ack");
                    cell.last_control = Some(decision.control.clone());
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
                tracing::warn!(cell = %m.cell_id, %cause, "E2 control not applied");
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
        cell.views = statuses.into_iter().collect();
        self.metrics
            .control_latency(started.elapsed().as_secs_f64());

        if publish {
            self.last_report.store(m.sequence, Ordering::Relaxed);
            let report = cell_report(&cell.served.carrier, m, &decision);
            self.metrics.observe(&report);
            self.hub.publish(report);
        }
        cell.latest = Some(Arc::clone(m));
        rejected
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
            // The policy as this cell last wrote it.
            let mut policy = stored.clone();
            let ours = written.get(key) == Some(&stored.status);
            if let Some(mine) = cell.views.get(key).filter(|_| ours) {
                policy.status = mine.clone();
            }
            let f = cell.filter.filter(&policy, status, time_ms);
            if f.flap_suppressed {
                suppressed += 1;
                tracing::debug!(policy = %key.policy_id, status = ?policy.status.enforce_status, "status flap suppressed by the hysteresis");
            }
            match f.verdict {
                Verdict::Write(s) => out.push((key.clone(), s)),
                Verdict::Held => {
                    tracing::trace!(policy = %key.policy_id, candidate = ?status.enforce_status, "status change held by the hysteresis");
                    out.push((key.clone(), policy.status));
                }
                Verdict::Unchanged => out.push((key.clone(), policy.status)),
            }
        }
        if suppressed > 0 {
            self.metrics.policy_status_flaps_suppressed(suppressed);
        }
        out
    }

    /// Writes each policy's status across its cells ([`across_cells`]; a policy no cell
    /// serves: its status in `rejected`, if any). With several cells the status names the
    /// cells that do not enforce the policy (`notEnforcedCells`, ours), and the log says so
    /// whenever they change.
    async fn write_across_cells(
        &self,
        cells: &Cells,
        policies: &[StoredPolicy],
        rejected: &[(PolicyKey, PolicyStatus)],
        written: &mut Written,
    ) {
        let mut statuses = Vec::with_capacity(policies.len());
        for p in policies {
            let key = p.key();
            let views = cells
                .iter()
                .filter_map(|(id, c)| c.views.get(&key).map(|s| (id.as_str(), s)));
            match across_cells(views) {
                Some((status, not_enforced)) => {
                    // With several cells, the status names the cells not enforcing it.
                    let status = if cells.len() > 1 {
                        status.in_cells(not_enforced)
                    } else {
                        status
                    };
                    let before = written.get(&key).map(|s| &s.not_enforced_cells);
                    if cells.len() > 1 && before != Some(&status.not_enforced_cells) {
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
        written.retain(|k, _| policies.iter().any(|p| is_policy(p, k)));
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

/// The part of a slice's target the report's cell carries: its weight over the weights of
/// every cell serving the slice within the policy's cells (their latest reports; this report
/// for its own cell), by the split rule of [`split_target`]. A silent cell keeps its share
/// from its last report: its UEs have not moved to the other cells because its reports
/// stopped.
fn share_of(
    cells: &Cells,
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
            weights.push(cell_weight(&report.ue_cqis(member), &c.served.carrier));
        }
    }
    let parts = split_target(1.0, &weights);
    mine.and_then(|i| parts.get(i).copied()).unwrap_or(1.0)
}

/// A silent cell: the node may come back with none of our quotas (sent again then), and
/// nothing shows they are in force, so every policy applying in the cell is NOT_ENFORCED
/// there, a fact (no hysteresis).
fn go_silent(cell_id: &str, cell: &mut CellLoop, policies: &[StoredPolicy]) {
    cell.last_control = None;
    cell.controller.forget_quotas();
    let here: Vec<StoredPolicy> = policies
        .iter()
        .filter(|p| CellScope::of_statement(&p.statement).includes(cell_id))
        .cloned()
        .collect();
    let (targets, _) = targets_from_policies(&here, &cell.served.slices);
    cell.views = targets
        .into_iter()
        .map(|t| {
            cell.filter.reset(&t.policy);
            (
                t.policy,
                PolicyStatus::not_enforced(EnforceReason::OtherReason),
            )
        })
        .collect();
}

/// With every cell silent (or none reported yet) the whole E2 side is: the policies no cell
/// decides for are NOT_ENFORCED too.
fn all_silent(cells: &Cells, policies: &[StoredPolicy]) -> Vec<(PolicyKey, PolicyStatus)> {
    if !cells.values().all(|c| c.silent) {
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
