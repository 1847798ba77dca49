//! Root build script: what only the final binary can own.
//!
//! - `MAESTRO_GIT_REV`: the git revision of the build, shown by `maestro --version`
//!   ("unknown" outside a git checkout).
//! - With feature `flexric` (see `ffi/`), the run-time link path to FlexRIC's library will be
//!   set here so `maestro xapp --e2 flexric` runs without LD_LIBRARY_PATH.

use std::process::Command;

fn main() {
    let rev = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=MAESTRO_GIT_REV={rev}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
}
