//! The ledger (台账): the calls, visits and deliveries staff record, acknowledgements
//! of reminders, and the pure rule that decides when recorded work closes an
//! occasion. Plain data and pure functions: the store keeps the rows, the dispatcher
//! and `preview` ask [`ClosingContacts`] whether a reminder still needs sending.
//! Knows nothing of the store, delivery, services, HTTP or the CLI.

mod closing;
mod contact;
pub mod cover;
pub mod coverage;

pub use closing::{ClosingContacts, OccasionTerms};
pub use contact::{Contact, NewContact, Outcome};
