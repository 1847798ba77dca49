//! The heap this process has in use, as the C allocator counts it: what the soak judges a leak
//! by. RSS is not a leak measure on a busy machine: glibc keeps freed pages mapped in its
//! per-thread arenas, so a backlog that a starved process built up and later drained leaves
//! the RSS high (CI saw +77 % RSS with subscribers lagging, and no leak). The bytes the
//! allocator has handed out and not had back are exact at any moment.

/// Bytes allocated and not freed (glibc `mallinfo2`: `uordblks` in every arena plus `hblkhd`
/// in mmapped chunks); `None` where the C library is not glibc.
pub fn in_use_bytes() -> Option<u64> {
    in_use()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn in_use() -> Option<u64> {
    // SAFETY: mallinfo2 (glibc >= 2.33) takes no arguments, only reads the allocator's
    // counters under its arena locks, and returns a plain struct by value.
    let info = unsafe { libc::mallinfo2() };
    u64::try_from(info.uordblks.saturating_add(info.hblkhd)).ok()
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn in_use() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_a_block_while_it_is_held_and_not_after() {
        let Some(before) = in_use_bytes() else {
            return; // not glibc: nothing to count with
        };
        let block = vec![1u8; 64 << 20];
        let held = in_use_bytes().unwrap();
        assert!(held >= before + (64 << 20), "{before} -> {held}");
        drop(std::hint::black_box(block));
        let after = in_use_bytes().unwrap();
        assert!(after < before + (16 << 20), "{before} -> {after}");
    }
}
