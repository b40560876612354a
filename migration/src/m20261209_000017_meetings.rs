//! Issue 35, meeting decisions (会议议定事项): `meeting` records a meeting — its kind, date,
//! chair, topic and 纪要 number — and the office's own due to issue the 纪要 (2 working days,
//! [003 Art.47]); its decisions become items through an import (`ledger_import_id`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Meeting {
    Table,
    Id,
    Kind,
    Title,
    HeldOn,
    Chair,
    MinutesNumber,
    MinutesDueAt,
    MinutesIssuedAt,
    LedgerImportId,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Meeting::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Meeting::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Meeting::Kind).string_len(24).not_null())
                    .col(ColumnDef::new(Meeting::Title).string_len(255).not_null())
                    .col(ColumnDef::new(Meeting::HeldOn).date().not_null())
                    .col(ColumnDef::new(Meeting::Chair).string_len(100).not_null())
                    .col(
                        ColumnDef::new(Meeting::MinutesNumber)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Meeting::MinutesDueAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Meeting::MinutesIssuedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Meeting::LedgerImportId).big_integer().null())
                    .col(ColumnDef::new(Meeting::CreatedBy).big_integer().not_null())
                    .col(
                        ColumnDef::new(Meeting::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }
}
