//! The cases where minutes decide a holiday's date.

use super::*;

/// An event closer than this to midnight (China Standard Time) is listed: the methods are
/// good to about half a minute, and the ΔT of the coming decades is uncertain by up to a
/// minute or two by 2100.
const CLOSE_MINUTES: f64 = 15.0;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

#[test]
fn the_festival_months_that_begin_within_minutes_of_midnight_are_these() {
    let mut close = Vec::new();
    for year in FIRST_YEAR..=LAST_YEAR {
        let months = lunar::months_of(year).expect("computes");
        for month in months
            .iter()
            .filter(|m| !m.leap && [1, 5, 8].contains(&m.number))
        {
            let minutes = month.new_moon.minutes_from_cst_midnight();
            if minutes < CLOSE_MINUTES {
                close.push((month.number, month.first_day, minutes.round() as i64));
            }
        }
    }
    // (month, first day, minutes from midnight), with the new moon in China Standard Time.
    // Each agrees with the Hong Kong Observatory's and sxwnl's tables (see tests/statutory.rs).
    let expected = [
        // 00:14 — and the 2007 notice's 春节 begins on 02-18 (初一).
        (1, date(2007, 2, 18), 14),
        // 23:56 — and the 2013 notice has 端午 on 06-12, i.e. 五月 from 06-08.
        (5, date(2013, 6, 8), 4),
        // 23:56: 春节 2027-02-06, not 02-07.
        (1, date(2027, 2, 6), 4),
        // 00:07: 春节 2030-02-03, not 02-02.
        (1, date(2030, 2, 3), 7),
        // 00:14: 中秋 2034-09-27.
        (8, date(2034, 9, 13), 14),
        // 23:57: 中秋 2089-09-18, the closest call; a ΔT two minutes larger than the
        // extrapolation would move the new moon past midnight and 中秋 to 09-19.
        (8, date(2089, 9, 4), 2),
        // 23:52: 中秋 2098-09-09.
        (8, date(2098, 8, 26), 8),
        // 00:10: 端午 2099-06-23.
        (5, date(2099, 6, 19), 10),
    ];
    assert_eq!(close, expected);
}

#[test]
fn qingming_within_minutes_of_midnight() {
    let close: Vec<(NaiveDate, i64)> = (FIRST_YEAR..=LAST_YEAR)
        .filter_map(|year| {
            let at = astro::sun_reaches(15.0, astro::cst_midnight(date(year, 4, 5)));
            let minutes = at.minutes_from_cst_midnight();
            (minutes < CLOSE_MINUTES)
                .then(|| (at.cst_date().expect("date"), minutes.round() as i64))
        })
        .collect();
    // 00:10 CST: 清明 2071-04-05.
    assert_eq!(close, [(date(2071, 4, 5), 10)]);
}

#[test]
fn no_leap_month_hangs_on_minutes() {
    // A leap month is the first without a principal term (中气); that turns on minutes only
    // if a principal term falls near the midnight that begins a month. None does, 2004–2100.
    let margin = CLOSE_MINUTES / (24.0 * 60.0);
    for year in FIRST_YEAR..=LAST_YEAR {
        for month in lunar::months_of(year).expect("computes") {
            let midnight = astro::cst_midnight(month.first_day).0;
            let before = astro::sun_apparent_longitude(astro::Tt(midnight - margin));
            let mut after = astro::sun_apparent_longitude(astro::Tt(midnight + margin));
            if after < before {
                after += 360.0;
            }
            assert_eq!(
                (before / 30.0).floor(),
                (after / 30.0).floor(),
                "a principal term near {}",
                month.first_day
            );
        }
    }
}

#[test]
fn the_2057_new_moon_at_midnight_moves_no_holiday() {
    // The closest call of the century: the new moon of 2057-09-28 at 23:59:5x CST (ours
    // 23:59:57, the HKO's and sxwnl's tables agree on 09-28). It begins 九月, so 中秋
    // (八月十五) is unaffected.
    let months = lunar::months_of(2057).expect("computes");
    let month = months
        .iter()
        .find(|m| m.first_day == date(2057, 9, 28))
        .expect("a month begins on 2057-09-28");
    assert!(month.new_moon.minutes_from_cst_midnight() < 0.5);
    assert_eq!((month.number, month.leap), (9, false));
    assert_eq!(
        festival_dates(2057).map(|f| f.mid_autumn),
        Some(date(2057, 9, 13))
    );
}
