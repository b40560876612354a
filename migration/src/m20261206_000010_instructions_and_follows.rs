//! What leaders add to an item (issue 29):
//! - `instruction`: a leader's 批示 on an item — its words, who wrote them and when. Rows are
//!   only ever added; the audit trail carries an INSTRUCT row for each.
//! - `follow`: the items a person follows (关注), one row per person and item; the board
//!   shows a leader the items they follow first.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Instruction {
    Table,
    Id,
    ItemId,
    AuthorId,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Follow {
    Table,
    PersonId,
    ItemId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Item {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Instruction::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Instruction::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Instruction::ItemId).big_integer().not_null())
                    .col(
                        ColumnDef::new(Instruction::AuthorId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Instruction::Body).text().not_null())
                    .col(
                        ColumnDef::new(Instruction::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Instruction::Table, Instruction::ItemId)
                            .to(Item::Table, Item::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Instruction::Table, Instruction::AuthorId)
                            .to(Person::Table, Person::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_instruction_item")
                    .table(Instruction::Table)
                    .col(Instruction::ItemId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Follow::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Follow::PersonId).big_integer().not_null())
                    .col(ColumnDef::new(Follow::ItemId).big_integer().not_null())
                    .col(
                        ColumnDef::new(Follow::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col(Follow::PersonId).col(Follow::ItemId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Follow::Table, Follow::PersonId)
                            .to(Person::Table, Person::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Follow::Table, Follow::ItemId)
                            .to(Item::Table, Item::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}
