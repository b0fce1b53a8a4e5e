//! `qinqing doc add|list` and `qinqing contact add`.

use anyhow::{Context as _, Result};

use crate::cli::{ContactCommand, DocCommand, Format};
use crate::roster::{Category, NewDocument, Rank};
use crate::service::Context;
use crate::service::records::{self, ContactReport};

pub async fn run_doc(ctx: &Context, cmd: DocCommand) -> Result<i32> {
    let store = ctx.store().await?;
    match cmd {
        DocCommand::Add(a) => {
            let mut audience = Vec::new();
            for word in a
                .audience
                .split([',', '，', '、', ';', ' '])
                .filter(|w| !w.trim().is_empty())
            {
                let c = Category::parse(word).with_context(|| {
                    format!("--audience: {word:?} is not a category (离休, 退休, 遗属)")
                })?;
                audience.push(c);
            }
            let min_rank = match a.min_rank.as_deref() {
                Some(r) => Some(Rank::parse(r).with_context(|| {
                    format!(
                        "--min-rank: {r:?} is not a rank (厅级, 副厅级, 县处级, 副处级, 科级, 其他)"
                    )
                })?),
                None => None,
            };
            let id = records::add_document(
                &store,
                &NewDocument {
                    title: a.title.clone(),
                    issued_on: a.issued,
                    deadline: a.deadline,
                    audience,
                    min_rank,
                },
                ctx.clock.now(),
            )
            .await?;
            println!(
                "document {id} registered: {} (issued {}, deadline {})",
                a.title, a.issued, a.deadline
            );
        }
        DocCommand::List(a) => {
            let docs = store.documents().await?;
            if a.format == Format::Json {
                for d in &docs {
                    println!("{}", serde_json::to_string(d)?);
                }
            } else {
                for d in &docs {
                    let audience: Vec<&str> = d.audience.iter().map(|c| c.as_str()).collect();
                    println!(
                        "{:>4}  {}  {}  {:<8} {:<6} {}",
                        d.id,
                        d.issued_on,
                        d.deadline,
                        audience.join(","),
                        d.min_rank.map(|r| r.as_str()).unwrap_or("-"),
                        d.title
                    );
                }
            }
        }
    }
    Ok(0)
}

pub async fn run_contact(ctx: &Context, cmd: ContactCommand) -> Result<i32> {
    let store = ctx.store().await?;
    match cmd {
        ContactCommand::Add(a) => {
            let kind = a.kind.as_str();
            let on = a.on.unwrap_or_else(|| ctx.clock.today());
            match &a.reference {
                // A contact for an occasion acknowledges it, as `ack` does.
                Some(reference) => {
                    let req = crate::service::ack::AckRequest {
                        reference: reference.clone(),
                        by: Some(a.staff.clone()),
                        on: Some(on),
                        kind: Some(kind),
                        person: Some(a.person.clone()),
                        note: a.note.clone(),
                    };
                    let out = crate::service::ack::ack(&store, &req, ctx.clock.now()).await?;
                    super::records::print_ack(&out);
                }
                None => {
                    let report = ContactReport {
                        person: a.person.clone(),
                        staff: a.staff.clone(),
                        kind,
                        on,
                        note: a.note.clone(),
                    };
                    records::add_contact(&store, &report, ctx.clock.now()).await?;
                    println!("{kind} on {on} by {} recorded", a.staff);
                }
            }
        }
        ContactCommand::List(a) => {
            let filter = records::ContactFilter {
                person: a.person,
                staff: a.staff,
                from: a.from,
                to: a.to,
            };
            print_contacts(&records::list_contacts(&store, &filter).await?, a.format);
        }
    }
    Ok(0)
}

/// `contact list` in one of its three forms.
fn print_contacts(lines: &[records::ContactLine], format: Format) {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    match format {
        Format::Json => {
            for l in lines {
                println!("{}", serde_json::to_string(l).expect("serialisable"));
            }
        }
        Format::Csv => {
            println!(
                "person,name,staff,kind,outcome,done_on,entered_at,rule,title,occasion_on,on_time,note"
            );
            for l in lines {
                let fields = [
                    l.person.clone(),
                    l.name.clone(),
                    opt(&l.staff),
                    l.kind.clone(),
                    l.outcome.to_string(),
                    l.done_on.to_string(),
                    l.entered_at.clone(),
                    opt(&l.rule),
                    opt(&l.title),
                    l.occasion_on.map(|d| d.to_string()).unwrap_or_default(),
                    l.on_time.map(|b| b.to_string()).unwrap_or_default(),
                    opt(&l.note),
                ];
                let quoted: Vec<String> = fields.iter().map(|f| super::csv_field(f)).collect();
                println!("{}", quoted.join(","));
            }
        }
        Format::Table => {
            if lines.is_empty() {
                println!("no contacts");
            }
            for l in lines {
                let what = match l.outcome {
                    "not_done" => format!("{} 未能完成", l.kind),
                    _ => l.kind.clone(),
                };
                let occasion = match (&l.title, l.on_time) {
                    (Some(t), Some(true)) => format!("{t} 按时"),
                    (Some(t), Some(false)) => format!("{t} 逾期"),
                    (Some(t), None) => t.clone(),
                    (None, _) => "(日常联系)".into(),
                };
                println!(
                    "{}  {:<10} {:<8} {:<6} {:<14} {}{}",
                    l.done_on,
                    l.person,
                    l.name,
                    opt(&l.staff),
                    what,
                    occasion,
                    l.note
                        .as_deref()
                        .map(|n| format!("  {n}"))
                        .unwrap_or_default()
                );
            }
        }
    }
}
