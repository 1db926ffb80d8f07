//! The `chartscan` binary: parse the command line, make sure OCR runs single-threaded, set up
//! logging, run, and turn the result into an exit code (0 all filed, 1 some failed, 2 could not
//! run at all).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = chartscan::cli::Cli::parse();
    if cli.command.runs_ocr() {
        single_threaded_ocr();
    }
    quiet_panics();
    init_logging();
    match chartscan::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("chartscan: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Tesseract's OpenMP threads fight the page-level parallelism (measured 4.6x slower with two
/// workers). libgomp reads `OMP_THREAD_LIMIT` once, when it is loaded, which is when the first
/// OCR engine loads Tesseract's library (`ocr::tesseract`, at run time): set here, first thing,
/// it is in time. Only commands that run OCR set it.
fn single_threaded_ocr() {
    // SAFETY: nothing has started a thread yet (only the command line has been parsed), so no
    // one can be reading the environment concurrently.
    unsafe { std::env::set_var("OMP_THREAD_LIMIT", "1") };
}

/// A panic is a bug; its message may quote page text or a file name (patient data), so only
/// where it happened is printed. The pipeline records the file it happened on as failed.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map_or_else(|| "an unknown place".to_string(), ToString::to_string);
        eprintln!("chartscan: internal error at {place} (message withheld: it may hold patient data)");
    }));
}

/// Logs go to stderr, at the level in `CHARTSCAN_LOG` (default `warn`). Log lines carry ids and
/// hashes only, never names, MRNs or file names.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CHARTSCAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,lopdf=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
