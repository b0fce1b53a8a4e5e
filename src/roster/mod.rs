//! The roster (花名册): persons and staff, their typed model and import from Excel/CSV.

pub mod model;

pub use model::{Category, Person, Rank, SelfCare, Sex, Staff};
