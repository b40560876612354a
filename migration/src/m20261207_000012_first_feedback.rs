//! `item.first_feedback_at`: when the lead unit first reported the item done (办结反馈). A
//! co-unit answers for its own part (issue 30, docs/rules.md §3): its part ends there, and
//! the lead's rework and 回头看 that follow are the lead's. Written by the transaction that
//! writes the first completion report (`service::items::feedback`), derived here once from
//! the reports already stored.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Item {
    Table,
    FirstFeedbackAt,
}

/// Derives the column from the stored reports; public so that a test can run it again on a
/// district with history.
pub const FIRST_FEEDBACK_BACKFILL: &str = "UPDATE item SET first_feedback_at = \
    (SELECT MIN(r.created_at) FROM report r WHERE r.item_id = item.id AND r.kind = 'FEEDBACK')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Item::Table)
                    .add_column(
                        ColumnDef::new(Item::FirstFeedbackAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(FIRST_FEEDBACK_BACKFILL)
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}
