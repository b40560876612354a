//! The verbs of the lifecycle (docs/rules.md §1), grouped as the office works: register and
//! edit, assign and its answers (sign, return, reassign or insist), extensions, feedback to
//! closing, pausing and ending, and the recalculation a calendar change asks for. Every verb
//! takes the one path of `service::items::verb`: permission, claim, domain transition, change,
//! stage and audit, commit.

pub mod assign;
pub mod attachments;
pub mod extension;
pub mod feedback;
pub mod follows;
pub mod import;
pub mod instruct;
pub mod listing;
pub mod meetings;
pub mod pause;
pub mod progress;
pub mod recalculate;
pub mod register;
pub mod shared;
pub mod tasks;
pub mod todo;
pub mod upstream;
pub mod urge;
pub mod verb;

pub use assign::{assign, request_return, resolve_return, sign};
pub use extension::{OFFICE_EXTENSION_LIMIT_WORKING_DAYS, decide_extension, request_extension};
pub use feedback::{close, report_progress, submit_feedback, verify};
pub use instruct::instruct;
pub use pause::{frozen_explanation, suspend_resume_cancel_reopen};
pub use recalculate::{MovedDeadline, recalculate_open_deadlines};
pub use register::{
    DuplicateWarning, EditInput, RegisterInput, RegistrationPreview, edit, preview, register,
};
pub use urge::urge;
