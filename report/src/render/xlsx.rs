use chrono::Datelike;
use rust_xlsxwriter::{ExcelDateTime, Format, FormatBorder, Workbook, Worksheet};

use crate::model::{FlaggedItem, MonthlyReport};

use super::RenderError;
use super::csv_table::UNIT_COLUMNS;

/// Cell formats of the workbook: counts as integers, rates as percentages of a fraction
/// (so Excel sums and charts them), dates as dates.
struct Formats {
    header: Format,
    text: Format,
    wrap: Format,
    count: Format,
    percent: Format,
    date: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = Format::new().set_border(FormatBorder::Thin);
        Formats {
            header: cell
                .clone()
                .set_bold()
                .set_background_color("#D9E1F2")
                .set_text_wrap(),
            text: cell.clone(),
            wrap: cell.clone().set_text_wrap(),
            count: cell.clone().set_num_format("0"),
            percent: cell.clone().set_num_format("0.0%"),
            date: cell.set_num_format("yyyy-mm-dd"),
        }
    }
}

/// One cell's value, written with the format its kind calls for.
enum Cell<'a> {
    Text(&'a str),
    Wrapped(&'a str),
    Count(u32),
    Number(i64),
    /// A percentage (e.g. 66.7); stored as the fraction 0.667.
    Percent(Option<f64>),
    Date(chrono::NaiveDate),
}

fn write_table<'a>(
    sheet: &mut Worksheet,
    formats: &Formats,
    headers: &[&str],
    widths: &[f64],
    rows: impl Iterator<Item = Vec<Cell<'a>>>,
) -> Result<(), RenderError> {
    for (col, header) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *header, &formats.header)?;
    }
    for (col, width) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, *width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let mut last_row = 0;
    for (index, row) in rows.enumerate() {
        let r = index as u32 + 1;
        last_row = r;
        for (c, cell) in row.into_iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(text) => sheet.write_string_with_format(r, c, text, &formats.text)?,
                Cell::Wrapped(text) => sheet.write_string_with_format(r, c, text, &formats.wrap)?,
                Cell::Count(n) => sheet.write_number_with_format(r, c, n, &formats.count)?,
                Cell::Number(n) => {
                    sheet.write_number_with_format(r, c, n as f64, &formats.count)?
                }
                Cell::Percent(Some(p)) => {
                    sheet.write_number_with_format(r, c, p / 100.0, &formats.percent)?
                }
                Cell::Percent(None) => sheet.write_blank(r, c, &formats.percent)?,
                Cell::Date(d) => {
                    let date = ExcelDateTime::from_ymd(
                        u16::try_from(d.year()).unwrap_or(1900),
                        d.month() as u8,
                        d.day() as u8,
                    )?;
                    sheet.write_date_with_format(r, c, &date, &formats.date)?
                }
            };
        }
    }
    if last_row > 0 {
        sheet.autofilter(0, 0, last_row, headers.len() as u16 - 1)?;
    }
    sheet.set_landscape().set_paper_size(9); // 9 = A4
    sheet.set_print_fit_to_pages(1, 0);
    Ok(())
}

fn flagged_rows(items: &[FlaggedItem]) -> impl Iterator<Item = Vec<Cell<'_>>> {
    items.iter().map(|i| {
        vec![
            Cell::Text(&i.serial),
            Cell::Wrapped(&i.title),
            Cell::Text(&i.unit),
            Cell::Text(if i.lead { "牵头" } else { "协办" }),
            Cell::Date(i.due),
            Cell::Number(i.working_days_overdue),
            Cell::Wrapped(&i.reason),
        ]
    })
}

const FLAGGED_COLUMNS: [&str; 7] = [
    "督查编号",
    "事项",
    "承办单位",
    "牵头/协办",
    "办理期限",
    "逾期工作日",
    "原因",
];

/// The workbook: 概况, 单位排名, 红色事项, 黄色事项, 来源分类, 趋势, 表扬与通报.
pub fn xlsx(report: &MonthlyReport) -> Result<Vec<u8>, RenderError> {
    let formats = Formats::new();
    let mut book = Workbook::new();
    let t = &report.totals;

    let summary = book.add_worksheet();
    summary.set_name("概况")?;
    let figures: Vec<(&str, Cell<'_>)> = vec![
        ("通报", Cell::Text(&report.title)),
        ("月份", Cell::Text(&report.month)),
        ("新立项", Cell::Count(t.registered)),
        ("交办（牵头）", Cell::Count(t.assigned)),
        ("办结", Cell::Count(t.closed)),
        ("按期办结", Cell::Count(t.closed_on_time)),
        ("按原定期限办结", Cell::Count(t.closed_on_time_original)),
        ("按期办结率", Cell::Percent(t.on_time_rate)),
        ("月末在办", Cell::Count(t.open_at_end)),
        ("逾期未办结", Cell::Count(t.overdue)),
        ("批准延期", Cell::Count(t.extended)),
        ("退回重办", Cell::Count(t.reworked)),
        ("回头看反弹", Cell::Count(t.reopened)),
        ("撤销", Cell::Count(t.cancelled)),
        ("红色事项", Cell::Count(t.item_colours.red)),
        ("黄色事项", Cell::Count(t.item_colours.yellow)),
        ("蓝色事项", Cell::Count(t.item_colours.blue)),
        ("落实情况", Cell::Wrapped(&report.sections.progress)),
        ("存在问题", Cell::Wrapped(&report.sections.problems)),
        ("工作建议", Cell::Wrapped(&report.sections.suggestions)),
    ];
    write_table(
        summary,
        &formats,
        &["项目", "数值"],
        &[16.0, 90.0],
        figures
            .into_iter()
            .map(|(name, value)| vec![Cell::Text(name), value]),
    )?;

    let units = book.add_worksheet();
    units.set_name("单位排名")?;
    let mut widths = vec![10.0; UNIT_COLUMNS.len()];
    widths[1] = 22.0;
    widths[16] = 40.0;
    write_table(
        units,
        &formats,
        &UNIT_COLUMNS,
        &widths,
        report.units.iter().map(|u| {
            vec![
                u.rank.map(Cell::Count).unwrap_or(Cell::Text("")),
                Cell::Text(&u.unit),
                Cell::Text(&u.kind),
                Cell::Count(u.assigned),
                Cell::Count(u.co_assigned),
                Cell::Count(u.closed),
                Cell::Count(u.closed_on_time),
                Cell::Count(u.closed_on_time_original),
                Cell::Count(u.closed_late),
                Cell::Percent(u.on_time_rate),
                Cell::Count(u.open_at_end),
                Cell::Count(u.overdue),
                Cell::Count(u.extended),
                Cell::Count(u.reworked),
                Cell::Count(u.reopened),
                Cell::Text(u.colour.label()),
                Cell::Wrapped(&u.colour_reason),
                Cell::Text(&u.measure),
                Cell::Percent(u.previous_on_time_rate),
                Cell::Text(u.previous_colour.map(|c| c.label()).unwrap_or("")),
                Cell::Count(u32::try_from(u.window_days).unwrap_or(0)),
                Cell::Count(u.window_closed),
                Cell::Count(u.window_closed_on_time),
                Cell::Percent(u.window_on_time_rate),
                Cell::Count(u.red_open),
                Cell::Count(u.yellow_open),
            ]
        }),
    )?;

    let flagged_widths = [16.0, 36.0, 22.0, 10.0, 12.0, 10.0, 40.0];
    let red = book.add_worksheet();
    red.set_name("红色事项")?;
    write_table(
        red,
        &formats,
        &FLAGGED_COLUMNS,
        &flagged_widths,
        flagged_rows(&report.red_items),
    )?;
    let yellow = book.add_worksheet();
    yellow.set_name("黄色事项")?;
    write_table(
        yellow,
        &formats,
        &FLAGGED_COLUMNS,
        &flagged_widths,
        flagged_rows(&report.yellow_items),
    )?;

    let sources = book.add_worksheet();
    sources.set_name("来源分类")?;
    write_table(
        sources,
        &formats,
        &[
            "来源类别",
            "新立项",
            "办结",
            "按期办结",
            "月末在办",
            "逾期未办结",
        ],
        &[24.0, 10.0, 10.0, 10.0, 10.0, 12.0],
        report.by_source_kind.iter().map(|k| {
            vec![
                Cell::Text(&k.label),
                Cell::Count(k.registered),
                Cell::Count(k.closed),
                Cell::Count(k.closed_on_time),
                Cell::Count(k.open_at_end),
                Cell::Count(k.overdue),
            ]
        }),
    )?;

    let trend = book.add_worksheet();
    trend.set_name("趋势")?;
    write_table(
        trend,
        &formats,
        &[
            "月份",
            "交办",
            "办结",
            "按期办结率",
            "逾期未办结",
            "红色事项",
            "黄色事项",
        ],
        &[10.0, 10.0, 10.0, 12.0, 12.0, 10.0, 10.0],
        report.trend.iter().map(|p| {
            vec![
                Cell::Text(&p.month),
                Cell::Count(p.assigned),
                Cell::Count(p.closed),
                Cell::Percent(p.on_time_rate),
                Cell::Count(p.overdue),
                Cell::Count(p.red_items),
                Cell::Count(p.yellow_items),
            ]
        }),
    )?;

    let measures = book.add_worksheet();
    measures.set_name("表扬与通报")?;
    let praised = report.praised.iter().map(|u| {
        vec![
            Cell::Text("通报表扬"),
            Cell::Text(u),
            Cell::Text("按期办结率100%"),
        ]
    });
    let named = report.named.iter().map(|u| {
        vec![
            Cell::Text("通报"),
            Cell::Text(&u.unit),
            Cell::Wrapped(&u.reason),
        ]
    });
    let called_in = report.called_in.iter().map(|u| {
        vec![
            Cell::Text("约谈"),
            Cell::Text(&u.unit),
            Cell::Wrapped(&u.reason),
        ]
    });
    write_table(
        measures,
        &formats,
        &["措施", "单位", "原因"],
        &[12.0, 24.0, 60.0],
        praised.chain(named).chain(called_in),
    )?;

    Ok(book.save_to_buffer()?)
}
