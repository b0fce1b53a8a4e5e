//! qinqing: turns a retired-cadres bureau's roster and service rules into timely
//! reminders for the staff who visit, call or deliver documents, and records that
//! the work was done.
//!
//! The folders follow the pipeline:
//! `roster → calendar → rules → planner → store → delivery`, with `app` as the one
//! composition root and `clock` as the only reader of the wall clock.

pub mod calendar;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod mask;
pub mod roster;
