//! The computed statutory holidays against what is known: the published notices of
//! 2004–2026, and the almanac tables for 2004–2100.

use chrono::{Datelike, NaiveDate};
use ducha_calendar::statutory::{self, FestivalDates};
use ducha_calendar::{Calendar, CalendarData, DateRange, Holiday};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

fn festivals(year: i32) -> FestivalDates {
    statutory::festival_dates(year).unwrap_or_else(|| panic!("{year} computes"))
}

/// Year, then 春节 (正月初一), 清明, 端午 (五月初五), 中秋 (八月十五), as MM-DD.
///
/// Checked against two tables made independently of each other and of this crate: the Hong
/// Kong Observatory's Gregorian–lunar conversion tables (1901–2100, as shipped by the PyPI
/// package `lunardate` 0.3.0; its lunar years end at 2099) and 寿星万年历 (sxwnl, as shipped by
/// `lunar-python` 1.4.8, solar terms included). All three agree on every date below.
const ALMANAC: &str = "
2004 01-22 04-04 06-22 09-28
2005 02-09 04-05 06-11 09-18
2006 01-29 04-05 05-31 10-06
2007 02-18 04-05 06-19 09-25
2008 02-07 04-04 06-08 09-14
2009 01-26 04-04 05-28 10-03
2010 02-14 04-05 06-16 09-22
2011 02-03 04-05 06-06 09-12
2012 01-23 04-04 06-23 09-30
2013 02-10 04-04 06-12 09-19
2014 01-31 04-05 06-02 09-08
2015 02-19 04-05 06-20 09-27
2016 02-08 04-04 06-09 09-15
2017 01-28 04-04 05-30 10-04
2018 02-16 04-05 06-18 09-24
2019 02-05 04-05 06-07 09-13
2020 01-25 04-04 06-25 10-01
2021 02-12 04-04 06-14 09-21
2022 02-01 04-05 06-03 09-10
2023 01-22 04-05 06-22 09-29
2024 02-10 04-04 06-10 09-17
2025 01-29 04-04 05-31 10-06
2026 02-17 04-05 06-19 09-25
2027 02-06 04-05 06-09 09-15
2028 01-26 04-04 05-28 10-03
2029 02-13 04-04 06-16 09-22
2030 02-03 04-05 06-05 09-12
2031 01-23 04-05 06-24 10-01
2032 02-11 04-04 06-12 09-19
2033 01-31 04-04 06-01 09-08
2034 02-19 04-05 06-20 09-27
2035 02-08 04-05 06-10 09-16
2036 01-28 04-04 05-30 10-04
2037 02-15 04-04 06-18 09-24
2038 02-04 04-05 06-07 09-13
2039 01-24 04-05 05-27 10-02
2040 02-12 04-04 06-14 09-20
2041 02-01 04-04 06-03 09-10
2042 01-22 04-04 06-22 09-28
2043 02-10 04-05 06-11 09-17
2044 01-30 04-04 05-31 10-05
2045 02-17 04-04 06-19 09-25
2046 02-06 04-04 06-08 09-15
2047 01-26 04-05 05-29 10-04
2048 02-14 04-04 06-15 09-22
2049 02-02 04-04 06-04 09-11
2050 01-23 04-04 06-23 09-30
2051 02-11 04-05 06-13 09-19
2052 02-01 04-04 06-01 09-07
2053 02-19 04-04 06-20 09-26
2054 02-08 04-04 06-10 09-16
2055 01-28 04-05 05-30 10-05
2056 02-15 04-04 06-17 09-24
2057 02-04 04-04 06-06 09-13
2058 01-24 04-04 06-25 10-02
2059 02-12 04-05 06-14 09-21
2060 02-02 04-04 06-03 09-09
2061 01-21 04-04 06-22 09-28
2062 02-09 04-04 06-11 09-17
2063 01-29 04-05 06-01 10-06
2064 02-17 04-04 06-19 09-25
2065 02-05 04-04 06-08 09-15
2066 01-26 04-04 05-28 10-03
2067 02-14 04-05 06-16 09-23
2068 02-03 04-04 06-04 09-11
2069 01-23 04-04 06-23 09-29
2070 02-11 04-04 06-13 09-19
2071 01-31 04-05 06-02 09-08
2072 02-19 04-04 06-20 09-26
2073 02-07 04-04 06-10 09-16
2074 01-27 04-04 05-30 10-05
2075 02-15 04-04 06-17 09-24
2076 02-05 04-04 06-06 09-12
2077 01-24 04-04 06-24 10-01
2078 02-12 04-04 06-14 09-20
2079 02-02 04-04 06-04 09-10
2080 01-22 04-04 06-22 09-28
2081 02-09 04-04 06-11 09-17
2082 01-29 04-04 06-01 10-06
2083 02-17 04-04 06-19 09-26
2084 02-06 04-04 06-07 09-14
2085 01-26 04-04 05-27 10-03
2086 02-14 04-04 06-15 09-22
2087 02-03 04-04 06-05 09-11
2088 01-24 04-04 06-23 09-29
2089 02-10 04-04 06-13 09-18
2090 01-30 04-04 06-02 09-08
2091 02-18 04-04 06-21 09-27
2092 02-07 04-04 06-09 09-16
2093 01-27 04-04 05-29 10-05
2094 02-15 04-04 06-17 09-24
2095 02-05 04-04 06-06 09-13
2096 01-25 04-04 06-24 09-30
2097 02-12 04-04 06-14 09-20
2098 02-01 04-04 06-04 09-09
2099 01-21 04-04 06-23 09-29
2100 02-09 04-05 06-12 09-18
";

#[test]
fn every_year_2004_to_2100_matches_the_almanac() {
    let mut years = 0;
    for line in ALMANAC.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let year: i32 = fields[0].parse().expect("year");
        let on = |text: &str| {
            let (m, d) = text.split_once('-').expect("MM-DD");
            date(year, m.parse().expect("month"), d.parse().expect("day"))
        };
        let f = festivals(year);
        let computed = [f.spring_festival, f.qingming, f.dragon_boat, f.mid_autumn];
        let expected = [on(fields[1]), on(fields[2]), on(fields[3]), on(fields[4])];
        assert_eq!(computed, expected, "{year}: 春节, 清明, 端午, 中秋");
        assert_eq!(f.new_years_eve.succ_opt(), Some(f.spring_festival));
        years += 1;
    }
    assert_eq!(years, 97);
    assert!(statutory::festival_dates(2003).is_none());
    assert!(statutory::festival_dates(2101).is_none());
}

#[test]
fn lunar_new_years_after_the_data() {
    let new_years: Vec<NaiveDate> = (2027..=2030)
        .map(|y| festivals(y).spring_festival)
        .collect();
    assert_eq!(
        new_years,
        [
            date(2027, 2, 6),
            date(2028, 1, 26),
            date(2029, 2, 13),
            date(2030, 2, 3)
        ]
    );
    // 除夕 is the last day of 腊月, whatever its length: the 腊月 before 2027's 春节 has 29
    // days (2027-01-08..02-05), so 除夕 is 腊月廿九; the one before 2030's has 30
    // (2030-01-04..02-02), so 除夕 is 腊月三十.
    assert_eq!(festivals(2027).new_years_eve, date(2027, 2, 5));
    assert_eq!(festivals(2030).new_years_eve, date(2030, 2, 2));
}

/// The off ranges of the holidays of `year` (annual notice and amendments) whose name
/// contains `name`: a notice may merge two (中秋节、国庆节 in 2012 and 2023; 国庆节、中秋节 in
/// 2009, 2017, 2020 and 2025).
fn published_off(data: &CalendarData, year: i32, name: &str) -> Vec<DateRange> {
    let arrangement = data.year(year).expect("bundled year");
    let holidays: Vec<&Holiday> = arrangement
        .holidays
        .iter()
        .chain(arrangement.amendments.iter().flat_map(|a| &a.holidays))
        .filter(|h| h.name.contains(name))
        .collect();
    holidays
        .iter()
        .flat_map(|h| h.off.iter().copied())
        .collect()
}

fn within(ranges: &[DateRange], day: NaiveDate) -> bool {
    ranges.iter().any(|r| r.first <= day && day <= r.last)
}

#[test]
fn computed_festivals_fall_in_the_published_holidays() {
    let data = CalendarData::national();
    let mut checked = 0;
    for year in 2004..=2026 {
        let f = festivals(year);
        let spring = published_off(&data, year, "春节");
        assert!(within(&spring, f.spring_festival), "{year} 春节 {spring:?}");
        checked += 1;
        // 清明, 端午 and 中秋 have been holidays since 2008.
        if year < 2008 {
            continue;
        }
        for (name, day) in [
            ("清明节", f.qingming),
            ("端午节", f.dragon_boat),
            ("中秋节", f.mid_autumn),
        ] {
            let off = published_off(&data, year, name);
            assert!(within(&off, day), "{year} {name} {day} not in {off:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 23 + 19 * 3);
}

#[test]
fn every_day_the_law_names_was_a_day_off_in_the_notices() {
    // The edition of the 办法 in force each year (春节 from 除夕 in 2008–2013 and from 2025,
    // 劳动节 three days before 2008, one until 2024, two since) against the bundled notices.
    let cal = Calendar::national();
    for year in 2004..=2026 {
        for day in statutory::statutory_days_off(year) {
            if !day.make_up {
                assert!(
                    !cal.is_working_day(day.date).value,
                    "{} {} was worked in {year}",
                    day.date,
                    day.name
                );
            }
        }
    }
}

#[test]
fn the_make_up_assumption_held_in_all_but_two_notices() {
    // A holiday on a weekend was made up on the weekdays after it in every notice since
    // 2004 but two: 2012's 端午 (Saturday 06-23) was joined to the weekend before instead,
    // and 2015's 中秋 (Sunday 09-27) was not made up at all.
    let cal = Calendar::national();
    let missed: Vec<NaiveDate> = (2004..=2026)
        .flat_map(statutory::statutory_days_off)
        .filter(|d| d.make_up && cal.is_working_day(d.date).value)
        .map(|d| d.date)
        .collect();
    assert_eq!(missed, [date(2012, 6, 25), date(2015, 9, 28)]);
}

#[test]
fn the_2024_law_with_make_up_days_for_2027() {
    let days: Vec<(NaiveDate, String, bool)> = statutory::statutory_days_off(2027)
        .into_iter()
        .map(|d| (d.date, d.name, d.make_up))
        .collect();
    let expected = [
        ((1, 1), "元旦", false),
        ((2, 5), "春节", false),
        ((2, 6), "春节", false),
        ((2, 7), "春节", false),
        ((2, 8), "春节", false),
        // 初一 and 初二 fell on Saturday and Sunday.
        ((2, 9), "春节补假", true),
        ((2, 10), "春节补假", true),
        ((4, 5), "清明节", false),
        ((5, 1), "劳动节", false),
        ((5, 2), "劳动节", false),
        ((5, 3), "劳动节补假", true),
        ((5, 4), "劳动节补假", true),
        ((6, 9), "端午节", false),
        ((9, 15), "中秋节", false),
        ((10, 1), "国庆节", false),
        ((10, 2), "国庆节", false),
        ((10, 3), "国庆节", false),
        ((10, 4), "国庆节补假", true),
        ((10, 5), "国庆节补假", true),
    ]
    .map(|((m, d), name, make_up)| (date(2027, m, d), name.to_string(), make_up));
    assert_eq!(days, expected);
    for day in statutory::statutory_days_off(2027) {
        assert_eq!(day.date.year(), 2027);
    }
}

#[test]
fn a_day_that_is_two_holidays_is_made_up_too() {
    // 2020: 中秋 on Thursday 10-01, the first day of 国庆 (2014 edition). The shared day and
    // Saturday 10-03 are owed: Monday 10-05 and Tuesday 10-06.
    let days = statutory::statutory_days_off(2020);
    let october: Vec<(u32, &str)> = days
        .iter()
        .filter(|d| d.date.month() == 10)
        .map(|d| (d.date.day(), d.name.as_str()))
        .collect();
    assert_eq!(
        october,
        [
            (1, "中秋节、国庆节"),
            (2, "国庆节"),
            (3, "国庆节"),
            (5, "国庆节补假"),
            (6, "国庆节补假")
        ]
    );
}

#[test]
fn each_edition_of_the_law_applies_to_its_years() {
    let names = |year: i32| -> Vec<String> {
        let mut names: Vec<String> = statutory::statutory_days_off(year)
            .into_iter()
            .filter(|d| !d.make_up)
            .map(|d| d.name)
            .collect();
        names.dedup();
        names
    };
    let count = |year: i32, name: &str| {
        statutory::statutory_days_off(year)
            .iter()
            .filter(|d| !d.make_up && d.name == name)
            .count()
    };
    assert_eq!(names(2007), ["元旦", "春节", "劳动节", "国庆节"]);
    assert_eq!(count(2007, "劳动节"), 3);
    assert_eq!(
        names(2008),
        [
            "元旦",
            "春节",
            "清明节",
            "劳动节",
            "端午节",
            "中秋节",
            "国庆节"
        ]
    );
    assert_eq!(count(2013, "劳动节"), 1);
    assert_eq!(count(2025, "劳动节"), 2);
    let first_spring_day = |year: i32| {
        statutory::statutory_days_off(year)
            .into_iter()
            .find(|d| d.name == "春节")
            .map(|d| d.date)
    };
    // 2008–2013 and from 2025: from 除夕; 2014–2024 and before 2008: from 初一.
    assert_eq!(first_spring_day(2013), Some(festivals(2013).new_years_eve));
    assert_eq!(
        first_spring_day(2014),
        Some(festivals(2014).spring_festival)
    );
    assert_eq!(first_spring_day(2025), Some(festivals(2025).new_years_eve));
    assert_eq!(count(2024, "春节"), 3);
    assert_eq!(count(2025, "春节"), 4);
    assert!(statutory::statutory_days_off(2101).is_empty());
}
