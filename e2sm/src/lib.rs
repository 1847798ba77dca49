//! O-RAN E2 service-model messages the MAESTRO xApp sends and receives.
//!
//! Plain Rust types with the invariants of the standard enforced at construction, and the
//! ASN.1 APER codec of E2SM-RC v1.03 for them ([`rc_aper`]; E2SM-KPM v3.00 is still to come).
//!
//! - [`rc`]: E2SM-RC control style 2, action 6 "Slice-level PRB quota".
//! - [`rc_aper`]: that control as E2SM-RC ControlHeader/ControlMessage APER bytes.
//! - [`report`]: per-UE CQI and per-slice throughput/PRB measurements from the E2 node.

mod asn1_rc;
pub mod rc;
pub mod rc_aper;
pub mod report;
