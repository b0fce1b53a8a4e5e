//! Cover for absence and reassignment, as use cases: `delegate` (a colleague takes
//! a staff member's reminders, escalations and worklist for some days), `pause`
//! (a person's non-urgent reminders wait while they are away) and `assign` (a
//! person moves to other staff members; open occasions and pending reminders
//! follow at the next planning, which the caller runs at once).

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::ledger::cover::{Delegation, Pause};
use crate::store::Store;

async fn known_staff(store: &Store, flag: &str, no: &str) -> Result<()> {
    if !store.staff_numbers().await?.iter().any(|s| s == no) {
        bail!("{flag} {no}: 工作人员名单中没有这个工号 (no staff member with this 工号)");
    }
    Ok(())
}

async fn person(store: &Store, key: &str) -> Result<i64> {
    store.person_id(key).await?.with_context(|| {
        format!(
            "--person: 没有身份证号或编号为 {} 的老同志 (no such person)",
            crate::mask::id_number(key)
        )
    })
}

/// Records a delegation from `from` to `until` (inclusive).
pub async fn delegate(store: &Store, d: &Delegation, now: DateTime<FixedOffset>) -> Result<()> {
    known_staff(store, "--staff", &d.staff).await?;
    known_staff(store, "--to", &d.to).await?;
    if d.staff == d.to {
        bail!("--to {} is the staff member himself", d.to);
    }
    if d.until < d.from {
        bail!("--until {} is before --from {}", d.until, d.from);
    }
    Ok(store.add_delegation(d, now).await?)
}

/// Pauses a person's non-urgent reminders from `from` (to `until`, or until lifted).
pub async fn pause(
    store: &Store,
    person_key: &str,
    from: NaiveDate,
    until: Option<NaiveDate>,
    reason: &str,
    now: DateTime<FixedOffset>,
) -> Result<Pause> {
    let person_id = person(store, person_key).await?;
    if reason.trim().is_empty() {
        bail!("--reason 不能为空, 例如 --reason 异地居住 (give the reason)");
    }
    if until.is_some_and(|u| u < from) {
        bail!("--until is before --from {from}");
    }
    let p = Pause {
        person_id,
        from,
        until,
        reason: reason.trim().to_string(),
    };
    store.add_pause(&p, now).await?;
    Ok(p)
}

/// Assigns a person to these staff members from `from` on.
pub async fn assign(
    store: &Store,
    person_key: &str,
    staff: &[String],
    from: NaiveDate,
    now: DateTime<FixedOffset>,
) -> Result<()> {
    let person_id = person(store, person_key).await?;
    if staff.is_empty() {
        bail!("--staff: give one or more 工号, e.g. --staff S002 or --staff S002,S003");
    }
    for s in staff {
        known_staff(store, "--staff", s).await?;
    }
    if from > now.date_naive() {
        bail!("--from {from}: 不能是将来的日期 (a reassignment starts today or earlier)");
    }
    Ok(store.assign_staff(person_id, staff, from, now).await?)
}
