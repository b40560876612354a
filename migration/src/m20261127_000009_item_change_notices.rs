//! On PostgreSQL, every write to an item or to one of its assignments tells the instances
//! which item changed: a notice on [`ITEM_CHANGED_CHANNEL`] with the item's id, delivered
//! when the writing transaction commits (and never if it rolls back; the same id twice in one
//! transaction is delivered once). Each instance keeps the items it has read in memory
//! (`ducha_server::item_cache`) and forgets the ones it hears of.
//!
//! Triggers rather than a call in each write: a write from any path (a new verb, a
//! command, a hand-made `UPDATE` by an operator) is heard the same way. SQLite has no
//! notices and gets no triggers; there one instance serves the file, and it forgets its
//! own writes itself.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The channel the notices go on.
pub const ITEM_CHANGED_CHANNEL: &str = "ducha_item_changed";

/// One function for both tables: the trigger names the column that holds the item's id
/// (`id` on `item`, `item_id` on `assignment`), read from the row by name.
const UP: [&str; 3] = [
    "CREATE OR REPLACE FUNCTION ducha_item_changed() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('{channel}', to_jsonb(OLD) ->> TG_ARGV[0]); END IF;
       IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('{channel}', to_jsonb(NEW) ->> TG_ARGV[0]); END IF;
       RETURN NULL;
     END $$",
    "CREATE TRIGGER item_changed AFTER INSERT OR UPDATE OR DELETE ON item
     FOR EACH ROW EXECUTE FUNCTION ducha_item_changed('id')",
    "CREATE TRIGGER assignment_changed AFTER INSERT OR UPDATE OR DELETE ON assignment
     FOR EACH ROW EXECUTE FUNCTION ducha_item_changed('item_id')",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for statement in UP {
            db.execute_unprepared(&statement.replace("{channel}", ITEM_CHANGED_CHANNEL))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}
