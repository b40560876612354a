//! The supervision lifecycle against the database. Every verb is one transaction that
//! (1) takes the item's optimistic version (a stale write is a CONFLICT, nothing changes),
//! (2) asks the pure domain whether the actor may act and where the stage goes,
//! (3) writes the change and appends the audit trail, and commits — or changes nothing.
//!
//! Grouped by capability, one room each, every room using only rooms below it
//! (docs/architecture.md draws them):
//! - `store` — rows and how they are read and written: decoding, SQL, the audit trail, who
//!   sees which rows, kept items, the history rewound, dues, the calendar in force;
//! - `notices` — who hears of what, the digests, and the outbox that delivers them;
//! - `watch` — what time passing does: colours, the board, the reminder sweep, the live tail;
//! - `items` — items and their verbs (the one path of `items::verb`), attachments, follows,
//!   the ledger's list, a unit's to-do;
//! - `org` — units, people, tokens, passwords;
//! - `calendar` — the calendar's changes and the deadlines they move;
//! - `reports` — the monthly 通报.

pub mod calendar;
pub mod items;
pub mod notices;
pub mod org;
pub mod reports;
pub mod store;
pub mod watch;
