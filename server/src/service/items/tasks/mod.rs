//! Levels (docs/rules.md §8): a unit's part of an item handed down to its sub-units —
//! split into tasks (分解) or passed down whole (转办) — and the tasks' own lifecycle, which
//! the unit that handed them down verifies. `hand_down` makes tasks, `act` moves them, and
//! `write` holds what both need: the holder a task hangs from, the write a task verb
//! takes, and its audit row and notices.
//!
//! A task verb moves no stage of the item: its audit rows carry no stages (the item's stage
//! history is untouched), name the task in their details and the part as their assignment.
//! `store::scope` shows them whole to the task's readers and leaves them out for everyone
//! else.

pub mod act;
mod extend;
pub mod hand_down;
pub mod read;
pub mod write;

pub use act::{TaskVerb, act_on_task};
pub use hand_down::{HandDown, HandDownPlan, NewTask, hand_down, plan};
pub use write::{Holder, status_of, tally_under};
