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

/// The columns of a table pasted without its header (a meeting's decisions): 事项, 主办单位,
/// 协办单位, 期限规则, 办理要求.
pub const PASTED_COLUMNS: [Field; 5] = [
    Field::Title,
    Field::LeadUnit,
    Field::CoUnits,
    Field::Rule,
    Field::Requirements,
];

/// Rows pasted from a spreadsheet (tab-separated) or typed one per line: with their own
/// header when the first lines have one, else in the order of [`PASTED_COLUMNS`].
pub fn read_pasted(text: &str) -> Result<Ledger, FileRefusal> {
    let mut table = read_table(text.as_bytes())?;
    if table::header_index(&table).is_none() {
        table.numbers.insert(0, 0);
        table.rows.insert(
            0,
            PASTED_COLUMNS
                .iter()
                .map(|f| f.header().to_string())
                .collect(),
        );
    }
    ledger_of(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_rows_without_a_header_take_the_usual_order() {
        let ledger = read_pasted("制定夜间经济方案\t区商务局\t区文旅局、区城管局\t15个工作日\n\n整治学校周边交通\t区交通局").expect("reads");
        assert_eq!(ledger.lines.len(), 2);
        assert_eq!(ledger.lines[0].line, 1);
        assert_eq!(ledger.lines[1].line, 3);
        assert_eq!(ledger.lines[0].get(Field::CoUnits), "区文旅局、区城管局");
        assert_eq!(ledger.lines[0].get(Field::Rule), "15个工作日");
        assert_eq!(ledger.lines[1].get(Field::LeadUnit), "区交通局");
        let with_header = read_pasted("事项\t牵头单位\n甲\t区商务局").expect("reads");
        assert_eq!(with_header.lines[0].get(Field::LeadUnit), "区商务局");
        assert_eq!(with_header.lines[0].line, 2);
    }
}
