//! The ledger (台账) as an XLSX workbook: the items a person has on screen, with the columns
//! the item list shows, a title row saying which filters made it, and a frozen header so a
//! long ledger stays readable when scrolled or printed.

use rust_xlsxwriter::{Format, FormatBorder, Workbook};

use super::RenderError;

/// One item of the ledger, in words as the list shows them.
#[derive(Debug, Clone, Default)]
pub struct LedgerRow {
    pub serial: String,
    pub title: String,
    pub source: String,
    pub stage: String,
    pub colour: String,
    pub colour_reason: String,
    pub lead_unit: String,
    pub co_units: String,
    /// The lead unit's effective due, local time (`2026-11-24 18:00`).
    pub due: String,
    pub requirements: String,
}

const HEADERS: [&str; 10] = [
    "督办编号",
    "事项",
    "来源",
    "阶段",
    "颜色",
    "颜色原因",
    "主办单位",
    "协办单位",
    "办理期限",
    "办理要求",
];
const WIDTHS: [f64; 10] = [16.0, 36.0, 12.0, 10.0, 6.0, 30.0, 20.0, 24.0, 17.0, 50.0];

/// The workbook: `title` in the first row, `filters` (what was chosen on screen) in the
/// second, the table from the fourth.
pub fn ledger_xlsx(title: &str, filters: &str, rows: &[LedgerRow]) -> Result<Vec<u8>, RenderError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("督办台账")?;
    let cell = Format::new().set_border(FormatBorder::Thin);
    let header = cell
        .clone()
        .set_bold()
        .set_background_color("#D9E1F2")
        .set_text_wrap();
    let wrap = cell.clone().set_text_wrap();
    sheet.write_string_with_format(0, 0, title, &Format::new().set_bold().set_font_size(14))?;
    sheet.write_string(1, 0, filters)?;
    for (col, (name, width)) in HEADERS.iter().zip(WIDTHS).enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet.write_string_with_format(3, col, *name, &header)?;
        sheet.set_column_width(col, width)?;
    }
    for (index, row) in rows.iter().enumerate() {
        let r = u32::try_from(index + 4).unwrap_or(u32::MAX);
        let values = [
            &row.serial,
            &row.title,
            &row.source,
            &row.stage,
            &row.colour,
            &row.colour_reason,
            &row.lead_unit,
            &row.co_units,
            &row.due,
            &row.requirements,
        ];
        for (col, value) in values.into_iter().enumerate() {
            let format = if matches!(col, 1 | 5 | 9) {
                &wrap
            } else {
                &cell
            };
            sheet.write_string_with_format(r, u16::try_from(col).unwrap_or(0), value, format)?;
        }
    }
    sheet.set_freeze_panes(4, 0)?;
    if !rows.is_empty() {
        let last = u32::try_from(rows.len() + 3).unwrap_or(u32::MAX);
        sheet.autofilter(3, 0, last, 9)?;
    }
    sheet.set_landscape();
    sheet.set_repeat_rows(3, 3)?;
    Ok(book.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workbook_holds_every_row_and_says_its_filters() {
        let rows: Vec<LedgerRow> = (0..3)
            .map(|n| LedgerRow {
                serial: format!("督〔2026〕{n}号"),
                title: format!("事项{n}"),
                ..Default::default()
            })
            .collect();
        let bytes = ledger_xlsx("督办台账", "颜色：红色", &rows).expect("renders");
        // An XLSX is a zip: it starts with the local file header's signature.
        assert_eq!(bytes.get(..2), Some(&b"PK"[..]));
        let empty = ledger_xlsx("督办台账", "", &[]).expect("renders empty");
        assert!(bytes.len() > empty.len());
    }
}
