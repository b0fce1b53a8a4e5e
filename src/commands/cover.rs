//! `qinqing delegate`, `qinqing pause` and `qinqing assign`: call their use case
//! and print what was recorded; `assign` plans at once.

use anyhow::Result;

use crate::cli::{AssignArgs, DelegateArgs, PauseArgs};
use crate::ledger::cover::Delegation;
use crate::service::Context;
use crate::service::cover;

pub async fn delegate(ctx: &Context, a: DelegateArgs) -> Result<i32> {
    let store = ctx.store().await?;
    let d = Delegation {
        staff: a.staff,
        to: a.to,
        from: a.from,
        until: a.until,
    };
    cover::delegate(&store, &d, ctx.clock.now()).await?;
    println!(
        "{}'s reminders, escalations and worklist go to {} from {} to {}",
        d.staff, d.to, d.from, d.until
    );
    Ok(0)
}

pub async fn pause(ctx: &Context, a: PauseArgs) -> Result<i32> {
    let store = ctx.store().await?;
    let p = cover::pause(
        &store,
        &a.person,
        a.from,
        a.until,
        &a.reason,
        ctx.clock.now(),
    )
    .await?;
    match p.until {
        Some(u) => println!(
            "non-urgent reminders paused from {} to {u}: {}",
            p.from, p.reason
        ),
        None => println!("non-urgent reminders paused from {}: {}", p.from, p.reason),
    }
    Ok(0)
}

pub async fn assign(ctx: &Context, a: AssignArgs) -> Result<i32> {
    let store = ctx.store().await?;
    let from = a.from.unwrap_or_else(|| ctx.clock.today());
    cover::assign(&store, &a.person, &a.staff, from, ctx.clock.now()).await?;
    println!("assigned to {} from {from}", a.staff.join(","));
    let tick = crate::service::plan::plan_now(ctx, &store).await?;
    if !tick.skipped {
        println!(
            "planned: {} new reminder stage(s), {} cancelled",
            tick.planned, tick.cancelled
        );
    }
    Ok(0)
}
