//! The roster as the store keeps it: a person or staff member with the internal id
//! and version the store gave them, person events, and the lean row planning reads.
//! Plain data; the store maps its rows to these and nothing here knows SQL.

use chrono::NaiveDate;

use super::{Person, Staff};

/// A stored person: the internal id (stable across corrections of the ID number),
/// whether they are still on the roster, and a version bumped on every change.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRecord {
    pub id: i64,
    pub person: Person,
    pub active: bool,
    pub version: i64,
    /// The person as the last imported file had them (None before the first import
    /// that kept it): what a re-import compares the file with.
    pub imported: Option<Person>,
}

/// A stored staff member.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffRecord {
    pub id: i64,
    pub staff: Staff,
    pub active: bool,
}

/// Something that happened to a person (kinds in [`super::reconcile::event`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonEvent {
    pub person_id: i64,
    pub kind: String,
    pub on: NaiveDate,
}

/// The whole roster as stored.
#[derive(Debug, Clone, Default)]
pub struct RosterSnapshot {
    pub persons: Vec<PersonRecord>,
    pub staff: Vec<StaffRecord>,
    pub events: Vec<PersonEvent>,
}

/// One active person as planning reads them: without contact details (phones,
/// address, former unit, health), with their events (kind, date) in date order.
#[derive(Debug, Clone)]
pub struct PlanRow {
    pub id: i64,
    pub version: i64,
    pub person: Person,
    pub events: Vec<(String, NaiveDate)>,
}
