//! Contracts between the MAESTRO rApp and xApp.
//!
//! The two apps never share code paths at run time: they talk over A1-P v2 (HTTP/JSON) and a
//! gRPC KPI stream, exactly as they would when deployed in different clusters. This crate holds
//! the types both sides agree on:
//!
//! - [`a1`]: A1-P v2 policy documents and statuses (O-RAN A1AP v2 / A1TD).
//! - [`cell`]: cell ids as KPI reports write them, and as A1 `CellId`s.
//! - [`policy_type`]: the policy types we ship, with their draft-07 JSON Schemas and a validator.
//! - [`problem`]: RFC 7807 `application/problem+json` error bodies.
//! - [`kpi`]: the KPI stream gRPC service (tonic), server and client.
//! - [`shard`]: which of K replicas owns a cell (the xApp and rApp shard the same way).

pub mod a1;
pub mod cell;
pub mod kpi;
pub mod policy_type;
pub mod problem;
pub mod shard;
