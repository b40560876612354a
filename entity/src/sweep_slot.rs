use sea_orm::entity::prelude::*;

/// A scheduled sweep (a sweep time on a working day) that ran: a slot without a row was
/// missed — a crash, a held lock, every instance down — and runs once, as soon as it can.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sweep_slot")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot_at: DateTimeUtc,
    pub holder: String,
    pub ran_at: DateTimeUtc,
    pub notices: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
