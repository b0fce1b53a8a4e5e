//! Channels: one trait, one module per transport.
