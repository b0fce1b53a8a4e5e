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
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
}

/// A contact to record (and, inside [`Contact`], one recorded).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewContact {
    pub person_id: i64,
    pub staff_number: Option<String>,
    pub on: NaiveDate,
    pub kind: String,
    pub note: Option<String>,
    /// The key of the occasion acknowledged, when the contact comes from `qinqing ack`
    /// or an acknowledgement link.
    pub reference: Option<String>,
    pub outcome: Outcome,
}

/// Whether the work was done. A `NotDone` contact records an attempt and its reason
/// (in `note`): it closes nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    #[default]
    Done,
    NotDone,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::NotDone => "not_done",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "done" => Some(Outcome::Done),
            "not_done" => Some(Outcome::NotDone),
            _ => None,
        }
    }
}
