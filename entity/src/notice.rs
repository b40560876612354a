use sea_orm::entity::prelude::*;

/// A notice the sweep decided to send; unique per (assignment, kind, level), which is what
/// makes "at most once" hold across re-runs, restarts and instances.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notice")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: i64,
    pub assignment_id: i64,
    pub unit_id: i64,
    pub kind: String,
    pub level: String,
    pub created_at: DateTimeUtc,
    /// SKIPPED (outranked or no longer true, never mailed), DIGEST (waiting for its sweep's
    /// digest), MAILED.
    pub state: String,
    /// Why the rung was true when it was decided, in Chinese.
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
