//! Channel tests against real protocol peers on loopback.
