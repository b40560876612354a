use sea_orm::entity::prelude::*;

/// A unit's request for more time (延期), filed before the due instant, and its decision.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "extension_request")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: i64,
    pub assignment_id: i64,
    pub requested_by: i64,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub proposed_due_at: DateTimeUtc,
    pub decision: Option<crate::ExtensionDecision>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_reason: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
