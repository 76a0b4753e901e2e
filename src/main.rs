//! The `migraine-diary` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before the runtime starts its threads, so that no allocation predates the settings.
    if !migraine_diary::memory::fix_allocator_settings() {
        eprintln!("warning: the C allocator refused its settings; memory may grow");
    }
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(migraine_diary::cli::run()),
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
