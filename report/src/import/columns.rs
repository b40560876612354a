//! Which column is which: the ledger export's own headers (so an exported ledger imports as
//! it is), and the names offices' own ledgers give the same columns.

use super::table::{Table, column_letters, header_index};

/// A column the import reads. Columns it does not read (督办编号, 阶段, 颜色, 最新进展…) are
/// passed over, so an exported ledger imports without editing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Title,
    Requirements,
    Source,
    SourceReference,
    Urgency,
    Leader,
    LeadUnit,
    CoUnits,
    Rule,
    Due,
    Serial,
}

impl Field {
    pub const ALL: [Field; 11] = [
        Field::Title,
        Field::Requirements,
        Field::Source,
        Field::SourceReference,
        Field::Urgency,
        Field::Leader,
        Field::LeadUnit,
        Field::CoUnits,
        Field::Rule,
        Field::Due,
        Field::Serial,
    ];

    /// The column's name where rows are kept (`ledger_import.lines`).
    pub fn key(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Requirements => "requirements",
            Field::Source => "source",
            Field::SourceReference => "sourceReference",
            Field::Urgency => "urgency",
            Field::Leader => "leader",
            Field::LeadUnit => "leadUnit",
            Field::CoUnits => "coUnits",
            Field::Rule => "rule",
            Field::Due => "due",
            Field::Serial => "serial",
        }
    }

    pub fn from_key(key: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.key() == key)
    }

    /// The header the template and the export give the column.
    pub fn header(self) -> &'static str {
        self.names()[0]
    }

    /// Every header taken for the column, the template's first.
    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Title => &[
                "事项",
                "事项名称",
                "督办事项",
                "标题",
                "事项标题",
                "工作任务",
            ],
            Field::Requirements => &["办理要求", "工作要求", "具体要求", "督办要求", "任务内容"],
            Field::Source => &["来源", "事项来源", "来源类别"],
            Field::SourceReference => &["来源文号", "文号", "批示件号", "纪要号", "纪要文号"],
            Field::Urgency => &["紧急程度", "缓急"],
            Field::Leader => &["责任领导", "牵头领导", "分管领导"],
            Field::LeadUnit => &["主办单位", "牵头单位", "责任单位", "承办单位"],
            Field::CoUnits => &["协办单位", "配合单位", "协同单位"],
            Field::Rule => &["期限规则", "办理时限", "时限要求"],
            Field::Due => &["办理期限", "完成时限", "截止日期", "完成期限"],
            Field::Serial => &["督办编号", "编号"],
        }
    }

    /// The column a header names: spaces, a required mark (*) and notes in brackets
    /// ("（必填）") are not part of the name.
    pub fn of(header: &str) -> Option<Field> {
        let mut name: String = header
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '*' && *c != '＊')
            .collect();
        if let Some(open) = name.find(['（', '(']) {
            name.truncate(open);
        }
        Field::ALL
            .into_iter()
            .find(|f| f.names().contains(&name.as_str()))
    }
}

/// One row of the file as the import reads it: each read column's text, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerLine {
    /// The sheet's row number.
    pub line: usize,
    cells: Vec<(Field, String)>,
}

impl LedgerLine {
    /// The column's text ("" where the file has none).
    pub fn get(&self, field: Field) -> &str {
        self.cells
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("", |(_, text)| text.as_str())
    }

    /// Each read column's text.
    pub fn cells(&self) -> impl Iterator<Item = (Field, &str)> {
        self.cells.iter().map(|(f, t)| (*f, t.as_str()))
    }

    /// Fills a column the row leaves blank (a meeting's 纪要 number as every decision's
    /// 来源文号).
    pub fn fill_blank(&mut self, field: Field, text: &str) {
        match self.cells.iter_mut().find(|(f, _)| *f == field) {
            Some((_, cell)) if cell.trim().is_empty() => *cell = text.to_string(),
            Some(_) => {}
            None => self.cells.push((field, text.to_string())),
        }
    }

    pub fn new(line: usize, cells: Vec<(Field, String)>) -> LedgerLine {
        LedgerLine { line, cells }
    }
}

/// The file's rows by column, with where each column is (for "第5行 H列").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    pub lines: Vec<LedgerLine>,
    /// Each read column's letter in the file.
    pub letters: Vec<(Field, String)>,
    /// Headers the import does not read, said in the preview.
    pub passed_over: Vec<String>,
    pub read_as: String,
}

impl Ledger {
    /// Where a row's cell is, as the office finds it in the file: "第5行H列（主办单位）".
    pub fn cell(&self, line: usize, field: Field) -> String {
        let letter = self
            .letters
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("", |(_, l)| l.as_str());
        format!("第{line}行{letter}列（{}）", field.header())
    }
}

/// The table's rows under its header, by column. Refused: no header naming the item, or
/// more rows than one import takes.
pub fn ledger_of(table: Table) -> Result<Ledger, super::FileRefusal> {
    let Some(header_at) = header_index(&table) else {
        return Err(super::FileRefusal(format!(
            "没有找到表头：表格前几行中应有“{}”列（可下载导入模板对照）",
            Field::Title.header()
        )));
    };
    let mut columns: Vec<(usize, Field)> = Vec::new();
    let mut passed_over = Vec::new();
    for (index, header) in table.rows[header_at].iter().enumerate() {
        match Field::of(header) {
            Some(field) if columns.iter().any(|(_, f)| *f == field) => {
                return Err(super::FileRefusal(format!(
                    "表头中“{}”列出现了两次（{}列），请只保留一列",
                    field.header(),
                    column_letters(index)
                )));
            }
            Some(field) => columns.push((index, field)),
            None if !header.is_empty() => passed_over.push(header.clone()),
            None => {}
        }
    }
    let data = table.rows.len() - header_at - 1;
    if data == 0 {
        return Err(super::FileRefusal("表头下没有数据行".into()));
    }
    if data > super::table::MAX_ROWS {
        return Err(super::FileRefusal(format!(
            "一次最多导入{}行，这个文件超过了，请拆分后分批导入",
            super::table::MAX_ROWS
        )));
    }
    let lines = table
        .rows
        .iter()
        .zip(&table.numbers)
        .skip(header_at + 1)
        .map(|(row, number)| {
            let cells = columns
                .iter()
                .map(|(index, field)| {
                    let text = row.get(*index).map_or("", String::as_str);
                    (*field, unneutralised(text).to_string())
                })
                .collect();
            LedgerLine::new(*number, cells)
        })
        .collect();
    Ok(Ledger {
        lines,
        letters: columns
            .iter()
            .map(|(index, field)| (*field, column_letters(*index)))
            .collect(),
        passed_over,
        read_as: table.read_as,
    })
}

/// A cell the export neutralised (`'=…`, see `render::neutralise`) reads back as written.
fn unneutralised(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => text,
    }
}

/// The units a cell names: separated by 、，,；; or spaces, each once, in order.
pub fn unit_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in text.split(['、', '，', ',', '；', ';', ' ', '　', '\n', '/']) {
        let name = name.trim();
        if !name.is_empty() && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

/// A date as offices write it — 2026-12-31, 2026/12/31, 2026.12.31, 2026年12月31日 — in
/// the form a deadline rule takes (2026-12-31); `None` when it is no date.
pub fn date_text(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('前').trim_end_matches('日');
    let normal: String = text
        .chars()
        .map(|c| match c {
            '/' | '.' | '年' | '月' => '-',
            other => other,
        })
        .collect();
    // A date exported with its time (2026-12-31 18:00) is the date.
    let day = normal.split(' ').next().unwrap_or_default();
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .map(|d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&[&str]]) -> Table {
        Table {
            numbers: (1..=rows.len()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect(),
            read_as: "CSV".into(),
        }
    }

    #[test]
    fn headers_are_found_below_a_title_by_any_of_their_names() {
        let ledger = ledger_of(table(&[
            &["2026年重点工作台账"],
            &[
                "序号",
                "工作任务",
                "牵头单位",
                "配合单位",
                "完成时限（必填）",
                "*办理要求",
            ],
            &[
                "1",
                "推进老旧小区改造",
                "区住建局",
                "区财政局、区城管局",
                "2026年12月31日",
                "按期完成",
            ],
        ]))
        .expect("reads");
        let line = &ledger.lines[0];
        assert_eq!(line.line, 3);
        assert_eq!(line.get(Field::Title), "推进老旧小区改造");
        assert_eq!(line.get(Field::LeadUnit), "区住建局");
        assert_eq!(line.get(Field::Requirements), "按期完成");
        assert_eq!(line.get(Field::Source), "");
        assert_eq!(ledger.passed_over, ["序号"]);
        assert_eq!(ledger.cell(3, Field::CoUnits), "第3行D列（协办单位）");
        assert_eq!(
            unit_names(line.get(Field::CoUnits)),
            ["区财政局", "区城管局"]
        );
        assert_eq!(
            date_text(line.get(Field::Due)).as_deref(),
            Some("2026-12-31")
        );
    }

    #[test]
    fn what_the_export_neutralised_reads_back_as_written() {
        let ledger = ledger_of(table(&[&["事项"], &["'=1+1"], &["'引号"]])).expect("reads");
        assert_eq!(ledger.lines[0].get(Field::Title), "=1+1");
        assert_eq!(ledger.lines[1].get(Field::Title), "'引号");
    }

    #[test]
    fn no_header_a_doubled_column_or_no_rows_is_refused() {
        assert!(
            ledger_of(table(&[&["甲", "乙"]]))
                .expect_err("refused")
                .0
                .contains("表头")
        );
        assert!(
            ledger_of(table(&[&["事项", "标题"], &["甲", "乙"]]))
                .expect_err("refused")
                .0
                .contains("两次（B列）")
        );
        assert!(
            ledger_of(table(&[&["事项"]]))
                .expect_err("refused")
                .0
                .contains("没有数据行")
        );
    }

    #[test]
    fn dates_in_the_ways_offices_write_them() {
        for text in [
            "2026-12-31",
            "2026/12/31",
            "2026.12.31",
            "2026年12月31日",
            "2026年12月31日前",
            "2026-12-31 18:00",
        ] {
            assert_eq!(date_text(text).as_deref(), Some("2026-12-31"), "{text}");
        }
        assert_eq!(date_text("5个工作日"), None);
        assert_eq!(date_text("2026-02-30"), None);
    }
}
