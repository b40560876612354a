//! Office hours: when a message that interrupts people (an SMS, a group chat) may go out.
//! A notice that arises at night or on a rest day waits for the next working morning, as
//! the working-day engine counts days (调休 included).

use chrono::{NaiveDateTime, NaiveTime};

use crate::{Calendar, CalendarError};

/// The part of a working day in which instant messages go out at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfficeHours {
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

impl Default for OfficeHours {
    /// 08:30 to 18:00, the working day the office's own cut-off sits in.
    fn default() -> Self {
        OfficeHours {
            opens: NaiveTime::from_hms_opt(8, 30, 0).unwrap_or(NaiveTime::MIN),
            closes: NaiveTime::from_hms_opt(18, 0, 0).unwrap_or(NaiveTime::MIN),
        }
    }
}

impl Calendar {
    /// `at` itself when it falls within `hours` of a working day, else the opening of the
    /// next working day (local times, both).
    pub fn next_office_moment(
        &self,
        at: NaiveDateTime,
        hours: OfficeHours,
    ) -> Result<NaiveDateTime, CalendarError> {
        let date = at.date();
        if self.is_working_day(date).value && at.time() >= hours.opens && at.time() < hours.closes {
            return Ok(at);
        }
        let day = if at.time() < hours.opens {
            self.roll_forward(date)?.value
        } else {
            self.add_working_days(date, 1)?.value
        };
        Ok(day.and_time(hours.opens))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|day| day.and_hms_opt(h, min, 0))
            .expect("valid")
    }

    #[test]
    fn messages_wait_for_the_next_working_morning() {
        let calendar = Calendar::national();
        let hours = OfficeHours::default();
        let next = |t| calendar.next_office_moment(t, hours).expect("covered");
        // A Tuesday's working hours: at once.
        assert_eq!(next(at(2026, 9, 29, 10, 0)), at(2026, 9, 29, 10, 0));
        // Before opening: that morning.
        assert_eq!(next(at(2026, 9, 29, 6, 0)), at(2026, 9, 29, 8, 30));
        // After closing: the next working morning.
        assert_eq!(next(at(2026, 9, 29, 18, 0)), at(2026, 9, 30, 8, 30));
        // The eve of National Day: past the whole holiday (1–7 October), to Thursday 8 October.
        assert_eq!(next(at(2026, 9, 30, 21, 0)), at(2026, 10, 8, 8, 30));
        // A make-up working Saturday (调休上班, 10 October 2026) is a working day.
        assert_eq!(next(at(2026, 10, 10, 9, 0)), at(2026, 10, 10, 9, 0));
        // A plain Sunday waits for Monday.
        assert_eq!(next(at(2026, 11, 22, 11, 0)), at(2026, 11, 23, 8, 30));
    }
}
