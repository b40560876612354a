//! Who hears of what (`notify`: the readers, the digests, a verb's notices) and the outbox
//! that delivers every mail once, retried through outages (`outbox`).

mod channel_send;
pub mod notify;
pub mod outbox;
