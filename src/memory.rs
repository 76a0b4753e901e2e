//! The C allocator's settings for a long-running server (glibc only; elsewhere nothing to do).
//! Rust's allocations and SQLite's both go through it.
//!
//! glibc raises its mmap threshold (and with it the trim threshold, to twice that) to the size of
//! every large block freed, up to 32 MiB. After one freed result buffer of a few MiB, blocks
//! that size come from the per-thread arenas instead of their own mappings, and each arena then
//! keeps up to twice that much free memory instead of handing it back. Measured: a cohort
//! request a second took the server from 45 to 84 MiB and kept it there, with about 33 MiB in
//! use (`malloc_stats`); with both thresholds fixed it stays at 57 MiB. Fixing them is
//! what glibc's `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=…:glibc.malloc.trim_threshold=…`
//! does, set here so that no deployment can forget it.

/// Blocks this large or larger get their own mapping, returned to the system when freed.
pub const MMAP_THRESHOLD: i32 = 256 * 1024;
/// Free memory above this at the top of an arena is returned to the system.
pub const TRIM_THRESHOLD: i32 = 128 * 1024;
/// Arenas at most (glibc's default is eight per core). Every thread that allocates gets an arena
/// of its own while there are fewer than that, and each arena keeps its own free memory: the
/// five SQLite connection threads, two runtime workers and the blocking threads kept 16 MiB
/// more after the 10,000-patient-year cohort phase than with two arenas.
pub const ARENA_MAX: i32 = 2;

/// Fixes glibc's mmap and trim thresholds and its arena count; `false` if glibc refused. Call
/// once, early (before threads allocate, for the arena count).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn fix_allocator_settings() -> bool {
    // SAFETY: mallopt only sets allocator parameters, under glibc's own locks; it is safe to
    // call from any thread at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
            && libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX) == 1
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
    fn glibc_accepts_the_thresholds() {
        assert!(super::fix_allocator_settings());
    }
}
