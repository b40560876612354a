//! Local calendar overrides: a jurisdiction's own day off or day on, layered over the
//! national calendar (docs/rules.md §2).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CalendarOverride {
    Table,
    Id,
    Date,
    Working,
    Name,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CalendarOverride::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(CalendarOverride::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(CalendarOverride::Date)
                            .date()
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(CalendarOverride::Working)
                            .boolean()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CalendarOverride::Name).string().not_null())
                    .col(
                        ColumnDef::new(CalendarOverride::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}
