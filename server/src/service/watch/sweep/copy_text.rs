//! Rows in PostgreSQL's `COPY … FROM STDIN` text format: columns separated by tabs, one row
//! a line, `\N` for NULL, and a backslash, tab, newline or carriage return inside a value
//! written as its backslash escape (PostgreSQL documentation, COPY, "Text Format").

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

/// The columns of one row, appended to `out` as a line.
pub struct Line<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Line<'a> {
    pub fn new(out: &'a mut String) -> Line<'a> {
        Line { out, first: true }
    }

    fn separate(&mut self) {
        if !self.first {
            self.out.push('\t');
        }
        self.first = false;
    }

    pub fn int(mut self, value: i64) -> Self {
        self.separate();
        let _ = write!(self.out, "{value}");
        self
    }

    pub fn null(mut self) -> Self {
        self.separate();
        self.out.push_str("\\N");
        self
    }

    pub fn text(mut self, value: &str) -> Self {
        self.separate();
        for c in value.chars() {
            match c {
                '\\' => self.out.push_str("\\\\"),
                '\t' => self.out.push_str("\\t"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                c => self.out.push(c),
            }
        }
        self
    }

    pub fn optional_text(self, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    /// An instant in UTC, as `timestamptz` reads it.
    pub fn time(mut self, value: DateTime<Utc>) -> Self {
        self.separate();
        let _ = write!(self.out, "{}", value.format("%Y-%m-%d %H:%M:%S%.6f+00"));
        self
    }

    pub fn end(self) {
        self.out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn values_are_escaped_and_nulls_marked() {
        let mut out = String::new();
        Line::new(&mut out)
            .int(-7)
            .text("a\tb\nc\\d\re")
            .null()
            .optional_text(None)
            .optional_text(Some("红色督办"))
            .time(Utc.with_ymd_and_hms(2026, 10, 12, 0, 30, 0).unwrap())
            .end();
        assert_eq!(
            out,
            "-7\ta\\tb\\nc\\\\d\\re\t\\N\t\\N\t红色督办\t2026-10-12 00:30:00.000000+00\n"
        );
    }
}
