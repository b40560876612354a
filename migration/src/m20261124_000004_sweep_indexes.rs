//! Indexes for the single-pass reminder sweep: it reads rejections and reopens from the
//! audit trail by action, and each assignment's last progress report.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Action,
    ItemId,
}

#[derive(DeriveIden)]
enum Report {
    Table,
    AssignmentId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_action_item")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::Action)
                    .col(AuditEvent::ItemId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_report_assignment")
                    .table(Report::Table)
                    .col(Report::AssignmentId)
                    .col(Report::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}
