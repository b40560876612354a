//! Years without a notice: the law's holidays are assumed for the ten years after the last
//! notice, marked as such, and give way to a notice or a local override.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use ducha_calendar::statutory;
use ducha_calendar::{
    Calendar, CalendarData, CrossedDay, DayKind, DeadlinePolicy, DeadlineRule, LocalOverride,
    Origin, SpecialKind,
};
use proptest::prelude::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

fn shanghai(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("valid Shanghai time")
        .with_timezone(&Utc)
}

#[test]
fn the_ten_years_after_the_last_notice_are_assumed() {
    let cal = Calendar::national();
    assert_eq!(cal.assumed_years(), Some(2027..=2036));
    let new_year = cal.is_working_day(date(2027, 1, 1));
    assert_eq!((new_year.value, new_year.provisional), (false, true));
    assert_eq!(
        cal.day_kind(date(2027, 1, 1)).value,
        DayKind::Holiday("元旦".into())
    );
    let day = cal.special_day(date(2027, 1, 1)).expect("assumed");
    assert_eq!(
        day.origin,
        Origin::Assumed {
            year: 2027,
            law: "全国年节及纪念日放假办法".into()
        }
    );
    assert!(day.is_assumed());
    // 春节 2027: 除夕 02-05 to 初三 02-08, with 补假 for Saturday and Sunday on 02-09, 02-10.
    for d in 5..=10 {
        assert!(!cal.is_working_day(date(2027, 2, d)).value, "02-{d}");
    }
    assert!(cal.is_working_day(date(2027, 2, 11)).value);
    assert_eq!(
        cal.day_kind(date(2027, 2, 9)).value,
        DayKind::Holiday("春节补假".into())
    );
    // No 调休: the notice is what would make a weekend a working day.
    assert!(!cal.is_working_day(date(2027, 2, 13)).value, "a Saturday");
    // The last assumed year, and the first after it.
    assert!(!cal.is_working_day(date(2036, 10, 1)).value);
    assert!(cal.is_working_day(date(2037, 10, 1)).value, "weekends only");
    assert!(cal.is_working_day(date(2037, 10, 1)).provisional);
    // Before the first notice nothing is assumed: 2003-10-01 was a Wednesday.
    assert!(cal.is_working_day(date(2003, 10, 1)).value);
}

#[test]
fn assumed_days_are_listed_and_counted() {
    let cal = Calendar::national();
    let days = cal.assumed_days(date(2027, 9, 30), date(2027, 10, 31));
    let listed: Vec<(u32, &str)> = days
        .iter()
        .map(|d| (d.date.day(), d.name.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            (1, "国庆节"),
            (2, "国庆节"),
            (3, "国庆节"),
            (4, "国庆节补假"),
            (5, "国庆节补假")
        ]
    );
    assert_eq!(
        cal.assumed_days(date(2027, 10, 31), date(2027, 9, 30))
            .len(),
        5,
        "either order"
    );
    assert!(
        cal.assumed_days(date(2026, 1, 1), date(2026, 12, 31))
            .is_empty()
    );
    // 2027 by the law: 261 weekdays, 13 of them statutory days or 补假.
    let worked = cal
        .working_days_between(date(2026, 12, 31), date(2027, 12, 31))
        .value;
    assert_eq!(worked, 261 - 13);
}

#[test]
fn a_notice_replaces_the_assumption_for_its_year_only() {
    let mut data = CalendarData::national();
    let before = Calendar::build(data.clone());
    let json = r#"{"year": 2027, "papers": [], "days": [
        {"name": "元旦", "date": "2027-01-01", "isOffDay": true},
        {"name": "春节", "date": "2027-02-05", "isOffDay": true},
        {"name": "春节", "date": "2027-02-06", "isOffDay": true},
        {"name": "春节", "date": "2027-02-07", "isOffDay": true},
        {"name": "春节", "date": "2027-02-08", "isOffDay": true},
        {"name": "春节", "date": "2027-02-09", "isOffDay": true},
        {"name": "春节", "date": "2027-02-10", "isOffDay": true},
        {"name": "春节", "date": "2027-02-11", "isOffDay": true},
        {"name": "春节", "date": "2027-02-20", "isOffDay": false}]}"#;
    data.insert_year(CalendarData::parse_holiday_cn(json).expect("parses"))
        .expect("valid");
    let cal = Calendar::build(data);
    assert_eq!(cal.assumed_years(), Some(2028..=2037));
    // 2027 is the notice's alone: settled, and its 调休 counts.
    let answer = cal.is_working_day(date(2027, 2, 11));
    assert_eq!((answer.value, answer.provisional), (false, false));
    assert!(cal.is_working_day(date(2027, 2, 20)).value);
    assert!(
        cal.assumed_days(date(2027, 1, 1), date(2027, 12, 31))
            .is_empty()
    );
    // This toy notice names no 国庆: nothing is assumed for it in a year with a notice.
    assert!(cal.is_working_day(date(2027, 10, 1)).value);
    // The window moved on by a year.
    assert!(!cal.is_working_day(date(2037, 10, 1)).value);
    assert_ne!(cal.version(), before.version());
}

#[test]
fn local_overrides_win_over_assumed_days() {
    let mut data = CalendarData::national();
    data.add_override(LocalOverride {
        date: date(2027, 10, 4),
        working: true,
        name: "本区正常上班".into(),
    });
    let cal = Calendar::build(data);
    let answer = cal.is_working_day(date(2027, 10, 4));
    assert_eq!((answer.value, answer.provisional), (true, true));
    assert_eq!(
        cal.special_day(date(2027, 10, 4)).map(|d| &d.origin),
        Some(&Origin::Local)
    );
}

#[test]
fn nothing_is_assumed_for_a_gap_between_notices() {
    // A year missing between two notices stays weekends only: the law's days are assumed
    // only after the last notice.
    let national = CalendarData::national();
    let mut data = CalendarData::default();
    for year in [2019, 2021] {
        data.insert_year(national.year(year).expect("bundled").clone())
            .expect("valid");
    }
    let cal = Calendar::build(data);
    assert_eq!(cal.assumed_years(), Some(2022..=2031));
    assert!(cal.is_working_day(date(2020, 10, 1)).value, "a Thursday");
    assert!(cal.is_working_day(date(2020, 10, 1)).provisional);
    // 2022 by the law in force then (2014 edition: 春节 初一 to 初三, 02-01..02-03).
    assert!(!cal.is_working_day(date(2022, 2, 3)).value);
    assert!(
        cal.is_working_day(date(2022, 1, 31)).value,
        "除夕 not yet a holiday"
    );
}

#[test]
fn the_version_follows_what_is_counted_in_the_assumed_years() {
    let national = Calendar::national();
    assert_eq!(national.version(), Calendar::national().version());
    let with = |working: bool| {
        let mut data = CalendarData::national();
        data.add_override(LocalOverride {
            date: date(2027, 1, 1),
            working,
            name: "元旦".into(),
        });
        Calendar::build(data)
    };
    // An override that agrees with the assumed day off changes nothing counted; one that
    // makes it a working day does.
    assert_eq!(with(false).version(), national.version());
    assert_ne!(with(true).version(), national.version());
}

#[test]
fn a_provisional_deadline_names_the_days_it_assumed() {
    let cal = Calendar::national();
    let policy = DeadlinePolicy::default();
    let deadline = cal
        .deadline(
            &policy,
            shanghai(2026, 12, 30, 10),
            DeadlineRule::WorkingDays(5),
        )
        .expect("computes");
    // 12-31, then 01-01 off, 01-04 … 01-07.
    assert_eq!(deadline.due_date, date(2027, 1, 7));
    assert!(deadline.provisional);
    assert_eq!(deadline.explanation.provisional_years, [2027]);
    assert_eq!(
        deadline.explanation.crossed,
        [CrossedDay {
            date: date(2027, 1, 1),
            name: "元旦".into(),
            kind: SpecialKind::Off,
            local: false,
            assumed: true,
        }]
    );
    let summary = &deadline.explanation.summary;
    assert!(
        summary.ends_with(
            "2027年的放假安排尚未公布：已按《全国年节及纪念日放假办法》计入2027-01-01（元旦）等法定假日，调休暂未计入，公布后将重新计算。"
        ),
        "{summary}"
    );
}

#[test]
fn a_deadline_over_an_assumed_make_up_day_says_how_it_was_placed() {
    let cal = Calendar::national();
    let deadline = cal
        .deadline(
            &DeadlinePolicy::default(),
            shanghai(2027, 2, 4, 10),
            DeadlineRule::WorkingDays(1),
        )
        .expect("computes");
    assert_eq!(deadline.due_date, date(2027, 2, 11));
    let summary = &deadline.explanation.summary;
    assert!(
        summary.contains("计入2027-02-05至2027-02-08（春节）、2027-02-09至2027-02-10（春节补假）等法定假日（适逢周末的假日推定在其后的工作日补假）"),
        "{summary}"
    );
}

#[test]
fn provisional_years_with_and_without_assumed_days_read_differently() {
    let cal = Calendar::national();
    let policy = DeadlinePolicy::default();
    // Within 2027, between holidays: nothing assumed is crossed.
    let quiet = cal
        .deadline(
            &policy,
            shanghai(2027, 3, 1, 10),
            DeadlineRule::WorkingDays(3),
        )
        .expect("computes");
    assert!(
        quiet.explanation.summary.ends_with(
            "2027年的放假安排尚未公布：法定假日已按《全国年节及纪念日放假办法》计入（期间未遇），调休暂未计入，公布后将重新计算。"
        ),
        "{}",
        quiet.explanation.summary
    );
    // From 2036 into 2037: 2036 assumed, 2037 weekends only.
    let far = cal
        .deadline(
            &policy,
            shanghai(2036, 12, 15, 10),
            DeadlineRule::CalendarDays(30),
        )
        .expect("computes");
    assert_eq!(far.explanation.provisional_years, [2036, 2037]);
    let summary = &far.explanation.summary;
    assert!(summary.contains("2036年的放假安排尚未公布："), "{summary}");
    assert!(
        summary.ends_with("2037年的放假安排尚未公布，暂按周末计算，公布后将重新计算。"),
        "{summary}"
    );
}

#[test]
fn crossed_days_stored_before_assumed_days_existed_still_read() {
    let old = r#"{"date": "2026-10-01", "name": "国庆节", "kind": "Off", "local": false}"#;
    let day: CrossedDay = serde_json::from_str(old).expect("old JSON reads");
    assert!(!day.assumed);
}

proptest! {
    #[test]
    fn in_an_assumed_year_a_day_rests_exactly_when_it_is_a_weekend_or_the_laws(
        offset in 0i64..(10 * 365)
    ) {
        let cal = Calendar::national();
        let day = date(2027, 1, 1) + chrono::Duration::days(offset);
        let off = statutory::statutory_days_off(day.year())
            .iter()
            .any(|d| d.date == day);
        let weekend = day.weekday().number_from_monday() >= 6;
        let answer = cal.is_working_day(day);
        prop_assert_eq!(answer.value, !(off || weekend));
        prop_assert!(answer.provisional);
    }
}
