//! qinqing: turns a retired-cadres bureau's roster and service rules into timely
//! reminders for the staff who visit, call or deliver documents, and records that
//! the work was done.
//!
//! The folders follow the pipeline:
//! `roster → calendar → rules → planner → store → delivery → http`, with `ledger`
//! (recorded work and what closes an occasion) beside the planner, `service` holding
//! each use case once, `app` as the one composition root, `commands` as the CLI
//! layer and `clock` as the only reader of the wall clock. Lower layers never import
//! higher ones (see `docs/ARCHITECTURE.md`; `tests/it/layers.rs` keeps it so).

pub mod app;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod delivery;
pub mod html;
pub mod http;
pub mod ledger;
pub mod links;
pub mod logging;
pub mod mask;
pub mod metrics;
pub mod planner;
pub mod roster;
pub mod rules;
pub mod service;
pub mod store;

/// mimalloc: planning allocates millions of small strings and vectors across rayon
/// threads, where glibc malloc spent 40–60% of the time (benches/plan.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
