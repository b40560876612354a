//! Rows and how they are read and written: decoding by position (`rows`), statements
//! (`sql`), write transactions and SQLite's one writer (`write`), input checked at the boundary (`input`), the audit trail
//! (`audit`), who sees which rows and may do which duty (`scope`), the kept items
//! (`item_cache`) and the reads through them (`read`), the history rewound to an instant
//! (`history`, `dues`), and the calendar in force (`calendar_state`).

pub mod audit;
pub mod calendar_state;
pub mod dues;
pub mod history;
pub mod input;
pub mod item_cache;
pub mod read;
pub mod rows;
pub mod scope;
pub mod sql;
pub mod write;
