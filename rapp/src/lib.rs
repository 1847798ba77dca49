//! The MAESTRO non-RT rApp.
//!
//! One agent per business operator negotiates the throughput SLA with the MAESTRO mediator
//! ([`negotiation`]); the consensus leaves as standard A1 policies ([`a1`]: to an A1-P v2
//! termination or a Non-RT RIC policy management service); the xApp's KPI stream
//! ([`kpi_client`]) feeds the observability unit ([`observability`]). [`run`] is one pass of
//! that loop over a [`scenario`], and [`cells`] one such pass per cell, concurrently (many cells,
//! many xApps); [`experiment`] runs the paper's experiments.
//! [`transcript`] keeps every negotiation's full record in an embedded database, by
//! negotiation id. [`metrics`] exposes the last pass to Prometheus; [`web`] is the live page.

pub mod a1;
pub mod auth;
pub mod cells;
pub mod consensus_watch;
pub mod experiment;
pub mod kpi_client;
pub mod metrics;
pub mod negotiation;
pub mod observability;
pub mod run;
pub mod scenario;
pub mod transcript;
pub mod web;
