//! Meetings whose decisions the office supervises (会议议定事项): the kinds of meeting the
//! district government holds [004 Art.44; 003 Art.47] and the office's own due for the 纪要,
//! drafted "在2个工作日内" [003 Art.47].

use chrono::NaiveDate;
use ducha_calendar::{Calendar, CalendarError, DeadlinePolicy};

/// Working days after the meeting within which its 纪要 is drafted [003 Art.47].
pub const MINUTES_WORKING_DAYS: i32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingKind {
    /// 区政府全体会议
    Plenary,
    /// 区政府党组会议
    PartyGroup,
    /// 区政府常务会议
    Executive,
    /// 区长办公会议
    MayorOffice,
    /// 区政府专题会议
    Topical,
    /// 其他会议
    Other,
}

impl MeetingKind {
    pub const ALL: [MeetingKind; 6] = [
        MeetingKind::Executive,
        MeetingKind::Topical,
        MeetingKind::MayorOffice,
        MeetingKind::Plenary,
        MeetingKind::PartyGroup,
        MeetingKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MeetingKind::Plenary => "PLENARY",
            MeetingKind::PartyGroup => "PARTY_GROUP",
            MeetingKind::Executive => "EXECUTIVE",
            MeetingKind::MayorOffice => "MAYOR_OFFICE",
            MeetingKind::Topical => "TOPICAL",
            MeetingKind::Other => "OTHER",
        }
    }

    pub fn parse(text: &str) -> Option<MeetingKind> {
        MeetingKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            MeetingKind::Plenary => "区政府全体会议",
            MeetingKind::PartyGroup => "区政府党组会议",
            MeetingKind::Executive => "区政府常务会议",
            MeetingKind::MayorOffice => "区长办公会议",
            MeetingKind::Topical => "区政府专题会议",
            MeetingKind::Other => "其他会议",
        }
    }
}

/// The day the 纪要 of a meeting held on `held_on` is due: the second working day after it
/// (the meeting's day not counted), at the office's cutoff.
pub fn minutes_due(
    calendar: &Calendar,
    policy: &DeadlinePolicy,
    held_on: NaiveDate,
) -> Result<chrono::DateTime<chrono::Utc>, CalendarError> {
    let day = calendar
        .add_working_days(held_on, MINUTES_WORKING_DAYS)?
        .value;
    day.and_time(policy.cutoff)
        .and_local_timezone(policy.time_zone)
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok_or_else(|| CalendarError::BadRule(format!("{day} {}", policy.cutoff)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_are_due_two_working_days_after_the_meeting_across_national_day() {
        let calendar = Calendar::national();
        let policy = DeadlinePolicy::default();
        let held = NaiveDate::from_ymd_opt(2026, 9, 30).expect("date");
        let due = minutes_due(&calendar, &policy, held).expect("due");
        // 10-01..10-07 are off; 10-08 and 10-09 are the two working days.
        assert_eq!(
            due.with_timezone(&policy.time_zone)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            "2026-10-09 18:00"
        );
        for kind in MeetingKind::ALL {
            assert_eq!(MeetingKind::parse(kind.as_str()), Some(kind));
        }
    }
}
