//! Delivery: the outbox dispatcher, digests, routing, retries, and the channels.
//! The only module that talks to the network.

pub mod channels;
pub mod digest;
pub mod dispatcher;
pub mod router;
