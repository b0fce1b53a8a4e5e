//! Logs go to stderr; `RUST_LOG` (or `QINQING_LOG`) sets the level, default info;
//! `log.format = "json"` writes one JSON object per line.
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

/// Under systemd (`JOURNAL_STREAM` set) each line starts with its syslog priority
/// (`<3>` error … `<7>` debug) so journald keeps the levels, and carries no
/// timestamp (journald adds its own).
struct Journald;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for Journald
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let priority = match *event.metadata().level() {
            tracing::Level::ERROR => 3,
            tracing::Level::WARN => 4,
            tracing::Level::INFO => 6,
            _ => 7,
        };
        write!(writer, "<{priority}>")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// `filter` with `sqlx::query=error` added unless it sets `sqlx::query` itself.
fn filter_with_sqlx_quiet(filter: &str) -> String {
    if filter.contains("sqlx::query") {
        filter.to_string()
    } else {
        format!("{filter},sqlx::query=error")
    }
}

pub fn init(format: crate::config::LogFormat) {
    // sqlx's slow-statement warnings (with the SQL text) mean nothing to an
    // operator: only its errors are shown unless asked for.
    // A filter that does not name sqlx (`QINQING_LOG=warn`) keeps them hidden too;
    // `QINQING_LOG=info,sqlx::query=debug` shows them.
    let filter = std::env::var("QINQING_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info,sqlx=warn,tokio_cron_scheduler=warn".into());
    let filter = filter_with_sqlx_quiet(&filter);
    let filter = tracing_subscriber::EnvFilter::new(filter);
    if format == crate::config::LogFormat::Json {
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_timer(ChinaTime)
            .with_ansi(false)
            .try_init();
        return;
    }
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .event_format(Journald)
            .try_init();
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_timer(ChinaTime)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod filter_tests {
    #[test]
    fn sqlx_statements_stay_quiet_unless_asked_for() {
        use super::filter_with_sqlx_quiet as f;
        assert_eq!(f("warn"), "warn,sqlx::query=error");
        assert_eq!(f("info,sqlx=warn"), "info,sqlx=warn,sqlx::query=error");
        assert_eq!(f("info,sqlx::query=debug"), "info,sqlx::query=debug");
    }
}
