use sea_orm::entity::prelude::*;

/// A meeting whose decisions (会议议定事项) the office supervises, and its 纪要.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "meeting")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// PLENARY, PARTY_GROUP, EXECUTIVE, MAYOR_OFFICE, TOPICAL, OTHER.
    pub kind: String,
    /// The meeting's topic ("研究夜间经济发展等事项").
    pub title: String,
    pub held_on: Date,
    /// Who chaired it.
    pub chair: String,
    /// The 纪要's number (区政府常务会议纪要〔2026〕12号): the decisions' source reference.
    pub minutes_number: String,
    /// When the office must have drafted the 纪要: 2 working days after the meeting.
    pub minutes_due_at: DateTimeUtc,
    pub minutes_issued_at: Option<DateTimeUtc>,
    /// The upload its decisions were entered as, to preview and commit as items.
    pub ledger_import_id: Option<i64>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
