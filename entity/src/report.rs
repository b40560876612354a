use sea_orm::entity::prelude::*;

/// A progress report (PROGRESS) or a completion report (FEEDBACK) with the office's verdict.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "report")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: i64,
    pub assignment_id: i64,
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub author_id: i64,
    pub verdict: Option<crate::ReportVerdict>,
    #[sea_orm(column_type = "Text", nullable)]
    pub verdict_reason: Option<String>,
    pub verdict_by: Option<i64>,
    pub verdict_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
