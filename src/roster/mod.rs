//! The roster (花名册): the domain types of persons, staff, their events and the
//! documents they must receive; parsing Excel/CSV; and the pure reconciliation of a
//! parsed file with the stored roster. Knows nothing of the store (which maps its
//! rows to these types), delivery, services, HTTP or the CLI.

pub mod document;
pub mod model;
pub mod parse;
pub mod reconcile;
pub mod record;

pub use document::{Document, NewDocument};
pub use model::{Addresses, Category, Facts, Person, Rank, SelfCare, Sex, Staff};
pub use parse::{
    ErrorGroup, ParseOptions, PersonRow, RawRows, RosterError, RosterFile, RowError, StaffRow,
    group_errors, parse_csv_reader, parse_date_text, parse_path, raw_rows,
};
pub use reconcile::{ImportPlan, ImportSummary};
pub use record::{PersonEvent, PersonRecord, PlanRow, RosterSnapshot, StaffRecord};
pub mod summary;
