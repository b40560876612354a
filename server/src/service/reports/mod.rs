//! The monthly report (月度督查通报, docs/rules.md §6) against the database: load the facts of a
//! month as they stood at its end, let `ducha_report::build` compute the figures, and
//! publish the result as an immutable, versioned snapshot, emailed to leaders and the office
//! through the outbox in the same transaction.
//!
//! "As they stood at its end": the report is built after the month (on the first working
//! day of the next, or later on request), so whatever happened since is rewound from the
//! audit trail — a stage changed after the end counts as the stage it left, an item closed
//! after the end is still open, an extension approved after the end does not count.
//!
//! Split by job: `published` (a stored report and a unit's part of it) ← `facts` (a month's facts as they stood at its end, and the figures) ← `stored` (reading the versions) ← `publish` (publishing, and the month's publication when due).

mod facts;
mod publish;
mod published;
mod stored;

pub use facts::*;
pub use publish::*;
pub use published::*;
pub use stored::*;
