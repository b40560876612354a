//! The national calendar, day by day, against the notices; the counting semantics; the
//! deadline rules; and properties that must hold for any date.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use ducha_calendar::{
    Calendar, CalendarData, DayKind, DeadlinePolicy, DeadlineRule, LocalOverride, SpecialKind,
};
use proptest::prelude::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

fn shanghai(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid Shanghai time")
        .with_timezone(&Utc)
}

fn mmdd(year: i32, list: &str) -> Vec<NaiveDate> {
    list.split_whitespace()
        .map(|s| {
            let (m, d) = s.split_once('-').expect("MM-DD");
            date(year, m.parse().expect("month"), d.parse().expect("day"))
        })
        .collect()
}

/// Per year: working days in the year, weekday days off (MM-DD), weekend working days (MM-DD).
/// Expected values taken from python-holidays (vacanza/holidays), an independent source from
/// the one the data file was written from; see data/SOURCES.md.
const PINNED: &[(i32, i64, &str, &str)] = &[
    (
        2004,
        252,
        "01-01 01-22 01-23 01-26 01-27 01-28 05-03 05-04 05-05 05-06 05-07 10-01 10-04 10-05 10-06 10-07",
        "01-17 01-18 05-08 05-09 10-09 10-10",
    ),
    (
        2005,
        251,
        "01-03 02-09 02-10 02-11 02-14 02-15 05-02 05-03 05-04 05-05 05-06 10-03 10-04 10-05 10-06 10-07",
        "02-05 02-06 04-30 05-08 10-08 10-09 12-31",
    ),
    (
        2006,
        251,
        "01-02 01-03 01-30 01-31 02-01 02-02 02-03 05-01 05-02 05-03 05-04 05-05 10-02 10-03 10-04 10-05 10-06",
        "01-28 02-05 04-29 04-30 09-30 10-08 12-30 12-31",
    ),
    (
        2007,
        249,
        "01-01 01-02 01-03 02-19 02-20 02-21 02-22 02-23 05-01 05-02 05-03 05-04 05-07 10-01 10-02 10-03 10-04 10-05 12-31",
        "02-17 02-25 04-28 04-29 09-29 09-30 12-29",
    ),
    (
        2008,
        251,
        "01-01 02-06 02-07 02-08 02-11 02-12 04-04 05-01 05-02 06-09 09-15 09-29 09-30 10-01 10-02 10-03",
        "02-02 02-03 05-04 09-27 09-28",
    ),
    (
        2009,
        250,
        "01-01 01-02 01-26 01-27 01-28 01-29 01-30 04-06 05-01 05-28 05-29 10-01 10-02 10-05 10-06 10-07 10-08",
        "01-04 01-24 02-01 05-31 09-27 10-10",
    ),
    (
        2010,
        250,
        "01-01 02-15 02-16 02-17 02-18 02-19 04-05 05-03 06-14 06-15 06-16 09-22 09-23 09-24 10-01 10-04 10-05 10-06 10-07",
        "02-20 02-21 06-12 06-13 09-19 09-25 09-26 10-09",
    ),
    (
        2011,
        250,
        "01-03 02-02 02-03 02-04 02-07 02-08 04-04 04-05 05-02 06-06 09-12 10-03 10-04 10-05 10-06 10-07",
        "01-30 02-12 04-02 10-08 10-09 12-31",
    ),
    (
        2012,
        249,
        "01-02 01-03 01-23 01-24 01-25 01-26 01-27 04-02 04-03 04-04 04-30 05-01 06-22 10-01 10-02 10-03 10-04 10-05",
        "01-21 01-29 03-31 04-01 04-28 09-29",
    ),
    (
        2013,
        250,
        "01-01 01-02 01-03 02-11 02-12 02-13 02-14 02-15 04-04 04-05 04-29 04-30 05-01 06-10 06-11 06-12 09-19 09-20 10-01 10-02 10-03 10-04 10-07",
        "01-05 01-06 02-16 02-17 04-07 04-27 04-28 06-08 06-09 09-22 09-29 10-12",
    ),
    (
        2014,
        250,
        "01-01 01-31 02-03 02-04 02-05 02-06 04-07 05-01 05-02 06-02 09-08 10-01 10-02 10-03 10-06 10-07",
        "01-26 02-08 05-04 09-28 10-11",
    ),
    (
        2015,
        249,
        "01-01 01-02 02-18 02-19 02-20 02-23 02-24 04-06 05-01 06-22 09-03 09-04 10-01 10-02 10-05 10-06 10-07",
        "01-04 02-15 02-28 09-06 10-10",
    ),
    (
        2016,
        250,
        "01-01 02-08 02-09 02-10 02-11 02-12 04-04 05-02 06-09 06-10 09-15 09-16 10-03 10-04 10-05 10-06 10-07",
        "02-06 02-14 06-12 09-18 10-08 10-09",
    ),
    (
        2017,
        249,
        "01-02 01-27 01-30 01-31 02-01 02-02 04-03 04-04 05-01 05-29 05-30 10-02 10-03 10-04 10-05 10-06",
        "01-22 02-04 04-01 05-27 09-30",
    ),
    (
        2018,
        250,
        "01-01 02-15 02-16 02-19 02-20 02-21 04-05 04-06 04-30 05-01 06-18 09-24 10-01 10-02 10-03 10-04 10-05 12-31",
        "02-11 02-24 04-08 04-28 09-29 09-30 12-29",
    ),
    (
        2019,
        250,
        "01-01 02-04 02-05 02-06 02-07 02-08 04-05 05-01 05-02 05-03 06-07 09-13 10-01 10-02 10-03 10-04 10-07",
        "02-02 02-03 04-28 05-05 09-29 10-12",
    ),
    (
        2020,
        249,
        "01-01 01-24 01-27 01-28 01-29 01-30 01-31 04-06 05-01 05-04 05-05 06-25 06-26 10-01 10-02 10-05 10-06 10-07 10-08",
        "01-19 04-26 05-09 06-28 09-27 10-10",
    ),
    (
        2021,
        250,
        "01-01 02-11 02-12 02-15 02-16 02-17 04-05 05-03 05-04 05-05 06-14 09-20 09-21 10-01 10-04 10-05 10-06 10-07",
        "02-07 02-20 04-25 05-08 09-18 09-26 10-09",
    ),
    (
        2022,
        249,
        "01-03 01-31 02-01 02-02 02-03 02-04 04-04 04-05 05-02 05-03 05-04 06-03 09-12 10-03 10-04 10-05 10-06 10-07",
        "01-29 01-30 04-02 04-24 05-07 10-08 10-09",
    ),
    (
        2023,
        249,
        "01-02 01-23 01-24 01-25 01-26 01-27 04-05 05-01 05-02 05-03 06-22 06-23 09-29 10-02 10-03 10-04 10-05 10-06",
        "01-28 01-29 04-23 05-06 06-25 10-07 10-08",
    ),
    (
        2024,
        251,
        "01-01 02-12 02-13 02-14 02-15 02-16 04-04 04-05 05-01 05-02 05-03 06-10 09-16 09-17 10-01 10-02 10-03 10-04 10-07",
        "02-04 02-18 04-07 04-28 05-11 09-14 09-29 10-12",
    ),
    (
        2025,
        248,
        "01-01 01-28 01-29 01-30 01-31 02-03 02-04 04-04 05-01 05-02 05-05 06-02 10-01 10-02 10-03 10-06 10-07 10-08",
        "01-26 02-08 04-27 09-28 10-11",
    ),
    (
        2026,
        248,
        "01-01 01-02 02-16 02-17 02-18 02-19 02-20 02-23 04-06 05-01 05-04 05-05 06-19 09-25 10-01 10-02 10-05 10-06 10-07",
        "01-04 02-14 02-28 05-09 09-20 10-10",
    ),
];

#[test]
fn the_bundled_data_file_parses_and_covers_2004_to_2026() {
    let data = CalendarData::from_toml(ducha_calendar::NATIONAL_TOML).expect("bundled data parses");
    let years: Vec<i32> = data.years().map(|y| y.year).collect();
    assert_eq!(years, (2004..=2026).collect::<Vec<_>>());
    assert!(
        data.years()
            .all(|y| y.notice.source.is_some() || !y.amendments.is_empty())
    );
}

#[test]
fn every_year_2004_to_2026_matches_the_notices_day_by_day() {
    let cal = Calendar::national();
    for &(year, working_days, weekday_offs, weekend_works) in PINNED {
        let first = date(year, 1, 1);
        let mut offs = Vec::new();
        let mut works = Vec::new();
        let mut count = 0;
        for day in first.iter_days().take_while(|d| d.year() == year) {
            let answer = cal.is_working_day(day);
            assert!(!answer.provisional, "{day} should be covered by a notice");
            let weekend = day.weekday().number_from_monday() >= 6;
            match (answer.value, weekend) {
                (true, true) => works.push(day),
                (false, false) => offs.push(day),
                _ => {}
            }
            count += i64::from(answer.value);
        }
        assert_eq!(offs, mmdd(year, weekday_offs), "weekday days off in {year}");
        assert_eq!(
            works,
            mmdd(year, weekend_works),
            "调休 working weekends in {year}"
        );
        assert_eq!(count, working_days, "working days in {year}");
        let last = date(year, 12, 31);
        let prev_last = date(year - 1, 12, 31);
        assert_eq!(
            cal.working_days_between(prev_last, last).value,
            working_days
        );
    }
}

#[test]
fn the_2020_spring_festival_extension_is_applied_over_the_annual_notice() {
    let cal = Calendar::national();
    // The annual notice (国办发明电〔2019〕16号) ended the holiday on 01-30 with Saturday
    // 02-01 as a working day; 国办发明电〔2020〕1号 extended it to Sunday 02-02.
    for day in [date(2020, 1, 31), date(2020, 2, 1), date(2020, 2, 2)] {
        assert!(
            !cal.is_working_day(day).value,
            "{day} is off after the extension"
        );
    }
    assert!(cal.is_working_day(date(2020, 2, 3)).value);
    assert!(
        cal.is_working_day(date(2020, 1, 19)).value,
        "the 调休 Sunday before stays"
    );
    assert_eq!(
        cal.day_kind(date(2020, 2, 1)).value,
        DayKind::Holiday("春节".into())
    );
    let year = cal.data().year(2020).expect("2020 is bundled");
    assert_eq!(year.amendments.len(), 1);
    assert_eq!(
        year.amendments[0].notice.document.as_deref(),
        Some("国办发明电〔2020〕1号")
    );
}

#[test]
fn the_2019_may_day_change_replaced_the_one_day_holiday() {
    let cal = Calendar::national();
    // The annual notice gave May Day 2019 one day; 国办发明电〔2019〕3号 made it 05-01..05-04
    // with Sundays 04-28 and 05-05 worked.
    for day in [date(2019, 5, 2), date(2019, 5, 3)] {
        assert!(
            !cal.is_working_day(day).value,
            "{day} is off after the change"
        );
    }
    assert_eq!(
        cal.day_kind(date(2019, 4, 28)).value,
        DayKind::MakeupWorkday("劳动节".into())
    );
    assert!(cal.is_working_day(date(2019, 5, 5)).value);
    let base_only = {
        let year = cal.data().year(2019).expect("2019 is bundled").clone();
        let mut data = CalendarData::default();
        let mut unamended = year;
        unamended.amendments.clear();
        data.insert_year(unamended).expect("valid year");
        Calendar::build(data)
    };
    assert!(
        base_only.is_working_day(date(2019, 5, 2)).value,
        "before the change 05-02 was worked"
    );
}

#[test]
fn the_2015_victory_day_notice_adds_its_own_days() {
    let cal = Calendar::national();
    assert!(!cal.is_working_day(date(2015, 9, 3)).value);
    assert!(!cal.is_working_day(date(2015, 9, 4)).value);
    assert!(
        cal.is_working_day(date(2015, 9, 6)).value,
        "Sunday 09-06 was worked"
    );
}

#[test]
fn the_cli_examples_of_the_issue_hold() {
    let cal = Calendar::national();
    assert_eq!(
        cal.is_working_day(date(2026, 10, 10)),
        ducha_calendar::Answer {
            value: true,
            provisional: false
        }
    );
    // 10-01..10-07 off; 10-08 Thu, 10-09 Fri, 10-10 Sat (调休) are the first three working days.
    assert_eq!(
        cal.add_working_days(date(2026, 9, 30), 3)
            .expect("in range")
            .value,
        date(2026, 10, 10)
    );
    assert_eq!(
        cal.working_days_between(date(2026, 9, 30), date(2026, 10, 12))
            .value,
        4
    );
}

#[test]
fn counting_follows_civil_code_semantics() {
    let cal = Calendar::national();
    let friday = date(2026, 11, 20);
    let add = |d, n| cal.add_working_days(d, n).expect("in range").value;
    assert_eq!(
        add(friday, 1),
        date(2026, 11, 23),
        "start day not counted; weekend skipped"
    );
    assert_eq!(add(friday, 0), friday, "0 on a working day is that day");
    assert_eq!(
        add(date(2026, 11, 21), 0),
        date(2026, 11, 23),
        "0 on a Saturday rolls forward"
    );
    assert_eq!(
        add(date(2026, 11, 23), -1),
        friday,
        "negative counts backwards"
    );
    assert_eq!(
        add(date(2026, 10, 8), -1),
        date(2026, 9, 30),
        "backwards across National Day"
    );
    assert_eq!(cal.working_days_between(friday, friday).value, 0);
    assert_eq!(
        cal.working_days_between(date(2026, 10, 12), date(2026, 9, 30))
            .value,
        -4
    );
}

#[test]
fn years_without_a_notice_count_the_laws_holidays_and_are_provisional() {
    let cal = Calendar::national();
    let answer = cal
        .add_working_days(date(2026, 12, 31), 3)
        .expect("in range");
    // 2027-01-01 is a Friday with no notice yet: 元旦 by law, so a day off, and the answer
    // says it may change (the notice may add 调休).
    assert_eq!(answer.value, date(2027, 1, 6));
    assert!(answer.provisional);
    // Past the ten assumed years (2027–2036) only weekends rest: 2037-01-01 is a Thursday.
    let far = cal
        .add_working_days(date(2036, 12, 31), 1)
        .expect("in range");
    assert_eq!((far.value, far.provisional), (date(2037, 1, 1), true));
    assert!(
        !cal.add_working_days(date(2026, 12, 28), 3)
            .expect("in range")
            .provisional
    );
    assert!(cal.is_working_day(date(2003, 5, 6)).provisional);
    assert!(
        cal.working_days_between(date(2026, 12, 1), date(2027, 1, 1))
            .provisional
    );
    assert_eq!(
        cal.provisional_years(date(2026, 12, 1), date(2028, 1, 1)),
        vec![2027, 2028]
    );
}

#[test]
fn local_overrides_layer_on_top_of_the_national_calendar() {
    let mut data = CalendarData::national();
    data.add_override(LocalOverride {
        date: date(2026, 11, 25),
        working: false,
        name: "区运动会".into(),
    });
    data.add_override(LocalOverride {
        date: date(2026, 10, 10),
        working: false,
        name: "本区不调休".into(),
    });
    let cal = Calendar::build(data);
    assert!(!cal.is_working_day(date(2026, 11, 25)).value);
    assert!(
        !cal.is_working_day(date(2026, 10, 10)).value,
        "a local day off beats the national 调休"
    );
    assert_eq!(
        cal.add_working_days(date(2026, 11, 24), 1)
            .expect("ok")
            .value,
        date(2026, 11, 26)
    );
    assert_ne!(cal.version(), Calendar::national().version());
}

#[test]
fn an_override_in_a_provisional_year_stays_provisional() {
    let mut data = CalendarData::national();
    data.add_override(LocalOverride {
        date: date(2027, 3, 1),
        working: false,
        name: "本地".into(),
    });
    let cal = Calendar::build(data);
    let answer = cal.is_working_day(date(2027, 3, 1));
    assert!(!answer.value);
    assert!(answer.provisional);
    // Around it the assumed year counts as before: no holiday near 2027-03-01.
    assert_eq!(
        cal.add_working_days(date(2027, 2, 26), 1)
            .expect("ok")
            .value,
        date(2027, 3, 2)
    );
    assert_eq!(
        cal.add_working_days(date(2027, 3, 2), 5).expect("ok").value,
        date(2027, 3, 9)
    );
}

#[test]
fn working_day_deadlines_are_due_at_the_office_cutoff() {
    let cal = Calendar::national();
    let policy = DeadlinePolicy::default();
    // Assigned on the eve of National Day at 16:00: 3 working days is the 调休 Saturday.
    let deadline = cal
        .deadline(
            &policy,
            shanghai(2026, 9, 30, 16, 0),
            DeadlineRule::WorkingDays(3),
        )
        .expect("computes");
    assert_eq!(deadline.due_at, shanghai(2026, 10, 10, 18, 0));
    assert!(!deadline.provisional);
    let crossed: Vec<_> = deadline
        .explanation
        .crossed
        .iter()
        .map(|c| (c.date, c.kind))
        .collect();
    assert!(crossed.contains(&(date(2026, 10, 1), SpecialKind::Off)));
    assert!(crossed.contains(&(date(2026, 10, 10), SpecialKind::Work)));
    assert!(
        deadline.explanation.summary.contains("国庆节"),
        "{}",
        deadline.explanation.summary
    );
    assert!(deadline.explanation.summary.contains("调休上班"));
}

#[test]
fn the_start_day_uses_the_local_date_not_utc() {
    let cal = Calendar::national();
    let policy = DeadlinePolicy::default();
    // 2026-11-23 01:00 in Shanghai is still 2026-11-22 in UTC.
    let start = shanghai(2026, 11, 23, 1, 0);
    assert_eq!(start.date_naive(), date(2026, 11, 22));
    let deadline = cal
        .deadline(&policy, start, DeadlineRule::WorkingDays(1))
        .expect("ok");
    assert_eq!(deadline.due_date, date(2026, 11, 24));
}

#[test]
fn calendar_day_and_month_deadlines_roll_forward_onto_a_working_day() {
    let cal = Calendar::national();
    let policy = DeadlinePolicy::default();
    let days = cal
        .deadline(
            &policy,
            shanghai(2026, 9, 25, 9, 0),
            DeadlineRule::CalendarDays(7),
        )
        .expect("ok");
    // 10-02 is in the National Day holiday: rolled to 10-08.
    assert_eq!(days.due_date, date(2026, 10, 8));
    assert_eq!(days.explanation.rolled_from, Some(date(2026, 10, 2)));
    let months = cal
        .deadline(
            &policy,
            shanghai(2026, 1, 31, 9, 0),
            DeadlineRule::Months(1),
        )
        .expect("ok");
    // Clamped to 02-28, the 调休 Saturday: a working day, so it stays.
    assert_eq!(months.due_date, date(2026, 2, 28));
    assert_eq!(months.explanation.rolled_from, None);
}

#[test]
fn hour_deadlines_are_wall_clock_and_fixed_dates_are_kept() {
    let cal = Calendar::national();
    let policy = DeadlinePolicy::default();
    let start = shanghai(2026, 10, 1, 9, 30);
    let hours = cal
        .deadline(&policy, start, DeadlineRule::Hours(24))
        .expect("ok");
    assert_eq!(hours.due_at, shanghai(2026, 10, 2, 9, 30));
    let fixed = cal
        .deadline(&policy, start, DeadlineRule::FixedDate(date(2026, 10, 3)))
        .expect("ok");
    assert_eq!(
        fixed.due_at,
        shanghai(2026, 10, 3, 18, 0),
        "a stated date is not rolled"
    );
}

#[test]
fn deadline_rules_parse_from_the_way_people_write_them() {
    let cases = [
        ("3个工作日内", DeadlineRule::WorkingDays(3)),
        ("5工作日", DeadlineRule::WorkingDays(5)),
        ("-3个工作日", DeadlineRule::WorkingDays(-3)),
        ("会前3个工作日", DeadlineRule::WorkingDays(-3)),
        ("会前3天", DeadlineRule::CalendarDays(-3)),
        ("10天", DeadlineRule::CalendarDays(10)),
        ("7个自然日", DeadlineRule::CalendarDays(7)),
        ("48小时", DeadlineRule::Hours(48)),
        ("2个月内", DeadlineRule::Months(2)),
        ("2026-12-31", DeadlineRule::FixedDate(date(2026, 12, 31))),
    ];
    for (text, rule) in cases {
        assert_eq!(text.parse::<DeadlineRule>(), Ok(rule), "{text}");
        assert_eq!(
            rule.to_string().parse::<DeadlineRule>(),
            Ok(rule),
            "round trip of {rule}"
        );
    }
    for bad in [
        "",
        "三个工作日",
        "3周",
        "个工作日",
        "99999999999个工作日",
        "会前-3天",
    ] {
        assert!(
            bad.parse::<DeadlineRule>().is_err(),
            "{bad:?} must be rejected"
        );
    }
}

#[test]
fn holiday_cn_json_imports_as_a_year() {
    let json = r#"{"year": 2027, "papers": ["https://www.gov.cn/example"], "days": [
        {"name": "元旦", "date": "2027-01-01", "isOffDay": true},
        {"name": "元旦", "date": "2027-01-02", "isOffDay": true},
        {"name": "元旦", "date": "2027-01-03", "isOffDay": true},
        {"name": "春节", "date": "2027-02-20", "isOffDay": false}]}"#;
    let year = CalendarData::parse_holiday_cn(json).expect("parses");
    assert_eq!(
        year.holidays[0].off[0].to_string(),
        "2027-01-01..2027-01-03"
    );
    let mut data = CalendarData::national();
    data.insert_year(year).expect("valid");
    let cal = Calendar::build(data);
    let answer = cal.is_working_day(date(2027, 1, 1));
    assert_eq!((answer.value, answer.provisional), (false, false));
    assert!(
        cal.is_working_day(date(2027, 2, 20)).value,
        "the Saturday is worked"
    );
    // The notice replaces the law's assumed days for its year: this one names no 春节 days
    // off, so the 春节 assumed before (02-05..02-10) is gone.
    assert!(cal.is_working_day(date(2027, 2, 9)).value);
    assert!(cal.special_day(date(2027, 2, 9)).is_none());
    let stray =
        r#"{"year": 2027, "days": [{"name": "x", "date": "2031-05-01", "isOffDay": true}]}"#;
    assert!(CalendarData::parse_holiday_cn(stray).is_err());
    assert!(CalendarData::parse_holiday_cn("not json").is_err());
}

/// Reference implementation: one day at a time. Slow and obviously right.
fn naive_add(cal: &Calendar, start: NaiveDate, n: i32) -> NaiveDate {
    let working = |d: NaiveDate| cal.is_working_day(d).value;
    let mut day = start;
    if n == 0 {
        while !working(day) {
            day = day.succ_opt().expect("in range");
        }
        return day;
    }
    let mut left = n.abs();
    while left > 0 {
        day = if n > 0 {
            day.succ_opt()
        } else {
            day.pred_opt()
        }
        .expect("in range");
        if working(day) {
            left -= 1;
        }
    }
    day
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    // 2000..2040 straddles the bundled data on both sides: before it, weekends only; after
    // it, the years with the law's holidays assumed (2027–2036), then weekends only again.
    (0i64..(41 * 366)).prop_map(|offset| date(2000, 1, 1) + chrono::Duration::days(offset))
}

proptest! {
    #[test]
    fn between_inverts_add(start in any_date(), n in -400i32..400) {
        let cal = Calendar::national();
        let end = cal.add_working_days(start, n).expect("in range").value;
        // `between` counts (a, b]. Forwards that is exact. `add d 0` rolls a rest day forward
        // onto the next working day, which lies in (d, end]; backwards, a rest day `d` is not
        // itself counted in (end, d], so the count is one short of |n|.
        let resting = i64::from(!cal.is_working_day(start).value);
        let expected = match n {
            0 => resting,
            n if n > 0 => i64::from(n),
            n => i64::from(n) + resting,
        };
        prop_assert_eq!(cal.working_days_between(start, end).value, expected);
        if n > 0 {
            prop_assert!(cal.is_working_day(end).value);
        }
    }

    #[test]
    fn add_matches_counting_one_day_at_a_time(start in any_date(), n in -60i32..60) {
        let cal = Calendar::national();
        prop_assert_eq!(cal.add_working_days(start, n).expect("in range").value, naive_add(&cal, start, n));
    }

    #[test]
    fn between_is_antisymmetric_and_additive(a in any_date(), b in any_date(), c in any_date()) {
        let cal = Calendar::national();
        let ab = cal.working_days_between(a, b).value;
        prop_assert_eq!(cal.working_days_between(b, a).value, -ab);
        let bc = cal.working_days_between(b, c).value;
        prop_assert_eq!(cal.working_days_between(a, c).value, ab + bc);
    }

    #[test]
    fn provisional_exactly_when_a_year_without_notice_is_touched(start in any_date(), n in 0i32..300) {
        let cal = Calendar::national();
        let answer = cal.add_working_days(start, n).expect("in range");
        let touches_unknown = (start.year()..=answer.value.year()).any(|y| !(2004..=2026).contains(&y));
        prop_assert_eq!(answer.provisional, touches_unknown);
    }
}
