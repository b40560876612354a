use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use ducha_calendar::Calendar;

/// A calendar month, the period of one report ("2026-10").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("月份格式应为 YYYY-MM，如 2026-10：{0}")]
pub struct MonthError(String);

impl Month {
    pub fn new(year: i32, month: u32) -> Result<Month, MonthError> {
        if (1..=12).contains(&month) && (2000..=2100).contains(&year) {
            Ok(Month { year, month })
        } else {
            Err(MonthError(format!("{year}-{month}")))
        }
    }

    /// The month a local date falls in.
    pub fn of(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn previous(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The month as local time in `time_zone`: [start, end), both in UTC.
    pub fn bounds(self, time_zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let local_midnight = |date: NaiveDate| {
            time_zone
                .from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default()
        };
        (
            local_midnight(self.first_day()),
            local_midnight(self.next().first_day()),
        )
    }

    /// The first working day of the month, on which the previous month's report is due
    /// (docs/rules.md §6).
    pub fn first_working_day(self, calendar: &Calendar) -> NaiveDate {
        let first = self.first_day();
        calendar
            .roll_forward(first)
            .map(|answer| answer.value)
            .unwrap_or(first)
    }

    /// "2026年10月"
    pub fn label(self) -> String {
        format!("{}年{}月", self.year, self.month)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = MonthError;

    fn from_str(text: &str) -> Result<Month, MonthError> {
        let bad = || MonthError(text.to_string());
        let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || month.is_empty() || month.len() > 2 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u32 = month.parse().map_err(|_| bad())?;
        Month::new(year, month).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_print_and_step_across_years() {
        let october: Month = "2026-10".parse().expect("month");
        assert_eq!(october.to_string(), "2026-10");
        assert_eq!(october.label(), "2026年10月");
        assert_eq!(
            "2026-1".parse::<Month>().map(|m| m.to_string()),
            Ok("2026-01".into())
        );
        for bad in ["2026-13", "2026", "26-10", "2026-00", "abcd-ef", ""] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
        let december = Month::new(2026, 12).expect("month");
        assert_eq!(december.next().to_string(), "2027-01");
        assert_eq!(december.next().previous(), december);
    }

    #[test]
    fn bounds_are_local_midnights_and_the_first_working_day_skips_holidays() {
        let october: Month = "2026-10".parse().expect("month");
        let (start, end) = october.bounds(chrono_tz::Asia::Shanghai);
        assert_eq!(start.to_rfc3339(), "2026-09-30T16:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-10-31T16:00:00+00:00");
        let calendar = Calendar::national();
        // 10-01..10-07 are National Day; 10-08 is the first working day of October 2026.
        assert_eq!(
            october.first_working_day(&calendar).to_string(),
            "2026-10-08"
        );
        // 2026-11-01 is a Sunday.
        assert_eq!(
            october.next().first_working_day(&calendar).to_string(),
            "2026-11-02"
        );
    }
}
