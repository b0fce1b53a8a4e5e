//! `qinqing event add`: record a person's event, then plan at once.

use anyhow::Result;

use crate::cli::EventCommand;
use crate::service::Context;
use crate::service::events::{EventReport, record};

pub async fn run(ctx: &Context, cmd: EventCommand) -> Result<i32> {
    let store = ctx.store().await?;
    match cmd {
        EventCommand::Add(a) => {
            let report = EventReport {
                person: a.person,
                kind: a.kind.as_str().to_string(),
                on: a.on,
                note: a.note,
            };
            let out = record(&store, &report, ctx.clock.now()).await?;
            if !out.recorded {
                println!(
                    "{} {} {} on {} was already recorded; nothing changed",
                    out.person, out.name, out.kind, out.on
                );
                return Ok(0);
            }
            println!(
                "{} {} {} on {} recorded",
                out.person, out.name, out.kind, out.on
            );
            let tick = crate::service::plan::plan_now(ctx, &store).await?;
            if tick.skipped {
                println!("another daemon is planning; it plans this within a minute");
            } else {
                println!("planned: {} new reminder stage(s)", tick.planned);
            }
        }
    }
    Ok(0)
}
