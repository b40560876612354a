use sea_orm::entity::prelude::*;

/// Someone who uses ducha, with one role and (for unit roles) one unit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub role: crate::PersonRole,
    pub unit_id: Option<i64>,
    /// SHA-256 of the bearer token; the token itself is shown once and never stored.
    #[sea_orm(unique)]
    pub token_hash: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
