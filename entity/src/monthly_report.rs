use sea_orm::entity::prelude::*;

/// One immutable version of one month's report; `data` is the whole snapshot as JSON, and
/// `changes` (a JSON array of Chinese lines) says what differs from the version before.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "monthly_report")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// "2026-10"
    pub month: String,
    pub version: i32,
    #[sea_orm(column_type = "Text")]
    pub data: String,
    #[sea_orm(column_type = "Text")]
    pub changes: String,
    /// `{"<unit id>": "Blue", …}` for the units rated that month.
    #[sea_orm(column_type = "Text")]
    pub unit_colours: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    /// None when the scheduler published it.
    pub generated_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
