//! 蓝黄红 three-colour management. [000 Art.68] applies it to units with problems
//! ("实施“蓝黄红”三色管理，推动问题整改到位", with 通报 and 约谈); practice also colours each
//! item (docs/rules.md §3). Colours are derived at read time from deadlines,
//! extensions, suspensions, reports and verification history — never stored.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use ducha_calendar::Calendar;
use serde::{Deserialize, Serialize};

use crate::Stage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Colour {
    None,
    Blue,
    Yellow,
    Red,
}

impl Colour {
    pub fn label(self) -> &'static str {
        match self {
            Colour::None => "正常",
            Colour::Blue => "蓝色",
            Colour::Yellow => "黄色",
            Colour::Red => "红色",
        }
    }
}

/// What an assignment's colour depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentFacts {
    pub stage: Stage,
    pub due_at: DateTime<Utc>,
    pub extended_due_at: Option<DateTime<Utc>>,
    /// Feedback rejections (退回重办) of the item.
    pub rejections: i64,
    /// A 回头看 found the problem back.
    pub reopened: bool,
    /// The item's progress-report cycle, and when the clock for the next report started
    /// (the last report, or the assignment).
    pub report_cycle_days: Option<i32>,
    /// Whether the cycle counts working days (每N个工作日) rather than calendar days.
    pub report_cycle_working_days: bool,
    pub last_report_or_assigned_at: DateTime<Utc>,
    /// When the item's latest completion report (办结反馈, filed by the lead unit) came in,
    /// if it has one: it stops the lead's clock, so lateness is judged at that instant
    /// from then on.
    pub feedback_at: Option<DateTime<Utc>>,
    /// Whether this is the lead unit's assignment (牵头) or a co-unit's (协办).
    pub lead: bool,
    /// When the lead's first completion report came in. A co-unit answers for its own part
    /// (docs/rules.md §3): its part is done when it reports it, or when the lead first
    /// reports the whole done, and the lead's rework and 回头看 are the lead's.
    pub first_feedback_at: Option<DateTime<Utc>>,
    /// This assignment's own latest report, if it filed one: a co-unit delivers its part by
    /// reporting it.
    pub own_report_at: Option<DateTime<Utc>>,
}

impl AssignmentFacts {
    /// The due in force: the extended one once an extension was approved.
    pub fn due_in_force(&self) -> DateTime<Utc> {
        self.extended_due_at.unwrap_or(self.due_at)
    }

    /// The instant the assignment's clock stopped for good, if it has: the lead's at its
    /// latest completion report while that report stands (handed in, verified or closed); a
    /// co-unit's at its own latest report, or at the lead's first completion report when
    /// that came first (a co-unit that never reported has its part judged then).
    pub fn clock_stopped_at(&self) -> Option<DateTime<Utc>> {
        if self.lead {
            let handed_in = matches!(
                self.stage,
                Stage::FeedbackSubmitted | Stage::Verified | Stage::Closed
            );
            self.feedback_at.filter(|_| handed_in)
        } else {
            let lead_done = self.first_feedback_at.or(self.feedback_at.filter(|_| {
                matches!(
                    self.stage,
                    Stage::FeedbackSubmitted | Stage::Verified | Stage::Closed
                )
            }));
            match (self.own_report_at, lead_done) {
                (Some(own), Some(lead)) => Some(own.min(lead)),
                (own, lead) => own.or(lead),
            }
        }
    }
}

/// A colour and why, in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub colour: Colour,
    pub reason: String,
}

impl Verdict {
    fn none() -> Verdict {
        Verdict {
            colour: Colour::None,
            reason: "按期推进".into(),
        }
    }

    fn worse(self, other: Verdict) -> Verdict {
        if other.colour > self.colour {
            other
        } else {
            self
        }
    }
}

/// The colours of one item: its own (the worst of its live assignments') and each live
/// assignment's.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemColours {
    pub item: Verdict,
    /// By assignment id. An item has a few (ordered maps of a few keys are searched faster
    /// than a hash is computed: a page looks these up for every assignment it shows).
    pub by_assignment: BTreeMap<i64, Verdict>,
    /// The worst verdict of each unit's assignments, by unit id: what people of that unit
    /// see ([000 Art.68] names the unit, not the item).
    pub by_unit: BTreeMap<i64, Verdict>,
}

impl ItemColours {
    /// An item's colours before any assignment is judged: an item not yet assigned says so.
    pub fn placeholder(stage: Stage) -> ItemColours {
        ItemColours {
            item: if stage == Stage::Registered {
                Verdict {
                    colour: Colour::None,
                    reason: "尚未交办".into(),
                }
            } else {
                Verdict::none()
            },
            by_assignment: BTreeMap::new(),
            by_unit: BTreeMap::new(),
        }
    }

    /// Counts one live assignment's verdict: the worst is the item's, and the first one
    /// replaces the placeholder, so that an uncoloured item says why (按期办结, 已挂起…).
    pub fn add(&mut self, assignment_id: i64, unit_id: i64, verdict: Verdict) {
        if self.by_assignment.is_empty() || verdict.colour > self.item.colour {
            self.item = verdict.clone();
        }
        match self.by_unit.get(&unit_id) {
            Some(held) if held.colour >= verdict.colour => {}
            _ => {
                self.by_unit.insert(unit_id, verdict.clone());
            }
        }
        self.by_assignment.insert(assignment_id, verdict);
    }

    /// Rolls a task of the live assignment `assignment_id` (of `unit_id`) into it
    /// (docs/rules.md §8): the part, its unit's and the item's verdicts take the task's when
    /// it is worse, the reason naming the sub-unit. Tasks of a part not counted are left out.
    pub fn add_task(&mut self, assignment_id: i64, unit_id: i64, sub_unit: &str, verdict: Verdict) {
        let Some(held) = self.by_assignment.get(&assignment_id) else {
            return;
        };
        if verdict.colour <= held.colour {
            return;
        }
        let rolled = rolled_up(held.clone(), sub_unit, verdict);
        self.add(assignment_id, unit_id, rolled);
    }

    /// What a unit holding a task of the item (and no part) sees as the item's colour: the
    /// worst of its task's and those below it (§8), kept apart from the item's own.
    pub fn add_for_unit(&mut self, unit_id: i64, verdict: Verdict) {
        match self.by_unit.get(&unit_id) {
            Some(held) if held.colour >= verdict.colour => {}
            _ => {
                self.by_unit.insert(unit_id, verdict);
            }
        }
    }
}

/// The colour of being `overdue` working days late: YELLOW, RED past the policy's threshold.
fn lateness(policy: &ColourPolicy, overdue: i64) -> Colour {
    if overdue > policy.red_after_overdue_working_days {
        Colour::Red
    } else {
        Colour::Yellow
    }
}

/// Working days late at `at`: the working days in (due, at] once `at` is past the due in
/// force, at least one; zero before. The one count every lateness figure uses (the reason,
/// the red and yellow lists, the overdue filter's sort).
fn late_by(calendar: &Calendar, time_zone: Tz, due: DateTime<Utc>, at: DateTime<Utc>) -> i64 {
    if at <= due {
        return 0;
    }
    let due_date = due.with_timezone(&time_zone).date_naive();
    calendar
        .working_days_between(due_date, at.with_timezone(&time_zone).date_naive())
        .value
        .max(1)
}

/// How many working days late the assignment is at `now`, as its colour's reason states it:
/// counted to the instant its clock stopped (docs/rules.md §3), or to `now` while it runs.
/// Zero for an assignment on time, and for stages whose clock does not run.
pub fn working_days_late(
    calendar: &Calendar,
    time_zone: Tz,
    facts: &AssignmentFacts,
    now: DateTime<Utc>,
) -> i64 {
    if matches!(
        facts.stage,
        Stage::Registered | Stage::Suspended | Stage::Cancelled
    ) {
        return 0;
    }
    let until = facts.clock_stopped_at().unwrap_or(now);
    late_by(calendar, time_zone, facts.due_in_force(), until)
}

/// Overdue (逾期未办结): work still owed past the due in force at `at` — the clock runs (assigned
/// or in progress, and for a co-unit before the lead's first completion report) and the due
/// has passed. An item whose late report waits on the office is late but not overdue: the
/// unit owes nothing more, and its lateness stays in its colour (docs/rules.md §3). The one
/// definition the filters, the board and the report use.
pub fn is_overdue(facts: &AssignmentFacts, at: DateTime<Utc>) -> bool {
    matches!(facts.stage, Stage::Assigned | Stage::InProgress)
        && facts.clock_stopped_at().is_none()
        && facts.due_in_force() < at
}

/// The due in force, its local date, and the words a reason adds when it was extended.
fn due_words(facts: &AssignmentFacts, time_zone: Tz) -> (DateTime<Utc>, NaiveDate, &'static str) {
    let due = facts.due_in_force();
    let extended = if facts.extended_due_at.is_some() {
        "（已批准延期）"
    } else {
        ""
    };
    (due, due.with_timezone(&time_zone).date_naive(), extended)
}

/// The colour of one assignment at `now`.
pub fn assignment_colour(
    calendar: &Calendar,
    time_zone: Tz,
    policy: &ColourPolicy,
    facts: &AssignmentFacts,
    now: DateTime<Utc>,
) -> Verdict {
    let (due, due_date, extended) = due_words(facts, time_zone);
    let stopped = facts.clock_stopped_at();
    let late_at_stop = stopped
        .map(|at| late_by(calendar, time_zone, due, at))
        .filter(|late| *late > 0);
    // Stages where the clock does not run say what they are, never "on schedule".
    let quiet = |reason: String| Verdict {
        colour: Colour::None,
        reason,
    };
    match facts.stage {
        Stage::Registered => return quiet("尚未交办".into()),
        Stage::Suspended => return quiet("已挂起，计时暂停".into()),
        Stage::Cancelled => return quiet("已撤销".into()),
        // Closed items keep on-time or late instead of a colour (docs/rules.md §3).
        Stage::Closed => {
            return quiet(match (late_at_stop, facts.lead) {
                (Some(late), true) => {
                    format!("逾期办结：办结反馈晚于期限{late}个工作日{extended}（期限{due_date}）")
                }
                (Some(late), false) => format!(
                    "逾期办结：协办部分晚于期限{late}个工作日报送{extended}（期限{due_date}）"
                ),
                (None, _) => "按期办结".into(),
            });
        }
        _ => {}
    }
    // A co-unit's part ends at its own report, or at the lead's first completion report if
    // that comes first: judged then, for good.
    if !facts.lead {
        if stopped.is_some() {
            return match late_at_stop {
                Some(late) => Verdict {
                    colour: lateness(policy, late),
                    reason: format!("协办部分逾期{late}个工作日报送{extended}（期限{due_date}）"),
                },
                None => quiet("协办部分已按期报送".into()),
            };
        }
        return running_clock(calendar, time_zone, policy, facts, now, Verdict::none());
    }
    let mut verdict = Verdict::none();
    if facts.reopened && policy.reopen_is_red {
        verdict = verdict.worse(Verdict {
            colour: Colour::Red,
            reason: "回头看发现问题，事项重新办理".into(),
        });
    }
    if facts.rejections >= policy.red_rejections {
        verdict = verdict.worse(Verdict {
            colour: Colour::Red,
            reason: format!("办结反馈被退回重办{}次", facts.rejections),
        });
    } else if facts.rejections >= policy.yellow_rejections {
        verdict = verdict.worse(Verdict {
            colour: Colour::Yellow,
            reason: format!("办结反馈被退回重办{}次", facts.rejections),
        });
    }
    // Once the unit has reported completion, the clock stops: lateness is what it was when
    // the report came in, and no longer grows.
    if !matches!(facts.stage, Stage::Assigned | Stage::InProgress) {
        if let Some(late) = late_at_stop {
            verdict = verdict.worse(Verdict {
                colour: lateness(policy, late),
                reason: format!("办结反馈逾期{late}个工作日{extended}（期限{due_date}）"),
            });
        } else if verdict.colour == Colour::None {
            verdict.reason = match facts.stage {
                Stage::Verified => "已按期反馈并通过核查，待销号".into(),
                _ if facts.feedback_at.is_some() => "已按期反馈，待核查".into(),
                _ => "主办单位已反馈，待核查".into(),
            };
        }
        return verdict;
    }
    running_clock(calendar, time_zone, policy, facts, now, verdict)
}

/// The colour of an assignment whose clock runs: late, due soon, or a progress report due
/// or missed, on top of what `verdict` already holds.
fn running_clock(
    calendar: &Calendar,
    time_zone: Tz,
    policy: &ColourPolicy,
    facts: &AssignmentFacts,
    now: DateTime<Utc>,
    mut verdict: Verdict,
) -> Verdict {
    let (due, due_date, extended) = due_words(facts, time_zone);
    let today = now.with_timezone(&time_zone).date_naive();
    if now > due {
        let overdue = late_by(calendar, time_zone, due, now);
        verdict = verdict.worse(Verdict {
            colour: lateness(policy, overdue),
            reason: format!("已逾期{overdue}个工作日{extended}（期限{due_date}）"),
        });
    } else {
        let left = calendar.working_days_between(today, due_date).value;
        if left <= policy.blue_within_working_days {
            verdict = verdict.worse(Verdict {
                colour: Colour::Blue,
                reason: if left <= 0 {
                    format!("今日到期{extended}（期限{due_date}）")
                } else {
                    format!("{left}个工作日内到期{extended}（期限{due_date}）")
                },
            });
        }
    }
    if policy.count_progress_reports {
        match progress_report(calendar, time_zone, policy, facts, now) {
            Some(ProgressReport::Missed(report_date)) => {
                verdict = verdict.worse(Verdict {
                    colour: Colour::Yellow,
                    reason: format!("未按期报送进展（应于{report_date}前报送）"),
                });
            }
            Some(ProgressReport::DueSoon(report_date)) => {
                verdict = verdict.worse(Verdict {
                    colour: Colour::Blue,
                    reason: format!("进展报告将于{report_date}到期"),
                });
            }
            None => {}
        }
    }
    verdict
}

/// The end of the stretch of time from `now` over which `assignment_colour` gives the verdict
/// it gives at `now` (exclusive: the verdict holds at every instant in `[now, until)`).
///
/// The verdict reads the clock in two ways only: the local date (days late, days left, the
/// progress report's date), and whether the due instant has passed. So it holds until the
/// next local midnight, or until just after the due instant while that is still ahead.
/// Those who show colours many times over keep a verdict this long rather than judge the
/// same facts again (issue 14: a page's colours cost no more than a fifth of its time).
pub fn verdict_holds_until(
    time_zone: Tz,
    facts: &AssignmentFacts,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    // Where a clock change skips midnight (America/Santiago), an hour on: a shorter stretch
    // is always safe, a longer one is not.
    let next_midnight = now
        .with_timezone(&time_zone)
        .date_naive()
        .succ_opt()
        .and_then(|tomorrow| {
            tomorrow
                .and_time(chrono::NaiveTime::MIN)
                .and_local_timezone(time_zone)
                .earliest()
        })
        .map_or(now + chrono::TimeDelta::hours(1), |midnight| {
            midnight.with_timezone(&Utc)
        });
    let due = facts.due_in_force();
    // A progress report due today is missed just after today's cut-off.
    let today = now.with_timezone(&time_zone).date_naive();
    let after_cutoff =
        progress_report_due(time_zone, facts, today) + chrono::TimeDelta::nanoseconds(1);
    let next_midnight = if facts.report_cycle_days.is_some() && now < after_cutoff {
        next_midnight.min(after_cutoff)
    } else {
        next_midnight
    };
    if now <= due {
        // At the due instant itself the assignment is not yet late.
        let just_after_due = due + chrono::TimeDelta::nanoseconds(1);
        next_midnight.min(just_after_due)
    } else {
        next_midnight
    }
}

/// Where an assignment stands with its periodic progress report (定期报告进展), keyed by the
/// local date the current report is due — each cycle has its own date, so a reminder per
/// cycle can be told apart from the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressReport {
    /// Due within the BLUE window.
    DueSoon(chrono::NaiveDate),
    /// The due instant has passed with no report.
    Missed(chrono::NaiveDate),
}

/// The local date the current progress report is due: the cycle counted from the local date
/// of the last report (or the assignment), in calendar days rolled forward onto a working
/// day, or in working days. A report never falls due on a day off: a unit must have had a
/// working day to file it (a 7-day cycle from 2026-09-29 is due on 10-08, not on National
/// Day's 10-06). `None` without a cycle, or beyond the calendar's range.
pub fn progress_report_date(
    calendar: &Calendar,
    time_zone: Tz,
    facts: &AssignmentFacts,
) -> Option<chrono::NaiveDate> {
    let cycle = facts.report_cycle_days.filter(|days| *days > 0)?;
    let start = facts
        .last_report_or_assigned_at
        .with_timezone(&time_zone)
        .date_naive();
    if facts.report_cycle_working_days {
        calendar
            .add_working_days(start, cycle)
            .ok()
            .map(|d| d.value)
    } else {
        let date = start.checked_add_days(chrono::Days::new(u64::try_from(cycle).ok()?))?;
        calendar.roll_forward(date).ok().map(|d| d.value)
    }
}

/// The instant a progress report falls due on `report_date`: at the time of day the item's
/// own due falls, which for every rule counted in days is the office cut-off (18:00 by
/// default, docs/rules.md §2) — one cut-off for everything a unit owes.
pub fn progress_report_due(
    time_zone: Tz,
    facts: &AssignmentFacts,
    report_date: NaiveDate,
) -> DateTime<Utc> {
    let cutoff = facts.due_in_force().with_timezone(&time_zone).time();
    report_date
        .and_time(cutoff)
        .and_local_timezone(time_zone)
        .earliest()
        .map_or_else(
            || {
                report_date
                    .succ_opt()
                    .and_then(|d| {
                        d.and_time(chrono::NaiveTime::MIN)
                            .and_local_timezone(time_zone)
                            .earliest()
                    })
                    .map_or(facts.due_in_force(), |t| t.with_timezone(&Utc))
            },
            |t| t.with_timezone(&Utc),
        )
}

/// The progress-report state of an assignment still being worked on, if it has a cycle and
/// the report is due soon or missed; `None` otherwise. A report is due on its date at the
/// cut-off (`progress_report_due`), and missed after it.
pub fn progress_report(
    calendar: &Calendar,
    time_zone: Tz,
    policy: &ColourPolicy,
    facts: &AssignmentFacts,
    now: DateTime<Utc>,
) -> Option<ProgressReport> {
    if !matches!(facts.stage, Stage::Assigned | Stage::InProgress)
        || facts.clock_stopped_at().is_some()
    {
        return None;
    }
    let report_date = progress_report_date(calendar, time_zone, facts)?;
    let today = now.with_timezone(&time_zone).date_naive();
    if now > progress_report_due(time_zone, facts, report_date) {
        Some(ProgressReport::Missed(report_date))
    } else if calendar.working_days_between(today, report_date).value
        <= policy.blue_within_working_days
    {
        Some(ProgressReport::DueSoon(report_date))
    } else {
        None
    }
}

mod policy;
mod rollup;
mod unit;

pub use policy::ColourPolicy;
pub use rollup::{TaskFacts, rolled_up, task_colour, task_colour_holds_until};
pub use unit::{UnitFacts, unit_colour, unit_measure};

#[cfg(test)]
mod tests;
