//! `qinqing calendar --year Y`: festivals, days off and make-up working days.

use anyhow::Result;

use crate::cli::{CalendarArgs, Format};
use crate::service::Context;

pub fn run(ctx: &Context, args: CalendarArgs) -> Result<i32> {
    let cal = crate::service::work_calendar(&ctx.config)?;
    let report = cal.year_report(args.year);
    if args.format == Format::Json {
        println!("{}", serde_json::to_string(&report.to_json())?);
    } else {
        print!("{}", report.to_table());
        if !report.has_data {
            eprintln!(
                "warning: no holiday notice for {}: Monday–Friday are shown as working days (add it to the calendar.holidays file)",
                args.year
            );
        }
    }
    Ok(0)
}
