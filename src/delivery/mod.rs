//! Delivery: the outbox dispatcher, digests, retries, and the channels.

pub mod channels;
