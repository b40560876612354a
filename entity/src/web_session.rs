use sea_orm::entity::prelude::*;

/// A signed-in browser. The cookie holds a random secret; only its SHA-256 is stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "web_session")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub person_id: i64,
    pub created_at: DateTimeUtc,
    /// Moved forward as the session is used (at most once a minute), for the idle limit.
    pub last_seen_at: DateTimeUtc,
    /// The absolute end, fixed at sign-in.
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
