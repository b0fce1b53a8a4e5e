//! Links in messages as use cases: the settings from `[http]`, looking a token up,
//! minting a staff member's worklist link or an occasion's acknowledgement link for
//! `qinqing link`, and revoking a staff member's links.

use anyhow::{Result, bail};
use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::config::Config;
use crate::delivery::digest::LinkSettings;
use crate::links::{self, Link, LinkKind};
use crate::store::Store;

/// The link settings, or None while `http.base_url` is unset (links are off).
pub fn settings(config: &Config) -> Option<LinkSettings> {
    config.http.links_base().map(|base| LinkSettings {
        base: base.to_string(),
        ack_days: config.http.ack_link_days,
        worklist_days: config.http.worklist_link_days,
    })
}

/// What a token opens.
#[derive(Debug, Clone)]
pub enum Resolved {
    /// Unknown, malformed or tampered with: nothing is said about it.
    Unknown,
    /// Past its last day or revoked.
    Expired(Link),
    Works(Link),
}

/// Looks `token` up as a link of `kind` on `today`.
pub async fn resolve(
    store: &Store,
    kind: LinkKind,
    token: &str,
    today: NaiveDate,
) -> Result<Resolved> {
    if !links::plausible_token(token) {
        return Ok(Resolved::Unknown);
    }
    Ok(match store.link_by_hash(&links::token_hash(token)).await? {
        Some(l) if l.link.kind != kind => Resolved::Unknown,
        Some(l) if l.works_on(today) => Resolved::Works(l),
        Some(l) => Resolved::Expired(l),
        None => Resolved::Unknown,
    })
}

fn require(config: &Config) -> Result<LinkSettings> {
    match settings(config) {
        Some(s) => Ok(s),
        None => bail!(
            "links are off: set [http] base_url (e.g. \"https://qinqing.example.gov.cn\") in the config"
        ),
    }
}

/// A new worklist link for a staff member.
pub async fn worklist_link(
    store: &Store,
    config: &Config,
    staff: &str,
    now: DateTime<FixedOffset>,
) -> Result<String> {
    let s = require(config)?;
    if !store.staff_numbers().await?.iter().any(|n| n == staff) {
        bail!("--staff: no staff member with 工号 {staff}");
    }
    let (url, row) = links::mint(
        &s.base,
        LinkKind::Worklist,
        staff,
        None,
        now.date_naive() + chrono::Duration::days(s.worklist_days),
    );
    store.add_links(&[row], now).await?;
    Ok(url)
}

/// A new acknowledgement link for the occasion a reference (提醒编号) names, for
/// the staff member its reminder went to.
pub async fn ack_link(
    store: &Store,
    config: &Config,
    reference: &str,
    now: DateTime<FixedOffset>,
) -> Result<String> {
    let s = require(config)?;
    let reference = reference.trim().to_uppercase();
    let stages = store.reminders_by_reference(&reference).await?;
    let Some(first) = stages
        .iter()
        .find(|s| s.reminder.stage == crate::planner::StageKind::Remind)
        .or(stages.first())
    else {
        bail!("--ref: no reminder with 提醒编号 {reference}");
    };
    let r = &first.reminder;
    let (url, row) = links::mint(
        &s.base,
        LinkKind::Ack,
        &r.recipient,
        Some(&r.occasion_key),
        now.date_naive() + chrono::Duration::days(s.ack_days),
    );
    store.add_links(&[row], now).await?;
    Ok(url)
}

/// Ends every link of a staff member; returns how many still worked.
pub async fn revoke(store: &Store, staff: &str, now: DateTime<FixedOffset>) -> Result<u64> {
    if !store.staff_numbers().await?.iter().any(|n| n == staff) {
        bail!("--staff: no staff member with 工号 {staff}");
    }
    Ok(store.revoke_links(staff, now.date_naive(), now).await?)
}
