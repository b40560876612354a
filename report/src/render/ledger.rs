//! The ledger (台账) as an XLSX workbook or CSV: the items a person has on screen with every
//! column an office reads, a title row saying which filters made it, and a frozen header so a
//! long ledger stays readable when scrolled or printed. The same columns make the import
//! template, so an exported ledger imports as it is (`crate::import`).

use chrono::{Datelike, NaiveDateTime, Timelike};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatBorder, Workbook, Worksheet};

use super::RenderError;
use crate::import::Field;

/// One item of the ledger, in words as the pages show them; times are local.
#[derive(Debug, Clone, Default)]
pub struct LedgerRow {
    pub serial: String,
    pub title: String,
    pub requirements: String,
    pub source: String,
    pub source_reference: String,
    pub urgency: String,
    pub leader: String,
    pub lead_unit: String,
    pub co_units: String,
    /// The item's own rule as written ("5个工作日", "2026-12-31").
    pub rule: String,
    /// The lead unit's effective due.
    pub due: Option<NaiveDateTime>,
    pub stage: String,
    pub colour: String,
    pub colour_reason: String,
    pub assigned_at: Option<NaiveDateTime>,
    /// When the lead unit signed.
    pub signed_at: Option<NaiveDateTime>,
    /// The latest progress report's words, with its date.
    pub latest_progress: String,
    pub closed_at: Option<NaiveDateTime>,
}

/// The ledger's columns, in order; those the import reads carry its headers.
pub const LEDGER_HEADERS: [&str; 18] = [
    "督办编号",
    "事项",
    "办理要求",
    "来源",
    "来源文号",
    "紧急程度",
    "责任领导",
    "主办单位",
    "协办单位",
    "期限规则",
    "办理期限",
    "阶段",
    "颜色",
    "颜色原因",
    "交办时间",
    "签收时间",
    "最新进展",
    "销号时间",
];
const WIDTHS: [f64; 18] = [
    16.0, 36.0, 44.0, 14.0, 20.0, 8.0, 10.0, 18.0, 24.0, 14.0, 17.0, 10.0, 6.0, 28.0, 17.0, 17.0,
    40.0, 17.0,
];
/// Columns written wrapped (long text).
const WRAPPED: [usize; 5] = [1, 2, 8, 13, 16];

enum Value<'a> {
    Text(&'a str),
    Time(Option<NaiveDateTime>),
}

fn values(row: &LedgerRow) -> [Value<'_>; 18] {
    use Value::{Text, Time};
    [
        Text(&row.serial),
        Text(&row.title),
        Text(&row.requirements),
        Text(&row.source),
        Text(&row.source_reference),
        Text(&row.urgency),
        Text(&row.leader),
        Text(&row.lead_unit),
        Text(&row.co_units),
        Text(&row.rule),
        Time(row.due),
        Text(&row.stage),
        Text(&row.colour),
        Text(&row.colour_reason),
        Time(row.assigned_at),
        Time(row.signed_at),
        Text(&row.latest_progress),
        Time(row.closed_at),
    ]
}

/// Whether a spreadsheet program would take the text for a formula (`=`, `+`, `-`, `@`, and
/// the tab and carriage return that some read as the start of one).
pub fn looks_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Text for a CSV cell that no spreadsheet program runs as a formula: a leading apostrophe,
/// the convention spreadsheet programs show as "text". The import reads it back off.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    if looks_like_formula(text) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

fn excel_time(t: NaiveDateTime) -> Result<ExcelDateTime, RenderError> {
    let date = ExcelDateTime::from_ymd(
        u16::try_from(t.year()).unwrap_or(1900),
        u8::try_from(t.month()).unwrap_or(1),
        u8::try_from(t.day()).unwrap_or(1),
    )?;
    Ok(date.and_hms(
        u16::try_from(t.hour()).unwrap_or(0),
        u8::try_from(t.minute()).unwrap_or(0),
        0,
    )?)
}

struct Formats {
    cell: Format,
    wrap: Format,
    time: Format,
    header: Format,
    /// A cell of text that begins like a formula: marked as text ("quote prefix"), so that
    /// editing it in Excel never turns it into one.
    quoted: Format,
    quoted_wrap: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = Format::new().set_border(FormatBorder::Thin);
        let wrap = cell.clone().set_text_wrap();
        Formats {
            time: cell.clone().set_num_format("yyyy-mm-dd hh:mm"),
            header: cell
                .clone()
                .set_bold()
                .set_background_color("#D9E1F2")
                .set_text_wrap(),
            quoted: cell.clone().set_quote_prefix(),
            quoted_wrap: wrap.clone().set_quote_prefix(),
            cell,
            wrap,
        }
    }
}

fn header_row(sheet: &mut Worksheet, row: u32, formats: &Formats) -> Result<(), RenderError> {
    for (col, (name, width)) in LEDGER_HEADERS.iter().zip(WIDTHS).enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet.write_string_with_format(row, col, *name, &formats.header)?;
        sheet.set_column_width(col, width)?;
    }
    Ok(())
}

/// The workbook: `title` in the first row, `filters` (what was chosen on screen) in the
/// second, the table from the fourth. Times are Excel dates; text that begins like a
/// formula is written as text.
pub fn ledger_xlsx(title: &str, filters: &str, rows: &[LedgerRow]) -> Result<Vec<u8>, RenderError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("督办台账")?;
    let formats = Formats::new();
    sheet.write_string_with_format(0, 0, title, &Format::new().set_bold().set_font_size(14))?;
    sheet.write_string(1, 0, filters)?;
    header_row(sheet, 3, &formats)?;
    for (index, row) in rows.iter().enumerate() {
        let r = u32::try_from(index + 4).unwrap_or(u32::MAX);
        for (col, value) in values(row).into_iter().enumerate() {
            let c = u16::try_from(col).unwrap_or(0);
            let wrapped = WRAPPED.contains(&col);
            match value {
                Value::Text(text) => {
                    let format = match (looks_like_formula(text), wrapped) {
                        (true, true) => &formats.quoted_wrap,
                        (true, false) => &formats.quoted,
                        (false, true) => &formats.wrap,
                        (false, false) => &formats.cell,
                    };
                    sheet.write_string_with_format(r, c, text, format)?;
                }
                Value::Time(Some(t)) => {
                    sheet.write_datetime_with_format(r, c, excel_time(t)?, &formats.time)?;
                }
                Value::Time(None) => {
                    sheet.write_blank(r, c, &formats.cell)?;
                }
            }
        }
    }
    sheet.set_freeze_panes(4, 2)?;
    if !rows.is_empty() {
        let last = u32::try_from(rows.len() + 3).unwrap_or(u32::MAX);
        sheet.autofilter(3, 0, last, 17)?;
    }
    sheet.set_landscape();
    sheet.set_repeat_rows(3, 3)?;
    Ok(book.save_to_buffer()?)
}

/// The same ledger as CSV (UTF-8 with its byte-order mark, which Excel on Chinese Windows
/// needs): the header row first, times as `2026-12-31 18:00`, text that begins like a
/// formula behind an apostrophe.
pub fn ledger_csv(rows: &[LedgerRow]) -> Result<Vec<u8>, RenderError> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = ::csv::Writer::from_writer(&mut out);
        writer.write_record(LEDGER_HEADERS)?;
        for row in rows {
            let record: Vec<String> = values(row)
                .into_iter()
                .map(|value| match value {
                    Value::Text(text) => neutralise(text).into_owned(),
                    Value::Time(t) => t
                        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default(),
                })
                .collect();
            writer.write_record(record)?;
        }
        writer.flush().map_err(::csv::Error::from)?;
    }
    Ok(out)
}

/// What the template says about filling it in, and what it offers to choose from.
pub struct TemplateHelp<'a> {
    pub units: &'a [String],
    pub sources: &'a [&'a str],
    pub leaders: &'a [String],
}

/// The import template: the ledger's columns (those the import does not read in grey), and a
/// second sheet saying how to fill each column in, with the district's units, sources and
/// leaders to copy from.
pub fn ledger_template(help: &TemplateHelp<'_>) -> Result<Vec<u8>, RenderError> {
    let mut book = Workbook::new();
    let formats = Formats::new();
    let unread = formats
        .header
        .clone()
        .set_background_color("#EDEDED")
        .set_font_color("#808080");
    let sheet = book.add_worksheet();
    sheet.set_name("督办台账")?;
    sheet.write_string_with_format(
        0,
        0,
        "督查督办事项台账（导入模板）",
        &Format::new().set_bold().set_font_size(14),
    )?;
    sheet.write_string(
        1,
        0,
        "从第5行起每行一个事项；“事项”必填，灰色列导入时不读取；填写方法见“填写说明”工作表。",
    )?;
    header_row(sheet, 3, &formats)?;
    for (col, name) in LEDGER_HEADERS.iter().enumerate() {
        if Field::of(name).is_none_or(|f| f == Field::Serial) {
            sheet.write_string_with_format(3, u16::try_from(col).unwrap_or(0), *name, &unread)?;
        }
    }
    sheet.set_freeze_panes(4, 2)?;
    let notes = book.add_worksheet();
    notes.set_name("填写说明")?;
    let bold = Format::new().set_bold();
    notes.set_column_width(0, 14)?;
    notes.set_column_width(1, 90)?;
    let lines: [(&str, &str); 10] = [
        ("事项", "必填，不超过200字。"),
        ("办理要求", "不填则与事项相同。"),
        (
            "来源",
            "见本表下方的来源类别；不填则用导入页面上选择的默认来源。",
        ),
        ("来源文号", "批示件号、会议纪要号或文件文号，可不填。"),
        ("紧急程度", "一般、急或特急，不填为一般。"),
        ("责任领导", "区领导姓名，可不填。"),
        (
            "主办单位",
            "填写单位全称（见下方单位名单）；填了即在导入时一并交办，不填只立项。",
        ),
        ("协办单位", "多个单位用顿号“、”隔开。"),
        (
            "期限规则",
            "如“5个工作日”“30天”“2个月”或日期“2026-12-31”；不填则看“办理期限”列的日期，再不填按来源类别的默认期限。",
        ),
        (
            "办理期限",
            "日期（如2026-12-31）；“期限规则”已填时不读取。期限日期不能早于今天，也不能是休息日。",
        ),
    ];
    notes.write_string_with_format(0, 0, "列", &bold)?;
    notes.write_string_with_format(0, 1, "填写方法", &bold)?;
    let mut row = 1u32;
    for (column, how) in lines {
        notes.write_string(row, 0, column)?;
        notes.write_string(row, 1, how)?;
        row += 1;
    }
    for (heading, names) in [
        (
            "来源类别",
            help.sources
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
        ),
        ("单位名单", help.units.to_vec()),
        ("区领导", help.leaders.to_vec()),
    ] {
        row += 1;
        notes.write_string_with_format(row, 0, heading, &bold)?;
        for name in names {
            notes.write_string(row, 1, &name)?;
            row += 1;
        }
        row += 1;
    }
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
                due: chrono::NaiveDate::from_ymd_opt(2026, 12, 31)
                    .and_then(|d| d.and_hms_opt(18, 0, 0)),
                ..Default::default()
            })
            .collect();
        let bytes = ledger_xlsx("督办台账", "颜色：红色", &rows).expect("renders");
        // An XLSX is a zip: it starts with the local file header's signature.
        assert_eq!(bytes.get(..2), Some(&b"PK"[..]));
        let empty = ledger_xlsx("督办台账", "", &[]).expect("renders empty");
        assert!(bytes.len() > empty.len());
    }

    #[test]
    fn formulas_never_run_and_read_back_as_written() {
        let rows = vec![LedgerRow {
            title: "=HYPERLINK(\"http://x\",\"点我\")".into(),
            requirements: "+1".into(),
            source_reference: "-2".into(),
            co_units: "@SUM(A1)".into(),
            lead_unit: "区住建局".into(),
            ..Default::default()
        }];
        let csv = ledger_csv(&rows).expect("renders");
        let text = String::from_utf8(csv[3..].to_vec()).expect("utf-8");
        assert!(
            text.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"点我\"\")\""),
            "{text}"
        );
        assert!(
            text.contains(",'+1,") && text.contains(",'-2,") && text.contains("'@SUM(A1)"),
            "{text}"
        );
        // Read back by the import, every cell is what was written.
        let ledger = crate::import::read_ledger(&csv).expect("imports");
        let line = &ledger.lines[0];
        assert_eq!(line.get(Field::Title), rows[0].title);
        assert_eq!(line.get(Field::Requirements), "+1");
        assert_eq!(line.get(Field::CoUnits), "@SUM(A1)");
        assert_eq!(line.get(Field::LeadUnit), "区住建局");
        // The workbook reads back the same (its cells are text, marked so).
        let xlsx = ledger_xlsx("督办台账", "", &rows).expect("renders");
        let ledger = crate::import::read_ledger(&xlsx).expect("imports");
        assert_eq!(ledger.lines[0].get(Field::Title), rows[0].title);
        assert_eq!(ledger.lines[0].line, 5);
    }

    #[test]
    fn the_template_has_the_ledger_header_the_import_finds() {
        let units = vec!["区住建局".to_string()];
        let bytes = ledger_template(&TemplateHelp {
            units: &units,
            sources: &["领导批示交办"],
            leaders: &[],
        })
        .expect("renders");
        let table = crate::import::read_table(&bytes).expect("reads");
        assert_eq!(
            table
                .rows
                .iter()
                .find(|r| r.len() == 18)
                .map(|r| r[1].as_str()),
            Some("事项")
        );
        assert_eq!(
            crate::import::read_ledger(&bytes).expect_err("refused").0,
            "表头下没有数据行"
        );
    }
}
