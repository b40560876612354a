use sea_orm::entity::prelude::*;

/// An uploaded ledger (台账) file's rows as read, until and after they are imported.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_import")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub file_name: String,
    /// How the file was read ("CSV，GBK编码").
    pub read_as: String,
    /// The source kind of rows that name none.
    pub default_source: String,
    /// The rows as read: JSON `[{"line": 5, "cells": {"Title": "…", …}}]`.
    #[sea_orm(column_type = "Text")]
    pub lines: String,
    /// Where each read column is, and the headers of those not read: JSON
    /// `{"letters": {"title": "B", …}, "passedOver": ["序号"]}`.
    #[sea_orm(column_type = "Text")]
    pub columns: String,
    pub committed_at: Option<DateTimeUtc>,
    pub committed_by: Option<i64>,
    /// What each chosen row became: JSON `[{"line": 5, "itemId": 12, "serial": "…"}]`.
    #[sea_orm(column_type = "Text", nullable)]
    pub created: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
