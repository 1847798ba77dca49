//! The supervised E2 bridge: the E2 node runs in a child process, `maestro e2-bridge`, that
//! the xApp talks to over the child's stdin/stdout with newline-delimited JSON
//! ([`protocol`]). FlexRIC's xApp library aborts its process when the near-RT RIC is slow and
//! runs callbacks on its own thread, so the process that serves A1 must not host it: the
//! child ([`child`]) can die, the parent ([`supervisor`]) restarts it with backoff, re-sends
//! the last PRB quota and reports the E2 state in health, metrics and policy status
//! ([`health`]), with the child's last stderr line when it died ([`stderr_tail`]). Any [`E2Backend`](super::E2Backend) can sit in the child; the built-in
//! emulated gNB does in tests.

pub mod child;
pub mod health;
pub mod protocol;
mod stderr_tail;
pub mod supervisor;

pub use supervisor::{BridgeBackend, BridgeOptions, BridgeStatus, ChildSpec, LinkState};
