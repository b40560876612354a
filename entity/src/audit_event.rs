use sea_orm::entity::prelude::*;

/// One entry of the append-only audit trail: who did what, when, from which stage to which,
/// and why. Rows are inserted, never updated or deleted.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: Option<i64>,
    pub assignment_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub at: DateTimeUtc,
    pub action: String,
    pub from_stage: Option<String>,
    pub to_stage: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub details: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
