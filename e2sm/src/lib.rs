//! O-RAN E2 service-model messages the MAESTRO xApp sends and receives.
//!
//! Plain Rust types with the invariants of the standard enforced at construction, and the
//! ASN.1 APER codecs of E2SM-RC v1.03 and E2SM-KPM v02.03 / v03.00 for them.
//!
//! - [`rc`]: E2SM-RC control style 2, action 6 "Slice-level PRB quota".
//! - [`rc_aper`]: that control as E2SM-RC ControlHeader/ControlMessage APER bytes.
//! - [`per`], [`rc_per`], [`kpm_per`]: the fast hand-written ALIGNED PER (X.691) bit
//!   writer/reader and the E2SM-RC control and E2SM-KPM indication codecs built on it; the
//!   rasn-generated codecs are their reference in the tests.
//! - [`kpm`]: E2SM-KPM event trigger, action definition (formats 1, 4), indication header
//!   (format 1, whose TimeStamp is 4 octets in v02.03 and 8 in v03.00, the versions' one
//!   difference: [`kpm::KpmVersion`]) and message (formats 1, 3); [`kpm_aper`]: their APER
//!   bytes.
//! - [`kpm_cell`]: a cell's per-period report as the KPM indications an E2 node sends.
//! - [`report`]: per-UE CQI and per-slice throughput/PRB measurements from the E2 node.

mod asn1;
pub mod kpm;
pub mod kpm_aper;
pub mod kpm_cell;
pub mod kpm_per;
pub mod per;
pub mod rc;
pub mod rc_aper;
pub mod rc_per;
pub mod report;
