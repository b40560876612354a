//! A ledger file as a table of text: XLSX (its first sheet) or CSV in UTF-8 or GBK, with
//! the limits and refusals an office meets with files from older systems (docs/rules.md §9).

use calamine::{Data, Reader, Xlsx};

/// Largest file taken (bytes): the same as any upload.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Most data rows one import takes; a larger ledger is split.
pub const MAX_ROWS: usize = 10_000;
/// The header row is looked for in this many first rows (a title and a note may come first).
const HEADER_SEARCH_ROWS: usize = 10;

/// Why a file cannot be read at all; the message is the office's to read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FileRefusal(pub String);

fn refuse(message: impl Into<String>) -> FileRefusal {
    FileRefusal(message.into())
}

/// The file's rows as text, as the sheet numbers them (1-based), the header row first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The sheet's row number of each row.
    pub numbers: Vec<usize>,
    pub rows: Vec<Vec<String>>,
    /// How the file was read, said to the office ("XLSX，工作表“督办台账”", "CSV，GBK编码").
    pub read_as: String,
}

/// Reads `bytes` by what they are, not by the file's name: a ZIP is XLSX, an OLE compound
/// file is the old binary .xls (refused with how to convert it), anything else is CSV text.
pub fn read_table(bytes: &[u8]) -> Result<Table, FileRefusal> {
    if bytes.is_empty() {
        return Err(refuse("文件是空的"));
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(refuse(format!(
            "文件超过{}MB，请拆分后分批导入",
            MAX_FILE_BYTES / 1024 / 1024
        )));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(refuse(
            "这是旧版Excel（.xls）文件，请在Excel中“另存为”.xlsx或CSV后再导入",
        ));
    }
    read_csv(bytes)
}

/// Most bytes an XLSX may unpack to: a 10,000-row ledger unpacks to about 10 MB; a small
/// file that unpacks to gigabytes is refused before it is parsed.
pub const MAX_UNPACKED_BYTES: u64 = 100 * 1024 * 1024;
/// Most text a table may hold, all cells together (what is kept for its preview).
pub const MAX_TEXT_BYTES: usize = 20 * 1024 * 1024;

fn unpacked_size(bytes: &[u8]) -> Result<u64, FileRefusal> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|_| refuse("无法读取这个XLSX文件，文件可能已损坏，请用Excel打开后重新保存"))?;
    let mut total = 0u64;
    for index in 0..archive.len() {
        if let Ok(entry) = archive.by_index_raw(index) {
            total = total.saturating_add(entry.size());
        }
    }
    Ok(total)
}

fn too_much_text() -> FileRefusal {
    refuse(format!(
        "表格内容过多（超过{}MB文字），请拆分后分批导入",
        MAX_TEXT_BYTES / 1024 / 1024
    ))
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, FileRefusal> {
    if unpacked_size(bytes)? > MAX_UNPACKED_BYTES {
        return Err(too_much_text());
    }
    let unreadable = |_| refuse("无法读取这个XLSX文件，文件可能已损坏，请用Excel打开后重新保存");
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).map_err(unreadable)?;
    let Some(name) = book.sheet_names().first().cloned() else {
        return Err(refuse("XLSX文件中没有工作表"));
    };
    let merged = book.merge_cells_by_sheet_name(&name).map_err(unreadable)?;
    // Cell by cell, counting: a workbook whose shared strings repeat one long text in every
    // row is small as a file and huge once each cell holds its copy.
    let mut cells = book.worksheet_cells_reader(&name).map_err(unreadable)?;
    let mut by_row: std::collections::BTreeMap<u32, Vec<(u32, String)>> = Default::default();
    let mut text = 0usize;
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let value = cell_text(&Data::from(cell.get_value().clone()));
        if value.is_empty() {
            continue;
        }
        text += value.len();
        if text > MAX_TEXT_BYTES {
            return Err(too_much_text());
        }
        let (row, col) = cell.get_position();
        by_row.entry(row).or_default().push((col, value));
        if by_row.len() > MAX_ROWS + HEADER_SEARCH_ROWS + 1 {
            break;
        }
    }
    let mut numbers = Vec::with_capacity(by_row.len());
    let mut rows = Vec::with_capacity(by_row.len());
    for (row, values) in by_row {
        let width = values
            .iter()
            .map(|(c, _)| *c as usize + 1)
            .max()
            .unwrap_or(0);
        let mut line = vec![String::new(); width];
        for (col, value) in values {
            line[col as usize] = value;
        }
        numbers.push(row as usize + 1);
        rows.push(line);
    }
    let mut table = Table {
        numbers,
        rows,
        read_as: format!("XLSX，工作表“{name}”"),
    };
    trim_blank(&mut table);
    let header = header_index(&table).map(|i| table.numbers[i]).unwrap_or(1);
    // A merged title above the header is common and harmless; a merged cell in the table
    // would leave every row but its first without the value, so it is refused.
    if let Some(cells) = merged
        .iter()
        .find(|m| m.end.0 as usize + 1 >= header && (m.start.0 != m.end.0 || m.start.1 != m.end.1))
    {
        return Err(refuse(format!(
            "表格中有合并单元格（{}:{}），合并单元格只有第一格有内容，请取消合并并填满每一行后再导入",
            cell_name(cells.start),
            cell_name(cells.end)
        )));
    }
    Ok(table)
}

/// `(row, col)` from 0 as Excel names it: (2, 0) is A3.
fn cell_name((row, col): (u32, u32)) -> String {
    format!("{}{}", column_letters(col as usize), row + 1)
}

/// The column's letters as Excel shows them: 0 is A, 26 is AA.
pub fn column_letters(mut col: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(char::from(b'A' + (col % 26) as u8));
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    letters.iter().rev().collect()
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
            None => d.as_f64().to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Files people pick by mistake, known by their first bytes.
const NOT_TABLES: [&[u8]; 6] = [
    b"\x89PNG",
    b"%PDF",
    b"\xFF\xD8\xFF",
    b"GIF8",
    b"Rar!",
    b"\x1F\x8B",
];

fn not_a_table() -> FileRefusal {
    refuse("文件不是XLSX或CSV表格，请上传台账模板格式的文件")
}

/// Where a quote opened and never closed: a stray `"` would otherwise take every row after
/// it into one cell.
fn unclosed_quote(text: &str) -> Option<usize> {
    let (mut line, mut opened_at, mut inside, mut field_start) = (1, 0, false, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if inside && chars.peek() == Some(&'"') => {
                chars.next();
            }
            '"' if inside => inside = false,
            '"' if field_start => {
                inside = true;
                opened_at = line;
            }
            '\n' => line += 1,
            _ => {}
        }
        field_start = !inside && matches!(c, ',' | '\t' | '\n');
    }
    inside.then_some(opened_at)
}

fn read_csv(bytes: &[u8]) -> Result<Table, FileRefusal> {
    if NOT_TABLES.iter().any(|magic| bytes.starts_with(magic)) {
        return Err(not_a_table());
    }
    let (text, encoding) = decode(bytes)?;
    if text.contains('\0') {
        return Err(not_a_table());
    }
    if let Some(line) = unclosed_quote(&text) {
        return Err(refuse(format!(
            "CSV第{line}行的引号没有成对，之后的内容会被当作一格，请检查该行后重新导出"
        )));
    }
    let first_line = text.lines().next().unwrap_or_default();
    // A table pasted from Excel into a text file is tab-separated.
    let delimiter = if first_line.contains('\t') && !first_line.contains(',') {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut numbers = Vec::new();
    let mut rows = Vec::new();
    let (mut line, mut counted_to) = (1, 0);
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            refuse(format!(
                "CSV第{}行无法读取（{}），请检查引号是否成对",
                index + 1,
                e.position().map_or(0, |p| p.line())
            ))
        })?;
        if rows.len() > MAX_ROWS + HEADER_SEARCH_ROWS {
            break;
        }
        // The csv reader passes blank lines over without counting them, and says a record
        // starts where the one before ended: the line is counted here from where its text
        // begins, as the office's editor numbers it.
        let mut starts = record.position().map_or(counted_to, |p| p.byte() as usize);
        while matches!(text.as_bytes().get(starts), Some(b'\n' | b'\r')) {
            starts += 1;
        }
        line += bytecount_newlines(text.as_bytes().get(counted_to..starts).unwrap_or_default());
        counted_to = starts.max(counted_to);
        numbers.push(line);
        rows.push(record.iter().map(|c| c.trim().to_string()).collect());
    }
    let mut table = Table {
        numbers,
        rows,
        read_as: format!("CSV，{encoding}编码"),
    };
    trim_blank(&mut table);
    Ok(table)
}

fn bytecount_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count()
}

/// UTF-8 (with or without its byte-order mark), else GB18030 (which reads GBK and GB2312),
/// as older Chinese systems and Excel on Chinese Windows save CSV.
fn decode(bytes: &[u8]) -> Result<(String, &'static str), FileRefusal> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_string(), "UTF-8"));
    }
    // Excel's "Unicode text" is UTF-16 with its byte-order mark, tab-separated.
    if let Some(utf16) = bytes.strip_prefix(b"\xFF\xFE") {
        let (text, had_errors) = encoding_rs::UTF_16LE.decode_without_bom_handling(utf16);
        if !had_errors {
            return Ok((text.into_owned(), "UTF-16"));
        }
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(refuse(
            "文件编码无法识别（既不是UTF-8也不是GBK），请另存为“CSV UTF-8”或XLSX后再导入",
        ));
    }
    Ok((text.into_owned(), "GBK"))
}

/// Drops rows with nothing in them, and what trails every row.
fn trim_blank(table: &mut Table) {
    let keep: Vec<bool> = table
        .rows
        .iter()
        .map(|r| r.iter().any(|c| !c.is_empty()))
        .collect();
    let mut index = 0;
    table.numbers.retain(|_| {
        index += 1;
        keep[index - 1]
    });
    let mut index = 0;
    table.rows.retain(|_| {
        index += 1;
        keep[index - 1]
    });
    for row in &mut table.rows {
        while row.last().is_some_and(String::is_empty) {
            row.pop();
        }
    }
}

/// Which row holds the headers: the first of the first few that names the item's column.
pub fn header_index(table: &Table) -> Option<usize> {
    table.rows.iter().take(HEADER_SEARCH_ROWS).position(|row| {
        row.iter()
            .any(|c| super::columns::Field::of(c) == Some(super::columns::Field::Title))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_csv_is_read_as_gbk_and_utf8_with_bom_as_utf8() {
        let (gbk, _, _) = encoding_rs::GBK.encode("事项,主办单位\n推进老旧小区改造,区住建局\n");
        let table = read_table(&gbk).expect("GBK reads");
        assert_eq!(table.rows[1], ["推进老旧小区改造", "区住建局"]);
        assert!(table.read_as.contains("GBK"), "{}", table.read_as);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice("事项\n甲\n".as_bytes());
        let table = read_table(&bom).expect("UTF-8 reads");
        assert_eq!(
            table.rows,
            [vec!["事项".to_string()], vec!["甲".to_string()]]
        );
        assert!(table.read_as.contains("UTF-8"));
    }

    #[test]
    fn pasted_tab_separated_text_and_blank_rows() {
        let table = read_table("事项\t主办单位\n\n甲\t区住建局\t\t\n\"乙\n续\"\n\n丙\n".as_bytes())
            .expect("reads");
        assert_eq!(table.numbers, [1, 3, 4, 7]);
        assert_eq!(table.rows[2], ["乙\n续"]);
        assert_eq!(table.rows[1], ["甲", "区住建局"]);
    }

    #[test]
    fn what_is_not_a_table_is_refused_with_why() {
        assert!(read_table(b"").expect_err("refused").0.contains("空"));
        assert!(
            read_table(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0])
                .expect_err("refused")
                .0
                .contains(".xls")
        );
        assert!(
            read_table(b"PK\x03\x04broken")
                .expect_err("refused")
                .0
                .contains("XLSX")
        );
        assert!(
            read_table(&[0x81, 0x20, 0x41])
                .expect_err("refused")
                .0
                .contains("编码")
        );
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(
            "事项\t主办单位\n甲\t区住建局\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        let table = read_table(&utf16).expect("UTF-16 reads");
        assert_eq!(table.rows[1], ["甲", "区住建局"]);
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        assert!(read_table(&big).expect_err("refused").0.contains("20MB"));
    }

    #[test]
    fn a_stray_quote_is_refused_with_its_line_and_doubled_quotes_are_not() {
        let refusal =
            read_table("事项,主办单位\n\"未闭合引号,区财政局\n第二行,区财政局\n".as_bytes())
                .expect_err("refused");
        assert!(refusal.0.contains("第2行的引号没有成对"), "{}", refusal.0);
        let table = read_table("事项\n\"他说\"\"好\"\"\"\n\"两\n行\"\n".as_bytes()).expect("reads");
        assert_eq!(table.rows[1], ["他说\"好\""]);
        assert_eq!(table.rows[2], ["两\n行"]);
        assert!(
            read_table(b"\x89PNG\r\n\x1a\n")
                .expect_err("refused")
                .0
                .contains("不是XLSX或CSV")
        );
        assert!(
            read_table(b"%PDF-1.4\n")
                .expect_err("refused")
                .0
                .contains("不是XLSX或CSV")
        );
    }

    #[test]
    fn a_small_workbook_that_unpacks_to_too_much_is_refused() {
        use rust_xlsxwriter::Workbook;
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "事项").expect("cell");
        let long = "重".repeat(30_000);
        for row in 1..300 {
            sheet.write_string(row, 0, &long).expect("cell");
        }
        let bytes = book.save_to_buffer().expect("xlsx");
        assert!(bytes.len() < 1024 * 1024, "{}", bytes.len());
        let refusal = read_table(&bytes).expect_err("refused");
        assert!(refusal.0.contains("表格内容过多"), "{}", refusal.0);
    }

    #[test]
    fn columns_are_lettered_as_excel_does() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(cell_name((2, 0)), "A3");
    }

    #[test]
    fn merged_cells_in_the_table_are_refused_and_a_merged_title_is_not() {
        use rust_xlsxwriter::{Format, Workbook};
        let build = |merge_in_table: bool| {
            let mut book = Workbook::new();
            let sheet = book.add_worksheet();
            sheet
                .merge_range(0, 0, 0, 3, "督查督办事项台账", &Format::new())
                .expect("merges");
            sheet.write_string(2, 0, "事项").expect("writes");
            sheet.write_string(2, 1, "主办单位").expect("writes");
            sheet.write_string(3, 0, "甲").expect("writes");
            if merge_in_table {
                sheet
                    .merge_range(3, 1, 4, 1, "区住建局", &Format::new())
                    .expect("merges");
                sheet.write_string(4, 0, "乙").expect("writes");
            } else {
                sheet.write_string(3, 1, "区住建局").expect("writes");
            }
            book.save_to_buffer().expect("saves")
        };
        let table = read_table(&build(false)).expect("a merged title is fine");
        assert_eq!(table.rows[1], ["事项", "主办单位"]);
        assert_eq!(table.numbers[2], 4);
        let refusal = read_table(&build(true)).expect_err("refused");
        assert!(refusal.0.contains("合并单元格（B4:B5）"), "{}", refusal.0);
    }
}
