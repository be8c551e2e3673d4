//! The `kronika` binary: parses the command line, sets up logging and maps
//! errors to exit codes. All logic lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Behave like a Unix tool when the reader goes away (`kronika … | head`):
    // end quietly instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = kronika::cli::Args::parse();
    kronika::cli::init_tracing(args.verbose, args.quiet);
    match kronika::cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kronika: {e:#}");
            ExitCode::from(1)
        }
    }
}
