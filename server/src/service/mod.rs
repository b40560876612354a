//! The supervision lifecycle against the database. Every verb is one transaction that
//! (1) takes the item's optimistic version (a stale write is a CONFLICT, nothing changes),
//! (2) asks the pure domain whether the actor may act and where the stage goes,
//! (3) writes the change and appends the audit trail, and commits — or changes nothing.
//!
//! This file only names the modules; docs/architecture.md draws how they depend on each
//! other (always downwards: `sql`, `audit`, `scope` at the bottom, the verbs above them).

pub mod attachments;
pub mod audit;
pub mod board;
pub mod calendar;
pub mod calendar_state;
pub mod colours;
pub mod dues;
pub mod follows;
pub mod history;
pub mod input;
pub mod item_cache;
pub mod items;
pub mod listing;
pub mod live;
pub mod notify;
pub mod org;
pub mod outbox;
pub mod read;
pub mod reports;
pub mod rows;
pub mod scope;
pub mod sql;
pub mod sweep;
pub mod todo;
pub mod verb;
