//! The SLA timeline (the paper's Fig. 5, `maestro experiment sla-timeline`): the rApp watches
//! the xApp's KPI stream for the length of a drive, and every renegotiation comes from the
//! observability unit — the enforced consensus became unachievable, or far below what the
//! operators want and the cell can carry, for the hold time — never from a timer. The
//! operators' business intents change over time (the scenario's phases); an operator whose
//! minimum useful throughput the cell cannot carry votes to switch the slice off, and a
//! unanimous vote is enforced as a zero-throughput A1 policy (`maxDlThptPerSlice` = 0, which
//! `ORAN_SliceSLATarget_1.0.0` defines as "switch the slice off"). The arbitral unit's
//! standing (warnings, penalties, exclusions) carries over a session: every negotiation while
//! the same business intents stand (a phase); new intents start a new session.
//!
//! This module is the rApp's side only (it talks to the xApp over A1 and gRPC, as in a real
//! deployment); `maestro experiment sla-timeline` starts the xApp with its emulated gNB on
//! the simulated or real-time clock and hands over the endpoints. [`write_outputs`] writes the
//! timeline plot (SVG and PNG), the JSON event log, and [`TimelineReport::table`] is the
//! printed summary.
//!
//! The parts, one job each, dependencies one way (`run` → `feed`, `scenario`, `report`;
//! `output` → `report`, `plot`):
//!
//! - `scenario`: the scenario file, its validation, and what the operators want at a time;
//! - `run`: the run itself, step by step, against the xApp's A1 and KPI endpoints;
//! - `feed`: the KPI stream's periods as the observability unit saw them;
//! - `report`: what a run produced and its analysis (how each consensus was held);
//! - `output`: the printed table, the JSON event log, the per-period CSV, the plot's files;
//! - `plot`: the timeline plot ([`timeline_svg`]);
//! - `drive`: the built-in synthetic CQI drive ([`synthetic_drive_csv`]);
//! - `error`: [`TimelineError`].

mod drive;
mod error;
mod feed;
mod output;
mod plot;
mod report;
mod run;
mod scenario;

pub use drive::synthetic_drive_csv;
pub use error::TimelineError;
pub use output::{write_outputs, TimelineFiles};
pub use plot::timeline_svg;
pub use report::{Cause, Event, Sample, Segment, TimelineNegotiation, TimelineReport};
pub use run::{run, TimelineJob};
pub use scenario::{Phase, PhaseIntent, TimelineOperator, TimelineScenario, BUILTIN_SCENARIO};
