//! Signing in to the web pages with an account and a password:
//! - `person.account`: the name a person signs in with (unique; people with no account sign
//!   in with a token only).
//! - `person.password_hash`: Argon2id in PHC form; never the password.
//! - `person.sign_in_failures`/`sign_in_blocked_until`: consecutive bad passwords, and until
//!   when the account refuses passwords after too many — kept in the database so that every
//!   instance sharing it counts the same failures.
//! - `web_session`: one row per signed-in browser. Only the SHA-256 of the cookie's value is
//!   kept; a session ends when idle too long, at its absolute end, or at sign-out.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
    Account,
    PasswordHash,
    SignInFailures,
    SignInBlockedUntil,
}

#[derive(DeriveIden)]
enum WebSession {
    Table,
    Id,
    TokenHash,
    PersonId,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        let columns = [
            ColumnDef::new(Person::Account)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(Person::PasswordHash)
                .string_len(200)
                .null()
                .to_owned(),
            ColumnDef::new(Person::SignInFailures)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Person::SignInBlockedUntil)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Person::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ux_person_account")
                    .table(Person::Table)
                    .col(Person::Account)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebSession::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(WebSession::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(WebSession::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(WebSession::PersonId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebSession::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebSession::LastSeenAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebSession::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebSession::Table, WebSession::PersonId)
                            .to(Person::Table, Person::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_web_session_person")
                    .table(WebSession::Table)
                    .col(WebSession::PersonId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}
