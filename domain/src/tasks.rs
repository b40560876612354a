//! Levels: a unit's part of an item handed down to its sub-units (docs/rules.md §8).
//!
//! Departments must "细化任务措施，层层压实责任" [001 Art.31; 002 Art.31]: a unit that holds a
//! part of an item (lead or co-unit) may split it into child tasks for its own sub-units
//! (分解), each with its 具体措施, a responsible person and a due before the part's own, or
//! pass the whole part down to one sub-unit (转办). A task runs a small lifecycle of its own —
//! signed, reported on, handed in, verified or sent back — and is verified and closed (or
//! waived, with a reason) by the unit that handed it down, not by the office. The part's
//! 办结反馈 waits until every task under it is closed or waived ([`feedback_gate`]).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use ducha_calendar::{Calendar, DeadlinePolicy};
use serde::{Deserialize, Serialize};

use crate::lifecycle::{Refusal, Role, Stage};

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskStatus {
    /// 待签收: handed down, not signed yet.
    Assigned,
    /// 办理中: the sub-unit signed for it.
    Signed,
    /// 已反馈: the sub-unit reported it done; the unit above has not looked yet.
    FeedbackSubmitted,
    /// 已办结: the unit above accepted the report.
    Closed,
    /// 已免除: the unit above released it, with a reason.
    Waived,
    /// 已退回: the sub-unit gave it back before signing, saying why (not its duty, cannot
    /// carry it out); the unit above arranges the work again.
    Returned,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 6] = [
        TaskStatus::Assigned,
        TaskStatus::Signed,
        TaskStatus::FeedbackSubmitted,
        TaskStatus::Closed,
        TaskStatus::Waived,
        TaskStatus::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Assigned => "ASSIGNED",
            TaskStatus::Signed => "SIGNED",
            TaskStatus::FeedbackSubmitted => "FEEDBACK_SUBMITTED",
            TaskStatus::Closed => "CLOSED",
            TaskStatus::Waived => "WAIVED",
            TaskStatus::Returned => "RETURNED",
        }
    }

    pub fn parse(text: &str) -> Option<TaskStatus> {
        TaskStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Assigned => "待签收",
            TaskStatus::Signed => "办理中",
            TaskStatus::FeedbackSubmitted => "已反馈待核查",
            TaskStatus::Closed => "已办结",
            TaskStatus::Waived => "已免除",
            TaskStatus::Returned => "已退回",
        }
    }

    /// Closed, waived and returned tasks no longer hold their part back.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            TaskStatus::Closed | TaskStatus::Waived | TaskStatus::Returned
        )
    }

    /// The item stage a task's colour is judged as (the colour rules are the item's, §3):
    /// its clock runs until it is handed in, and a report sent back runs it again.
    pub fn as_stage(self) -> Stage {
        match self {
            TaskStatus::Assigned => Stage::Assigned,
            TaskStatus::Signed => Stage::InProgress,
            TaskStatus::FeedbackSubmitted => Stage::FeedbackSubmitted,
            TaskStatus::Closed | TaskStatus::Waived | TaskStatus::Returned => Stage::Closed,
        }
    }
}

/// Every verb on tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskAction {
    /// 分解: the part split into tasks for several sub-units (or one share for one).
    Split,
    /// 转办: the whole part passed down to one sub-unit.
    PassDown,
    /// 签收 by the sub-unit.
    Sign,
    /// 报送进展.
    ReportProgress,
    /// 办结反馈 of the task, to the unit above.
    SubmitFeedback,
    /// The unit above accepts the report: the task is closed.
    Accept,
    /// The unit above sends the report back: the task runs again.
    Reject,
    /// The unit above releases the task, saying why.
    Waive,
    /// The sub-unit gives the task back before signing it, saying why.
    Return,
    /// The sub-unit asks for a later due, saying why (延期申请).
    RequestExtension,
    /// The unit above approves or refuses the request.
    DecideExtension,
}

impl TaskAction {
    pub const ALL: [TaskAction; 11] = [
        TaskAction::Split,
        TaskAction::PassDown,
        TaskAction::Sign,
        TaskAction::ReportProgress,
        TaskAction::SubmitFeedback,
        TaskAction::Accept,
        TaskAction::Reject,
        TaskAction::Waive,
        TaskAction::Return,
        TaskAction::RequestExtension,
        TaskAction::DecideExtension,
    ];

    /// The stable name in the audit trail (stored, so never renamed).
    pub fn name(self) -> &'static str {
        match self {
            TaskAction::Split => "SPLIT_PART",
            TaskAction::PassDown => "PASS_DOWN",
            TaskAction::Sign => "SIGN_TASK",
            TaskAction::ReportProgress => "REPORT_TASK_PROGRESS",
            TaskAction::SubmitFeedback => "SUBMIT_TASK_FEEDBACK",
            TaskAction::Accept => "ACCEPT_TASK",
            TaskAction::Reject => "REJECT_TASK",
            TaskAction::Waive => "WAIVE_TASK",
            TaskAction::Return => "RETURN_TASK",
            TaskAction::RequestExtension => "REQUEST_TASK_EXTENSION",
            TaskAction::DecideExtension => "DECIDE_TASK_EXTENSION",
        }
    }

    pub fn parse(name: &str) -> Option<TaskAction> {
        TaskAction::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn label(self) -> &'static str {
        match self {
            TaskAction::Split => "分解任务",
            TaskAction::PassDown => "转办下级",
            TaskAction::Sign => "签收子任务",
            TaskAction::ReportProgress => "报送子任务进展",
            TaskAction::SubmitFeedback => "子任务办结反馈",
            TaskAction::Accept => "子任务核查通过",
            TaskAction::Reject => "子任务退回重办",
            TaskAction::Waive => "免除子任务",
            TaskAction::Return => "退回子任务",
            TaskAction::RequestExtension => "申请子任务延期",
            TaskAction::DecideExtension => "审批子任务延期",
        }
    }

    /// The verb alone, for sentences ("不能核查通过").
    pub fn verb(self) -> &'static str {
        match self {
            TaskAction::Split => "分解",
            TaskAction::PassDown => "转办",
            TaskAction::Sign => "签收",
            TaskAction::ReportProgress => "报送进展",
            TaskAction::SubmitFeedback => "报送办结反馈",
            TaskAction::Accept => "核查通过",
            TaskAction::Reject => "退回重办",
            TaskAction::Waive => "免除",
            TaskAction::Return => "退回",
            TaskAction::RequestExtension => "申请延期",
            TaskAction::DecideExtension => "审批延期",
        }
    }

    /// Whether `role` may do this at all. Which unit — the one holding the part for
    /// handing down and verifying, the task's own for the rest — is checked where the task
    /// is known. The unit head answers for the unit [001 Art.31], as on the item.
    pub fn allowed_for(self, role: Role) -> bool {
        match self {
            TaskAction::ReportProgress => role.is_unit_role(),
            _ => role == Role::UnitHead,
        }
    }

    /// Whether it is the handing-down unit's verb (rather than the task's own unit's).
    pub fn by_unit_above(self) -> bool {
        matches!(
            self,
            TaskAction::Split
                | TaskAction::PassDown
                | TaskAction::Accept
                | TaskAction::Reject
                | TaskAction::Waive
                | TaskAction::DecideExtension
        )
    }

    /// The status a task goes to from `from`, or why it cannot.
    pub fn next_status(self, from: TaskStatus) -> Result<TaskStatus, TaskTransitionError> {
        use TaskStatus::*;
        let to = match (self, from) {
            (TaskAction::Sign, Assigned) => Signed,
            (TaskAction::ReportProgress, Assigned | Signed | FeedbackSubmitted) => from,
            (TaskAction::SubmitFeedback, Signed) => FeedbackSubmitted,
            (TaskAction::Accept, FeedbackSubmitted) => Closed,
            (TaskAction::Reject, FeedbackSubmitted) => Signed,
            (TaskAction::Waive, Assigned | Signed | FeedbackSubmitted) => Waived,
            // Before signing: a unit that signed took the task on.
            (TaskAction::Return, Assigned) => Returned,
            // While the task's clock runs; its status stays.
            (TaskAction::RequestExtension | TaskAction::DecideExtension, Assigned | Signed) => from,
            _ => return Err(TaskTransitionError { action: self, from }),
        };
        Ok(to)
    }
}

/// A task verb its status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("子任务当前为“{}”，不能{}", .from.label(), .action.verb())]
pub struct TaskTransitionError {
    pub action: TaskAction,
    pub from: TaskStatus,
}

/// Whether tasks may be handed down or acted on while the item is at `stage`: while it runs
/// (a suspended, closed or cancelled item stops its tasks with it).
pub fn item_allows_tasks(stage: Stage) -> Result<(), Refusal> {
    match stage {
        Stage::Assigned | Stage::InProgress | Stage::FeedbackSubmitted => Ok(()),
        Stage::Suspended => Err(Refusal("事项已挂起，恢复后才能办理子任务")),
        Stage::Closed | Stage::Verified => Err(Refusal("事项已办结，不能再办理子任务")),
        Stage::Cancelled => Err(Refusal("事项已撤销")),
        Stage::Registered => Err(Refusal("事项尚未交办")),
    }
}

/// Whether a part may be handed down while the item is at `stage`: while the units work on it,
/// not once the lead has reported it done (已反馈) — new work then would sit under a report
/// the office is verifying.
pub fn item_allows_hand_down(stage: Stage) -> Result<(), Refusal> {
    match stage {
        Stage::Assigned | Stage::InProgress => Ok(()),
        Stage::FeedbackSubmitted => Err(Refusal(
            "事项已报送办结反馈，等待督查室核查，不能再分解或转办",
        )),
        other => item_allows_tasks(other),
    }
}

/// What the unit holding a part must have done before handing it down: signed for it, and
/// not be waiting for the office to take it back.
pub fn check_hand_down(signed: bool, return_requested: bool) -> Result<(), Refusal> {
    if return_requested {
        return Err(Refusal(
            "本单位已申请退回该事项，等待督查室处理，不能分解或转办",
        ));
    }
    if !signed {
        return Err(Refusal("请先签收本单位承办部分，再分解或转办"));
    }
    Ok(())
}

/// Why a task's due could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DueRefusal(pub String);

/// The default due of a task: `buffer` working days before the part's own due, at the same
/// local time (docs/rules.md §8: one working day by default, a policy setting). The caller
/// decides what an instant already past means.
pub fn default_task_due(
    calendar: &Calendar,
    time_zone: Tz,
    part_due: DateTime<Utc>,
    buffer: i64,
) -> Result<DateTime<Utc>, DueRefusal> {
    let local = part_due.with_timezone(&time_zone);
    let n = i32::try_from(buffer.clamp(0, 60)).unwrap_or(0);
    let date = if n == 0 {
        local.date_naive()
    } else {
        calendar
            .add_working_days(local.date_naive(), -n)
            .map_err(|e| DueRefusal(format!("无法计算子任务期限：{e}")))?
            .value
    };
    at_local(time_zone, date, local.time())
}

/// A due the unit chose, as a date: at the policy's cutoff of that day (as every counted
/// due is), refused on a rest day (a due must fall on a working day) or in the past.
pub fn chosen_task_due(
    calendar: &Calendar,
    policy: &DeadlinePolicy,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, DueRefusal> {
    if !calendar.is_working_day(date).value {
        return Err(DueRefusal(format!(
            "子任务期限{date}不是工作日，请选择工作日"
        )));
    }
    let due = at_local(policy.time_zone, date, policy.cutoff)?;
    if due <= now {
        return Err(DueRefusal(format!(
            "子任务期限{date}已过，请选择今后的日期"
        )));
    }
    Ok(due)
}

fn at_local(
    time_zone: Tz,
    date: NaiveDate,
    time: chrono::NaiveTime,
) -> Result<DateTime<Utc>, DueRefusal> {
    date.and_time(time)
        .and_local_timezone(time_zone)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| DueRefusal(format!("{date} {time} 在本地时区不存在")))
}

/// A task's due against its part's: later only with a reason, which is kept.
pub fn check_task_due(
    due: DateTime<Utc>,
    part_due: DateTime<Utc>,
    reason: Option<&str>,
) -> Result<(), DueRefusal> {
    let has_reason = reason.is_some_and(|r| !r.trim().is_empty());
    if due > part_due && !has_reason {
        return Err(DueRefusal(
            "子任务期限晚于本单位的办理期限，须说明理由".into(),
        ));
    }
    Ok(())
}

/// How the tasks under a part stand: what the part's page shows (n of m closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct TaskTally {
    pub total: usize,
    pub closed: usize,
    pub waived: usize,
}

impl TaskTally {
    pub fn of(statuses: impl IntoIterator<Item = TaskStatus>) -> TaskTally {
        let mut tally = TaskTally::default();
        for status in statuses {
            tally.total += 1;
            match status {
                TaskStatus::Closed => tally.closed += 1,
                // Given back, the task is the unit above's to arrange again: it holds
                // nothing back, as a waived one.
                TaskStatus::Waived | TaskStatus::Returned => tally.waived += 1,
                _ => {}
            }
        }
        tally
    }

    pub fn open(self) -> usize {
        self.total - self.closed - self.waived
    }
}

/// A part's 办结反馈 waits until every task under it is closed or waived.
pub fn feedback_gate(tally: TaskTally) -> Result<(), Refusal> {
    if tally.open() > 0 {
        return Err(Refusal(
            "本单位分解或转办的子任务尚未全部办结（或免除），暂不能报送办结反馈",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn shanghai() -> Tz {
        chrono_tz::Asia::Shanghai
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    #[test]
    fn a_task_runs_sign_report_accept_and_can_be_sent_back_or_waived() {
        use TaskAction::*;
        use TaskStatus::*;
        assert_eq!(Sign.next_status(Assigned), Ok(Signed));
        assert_eq!(SubmitFeedback.next_status(Signed), Ok(FeedbackSubmitted));
        assert_eq!(Reject.next_status(FeedbackSubmitted), Ok(Signed));
        assert_eq!(Accept.next_status(FeedbackSubmitted), Ok(Closed));
        assert_eq!(Waive.next_status(Signed), Ok(Waived));
        // Given back only before signing, by the sub-unit; it then holds nothing back.
        assert_eq!(Return.next_status(Assigned), Ok(Returned));
        assert!(Return.next_status(Signed).is_err());
        assert!(!Return.by_unit_above());
        assert!(!Returned.is_open());
        assert!(Sign.next_status(Returned).is_err());
        // Handed in before signing, accepted before it was handed in, or acted on once done.
        assert!(SubmitFeedback.next_status(Assigned).is_err());
        assert!(Accept.next_status(Signed).is_err());
        assert!(Sign.next_status(Signed).is_err());
        for done in [Closed, Waived] {
            for action in TaskAction::ALL {
                assert!(action.next_status(done).is_err(), "{action:?} on {done:?}");
            }
        }
        let refusal = Accept.next_status(Signed).expect_err("refused").to_string();
        assert_eq!(refusal, "子任务当前为“办理中”，不能核查通过");
    }

    #[test]
    fn only_the_unit_head_hands_down_signs_and_verifies_and_any_unit_person_reports() {
        for action in TaskAction::ALL {
            assert_eq!(
                action.allowed_for(Role::UnitStaff),
                action == TaskAction::ReportProgress,
                "{action:?}"
            );
            assert!(action.allowed_for(Role::UnitHead));
            for office in [Role::Supervisor, Role::Admin, Role::Leader] {
                assert!(!action.allowed_for(office), "{action:?} by {office:?}");
            }
        }
    }

    #[test]
    fn names_and_statuses_round_trip() {
        for action in TaskAction::ALL {
            assert_eq!(TaskAction::parse(action.name()), Some(action));
        }
        for status in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn the_default_due_is_a_working_day_before_the_parts_over_a_holiday() {
        let calendar = Calendar::national();
        // A part due Friday 2026-10-09 at 18:00, just after 国庆: its tasks are due at the
        // same hour on the working day before, whichever day the year's notice makes that.
        let part_due = shanghai()
            .with_ymd_and_hms(2026, 10, 9, 18, 0, 0)
            .single()
            .expect("an instant")
            .with_timezone(&Utc);
        let due = default_task_due(&calendar, shanghai(), part_due, 1).expect("an answer");
        let local = due.with_timezone(&shanghai());
        let expected = calendar
            .add_working_days(day(2026, 10, 9), -1)
            .expect("an answer")
            .value;
        assert_eq!(local.date_naive(), expected);
        assert_eq!(
            local.time(),
            chrono::NaiveTime::from_hms_opt(18, 0, 0).expect("a time")
        );
        // Whatever the year's arrangement, the day before is a working day and no working
        // day lies between it and the part's due.
        assert!(calendar.is_working_day(expected).value);
        assert_eq!(
            calendar
                .working_days_between(expected, day(2026, 10, 9))
                .value,
            1
        );
        assert_eq!(
            default_task_due(&calendar, shanghai(), part_due, 0).expect("an answer"),
            part_due
        );
    }

    #[test]
    fn a_chosen_due_must_be_a_future_working_day_and_later_than_the_part_only_with_a_reason() {
        let calendar = Calendar::national();
        let policy = DeadlinePolicy::default();
        let now = Utc
            .with_ymd_and_hms(2026, 12, 1, 2, 0, 0)
            .single()
            .expect("an instant");
        // 2026-12-05 is a Saturday.
        let rest = chosen_task_due(&calendar, &policy, day(2026, 12, 5), now);
        assert!(rest.expect_err("refused").0.contains("不是工作日"));
        let past = chosen_task_due(&calendar, &policy, day(2026, 11, 30), now);
        assert!(past.expect_err("refused").0.contains("已过"));
        let due = chosen_task_due(&calendar, &policy, day(2026, 12, 4), now).expect("an answer");
        assert_eq!(
            due,
            Utc.with_ymd_and_hms(2026, 12, 4, 10, 0, 0)
                .single()
                .expect("an instant")
        );
        let part_due = Utc
            .with_ymd_and_hms(2026, 12, 3, 10, 0, 0)
            .single()
            .expect("an instant");
        assert!(check_task_due(due, part_due, None).is_err());
        assert!(check_task_due(due, part_due, Some("  ")).is_err());
        assert!(check_task_due(due, part_due, Some("需等待市级批复")).is_ok());
        assert!(check_task_due(part_due, part_due, None).is_ok());
    }

    #[test]
    fn feedback_waits_for_every_task_closed_or_waived() {
        use TaskStatus::*;
        assert!(feedback_gate(TaskTally::of([])).is_ok());
        assert!(feedback_gate(TaskTally::of([Closed, Waived])).is_ok());
        let tally = TaskTally::of([Closed, Signed, FeedbackSubmitted]);
        assert_eq!(tally.open(), 2);
        assert!(feedback_gate(tally).is_err());
    }

    #[test]
    fn tasks_run_only_while_the_item_runs() {
        for stage in Stage::ALL {
            let expected = matches!(
                stage,
                Stage::Assigned | Stage::InProgress | Stage::FeedbackSubmitted
            );
            assert_eq!(item_allows_tasks(stage).is_ok(), expected, "{stage:?}");
        }
        for stage in Stage::ALL {
            let expected = matches!(stage, Stage::Assigned | Stage::InProgress);
            assert_eq!(item_allows_hand_down(stage).is_ok(), expected, "{stage:?}");
        }
        assert!(check_hand_down(false, false).is_err());
        assert!(check_hand_down(true, true).is_err());
        assert!(check_hand_down(true, false).is_ok());
    }
}

/// Each unit's top-level unit (itself for a root), from (unit, parent) pairs: the board, the
/// standings and the monthly report count a sub-unit's parts under it (docs/rules.md §8). A
/// parent that is missing or a stored loop ends the climb where it is.
pub fn top_levels(units: impl IntoIterator<Item = (i64, Option<i64>)>) -> HashMap<i64, i64> {
    let parents: HashMap<i64, Option<i64>> = units.into_iter().collect();
    parents
        .keys()
        .map(|&unit| {
            let mut top = unit;
            // At most as deep as the organisation; the bound guards a stored loop.
            for _ in 0..16 {
                match parents.get(&top).copied().flatten() {
                    Some(parent) if parents.contains_key(&parent) => top = parent,
                    _ => break,
                }
            }
            (unit, top)
        })
        .collect()
}

#[cfg(test)]
mod top_level_tests {
    use super::top_levels;

    #[test]
    fn sub_units_count_under_their_top_level_unit() {
        let tops = top_levels([
            (1, None),
            (2, Some(1)),
            (3, Some(2)),
            (4, None),
            (5, Some(99)),
        ]);
        assert_eq!(tops[&1], 1);
        assert_eq!(tops[&2], 1);
        assert_eq!(tops[&3], 1);
        assert_eq!(tops[&4], 4);
        assert_eq!(tops[&5], 5, "a missing parent ends the climb");
        let looped = top_levels([(7, Some(8)), (8, Some(7))]);
        assert!(looped.contains_key(&7) && looped.contains_key(&8));
    }
}
