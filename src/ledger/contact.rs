//! A contact: one call, visit or delivery recorded for a person, by `qinqing contact
//! add` or, carrying the occasion's key, by `qinqing ack`.

use chrono::NaiveDate;
use serde::Serialize;

/// A recorded contact: its row id and what was recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: i64,
    #[serde(flatten)]
    pub entry: NewContact,
}

/// A contact to record (and, inside [`Contact`], one recorded).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewContact {
    pub person_id: i64,
    pub staff_number: Option<String>,
    pub on: NaiveDate,
    pub kind: String,
    pub note: Option<String>,
    /// The key of the occasion acknowledged, when the contact comes from `qinqing ack`.
    pub reference: Option<String>,
}
