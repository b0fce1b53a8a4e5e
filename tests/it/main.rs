//! Integration tests: one binary, real SQLite files, the local PostgreSQL when
//! `QINQING_TEST_DATABASE_URL` is set, real SMTP and HTTP peers on loopback.

mod api;
mod browser;
mod catchup;
mod channels;
mod cover;
mod coverage;
mod daemon;
mod daemon_support;
mod escalation;
mod events;
mod identity;
mod inputs;
mod layers;
mod ledger;
mod links;
mod ops;
mod preview;
mod recipients;
mod reports;
mod roster;
mod rules;
mod sms_limits;
mod store;
mod support;
mod systemd;
mod watch;
