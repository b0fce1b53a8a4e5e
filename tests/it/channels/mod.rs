//! Channel tests against real protocol peers on loopback.

mod console;
mod email;
mod robots;
mod sms;
pub mod support;
mod webhook;
