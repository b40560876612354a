//! sea-orm entities: the tables' shape only. Behaviour, scoping and the rules live in
//! `ducha-server` and `ducha-domain`.

pub mod assignment;
pub mod attachment;
pub mod audit_event;
pub mod calendar_override;
pub mod calendar_year;
pub mod channel;
pub mod colour_policy;
pub mod enums;
pub mod extension_request;
pub mod follow;
pub mod instruction;
pub mod item;
pub mod item_file;
pub mod ledger_import;
pub mod meeting;
pub mod monthly_report;
pub mod notice;
pub mod outbox;
pub mod person;
pub mod report;
pub mod sweep_slot;
pub mod task;
pub mod task_report;
pub mod unit;
pub mod web_session;

pub use enums::{
    AssignmentStatus, ExtensionDecision, ItemStage, PersonRole, ReportVerdict, UnitKind,
};
