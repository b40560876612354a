//! Roll-up across levels (docs/rules.md §8): a task handed down (分解, 转办) is judged by §3's
//! rules as a lead part due at the task's own due, and the part it belongs to takes the
//! worst of its own colour and its tasks', at every depth, with the reason naming the
//! sub-unit. A red 社区 task makes the 街道's part red, and so the district's board and the
//! office see it as the 街道's problem.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ducha_calendar::Calendar;

use super::{
    AssignmentFacts, Colour, ColourPolicy, Verdict, assignment_colour, verdict_holds_until,
};
use crate::Stage;
use crate::tasks::TaskStatus;

/// What a task's colour depends on: its own row, and its item's stage and report cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFacts {
    pub status: TaskStatus,
    pub due_at: DateTime<Utc>,
    /// Its latest completion report, which stops its clock while it stands.
    pub feedback_at: Option<DateTime<Utc>>,
    /// Completion reports sent back by the unit above.
    pub rejections: i64,
    /// Its latest progress report, or when it was handed down: the report cycle's start.
    pub last_report_or_handed_at: DateTime<Utc>,
    pub item_stage: Stage,
    pub report_cycle_days: Option<i32>,
    pub report_cycle_working_days: bool,
}

impl TaskFacts {
    /// The facts of the part the task is judged as, or why it runs no clock: waived, its
    /// item's work paused or over.
    fn as_part(&self) -> Result<AssignmentFacts, Verdict> {
        let quiet = |reason: String| Verdict {
            colour: Colour::None,
            reason,
        };
        if self.status == TaskStatus::Waived {
            return Err(quiet("已免除".into()));
        }
        if self.status == TaskStatus::Returned {
            return Err(quiet("已退回上级单位".into()));
        }
        if self.status.is_open() {
            match self.item_stage {
                Stage::Suspended => return Err(quiet("事项已挂起，计时暂停".into())),
                Stage::Verified | Stage::Closed | Stage::Cancelled => {
                    return Err(quiet(format!("事项{}", self.item_stage.label())));
                }
                _ => {}
            }
        }
        Ok(AssignmentFacts {
            stage: self.status.as_stage(),
            due_at: self.due_at,
            extended_due_at: None,
            rejections: self.rejections,
            reopened: false,
            report_cycle_days: self.report_cycle_days,
            report_cycle_working_days: self.report_cycle_working_days,
            last_report_or_assigned_at: self.last_report_or_handed_at,
            feedback_at: self.feedback_at,
            lead: true,
            first_feedback_at: None,
            own_report_at: None,
        })
    }
}

/// A task's own colour at `now` (its tasks below are not in it: see [`rolled_up`]).
pub fn task_colour(
    calendar: &Calendar,
    time_zone: Tz,
    policy: &ColourPolicy,
    facts: &TaskFacts,
    now: DateTime<Utc>,
) -> Verdict {
    match facts.as_part() {
        Ok(part) => assignment_colour(calendar, time_zone, policy, &part, now),
        Err(quiet) => quiet,
    }
}

/// Until when [`task_colour`] holds, as [`verdict_holds_until`] for a part.
pub fn task_colour_holds_until(
    time_zone: Tz,
    facts: &TaskFacts,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    match facts.as_part() {
        Ok(part) => verdict_holds_until(time_zone, &part, now),
        Err(_) => DateTime::<Utc>::MAX_UTC,
    }
}

/// `own` with a task's verdict rolled in: the task's when it is worse, its reason naming the
/// sub-unit that holds it. Of equal colours the holder's own reason stays.
pub fn rolled_up(own: Verdict, sub_unit: &str, task: Verdict) -> Verdict {
    if task.colour > own.colour {
        Verdict {
            colour: task.colour,
            reason: format!("下级任务（{sub_unit}）{}", task.reason),
        }
    } else {
        own
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(m: u32, d: u32, h: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, m, d, h, 0, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn signed(due: DateTime<Utc>) -> TaskFacts {
        TaskFacts {
            status: TaskStatus::Signed,
            due_at: due,
            feedback_at: None,
            rejections: 0,
            last_report_or_handed_at: at(11, 2, 9),
            item_stage: Stage::InProgress,
            report_cycle_days: None,
            report_cycle_working_days: false,
        }
    }

    fn colour(facts: &TaskFacts, now: DateTime<Utc>) -> Verdict {
        task_colour(
            &Calendar::national(),
            chrono_tz::Asia::Shanghai,
            &ColourPolicy::default(),
            facts,
            now,
        )
    }

    #[test]
    fn a_task_is_judged_on_its_own_due() {
        // Due Monday 11-09 18:00; Friday 11-13 is four working days late: red.
        let task = signed(at(11, 9, 18));
        assert_eq!(colour(&task, at(11, 9, 10)).colour, Colour::Blue);
        assert_eq!(colour(&task, at(11, 10, 10)).colour, Colour::Yellow);
        let red = colour(&task, at(11, 13, 10));
        assert_eq!(red.colour, Colour::Red);
        assert!(red.reason.contains("已逾期4个工作日"), "{}", red.reason);
    }

    #[test]
    fn a_task_whose_clock_does_not_run_says_why() {
        let late = at(11, 20, 10);
        let waived = TaskFacts {
            status: TaskStatus::Waived,
            ..signed(at(11, 9, 18))
        };
        assert_eq!(colour(&waived, late).reason, "已免除");
        let paused = TaskFacts {
            item_stage: Stage::Suspended,
            ..signed(at(11, 9, 18))
        };
        assert_eq!(colour(&paused, late).colour, Colour::None);
        assert_eq!(
            task_colour_holds_until(chrono_tz::Asia::Shanghai, &paused, late),
            DateTime::<Utc>::MAX_UTC
        );
        // Handed in late: the lateness stays until the unit above accepts it.
        let handed_in = TaskFacts {
            status: TaskStatus::FeedbackSubmitted,
            feedback_at: Some(at(11, 11, 10)),
            ..signed(at(11, 9, 18))
        };
        assert_eq!(colour(&handed_in, late).colour, Colour::Yellow);
        let closed = TaskFacts {
            status: TaskStatus::Closed,
            ..handed_in
        };
        assert_eq!(colour(&closed, late).colour, Colour::None);
    }

    #[test]
    fn reports_sent_back_make_a_task_yellow_then_red() {
        let task = TaskFacts {
            rejections: 2,
            ..signed(at(12, 31, 18))
        };
        let verdict = colour(&task, at(11, 10, 10));
        assert_eq!(verdict.colour, Colour::Red);
        assert!(verdict.reason.contains("退回重办2次"), "{}", verdict.reason);
    }

    #[test]
    fn the_worse_of_holder_and_task_is_kept_naming_the_sub_unit() {
        let own = Verdict {
            colour: Colour::Blue,
            reason: "1个工作日内到期".into(),
        };
        let task = Verdict {
            colour: Colour::Red,
            reason: "已逾期4个工作日".into(),
        };
        let rolled = rolled_up(own.clone(), "东湖社区", task.clone());
        assert_eq!(rolled.colour, Colour::Red);
        assert_eq!(rolled.reason, "下级任务（东湖社区）已逾期4个工作日");
        // A task no worse leaves the holder's own reason.
        let same = Verdict {
            colour: Colour::Blue,
            reason: "今日到期".into(),
        };
        assert_eq!(rolled_up(own.clone(), "东湖社区", same), own);
    }
}
