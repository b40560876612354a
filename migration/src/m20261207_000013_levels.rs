//! Issue 33, levels:
//! - `unit.parent_id`: the organisation is a tree (科室 under a 局, 社区 and 村 under a 街道).
//!   Every existing unit stays a root.
//! - `task`: a unit's part of an item handed down to one of its sub-units — split into
//!   several (分解) or passed down whole (转办, `passed_down`). A task runs its own small
//!   lifecycle (`ducha_domain::tasks`), verified and closed by the unit that handed it down.
//!   `parent_task_id` is a task handed down again, one level lower.
//! - `task_report`: a task's progress reports and its completion report (办结反馈), with the
//!   verdict of the unit above on the latter.
//! - Items received from above: `item.upstream_document` (the city's or province's document),
//!   `upstream_due_at` (their due, which the district's own is counted back from by
//!   `upstream_buffer_working_days`), and `reported_upward_at` (when the office sent the
//!   落实情况 up: the office's own due until then).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Unit {
    Table,
    Id,
    ParentId,
}

#[derive(DeriveIden)]
enum Assignment {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Item {
    Table,
    Id,
    UpstreamDocument,
    UpstreamDueAt,
    UpstreamBufferWorkingDays,
    ReportedUpwardAt,
}

#[derive(DeriveIden)]
enum Task {
    Table,
    Id,
    ItemId,
    AssignmentId,
    ParentTaskId,
    UnitId,
    PassedDown,
    Measures,
    Responsible,
    DueAt,
    DueReason,
    Status,
    SignedAt,
    SignedBy,
    FeedbackAt,
    ClosedAt,
    WaiveReason,
    LastReportAt,
    Version,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TaskReport {
    Table,
    Id,
    TaskId,
    ItemId,
    Kind,
    Body,
    AuthorId,
    CreatedAt,
    Verdict,
    VerdictReason,
    VerdictBy,
    VerdictAt,
}

/// The tasks' references, kept by the database as the older tables' are. (`unit.parent_id`
/// has none: SQLite cannot add a constraint to a table that exists; the service checks it.)
fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Unit::Table)
                    .add_column(ColumnDef::new(Unit::ParentId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_unit_parent")
                    .table(Unit::Table)
                    .col(Unit::ParentId)
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        for mut column in [
            ColumnDef::new(Item::UpstreamDocument)
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(Item::UpstreamDueAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Item::UpstreamBufferWorkingDays)
                .integer()
                .null()
                .to_owned(),
            ColumnDef::new(Item::ReportedUpwardAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Item::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Task::Table)
                    .col(
                        ColumnDef::new(Task::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Task::ItemId).big_integer().not_null())
                    .col(ColumnDef::new(Task::AssignmentId).big_integer().not_null())
                    .col(ColumnDef::new(Task::ParentTaskId).big_integer().null())
                    .col(ColumnDef::new(Task::UnitId).big_integer().not_null())
                    .col(ColumnDef::new(Task::PassedDown).boolean().not_null())
                    .col(ColumnDef::new(Task::Measures).text().not_null())
                    .col(ColumnDef::new(Task::Responsible).text().not_null())
                    .col(
                        ColumnDef::new(Task::DueAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Task::DueReason).text().null())
                    .col(ColumnDef::new(Task::Status).text().not_null())
                    .col(
                        ColumnDef::new(Task::SignedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Task::SignedBy).big_integer().null())
                    .col(
                        ColumnDef::new(Task::FeedbackAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Task::ClosedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Task::WaiveReason).text().null())
                    .col(
                        ColumnDef::new(Task::LastReportAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Task::Version).integer().not_null())
                    .col(ColumnDef::new(Task::CreatedBy).big_integer().not_null())
                    .col(
                        ColumnDef::new(Task::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_task_item",
                        (Task::Table, Task::ItemId),
                        (Item::Table, Item::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_task_assignment",
                        (Task::Table, Task::AssignmentId),
                        (Assignment::Table, Assignment::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_task_parent",
                        (Task::Table, Task::ParentTaskId),
                        (Task::Table, Task::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_task_unit",
                        (Task::Table, Task::UnitId),
                        (Unit::Table, Unit::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_task_item", Task::ItemId),
            ("ix_task_assignment", Task::AssignmentId),
            ("ix_task_unit", Task::UnitId),
            ("ix_task_parent", Task::ParentTaskId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Task::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(TaskReport::Table)
                    .col(
                        ColumnDef::new(TaskReport::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(TaskReport::TaskId).big_integer().not_null())
                    .col(ColumnDef::new(TaskReport::ItemId).big_integer().not_null())
                    .col(ColumnDef::new(TaskReport::Kind).text().not_null())
                    .col(ColumnDef::new(TaskReport::Body).text().not_null())
                    .col(
                        ColumnDef::new(TaskReport::AuthorId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TaskReport::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(TaskReport::Verdict).text().null())
                    .col(ColumnDef::new(TaskReport::VerdictReason).text().null())
                    .col(ColumnDef::new(TaskReport::VerdictBy).big_integer().null())
                    .col(
                        ColumnDef::new(TaskReport::VerdictAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(&mut fk(
                        "fk_task_report_task",
                        (TaskReport::Table, TaskReport::TaskId),
                        (Task::Table, Task::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_task_report_task")
                    .table(TaskReport::Table)
                    .col(TaskReport::TaskId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}
