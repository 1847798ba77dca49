//! `maestro e2-bridge`: the supervised child that hosts the E2 side for `maestro xapp`
//! (FlexRIC's xApp library, or the built-in emulated gNB) and speaks the bridge protocol
//! (newline-delimited JSON) on stdin/stdout; it logs to stderr only. The xApp starts it
//! itself (`--e2 flexric`, `--e2 bridge-emulator`); run by hand, it is a way to see what the
//! E2 side says: `maestro e2-bridge --node emulator --config emu.json`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};
use maestro_xapp::e2::bridge::child::{run_child, ChildExit};
use maestro_xapp::e2::{E2Config, Host, NodeKind, StartError};

/// Options of `maestro e2-bridge`.
#[derive(Debug, Args)]
#[command(after_help = "Protocol (one JSON object per line):\n  \
    stdout: {\"kind\":\"hello\",...} {\"kind\":\"report\",...} {\"kind\":\"outcome\",\"seq\":N,...} \
    {\"kind\":\"e2_state\",...}\n  \
    stdin : {\"kind\":\"control\",\"seq\":N,\"control\":{...}} {\"kind\":\"shutdown\"}\n\
    The child exits when stdin closes.")]
pub struct E2BridgeArgs {
    /// Backend to run in this process.
    #[arg(long, value_parser = node_parser())]
    pub node: NodeKind,
    /// Its configuration (JSON): an emulator config or a FlexRIC config.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Append every control received to this file (JSON lines: pid, seq, control).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
}

/// `--node`: the nodes a child hosts (not `bridge-emulator`: a child does not bridge again),
/// each with what its `--config` holds.
fn node_parser() -> impl TypedValueParser<Value = NodeKind> {
    PossibleValuesParser::new([
        PossibleValue::new(NodeKind::Emulator.as_str())
            .help("The built-in emulated gNB (`--config`: an emulator config, JSON)"),
        PossibleValue::new(NodeKind::Flexric.as_str()).help(
            "FlexRIC's near-RT RIC (`--config`: a FlexRIC config, JSON; needs `--features flexric`)",
        ),
    ])
    .try_map(|name| NodeKind::from_str(&name, false))
}

/// Serves the backend on stdin/stdout until `shutdown` or the end of stdin.
pub async fn run(args: E2BridgeArgs) -> anyhow::Result<ExitCode> {
    super::init_logging("info");
    let config = E2Config::read_for_bridge_child(args.node, &args.config).context("e2-bridge")?;
    // Before any backend starts: FlexRIC's library prints to stdout.
    let protocol = take_protocol_stdout()?;
    let backend = maestro_xapp::e2::start(&config, Host::BridgeChild)
        .await
        .map_err(start_failed)?
        .backend;
    let (stdin, stdout, copier) = std_pipes(protocol);
    let exit = run_child(backend, stdin, stdout, args.journal).await?;
    // run_child dropped its end of stdout: let the copier write the last lines out.
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        tokio::task::spawn_blocking(move || copier.join()),
    )
    .await;
    tracing::info!(?exit, "e2-bridge stopping");
    match exit {
        ChildExit::Shutdown | ChildExit::ParentGone => Ok(ExitCode::SUCCESS),
    }
}

/// Keeps a private duplicate of stdout for the protocol and points descriptor 1 at stderr, so
/// that whatever a C library in this process prints to stdout (FlexRIC `printf`s its progress)
/// lands in the log instead of between protocol lines.
fn take_protocol_stdout() -> anyhow::Result<std::fs::File> {
    use std::os::fd::AsFd;
    let protocol = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .context("e2-bridge: cannot duplicate stdout for the protocol")?;
    // SAFETY: dup2 on two descriptors this process has open (stderr onto stdout); it touches
    // no memory. Rust's own stdout is line-buffered and empty at this point.
    if unsafe { libc::dup2(2, 1) } < 0 {
        anyhow::bail!(
            "e2-bridge: cannot point stdout at stderr: {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(std::fs::File::from(protocol))
}

/// The process' stdin and the protocol's stdout as async halves, each copied by a blocking thread (the
/// build's tokio has no `io-std`; threads also work whatever the descriptors are: pipes,
/// files or a terminal). Returns the copier thread of stdout, which ends once the returned
/// writer is dropped and everything written has reached stdout.
fn std_pipes(
    protocol: std::fs::File,
) -> (
    tokio::io::BufReader<tokio::io::DuplexStream>,
    tokio::io::DuplexStream,
    std::thread::JoinHandle<()>,
) {
    use std::io::{Read, Write};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let handle = tokio::runtime::Handle::current();
    let (mut stdin_tx, stdin_rx) = tokio::io::duplex(64 * 1024);
    let reading = handle.clone();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if reading.block_on(stdin_tx.write_all(&buf[..n])).is_err() {
                        break;
                    }
                }
            }
        }
        // Dropping `stdin_tx` is the end of stream the child loop sees.
    });
    let (stdout_tx, mut stdout_rx) = tokio::io::duplex(1024 * 1024);
    let copier = std::thread::spawn(move || {
        let mut stdout = std::io::LineWriter::new(protocol);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match handle.block_on(stdout_rx.read(&mut buf)) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if stdout
                        .write_all(&buf[..n])
                        .and_then(|()| stdout.flush())
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    (tokio::io::BufReader::new(stdin_rx), stdout_tx, copier)
}

/// The child's line for a backend that did not start: `e2-bridge: emulated gNB: ...`,
/// `e2-bridge: FlexRIC backend: ...`, `e2-bridge --node flexric: this maestro was built
/// without FlexRIC; ...`.
fn start_failed(e: StartError) -> anyhow::Error {
    match e {
        StartError::FlexricNotBuilt => anyhow::anyhow!("e2-bridge --node flexric: {e}"),
        StartError::FlexricConfig(e) => e.into(),
        e => anyhow::Error::new(e).context("e2-bridge"),
    }
}
