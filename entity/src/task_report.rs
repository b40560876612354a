use sea_orm::entity::prelude::*;

/// A task's progress report (`PROGRESS`) or completion report (`FEEDBACK`), with the verdict
/// of the unit that handed the task down on the latter.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "task_report")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_id: i64,
    pub item_id: i64,
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub author_id: i64,
    pub created_at: DateTimeUtc,
    /// `ACCEPTED` or `REJECTED`, once the unit above has looked at it.
    pub verdict: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub verdict_reason: Option<String>,
    pub verdict_by: Option<i64>,
    pub verdict_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
