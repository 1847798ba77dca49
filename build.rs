//! Root build script: what only the final binary can own.
//!
//! - `MAESTRO_GIT_REV`: the git revision of the build, shown by `maestro --version`
//!   ("unknown" outside a git checkout).
//! - With feature `flexric` (see `ffi/`), the run-time link path (rpath) to FlexRIC's library
//!   is set here so `maestro xapp --e2 flexric` runs without LD_LIBRARY_PATH.

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
    flexric_rpath();
}

/// With feature `flexric`: an rpath to FlexRIC's `lib/` (same search as `ffi/build.rs`:
/// `FLEXRIC_DIR`, else `/usr/local`, `/opt/flexric`), so `maestro` finds
/// `libe42_xapp_shared.so` without LD_LIBRARY_PATH. `maestro-ffi` links the library itself.
fn flexric_rpath() {
    println!("cargo:rerun-if-env-changed=FLEXRIC_DIR");
    if std::env::var_os("CARGO_FEATURE_FLEXRIC").is_none() {
        return;
    }
    let header = "include/flexric/xApp/e42_xapp_api.h";
    let prefix = std::env::var_os("FLEXRIC_DIR")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain(["/usr/local", "/opt/flexric"].map(std::path::PathBuf::from))
        .find(|p| p.join(header).is_file());
    if let Some(lib) = prefix.map(|p| p.join("lib")) {
        println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{}", lib.display());
        if !lib.join("libe42_xapp_shared.so").is_file() {
            // Static libe42_xapp.a: GCC nested functions need an executable stack.
            println!("cargo:rustc-link-arg-bins=-Wl,-z,execstack");
        }
    }
}
