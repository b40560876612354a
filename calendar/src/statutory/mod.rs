//! The statutory holidays (法定节假日) of any year 2004–2100, computed rather than read from a
//! notice: 《全国年节及纪念日放假办法》 fixes which days are holidays, and the lunar and
//! solar-term dates among them follow from astronomy. What only the State Council's
//! annual notice decides — the 调休 that joins holidays to weekends — is not here.
//!
//! The 办法 in force on 1 January of a year applies to that year:
//!
//! | in force | decree | 春节 | 劳动节 | 清明、端午、中秋 |
//! |---|---|---|---|---|
//! | 1999-09-18 | 国务院令第270号 | 初一–初三 | 05-01–05-03 | not holidays |
//! | 2008-01-01 | 国务院令第513号 | 除夕–初二 | 05-01 | 1 day each |
//! | 2014-01-01 | 国务院令第644号 | 初一–初三 | 05-01 | 1 day each |
//! | 2025-01-01 | 国务院令第795号 | 除夕–初三 | 05-01–05-02 | 1 day each |
//!
//! and every edition gives 元旦 01-01 and 国庆节 10-01–10-03. 清明节 is the day of the 清明
//! solar term (solar longitude 15°), 端午节 五月初五, 中秋节 八月十五.
//!
//! The 2025 edition is the one that matters: the calendar assumes these days for the years
//! after the last notice (2027 on); the older ones serve calendars built from older data,
//! and let the tests hold every edition against the notices of its years.
//!
//! The 办法 also says a holiday that falls on a Saturday or Sunday is made up on a working
//! day (补假). It does not say which; we assume the first weekdays after the holiday that
//! are not holidays themselves, which is where every notice of 2004–2026 put them but two
//! (2012's 端午 and 2015's 中秋; see `tests/statutory.rs`). A day that is two holidays at
//! once (中秋 on 10-01) is made up the same way.

mod astro;
mod lunar;
mod vsop87;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};

/// The law the holidays come from, as explanations name it.
pub const LAW: &str = "全国年节及纪念日放假办法";

/// The first and last years [`festival_dates`] and [`statutory_days_off`] answer for.
pub const FIRST_YEAR: i32 = 2004;
pub const LAST_YEAR: i32 = 2100;

/// The dates of a Gregorian year's holidays that move with the Moon or the Sun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FestivalDates {
    pub year: i32,
    /// 除夕: the last day of 腊月, the day before 正月初一 (whether 腊月 has 29 or 30 days).
    pub new_years_eve: NaiveDate,
    /// 春节: 正月初一.
    pub spring_festival: NaiveDate,
    /// The day of the 清明 solar term.
    pub qingming: NaiveDate,
    /// 端午节: 五月初五 (of the ordinary 五月 when the year has a 闰五月).
    pub dragon_boat: NaiveDate,
    /// 中秋节: 八月十五.
    pub mid_autumn: NaiveDate,
}

/// One day off that the 办法 gives, or a make-up day (补假) assumed for a holiday that fell
/// on a weekend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatutoryDay {
    pub date: NaiveDate,
    /// The holiday's name as the notices write it (春节, 国庆节…); two holidays on one day
    /// are named together (中秋节、国庆节); a make-up day is named after its holiday with
    /// 补假 (国庆节补假).
    pub name: String,
    /// True for an assumed make-up day (补假), false for a day the 办法 names.
    pub make_up: bool,
}

/// The festival dates of `year`, 2004–2100; `None` outside that range. Computed once per
/// year and kept: a calendar build asks for the same few years again and again.
pub fn festival_dates(year: i32) -> Option<FestivalDates> {
    const YEARS: usize = (LAST_YEAR - FIRST_YEAR + 1) as usize;
    static CACHE: [OnceLock<Option<FestivalDates>>; YEARS] = [const { OnceLock::new() }; YEARS];
    let index = usize::try_from(year.checked_sub(FIRST_YEAR)?).ok()?;
    *CACHE
        .get(index)?
        .get_or_init(|| compute_festival_dates(year))
}

fn compute_festival_dates(year: i32) -> Option<FestivalDates> {
    let months = lunar::months_of(year)?;
    let spring_festival = lunar::new_year(&months)?;
    let qingming = astro::sun_reaches(
        15.0,
        astro::cst_midnight(NaiveDate::from_ymd_opt(year, 4, 5)?),
    )
    .cst_date()?;
    Some(FestivalDates {
        year,
        new_years_eve: spring_festival.pred_opt()?,
        spring_festival,
        qingming,
        dragon_boat: lunar::day_of(&months, 5, 5)?,
        mid_autumn: lunar::day_of(&months, 8, 15)?,
    })
}

/// Which edition of the 办法 governs a year (see the module's table).
#[derive(Debug, Clone, Copy)]
struct Edition {
    /// 春节 starts on 除夕 rather than 初一.
    spring_from_eve: bool,
    spring_days: u64,
    labour_days: u64,
    /// 清明、端午、中秋 are holidays.
    traditional: bool,
}

fn edition(year: i32) -> Edition {
    match year {
        ..2008 => Edition {
            spring_from_eve: false,
            spring_days: 3,
            labour_days: 3,
            traditional: false,
        },
        2008..2014 => Edition {
            spring_from_eve: true,
            spring_days: 3,
            labour_days: 1,
            traditional: true,
        },
        2014..2025 => Edition {
            spring_from_eve: false,
            spring_days: 3,
            labour_days: 1,
            traditional: true,
        },
        2025.. => Edition {
            spring_from_eve: true,
            spring_days: 4,
            labour_days: 2,
            traditional: true,
        },
    }
}

/// `days` consecutive dates from `first`.
fn run(first: NaiveDate, days: u64) -> Vec<NaiveDate> {
    first.iter_days().take(days as usize).collect()
}

/// The holidays of `year` by the edition in force, each with the days the 办法 names, in the
/// order the 办法 lists them.
fn holidays_of(year: i32) -> Option<Vec<(&'static str, Vec<NaiveDate>)>> {
    let festivals = festival_dates(year)?;
    let edition = edition(year);
    let date = |m, d| NaiveDate::from_ymd_opt(year, m, d);
    let spring_first = if edition.spring_from_eve {
        festivals.new_years_eve
    } else {
        festivals.spring_festival
    };
    let mut holidays = vec![
        ("元旦", vec![date(1, 1)?]),
        ("春节", run(spring_first, edition.spring_days)),
    ];
    if edition.traditional {
        holidays.push(("清明节", vec![festivals.qingming]));
    }
    holidays.push(("劳动节", run(date(5, 1)?, edition.labour_days)));
    if edition.traditional {
        holidays.push(("端午节", vec![festivals.dragon_boat]));
        holidays.push(("中秋节", vec![festivals.mid_autumn]));
    }
    holidays.push(("国庆节", run(date(10, 1)?, 3)));
    Some(holidays)
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The days off of `year` (2004–2100) that the 办法 gives, plus the assumed make-up days
/// for those that fall on a weekend or on another holiday, in date order. Empty outside
/// 2004–2100.
pub fn statutory_days_off(year: i32) -> Vec<StatutoryDay> {
    let Some(holidays) = holidays_of(year) else {
        return Vec::new();
    };
    let mut days: BTreeMap<NaiveDate, StatutoryDay> = BTreeMap::new();
    // First every day the 办法 names, so that no make-up day lands on one of them.
    let mut owed: Vec<(&str, NaiveDate, usize)> = Vec::new();
    for (name, dates) in &holidays {
        let mut count = 0;
        for &date in dates {
            let shared = match days.get_mut(&date) {
                Some(day) => {
                    day.name = format!("{}、{name}", day.name);
                    true
                }
                None => {
                    days.insert(
                        date,
                        StatutoryDay {
                            date,
                            name: (*name).to_string(),
                            make_up: false,
                        },
                    );
                    false
                }
            };
            if shared || is_weekend(date) {
                count += 1;
            }
        }
        if let Some(&last) = dates.last() {
            owed.push((name, last, count));
        }
    }
    // Then the make-up days, holiday by holiday in the 办法's order, each on the first free
    // weekdays after its holiday.
    for (name, last, count) in owed {
        let free = last
            .iter_days()
            .skip(1)
            .filter(|d| !is_weekend(*d) && !days.contains_key(d))
            .take(count)
            .collect::<Vec<_>>();
        for date in free {
            days.insert(
                date,
                StatutoryDay {
                    date,
                    name: format!("{name}补假"),
                    make_up: true,
                },
            );
        }
    }
    days.into_values().collect()
}

#[cfg(test)]
mod tests;
