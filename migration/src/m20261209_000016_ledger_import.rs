//! Issue 35, the ledger in: `ledger_import` keeps an uploaded ledger's rows as read (so that
//! its preview can be looked at again, by another instance too, and committed once), and
//! after the commit what each chosen row became — the import report.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LedgerImport {
    Table,
    Id,
    CreatedBy,
    CreatedAt,
    FileName,
    ReadAs,
    DefaultSource,
    Lines,
    Columns,
    CommittedAt,
    CommittedBy,
    Created,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LedgerImport::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(LedgerImport::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(LedgerImport::CreatedBy)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LedgerImport::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LedgerImport::FileName)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LedgerImport::ReadAs)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LedgerImport::DefaultSource)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(LedgerImport::Lines).text().not_null())
                    .col(ColumnDef::new(LedgerImport::Columns).text().not_null())
                    .col(
                        ColumnDef::new(LedgerImport::CommittedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(LedgerImport::CommittedBy)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(LedgerImport::Created).text().null())
                    .to_owned(),
            )
            .await
    }
}
