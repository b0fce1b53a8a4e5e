//! Typed configuration: TOML with unknown keys rejected, then `QINQING_*` environment
//! overrides for secrets. Validation is pure.

mod secret;

pub use secret::Secret;
