use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc malloc: see the note on the dependency in Cargo.toml.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = stance::cli::Cli::parse();
    match stance::cli::run(cli).map_err(anyhow::Error::from) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stance: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
