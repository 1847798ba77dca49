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

use crate::controller::{effective_cqi, Decision};
use crate::nr::{self, CellConfig};
use crate::slice_map::slice_id_of;

/// Builds the KPI stream message of one period.
pub fn cell_report(cell: &CellConfig, m: &CellMeasurement, d: &Decision) -> pb::CellReport {
    // As the controller plans them: a served UE without a CQI report counts by its MCS.
    let all_cqis: Vec<u8> = m
        .slices
        .iter()
        .flat_map(|s| s.ues.iter().map(effective_cqi))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::tests::measurement;

    /// One UE at `wb_cqi` and `mcs`, given `prbs` this period.
    fn one_ue(wb_cqi: u8, mcs: u8, prbs: f64) -> CellMeasurement {
        let mut m = measurement(&[&[wb_cqi]]);
        let ue = &mut m.slices[0].ues[0];
        ue.mcs = mcs;
        ue.prbs = prbs;
        m
    }

    /// Seen against OAI in rfsim (docs/TESTBED.md, F2): a UE served at MCS 9 without a CQI
    /// report made the cell's capacity read 0 on `/metrics` while the plan used CQI 6.
    #[test]
    fn capacity_counts_a_served_ue_without_cqi_by_its_mcs_as_the_plan_does() {
        let cell = CellConfig::oai_40mhz();
        let report = |m: &CellMeasurement| {
            cell_report(&cell, m, &crate::controller::decide(&cell, m, &[], &[]))
        };
        let served = report(&one_ue(0, 9, 30.0));
        let at_cqi_6 = report(&one_ue(6, 9, 30.0));
        assert!(served.capacity_bps > 0.0);
        assert_eq!(served.capacity_bps, at_cqi_6.capacity_bps);
        // Not served and no CQI: out of range, as before.
        assert_eq!(report(&one_ue(0, 9, 0.0)).capacity_bps, 0.0);
        // The reported CQI itself is unchanged on the stream.
        assert_eq!(served.slices[0].ues[0].wb_cqi, 0);
    }
}
