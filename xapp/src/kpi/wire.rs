//! The KPI stream's wire form: a `CellReport` encoded once by prost and shared by every
//! subscriber, and the tonic codec that writes those bytes verbatim (plus the subscriber's own
//! `dropped_before`) instead of encoding the report again per subscriber.

use maestro_api::kpi::prost::bytes::{BufMut, Bytes};
use maestro_api::kpi::prost::encoding::{encode_key, encode_varint, WireType};
use maestro_api::kpi::prost::Message;
use maestro_api::kpi::{CellReport, SubscribeRequest};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::Status;

/// Field number of `CellReport.dropped_before` in `api/proto/kpi.proto`.
pub const DROPPED_BEFORE_FIELD: u32 = 8;

/// A report's protobuf encoding, made once per report; cloning shares the bytes.
#[derive(Debug, Clone)]
pub struct EncodedReport(Bytes);

impl EncodedReport {
    /// Clears the report's own `dropped_before` (each subscriber's count is appended when the
    /// report is sent, see [`ReportFrame`]) and encodes it.
    pub fn encode(report: &mut CellReport) -> Self {
        report.dropped_before = 0;
        Self(Bytes::from(report.encode_to_vec()))
    }

    /// The encoded bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }
}

/// One message of one subscriber's stream: the shared encoding and the reports this
/// subscriber lost just before it.
#[derive(Debug, Clone)]
pub struct ReportFrame {
    /// The report, as encoded once for everyone.
    pub report: EncodedReport,
    /// Reports this subscriber missed just before this one.
    pub dropped_before: u64,
}

impl ReportFrame {
    /// Writes the message: the shared bytes unchanged, then, when non-zero, `dropped_before`
    /// as one more field. The protobuf encoding spec ("Last One Wins",
    /// <https://protobuf.dev/programming-guides/encoding/#last-one-wins>) says that when a
    /// non-repeated scalar field occurs more than once on the wire the parser takes the last
    /// value, and concatenating two encodings is a valid encoding of their merge. The shared
    /// bytes never hold field 8 ([`EncodedReport::encode`] zeroes it and proto3 omits zero),
    /// so the appended field is its only occurrence; as field 8 is `CellReport`'s last field,
    /// the result is even byte for byte what prost encodes for the report with that value.
    pub fn write_to(&self, dst: &mut impl BufMut) {
        dst.put_slice(self.report.bytes());
        if self.dropped_before != 0 {
            encode_key(DROPPED_BEFORE_FIELD, WireType::Varint, dst);
            encode_varint(self.dropped_before, dst);
        }
    }

    /// The message's bytes, as [`write_to`](Self::write_to) writes them.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.report.bytes().len() + 11);
        self.write_to(&mut out);
        out
    }
}

/// tonic codec of `KpiStream/Subscribe`: decodes the `SubscribeRequest` with prost and sends
/// [`ReportFrame`]s as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportCodec;

impl Codec for ReportCodec {
    type Encode = ReportFrame;
    type Decode = SubscribeRequest;
    type Encoder = FrameEncoder;
    type Decoder = RequestDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        FrameEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        RequestDecoder
    }
}

/// Encoder half of [`ReportCodec`].
#[derive(Debug, Clone, Copy, Default)]
pub struct FrameEncoder;

impl Encoder for FrameEncoder {
    type Item = ReportFrame;
    type Error = Status;

    fn encode(&mut self, item: ReportFrame, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.write_to(dst);
        Ok(())
    }
}

/// Decoder half of [`ReportCodec`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestDecoder;

impl Decoder for RequestDecoder {
    type Item = SubscribeRequest;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<SubscribeRequest>, Status> {
        // As tonic-prost's decoder does.
        SubscribeRequest::decode(src)
            .map(Some)
            .map_err(|e| Status::internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maestro_api::kpi::{SliceId, SliceReport, UeReport};

    fn big_report() -> CellReport {
        CellReport {
            sequence: 7,
            sim_time_ms: 70,
            period_ms: 10,
            cell_id: "cell-1".into(),
            n_prb: 273,
            capacity_bps: 1.5e9,
            slices: vec![SliceReport {
                slice: Some(SliceId {
                    sst: 1,
                    sd: "000001".into(),
                    mcc: "001".into(),
                    mnc: "01".into(),
                }),
                prb_quota: 100,
                prb_used: 99.5,
                ues: (0..1000)
                    .map(|i| UeReport {
                        ue_id: i,
                        wb_cqi: i % 16,
                        mcs: i % 28,
                        prbs: i % 7,
                        dl_throughput_bps: f64::from(i) * 1.25,
                    })
                    .collect(),
                ..SliceReport::default()
            }],
            dropped_before: 0,
        }
    }

    #[test]
    fn frame_bytes_equal_prost_encoding_for_any_dropped_before() {
        let mut report = big_report();
        report.dropped_before = 5; // the hub's own value never reaches the wire
        let encoded = EncodedReport::encode(&mut report);
        assert_eq!(report.dropped_before, 0);
        for dropped_before in [0, 1, 127, 128, 300, u64::MAX] {
            let frame = ReportFrame {
                report: encoded.clone(),
                dropped_before,
            };
            let mut expected = report.clone();
            expected.dropped_before = dropped_before;
            assert_eq!(frame.to_vec(), expected.encode_to_vec(), "{dropped_before}");
            let decoded = CellReport::decode(frame.to_vec().as_slice()).unwrap();
            assert_eq!(decoded, expected);
        }
    }
}
