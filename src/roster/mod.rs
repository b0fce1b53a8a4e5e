//! The roster (花名册): persons and staff, their typed model and import from Excel/CSV.

pub mod model;
pub mod parse;
pub mod reconcile;

pub use model::{Category, Person, Rank, SelfCare, Sex, Staff};
pub use parse::{
    ParseOptions, PersonRow, RosterError, RosterFile, RowError, StaffRow, parse_csv_reader,
    parse_path,
};
