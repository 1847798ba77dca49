//! CPU-time measurement shared by the e2sm benchmarks: on a loaded machine the thread's CPU
//! time is a steadier figure than criterion's wall-clock time.

use std::hint::black_box;

/// CPU time of this thread, ns (`/proc/thread-self/schedstat`, Linux), if available.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Prints the CPU time per call of `f` over `n` calls (after `n / 10` warm-up calls).
pub fn cpu_time<T>(name: &str, n: u32, mut f: impl FnMut() -> T) {
    for _ in 0..n / 10 {
        black_box(f());
    }
    let Some(t0) = thread_cpu_ns() else {
        return;
    };
    for _ in 0..n {
        black_box(f());
    }
    let Some(t1) = thread_cpu_ns() else {
        return;
    };
    println!(
        "cpu time {name}: {:.0} ns/call",
        (t1 - t0) as f64 / f64::from(n)
    );
}
