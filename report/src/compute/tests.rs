//! Tests of the report's figures through `build`, and of `changes_between`.

use chrono::{DateTime, TimeZone, Utc};
use ducha_calendar::Calendar;
use ducha_domain::colour::{Colour, ColourPolicy};
use ducha_domain::{SourceKind, Stage};

use super::{ReportRules, build, changes_between};
use crate::facts::{AssignmentFacts, Closure, ItemFacts, ReportFacts, UnitInfo};
use crate::model::MonthlyReport;

fn at(m: u32, d: u32, h: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, m, d, h, 0, 0)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// Facts with no items yet, for departments (部门) numbered from 1 in the order named.
fn facts_with_units(names: &[&str]) -> ReportFacts {
    ReportFacts {
        units: names
            .iter()
            .enumerate()
            .map(|(i, name)| UnitInfo {
                id: i as i64 + 1,
                name: name.to_string(),
                kind: "部门".into(),
            })
            .collect(),
        ..ReportFacts::default()
    }
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
        first_feedback_at: None,
        own_report_at: None,
    });
    facts.closures.push(Closure {
        item_id: id,
        unit_id: unit,
        at: at(10, 20, 9),
        on_time,
        on_time_original: on_time,
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
    let mut facts = facts_with_units(&["甲局", "乙局"]);
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
    let mut facts = facts_with_units(&["甲局", "乙局", "丙局", "丁街道"]);
    closed(&mut facts, 1, true);
    closed(&mut facts, 2, true);
    for n in 0..10 {
        closed(&mut facts, 3, n < 4);
    }
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
    assert_eq!(report.totals.on_time_rate, Some(50.0));
    let third = &report.units[2];
    assert_eq!(third.colour, Colour::Red, "40% is below the 50% band");
    assert_eq!(third.colour_reason, "近90天按期办结率40.0%（4/10）");
    assert_eq!(
        (third.window_closed, third.window_on_time_rate),
        (10, Some(40.0))
    );
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
        changes.contains(&"全区：办结 12→13".to_string()),
        "{changes:?}"
    );
}

#[test]
fn a_unit_blue_last_month_and_blue_again_is_yellow() {
    let mut facts = facts_with_units(&["甲局"]);
    // 13 of 20 on time: 65 % is below the blue band (70 %), not the yellow one (60 %).
    for i in 0..20 {
        closed(&mut facts, 1, i >= 7);
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

/// Issue 30, item 1: a unit at 20 % over the window is RED on the board, and the report
/// judged at the month's end says the same, whatever its month looked like: it is neither
/// ranked first nor praised.
#[test]
fn the_report_judges_units_by_the_window_the_board_uses() {
    let mut facts = facts_with_units(&["甲局", "乙局"]);
    // 甲局: eight late closures in September (inside the 90 days), two on time in October.
    for _ in 0..8 {
        closed(&mut facts, 1, false);
        let last = facts.closures.len() - 1;
        facts.closures[last].at = at(9, 15, 9);
        let item = facts.items.len() - 1;
        // Closed before October: not one of the month's items.
        facts.items.remove(item);
        facts.assignments.remove(item);
    }
    closed(&mut facts, 1, true);
    closed(&mut facts, 1, true);
    // 乙局: one on-time closure in October.
    closed(&mut facts, 2, true);
    // A closure long before the window does not count.
    facts.closures.push(Closure {
        item_id: 900,
        unit_id: 2,
        at: at(3, 1, 9),
        on_time: false,
        on_time_original: false,
    });
    let report = build_october(&facts);
    let first = &report.units[0];
    assert_eq!(first.unit, "乙局");
    assert_eq!(first.rank, Some(1));
    let late = &report.units[1];
    assert_eq!(late.unit, "甲局");
    assert_eq!(late.on_time_rate, Some(100.0), "the month's own rate");
    assert_eq!(late.window_on_time_rate, Some(20.0));
    assert_eq!(late.colour, Colour::Red);
    assert_eq!(late.colour_reason, "近90天按期办结率20.0%（2/10）");
    assert_eq!(report.praised, ["乙局"]);
    assert_eq!(report.called_in.len(), 1);
    assert_eq!(report.called_in[0].unit, "甲局");
}

/// Issue 30, item 2: the lists' lateness is the lateness the reason states, also for an
/// item whose late report waits on the office.
#[test]
fn the_lists_lateness_is_what_the_reason_states() {
    let mut facts = facts_with_units(&["甲局"]);
    closed(&mut facts, 1, false);
    facts.closures.clear();
    facts.items[0].stage_at_end = Stage::FeedbackSubmitted;
    facts.items[0].closed_at = None;
    // Due 10-14, reported 10-21: five working days late, waiting on the office since.
    facts.assignments[0].feedback_at = Some(at(10, 21, 10));
    facts.assignments[0].first_feedback_at = Some(at(10, 21, 10));
    let report = build_october(&facts);
    let row = report
        .red_items
        .iter()
        .chain(report.yellow_items.iter())
        .next()
        .expect("a flagged row");
    assert!(
        row.reason
            .contains(&format!("办结反馈逾期{}个工作日", row.working_days_overdue)),
        "{} vs {}",
        row.working_days_overdue,
        row.reason
    );
    assert_eq!(row.working_days_overdue, 5);
    assert_eq!(report.totals.overdue, 0, "the unit owes nothing more");
}

#[test]
fn the_mailed_report_carries_the_first_rows_of_a_long_list_and_links_to_them_all() {
    let mut report = build_october(&facts_with_units(&["发改局", "住建局"]));
    let long = crate::render::MAIL_LIST_ROWS + 37;
    report.red_items = (0..long)
        .map(|n| crate::FlaggedItem {
            item_id: n as i64 + 1,
            serial: format!("督〔2026〕{:05}号", n + 1),
            title: "老旧小区改造".into(),
            unit: "住建局".into(),
            lead: true,
            due: chrono::NaiveDate::from_ymd_opt(2026, 10, 9).expect("date"),
            working_days_overdue: 12,
            reason: "逾期12个工作日未办结".into(),
        })
        .collect();
    let url = "https://ducha.example.gov.cn/reports/2026-10?version=1";
    let page = crate::render::html(&report, 1, &[], "区委督查室").expect("renders");
    let mail = crate::render::mail_html(&report, 1, &[], "区委督查室", url).expect("renders");
    let rows = |html: &str| html.matches("督〔2026〕").count();
    assert_eq!(rows(&page), long, "the page lists every row");
    assert_eq!(
        rows(&mail),
        crate::render::MAIL_LIST_ROWS,
        "the mail the first ones"
    );
    assert!(
        mail.contains("督〔2026〕00001号") && !mail.contains(&format!("督〔2026〕{long:05}号"))
    );
    assert!(
        mail.contains("另有37行未列出") && mail.contains(&format!("href=\"{url}\"")),
        "the mail says how many more and where"
    );
    assert!(!page.contains("未列出"), "the page has nothing left out");
}
