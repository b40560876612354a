//! The one shape in which the audit trail records a change of an assignment's dues: each
//! row that moves dues (a resumption, a calendar recalculation, an approved extension and the
//! co-units it carries along, a 回头看's new rectification due) lists every assignment it
//! moved with its dues before and after. A dashboard or report asked about an earlier
//! instant reads the dues then from the first such row after it (`history::dues_at`), so that
//! it shows what the live board showed then (docs/rules.md §3).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An assignment's dues at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dues {
    pub due_at: DateTime<Utc>,
    pub extended_due_at: Option<DateTime<Utc>>,
}

/// One assignment's dues moved by an audited change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DueChange {
    pub assignment_id: i64,
    pub before: Dues,
    pub after: Dues,
}

impl DueChange {
    pub fn of(assignment: &entity::assignment::Model, after: Dues) -> DueChange {
        DueChange {
            assignment_id: assignment.id,
            before: Dues {
                due_at: assignment.due_at,
                extended_due_at: assignment.extended_due_at,
            },
            after,
        }
    }
}

/// The key under which an audit row's details list its due changes.
pub const DUES_KEY: &str = "dues";

/// The due changes of an audit row's details, in the order written.
pub fn changes_in(details: &serde_json::Value) -> Vec<DueChange> {
    details
        .get(DUES_KEY)
        .and_then(|d| serde_json::from_value(d.clone()).ok())
        .unwrap_or_default()
}

/// The changes as the value of the details' `dues` key.
pub fn to_value(changes: &[DueChange]) -> serde_json::Value {
    serde_json::to_value(changes).unwrap_or(serde_json::Value::Null)
}
