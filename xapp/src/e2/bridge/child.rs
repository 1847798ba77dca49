//! The child side of the E2 bridge (`maestro e2-bridge`): any [`E2Backend`] driven over
//! stdin/stdout with the [`protocol`](super::protocol). It announces the backend with a
//! `hello`, forwards every report, answers each `control` with an `outcome` of the same
//! `seq` (controls are applied in arrival order), and exits on `shutdown` or when stdin
//! closes (the parent is gone: no orphan keeps the E2 node).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use maestro_e2sm::rc::{ControlOutcome, SlicePrbQuotaControl};
use tokio::io::{AsyncBufRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc};

use super::protocol::{encode_line, ChildMessage, LineReader, ParentMessage};
use crate::e2::E2Backend;

/// Why the child loop stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    /// stdout is gone (the parent closed it).
    #[error("E2 bridge: cannot write to the parent: {0}")]
    Output(String),
    /// The backend's report stream ended: the E2 side is gone.
    #[error("E2 bridge: the {0} backend stopped reporting")]
    ReportsClosed(&'static str),
}

/// How the child loop ended normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildExit {
    /// The parent sent `shutdown`.
    Shutdown,
    /// stdin reached end of stream.
    ParentGone,
}

/// Serves `backend` over `input` / `output` until shutdown, end of input or a broken output.
/// `journal`, when given, gets one JSON line per control received (`pid`, `seq`, `control`):
/// an audit trail, and how tests see what a restarted child was sent.
pub async fn run_child<R, W>(
    backend: Arc<dyn E2Backend>,
    input: R,
    output: W,
    journal: Option<PathBuf>,
) -> Result<ChildExit, ChildError>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<ChildMessage>(256);
    let mut writer = tokio::spawn(write_lines(rx, output));
    let hello = ChildMessage::Hello {
        backend: backend.name().to_owned(),
        cell: backend.cell().clone(),
        slices: backend.slices().to_vec(),
        nodes: backend.nodes(),
        cells: backend.cell_ids(),
    };
    for node in backend.nodes() {
        tracing::info!(node = %node.node_id, functions = node.ran_functions.len(), "E2 node");
    }
    tx.send(hello)
        .await
        .map_err(|_| ChildError::Output("writer stopped".into()))?;
    let mut forward = tokio::spawn(forward_reports(backend.subscribe(), tx.clone()));
    let presence = tokio::spawn(report_presence(Arc::clone(&backend), tx.clone()));
    let mut reader = LineReader::new(input);
    let result = loop {
        tokio::select! {
            line = reader.next::<ParentMessage>() => match line {
                None => break Ok(ChildExit::ParentGone),
                Some(Ok(ParentMessage::Shutdown)) => break Ok(ChildExit::Shutdown),
                Some(Ok(ParentMessage::Control { seq, control, cell_id })) => {
                    record(journal.as_ref(), seq, cell_id.as_deref(), &control);
                    let sent = match &cell_id {
                        Some(cell) => backend.control_cell(cell, control).await,
                        None => backend.control(control).await,
                    };
                    let outcome = match sent {
                        Ok(outcome) => outcome,
                        Err(e) => ControlOutcome::Failed { cause: e.to_string() },
                    };
                    if tx.send(ChildMessage::Outcome { seq, outcome }).await.is_err() {
                        break Err(ChildError::Output("writer stopped".into()));
                    }
                }
                Some(Err(e)) => tracing::error!("{e}"),
            },
            done = &mut forward => {
                let _ = done;
                let _ = tx
                    .send(ChildMessage::E2State {
                        connected: false,
                        detail: format!("the {} backend stopped reporting", backend.name()),
                    })
                    .await;
                break Err(ChildError::ReportsClosed(backend.name()));
            }
            written = &mut writer => {
                break Err(ChildError::Output(match written {
                    Ok(Err(e)) => e.to_string(),
                    _ => "writer stopped".into(),
                }));
            }
        }
    };
    forward.abort();
    presence.abort();
    drop(tx);
    // Let queued lines (the last outcome, the e2_state) reach the parent.
    if !writer.is_finished() {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), &mut writer).await;
    }
    writer.abort();
    result
}

/// Forwards every report until the backend's stream closes.
async fn forward_reports(
    mut reports: broadcast::Receiver<Arc<maestro_e2sm::report::CellMeasurement>>,
    tx: mpsc::Sender<ChildMessage>,
) {
    loop {
        match reports.recv().await {
            Ok(m) => {
                let message = ChildMessage::Report {
                    measurement: (*m).clone(),
                };
                if tx.send(message).await.is_err() {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(
                    skipped = n,
                    "E2 bridge: the parent reads reports too slowly"
                );
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// How often the child looks whether its backend's node list emptied or filled again.
const PRESENCE_POLL: Duration = Duration::from_secs(1);

/// While the backend lists no E2 node (every node left, or none is heard from), says so to
/// the parent every [`PRESENCE_POLL`] (`e2_state` down, which also keeps the parent's watchdog
/// from restarting a child that is only waiting), and says when a node is listed again (the
/// parent then re-sends the last quotas). A restarted child would do an E42 SETUP to a RIC without a
/// node, which aborts FlexRIC's RIC.
async fn report_presence(backend: Arc<dyn E2Backend>, tx: mpsc::Sender<ChildMessage>) {
    let mut tick = tokio::time::interval(PRESENCE_POLL);
    let mut down = false;
    loop {
        tick.tick().await;
        let Some(listed) = backend.listed_cells() else {
            continue;
        };
        let message = if listed.is_empty() {
            down = true;
            ChildMessage::E2State {
                connected: false,
                detail: format!(
                    "the {} backend hears from no E2 node; waiting for one",
                    backend.name()
                ),
            }
        } else if down {
            down = false;
            ChildMessage::E2State {
                connected: true,
                detail: format!("the {} backend lists an E2 node again", backend.name()),
            }
        } else {
            continue;
        };
        if tx.send(message).await.is_err() {
            return;
        }
    }
}

/// Writes each message as one line and flushes it.
async fn write_lines<W: AsyncWrite + Unpin>(
    mut rx: mpsc::Receiver<ChildMessage>,
    mut output: W,
) -> std::io::Result<()> {
    while let Some(message) = rx.recv().await {
        let line = encode_line(&message).map_err(std::io::Error::other)?;
        output.write_all(line.as_bytes()).await?;
        output.flush().await?;
    }
    Ok(())
}

/// Appends a control to the journal; a journal that cannot be written is logged, not fatal.
fn record(
    journal: Option<&PathBuf>,
    seq: u64,
    cell_id: Option<&str>,
    control: &SlicePrbQuotaControl,
) {
    let Some(path) = journal else { return };
    let entry = serde_json::json!({
        "pid": std::process::id(),
        "seq": seq,
        "cell_id": cell_id,
        "control": control
    });
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| writeln!(f, "{entry}"));
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), "E2 bridge journal not written: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::e2::emulator::{Clock, EmulatedGnb, EmulatorConfig};
    use maestro_e2sm::rc::RrmPolicyRatioGroup;
    use tokio::io::{AsyncWriteExt, BufReader};

    #[tokio::test]
    async fn emulated_gnb_answers_hello_reports_outcomes_and_stops_on_shutdown() {
        let gnb = EmulatedGnb::start(EmulatorConfig {
            clock: Clock::Simulated { speedup: 20.0 },
            ..EmulatorConfig::default()
        })
        .unwrap();
        let member = gnb.slices()[0].clone();
        let (mut to_child, child_in) = tokio::io::duplex(1 << 16);
        let (child_out, from_child) = tokio::io::duplex(1 << 20);
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal.jsonl");
        let child = tokio::spawn(run_child(
            gnb,
            BufReader::new(child_in),
            child_out,
            Some(journal.clone()),
        ));
        let mut lines = LineReader::new(BufReader::new(from_child));
        let hello: ChildMessage = lines.next().await.unwrap().unwrap();
        let ChildMessage::Hello {
            backend,
            slices,
            cell,
            ..
        } = hello
        else {
            panic!("first line must be hello, got {hello:?}");
        };
        assert_eq!(backend, "emulated-gnb");
        assert_eq!(slices.len(), 2);
        assert_eq!(cell.n_prb, 106);

        let good = SlicePrbQuotaControl {
            groups: vec![RrmPolicyRatioGroup::new(member.clone(), 0, 25, 0).unwrap()],
        };
        let bad = SlicePrbQuotaControl {
            groups: vec![RrmPolicyRatioGroup {
                member,
                min_prb_ratio: 50,
                max_prb_ratio: 10,
                dedicated_prb_ratio: 0,
            }],
        };
        for (seq, control) in [(1, &good), (2, &bad)] {
            let line = encode_line(&ParentMessage::Control {
                seq,
                control: control.clone(),
                cell_id: None,
            })
            .unwrap();
            to_child.write_all(line.as_bytes()).await.unwrap();
        }
        to_child.write_all(b"garbage\n").await.unwrap();
        let mut outcomes = Vec::new();
        let mut quota_seen = false;
        while outcomes.len() < 2 || !quota_seen {
            match lines.next::<ChildMessage>().await.unwrap().unwrap() {
                ChildMessage::Outcome { seq, outcome } => outcomes.push((seq, outcome)),
                // 25 % of 106 PRBs = 26 PRBs once the quota is applied.
                ChildMessage::Report { measurement } => {
                    quota_seen |= !outcomes.is_empty() && measurement.slices[0].prb_quota == 26;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(outcomes[0], (1, ControlOutcome::Acknowledged));
        assert_eq!(outcomes[1].0, 2);
        assert!(
            matches!(&outcomes[1].1, ControlOutcome::Failed { cause } if cause.contains("PRB ratios")),
            "{:?}",
            outcomes[1]
        );
        let shutdown = encode_line(&ParentMessage::Shutdown).unwrap();
        to_child.write_all(shutdown.as_bytes()).await.unwrap();
        assert_eq!(child.await.unwrap().unwrap(), ChildExit::Shutdown);

        let text = std::fs::read_to_string(&journal).unwrap();
        let entries: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0]["seq"], 1);
        assert_eq!(entries[0]["control"], serde_json::to_value(&good).unwrap());
        assert_eq!(entries[0]["pid"], std::process::id());
    }

    #[tokio::test]
    async fn closed_stdin_ends_the_child() {
        let gnb = EmulatedGnb::start(EmulatorConfig::default()).unwrap();
        let (to_child, child_in) = tokio::io::duplex(1024);
        let (child_out, _from_child) = tokio::io::duplex(1 << 20);
        drop(to_child);
        let exit = run_child(gnb, BufReader::new(child_in), child_out, None).await;
        assert_eq!(exit.unwrap(), ChildExit::ParentGone);
    }

    async fn next_state<R: tokio::io::AsyncBufRead + Unpin>(
        lines: &mut LineReader<R>,
    ) -> (bool, String) {
        loop {
            if let ChildMessage::E2State { connected, detail } =
                lines.next::<ChildMessage>().await.unwrap().unwrap()
            {
                return (connected, detail);
            }
        }
    }

    #[tokio::test]
    async fn says_the_e2_side_is_down_while_no_node_is_listed_and_up_when_one_is_again() {
        let gnb = EmulatedGnb::start(EmulatorConfig {
            clock: Clock::Simulated { speedup: 20.0 },
            ..EmulatorConfig::default()
        })
        .unwrap();
        let link = gnb.link_fault();
        let (_to_child, child_in) = tokio::io::duplex(1024);
        let (child_out, from_child) = tokio::io::duplex(1 << 20);
        let child = tokio::spawn(run_child(gnb, BufReader::new(child_in), child_out, None));
        let mut lines = LineReader::new(BufReader::new(from_child));
        link.drop_link();
        let (connected, detail) = next_state(&mut lines).await;
        assert!(
            !connected && detail.contains("hears from no E2 node"),
            "{detail}"
        );
        // Said again while it lasts (it keeps the parent's watchdog fed).
        assert!(!next_state(&mut lines).await.0);
        link.restore();
        loop {
            let (connected, detail) = next_state(&mut lines).await;
            if connected {
                assert!(detail.contains("again"), "{detail}");
                break;
            }
        }
        child.abort();
    }
}
