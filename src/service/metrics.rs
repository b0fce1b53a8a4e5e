//! `GET /metrics`: the Prometheus text exposition (prometheus-client), from the
//! store at scrape time (reminders, deliveries, the roster, the last tick) and from
//! what the process counted (send durations, rule errors; see `crate::metrics`).

use anyhow::Result;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::plan;
use crate::store::Store;

type Labels = Vec<(String, String)>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The metrics as text.
pub async fn render(store: &Store) -> Result<String> {
    let f = store.figures().await?;
    let mut reg = Registry::default();

    let planned = Family::<Labels, Counter>::default();
    for (rule, n) in &f.reminders_by_rule {
        planned
            .get_or_create(&labels(&[("rule", rule)]))
            .inc_by(*n as u64);
    }
    reg.register(
        "qinqing_reminders_planned",
        "Reminder stages planned, by rule",
        planned,
    );

    let deliveries = Family::<Labels, Counter>::default();
    for (channel, status, n) in &f.deliveries {
        if ["sent", "failed", "cancelled"].contains(&status.as_str()) {
            deliveries
                .get_or_create(&labels(&[("channel", channel), ("status", status)]))
                .inc_by(*n as u64);
        }
    }
    for (channel, n) in &f.retried {
        deliveries
            .get_or_create(&labels(&[("channel", channel), ("status", "retried")]))
            .inc_by(*n as u64);
    }
    reg.register(
        "qinqing_deliveries",
        "Deliveries by channel and outcome (retried: attempts beyond the first)",
        deliveries,
    );

    let m = crate::metrics::get();
    reg.register(
        "qinqing_delivery_duration_seconds",
        "Seconds per send attempt, by channel",
        m.delivery_duration.clone(),
    );
    reg.register(
        "qinqing_rule_errors",
        "Rule errors (a script failing for a person), by rule",
        m.rule_errors.clone(),
    );

    let last_tick = Gauge::<i64>::default();
    if let Some(t) = plan::last_tick_at(store)
        .await?
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
    {
        last_tick.set(t.timestamp());
    }
    reg.register(
        "qinqing_last_tick_timestamp_seconds",
        "When the last planning tick ran (Unix time)",
        last_tick,
    );

    let pending = Gauge::<i64>::default();
    pending.set(f.pending);
    reg.register(
        "qinqing_outbox_pending",
        "Deliveries waiting to be sent",
        pending,
    );

    let persons = Family::<Labels, Gauge<i64>>::default();
    for (state, n) in [
        ("active", f.persons_active),
        ("inactive", f.persons_inactive),
        ("deceased", f.persons_deceased),
    ] {
        persons.get_or_create(&labels(&[("state", state)])).set(n);
    }
    reg.register(
        "qinqing_roster_persons",
        "Persons in the roster, by state",
        persons,
    );

    let build = Family::<Labels, Gauge<i64>>::default();
    build
        .get_or_create(&labels(&[("version", crate::cli::VERSION)]))
        .set(1);
    reg.register("qinqing_build_info", "The running build", build);

    let mut out = String::new();
    encode(&mut out, &reg)?;
    Ok(out)
}
