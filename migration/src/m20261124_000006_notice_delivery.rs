//! Notices that are right, sent once and never lost:
//! - `notice.state`: SKIPPED (a rung true but outranked, or no longer true when its digest
//!   was written; recorded so it never goes later — rungs merely passed over are listed in
//!   the audit entry of the notice that passed them), DIGEST
//!   (decided by a sweep, waiting for the per-person digest) or MAILED; rows from before
//!   this migration were mailed one by one, so they are MAILED.
//! - `notice.reason`: why the rung was true when decided, for the digest.
//! - `outbox.claim`/`claimed_until`: a sender's claim on a message, renewed while it works,
//!   so a live sender's rows are never taken by another and a dead sender's come back.
//! - `item.report_cycle_working_days`: whether the progress-report cycle counts working days.
//! - `sweep_slot`: each scheduled sweep that ran, so a missed one runs once, later.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notice {
    Table,
    State,
    Reason,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Claim,
    ClaimedUntil,
    Status,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Item {
    Table,
    ReportCycleWorkingDays,
}

#[derive(DeriveIden)]
enum SweepSlot {
    Table,
    SlotAt,
    Holder,
    RanAt,
    Notices,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Notice::Table)
                    .add_column(
                        ColumnDef::new(Notice::State)
                            .string_len(16)
                            .not_null()
                            .default("MAILED"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Notice::Table)
                    .add_column(ColumnDef::new(Notice::Reason).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_notice_state")
                    .table(Notice::Table)
                    .col(Notice::State)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(ColumnDef::new(Outbox::Claim).string_len(64).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(
                        ColumnDef::new(Outbox::ClaimedUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_status_created")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Item::Table)
                    .add_column(
                        ColumnDef::new(Item::ReportCycleWorkingDays)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SweepSlot::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(SweepSlot::SlotAt)
                            .timestamp_with_time_zone()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SweepSlot::Holder).string_len(64).not_null())
                    .col(
                        ColumnDef::new(SweepSlot::RanAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SweepSlot::Notices).big_integer().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}
