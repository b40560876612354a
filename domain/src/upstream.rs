//! Items received from above (市、省交办, [004 Art.80(一)(八)]): the district works to a due of
//! its own, counted back from the upstream due by a buffer of working days, so that the
//! office has time to gather the units' feedback and report it up (docs/rules.md §8).

use chrono::NaiveDate;
use ducha_calendar::Calendar;

/// The district's own due date: `buffer` working days before the upstream due date (the
/// last working day on or before it when the buffer is 0), or why there is none.
pub fn internal_due_date(
    calendar: &Calendar,
    upstream_due: NaiveDate,
    buffer: i64,
    today: NaiveDate,
) -> Result<NaiveDate, String> {
    if upstream_due < today {
        return Err(format!("上级期限{upstream_due}早于今天（{today}），请核对"));
    }
    let n = i32::try_from(buffer.clamp(0, 60)).unwrap_or(0);
    let counted = if n == 0 {
        calendar.roll_back(upstream_due)
    } else {
        calendar.add_working_days(upstream_due, -n)
    }
    .map_err(|e| format!("无法推算本区期限：{e}"))?
    .value;
    if counted < today {
        return Err(format!(
            "上级期限{upstream_due}扣除{n}个工作日后为{counted}，已早于今天；请减少预留的工作日，或直接填写本区期限"
        ));
    }
    Ok(counted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    #[test]
    fn the_district_due_is_counted_back_from_the_upstream_due_in_working_days() {
        let calendar = Calendar::national();
        let today = day(2026, 12, 1);
        // Friday 2026-12-18, two working days back: Wednesday 12-16.
        assert_eq!(
            internal_due_date(&calendar, day(2026, 12, 18), 2, today),
            Ok(day(2026, 12, 16))
        );
        // Due on Monday 12-21: two working days back skip the weekend to Thursday 12-17.
        assert_eq!(
            internal_due_date(&calendar, day(2026, 12, 21), 2, today),
            Ok(day(2026, 12, 17))
        );
        // No buffer: a Saturday due is worked to the Friday before.
        assert_eq!(
            internal_due_date(&calendar, day(2026, 12, 19), 0, today),
            Ok(day(2026, 12, 18))
        );
    }

    #[test]
    fn an_upstream_due_too_close_or_past_is_refused() {
        let calendar = Calendar::national();
        let today = day(2026, 12, 16);
        assert!(internal_due_date(&calendar, day(2026, 12, 15), 0, today).is_err());
        let close = internal_due_date(&calendar, day(2026, 12, 17), 3, today);
        assert!(close.expect_err("too close").contains("早于今天"));
    }
}
