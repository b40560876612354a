//! Figures from facts: one pass over the assignments, then per-unit colours and ranks.
//! Linear in items and assignments, so a report over 100,000 items takes milliseconds
//! (BENCHMARKS.md); the time goes to loading the facts.

use std::cmp::Reverse;
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use ducha_calendar::Calendar;
use ducha_domain::colour::{
    self, Colour, ColourPolicy, UnitFacts, Verdict, assignment_colour, unit_colour, unit_measure,
};
use ducha_domain::{SourceKind, Stage};

use crate::facts::{ItemFacts, ReportFacts};
use crate::model::{
    FlaggedItem, MonthlyReport, NamedUnit, Sections, SourceFigures, Totals, UnitFigures,
};
use crate::month::Month;

/// The rules a report is computed with.
pub struct ReportRules<'a> {
    pub calendar: &'a Calendar,
    pub calendar_version: String,
    pub time_zone: Tz,
    pub policy: &'a ColourPolicy,
    pub policy_version: i32,
}

#[derive(Default)]
struct UnitTally {
    assigned: u32,
    co_assigned: u32,
    closed: u32,
    closed_on_time_original: u32,
    closed_on_time: u32,
    open_at_end: u32,
    overdue: u32,
    extended: u32,
    reworked: u32,
    reopened: u32,
    /// (serial, colour) of its open assignments, for the unit colour rules.
    open_colours: Vec<(String, Colour)>,
}

impl UnitTally {
    fn has_items(&self) -> bool {
        self.assigned + self.co_assigned + self.closed + self.open_at_end > 0
    }
}

/// A unit's colour last month, if it had items then (a unit without items was not rated).
fn previous_colour(before: Option<&&UnitFigures>) -> Option<Colour> {
    before.filter(|b| b.rank.is_some()).map(|b| b.colour)
}

fn rate(on_time: u32, closed: u32) -> Option<f64> {
    (closed > 0).then(|| f64::from(on_time) * 100.0 / f64::from(closed))
}

/// Builds the report of `month` from facts as of its end.
pub fn build(
    month: Month,
    facts: &ReportFacts,
    rules: &crate::compute::ReportRules<'_>,
    generated_at: DateTime<Utc>,
) -> MonthlyReport {
    let tz = rules.time_zone;
    let (start, end) = month.bounds(tz);
    // Colours are those of the month's last instant.
    let at = end - Duration::seconds(1);
    let end_date = at.with_timezone(&tz).date_naive();
    let in_month = |t: DateTime<Utc>| t >= start && t < end;
    let items: HashMap<i64, &ItemFacts> = facts.items.iter().map(|i| (i.id, i)).collect();

    let mut tallies: HashMap<i64, UnitTally> = HashMap::new();
    let mut totals = Totals::default();
    let mut by_kind: HashMap<SourceKind, SourceFigures> = HashMap::new();
    let mut red_items = Vec::new();
    let mut yellow_items = Vec::new();
    let mut item_colour: HashMap<i64, Colour> = HashMap::new();
    let unit_names: HashMap<i64, &str> = facts
        .units
        .iter()
        .map(|u| (u.id, u.name.as_str()))
        .collect();

    for item in &facts.items {
        let kind = by_kind
            .entry(item.source_kind)
            .or_insert_with(|| SourceFigures {
                kind: item.source_kind.as_str().to_string(),
                label: item.source_kind.label().to_string(),
                registered: 0,
                closed: 0,
                closed_on_time: 0,
                open_at_end: 0,
                overdue: 0,
            });
        if in_month(item.registered_at) {
            totals.registered += 1;
            kind.registered += 1;
        }
        if item.cancelled_at.is_some_and(in_month) {
            totals.cancelled += 1;
        }
        if item.closed_at.is_some_and(in_month) {
            totals.closed += 1;
            kind.closed += 1;
            totals.closed_on_time_original += u32::from(item.closed_on_time_original == Some(true));
            let on_time = item.closed_on_time_extended == Some(true);
            totals.closed_on_time += u32::from(on_time);
            kind.closed_on_time += u32::from(on_time);
        }
        totals.reworked += u32::try_from(item.rejections_in_month).unwrap_or(0);
        totals.reopened += u32::from(item.reopened_in_month);
        if item.stage_at_end.is_open() && item.stage_at_end != Stage::Registered {
            totals.open_at_end += 1;
            kind.open_at_end += 1;
        }
    }

    for a in &facts.assignments {
        let Some(item) = items.get(&a.item_id) else {
            continue;
        };
        let tally = tallies.entry(a.unit_id).or_default();
        if in_month(a.assigned_at) {
            if a.lead {
                tally.assigned += 1;
                totals.assigned += 1;
            } else {
                tally.co_assigned += 1;
            }
        }
        if a.lead {
            if item.closed_at.is_some_and(in_month) {
                tally.closed += 1;
                tally.closed_on_time_original +=
                    u32::from(item.closed_on_time_original == Some(true));
                tally.closed_on_time += u32::from(item.closed_on_time_extended == Some(true));
            }
            tally.extended += u32::from(a.extended_in_month);
            totals.extended += u32::from(a.extended_in_month);
            tally.reworked += u32::try_from(item.rejections_in_month).unwrap_or(0);
            tally.reopened += u32::from(item.reopened_in_month);
        }
        let open = item.stage_at_end.is_open() && item.stage_at_end != Stage::Registered;
        if !open {
            continue;
        }
        let due = a.extended_due_at.unwrap_or(a.due_at);
        let owes_work = matches!(item.stage_at_end, Stage::Assigned | Stage::InProgress);
        let overdue = owes_work && due <= at;
        if a.lead {
            tally.open_at_end += 1;
            if overdue {
                tally.overdue += 1;
                totals.overdue += 1;
                if let Some(kind) = by_kind.get_mut(&item.source_kind) {
                    kind.overdue += 1;
                }
            }
        }
        let verdict = assignment_colour(
            rules.calendar,
            tz,
            rules.policy,
            &colour::AssignmentFacts {
                stage: item.stage_at_end,
                due_at: a.due_at,
                extended_due_at: a.extended_due_at,
                rejections: item.rejections_by_end,
                reopened: item.reopened_by_end,
                report_cycle_days: item.report_cycle_days,
                report_cycle_working_days: item.report_cycle_working_days,
                last_report_or_assigned_at: a.last_report_or_assigned_at,
                feedback_at: a.feedback_at,
            },
            at,
        );
        tally
            .open_colours
            .push((item.serial.clone(), verdict.colour));
        let worst = item_colour.entry(item.id).or_insert(Colour::None);
        *worst = (*worst).max(verdict.colour);
        if verdict.colour >= Colour::Yellow {
            let due_date = due.with_timezone(&tz).date_naive();
            let flagged = FlaggedItem {
                item_id: item.id,
                serial: item.serial.clone(),
                title: item.title.clone(),
                unit: unit_names
                    .get(&a.unit_id)
                    .copied()
                    .unwrap_or("")
                    .to_string(),
                lead: a.lead,
                due: due_date,
                working_days_overdue: if overdue {
                    rules
                        .calendar
                        .working_days_between(due_date, end_date)
                        .value
                        .max(1)
                } else {
                    0
                },
                reason: verdict.reason,
            };
            if verdict.colour == Colour::Red {
                red_items.push(flagged);
            } else {
                yellow_items.push(flagged);
            }
        }
    }
    for colour in item_colour.values() {
        totals.item_colours.add(*colour);
    }
    totals.on_time_rate = rate(totals.closed_on_time, totals.closed);
    let by_most_overdue = |x: &FlaggedItem, y: &FlaggedItem| {
        y.working_days_overdue
            .cmp(&x.working_days_overdue)
            .then_with(|| x.serial.cmp(&y.serial))
            .then_with(|| y.lead.cmp(&x.lead))
    };
    red_items.sort_by(by_most_overdue);
    yellow_items.sort_by(by_most_overdue);

    let previous: HashMap<i64, &UnitFigures> = facts
        .previous
        .iter()
        .flat_map(|p| p.units.iter())
        .map(|u| (u.unit_id, u))
        .collect();
    let mut units: Vec<UnitFigures> = facts
        .units
        .iter()
        .map(|info| {
            let tally = tallies.remove(&info.id).unwrap_or_default();
            let before = previous.get(&info.id);
            let verdict = if tally.has_items() {
                unit_colour(
                    rules.policy,
                    &UnitFacts {
                        items: tally.open_colours.clone(),
                        closed: tally.closed as usize,
                        closed_on_time: tally.closed_on_time as usize,
                        previous_colour: previous_colour(before),
                        rate_period: Some("本月".into()),
                    },
                )
            } else {
                Verdict {
                    colour: Colour::None,
                    reason: "本月无督办事项".into(),
                }
            };
            UnitFigures {
                unit_id: info.id,
                unit: info.name.clone(),
                kind: info.kind.clone(),
                rank: None,
                assigned: tally.assigned,
                co_assigned: tally.co_assigned,
                closed: tally.closed,
                closed_on_time_original: tally.closed_on_time_original,
                closed_on_time: tally.closed_on_time,
                closed_late: tally.closed - tally.closed_on_time,
                on_time_rate: rate(tally.closed_on_time, tally.closed),
                open_at_end: tally.open_at_end,
                overdue: tally.overdue,
                extended: tally.extended,
                reworked: tally.reworked,
                reopened: tally.reopened,
                measure: unit_measure(verdict.colour).to_string(),
                colour: verdict.colour,
                colour_reason: verdict.reason,
                previous_on_time_rate: before.and_then(|b| b.on_time_rate),
                previous_colour: previous_colour(before),
            }
        })
        .collect();
    let active: HashMap<i64, bool> = units
        .iter()
        .map(|u| {
            (
                u.unit_id,
                u.assigned + u.co_assigned + u.closed + u.open_at_end > 0,
            )
        })
        .collect();
    rank_units(&mut units, &active);
    for u in units.iter().filter(|u| active[&u.unit_id]) {
        totals.unit_colours.add(u.colour);
    }

    let praised: Vec<String> = units
        .iter()
        .filter(|u| {
            u.closed > 0
                && u.closed_on_time == u.closed
                && u.overdue == 0
                && u.colour == Colour::None
        })
        .map(|u| u.unit.clone())
        .collect();
    let named_with = |colour: Colour| -> Vec<NamedUnit> {
        units
            .iter()
            .filter(|u| u.colour == colour && active[&u.unit_id])
            .map(|u| NamedUnit {
                unit: u.unit.clone(),
                reason: u.colour_reason.clone(),
            })
            .collect()
    };
    let named = named_with(Colour::Yellow);
    let called_in = named_with(Colour::Red);
    let blue: Vec<String> = units
        .iter()
        .filter(|u| u.colour == Colour::Blue && active[&u.unit_id])
        .map(|u| u.unit.clone())
        .collect();

    let mut by_source_kind: Vec<SourceFigures> = SourceKind::ALL
        .iter()
        .filter_map(|k| by_kind.remove(k))
        .collect();
    by_source_kind.retain(|k| k.registered + k.closed + k.open_at_end > 0);

    let mut report = MonthlyReport {
        month: month.to_string(),
        title: format!("{}督查工作通报", month.label()),
        period_start: start,
        period_end: end,
        generated_at,
        calendar_version: rules.calendar_version.clone(),
        policy_version: rules.policy_version,
        totals,
        units,
        red_items,
        yellow_items,
        praised,
        named,
        called_in,
        by_source_kind,
        trend: Vec::new(),
        sections: Sections::default(),
    };
    let mut trend: Vec<_> = facts
        .history
        .iter()
        .filter(|p| p.month < report.month)
        .cloned()
        .collect();
    trend.push(report.trend_point());
    report.trend = trend;
    report.sections = sections(&report, facts.previous.as_ref(), &blue);
    report
}

/// Ranks the units with items: better colour first, then higher on-time rate (a unit that
/// closed nothing this month counts as on time unless it has overdue items), fewer overdue,
/// more closed. Equal keys share a rank ("1, 2, 2, 4"); units without items are unranked
/// and listed last, by name.
fn rank_units(units: &mut [UnitFigures], active: &HashMap<i64, bool>) {
    let key = |u: &UnitFigures| {
        let rate = u
            .on_time_rate
            .unwrap_or(if u.overdue == 0 { 100.0 } else { 0.0 });
        // Rates are percentages with finite precision; compare them in tenths of a basis
        // point so equal rates tie exactly.
        let rate = (rate * 1000.0).round() as i64;
        (u.colour, Reverse(rate), u.overdue, Reverse(u.closed))
    };
    units.sort_by(|x, y| {
        let (ax, ay) = (active[&x.unit_id], active[&y.unit_id]);
        ay.cmp(&ax)
            .then_with(|| {
                if ax && ay {
                    key(x).cmp(&key(y))
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .then_with(|| x.unit.cmp(&y.unit))
    });
    let mut previous_key = None;
    let mut rank = 0;
    for (position, unit) in units.iter_mut().enumerate() {
        if !active[&unit.unit_id] {
            continue;
        }
        let this = key(unit);
        if previous_key.as_ref() != Some(&this) {
            rank = position as u32 + 1;
            previous_key = Some(this);
        }
        unit.rank = Some(rank);
    }
}

fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{r:.1}%"))
        .unwrap_or_else(|| "—".into())
}

fn sections(
    report: &MonthlyReport,
    previous: Option<&crate::facts::PreviousReport>,
    blue: &[String],
) -> Sections {
    let t = &report.totals;
    let mut progress = format!(
        "本月新立项督办事项{}件，交办{}件；办结{}件，其中按期办结{}件（按原定期限{}件），按期办结率{}；截至月末在办{}件，逾期{}件。",
        t.registered,
        t.assigned,
        t.closed,
        t.closed_on_time,
        t.closed_on_time_original,
        percent(t.on_time_rate),
        t.open_at_end,
        t.overdue
    );
    if let (Some(now), Some(before)) =
        (t.on_time_rate, previous.and_then(|p| p.totals.on_time_rate))
    {
        let delta = now - before;
        progress.push_str(&if delta.abs() < 0.05 {
            "按期办结率与上月持平。".to_string()
        } else if delta > 0.0 {
            format!("按期办结率较上月上升{:.1}个百分点。", delta)
        } else {
            format!("按期办结率较上月下降{:.1}个百分点。", -delta)
        });
    }
    if t.extended > 0 {
        progress.push_str(&format!("经批准延期{}件。", t.extended));
    }
    if t.cancelled > 0 {
        progress.push_str(&format!("撤销{}件。", t.cancelled));
    }

    let mut problems = Vec::new();
    if t.overdue > 0 {
        let mut by_unit: Vec<(&str, u32)> = report
            .units
            .iter()
            .filter(|u| u.overdue > 0)
            .map(|u| (u.unit.as_str(), u.overdue))
            .collect();
        by_unit.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let top: Vec<String> = by_unit
            .iter()
            .take(5)
            .map(|(u, n)| format!("{u}（{n}件）"))
            .collect();
        problems.push(format!(
            "逾期未办结事项{}件，主要集中在{}{}。",
            t.overdue,
            top.join("、"),
            if by_unit.len() > 5 { "等单位" } else { "" }
        ));
    }
    if t.item_colours.red + t.item_colours.yellow > 0 {
        problems.push(format!(
            "月末红色督办事项{}件、黄色事项{}件。",
            t.item_colours.red, t.item_colours.yellow
        ));
    }
    if t.reworked > 0 {
        problems.push(format!(
            "办结反馈被退回重办{}次，办理质量有待提高。",
            t.reworked
        ));
    }
    if t.reopened > 0 {
        problems.push(format!("“回头看”发现问题反弹{}件。", t.reopened));
    }
    let problems = if problems.is_empty() {
        "本月未发现突出问题。".to_string()
    } else {
        problems.join("")
    };

    let names = |list: &[NamedUnit]| {
        list.iter()
            .map(|u| u.unit.as_str())
            .collect::<Vec<_>>()
            .join("、")
    };
    let mut suggestions = Vec::new();
    if !report.called_in.is_empty() {
        suggestions.push(format!(
            "对红色单位（{}）由分管区领导约谈主要负责人，限期整改。",
            names(&report.called_in)
        ));
    }
    if !report.named.is_empty() {
        suggestions.push(format!(
            "对黄色单位（{}）予以通报，督促其制定整改措施。",
            names(&report.named)
        ));
    }
    if !blue.is_empty() {
        suggestions.push(format!(
            "对蓝色单位（{}）提醒单位主要负责人，防止逾期。",
            blue.join("、")
        ));
    }
    if !report.praised.is_empty() {
        suggestions.push(format!(
            "对按期办结率100%的单位（{}）予以通报表扬。",
            report.praised.join("、")
        ));
    }
    if report.red_items.len() + report.yellow_items.len() > 0 {
        suggestions
            .push("各承办单位对照红黄事项清单逐件销号，确需延期的应在期限届满前申请。".into());
    }
    let suggestions = if suggestions.is_empty() {
        "继续保持，按期推进各项督办事项。".to_string()
    } else {
        suggestions.join("")
    };
    Sections {
        progress,
        problems,
        suggestions,
    }
}

/// What changed from one version of a month's report to the next, in Chinese, for the
/// regenerated version to say (e.g. "区住建局：办结 3→4"). Empty when the figures are the
/// same.
pub fn changes_between(before: &MonthlyReport, after: &MonthlyReport) -> Vec<String> {
    let mut changes = Vec::new();
    let t = (&before.totals, &after.totals);
    let mut field = |scope: &str, name: &str, old: String, new: String| {
        if old != new {
            changes.push(format!("{scope}：{name} {old}→{new}"));
        }
    };
    field(
        "全区",
        "办结",
        t.0.closed.to_string(),
        t.1.closed.to_string(),
    );
    field(
        "全区",
        "按期办结率",
        percent(t.0.on_time_rate),
        percent(t.1.on_time_rate),
    );
    field(
        "全区",
        "逾期",
        t.0.overdue.to_string(),
        t.1.overdue.to_string(),
    );
    let old_units: HashMap<i64, &UnitFigures> =
        before.units.iter().map(|u| (u.unit_id, u)).collect();
    for u in &after.units {
        let Some(o) = old_units.get(&u.unit_id) else {
            field(&u.unit, "新增单位", "—".into(), "列入".into());
            continue;
        };
        field(
            &u.unit,
            "交办",
            o.assigned.to_string(),
            u.assigned.to_string(),
        );
        field(&u.unit, "办结", o.closed.to_string(), u.closed.to_string());
        field(
            &u.unit,
            "按期办结率",
            percent(o.on_time_rate),
            percent(u.on_time_rate),
        );
        field(
            &u.unit,
            "逾期",
            o.overdue.to_string(),
            u.overdue.to_string(),
        );
        field(
            &u.unit,
            "颜色",
            o.colour.label().to_string(),
            u.colour.label().to_string(),
        );
        field(
            &u.unit,
            "排名",
            o.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
            u.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
        );
    }
    if before.calendar_version != after.calendar_version {
        changes.push(format!(
            "节假日日历更新：{}→{}",
            before.calendar_version, after.calendar_version
        ));
    }
    if before.policy_version != after.policy_version {
        changes.push(format!(
            "颜色规则版本：{}→{}",
            before.policy_version, after.policy_version
        ));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{AssignmentFacts, UnitInfo};
    use chrono::TimeZone;

    fn at(m: u32, d: u32, h: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, m, d, h, 0, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    /// One item per call, closed on time (or late) in October, led by `unit`.
    fn closed(facts: &mut ReportFacts, unit: i64, on_time: bool) {
        let id = facts.items.len() as i64 + 1;
        facts.items.push(ItemFacts {
            id,
            serial: format!("督〔2026〕{id}号"),
            title: "事项".into(),
            source_kind: SourceKind::MeetingDecision,
            stage_at_end: Stage::Closed,
            registered_at: at(10, 9, 9),
            closed_at: Some(at(10, 20, 9)),
            closed_on_time_original: Some(on_time),
            closed_on_time_extended: Some(on_time),
            cancelled_at: None,
            report_cycle_days: None,
            report_cycle_working_days: false,
            rejections_by_end: 0,
            rejections_in_month: 0,
            reopened_by_end: false,
            reopened_in_month: false,
        });
        facts.assignments.push(AssignmentFacts {
            id,
            item_id: id,
            unit_id: unit,
            lead: true,
            assigned_at: at(10, 9, 9),
            due_at: at(10, 14, 18),
            extended_due_at: None,
            extended_in_month: false,
            last_report_or_assigned_at: at(10, 9, 9),
            feedback_at: None,
        });
    }

    fn build_october(facts: &ReportFacts) -> MonthlyReport {
        let calendar = Calendar::national();
        let policy = ColourPolicy::default();
        build(
            "2026-10".parse().expect("month"),
            facts,
            &ReportRules {
                calendar: &calendar,
                calendar_version: calendar.version().to_string(),
                time_zone: chrono_tz::Asia::Shanghai,
                policy: &policy,
                policy_version: 0,
            },
            at(11, 2, 9),
        )
    }

    /// Issue 10, item 12: the rendered report counts items (not unit rows) in its red list,
    /// keeps the donut's labels inside the picture, and leaves a month without closures as
    /// a gap in the on-time line instead of a fall to 0 %.
    #[test]
    fn the_rendered_report_counts_items_fits_its_labels_and_leaves_gaps() {
        let mut facts = ReportFacts {
            units: ["甲局", "乙局"]
                .iter()
                .enumerate()
                .map(|(i, name)| UnitInfo {
                    id: i as i64 + 1,
                    name: name.to_string(),
                    kind: "部门".into(),
                })
                .collect(),
            ..ReportFacts::default()
        };
        closed(&mut facts, 1, true);
        // One item still open at the month's end, far past its due, led by 甲局 with 乙局.
        closed(&mut facts, 1, true);
        let red = facts.items.len() - 1;
        facts.items[red].stage_at_end = Stage::InProgress;
        facts.items[red].closed_at = None;
        facts.items[red].closed_on_time_original = None;
        facts.items[red].closed_on_time_extended = None;
        let mut co = facts.assignments[red].clone();
        co.id = 99;
        co.unit_id = 2;
        co.lead = false;
        facts.assignments.push(co);
        // And one on schedule (due in December), so the donut has two slices.
        closed(&mut facts, 2, true);
        let calm = facts.items.len() - 1;
        facts.items[calm].stage_at_end = Stage::InProgress;
        facts.items[calm].closed_at = None;
        let calm_id = facts.items[calm].id;
        for a in facts
            .assignments
            .iter_mut()
            .filter(|a| a.item_id == calm_id)
        {
            a.due_at = at(12, 20, 18);
        }
        facts.history = vec![crate::TrendPoint {
            month: "2026-09".into(),
            assigned: 2,
            closed: 0,
            on_time_rate: None,
            overdue: 3,
            red_items: 1,
            yellow_items: 0,
        }];
        let report = build_october(&facts);
        assert_eq!(report.totals.item_colours.red, 1);
        assert_eq!(report.red_items.len(), 2, "a row per unit");
        let page = crate::render::html(&report, 1, &[], "区委督查室").expect("renders");
        assert!(
            page.contains("红色督办事项（1件，涉及2个承办单位次）"),
            "the header counts items as the totals do"
        );
        // Every label's text starts inside the picture.
        let texts: Vec<&str> = page.split("<text").skip(1).collect();
        for text in &texts {
            let Some(x) = text
                .split("x=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .and_then(|x| x.parse::<f32>().ok())
            else {
                continue;
            };
            let content = text.split('>').nth(1).unwrap_or_default();
            assert!(
                x >= 0.0,
                "label “{content}” starts at x={x}, outside the chart"
            );
        }
        assert!(page.contains("红色 1件"), "the red slice is named in full");
        assert!(page.contains("正常 1件"));
        // September had no closures: no 0 is drawn for its rate (overdue counts are 3 and
        // October's own, never 0).
        let trend = page
            .split("近期走势")
            .nth(1)
            .and_then(|rest| rest.split("</svg>").next())
            .expect("trend chart");
        let value_labels: Vec<&str> = trend
            .split("<text")
            .filter(|t| t.contains("dx="))
            .map(|t| t.split('>').nth(1).unwrap_or_default().trim_start())
            .map(|t| t.split('<').next().unwrap_or_default().trim())
            .collect();
        assert!(
            !value_labels.contains(&"0"),
            "a month without closures is a gap, not 0: {value_labels:?}"
        );
        assert!(value_labels.contains(&"3"), "{value_labels:?}");
    }

    #[test]
    fn equal_units_share_a_rank_and_units_without_items_are_unranked() {
        let mut facts = ReportFacts {
            units: ["甲局", "乙局", "丙局", "丁街道"]
                .iter()
                .enumerate()
                .map(|(i, name)| UnitInfo {
                    id: i as i64 + 1,
                    name: name.to_string(),
                    kind: "部门".into(),
                })
                .collect(),
            ..ReportFacts::default()
        };
        closed(&mut facts, 1, true);
        closed(&mut facts, 2, true);
        closed(&mut facts, 3, true);
        closed(&mut facts, 3, false);
        let report = build_october(&facts);
        let ranks: Vec<(&str, Option<u32>)> = report
            .units
            .iter()
            .map(|u| (u.unit.as_str(), u.rank))
            .collect();
        assert_eq!(
            ranks,
            [
                ("乙局", Some(1)),
                ("甲局", Some(1)),
                ("丙局", Some(3)),
                ("丁街道", None)
            ],
            "ties share 1, the next is 3; names order the ties"
        );
        assert_eq!(report.praised, ["乙局", "甲局"]);
        assert_eq!(report.totals.on_time_rate, Some(75.0));
        let third = &report.units[2];
        assert_eq!(third.colour, Colour::Red, "50% is below the 80% band");
        assert_eq!(third.colour_reason, "本月按期办结率50.0%（1/2）");
        assert_eq!(report.units[3].colour_reason, "本月无督办事项");

        // The same facts give no changes; one more late closure is named unit by unit.
        assert!(changes_between(&report, &build_october(&facts)).is_empty());
        closed(&mut facts, 1, false);
        let changes = changes_between(&report, &build_october(&facts));
        assert!(
            changes.contains(&"甲局：办结 1→2".to_string()),
            "{changes:?}"
        );
        assert!(
            changes.contains(&"甲局：按期办结率 100.0%→50.0%".to_string()),
            "{changes:?}"
        );
        assert!(
            changes.contains(&"全区：办结 4→5".to_string()),
            "{changes:?}"
        );
    }

    #[test]
    fn a_unit_blue_last_month_and_blue_again_is_yellow() {
        let mut facts = ReportFacts {
            units: vec![UnitInfo {
                id: 1,
                name: "甲局".into(),
                kind: "部门".into(),
            }],
            ..ReportFacts::default()
        };
        // 19 of 20 on time: 95% is not below the blue band; 18 of 20 (90%) is BLUE.
        for i in 0..20 {
            closed(&mut facts, 1, i >= 2);
        }
        let blue = build_october(&facts);
        assert_eq!(blue.units[0].colour, Colour::Blue);
        let mut previous = blue.clone();
        previous.month = "2026-09".into();
        facts.previous = Some(previous.into());
        let twice = build_october(&facts);
        assert_eq!(twice.units[0].colour, Colour::Yellow);
        assert!(twice.units[0].colour_reason.starts_with("连续两期蓝色"));
        assert_eq!(twice.named.len(), 1, "YELLOW is named (通报)");
    }
}
