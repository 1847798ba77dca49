//! Many cells: one negotiation per cell, run concurrently, each with its own KPI subscription
//! (filtered to its cell), its own observability bound and its own policies (scoped to its
//! cell by `sliceSlaResources.cellIdList`, A1TD clause 6.3.4.3).
//!
//! The cells come from the scenario (`"cells": [...]`) or are every cell the KPI streams
//! report (`"cells": "every"`). With several xApps (each a shard of the RAN), each cell's
//! policies go to the xApp whose KPI stream reports it: the rApp learns which xApp serves
//! which cell by listening ([`discover`]), so it needs no copy of the xApps' shard settings.
//! An rApp that is itself one of R replicas negotiates only the cells its [`Shard`] owns (the
//! same rule as the xApp's, [`maestro_api::shard`]).

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::join_all;
use maestro_api::shard::Shard;
use serde::Serialize;
use tracing::Instrument;

use crate::auth::ClientAuth;
use crate::kpi_client;
use crate::observability::Fired;
use crate::run::{run_with, PassResources, RappError, RappJob, RappReport};
use crate::scenario::CellSelection;
use crate::transcript::new_id;
use crate::web::LiveHub;

/// One xApp: its A1 termination and its KPI stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XappEndpoint {
    /// A1 base URL.
    pub a1_url: String,
    /// KPI stream gRPC endpoint.
    pub kpi_url: String,
}

/// What a many-cell run needs.
#[derive(Debug, Clone)]
pub struct CellsJob {
    /// The pass every cell plays (scenario, LLM, observation, credentials); its URLs and cell
    /// are set per cell.
    pub pass: RappJob,
    /// The xApps (one per shard of the RAN; one for an unsharded RAN).
    pub xapps: Vec<XappEndpoint>,
    /// Which cells.
    pub cells: CellSelection,
    /// This rApp's shard of the cells (the whole RAN by default).
    pub shard: Shard,
    /// How long to listen for cells before negotiating (wall clock), after the first report.
    pub discovery: Duration,
    /// How many times a cell whose renegotiation trigger fired while its consensus was
    /// watched negotiates again (each time a fresh pass on that cell alone); 0: never.
    pub renegotiations: u32,
}

/// One cell's pass.
#[derive(Debug, Clone, Serialize)]
pub struct CellPass {
    /// The cell.
    pub cell_id: String,
    /// The xApp that serves it.
    pub xapp: XappEndpoint,
    /// Its last pass, when it ran to the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<RappReport>,
    /// Renegotiations its trigger caused (passes before the last one).
    pub renegotiations: u32,
    /// When its trigger fired, pass by pass (the last pass's firing included).
    pub triggers: Vec<Fired>,
    /// Why it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl CellPass {
    /// Every slice of the cell held its target whenever achievable.
    pub fn passed(&self) -> bool {
        self.report.as_ref().is_some_and(|r| r.pass)
    }
}

/// What a many-cell run produced (also the JSON report).
#[derive(Debug, Clone, Serialize)]
pub struct CellsReport {
    /// This rApp's shard of the cells.
    pub shard: Shard,
    /// Per cell, in cell id order.
    pub cells: Vec<CellPass>,
    /// Every cell passed.
    pub pass: bool,
}

/// Listens to each xApp's KPI stream and returns which xApp (index into `xapps`) reports
/// each cell. A stream starts with the latest report of each cell it knows; listening goes
/// on until a cell reports a second time (a full report period) once [`DISCOVERY_SETTLE`]
/// has passed, or `window` after the first report, whichever is first. A cell two xApps both report is an error (overlapping shards).
pub async fn discover(
    xapps: &[XappEndpoint],
    auth: &ClientAuth,
    connect_timeout: Duration,
    window: Duration,
) -> Result<BTreeMap<String, usize>, RappError> {
    let listens = xapps
        .iter()
        .map(|x| cells_of(x, auth, connect_timeout, window));
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    for (i, cells) in join_all(listens).await.into_iter().enumerate() {
        for cell in cells? {
            if let Some(&other) = owner.get(&cell) {
                return Err(RappError::Cells(format!(
                    "cell {cell} is reported by two xApps, {} and {}: their shards overlap",
                    xapps[other].kpi_url, xapps[i].kpi_url
                )));
            }
            owner.insert(cell, i);
        }
    }
    Ok(owner)
}

/// The cells one xApp's KPI stream reports (see [`discover`]).
async fn cells_of(
    xapp: &XappEndpoint,
    auth: &ClientAuth,
    connect_timeout: Duration,
    window: Duration,
) -> Result<Vec<String>, RappError> {
    let mut stream = kpi_client::subscribe_with(
        &xapp.kpi_url,
        "maestro-rapp-discovery",
        connect_timeout,
        auth,
    )
    .await?;
    let first = kpi_client::next_report(&xapp.kpi_url, &mut stream)
        .await?
        .ok_or(RappError::StreamEnded(0))?;
    let mut heard = Heard::new(first.cell_id, window);
    let until = tokio::time::Instant::now() + window;
    loop {
        let next =
            tokio::time::timeout_at(until, kpi_client::next_report(&xapp.kpi_url, &mut stream));
        match next.await {
            Ok(Ok(Some(report))) => {
                if !heard.report(report.cell_id, heard.since_first()) {
                    break;
                }
            }
            Ok(Ok(None)) | Err(_) => break,
            Ok(Err(e)) => return Err(e.into()),
        }
    }
    Ok(heard.cells)
}

/// The least time discovery listens after the first report before a repeat ends it: cells
/// start their clocks one after another, and on a busy machine one may report twice before
/// the next reports at all (seen in `tests/demo.rs`: 1 of 4 cells found). Capped by the window.
const DISCOVERY_SETTLE: Duration = Duration::from_secs(1);

/// The cells heard so far on one KPI stream, and when listening may stop.
struct Heard {
    cells: Vec<String>,
    first_at: tokio::time::Instant,
    settle: Duration,
}

impl Heard {
    fn new(first: String, window: Duration) -> Self {
        Self {
            cells: vec![first],
            first_at: tokio::time::Instant::now(),
            settle: DISCOVERY_SETTLE.min(window),
        }
    }

    fn since_first(&self) -> Duration {
        self.first_at.elapsed()
    }

    /// A report of `cell`, `at` after the first: whether to keep listening (no cell has
    /// reported a second time since the settling time).
    fn report(&mut self, cell: String, at: Duration) -> bool {
        if !self.cells.contains(&cell) {
            self.cells.push(cell);
            return true;
        }
        at < self.settle
    }
}

/// Which cells to negotiate, and at which xApp: the selected cells among those reported,
/// those of `shard`. A listed cell no xApp reports is an error naming it.
pub fn plan(
    selection: &CellSelection,
    reported: &BTreeMap<String, usize>,
    shard: Shard,
) -> Result<Vec<(String, usize)>, RappError> {
    let chosen: Vec<(String, usize)> = match selection {
        CellSelection::Every(_) => reported.iter().map(|(c, &x)| (c.clone(), x)).collect(),
        CellSelection::Listed(cells) => {
            let missing: Vec<&str> = cells
                .iter()
                .filter(|c| !reported.contains_key(*c))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(RappError::Cells(format!(
                    "no xApp reports cell(s) {} (reported: {})",
                    missing.join(", "),
                    reported.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
            let mut cells: Vec<(String, usize)> =
                cells.iter().map(|c| (c.clone(), reported[c])).collect();
            cells.sort();
            cells.dedup();
            cells
        }
    };
    Ok(chosen
        .into_iter()
        .filter(|(cell, _)| shard.owns(cell))
        .collect())
}

/// Runs one pass per cell, concurrently: discovers the cells, plans them, plays every cell's
/// negotiation and enforcement watch at once. A cell whose pass fails (its xApp went away) is
/// reported with its error; the others carry on.
pub async fn run_cells(job: &CellsJob, live: Option<&LiveHub>) -> Result<CellsReport, RappError> {
    if job.xapps.is_empty() {
        return Err(RappError::Cells("no xApp to negotiate with".into()));
    }
    job.pass.scenario.validate()?;
    let reported = discover(
        &job.xapps,
        &job.pass.auth,
        job.pass.connect_timeout,
        job.discovery,
    )
    .await?;
    let planned = plan(&job.cells, &reported, job.shard)?;
    tracing::info!(
        shard = %job.shard,
        cells = planned.len(),
        reported = reported.len(),
        "negotiating one pass per cell"
    );
    let resources = PassResources::for_job(&job.pass)?;
    let passes = planned.iter().map(|(cell_id, x)| {
        let xapp = job.xapps[*x].clone();
        let pass = RappJob {
            a1_url: xapp.a1_url.clone(),
            kpi_url: xapp.kpi_url.clone(),
            cell: Some(cell_id.clone()),
            ..job.pass.clone()
        };
        let resources = &resources;
        let span = tracing::info_span!("cell", cell = %cell_id);
        let max_renegotiations = job.renegotiations;
        async move {
            let mut renegotiations = 0;
            let mut triggers = Vec::new();
            let (report, error) = loop {
                let id = new_id();
                let result = run_with(&pass, resources, live, &id).await;
                if let (Err(e), Some(live)) = (&result, live) {
                    live.fail(&id, &e.to_string());
                }
                match result {
                    Ok(r) => {
                        triggers.extend(r.trigger);
                        if r.trigger.is_none() || renegotiations >= max_renegotiations {
                            break (Some(r), None);
                        }
                        renegotiations += 1;
                        tracing::info!(renegotiations, "cell renegotiates (trigger fired)");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cell pass failed");
                        break (None, Some(e.to_string()));
                    }
                }
            };
            CellPass {
                cell_id: cell_id.clone(),
                xapp,
                report,
                error,
                renegotiations,
                triggers,
            }
        }
        .instrument(span)
    });
    let cells = join_all(passes).await;
    let pass = !cells.is_empty() && cells.iter().all(CellPass::passed);
    Ok(CellsReport {
        shard: job.shard,
        cells,
        pass,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cell_that_reports_twice_before_the_others_start_does_not_end_discovery() {
        let ms = Duration::from_millis;
        // Cell 1 every 17 ms; cells 2..4 start 40 ms late (a busy machine).
        let mut heard = Heard::new("c1".into(), Duration::from_secs(5));
        for (cell, at) in [("c1", 17), ("c2", 40), ("c3", 41), ("c4", 42), ("c1", 51)] {
            assert!(heard.report(cell.into(), ms(at)), "{cell} at {at} ms");
        }
        assert_eq!(heard.cells, ["c1", "c2", "c3", "c4"]);
        // Past the settling time a repeat ends it.
        assert!(!heard.report("c2".into(), ms(1_001)));
        // A window shorter than the settling time caps it.
        let mut short = Heard::new("c1".into(), ms(200));
        assert!(!short.report("c1".into(), ms(250)));
    }

    use super::*;

    fn reported(cells: &[(&str, usize)]) -> BTreeMap<String, usize> {
        cells.iter().map(|(c, x)| ((*c).to_owned(), *x)).collect()
    }

    #[test]
    fn selections_read_from_text_and_json() {
        assert_eq!("every".parse::<CellSelection>(), Ok(CellSelection::EVERY));
        assert_eq!(
            "001-01-0000000001, 001-01-0000000002".parse::<CellSelection>(),
            Ok(CellSelection::Listed(vec![
                "001-01-0000000001".into(),
                "001-01-0000000002".into()
            ]))
        );
        let every: CellSelection = serde_json::from_str("\"every\"").expect("every");
        assert_eq!(every, CellSelection::EVERY);
        let listed: CellSelection = serde_json::from_str("[\"001-01-0000000003\"]").expect("list");
        assert_eq!(
            listed,
            CellSelection::Listed(vec!["001-01-0000000003".into()])
        );
        assert!(serde_json::from_str::<CellSelection>("\"all\"").is_err());
    }

    #[test]
    fn plans_pick_the_selected_cells_at_their_xapps_within_the_shard() {
        let r = reported(&[("c1", 0), ("c2", 1), ("c3", 1)]);
        let every = plan(&CellSelection::EVERY, &r, Shard::WHOLE).expect("plan");
        assert_eq!(
            every,
            vec![("c1".into(), 0), ("c2".into(), 1), ("c3".into(), 1)]
        );
        let listed = CellSelection::Listed(vec!["c3".into(), "c1".into()]);
        assert_eq!(
            plan(&listed, &r, Shard::WHOLE).expect("plan"),
            vec![("c1".into(), 0), ("c3".into(), 1)]
        );
        assert!(CellSelection::Listed(vec![]).check().is_err());
        assert!(CellSelection::Listed(vec!["cell-9".into()])
            .check()
            .is_err());
        assert!(CellSelection::Listed(vec!["001-01-0000000009".into()])
            .check()
            .is_ok());
        let unknown = CellSelection::Listed(vec!["c9".into()]);
        let err = plan(&unknown, &r, Shard::WHOLE).expect_err("unknown cell");
        assert!(err.to_string().contains("c9"), "{err}");
        // Two rApp shards split the cells between them, each cell exactly once.
        let mut union: Vec<String> = (0..2)
            .flat_map(|i| {
                let shard = Shard::new(i, 2).expect("shard");
                plan(&CellSelection::EVERY, &r, shard).expect("plan")
            })
            .map(|(c, _)| c)
            .collect();
        union.sort();
        assert_eq!(union, vec!["c1", "c2", "c3"]);
    }
}
