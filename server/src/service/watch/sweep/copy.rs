//! A sweep's notices and their audit entries through PostgreSQL's `COPY … FROM STDIN`, in
//! its text format: columns separated by tabs, one row a line, `\N` for NULL, and a
//! backslash, tab, newline or carriage return inside a value written as its backslash escape
//! (PostgreSQL documentation, COPY, "Text Format"). `COPY` has no `ON CONFLICT`: a notice on
//! record already fails it, and the writer then starts over with statements that skip it.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use sea_orm::sqlx;

use crate::error::{AppError, AppResult};
use crate::service::notices::notify::MAILED;
use crate::service::watch::sweep::rows::{
    Decided, LARGE_STATEMENT_BYTES, audit_details, notices_of,
};
use crate::service::watch::sweep::statements::{ItemText, item_texts_sql};
use ducha_domain::ladder::Rung;

pub enum Copied {
    /// Every notice copied: for each one sent, its decision's place in the batch, its rung
    /// and the situation it was sent in.
    All(Vec<(usize, Rung, Option<String>)>),
    /// A notice was on record already (the unique key): nothing of the transaction holds.
    OnRecordAlready,
}

/// The batch's notices and their audit entries through `COPY`.
pub async fn copy_batch(
    txn: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    batch: &[Decided],
) -> AppResult<Copied> {
    let mut notices = String::new();
    let mut audits = String::new();
    let at = timestamp(now);
    let mut sent = Vec::new();
    for (at_in_batch, d) in batch.iter().enumerate() {
        for notice in notices_of(d, tz) {
            Line::new(&mut notices)
                .int(d.item_id)
                .int(d.assignment_id)
                .int(d.unit_id)
                .text(notice.rung.kind())
                .text(&notice.level)
                .text(&at)
                .text(notice.state)
                .optional_text(notice.reason.as_deref())
                .end();
            if notice.state == MAILED {
                let details = serde_json::to_string(&audit_details(
                    d,
                    notice.rung,
                    &notice.level,
                    notice.reason.as_deref(),
                ))
                .map_err(|e| AppError::Internal(anyhow::anyhow!("audit details as JSON: {e}")))?;
                Line::new(&mut audits)
                    .int(d.item_id)
                    .int(d.assignment_id)
                    .text(&at)
                    .text(notice.rung.title())
                    .text(&details)
                    .text("NOTICE")
                    .end();
                sent.push((at_in_batch, notice.rung, notice.reason));
            }
        }
    }
    if notices.len() > LARGE_STATEMENT_BYTES {
        crate::db::give_back_large_buffers();
    }
    let copied = copy_in(
        txn,
        "COPY notice (item_id, assignment_id, unit_id, kind, level, created_at, state, reason) FROM STDIN",
        notices,
    )
    .await;
    match copied {
        Err(e)
            if e.as_database_error()
                .is_some_and(|e| e.kind() == sqlx::error::ErrorKind::UniqueViolation) =>
        {
            return Ok(Copied::OnRecordAlready);
        }
        other => other.map_err(sqlx_error)?,
    }
    copy_in(
        txn,
        "COPY audit_event (item_id, assignment_id, at, reason, details, action) FROM STDIN",
        audits,
    )
    .await
    .map_err(sqlx_error)?;
    Ok(Copied::All(sent))
}

async fn copy_in(
    txn: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    statement: &str,
    rows: String,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut copy = txn.copy_in_raw(statement).await?;
    match copy.send(rows.into_bytes()).await {
        Ok(_) => copy.finish().await.map(drop),
        Err(e) => {
            let _ = copy.abort("the sweep could not send its rows").await;
            Err(e)
        }
    }
}

/// The title and requirements of the items `ids`, read in the part's transaction.
pub async fn item_texts(
    txn: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    ids: &[i64],
) -> AppResult<HashMap<i64, ItemText>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // The statement's text is built from constants only, its ids bound.
    let sql = item_texts_sql(sea_orm::DbBackend::Postgres);
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(serde_json::Value::from(ids.to_vec()).to_string())
        .fetch_all(&mut **txn)
        .await
        .map_err(sqlx_error)?;
    Ok(rows
        .into_iter()
        .map(|(id, serial, title, requirements)| {
            (
                id,
                ItemText {
                    id,
                    serial,
                    title,
                    requirements,
                },
            )
        })
        .collect())
}

pub fn sqlx_error(e: sqlx::Error) -> AppError {
    sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(e))).into()
}

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

    pub fn end(self) {
        self.out.push('\n');
    }
}

/// An instant in UTC as `timestamptz` reads it; formatted once for a whole batch.
pub fn timestamp(value: DateTime<Utc>) -> String {
    value.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
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
            .text(&timestamp(
                Utc.with_ymd_and_hms(2026, 10, 12, 0, 30, 0).unwrap(),
            ))
            .end();
        assert_eq!(
            out,
            "-7\ta\\tb\\nc\\\\d\\re\t\\N\t\\N\t红色督办\t2026-10-12 00:30:00.000000+00\n"
        );
    }
}
