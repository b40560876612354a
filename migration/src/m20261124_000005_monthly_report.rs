//! Published monthly reports (月度督查通报, docs/rules.md §6): each row is one immutable version
//! of one month's report; regenerating adds a version and never changes an earlier one.
//! `unit_colours` repeats the units' colours apart from the snapshot, because every live
//! unit colour needs last month's ("two periods running") and should not parse a report.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MonthlyReport {
    Table,
    Id,
    Month,
    Version,
    Data,
    Changes,
    UnitColours,
    Reason,
    GeneratedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MonthlyReport::Table)
                    .col(
                        ColumnDef::new(MonthlyReport::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MonthlyReport::Month)
                            .string_len(7)
                            .not_null(),
                    )
                    .col(ColumnDef::new(MonthlyReport::Version).integer().not_null())
                    .col(ColumnDef::new(MonthlyReport::Data).text().not_null())
                    .col(ColumnDef::new(MonthlyReport::Changes).text().not_null())
                    .col(ColumnDef::new(MonthlyReport::UnitColours).text().not_null())
                    .col(ColumnDef::new(MonthlyReport::Reason).text().null())
                    .col(
                        ColumnDef::new(MonthlyReport::GeneratedBy)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(MonthlyReport::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .index(
                        Index::create()
                            .name("ux_monthly_report_version")
                            .col(MonthlyReport::Month)
                            .col(MonthlyReport::Version)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}
