//! O-RAN E2 service-model messages the MAESTRO xApp sends and receives.
//!
//! Plain Rust types with the invariants of the standard enforced at construction, and the
//! ASN.1 APER codecs of E2SM-RC v1.03 and E2SM-KPM v3.00 for them.
//!
//! - [`rc`]: E2SM-RC control style 2, action 6 "Slice-level PRB quota".
//! - [`rc_aper`]: that control as E2SM-RC ControlHeader/ControlMessage APER bytes.
//! - [`kpm`]: E2SM-KPM v3.00 event trigger, action definition (formats 1, 4), indication
//!   header (format 1) and message (formats 1, 3); [`kpm_aper`]: their APER bytes.
//! - [`report`]: per-UE CQI and per-slice throughput/PRB measurements from the E2 node.

mod asn1;
pub mod kpm;
pub mod kpm_aper;
pub mod rc;
pub mod rc_aper;
pub mod report;
