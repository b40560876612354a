//! Forward-only migrations, run by the server at start-up on SQLite and PostgreSQL alike.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_calendar_override;
mod m20261123_000002_supervision;
mod m20261123_000003_colours_and_notices;
mod m20261124_000004_sweep_indexes;
mod m20261124_000005_monthly_report;
mod m20261124_000006_notice_delivery;
mod m20261125_000007_web_sign_in;
mod m20261126_000008_colour_facts;
mod m20261127_000009_item_change_notices;
mod m20261206_000010_instructions_and_follows;
mod m20261206_000011_item_files;
mod m20261207_000012_first_feedback;
mod m20261207_000013_levels;
mod m20261207_000014_task_rollup;
mod m20261208_000015_channels;
mod m20261209_000016_ledger_import;
mod m20261209_000017_meetings;

pub use m20261126_000008_colour_facts::COLOUR_FACTS_BACKFILL;
pub use m20261127_000009_item_change_notices::ITEM_CHANGED_CHANNEL;
pub use m20261207_000012_first_feedback::FIRST_FEEDBACK_BACKFILL;
pub use m20261207_000014_task_rollup::TASK_ROLLUP_BACKFILL;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_calendar_override::Migration),
            Box::new(m20261123_000002_supervision::Migration),
            Box::new(m20261123_000003_colours_and_notices::Migration),
            Box::new(m20261124_000004_sweep_indexes::Migration),
            Box::new(m20261124_000005_monthly_report::Migration),
            Box::new(m20261124_000006_notice_delivery::Migration),
            Box::new(m20261125_000007_web_sign_in::Migration),
            Box::new(m20261126_000008_colour_facts::Migration),
            Box::new(m20261127_000009_item_change_notices::Migration),
            Box::new(m20261206_000010_instructions_and_follows::Migration),
            Box::new(m20261206_000011_item_files::Migration),
            Box::new(m20261207_000012_first_feedback::Migration),
            Box::new(m20261207_000013_levels::Migration),
            Box::new(m20261207_000014_task_rollup::Migration),
            Box::new(m20261208_000015_channels::Migration),
            Box::new(m20261209_000016_ledger_import::Migration),
            Box::new(m20261209_000017_meetings::Migration),
        ]
    }
}
