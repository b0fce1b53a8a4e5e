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
