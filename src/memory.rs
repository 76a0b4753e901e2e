//! The C allocator's settings for a long-running server (glibc only; elsewhere nothing to do).
//! Rust's allocations and SQLite's both go through it.
//!
//! glibc raises its mmap threshold (and with it the trim threshold, to twice that) to the size of
//! every large block freed, up to 32 MiB. After one freed result buffer of a few MiB, blocks
//! that size come from the per-thread arenas instead of their own mappings, and each arena then
//! keeps up to twice that much free memory instead of handing it back. Measured: a cohort
//! request a second took the server from 45 to 84 MiB and kept it there, with about 33 MiB in
//! use (`malloc_stats`); the benchmark's per-patient phases peaked at 120–137 MiB with glibc's
//! defaults and at 30–46 MiB with the thresholds fixed. Fixing them is what glibc's
//! `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=…:glibc.malloc.trim_threshold=…` does, set here
//! so that no deployment can forget it.
//!
//! Lower values were measured too: a 256 KiB mmap threshold, a 128 KiB trim threshold and two
//! arenas kept the cohort and login phases under 67 MiB, but a year of days (an answer of a few
//! hundred KiB) then cost a fresh mapping and its page faults on every request, and two arenas
//! made the runtime's workers and SQLite's threads queue for them: `/days` fell from 1,850 to
//! 700–1,000 requests/s. Four arenas were in between on both counts.

/// Blocks this large or larger get their own mapping, returned to the system when freed (an
/// Argon2 working area is; a year of days is not).
pub const MMAP_THRESHOLD: i32 = 4 * 1024 * 1024;
/// Free memory above this at the top of an arena is returned to the system.
pub const TRIM_THRESHOLD: i32 = 1024 * 1024;

/// Fixes glibc's mmap and trim thresholds; `false` if glibc refused. Call once, early.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn fix_allocator_settings() -> bool {
    // SAFETY: mallopt only sets allocator parameters, under glibc's own locks; it is safe to
    // call from any thread at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    }
}

/// Fixes glibc's settings; other C libraries have nothing to fix.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn fix_allocator_settings() -> bool {
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn glibc_accepts_the_settings() {
        assert!(super::fix_allocator_settings());
    }
}
