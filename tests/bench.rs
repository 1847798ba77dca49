//! `maestro bench` forwards every argument to the `maestro-bench` binary beside it (or on
//! PATH), and without one says in one line how to build it. The benchmarks themselves are
//! tested in bench/tests/.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A directory holding a link to the `maestro` under test, and nothing else: no
/// `maestro-bench` beside it. Inside the target directory, so a hard link works.
fn lone_maestro() -> (tempfile::TempDir, PathBuf) {
    let exe = Path::new(env!("CARGO_BIN_EXE_maestro"));
    let dir = tempfile::tempdir_in(exe.parent().expect("the binary has a directory"))
        .expect("temporary directory beside the binary");
    let link = dir.path().join("maestro");
    if std::fs::hard_link(exe, &link).is_err() {
        std::fs::copy(exe, &link).expect("copy of maestro");
    }
    (dir, link)
}

#[test]
fn bench_without_the_bench_binary_is_one_readable_line() {
    let (_dir, maestro) = lone_maestro();
    let out = Command::new(&maestro)
        .args(["bench", "a1-latency", "--puts", "5"])
        .env("PATH", "")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("cargo build --release -p maestro-bench"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn bench_forwards_every_argument_and_the_exit_code() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, maestro) = lone_maestro();
    // A stand-in for maestro-bench that echoes its arguments and exits 3.
    let fake = dir.path().join("maestro-bench");
    std::fs::write(&fake, "#!/bin/sh\necho \"args: $*\"\nexit 3\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(&maestro)
        .args(["bench", "soak", "--minutes", "1", "--json", "out.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "args: soak --minutes 1 --json out.json"
    );
}

#[test]
fn bench_help_says_what_it_runs() {
    let out = common::maestro()
        .args(["bench", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("maestro-bench"), "{help}");
}
