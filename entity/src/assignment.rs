use sea_orm::entity::prelude::*;

/// One item × one unit: lead (主办) or co-unit (协办), with its own due instant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assignment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: i64,
    pub unit_id: i64,
    pub lead: bool,
    pub status: crate::AssignmentStatus,
    pub due_at: DateTimeUtc,
    pub extended_due_at: Option<DateTimeUtc>,
    pub calendar_version: String,
    pub provisional: bool,
    /// Working days spent suspended; added to the rule's due (the clock resumes).
    pub paused_working_days: i32,
    pub signed_at: Option<DateTimeUtc>,
    pub signed_by: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub return_reason: Option<String>,
    pub created_at: DateTimeUtc,
    /// Its latest progress report or feedback: the report cycle restarts from it (kept on
    /// the row by the write that files the report, as the item's colour facts are).
    pub last_report_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::item::Entity",
        from = "Column::ItemId",
        to = "super::item::Column::Id"
    )]
    Item,
    #[sea_orm(
        belongs_to = "super::unit::Entity",
        from = "Column::UnitId",
        to = "super::unit::Column::Id"
    )]
    Unit,
}

impl Related<super::item::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Item.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
