//! Two facts of issue 30 kept on the item:
//! - `item.first_feedback_at`: when the lead unit first reported the item done (办结反馈). A
//!   co-unit answers for its own part (docs/rules.md §3): its part ends there, and the
//!   lead's rework and 回头看 that follow are the lead's. Written by the transaction that
//!   writes the first completion report (`service::items::feedback`), derived here once
//!   from the reports already stored.
//! - `item.rectification_rule` and `item.rectification_from`: the new due a 回头看 sets (a
//!   rule, counted from the reopening), which the lead's due is computed from from then on,
//!   also when a calendar change recalculates it (docs/rules.md §1).
//!
//! And `calendar_state`, one row naming the calendar the stored dues rest on: calendar
//! changes and verbs that write dues take it in turn (`service::store::calendar_state`).
//!
//! And `health_probe`, one row `/healthz` rewrites to learn whether writes commit (a full
//! disk fails them while reads still answer).
//!
//! And an index on the audit trail by action and instant: the board and the report read the
//! closures of a window (CLOSE rows), and a past instant's dues and live assignments (the
//! rows that moved dues or withdrew a unit after it), by those two columns.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CalendarState {
    Table,
    Id,
    Version,
    ChangedAt,
}

#[derive(DeriveIden)]
enum HealthProbe {
    Table,
    Id,
    At,
    Pad,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Action,
    At,
}

#[derive(DeriveIden)]
enum Item {
    Table,
    FirstFeedbackAt,
    RectificationRule,
    RectificationFrom,
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
        // SQLite adds one column per ALTER TABLE.
        for mut column in [
            ColumnDef::new(Item::RectificationRule)
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(Item::RectificationFrom)
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
                    .table(CalendarState::Table)
                    .col(
                        ColumnDef::new(CalendarState::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CalendarState::Version).text().not_null())
                    .col(
                        ColumnDef::new(CalendarState::ChangedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HealthProbe::Table)
                    .col(
                        ColumnDef::new(HealthProbe::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(HealthProbe::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(HealthProbe::Pad).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_action_at")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::Action)
                    .col(AuditEvent::At)
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
