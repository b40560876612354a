//! The Chinese lunisolar calendar (农历) as GB/T 33661-2017 《农历的编算和颁行》 defines it,
//! for the few dates the holidays need: 正月初一 (and so 除夕), 五月初五 and 八月十五.
//!
//! The rules, all in China Standard Time (UTC+8):
//! - a month begins on the day of the new moon (朔);
//! - the month that contains the winter solstice (冬至, solar longitude 270°) is 十一月;
//! - when 13 months begin between one 十一月 and the next, the first of them that contains
//!   no principal term (中气, a solar longitude that is a multiple of 30°) is a leap month
//!   and repeats the number of the month before it.
//!
//! Every month of a Gregorian year from 正月 to 十月 lies between the 十一月 that contains
//! the previous year's 冬至 and the one that contains this year's, so one such span gives
//! all of a year's festivals.

use chrono::{Days, NaiveDate};

use super::astro::{self, Tt};

/// One lunar month: its number (1 = 正月 … 12 = 腊月), whether it is the leap month that
/// repeats that number, and the day it begins.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Month {
    pub number: u32,
    pub leap: bool,
    pub first_day: NaiveDate,
    /// The new moon that begins it, for checking how close to midnight it fell.
    pub new_moon: Tt,
}

/// The China Standard Time date of the new moon of lunation `k`.
fn new_moon_date(k: i64) -> Option<NaiveDate> {
    astro::new_moon(k).cst_date()
}

/// The China Standard Time date of the winter solstice of a Gregorian year.
fn winter_solstice(year: i32) -> Option<(Tt, NaiveDate)> {
    let near = astro::cst_midnight(NaiveDate::from_ymd_opt(year, 12, 21)?);
    let at = astro::sun_reaches(270.0, near);
    Some((at, at.cst_date()?))
}

/// The lunation that begins the month containing `date`: the last new moon whose CST date
/// is on or before it.
fn lunation_containing(at: Tt, date: NaiveDate) -> Option<i64> {
    // The true new moon is within about 14 hours of the mean one, so the answer is the
    // mean estimate or one of its neighbours.
    let mut k = astro::lunation_before(at) + 1;
    for _ in 0..4 {
        if new_moon_date(k)? <= date {
            return Some(k);
        }
        k -= 1;
    }
    None
}

/// Whether [first, next) — midnight to midnight, CST — contains a principal term: the
/// Sun's apparent longitude crosses a multiple of 30° inside it.
fn has_principal_term(first: NaiveDate, next: NaiveDate) -> bool {
    let start = astro::sun_apparent_longitude(astro::cst_midnight(first));
    let mut end = astro::sun_apparent_longitude(astro::cst_midnight(next));
    if end < start {
        end += 360.0;
    }
    (end / 30.0).floor() > (start / 30.0).floor()
}

/// The months from the 十一月 containing the winter solstice of `year - 1` up to (not
/// including) the 十一月 containing that of `year`, numbered and with the leap month found.
pub(super) fn months_of(year: i32) -> Option<Vec<Month>> {
    let (before_at, before) = winter_solstice(year - 1)?;
    let (after_at, after) = winter_solstice(year)?;
    let first = lunation_containing(before_at, before)?;
    let last = lunation_containing(after_at, after)?;
    let starts: Vec<NaiveDate> = (first..=last)
        .map(new_moon_date)
        .collect::<Option<Vec<_>>>()?;
    let count = starts.len().checked_sub(1)?;
    if !(12..=13).contains(&count) {
        return None;
    }
    let leap_index = if count == 13 {
        // Index 0 contains the solstice itself, so the search starts at 1.
        (1..count).find(|&i| !has_principal_term(starts[i], starts[i + 1]))
    } else {
        None
    };
    let mut months = Vec::with_capacity(count);
    let mut number = 11u32;
    for (i, &first_day) in starts.iter().take(count).enumerate() {
        let leap = Some(i) == leap_index;
        if i > 0 && !leap {
            number = number % 12 + 1;
        }
        months.push(Month {
            number,
            leap,
            first_day,
            new_moon: astro::new_moon(first + i as i64),
        });
    }
    Some(months)
}

/// The `day`-th day (1-based) of the non-leap month `number` in `months`.
pub(super) fn day_of(months: &[Month], number: u32, day: u64) -> Option<NaiveDate> {
    let month = months.iter().find(|m| m.number == number && !m.leap)?;
    month.first_day.checked_add_days(Days::new(day - 1))
}

/// 正月初一 of the lunar year that begins in the Gregorian `year`.
pub(super) fn new_year(months: &[Month]) -> Option<NaiveDate> {
    day_of(months, 1, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn leap_months_are_where_the_almanac_puts_them() {
        // 2020 闰四月 (2020-05-23), 2023 闰二月 (2023-03-22), 2025 闰六月 (2025-07-25).
        let leap = |year| {
            months_of(year)
                .expect("computes")
                .into_iter()
                .find(|m| m.leap)
                .map(|m| (m.number, m.first_day))
        };
        assert_eq!(leap(2020), Some((4, date(2020, 5, 23))));
        assert_eq!(leap(2023), Some((2, date(2023, 3, 22))));
        assert_eq!(leap(2025), Some((6, date(2025, 7, 25))));
        assert_eq!(leap(2024), None);
        // 2033 has the famous 闰十一月 (the "2033 problem"): its leap month falls after the
        // 冬至 of 2033, so the span ending with it has 13 months and the leap is at the end.
        let months = months_of(2034).expect("computes");
        assert_eq!(months.len(), 13);
        assert!(months[1].leap && months[1].number == 11, "{months:?}");
    }
}
