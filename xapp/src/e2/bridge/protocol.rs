//! The E2 bridge protocol: newline-delimited JSON between the xApp (parent) and its
//! `maestro e2-bridge` child over the child's stdin/stdout, one object per line, tagged by
//! `kind`. The child logs only to stderr, so stdout carries nothing but these messages.
//!
//! Lines are read with a length cap ([`MAX_LINE_BYTES`]): a garbage or oversized line is a
//! [`ProtocolError`] the reader reports and skips, never a panic or an unbounded allocation.

use maestro_e2sm::rc::{ControlOutcome, RrmPolicyMember, SlicePrbQuotaControl};
use maestro_e2sm::report::CellMeasurement;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::e2::E2NodeInfo;
use crate::nr::CellConfig;

/// Longest line either side accepts, bytes (a report of a large cell is a few hundred kB).
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Child -> parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChildMessage {
    /// The E2 side is up (after E2 SETUP): what the backend serves.
    Hello {
        /// Backend name, e.g. `flexric` or `emulated-gnb`.
        backend: String,
        /// The cell.
        cell: CellConfig,
        /// Its slices.
        slices: Vec<RrmPolicyMember>,
        /// E2 nodes and their RAN functions.
        nodes: Vec<E2NodeInfo>,
        /// The cells the backend serves that are known before their reports (many cells:
        /// the emulator's configured cells, FlexRIC's nodes at start-up); absent: one cell.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        cells: Vec<String>,
    },
    /// One report period's measurement.
    Report {
        /// The measurement.
        measurement: CellMeasurement,
    },
    /// The answer to control `seq`.
    Outcome {
        /// Sequence number of the control it answers.
        seq: u64,
        /// What the E2 node said.
        outcome: ControlOutcome,
    },
    /// The E2 node or the near-RT RIC was lost (or is back).
    E2State {
        /// Whether the E2 side is usable.
        connected: bool,
        /// Why, for logs and health.
        detail: String,
    },
}

/// Parent -> child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParentMessage {
    /// Send a slice PRB quota control (E2SM-RC style 2, action 6); answered by an `outcome`
    /// with the same `seq`.
    Control {
        /// Sequence number, unique per parent.
        seq: u64,
        /// The control.
        control: SlicePrbQuotaControl,
        /// The cell whose E2 node it goes to (many cells); absent: the backend's first cell.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cell_id: Option<String>,
    },
    /// Stop: the child exits 0.
    Shutdown,
}

/// Why a line could not be read as a message.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The pipe failed.
    #[error("E2 bridge pipe: {0}")]
    Io(#[from] std::io::Error),
    /// The line is longer than [`MAX_LINE_BYTES`] (it was skipped).
    #[error("E2 bridge line of more than {limit} bytes skipped")]
    TooLong {
        /// The cap.
        limit: usize,
    },
    /// The line is not a protocol message.
    #[error("E2 bridge line is not a protocol message ({reason}): {excerpt:?}")]
    Malformed {
        /// The JSON error.
        reason: String,
        /// The start of the line.
        excerpt: String,
    },
}

/// One message as a line, newline included.
pub fn encode_line<T: Serialize>(message: &T) -> Result<String, serde_json::Error> {
    let mut line = serde_json::to_string(message)?;
    line.push('\n');
    Ok(line)
}

/// Parses one line (without its newline).
pub fn decode_line<T: for<'de> Deserialize<'de>>(line: &[u8]) -> Result<T, ProtocolError> {
    serde_json::from_slice(line).map_err(|e| ProtocolError::Malformed {
        reason: e.to_string(),
        excerpt: String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned(),
    })
}

/// Reads newline-delimited messages with a length cap.
pub struct LineReader<R> {
    inner: R,
    limit: usize,
    buf: Vec<u8>,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    /// A reader capped at [`MAX_LINE_BYTES`].
    pub fn new(inner: R) -> Self {
        Self::with_limit(inner, MAX_LINE_BYTES)
    }

    /// A reader capped at `limit` bytes per line.
    pub fn with_limit(inner: R, limit: usize) -> Self {
        Self {
            inner,
            limit,
            buf: Vec::new(),
        }
    }

    /// The next message; `None` at end of stream. Blank lines are skipped. An oversized or
    /// malformed line yields an error and the reader stays usable for the next line.
    pub async fn next<T: for<'de> Deserialize<'de>>(&mut self) -> Option<Result<T, ProtocolError>> {
        loop {
            match self.next_line().await {
                Ok(None) => return None,
                Ok(Some(())) => {
                    let line = trim_line(&self.buf);
                    if line.is_empty() {
                        continue;
                    }
                    return Some(decode_line(line));
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// Fills `self.buf` with the next line (without its newline); `Ok(None)` at end of stream.
    async fn next_line(&mut self) -> Result<Option<()>, ProtocolError> {
        self.buf.clear();
        let mut too_long = false;
        loop {
            let available = self.inner.fill_buf().await?;
            if available.is_empty() {
                // End of stream: a last unterminated line still counts.
                return match (too_long, self.buf.is_empty()) {
                    (true, _) => Err(ProtocolError::TooLong { limit: self.limit }),
                    (false, true) => Ok(None),
                    (false, false) => Ok(Some(())),
                };
            }
            let (chunk, used, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            if !too_long {
                if self.buf.len() + chunk.len() > self.limit {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            self.inner.consume(used);
            if done {
                return if too_long {
                    Err(ProtocolError::TooLong { limit: self.limit })
                } else {
                    Ok(Some(()))
                };
            }
        }
    }
}

fn trim_line(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let start = line
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(end);
    &line[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::e2::RanFunctionInfo;
    use maestro_e2sm::rc::RrmPolicyRatioGroup;
    use maestro_e2sm::report::{SliceMeasurement, UeMeasurement};
    use serde_json::json;

    fn member() -> RrmPolicyMember {
        RrmPolicyMember {
            mcc: "001".into(),
            mnc: "01".into(),
            sst: 1,
            sd: Some(1),
        }
    }

    fn to_value<T: Serialize>(m: &T) -> serde_json::Value {
        let line = encode_line(m).unwrap();
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1, "one object per line");
        serde_json::from_str(&line).unwrap()
    }

    #[test]
    fn control_and_shutdown_have_the_documented_shape() {
        let control = ParentMessage::Control {
            seq: 7,
            control: SlicePrbQuotaControl {
                groups: vec![RrmPolicyRatioGroup::new(member(), 10, 40, 5).unwrap()],
            },
            cell_id: None,
        };
        assert_eq!(
            to_value(&control),
            json!({"kind": "control", "seq": 7, "control": {"groups": [{
                "member": {"mcc": "001", "mnc": "01", "sst": 1, "sd": 1},
                "min_prb_ratio": 10, "max_prb_ratio": 40, "dedicated_prb_ratio": 5}]}})
        );
        assert_eq!(
            to_value(&ParentMessage::Shutdown),
            json!({"kind": "shutdown"})
        );
        let back: ParentMessage =
            decode_line(encode_line(&control).unwrap().trim_end().as_bytes()).unwrap();
        assert_eq!(back, control);
    }

    #[test]
    fn child_messages_have_the_documented_shape() {
        let outcome = ChildMessage::Outcome {
            seq: 3,
            outcome: ControlOutcome::Failed {
                cause: "unknown slice".into(),
            },
        };
        assert_eq!(
            to_value(&outcome),
            json!({"kind": "outcome", "seq": 3, "outcome": {"Failed": {"cause": "unknown slice"}}})
        );
        let ack = ChildMessage::Outcome {
            seq: 4,
            outcome: ControlOutcome::Acknowledged,
        };
        assert_eq!(
            to_value(&ack),
            json!({"kind": "outcome", "seq": 4, "outcome": "Acknowledged"})
        );
        let state = ChildMessage::E2State {
            connected: false,
            detail: "RIC lost".into(),
        };
        assert_eq!(
            to_value(&state),
            json!({"kind": "e2_state", "connected": false, "detail": "RIC lost"})
        );
        let hello = ChildMessage::Hello {
            backend: "flexric".into(),
            cell: CellConfig::oai_40mhz(),
            slices: vec![member()],
            nodes: vec![E2NodeInfo {
                node_id: "gnb-001-01-3584".into(),
                ran_functions: vec![RanFunctionInfo {
                    id: 142,
                    oid: "1.3.6.1.4.1.53148.1.1.2.142".into(),
                    revision: 0,
                    name: "MAC_STATS_V0".into(),
                }],
            }],
            cells: Vec::new(),
        };
        let v = to_value(&hello);
        // One cell: the fields many cells add are absent, as from an older child.
        assert!(v.get("cells").is_none());
        let mut many = to_value(&hello);
        many["cells"] = json!(["001-01-0000000002"]);
        let many: ChildMessage = serde_json::from_value(many).unwrap();
        assert!(
            matches!(&many, ChildMessage::Hello { cells, .. } if cells == &["001-01-0000000002"])
        );
        let to_cell = ParentMessage::Control {
            seq: 8,
            control: SlicePrbQuotaControl { groups: vec![] },
            cell_id: Some("001-01-0000000002".into()),
        };
        assert_eq!(to_value(&to_cell)["cell_id"], "001-01-0000000002");
        assert_eq!(v["kind"], "hello");
        assert_eq!(v["backend"], "flexric");
        assert_eq!(v["cell"]["n_prb"], 106);
        assert_eq!(v["slices"][0]["sd"], 1);
        assert_eq!(v["nodes"][0]["node_id"], "gnb-001-01-3584");
        assert_eq!(v["nodes"][0]["ran_functions"][0]["id"], 142);
        let back: ChildMessage = decode_line(v.to_string().as_bytes()).unwrap();
        assert_eq!(back, hello);
    }

    #[test]
    fn report_carries_the_measurement() {
        let report = ChildMessage::Report {
            measurement: CellMeasurement {
                sequence: 12,
                time_ms: 1200,
                period_ms: 100,
                cell_id: "c1".into(),
                n_prb: 106,
                slices: vec![SliceMeasurement {
                    member: member(),
                    prb_quota: 42,
                    prb_used: 40.5,
                    dl_throughput_bps: 2.0e7,
                    ues: vec![UeMeasurement {
                        ue_id: 1,
                        wb_cqi: 12,
                        mcs: 20,
                        prbs: 40.5,
                        dl_throughput_bps: 2.0e7,
                    }],
                }],
            },
        };
        let v = to_value(&report);
        assert_eq!(v["kind"], "report");
        assert_eq!(v["measurement"]["sequence"], 12);
        assert_eq!(v["measurement"]["slices"][0]["prb_quota"], 42);
        assert_eq!(v["measurement"]["slices"][0]["ues"][0]["wb_cqi"], 12);
        let back: ChildMessage = decode_line(v.to_string().as_bytes()).unwrap();
        assert_eq!(back, report);
    }

    #[tokio::test]
    async fn garbage_and_oversized_lines_are_errors_and_reading_goes_on() {
        let long = "x".repeat(100);
        let input = format!(
            "{{\"kind\":\"shutdown\"}}\nnot json\n\n{long}\n{{\"kind\":\"nope\"}}\n{{\"kind\":\"shutdown\"}}"
        );
        let mut reader = LineReader::with_limit(input.as_bytes(), 50);
        let first: Option<Result<ParentMessage, _>> = reader.next().await;
        assert!(matches!(first, Some(Ok(ParentMessage::Shutdown))));
        let garbage = reader.next::<ParentMessage>().await;
        assert!(
            matches!(&garbage, Some(Err(ProtocolError::Malformed { excerpt, .. })) if excerpt == "not json"),
            "{garbage:?}"
        );
        let oversized = reader.next::<ParentMessage>().await;
        assert!(
            matches!(oversized, Some(Err(ProtocolError::TooLong { limit: 50 }))),
            "{oversized:?}"
        );
        let unknown = reader.next::<ParentMessage>().await;
        assert!(matches!(
            unknown,
            Some(Err(ProtocolError::Malformed { .. }))
        ));
        // The last line has no newline: still read.
        let last = reader.next::<ParentMessage>().await;
        assert!(matches!(last, Some(Ok(ParentMessage::Shutdown))));
        assert!(reader.next::<ParentMessage>().await.is_none());
    }

    #[tokio::test]
    async fn oversized_line_split_across_reads_is_skipped() {
        // A tiny buffer forces the long line across many fill_buf calls.
        let input = format!("{}\n{{\"kind\":\"shutdown\"}}\n", "y".repeat(1000));
        let buffered = tokio::io::BufReader::with_capacity(16, input.as_bytes());
        let mut reader = LineReader::with_limit(buffered, 64);
        assert!(matches!(
            reader.next::<ParentMessage>().await,
            Some(Err(ProtocolError::TooLong { .. }))
        ));
        assert!(matches!(
            reader.next::<ParentMessage>().await,
            Some(Ok(ParentMessage::Shutdown))
        ));
    }
}
