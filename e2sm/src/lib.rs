//! O-RAN E2 service-model messages the MAESTRO xApp sends and receives.
//!
//! Plain Rust types with the invariants of the standard enforced at construction, and the
//! ASN.1 APER codecs of E2SM-RC v1.03 and E2SM-KPM v02.03 / v03.00 for them.
//!
//! - [`common`]: the E2SM common IEs both service models use (PLMN identity, S-NSSAI,
//!   gNB-UEID).
//! - [`per`]: the fast hand-written ALIGNED PER (X.691) bit writer/reader (and X.690 REAL
//!   contents) the codecs are built on.
//! - [`rc`]: E2SM-RC control style 2, action 6 "Slice-level PRB quota", and its
//!   ControlHeader/ControlMessage APER bytes; [`rc::codec`] is the hand-written codec behind
//!   the API.
//! - [`kpm`]: E2SM-KPM event trigger, action definition (formats 1, 4), indication header
//!   (format 1, whose TimeStamp is 4 octets in v02.03 and 8 in v03.00, the versions' one
//!   difference: [`kpm::KpmVersion`]) and message (formats 1, 3), and their APER bytes;
//!   [`kpm::codec`] is the hand-written indication codec, [`kpm::cell`] a cell's per-period
//!   report as the KPM indications an E2 node sends.
//! - [`report`]: per-UE CQI and per-slice throughput/PRB measurements from the E2 node.
//!
//! With the feature `reference`, `rc::reference` and `kpm::reference` are the rasn codecs of
//! the types `rasn-compiler` generates from `asn1/*.asn` at build time: the reference of the
//! hand-written codecs in the tests, benches and fuzz targets, and (for now) the only codec of
//! the KPM event trigger and action definition. Without it neither rasn nor rasn-compiler is
//! built.

pub mod common;
pub mod kpm;
pub mod per;
pub mod rc;
pub mod report;
