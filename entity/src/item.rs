use sea_orm::entity::prelude::*;

/// A supervision item (督办事项). `stage` is a projection of the audit trail, written only
/// in the same transaction as the audit event that changes it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "item")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub serial: String,
    pub year: i32,
    pub seq: i32,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub requirements: String,
    pub source_kind: String,
    pub source_reference: String,
    pub urgency: String,
    pub responsible_leader_id: Option<i64>,
    pub deadline_rule: String,
    pub deadline_explicit: bool,
    pub report_cycle_days: Option<i32>,
    /// The cycle counts working days (每N个工作日) rather than calendar days.
    pub report_cycle_working_days: bool,
    pub stage: crate::ItemStage,
    pub assigned_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub closed_on_time_original: Option<bool>,
    pub closed_on_time_extended: Option<bool>,
    /// Optimistic concurrency: every write bumps it; a stale write is refused.
    pub version: i32,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The lead unit's latest completion report (办结反馈), which stops every unit's clock.
    /// Like the three below, a fact the colour rules read, kept on the row by the write
    /// that makes it true so that a page's colours need no read of the history.
    pub feedback_at: Option<DateTimeUtc>,
    /// How many times the office sent the feedback back (退回重办).
    pub rejections: i32,
    /// Whether the item was opened again after it was closed (回头看).
    pub reopened: bool,
    /// When the lead unit first reported the item done (办结反馈): where a co-unit's part
    /// ends (docs/rules.md §3).
    pub first_feedback_at: Option<DateTimeUtc>,
    /// The rectification due a 回头看 set, as a rule counted from `rectification_from`: the
    /// lead's due from then on.
    #[sea_orm(column_type = "Text", nullable)]
    pub rectification_rule: Option<String>,
    pub rectification_from: Option<DateTimeUtc>,
    /// An item received from above (市、省交办): the upstream document, its due, and the
    /// working days the district keeps for itself before it (docs/rules.md §8).
    #[sea_orm(column_type = "Text", nullable)]
    pub upstream_document: Option<String>,
    pub upstream_due_at: Option<DateTimeUtc>,
    pub upstream_buffer_working_days: Option<i32>,
    /// When the office sent the 落实情况 up; until then the upstream due is the office's own.
    pub reported_upward_at: Option<DateTimeUtc>,
    /// A task was handed down from one of its parts (分解, 转办): reads fetch the item's
    /// tasks for its colours only then (docs/rules.md §8).
    pub has_tasks: bool,
}

/// Declared so that an item can be read with its assignments in one statement.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::assignment::Entity")]
    Assignment,
}

impl Related<super::assignment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Assignment.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
