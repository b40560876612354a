//! The upload as kept (`ledger_import`): its rows as read, the source of rows without one,
//! and after the commit what each chosen row became.

use chrono::{DateTime, Utc};
use ducha_domain::SourceKind;
use ducha_report::import::{Field, LedgerLine};
use sea_orm::EntityTrait;
use serde_json::{Map, Value, json};

use crate::error::{AppError, AppResult};
use entity::ledger_import;

/// What an imported row became.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedRow {
    pub line: usize,
    pub item_id: i64,
    pub serial: String,
    #[serde(default)]
    pub title: String,
    pub assigned: bool,
}

pub(super) async fn find(
    db: &impl sea_orm::ConnectionTrait,
    import_id: i64,
) -> AppResult<ledger_import::Model> {
    ledger_import::Entity::find_by_id(import_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("导入批次{import_id}不存在")))
}

pub(super) fn default_source(import: &ledger_import::Model) -> SourceKind {
    SourceKind::parse(&import.default_source).unwrap_or(SourceKind::LeaderInstruction)
}

pub(super) fn created_of(import: &ledger_import::Model) -> Vec<CreatedRow> {
    import
        .created
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default()
}

pub(super) fn lines_json(lines: &[LedgerLine]) -> Value {
    Value::Array(
        lines
            .iter()
            .map(|line| {
                let cells: Map<String, Value> = line
                    .cells()
                    .map(|(field, text)| (field.key().to_string(), json!(text)))
                    .collect();
                json!({ "line": line.line, "cells": cells })
            })
            .collect(),
    )
}

pub(super) fn lines_of(import: &ledger_import::Model) -> AppResult<Vec<LedgerLine>> {
    let bad = || AppError::Internal(anyhow::anyhow!("ledger import {} has bad lines", import.id));
    let value: Value = serde_json::from_str(&import.lines).map_err(|_| bad())?;
    value
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|line| {
            let number = line["line"].as_u64().ok_or_else(bad)? as usize;
            let cells = line["cells"]
                .as_object()
                .ok_or_else(bad)?
                .iter()
                .filter_map(|(key, text)| Some((Field::from_key(key)?, text.as_str()?.to_string())))
                .collect();
            Ok(LedgerLine::new(number, cells))
        })
        .collect()
}

/// When the upload was committed, for the CONFLICT of a second commit.
pub(super) fn committed_message(at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    format!(
        "这批台账已于{}导入，不能重复导入；请到导入报告查看",
        at.with_timezone(&tz).format("%Y-%m-%d %H:%M")
    )
}
