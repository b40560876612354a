//! Issue 33, roll-up: two facts kept on rows so that colours are judged from the rows a page
//! reads anyway (docs/rules.md §8):
//! - `item.has_tasks`: the item has a task handed down (分解, 转办). Only for such items do
//!   reads fetch the tasks, so an item without any costs no statement more. Set by the
//!   transaction that hands the first task down; never cleared (a closed task still shows).
//! - `task.rejections`: the task's completion reports sent back (退回重办), which make it
//!   yellow and red as the item's do. Written with each rejection.
//! - `task.requested_due_at`, `task.extension_reason`: a sub-unit's pending request for a
//!   later due (延期申请), until the unit above decides it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Item {
    Table,
    HasTasks,
}

#[derive(DeriveIden)]
enum Task {
    Table,
    Rejections,
    RequestedDueAt,
    ExtensionReason,
}

/// Derives both from the stored tasks and their reports; public so that a test can run it
/// again on a district with history.
pub const TASK_ROLLUP_BACKFILL: [&str; 2] = [
    "UPDATE item SET has_tasks = TRUE WHERE id IN (SELECT item_id FROM task)",
    "UPDATE task SET rejections = (SELECT COUNT(*) FROM task_report r \
     WHERE r.task_id = task.id AND r.verdict = 'REJECTED')",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Item::Table)
                    .add_column(
                        ColumnDef::new(Item::HasTasks)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Task::Table)
                    .add_column(
                        ColumnDef::new(Task::Rejections)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        for mut column in [
            ColumnDef::new(Task::RequestedDueAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Task::ExtensionReason)
                .text()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Task::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        for statement in TASK_ROLLUP_BACKFILL {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
