//! What the process counts as it works, for `GET /metrics`: how long sends take per
//! channel and rule errors per rule. (What the store knows, the reminders, the
//! deliveries and the roster, is read from it at scrape time by `service::metrics`.)
//! A leaf: it knows nothing of the rest of the crate.

use std::sync::OnceLock;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

type Labels = Vec<(String, String)>;

pub struct Metrics {
    /// Seconds per send attempt, by channel.
    pub delivery_duration: Family<Labels, Histogram>,
    /// Rule errors (a script failing for a person), by rule.
    pub rule_errors: Family<Labels, Counter>,
}

/// The process's metrics.
pub fn get() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(|| Metrics {
        delivery_duration: Family::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.01, 2.0, 14))
        }),
        rule_errors: Family::default(),
    })
}

/// Records one send's duration on `channel`.
pub fn observe_send(channel: &str, seconds: f64) {
    get()
        .delivery_duration
        .get_or_create(&vec![("channel".to_string(), channel.to_string())])
        .observe(seconds);
}

/// Counts one rule error of `rule`.
pub fn rule_error(rule: &str) {
    get()
        .rule_errors
        .get_or_create(&vec![("rule".to_string(), rule.to_string())])
        .inc();
}

/// This process's resident memory now (VmRSS) in MiB, for debug logs; 0 where
/// /proc is not there.
pub fn rss_mib() -> u64 {
    proc_status_kib("VmRSS:") / 1024
}

/// This process's peak resident memory (VmHWM) in MiB, for debug logs.
pub fn peak_mib() -> u64 {
    proc_status_kib("VmHWM:") / 1024
}

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
