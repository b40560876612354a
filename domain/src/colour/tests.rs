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
        lead: true,
        first_feedback_at: None,
        own_report_at: None,
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
    // Due at the cut-off of its day, as everything else a unit owes (the item is due at
    // 18:00): still due at 17:00, missed at 19:00 the same day.
    assert_eq!(
        progress_report(&calendar, tz, &policy, &f, at(2026, 10, 8, 17)),
        date.map(ProgressReport::DueSoon)
    );
    assert_eq!(
        progress_report(&calendar, tz, &policy, &f, at(2026, 10, 8, 19)),
        date.map(ProgressReport::Missed)
    );
    assert_eq!(
        progress_report(&calendar, tz, &policy, &f, at(2026, 10, 9, 8)),
        date.map(ProgressReport::Missed)
    );
    // A kept verdict ends at that cut-off, not at midnight.
    assert_eq!(
        verdict_holds_until(tz, &f, at(2026, 10, 8, 17)),
        at(2026, 10, 8, 18) + chrono::TimeDelta::nanoseconds(1)
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

fn open_items(red: usize, yellow: usize, other: usize) -> Vec<(String, Colour)> {
    let colours = std::iter::repeat_n(Colour::Red, red)
        .chain(std::iter::repeat_n(Colour::Yellow, yellow))
        .chain(std::iter::repeat_n(Colour::None, other));
    colours
        .enumerate()
        .map(|(n, c)| (format!("督〔2026〕{}号", n + 1), c))
        .collect()
}

#[test]
fn units_are_coloured_by_shares_of_their_open_items_not_by_volume() {
    let policy = ColourPolicy::default();
    let colour = |red, yellow, other| {
        unit_colour(
            &policy,
            &UnitFacts {
                items: open_items(red, yellow, other),
                ..UnitFacts::default()
            },
        )
    };
    // A big unit with 5 red items among 60 open ones: 8 % flagged, below every share.
    assert_eq!(colour(5, 0, 55).colour, Colour::None);
    // A small unit with 3 red among 6: 50 % red.
    let small = colour(3, 0, 3);
    assert_eq!(small.colour, Colour::Red);
    assert_eq!(
        small.reason,
        "红色事项3个，占在办事项50%（3/6）：督〔2026〕1号、督〔2026〕2号、督〔2026〕3号"
    );
    // Two red items are below the minimum count for a share: a reminder, not 约谈.
    assert_eq!(colour(2, 0, 0).colour, Colour::Blue);
    // Red and yellow at 30 % of 10: YELLOW (通报); at 20 % of 20: BLUE; at 10 %: nothing.
    assert_eq!(colour(1, 2, 7).colour, Colour::Yellow);
    assert_eq!(colour(0, 4, 16).colour, Colour::Blue);
    assert_eq!(colour(0, 2, 18).colour, Colour::None);
    assert_eq!(colour(0, 0, 0).colour, Colour::None);
    // The reason names five items and a count.
    let many = colour(8, 0, 2);
    assert!(
        many.reason.ends_with("督〔2026〕4号、督〔2026〕5号等"),
        "{}",
        many.reason
    );
    assert_eq!(unit_measure(Colour::Yellow), "通报");
}

#[test]
fn the_on_time_rate_judges_a_unit_only_over_enough_closures() {
    let policy = ColourPolicy::default();
    let rated = |closed, on_time| {
        unit_colour(
            &policy,
            &UnitFacts {
                closed,
                closed_on_time: on_time,
                ..UnitFacts::default()
            },
        )
    };
    let forty = rated(10, 4);
    assert_eq!(forty.colour, Colour::Red);
    assert_eq!(forty.reason, "近90天按期办结率40.0%（4/10）");
    assert_eq!(rated(20, 13).colour, Colour::Blue, "65 % is below 70 %");
    assert_eq!(rated(20, 11).colour, Colour::Yellow, "55 %");
    assert_eq!(rated(20, 14).colour, Colour::None, "70 %");
    // One closure, late: 0 %, but one closure is not a rate; nor are nine.
    assert_eq!(rated(1, 0).colour, Colour::None);
    assert_eq!(rated(9, 0).colour, Colour::None);
    assert_eq!(rated(10, 0).colour, Colour::Red);
}

#[test]
fn a_co_unit_answers_for_its_own_part_only() {
    // The co-unit is due 10-08, the lead 10-09.
    let mut co = facts(at(2026, 10, 8, 18));
    co.lead = false;
    // Before it reports, the co-unit's clock runs on its own due.
    assert_eq!(colour_at(&co, at(2026, 10, 8, 9)).colour, Colour::Blue);
    // It never reports; the lead reports on 10-09: the co-unit's part ends one working day
    // late, for good.
    co.first_feedback_at = Some(at(2026, 10, 9, 10));
    co.feedback_at = co.first_feedback_at;
    co.stage = Stage::FeedbackSubmitted;
    let done = colour_at(&co, at(2026, 11, 20, 9));
    assert_eq!(done.colour, Colour::Yellow);
    assert!(
        done.reason.starts_with("协办部分逾期1个工作日"),
        "{}",
        done.reason
    );
    // The lead's report is rejected twice and the item found again by 回头看: the lead's
    // matter, not the co-unit's; the co-unit's part stays as it was judged.
    co.stage = Stage::InProgress;
    co.rejections = 2;
    co.reopened = true;
    co.feedback_at = None;
    let rework = colour_at(&co, at(2026, 11, 20, 9));
    assert_eq!(rework, done);
    assert_eq!(
        working_days_late(
            &Calendar::national(),
            chrono_tz::Asia::Shanghai,
            &co,
            at(2026, 11, 20, 9)
        ),
        1
    );
    // Had it reported its part on 10-08, it was on time whenever the lead reported, and owes
    // no progress report any more.
    co.own_report_at = Some(at(2026, 10, 8, 10));
    co.report_cycle_days = Some(7);
    let on_time = colour_at(&co, at(2026, 11, 20, 9));
    assert_eq!(on_time.colour, Colour::None);
    assert_eq!(on_time.reason, "协办部分已按期报送");
    // Its own report ends its part before the lead reports at all.
    co.first_feedback_at = None;
    co.stage = Stage::InProgress;
    co.rejections = 0;
    co.reopened = false;
    assert_eq!(colour_at(&co, at(2026, 10, 20, 9)).colour, Colour::None);
    // The lead itself is red for the lead's facts.
    co.lead = true;
    co.rejections = 2;
    assert_eq!(colour_at(&co, at(2026, 11, 20, 9)).colour, Colour::Red);
}

#[test]
fn working_days_late_equals_the_lateness_the_reason_states() {
    let calendar = Calendar::national();
    let mut f = facts(at(2026, 10, 9, 18));
    f.feedback_at = Some(at(2026, 10, 16, 10));
    f.stage = Stage::FeedbackSubmitted;
    let verdict = colour_at(&f, at(2026, 11, 30, 9));
    let late = working_days_late(
        &calendar,
        chrono_tz::Asia::Shanghai,
        &f,
        at(2026, 11, 30, 9),
    );
    assert!(
        verdict
            .reason
            .contains(&format!("办结反馈逾期{late}个工作日")),
        "{late}: {}",
        verdict.reason
    );
    assert!(late > 0);
    f.stage = Stage::InProgress;
    f.feedback_at = None;
    let running = colour_at(&f, at(2026, 10, 20, 9));
    let late = working_days_late(
        &calendar,
        chrono_tz::Asia::Shanghai,
        &f,
        at(2026, 10, 20, 9),
    );
    assert!(running.reason.contains(&format!("已逾期{late}个工作日")));
    f.stage = Stage::Suspended;
    assert_eq!(
        working_days_late(
            &calendar,
            chrono_tz::Asia::Shanghai,
            &f,
            at(2026, 10, 20, 9)
        ),
        0
    );
}

#[test]
fn two_periods_running_raise_a_unit_by_one_colour_but_improvement_is_not_punished() {
    let policy = ColourPolicy::default();
    let blue_now = UnitFacts {
        items: open_items(0, 1, 4),
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
        items: open_items(1, 2, 4),
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
