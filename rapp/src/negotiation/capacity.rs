//! The observability unit's view for a negotiation: the maximum throughput the cell can
//! achieve now (which caps every demand) and whether the topic still holds (a negotiation
//! whose topic became invalid, e.g. the cell lost all capacity, halts). The rApp feeds it from
//! the xApp's KPI stream; experiments use a fixed value.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What the negotiation asks the observability unit.
pub trait CapacityView: Send + Sync {
    /// Maximum achievable throughput now, Mbps (`None`: no limit known).
    fn max_achievable_mbps(&self) -> Option<f64>;
    /// Whether the negotiation topic still holds.
    fn topic_holds(&self) -> bool;
}

/// No capacity limit, topic always valid.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unbounded;

impl CapacityView for Unbounded {
    fn max_achievable_mbps(&self) -> Option<f64> {
        None
    }
    fn topic_holds(&self) -> bool {
        true
    }
}

/// A capacity that can be updated while a negotiation runs (from KPI reports, or a test).
#[derive(Debug, Default)]
pub struct LiveCapacity {
    mbps_bits: AtomicU64,
    known: AtomicBool,
    invalid: AtomicBool,
}

impl LiveCapacity {
    /// A view with a known capacity.
    pub fn new(mbps: f64) -> Self {
        let view = Self::default();
        view.set(mbps);
        view
    }

    /// Records the current capacity, Mbps.
    pub fn set(&self, mbps: f64) {
        self.mbps_bits.store(mbps.to_bits(), Ordering::Relaxed);
        self.known.store(true, Ordering::Relaxed);
    }

    /// Marks the topic invalid (or valid again).
    pub fn set_topic_invalid(&self, invalid: bool) {
        self.invalid.store(invalid, Ordering::Relaxed);
    }
}

impl CapacityView for LiveCapacity {
    fn max_achievable_mbps(&self) -> Option<f64> {
        self.known
            .load(Ordering::Relaxed)
            .then(|| f64::from_bits(self.mbps_bits.load(Ordering::Relaxed)))
    }
    fn topic_holds(&self) -> bool {
        !self.invalid.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_capacity_reports_what_was_set() {
        let v = LiveCapacity::default();
        assert_eq!(v.max_achievable_mbps(), None);
        v.set(42.5);
        assert_eq!(v.max_achievable_mbps(), Some(42.5));
        assert!(v.topic_holds());
        v.set_topic_invalid(true);
        assert!(!v.topic_holds());
        assert!(Unbounded.topic_holds());
    }
}
