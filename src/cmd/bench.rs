//! `maestro bench`: a forwarder to the separate `maestro-bench` binary (the benchmarks and
//! load tools, crate `bench/`), so the shipped binary carries none of them.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::bail;
use clap::Args;

/// The binary `maestro bench` runs.
const BENCH_BIN: &str = "maestro-bench";

/// Options of `maestro bench`: all of them go to `maestro-bench`.
#[derive(Debug, Args)]
#[command(
    after_help = "Every argument goes to maestro-bench, found beside this binary or on \
    PATH (build it: cargo build --release -p maestro-bench); `maestro bench all --help` lists \
    its benchmarks and options.\n\n\
    Examples:\n  \
    maestro bench                         # every figure, defaults\n  \
    maestro bench a1-latency --puts 5000\n  \
    maestro bench a1-load --rate 1000 --seconds 10\n  \
    maestro bench soak --minutes 10 --json soak.json"
)]
pub struct BenchArgs {
    /// The benchmark and its options, as `maestro-bench` takes them.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<OsString>,
}

/// `maestro-bench` beside this executable, else the first on PATH.
fn find_bench() -> Option<PathBuf> {
    let name = format!("{BENCH_BIN}{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name(&name));
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(&name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    beside.into_iter().chain(on_path).find(|p| p.is_file())
}

/// Runs `maestro-bench` with `args`: on Unix in place of this process, elsewhere as a child
/// whose exit code becomes this one's.
pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let Some(bin) = find_bench() else {
        bail!(
            "maestro bench needs the {BENCH_BIN} binary (not beside this one nor on PATH): \
             cargo build --release -p maestro-bench"
        );
    };
    let mut command = Command::new(&bin);
    command.args(&args.args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let e = command.exec();
        bail!("cannot run {}: {e}", bin.display());
    }
    #[cfg(not(unix))]
    {
        let status = command
            .status()
            .map_err(|e| anyhow::anyhow!("cannot run {}: {e}", bin.display()))?;
        Ok(ExitCode::from(
            status.code().map_or(1, |c| u8::try_from(c).unwrap_or(1)),
        ))
    }
}
