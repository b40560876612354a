//! The rules of supervision work as pure code: the lifecycle 立项 → 交办 → 承办 → 反馈 →
//! 核查 → 销号 [000 Art.67], who may do what, where each item's default deadline comes from,
//! and the duplicate check against 重复督查/多头督查 [002 Art.69]. No I/O, no database types.

pub mod climb;
pub mod colour;
pub mod deadlines;
pub mod duty;
pub mod ladder;
pub mod lifecycle;
pub mod meeting;
pub mod similarity;
pub mod source;
pub mod tasks;
pub mod upstream;

pub use duty::Duty;
pub use lifecycle::{
    Action, AssignmentStanding, Refusal, Role, Stage, StageChange, TransitionError,
    stage_from_history,
};
pub use meeting::MeetingKind;
pub use source::{SourceKind, Urgency};
