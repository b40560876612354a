use sea_orm::entity::prelude::*;

/// A department, subdistrict, park or town (单位) that undertakes items.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "unit")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    pub kind: crate::UnitKind,
    pub head_name: Option<String>,
    /// `[{"name": "...", "email": "..."}]`
    pub contacts: Json,
    pub portfolio_leader_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// The unit it belongs to (a 科室's 局, a 社区's 街道); none for a top-level unit.
    pub parent_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
