//! O-RAN E2 service-model messages the MAESTRO xApp sends and receives.
//!
//! For now these are plain Rust types with the invariants of the standard enforced at
//! construction; the ASN.1 APER codec (E2SM-RC v1.03, E2SM-KPM v3.00) arrives with its own
//! issue and will encode exactly these values.
//!
//! - [`rc`]: E2SM-RC control style 2, action 6 "Slice-level PRB quota".
//! - [`report`]: per-UE CQI and per-slice throughput/PRB measurements from the E2 node.

pub mod rc;
pub mod report;
