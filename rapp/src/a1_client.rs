//! The historical path of the A1-P v2 client: [`crate::a1`] now holds both A1 adapters
//! behind one trait; this module re-exports the A1-P v2 one and the shared types so that
//! `maestro_rapp::a1_client::{A1Client, A1ClientError, PutResult}` keep working.

pub use crate::a1::a1p_v2::A1Client;
pub use crate::a1::{A1ClientError, PutResult};
