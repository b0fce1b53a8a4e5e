//! Logs go to stderr; `RUST_LOG` (or `QINQING_LOG`) sets the level, default info.
//! Timestamps are Asia/Shanghai time (`+08:00`), like every date an operator sees;
//! libraries' chatter (sqlx statements, tokio-cron-scheduler's start-up) stays below
//! INFO. Never log message bodies or unmasked phone or ID numbers (see `mask`).

/// Log timestamps in China Standard Time. (The log's own clock: the one place
/// besides `clock` that reads the wall clock, and it decides nothing.)
struct ChinaTime;

impl tracing_subscriber::fmt::time::FormatTime for ChinaTime {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00");
        write!(
            w,
            "{}",
            chrono::Utc::now()
                .with_timezone(&cst)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
        )
    }
}

pub fn init() {
    let filter = std::env::var("QINQING_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info,sqlx=warn,tokio_cron_scheduler=warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_timer(ChinaTime)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
