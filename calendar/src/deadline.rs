//! Deadline rules on top of the working-day engine: "3个工作日内", "10天", "24小时",
//! "2个月", or a fixed date, turned into a due instant that explains itself.
//!
//! Counting follows the Civil Code (Arts. 201–203): the start day is not counted, and a
//! period that ends on a rest day ends on the next working day. Working-day periods end at
//! the office cut-off (default 18:00 local time) of their last day; hour periods are wall
//! clock ([004 Art.71]: 24/48-hour reading limits) and never roll.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;

use crate::CalendarError;
use crate::data::{Origin, SpecialKind};
use crate::engine::Calendar;
use crate::statutory;

/// How long an item has, as the seeds and leaders word it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum DeadlineRule {
    /// N working days after the start day ([000 Art.67]: 批示件 3个工作日内落实并反馈).
    /// Negative N counts backwards ([000 Art.48]: 会前3个工作日).
    WorkingDays(i32),
    /// N calendar days, rolled forward onto a working day; backwards (N < 0), rolled back
    /// onto the working day before, so that "会前3天" never lands on the meeting's side.
    CalendarDays(i32),
    /// N hours of wall-clock time from the start instant.
    Hours(i32),
    /// The same day N months later (clamped to the month's end), rolled forward
    /// ([002 Art.60]: 1个月内, 特殊情况不得超过2个月).
    Months(i32),
    /// A date stated on the item; kept as given ([003 Art.53]: 有明确上报时限的按时限上报).
    FixedDate(NaiveDate),
}

impl fmt::Display for DeadlineRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeadlineRule::WorkingDays(n) => write!(f, "{n}个工作日"),
            DeadlineRule::CalendarDays(n) => write!(f, "{n}天"),
            DeadlineRule::Hours(n) => write!(f, "{n}小时"),
            DeadlineRule::Months(n) => write!(f, "{n}个月"),
            DeadlineRule::FixedDate(d) => write!(f, "{d}"),
        }
    }
}

impl FromStr for DeadlineRule {
    type Err = CalendarError;

    /// Accepts the canonical forms printed by `Display` and the usual variants:
    /// `3个工作日`, `3个工作日内`, `3工作日`, `10天`, `10日`, `10个自然日`, `24小时`,
    /// `2个月`, `2月`, `-3个工作日`, `会前3个工作日`, `会前3天`, `2026-10-15`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || CalendarError::BadRule(text.to_string());
        let trimmed = text.trim();
        if let Ok(date) = NaiveDate::parse_from_str(trimmed, "%Y-%m-%d") {
            return Ok(DeadlineRule::FixedDate(date));
        }
        let body = trimmed.strip_suffix('内').unwrap_or(trimmed);
        // 会前N天 / 会前N个工作日 ([000 Art.48]) count back from the meeting.
        let (body, backwards) = match body.strip_prefix("会前") {
            Some(rest) if !rest.starts_with(['-', '+']) => (rest, true),
            Some(_) => return Err(bad()),
            None => (body, false),
        };
        let digits_end = body
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
            .map(|(i, _)| i)
            .ok_or_else(bad)?;
        let (number, unit) = body.split_at(digits_end);
        let n: i32 = number.parse().map_err(|_| bad())?;
        let n = if backwards { -n } else { n };
        let unit = unit.trim();
        let unit = unit.strip_prefix('个').unwrap_or(unit);
        match unit {
            "工作日" => Ok(DeadlineRule::WorkingDays(n)),
            "天" | "日" | "自然日" | "日历日" => Ok(DeadlineRule::CalendarDays(n)),
            "小时" => Ok(DeadlineRule::Hours(n)),
            "月" => Ok(DeadlineRule::Months(n)),
            _ => Err(bad()),
        }
    }
}

/// Where the office's day ends, in which time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlinePolicy {
    pub time_zone: Tz,
    /// Working-day and calendar-day periods end at this local time (default 18:00).
    pub cutoff: NaiveTime,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        DeadlinePolicy {
            time_zone: chrono_tz::Asia::Shanghai,
            cutoff: NaiveTime::from_hms_opt(18, 0, 0).unwrap_or(NaiveTime::MIN),
        }
    }
}

/// A day the deadline's count passed over that was not an ordinary weekday or weekend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CrossedDay {
    pub date: NaiveDate,
    pub name: String,
    /// `Off` for a holiday day off, `Work` for a 调休 working weekend.
    pub kind: SpecialKind,
    /// True for a jurisdiction's local override, false for the national notice.
    pub local: bool,
    /// True for a statutory holiday (or 补假) assumed from the law in a year whose notice is
    /// not out yet. Absent in explanations stored before assumed days existed.
    #[serde(default)]
    pub assumed: bool,
}

/// Why the due instant is what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Explanation {
    pub rule: DeadlineRule,
    pub start_date: NaiveDate,
    /// The date the rule reached before rolling onto a working day, when it rolled.
    pub rolled_from: Option<NaiveDate>,
    pub crossed: Vec<CrossedDay>,
    /// Years on the way without a published notice: counted with the law's holidays and
    /// no 调休 (the `assumed` days of `crossed`), or with weekends only past the years the
    /// calendar assumes holidays for.
    pub provisional_years: Vec<i32>,
    /// A sentence in Chinese for people.
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Deadline {
    pub due_at: DateTime<Utc>,
    /// The due date in the policy's time zone.
    pub due_date: NaiveDate,
    pub provisional: bool,
    pub calendar_version: String,
    pub explanation: Explanation,
}

/// The widest periods accepted: ten years either way, as no supervision rule comes near.
const MAX_WORKING_DAYS: i32 = 2_500;
const MAX_CALENDAR_DAYS: i32 = 3_660;
const MAX_MONTHS: i32 = 120;
const MAX_HOURS: i32 = 8_784;

impl DeadlineRule {
    /// Refuses periods no supervision rule has (more than ten years either way, zero-length
    /// hour periods), before any date arithmetic runs on them.
    pub fn check_bounds(self) -> Result<DeadlineRule, CalendarError> {
        let (amount, max, limit) = match self {
            DeadlineRule::WorkingDays(n) => (n, MAX_WORKING_DAYS, "工作日数应在±2500以内"),
            DeadlineRule::CalendarDays(n) => (n, MAX_CALENDAR_DAYS, "天数应在±3660以内"),
            DeadlineRule::Months(n) => (n, MAX_MONTHS, "月数应在±120以内"),
            DeadlineRule::Hours(0) => (1, 0, "小时数不能为0"),
            DeadlineRule::Hours(n) => (n, MAX_HOURS, "小时数应在±8784以内"),
            DeadlineRule::FixedDate(_) => return Ok(self),
        };
        if amount.unsigned_abs() > max.unsigned_abs() {
            return Err(CalendarError::RuleOutOfBounds {
                rule: self.to_string(),
                limit,
            });
        }
        Ok(self)
    }

    /// Whether the rule counts backwards from its start (材料会前N天报送).
    fn backwards(self) -> bool {
        matches!(
            self,
            DeadlineRule::WorkingDays(n) | DeadlineRule::CalendarDays(n) | DeadlineRule::Months(n)
                if n < 0
        )
    }
}

impl Calendar {
    /// The due instant of `rule` for an item whose clock starts at `start`.
    pub fn deadline(
        &self,
        policy: &DeadlinePolicy,
        start: DateTime<Utc>,
        rule: DeadlineRule,
    ) -> Result<Deadline, CalendarError> {
        let rule = rule.check_bounds()?;
        let backwards = rule.backwards();
        let local_start = start.with_timezone(&policy.time_zone);
        let start_date = local_start.date_naive();
        self.check_coverage(start_date)?;
        let (due_date, rolled_from, due_at, provisional) = match rule {
            DeadlineRule::WorkingDays(n) => {
                let due = self.add_working_days(start_date, n)?;
                let at = at_local(policy, due.value, policy.cutoff)?;
                (due.value, None, at, due.provisional)
            }
            DeadlineRule::CalendarDays(n) => {
                let reached = start_date
                    .checked_add_signed(Duration::days(i64::from(n)))
                    .ok_or(CalendarError::OutOfRange)?;
                self.rolled(policy, reached, backwards)?
            }
            DeadlineRule::Months(n) => {
                let months = Months::new(n.unsigned_abs());
                let reached = if n >= 0 {
                    start_date.checked_add_months(months)
                } else {
                    start_date.checked_sub_months(months)
                }
                .ok_or(CalendarError::OutOfRange)?;
                self.rolled(policy, reached, backwards)?
            }
            DeadlineRule::Hours(n) => {
                let at = start
                    .checked_add_signed(Duration::hours(i64::from(n)))
                    .ok_or(CalendarError::OutOfRange)?;
                let date = at.with_timezone(&policy.time_zone).date_naive();
                (date, None, at, false)
            }
            DeadlineRule::FixedDate(date) => {
                (date, None, at_local(policy, date, policy.cutoff)?, false)
            }
        };
        self.check_coverage(due_date)?;
        let counts_days = !matches!(rule, DeadlineRule::Hours(_) | DeadlineRule::FixedDate(_));
        let crossed: Vec<CrossedDay> = if counts_days {
            self.special_days_between(start_date, due_date)
                .into_iter()
                .map(|s| CrossedDay {
                    date: s.date,
                    name: s.name.clone(),
                    kind: s.kind,
                    local: s.origin == Origin::Local,
                    assumed: s.is_assumed(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let provisional_years = if provisional {
            self.provisional_years(start_date, due_date)
        } else {
            Vec::new()
        };
        let mut summary = summarise(
            rule,
            start_date,
            due_at,
            policy,
            rolled_from.map(|from| (from, backwards)),
            &crossed,
        );
        summary.push_str(&provisional_text(
            &crossed,
            &provisional_years,
            self.assumed_years(),
        ));
        Ok(Deadline {
            due_at,
            due_date,
            provisional,
            calendar_version: self.version().to_string(),
            explanation: Explanation {
                rule,
                start_date,
                rolled_from,
                crossed,
                provisional_years,
                summary,
            },
        })
    }

    /// `reached` moved onto a working day: forward for periods that run forward (Civil
    /// Code Art. 203), back for periods counted backwards from an event.
    fn rolled(
        &self,
        policy: &DeadlinePolicy,
        reached: NaiveDate,
        backwards: bool,
    ) -> Result<(NaiveDate, Option<NaiveDate>, DateTime<Utc>, bool), CalendarError> {
        let rolled = if backwards {
            self.roll_back(reached)?
        } else {
            self.roll_forward(reached)?
        };
        let at = at_local(policy, rolled.value, policy.cutoff)?;
        let from = (rolled.value != reached).then_some(reached);
        Ok((rolled.value, from, at, rolled.provisional))
    }
}

fn at_local(
    policy: &DeadlinePolicy,
    date: NaiveDate,
    time: NaiveTime,
) -> Result<DateTime<Utc>, CalendarError> {
    // `earliest` resolves a local time skipped or repeated by a DST change; Asia/Shanghai
    // has none since 1991, but the zone is configurable.
    policy
        .time_zone
        .from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or(CalendarError::OutOfRange)
}

fn weekday_zh(date: NaiveDate) -> &'static str {
    match date.weekday() {
        Weekday::Mon => "星期一",
        Weekday::Tue => "星期二",
        Weekday::Wed => "星期三",
        Weekday::Thu => "星期四",
        Weekday::Fri => "星期五",
        Weekday::Sat => "星期六",
        Weekday::Sun => "星期日",
    }
}

/// Days of one holiday (its days off and its make-up days) lie within this many days of
/// each other; farther apart they are the same holiday in another year.
const HOLIDAY_SPAN_DAYS: i64 = 45;

fn summarise(
    rule: DeadlineRule,
    start_date: NaiveDate,
    due_at: DateTime<Utc>,
    policy: &DeadlinePolicy,
    rolled_from: Option<(NaiveDate, bool)>,
    crossed: &[CrossedDay],
) -> String {
    let due_local = due_at.with_timezone(&policy.time_zone);
    let due_text = format!(
        "{}（{}）",
        due_local.format("%Y-%m-%d %H:%M"),
        weekday_zh(due_local.date_naive())
    );
    let mut text = match rule {
        // Hours run on the clock from the start instant; there is no start day to leave out.
        DeadlineRule::Hours(_) => format!("自起算时刻起{rule}，按实际时间计算，截止于{due_text}。"),
        DeadlineRule::FixedDate(_) => format!("按指定日期，截止于{due_text}。"),
        _ => format!(
            "自{}（{}）起算{}，起算日不计入，截止于{due_text}。",
            start_date,
            weekday_zh(start_date),
            rule
        ),
    };
    match rolled_from {
        Some((from, false)) => text.push_str(&format!(
            "期限届满日{}（{}）不是工作日，顺延至其后第一个工作日。",
            from,
            weekday_zh(from)
        )),
        Some((from, true)) => text.push_str(&format!(
            "倒推所得日期{}（{}）不是工作日，提前至其前最后一个工作日。",
            from,
            weekday_zh(from)
        )),
        None => {}
    }
    // Group crossed days by holiday so 国庆节 reads as one entry — one per year: a period of
    // years crosses each holiday many times, and "2018-10-01至2026-10-07" would be false.
    let mut groups: Vec<(String, Vec<&CrossedDay>, Vec<&CrossedDay>)> = Vec::new();
    let near = |days: &[&CrossedDay], date: NaiveDate| {
        days.iter()
            .any(|d| (d.date - date).num_days().abs() <= HOLIDAY_SPAN_DAYS)
    };
    for day in crossed {
        let index = match groups.iter().position(|(name, offs, works)| {
            *name == day.name && (near(offs, day.date) || near(works, day.date))
        }) {
            Some(i) => i,
            None => {
                groups.push((day.name.clone(), Vec::new(), Vec::new()));
                groups.len() - 1
            }
        };
        match day.kind {
            SpecialKind::Off => groups[index].1.push(day),
            SpecialKind::Work => groups[index].2.push(day),
        }
    }
    for (name, offs, works) in &groups {
        let prefix = if offs.iter().chain(works.iter()).any(|d| d.local) {
            "本地安排"
        } else {
            "途经"
        };
        text.push_str(&format!("{prefix}{name}："));
        let mut parts = Vec::new();
        if let (Some(first), Some(last)) = (offs.first(), offs.last()) {
            let weekday_offs = offs
                .iter()
                .filter(|d| !matches!(d.date.weekday(), Weekday::Sat | Weekday::Sun))
                .count();
            if first.date == last.date {
                parts.push(format!("{}放假", first.date));
            } else {
                parts.push(format!("{}至{}放假", first.date, last.date));
            }
            if weekday_offs > 0 {
                parts.push(format!("其中{weekday_offs}个周一至周五不计工作日"));
            }
        }
        for work in works {
            parts.push(format!(
                "{}（{}）调休上班，计为工作日",
                work.date,
                weekday_zh(work.date)
            ));
        }
        text.push_str(&parts.join("，"));
        text.push('。');
    }
    text
}

/// What the answer assumed about years without a notice: the law's holidays (named, as far
/// as the count crossed them) and no 调休 in the assumed years; weekends only beyond them.
fn provisional_text(
    crossed: &[CrossedDay],
    provisional_years: &[i32],
    assumed_years: Option<RangeInclusive<i32>>,
) -> String {
    let mut text = String::new();
    let (assumed, weekends_only): (Vec<i32>, Vec<i32>) = provisional_years
        .iter()
        .partition(|y| assumed_years.as_ref().is_some_and(|r| r.contains(*y)));
    if !assumed.is_empty() {
        text.push_str(&format!(
            "{}的放假安排尚未公布：{}调休暂未计入，公布后将重新计算。",
            years_text(&assumed),
            assumed_holidays_text(crossed)
        ));
    }
    if !weekends_only.is_empty() {
        text.push_str(&format!(
            "{}的放假安排尚未公布，暂按周末计算，公布后将重新计算。",
            years_text(&weekends_only)
        ));
    }
    text
}

fn years_text(years: &[i32]) -> String {
    let years: Vec<String> = years.iter().map(|y| format!("{y}年")).collect();
    years.join("、")
}

/// At most this many runs of assumed days are named in a summary; a period of years would
/// otherwise list every holiday of every year.
const ASSUMED_RUNS_NAMED: usize = 6;

/// Which assumed days the count passed over, as runs of one holiday:
/// "已按《全国年节及纪念日放假办法》计入2027-01-01（元旦）等法定假日，".
fn assumed_holidays_text(crossed: &[CrossedDay]) -> String {
    let mut runs: Vec<(&str, NaiveDate, NaiveDate)> = Vec::new();
    for day in crossed.iter().filter(|d| d.assumed) {
        match runs.last_mut() {
            Some((name, _, last)) if *name == day.name && last.succ_opt() == Some(day.date) => {
                *last = day.date;
            }
            _ => runs.push((&day.name, day.date, day.date)),
        }
    }
    if runs.is_empty() {
        return format!("法定假日已按《{}》计入（期间未遇），", statutory::LAW);
    }
    let named: Vec<String> = runs
        .iter()
        .take(ASSUMED_RUNS_NAMED)
        .map(|(name, first, last)| {
            if first == last {
                format!("{first}（{name}）")
            } else {
                format!("{first}至{last}（{name}）")
            }
        })
        .collect();
    let make_up = runs.iter().any(|(name, _, _)| name.ends_with("补假"));
    format!(
        "已按《{}》计入{}等法定假日{}，",
        statutory::LAW,
        named.join("、"),
        if make_up {
            "（适逢周末的假日推定在其后的工作日补假）"
        } else {
            ""
        }
    )
}
