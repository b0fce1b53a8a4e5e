//! Recording what staff report: documents to deliver (三必须) and contacts (calls and
//! visits) in the ledger. Each checks what it refers to before writing.

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::ledger::NewContact;
use crate::roster::NewDocument;
use crate::store::Store;

/// Registers a document; returns its id.
pub async fn add_document(
    store: &Store,
    doc: &NewDocument,
    now: DateTime<FixedOffset>,
) -> Result<i64> {
    if doc.audience.is_empty() {
        bail!("--audience is empty; give categories such as 离休,退休");
    }
    if doc.deadline < doc.issued_on {
        bail!(
            "--deadline {} is before --issued {}",
            doc.deadline,
            doc.issued_on
        );
    }
    Ok(store.add_document(doc, now).await?)
}

/// A contact to record, as staff report it.
#[derive(Debug, Clone)]
pub struct ContactReport {
    /// 身份证号 or 编号.
    pub person: String,
    /// 工号.
    pub staff: String,
    /// call or visit.
    pub kind: &'static str,
    pub on: NaiveDate,
    pub note: Option<String>,
}

/// Records a call or visit in the ledger.
pub async fn add_contact(
    store: &Store,
    c: &ContactReport,
    now: DateTime<FixedOffset>,
) -> Result<()> {
    let person_id = store.person_id(&c.person).await?.with_context(|| {
        format!(
            "--person: no person with 身份证号 or 编号 {}",
            crate::mask::id_number(&c.person)
        )
    })?;
    if !store.staff_numbers().await?.contains(&c.staff) {
        bail!("--staff: no staff member with 工号 {}", c.staff);
    }
    store
        .add_contact(
            &NewContact {
                person_id,
                staff_number: Some(c.staff.clone()),
                on: c.on,
                kind: c.kind.into(),
                note: c.note.clone(),
                reference: None,
                outcome: crate::ledger::Outcome::Done,
            },
            now,
        )
        .await?;
    Ok(())
}
