//! A sweep's decision for one assignment, and the rows it makes: the notice to send, the
//! skipped rungs later decisions depend on, and the notice's audit entry.

use chrono::{DateTime, Utc};
use ducha_domain::ladder::{Decision, Rung};

use crate::service::notices::notify::{MAILED, SKIPPED};

/// Rows of a bulk write from which the connection that carries them gives its buffers back
/// after (`db::give_back_large_buffers`).
pub const LARGE_STATEMENT_BYTES: usize = 1 << 20;

/// An assignment's decision, with what its mail says of the assignment, kept compactly
/// until it is written.
#[derive(Debug, Clone, Copy)]
pub struct Decided {
    pub assignment_id: i64,
    pub item_id: i64,
    pub unit_id: i64,
    /// The due in force (the extended one if granted).
    pub due_at: DateTime<Utc>,
    pub extended: bool,
    pub lead: bool,
    pub signed: bool,
    pub decision: Decision,
}

impl Decided {
    fn rung(&self) -> Option<Rung> {
        self.decision.send.map(|s| s.rung)
    }

    /// RED and first notices are never held back by the cap.
    pub fn cannot_wait(&self) -> bool {
        matches!(self.rung(), Some(Rung::Red | Rung::Assigned))
    }

    /// Most urgent first, then the oldest due.
    fn urgency(&self) -> (Option<Rung>, std::cmp::Reverse<DateTime<Utc>>) {
        (self.rung(), std::cmp::Reverse(self.due_at))
    }
}

/// The capped decisions, least urgent on top so it is the one evicted.
pub struct ByUrgency(pub Decided);

impl PartialEq for ByUrgency {
    fn eq(&self, other: &Self) -> bool {
        self.0.urgency() == other.0.urgency()
    }
}
impl Eq for ByUrgency {}
impl PartialOrd for ByUrgency {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByUrgency {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.0.urgency().cmp(&self.0.urgency())
    }
}

/// The rungs a notice passed over, named in its audit entry.
pub fn passed_over(d: &Decided) -> Vec<&'static str> {
    let mut titles: Vec<&str> = d.decision.skipped.iter().map(Rung::title).collect();
    titles.extend(d.decision.skipped_progress.map(|(r, _)| r.title()));
    titles
}

/// What a notice's audit entry records: the rung, the situation it was sent in, and the
/// rungs it passed over.
pub fn audit_details<'a>(
    d: &Decided,
    rung: Rung,
    level: &'a str,
    situation: Option<&'a str>,
) -> AuditDetails<'a> {
    AuditDetails {
        kind: rung.kind(),
        level,
        situation,
        skipped: passed_over(d),
    }
}

/// A notice's audit details as JSON: `{"kind", "level", "situation", "skipped"}`.
#[derive(serde::Serialize)]
pub struct AuditDetails<'a> {
    kind: &'static str,
    level: &'a str,
    situation: Option<&'a str>,
    skipped: Vec<&'static str>,
}

/// A notice row of a decision: the one to send and the skipped rungs later decisions
/// depend on (the ones passed over below the notice are recorded in its audit entry).
pub struct NoticeOf {
    pub rung: Rung,
    pub level: String,
    pub state: &'static str,
    pub reason: Option<String>,
}

pub fn notices_of(d: &Decided, tz: chrono_tz::Tz) -> Vec<NoticeOf> {
    let Some(step) = d.decision.send else {
        return Vec::new();
    };
    let mut rows = vec![NoticeOf {
        rung: step.rung,
        level: step.level(),
        state: MAILED,
        reason: Some(step.why.text(tz)),
    }];
    if let Some(rung) = d.decision.outranked {
        rows.push(NoticeOf {
            rung,
            level: rung.level(None),
            state: SKIPPED,
            reason: None,
        });
    }
    if let Some((rung, cycle)) = d.decision.skipped_progress {
        rows.push(NoticeOf {
            rung,
            level: rung.level(Some(cycle)),
            state: SKIPPED,
            reason: None,
        });
    }
    rows
}
