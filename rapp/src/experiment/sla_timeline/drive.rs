//! The built-in synthetic drive: a deterministic CQI trace that tells the timeline's story,
//! in the CSV columns `--cqi-trace` reads.

use std::fmt::Write as _;

/// The built-in synthetic drive, as a trace in the UCC 5G dataset's CSV columns (what
/// `--cqi-trace` reads): 15 at the start, worsening from 120 s to around 7-9, poor (2-4)
/// from 350 s to 385 s, recovering to 14-15 within 5 s after. Deterministic.
pub fn synthetic_drive_csv(duration_s: u32) -> String {
    let mut csv = String::from("Timestamp,CQI\n");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for s in 0..duration_s.max(1) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let wiggle = (state % 3) as f64 - 1.0;
        let t = f64::from(s);
        let base: f64 = match s {
            0..=119 => 15.0,
            120..=169 => 15.0 - 6.0 * (t - 120.0) / 50.0,
            170..=329 => 8.0 + 1.5 * ((t - 170.0) / 20.0).sin(),
            330..=349 => 8.0 - 5.0 * (t - 330.0) / 20.0,
            350..=384 => 3.0,
            385..=390 => 3.0 + 11.5 * (t - 385.0) / 5.0,
            _ => 14.5,
        };
        let cqi = (base
            + if base >= 14.5 {
                wiggle.max(0.0) * 0.5
            } else {
                wiggle
            })
        .round()
        .clamp(1.0, 15.0) as u8;
        let (h, m, sec) = (13 + s / 3600, (s / 60) % 60, s % 60);
        let _ = writeln!(csv, "2019.11.26_{h:02}.{m:02}.{sec:02},{cqi}");
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_drive_tells_the_story() {
        let csv = synthetic_drive_csv(500);
        let cqi: Vec<u8> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
            .collect();
        assert_eq!(cqi.len(), 500);
        assert!(cqi[..100].iter().all(|&c| c == 15));
        assert!(cqi[355..380].iter().all(|&c| c <= 4));
        assert!(cqi[420..].iter().all(|&c| c >= 14));
        assert!(csv
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("2019.11.26_13.00.00,"));
    }
}
