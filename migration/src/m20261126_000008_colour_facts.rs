//! What an assignment's colour reads beyond its own row and its item's, kept on those rows
//! (issue 14: "colours are a function of facts the page already has"):
//! - `assignment.last_report_at`: its latest progress report or feedback, which restarts the
//!   report cycle's clock;
//! - `item.feedback_at`: the lead unit's latest completion report (办结反馈), which stops
//!   every unit's clock;
//! - `item.rejections`: how many times the office sent the feedback back (退回重办);
//! - `item.reopened`: whether a closed item was opened again (回头看).
//!
//! Each is written in the transaction that writes the report or the audit row it stands
//! for (`service::items::feedback`, `service::items::verb::change_stage`), and derived here once
//! from the rows already stored. The history itself stays where it was: a colour as of a
//! past instant is still computed from it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Item {
    Table,
    FeedbackAt,
    Rejections,
    Reopened,
}

#[derive(DeriveIden)]
enum Assignment {
    Table,
    LastReportAt,
}

/// Derives the facts from the history already stored: the same text on both databases,
/// correlated reads by the indexes the sweep uses (`ix_report_assignment`,
/// `ix_audit_action_item`). Public so that a test can run it on a district with history.
pub const COLOUR_FACTS_BACKFILL: [&str; 2] = [
    "UPDATE assignment SET last_report_at = \
       (SELECT MAX(r.created_at) FROM report r WHERE r.assignment_id = assignment.id)",
    "UPDATE item SET \
       feedback_at = (SELECT MAX(r.created_at) FROM report r \
         WHERE r.item_id = item.id AND r.kind = 'FEEDBACK'), \
       rejections = (SELECT COUNT(*) FROM audit_event e \
         WHERE e.action = 'REJECT' AND e.item_id = item.id), \
       reopened = EXISTS (SELECT 1 FROM audit_event e \
         WHERE e.action = 'REOPEN' AND e.item_id = item.id)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        let item_columns = [
            ColumnDef::new(Item::FeedbackAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Item::Rejections)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Item::Reopened)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        ];
        for mut column in item_columns {
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
            .alter_table(
                Table::alter()
                    .table(Assignment::Table)
                    .add_column(
                        ColumnDef::new(Assignment::LastReportAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for statement in COLOUR_FACTS_BACKFILL {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}
