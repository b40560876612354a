//! Reading a ledger (台账) file for import (docs/rules.md §9): the file as a table of text
//! ([`read_table`]), then its rows by column ([`ledger_of`]). Pure: what each row becomes
//! (units, rules, dues, duplicates) is decided by the server against the district's data.

mod columns;
mod table;

pub use columns::{Field, Ledger, LedgerLine, date_text, ledger_of, unit_names};
pub use table::{FileRefusal, MAX_FILE_BYTES, MAX_ROWS, Table, column_letters, read_table};

/// A file's bytes as the rows of its ledger, or why it cannot be read.
pub fn read_ledger(bytes: &[u8]) -> Result<Ledger, FileRefusal> {
    ledger_of(read_table(bytes)?)
}
