//! The `qinqing` binary: parse, set up logging, run, turn the error into an exit code.

use clap::Parser;

fn main() {
    quiet_on_closed_pipe();
    let cli = qinqing::cli::Cli::parse();
    qinqing::logging::init(qinqing::config::log_format(cli.config.as_deref()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = match runtime.block_on(qinqing::commands::run(cli)) {
        Ok(code) => code,
        // The reader of stdout went away (`| head`): nothing more to say.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            0
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    std::process::exit(code);
}

/// `qinqing preview | head -1`: when the reader of stdout goes away, printing fails
/// with a broken pipe; that ends the command quietly with status 0 instead of a
/// panic and a backtrace. Any other panic is reported as usual.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") || msg.contains("os error 32") {
            std::process::exit(0);
        }
        default(info);
    }));
}
