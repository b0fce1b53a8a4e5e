//! The `qinqing` binary: parse, set up logging, run, turn the error into an exit code.

use clap::Parser;

fn main() {
    let cli = qinqing::cli::Cli::parse();
    qinqing::logging::init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = match runtime.block_on(qinqing::commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    std::process::exit(code);
}
