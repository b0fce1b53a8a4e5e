//! `qinqing status`, `qinqing ack` and `qinqing test-send`: call their use case and
//! print the outcome.

use anyhow::Result;

use crate::cli::{AckArgs, Format, StatusArgs, TestSendArgs};
use crate::service::Context;
use crate::service::ack::{AckRequest, ack as ack_reference};
use crate::service::status::status as status_report;

pub async fn status(ctx: &Context, args: StatusArgs) -> Result<i32> {
    let store = ctx.store().await?;
    let report = status_report(&store).await?;
    if args.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(0);
    }
    println!(
        "last tick: {}",
        report.last_tick.as_deref().unwrap_or("never")
    );
    let d = &report.deliveries;
    println!(
        "deliveries: {} pending, {} sending, {} sent, {} failed, {} cancelled; {} reminder(s) delivered, \
         {} channel failure(s) rescued by another channel, {} deferred by a sending limit",
        d.pending, d.sending, d.sent, d.failed, d.cancelled, d.delivered, d.rescued, d.deferred
    );
    let r: Vec<String> = report
        .reminders
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    println!(
        "reminder stages: {}",
        if r.is_empty() {
            "none".into()
        } else {
            r.join(", ")
        }
    );
    if !report.failures.is_empty() {
        println!("pending and failed deliveries:");
        for f in &report.failures {
            println!(
                "  {} {} {} → {} via {}: {}{} after {} attempt(s){}",
                f.remind_on,
                f.reference,
                f.rule,
                f.recipient,
                f.channel,
                f.status,
                if f.rescued {
                    " (rescued: delivered on another channel)"
                } else {
                    ""
                },
                f.attempts,
                f.last_error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
        }
    }
    if !report.roster_errors.is_empty() {
        println!("roster file errors (not applied):");
        for e in &report.roster_errors {
            println!("  {e}");
        }
    }
    if !report.unrouted.is_empty() {
        println!(
            "unrouted escalations (nobody to escalate to: give the staff member a 上级, or set [escalation] fallback):"
        );
        for u in &report.unrouted {
            println!(
                "  {} {} {} {} (occasion {})",
                u.remind_on, u.reference, u.rule, u.title, u.occasion_on
            );
        }
    }
    if !report.calendar_errors.is_empty() {
        println!("holiday file errors (the last good calendar stays in use):");
        for e in &report.calendar_errors {
            println!("  {e}");
        }
    }
    Ok(0)
}

pub async fn ack(ctx: &Context, args: AckArgs) -> Result<i32> {
    let store = ctx.store().await?;
    let req = AckRequest {
        reference: args.reference,
        by: args.by,
        on: args.on,
        kind: args.kind.map(|k| k.as_str()),
        person: None,
        note: args.note,
    };
    print_ack(&ack_reference(&store, &req, ctx.clock.now()).await?);
    Ok(0)
}

/// What `ack` and `contact add --ref` did, in one line.
pub fn print_ack(out: &crate::service::ack::AckOutcome) {
    match (&out.cancelled, &out.already) {
        (Some(n), _) => println!(
            "{} acknowledged on {} ({}): recorded as a {}; {n} pending reminder(s) cancelled",
            out.reference, out.on, out.title, out.contact_kind
        ),
        (None, Some(c)) => println!(
            "{} ({}) was already acknowledged by {} on {} (recorded {}); nothing recorded",
            out.reference,
            out.title,
            c.entry.staff_number.as_deref().unwrap_or("?"),
            c.entry.on,
            c.recorded_at
        ),
        (None, None) => println!(
            "{} ({}) was already acknowledged; nothing recorded",
            out.reference, out.title
        ),
    }
}

pub async fn test_send(ctx: &Context, args: TestSendArgs) -> Result<i32> {
    let provider_id = crate::service::test_send::test_send(ctx, &args.staff, &args.channel).await?;
    println!(
        "test message sent to {} via {}{}",
        args.staff,
        args.channel,
        provider_id
            .map(|id| format!(" (provider id {id})"))
            .unwrap_or_default()
    );
    Ok(0)
}

pub async fn link(ctx: &Context, args: crate::cli::LinkArgs) -> Result<i32> {
    use crate::service::links;
    let store = ctx.store().await?;
    let now = ctx.clock.now();
    match (args.revoke, args.staff, args.reference) {
        (Some(crate::cli::LinkCommand::Revoke { staff }), _, _) => {
            let n = links::revoke(&store, &staff, now).await?;
            println!("{n} link(s) of {staff} revoked");
        }
        (None, Some(staff), None) => {
            println!(
                "{}",
                links::worklist_link(&store, &ctx.config, &staff, now).await?
            )
        }
        (None, None, Some(reference)) => {
            println!(
                "{}",
                links::ack_link(&store, &ctx.config, &reference, now).await?
            )
        }
        _ => anyhow::bail!("give --staff 工号 or --ref 提醒编号 (or: link revoke --staff 工号)"),
    }
    Ok(0)
}
