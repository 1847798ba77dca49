//! Per-client rate limiting of A1 writes: a token bucket per client IP address. A client that
//! writes faster than `writes_per_second` (after a burst) gets 429 with `Retry-After` (A1AP v2
//! lists 429 for every A1-P operation); reads are not limited.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// Limits of the A1 server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct A1Limits {
    /// Sustained PUT/DELETE rate allowed per client IP.
    pub writes_per_second: f64,
    /// Writes a client may send at once before the rate applies.
    pub write_burst: u32,
    /// Most policies the store holds; a PUT that would exceed it gets 507.
    pub max_policies: usize,
}

impl Default for A1Limits {
    /// 200 writes/s per client after a burst of 400; 10,000 policies.
    fn default() -> Self {
        Self {
            writes_per_second: 200.0,
            write_burst: 400,
            max_policies: 10_000,
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets, one per client.
#[derive(Debug)]
pub struct WriteLimiter {
    limits: A1Limits,
    buckets: Mutex<HashMap<Option<IpAddr>, Bucket>>,
}

impl WriteLimiter {
    /// A limiter with these limits.
    pub fn new(limits: A1Limits) -> Self {
        Self {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The limits.
    pub fn limits(&self) -> &A1Limits {
        &self.limits
    }

    /// Takes a token for `client` at `now`; `Err(seconds to wait)` when there is none.
    pub fn admit(&self, client: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let rate = self.limits.writes_per_second;
        if !(rate.is_finite() && rate > 0.0) {
            return Ok(());
        }
        let burst = f64::from(self.limits.write_burst.max(1));
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > 10_000 {
            // Forget idle clients (full buckets) so the map cannot grow without bound.
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let b = buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_rate_then_refill_per_client() {
        let l = WriteLimiter::new(A1Limits {
            writes_per_second: 2.0,
            write_burst: 3,
            max_policies: 10,
        });
        let t0 = Instant::now();
        let a = Some(IpAddr::from([127, 0, 0, 1]));
        let b = Some(IpAddr::from([127, 0, 0, 2]));
        for _ in 0..3 {
            assert_eq!(l.admit(a, t0), Ok(()));
        }
        assert_eq!(l.admit(a, t0), Err(1));
        assert_eq!(l.admit(b, t0), Ok(()), "other clients are not affected");
        assert_eq!(l.admit(a, t0 + Duration::from_millis(500)), Ok(()));
        assert!(l.admit(a, t0 + Duration::from_millis(500)).is_err());
        assert_eq!(l.admit(a, t0 + Duration::from_secs(10)), Ok(()));
    }
}
