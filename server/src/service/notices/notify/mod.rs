//! Who hears of a notice, and the one mail each reader gets for a batch of them.
//!
//! A notice is recorded on its own (at most once per assignment × kind × level), but mail
//! goes per reader: one digest per sweep listing every new notice for that person, grouped
//! by kind, each item once; and one mail per reader for the notices a verb writes (交办,
//! 改派, 延期审批, 退回重办), in the same transaction as the change. Every mail is addressed to
//! its reader (a unit by its name, a person by theirs) and asks of them only what is theirs
//! to do: a 红色督办 asks the unit head to act, the 分管 leader to press the unit, the office
//! to follow up (docs/rules.md §4, [000 Art.68]).
//!
//! Split by job: `topics` (what a notice is about, its reader, the context) ← `readers` (who hears) ← `digest` (one reader's mail) ← `channels` (the same notices by robot, webhook and SMS) ← `window` (a verb's messages held and joined) ← `events` (a verb's notices) and `pending` (the sweep's digests).

mod channels;
mod digest;
mod events;
mod pending;
mod readers;
mod topics;
mod window;

pub use channels::*;
pub use digest::*;
pub use events::*;
pub use pending::*;
pub use readers::*;
pub use topics::*;
