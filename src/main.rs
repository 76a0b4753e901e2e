//! The `migraine-diary` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    migraine_diary::cli::run().await
}
