use sea_orm::entity::prelude::*;

/// A unit's part of an item handed down to one of its sub-units (子任务): split into several
/// (分解) or passed down whole (转办). Its status runs `ducha_domain::tasks`' lifecycle; the
/// unit that handed it down verifies and closes it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "task")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: i64,
    /// The part (assignment) it comes from, at whatever depth the task sits.
    pub assignment_id: i64,
    /// The task it was handed down from, when a sub-unit handed its own task further down.
    pub parent_task_id: Option<i64>,
    /// The sub-unit that carries it out.
    pub unit_id: i64,
    /// 转办: the whole part passed to this one sub-unit, rather than a share of it.
    pub passed_down: bool,
    /// 具体措施.
    #[sea_orm(column_type = "Text")]
    pub measures: String,
    /// 责任人, by name as the unit wrote it.
    #[sea_orm(column_type = "Text")]
    pub responsible: String,
    pub due_at: DateTimeUtc,
    /// Why the due is later than the part's own, when it is.
    #[sea_orm(column_type = "Text", nullable)]
    pub due_reason: Option<String>,
    /// `ducha_domain::tasks::TaskStatus` as stored.
    pub status: String,
    pub signed_at: Option<DateTimeUtc>,
    pub signed_by: Option<i64>,
    pub feedback_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub waive_reason: Option<String>,
    pub last_report_at: Option<DateTimeUtc>,
    /// Completion reports sent back (退回重办): yellow and red, as an item's (§3).
    pub rejections: i32,
    /// A pending request for a later due (延期申请) and why, until the unit above decides.
    pub requested_due_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub extension_reason: Option<String>,
    /// Optimistic concurrency, as the item's: every change bumps it.
    pub version: i32,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

/// Declared so that tasks can be read with their units' names in one statement.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::unit::Entity",
        from = "Column::UnitId",
        to = "super::unit::Column::Id"
    )]
    Unit,
}

impl Related<super::unit::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Unit.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
