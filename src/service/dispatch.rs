//! The dispatch round (a use case): what is due goes out through the dispatcher,
//! at the context clock's `now`; the round's figures are logged.

use chrono::{DateTime, FixedOffset};

use crate::delivery::dispatcher::{Dispatcher, RoundReport};
use crate::store::StoreError;

/// One round at `now`.
pub async fn round(
    dispatcher: &Dispatcher,
    now: DateTime<FixedOffset>,
) -> Result<RoundReport, StoreError> {
    let report = dispatcher.round(now).await?;
    if report.digests + report.sent + report.retried + report.failed + report.cancelled > 0 {
        tracing::info!(
            digests = report.digests,
            sent = report.sent,
            retried = report.retried,
            failed = report.failed,
            cancelled = report.cancelled,
            waiting = report.waiting,
            "dispatch round done"
        );
    }
    Ok(report)
}

/// One round at `now`, then when the next one has work (see
/// [`Dispatcher::next_wake`]); the daemon sleeps until then.
pub async fn round_and_next(
    dispatcher: &Dispatcher,
    now: DateTime<FixedOffset>,
) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
    let report = round(dispatcher, now).await?;
    dispatcher.next_wake(now, &report).await
}
