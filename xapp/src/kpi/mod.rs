//! Near-RT KPIs out of the xApp: Prometheus metrics ([`metrics`], labelled by cell) and the
//! gRPC KPI stream ([`stream`] fans reports out through each subscriber's [`filter`] of cells
//! and slices, [`wire`] encodes each once, [`service`] serves them, [`server`] runs tonic with
//! TLS and the token check), both fed from each report period's measurement and controller
//! decision.

pub mod filter;
pub mod metrics;
pub mod server;
pub mod service;
pub mod stream;
pub mod wire;

use maestro_api::kpi as pb;
use maestro_e2sm::report::CellMeasurement;

use crate::controller::Decision;
use crate::nr::{self, CellConfig};
use crate::slice_map::slice_id_of;

/// Builds the KPI stream message of one period.
pub fn cell_report(cell: &CellConfig, m: &CellMeasurement, d: &Decision) -> pb::CellReport {
    let all_cqis: Vec<u8> = m
        .slices
        .iter()
        .flat_map(|s| s.ues.iter().map(|u| u.wb_cqi))
        .filter(|&c| c > 0)
        .collect();
    pb::CellReport {
        sequence: m.sequence,
        sim_time_ms: m.time_ms,
        period_ms: m.period_ms,
        cell_id: m.cell_id.clone(),
        n_prb: u32::from(m.n_prb),
        capacity_bps: nr::capacity_bps(&all_cqis, cell),
        slices: m
            .slices
            .iter()
            .map(|s| {
                let decision = d.slices.iter().find(|x| x.member == s.member);
                let id = slice_id_of(&s.member);
                let label = id.to_string();
                pb::SliceReport {
                    slice: Some(pb::SliceId {
                        sst: u32::from(id.sst),
                        sd: id.sd.unwrap_or_default(),
                        mcc: id.plmn_id.mcc,
                        mnc: id.plmn_id.mnc,
                    }),
                    prb_quota: u32::from(s.prb_quota),
                    prb_used: s.prb_used,
                    dl_throughput_bps: s.dl_throughput_bps,
                    target_bps: decision.map_or(0.0, |x| x.target_bps),
                    ues: s
                        .ues
                        .iter()
                        .map(|u| pb::UeReport {
                            ue_id: u.ue_id,
                            wb_cqi: u32::from(u.wb_cqi),
                            mcs: u32::from(u.mcs),
                            prbs: u.prbs.round() as u32,
                            dl_throughput_bps: u.dl_throughput_bps,
                        })
                        .collect(),
                    required_prbs: decision.and_then(|x| x.required_prbs).map_or(0, u32::from),
                    next_quota_prbs: decision.map_or(0, |x| u32::from(x.quota_prbs)),
                    achievable: decision.is_some_and(|x| x.achievable),
                    label,
                    model_gain: decision.map_or(1.0, |x| x.gain),
                }
            })
            .collect(),
        dropped_before: 0,
    }
}
