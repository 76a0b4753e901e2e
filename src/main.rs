//! The `migraine-diary` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    if !migraine_diary::memory::fix_allocator_thresholds() {
        eprintln!("warning: the C allocator refused its thresholds; memory may grow");
    }
    migraine_diary::cli::run().await
}
