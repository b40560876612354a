//! Issue 34, channels: notices reach people where they are, not only by mail.
//! - `channel`: one address a notice can take besides mail — a unit's or the office's
//!   企业微信/政务微信 or 钉钉 group robot, a signed webhook to the office's own systems, a
//!   person's mobile number for SMS, and the SMS platform itself (a public cloud's API or
//!   the office's own gateway). Its secret (robot key, signing secret, access key) is kept
//!   here and never read back out by the API. `paused_until`: the channel failed or said
//!   "too many"; nothing is tried on it before then.
//! - `outbox.channel`, `outbox.channel_id`, `outbox.payload`: the outbox carries every
//!   channel's messages with mail's promises (claimed, retried, marked one by one). MAIL rows
//!   are as before. `outbox.digest`: the notices a message held for its window lists (JSON),
//!   so that what arises meanwhile for the same reader or channel joins it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Channel {
    Table,
    Id,
    Kind,
    UnitId,
    PersonId,
    Name,
    Address,
    Settings,
    Secret,
    FromLevel,
    Enabled,
    PausedUntil,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Channel,
    ChannelId,
    Payload,
    Digest,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Channel::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Channel::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Channel::Kind).string_len(24).not_null())
                    .col(ColumnDef::new(Channel::UnitId).big_integer().null())
                    .col(ColumnDef::new(Channel::PersonId).big_integer().null())
                    .col(ColumnDef::new(Channel::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Channel::Address).text().not_null())
                    .col(ColumnDef::new(Channel::Settings).json().not_null())
                    .col(ColumnDef::new(Channel::Secret).text().null())
                    .col(ColumnDef::new(Channel::FromLevel).string_len(8).not_null())
                    .col(
                        ColumnDef::new(Channel::Enabled)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(
                        ColumnDef::new(Channel::PausedUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Channel::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        for mut column in [
            ColumnDef::new(Outbox::Channel)
                .string_len(24)
                .not_null()
                .default("MAIL")
                .to_owned(),
            ColumnDef::new(Outbox::ChannelId)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Outbox::Payload).text().null().to_owned(),
            ColumnDef::new(Outbox::Digest).text().null().to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // A robot's rate limit counts what it was sent in the last minute.
        manager
            .create_index(
                Index::create()
                    .name("outbox_channel_sent")
                    .table(Outbox::Table)
                    .col(Outbox::ChannelId)
                    .col(Alias::new("sent_at"))
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
