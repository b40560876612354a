//! The three sections a supervision report has [000 Art.66]: 落实情况 (progress), 存在问题
//! (problems) and 工作建议 (suggestions), written from the figures.

use crate::facts::PreviousReport;
use crate::model::{MonthlyReport, NamedUnit, Sections, Totals, UnitFigures};

use super::percent;

/// How many units the overdue problem names before it says "等单位".
const MOST_OVERDUE_NAMED: usize = 5;

/// Writes the sections of `report`; `reminded` are the BLUE units (提醒), which the report
/// lists nowhere else.
pub(super) fn sections(
    report: &MonthlyReport,
    previous: Option<&PreviousReport>,
    reminded: &[NamedUnit],
) -> Sections {
    Sections {
        progress: progress(&report.totals, previous),
        problems: problems(report),
        suggestions: suggestions(report, reminded),
    }
}

/// 落实情况: the month's figures, the on-time rate against last month's, and extensions
/// and cancellations when there were any.
fn progress(t: &Totals, previous: Option<&PreviousReport>) -> String {
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
        progress.push_str(&rate_change(now - before));
    }
    if t.extended > 0 {
        progress.push_str(&format!("经批准延期{}件。", t.extended));
    }
    if t.cancelled > 0 {
        progress.push_str(&format!("撤销{}件。", t.cancelled));
    }
    progress
}

/// The on-time rate's change since last month, in percentage points; a change that rounds
/// to 0.0 is "持平" rather than a rise or fall of 0.0.
fn rate_change(delta: f64) -> String {
    if delta.abs() < 0.05 {
        "按期办结率与上月持平。".to_string()
    } else if delta > 0.0 {
        format!("按期办结率较上月上升{:.1}个百分点。", delta)
    } else {
        format!("按期办结率较上月下降{:.1}个百分点。", -delta)
    }
}

/// 存在问题: overdue items and where they gather, red and yellow items, rework and
/// problems found again by 回头看.
fn problems(report: &MonthlyReport) -> String {
    let t = &report.totals;
    let mut problems = Vec::new();
    if t.overdue > 0 {
        problems.push(overdue_problem(t.overdue, &report.units));
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
    if problems.is_empty() {
        "本月未发现突出问题。".to_string()
    } else {
        problems.join("")
    }
}

/// The overdue problem, naming the units with the most overdue items (ties by name) so the
/// report points at where the delays gather.
fn overdue_problem(overdue: u32, units: &[UnitFigures]) -> String {
    let mut by_unit: Vec<(&str, u32)> = units
        .iter()
        .filter(|u| u.overdue > 0)
        .map(|u| (u.unit.as_str(), u.overdue))
        .collect();
    by_unit.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let top: Vec<String> = by_unit
        .iter()
        .take(MOST_OVERDUE_NAMED)
        .map(|(u, n)| format!("{u}（{n}件）"))
        .collect();
    format!(
        "逾期未办结事项{}件，主要集中在{}{}。",
        overdue,
        top.join("、"),
        if by_unit.len() > MOST_OVERDUE_NAMED {
            "等单位"
        } else {
            ""
        }
    )
}

/// 工作建议: the measure for each colour of unit (约谈, 通报, 提醒 [000 Art.68]), praise
/// for units that delivered [002 Art.71], and the red and yellow lists to work through.
fn suggestions(report: &MonthlyReport, reminded: &[NamedUnit]) -> String {
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
    if !reminded.is_empty() {
        suggestions.push(format!(
            "对蓝色单位（{}）提醒单位主要负责人，防止逾期。",
            names(reminded)
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
    if suggestions.is_empty() {
        "继续保持，按期推进各项督办事项。".to_string()
    } else {
        suggestions.join("")
    }
}

/// Unit names as a Chinese list ("甲局、乙局").
fn names(list: &[NamedUnit]) -> String {
    list.iter()
        .map(|u| u.unit.as_str())
        .collect::<Vec<_>>()
        .join("、")
}
