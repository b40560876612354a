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
    /// The name the person signs in to the web pages with; none means token only.
    #[sea_orm(unique)]
    pub account: Option<String>,
    /// Argon2id in PHC form.
    pub password_hash: Option<String>,
    /// Bad passwords in a row since the last good one.
    pub sign_in_failures: i32,
    /// Passwords are refused until then, after too many bad ones.
    pub sign_in_blocked_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
