//! Logs go to stderr; `RUST_LOG` (or `QINQING_LOG`) sets the level, default info.
//! Never log message bodies or unmasked phone or ID numbers (see `mask`).

pub fn init() {
    let filter = std::env::var("QINQING_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
