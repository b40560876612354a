//! Dates and instants on the working-day calendar, in the office's time zone: the few
//! operations the simulation needs, each a thin wrapper that keeps `Answer`s and errors out
//! of the simulation's arithmetic.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use ducha_calendar::{Calendar, DeadlinePolicy};

use super::rng::Rng;

pub struct Clock {
    pub calendar: Calendar,
    pub deadlines: DeadlinePolicy,
}

impl Clock {
    pub fn national() -> Clock {
        Clock {
            calendar: Calendar::national(),
            deadlines: DeadlinePolicy::default(),
        }
    }

    pub fn tz(&self) -> Tz {
        self.deadlines.time_zone
    }

    pub fn date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz()).date_naive()
    }

    /// `date` at local `hour:minute`.
    pub fn at(&self, date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
        let time = NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN);
        self.tz()
            .from_local_datetime(&date.and_time(time))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    /// Somewhere in office hours (09:00–16:59) on `date`: before the 18:00 cut-off, so a
    /// report filed on its due date is on time, as it is in the office.
    pub fn office_time(&self, date: NaiveDate, rng: &mut Rng) -> DateTime<Utc> {
        let minutes = rng.between(0, 8 * 60 - 1) as u32;
        self.at(date, 9 + minutes / 60, minutes % 60)
    }

    /// The due instant of a date: the office's cut-off on it.
    pub fn cutoff(&self, date: NaiveDate) -> DateTime<Utc> {
        let cutoff = self.deadlines.cutoff;
        self.tz()
            .from_local_datetime(&date.and_time(cutoff))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    /// `n` working days after `date` (before, for negative `n`), as deadlines count them.
    pub fn add_working_days(&self, date: NaiveDate, n: i64) -> NaiveDate {
        let n = i32::try_from(n).unwrap_or(0);
        self.calendar
            .add_working_days(date, n)
            .map(|a| a.value)
            .unwrap_or(date)
    }

    /// Working days in (from, to].
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        self.calendar.working_days_between(from, to).value
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.calendar.is_working_day(date).value
    }

    /// `date` itself when it is a working day, else the next one.
    pub fn roll_forward(&self, date: NaiveDate) -> NaiveDate {
        self.calendar
            .roll_forward(date)
            .map(|a| a.value)
            .unwrap_or(date)
    }

    pub fn days(n: i64) -> Duration {
        Duration::days(n)
    }
}
