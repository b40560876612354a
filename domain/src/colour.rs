//! 蓝黄红 three-colour management. [000 Art.68] applies it to units with problems
//! ("实施“蓝黄红”三色管理，推动问题整改到位", with 通报 and 约谈); practice also colours each
//! item (docs/rules.md §3). Colours are derived at read time from deadlines,
//! extensions, suspensions, reports and verification history — never stored.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
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

/// The thresholds of the colour rules; an administrator can change them (each change is a
/// new version). Defaults are docs/rules.md §3's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ColourPolicy {
    /// BLUE when the due date is within this many working days.
    pub blue_within_working_days: i64,
    /// YELLOW when overdue by up to this many working days; RED beyond.
    pub red_after_overdue_working_days: i64,
    /// Feedback rejections that make an item YELLOW, and RED.
    pub yellow_rejections: i64,
    pub red_rejections: i64,
    /// Whether a failed 回头看 (reopen) makes an item RED.
    pub reopen_is_red: bool,
    /// Whether progress reports (due, missed) count.
    pub count_progress_reports: bool,
    /// Unit bands: on-time rate (percent) below which a unit is BLUE / YELLOW / RED.
    pub unit_blue_below_percent: f64,
    pub unit_yellow_below_percent: f64,
    pub unit_red_below_percent: f64,
    /// RED items that make a unit RED.
    pub unit_red_items_for_red: usize,
    /// Items closed in this many trailing days count towards a unit's on-time rate.
    pub on_time_window_days: i64,
}

impl Default for ColourPolicy {
    fn default() -> Self {
        ColourPolicy {
            blue_within_working_days: 1,
            red_after_overdue_working_days: 3,
            yellow_rejections: 1,
            red_rejections: 2,
            reopen_is_red: true,
            count_progress_reports: true,
            unit_blue_below_percent: 95.0,
            unit_yellow_below_percent: 90.0,
            unit_red_below_percent: 80.0,
            unit_red_items_for_red: 2,
            on_time_window_days: 90,
        }
    }
}

impl ColourPolicy {
    /// Thresholds must be ordered to mean anything; refuse a policy that is not.
    pub fn validate(&self) -> Result<(), String> {
        let counts_ok = self.blue_within_working_days >= 0
            && self.red_after_overdue_working_days >= 0
            && self.yellow_rejections >= 1
            && self.red_rejections >= self.yellow_rejections
            && self.unit_red_items_for_red >= 1
            && (1..=366).contains(&self.on_time_window_days);
        let bands_ok = (0.0..=100.0).contains(&self.unit_red_below_percent)
            && self.unit_red_below_percent <= self.unit_yellow_below_percent
            && self.unit_yellow_below_percent <= self.unit_blue_below_percent
            && self.unit_blue_below_percent <= 100.0;
        if counts_ok && bands_ok {
            Ok(())
        } else {
            Err("颜色规则的阈值不合理：应满足 红 ≤ 黄 ≤ 蓝 的按时率区间，退回次数红 ≥ 黄 ≥ 1，统计窗口1至366天".into())
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
    /// if it has one: it stops every unit's clock, so lateness is judged at that instant
    /// from then on.
    pub feedback_at: Option<DateTime<Utc>>,
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
}

/// The colour of being `overdue` working days late: YELLOW, RED past the policy's threshold.
fn lateness(policy: &ColourPolicy, overdue: i64) -> Colour {
    if overdue > policy.red_after_overdue_working_days {
        Colour::Red
    } else {
        Colour::Yellow
    }
}

/// The colour of one assignment at `now`.
pub fn assignment_colour(
    calendar: &Calendar,
    time_zone: Tz,
    policy: &ColourPolicy,
    facts: &AssignmentFacts,
    now: DateTime<Utc>,
) -> Verdict {
    let due = facts.extended_due_at.unwrap_or(facts.due_at);
    let due_date = due.with_timezone(&time_zone).date_naive();
    let extended = if facts.extended_due_at.is_some() {
        "（已批准延期）"
    } else {
        ""
    };
    // The working days in (due, at], at least one once the instant has passed.
    let late_by = |at: DateTime<Utc>| {
        calendar
            .working_days_between(due_date, at.with_timezone(&time_zone).date_naive())
            .value
            .max(1)
    };
    let late_feedback = facts.feedback_at.filter(|at| *at > due);
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
            return quiet(match late_feedback {
                Some(at) => format!(
                    "逾期办结：办结反馈晚于期限{}个工作日{extended}（期限{due_date}）",
                    late_by(at)
                ),
                None => "按期办结".into(),
            });
        }
        _ => {}
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
        if let Some(at) = late_feedback {
            let overdue = late_by(at);
            verdict = verdict.worse(Verdict {
                colour: lateness(policy, overdue),
                reason: format!("办结反馈逾期{overdue}个工作日{extended}（期限{due_date}）"),
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
    let today = now.with_timezone(&time_zone).date_naive();
    if now > due {
        let overdue = late_by(now);
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
    let due = facts.extended_due_at.unwrap_or(facts.due_at);
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

/// The progress-report state of an assignment still being worked on, if it has a cycle and
/// the report is due soon or missed; `None` otherwise. A report is due on its date (the
/// whole day counts), so it is missed from the next day on.
pub fn progress_report(
    calendar: &Calendar,
    time_zone: Tz,
    policy: &ColourPolicy,
    facts: &AssignmentFacts,
    now: DateTime<Utc>,
) -> Option<ProgressReport> {
    if !matches!(facts.stage, Stage::Assigned | Stage::InProgress) {
        return None;
    }
    let report_date = progress_report_date(calendar, time_zone, facts)?;
    let today = now.with_timezone(&time_zone).date_naive();
    if today > report_date {
        Some(ProgressReport::Missed(report_date))
    } else if calendar.working_days_between(today, report_date).value
        <= policy.blue_within_working_days
    {
        Some(ProgressReport::DueSoon(report_date))
    } else {
        None
    }
}

/// What a unit's colour depends on.
#[derive(Debug, Clone, Default)]
pub struct UnitFacts {
    /// (serial, colour) of the unit's open items.
    pub items: Vec<(String, Colour)>,
    /// Items closed in the window, and how many of them on time (against the extended due).
    pub closed: usize,
    pub closed_on_time: usize,
    /// The unit's colour in the previous period (the last published monthly report), for
    /// the "two periods running" rules.
    pub previous_colour: Option<Colour>,
    /// What the on-time rate covers, as the reason names it ("本月"); by default the
    /// policy's trailing window ("近90天").
    pub rate_period: Option<String>,
}

pub fn unit_colour(policy: &ColourPolicy, facts: &UnitFacts) -> Verdict {
    let list = |colour: Colour| -> Vec<&str> {
        facts
            .items
            .iter()
            .filter(|(_, c)| *c == colour)
            .map(|(s, _)| s.as_str())
            .collect()
    };
    let (red, yellow) = (list(Colour::Red), list(Colour::Yellow));
    let rate =
        (facts.closed > 0).then(|| facts.closed_on_time as f64 * 100.0 / facts.closed as f64);
    let rate_text = |r: f64| {
        let period = facts
            .rate_period
            .clone()
            .unwrap_or_else(|| format!("近{}天", policy.on_time_window_days));
        format!(
            "{period}按期办结率{:.1}%（{}/{}）",
            r, facts.closed_on_time, facts.closed
        )
    };
    let mut verdict = Verdict::none();
    if red.len() >= policy.unit_red_items_for_red {
        verdict = verdict.worse(Verdict {
            colour: Colour::Red,
            reason: format!("{}个红色事项：{}", red.len(), named_serials(&red)),
        });
    } else if !red.is_empty() {
        verdict = verdict.worse(Verdict {
            colour: Colour::Yellow,
            reason: format!("{}个红色事项：{}", red.len(), named_serials(&red)),
        });
    }
    if !yellow.is_empty() {
        verdict = verdict.worse(Verdict {
            colour: Colour::Blue,
            reason: format!("{}个黄色事项：{}", yellow.len(), named_serials(&yellow)),
        });
    }
    if let Some(r) = rate {
        let colour = if r < policy.unit_red_below_percent {
            Colour::Red
        } else if r < policy.unit_yellow_below_percent {
            Colour::Yellow
        } else if r < policy.unit_blue_below_percent {
            Colour::Blue
        } else {
            Colour::None
        };
        if colour != Colour::None {
            verdict = verdict.worse(Verdict {
                colour,
                reason: rate_text(r),
            });
        }
    }
    // docs/rules.md §3: BLUE two periods running makes YELLOW, YELLOW two running makes RED.
    // A unit that improved (RED last time, YELLOW now) is not pushed back up.
    match (facts.previous_colour, verdict.colour) {
        (Some(Colour::Blue), Colour::Blue) => {
            verdict = Verdict {
                colour: Colour::Yellow,
                reason: format!("连续两期蓝色（{}）", verdict.reason),
            };
        }
        (Some(Colour::Yellow), Colour::Yellow) => {
            verdict = Verdict {
                colour: Colour::Red,
                reason: format!("连续两期黄色（{}）", verdict.reason),
            };
        }
        _ => {}
    }
    verdict
}

/// Reasons name the items, but a unit with hundreds of red items gets the first few and
/// a count: the reason is read in a table cell, and every report repeats it.
const SERIALS_NAMED: usize = 5;

fn named_serials(serials: &[&str]) -> String {
    if serials.len() <= SERIALS_NAMED {
        serials.join("、")
    } else {
        format!("{}等", serials[..SERIALS_NAMED].join("、"))
    }
}

/// What each unit colour leads to ([000 Art.68]: 通报、约谈).
pub fn unit_measure(colour: Colour) -> &'static str {
    match colour {
        Colour::None => "",
        Colour::Blue => "提醒单位主要负责人",
        Colour::Yellow => "通报",
        Colour::Red => "约谈，并报分管区领导",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn facts(due: DateTime<Utc>) -> AssignmentFacts {
        AssignmentFacts {
            stage: Stage::InProgress,
            due_at: due,
            extended_due_at: None,
            rejections: 0,
            reopened: false,
            report_cycle_days: None,
            report_cycle_working_days: false,
            last_report_or_assigned_at: at(2026, 9, 29, 9),
            feedback_at: None,
        }
    }

    fn colour_at(f: &AssignmentFacts, now: DateTime<Utc>) -> Verdict {
        assignment_colour(
            &Calendar::national(),
            chrono_tz::Asia::Shanghai,
            &ColourPolicy::default(),
            f,
            now,
        )
    }

    #[test]
    fn a_late_completion_report_stops_the_clock_but_is_never_called_on_schedule() {
        let mut f = facts(at(2026, 10, 9, 18));
        // Feedback on 10-12, two working days late (10-10 is a make-up Saturday).
        f.feedback_at = Some(at(2026, 10, 12, 10));
        for stage in [Stage::FeedbackSubmitted, Stage::Verified] {
            f.stage = stage;
            let verdict = colour_at(&f, at(2026, 11, 20, 9));
            assert_eq!(
                verdict.colour,
                Colour::Yellow,
                "{stage:?}: frozen, not grown"
            );
            assert!(
                verdict.reason.contains("办结反馈逾期2个工作日"),
                "{stage:?}: {}",
                verdict.reason
            );
        }
        f.stage = Stage::Closed;
        let closed = colour_at(&f, at(2026, 11, 20, 9));
        assert_eq!(closed.colour, Colour::None, "closed items carry no colour");
        assert!(closed.reason.starts_with("逾期办结"), "{}", closed.reason);
        f.feedback_at = Some(at(2026, 10, 9, 10));
        assert_eq!(colour_at(&f, at(2026, 11, 20, 9)).reason, "按期办结");
        f.stage = Stage::Verified;
        let verified = colour_at(&f, at(2026, 11, 20, 9));
        assert_eq!(verified.colour, Colour::None);
        assert_ne!(verified.reason, "按期推进");
        for (stage, reason) in [
            (Stage::Suspended, "已挂起，计时暂停"),
            (Stage::Cancelled, "已撤销"),
            (Stage::Registered, "尚未交办"),
        ] {
            f.stage = stage;
            assert_eq!(colour_at(&f, at(2026, 11, 20, 9)).reason, reason);
        }
    }

    #[test]
    fn an_item_due_after_national_day_walks_from_none_to_red_on_working_days_only() {
        let f = facts(at(2026, 10, 9, 18));
        assert_eq!(
            colour_at(&f, at(2026, 9, 30, 9)).colour,
            Colour::None,
            "3 working days left"
        );
        // 10-08 is one working day before 10-09: BLUE, though a week of holiday lies behind.
        assert_eq!(colour_at(&f, at(2026, 10, 8, 9)).colour, Colour::Blue);
        assert_eq!(
            colour_at(&f, at(2026, 10, 9, 19)).colour,
            Colour::Yellow,
            "past 18:00 on the day"
        );
        // Overdue days are the working days in (due, today]: the 调休 Saturday 10-10 is the
        // first, 10-12 the second, 10-13 the third; 10-14 is the fourth → RED.
        let saturday = colour_at(&f, at(2026, 10, 10, 9));
        assert!(
            saturday.reason.contains("已逾期1个工作日"),
            "{}",
            saturday.reason
        );
        assert_eq!(
            colour_at(&f, at(2026, 10, 11, 9)).reason,
            saturday.reason,
            "Sunday adds nothing"
        );
        let yellow = colour_at(&f, at(2026, 10, 13, 9));
        assert_eq!(yellow.colour, Colour::Yellow);
        assert!(
            yellow.reason.contains("已逾期3个工作日"),
            "{}",
            yellow.reason
        );
        assert_eq!(colour_at(&f, at(2026, 10, 14, 9)).colour, Colour::Red);
    }

    #[test]
    fn progress_reports_fall_due_on_working_days_only() {
        let tz = chrono_tz::Asia::Shanghai;
        let calendar = Calendar::national();
        let mut f = facts(at(2026, 12, 31, 18));
        f.report_cycle_days = Some(7);
        f.last_report_or_assigned_at = at(2026, 9, 29, 10);
        // 09-29 + 7 days is 10-06, inside National Day: rolled forward to 10-08.
        let date = progress_report_date(&calendar, tz, &f);
        assert_eq!(date, NaiveDate::from_ymd_opt(2026, 10, 8));
        let policy = ColourPolicy::default();
        assert_eq!(
            progress_report(&calendar, tz, &policy, &f, at(2026, 10, 8, 8)),
            date.map(ProgressReport::DueSoon),
            "on the first working day after the holiday the report is due, not missed"
        );
        assert_eq!(
            progress_report(&calendar, tz, &policy, &f, at(2026, 10, 9, 8)),
            date.map(ProgressReport::Missed)
        );
        // Seven working days from 09-29: 09-30, 10-08, 10-09, the 调休 Saturday 10-10, 10-12,
        // 10-13, 10-14.
        f.report_cycle_working_days = true;
        assert_eq!(
            progress_report_date(&calendar, tz, &f),
            NaiveDate::from_ymd_opt(2026, 10, 14)
        );
    }

    #[test]
    fn an_approved_extension_moves_the_line_and_says_so() {
        let mut f = facts(at(2026, 10, 9, 18));
        f.extended_due_at = Some(at(2026, 11, 13, 18));
        let verdict = colour_at(&f, at(2026, 10, 20, 9));
        assert_eq!(verdict.colour, Colour::None);
        let blue = colour_at(&f, at(2026, 11, 12, 9));
        assert_eq!(blue.colour, Colour::Blue);
        assert!(blue.reason.contains("已批准延期"));
    }

    #[test]
    fn rejections_reopens_and_missed_reports_raise_the_colour() {
        let mut f = facts(at(2026, 12, 31, 18));
        f.rejections = 1;
        assert_eq!(colour_at(&f, at(2026, 11, 2, 9)).colour, Colour::Yellow);
        f.rejections = 2;
        assert_eq!(colour_at(&f, at(2026, 11, 2, 9)).colour, Colour::Red);
        f.rejections = 0;
        f.reopened = true;
        assert_eq!(colour_at(&f, at(2026, 11, 2, 9)).colour, Colour::Red);
        f.reopened = false;
        f.report_cycle_days = Some(30);
        let missed = colour_at(&f, at(2026, 11, 2, 9));
        assert_eq!(missed.colour, Colour::Yellow);
        assert!(missed.reason.contains("未按期报送进展"));
        f.stage = Stage::Suspended;
        assert_eq!(
            colour_at(&f, at(2027, 3, 1, 9)).colour,
            Colour::None,
            "the clock is paused"
        );
    }

    #[test]
    fn units_are_coloured_by_their_items_and_on_time_rate_with_the_items_named() {
        let policy = ColourPolicy::default();
        let mut facts = UnitFacts {
            items: vec![
                ("督〔2026〕1号".into(), Colour::Red),
                ("督〔2026〕2号".into(), Colour::Yellow),
            ],
            closed: 10,
            closed_on_time: 10,
            ..UnitFacts::default()
        };
        let one_red = unit_colour(&policy, &facts);
        assert_eq!(one_red.colour, Colour::Yellow);
        assert_eq!(one_red.reason, "1个红色事项：督〔2026〕1号");
        facts.items.push(("督〔2026〕3号".into(), Colour::Red));
        let two_red = unit_colour(&policy, &facts);
        assert_eq!(two_red.colour, Colour::Red);
        assert!(two_red.reason.contains("督〔2026〕1号、督〔2026〕3号"));
        for n in 4..=9 {
            facts.items.push((format!("督〔2026〕{n}号"), Colour::Red));
        }
        assert_eq!(
            unit_colour(&policy, &facts).reason,
            "8个红色事项：督〔2026〕1号、督〔2026〕3号、督〔2026〕4号、督〔2026〕5号、督〔2026〕6号等",
            "the first five and a count"
        );
        let rate = unit_colour(
            &policy,
            &UnitFacts {
                items: vec![],
                closed: 10,
                closed_on_time: 7,
                ..UnitFacts::default()
            },
        );
        assert_eq!(rate.colour, Colour::Red);
        assert!(rate.reason.contains("70.0%"));
        assert_eq!(
            unit_colour(&policy, &UnitFacts::default()).colour,
            Colour::None
        );
        assert_eq!(unit_measure(Colour::Yellow), "通报");
    }

    #[test]
    fn two_periods_running_raise_a_unit_by_one_colour_but_improvement_is_not_punished() {
        let policy = ColourPolicy::default();
        let blue_now = UnitFacts {
            items: vec![("督〔2026〕2号".into(), Colour::Yellow)],
            ..UnitFacts::default()
        };
        assert_eq!(unit_colour(&policy, &blue_now).colour, Colour::Blue);
        let twice_blue = unit_colour(
            &policy,
            &UnitFacts {
                previous_colour: Some(Colour::Blue),
                ..blue_now.clone()
            },
        );
        assert_eq!(twice_blue.colour, Colour::Yellow);
        assert!(
            twice_blue.reason.starts_with("连续两期蓝色"),
            "{}",
            twice_blue.reason
        );
        let yellow_now = UnitFacts {
            items: vec![("督〔2026〕1号".into(), Colour::Red)],
            ..UnitFacts::default()
        };
        let twice_yellow = unit_colour(
            &policy,
            &UnitFacts {
                previous_colour: Some(Colour::Yellow),
                ..yellow_now.clone()
            },
        );
        assert_eq!(twice_yellow.colour, Colour::Red);
        let improved = unit_colour(
            &policy,
            &UnitFacts {
                previous_colour: Some(Colour::Red),
                ..yellow_now
            },
        );
        assert_eq!(improved.colour, Colour::Yellow);
        let recovered = unit_colour(
            &policy,
            &UnitFacts {
                previous_colour: Some(Colour::Blue),
                ..UnitFacts::default()
            },
        );
        assert_eq!(recovered.colour, Colour::None);
    }

    /// Walks each case through three weeks around its due instant (every hour, plus each
    /// midnight and the due instant, a nanosecond either side): wherever the verdict changes
    /// between two instants, the earlier one's `verdict_holds_until` must have ended by then.
    #[test]
    fn a_verdict_is_kept_no_longer_than_it_holds() {
        let tz = chrono_tz::Asia::Shanghai;
        let due = at(2026, 10, 9, 18);
        let one_ns = chrono::TimeDelta::nanoseconds(1);
        let calendar = Calendar::national();
        let policy = ColourPolicy::default();
        let colour_at = |f, now| assignment_colour(&calendar, tz, &policy, f, now);
        let mut cases = Vec::new();
        for stage in [Stage::InProgress, Stage::FeedbackSubmitted, Stage::Closed] {
            let mut f = facts(due);
            f.stage = stage;
            cases.push(f.clone());
            f.extended_due_at = Some(at(2026, 10, 14, 9));
            f.feedback_at = Some(at(2026, 10, 16, 10));
            cases.push(f.clone());
            f.extended_due_at = None;
            f.feedback_at = None;
            f.report_cycle_days = Some(5);
            cases.push(f.clone());
            f.report_cycle_working_days = true;
            cases.push(f);
        }
        let start = at(2026, 9, 28, 0);
        let mut instants: Vec<DateTime<Utc>> = (0..24 * 21)
            .map(|h| start + chrono::TimeDelta::hours(h))
            .collect();
        for day in 0..21 {
            let midnight = start + chrono::TimeDelta::days(day);
            instants.extend([midnight - one_ns, midnight]);
        }
        for f in &cases {
            let mut these = instants.clone();
            for d in [Some(f.due_at), f.extended_due_at].into_iter().flatten() {
                these.extend([d - one_ns, d, d + one_ns]);
            }
            these.sort();
            these.dedup();
            let mut changes = 0;
            for pair in these.windows(2) {
                let (before, after) = (pair[0], pair[1]);
                if colour_at(f, before) != colour_at(f, after) {
                    changes += 1;
                    let until = verdict_holds_until(tz, f, before);
                    assert!(
                        until <= after,
                        "{f:?}: kept from {before} until {until}, but changed by {after}"
                    );
                }
                assert!(verdict_holds_until(tz, f, before) > before);
            }
            if f.stage == Stage::InProgress {
                assert!(changes > 3, "{f:?}: the walk saw the verdict change");
            }
        }
    }

    #[test]
    fn a_midnight_that_a_clock_change_skips_still_ends_the_stretch() {
        // Chile's summer time began at 00:00 on 2026-09-06: that midnight never happened.
        let santiago = chrono_tz::America::Santiago;
        let now = santiago
            .with_ymd_and_hms(2026, 9, 5, 23, 30, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .expect("an instant");
        let until = verdict_holds_until(santiago, &facts(at(2026, 8, 1, 9)), now);
        assert!(
            until > now && until <= now + chrono::TimeDelta::hours(1),
            "{until}"
        );
    }

    #[test]
    fn policies_with_disordered_thresholds_are_refused() {
        assert!(ColourPolicy::default().validate().is_ok());
        let bad = ColourPolicy {
            unit_red_below_percent: 96.0,
            ..ColourPolicy::default()
        };
        assert!(bad.validate().is_err());
        let bad = ColourPolicy {
            red_rejections: 0,
            ..ColourPolicy::default()
        };
        assert!(bad.validate().is_err());
    }
}
