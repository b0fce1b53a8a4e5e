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
            let done = a.outcome == crate::cli::OutcomeArg::Done;
            let report = ContactReport {
                person: a.person.clone(),
                staff: a.staff.clone(),
                kind,
                on,
                note: a.note.clone(),
                reference: a.reference.clone(),
                outcome: if done {
                    crate::ledger::Outcome::Done
                } else {
                    crate::ledger::Outcome::NotDone
                },
            };
            match records::record_contact(&store, &report, ctx.clock.now()).await? {
                records::ContactRecorded::Acknowledged(out) => super::records::print_ack(&out),
                records::ContactRecorded::Logged if done => {
                    println!("{kind} on {on} by {} recorded", a.staff)
                }
                records::ContactRecorded::Logged => println!(
                    "attempt ({kind}) on {on} by {} recorded as not done",
                    a.staff
                ),
            }
        }
        ContactCommand::List(a) => {
            let filter = records::ContactFilter {
                person: a.person,
                staff: a.staff,
                from: a.from,
                to: a.to,
            };
            print!(
                "{}",
                super::report::contacts_text(
                    &records::list_contacts(&store, &filter).await?,
                    a.format
                )
            );
        }
    }
    Ok(0)
}
