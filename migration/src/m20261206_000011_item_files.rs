//! Files attached to an item at 立项 (the instruction as received, the meeting's minutes, the
//! audit's findings): `item_file`, one row per file, its bytes stored by SHA-256 as report
//! attachments are. Whoever may see the item may download them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ItemFile {
    Table,
    Id,
    ItemId,
    FileName,
    ContentType,
    Size,
    Sha256,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Item {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ItemFile::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ItemFile::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ItemFile::ItemId).big_integer().not_null())
                    .col(
                        ColumnDef::new(ItemFile::FileName)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ItemFile::ContentType)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ItemFile::Size).big_integer().not_null())
                    .col(ColumnDef::new(ItemFile::Sha256).string_len(64).not_null())
                    .col(ColumnDef::new(ItemFile::CreatedBy).big_integer().not_null())
                    .col(
                        ColumnDef::new(ItemFile::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ItemFile::Table, ItemFile::ItemId)
                            .to(Item::Table, Item::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_item_file_item")
                    .table(ItemFile::Table)
                    .col(ItemFile::ItemId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}
