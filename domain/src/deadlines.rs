//! Due instants of assignments: the item's rule from the assignment instant for the lead
//! unit, one working day earlier for co-units (so the lead can consolidate their input,
//! docs/rules.md §2), both moved later by the working days an item spent suspended.

use ducha_calendar::{Calendar, CalendarError, Deadline, DeadlinePolicy, DeadlineRule};

/// Everything a due instant depends on; recomputing it on a new calendar gives the new due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueInputs {
    pub assigned_at: chrono::DateTime<chrono::Utc>,
    pub rule: DeadlineRule,
    pub lead: bool,
    /// Working days the item was suspended (挂起); the clock resumes where it stopped.
    pub paused_working_days: i32,
}

pub fn assignment_due(
    calendar: &Calendar,
    policy: &DeadlinePolicy,
    inputs: DueInputs,
) -> Result<Deadline, CalendarError> {
    let mut deadline = calendar.deadline(policy, inputs.assigned_at, inputs.rule)?;
    let counts_days = !matches!(inputs.rule, DeadlineRule::Hours(_));
    let mut offset = inputs.paused_working_days;
    if !inputs.lead && counts_days {
        // One working day before the lead unit, but never on or before the start day.
        let start = inputs
            .assigned_at
            .with_timezone(&policy.time_zone)
            .date_naive();
        let earliest = calendar.add_working_days(start, 1)?.value;
        let one_before = calendar.add_working_days(deadline.due_date, -1)?.value;
        if one_before >= earliest {
            offset -= 1;
        }
    }
    if offset != 0 {
        let moved = calendar.add_working_days(deadline.due_date, offset)?;
        let shifted = calendar.deadline(
            policy,
            inputs.assigned_at,
            DeadlineRule::FixedDate(moved.value),
        )?;
        deadline.due_at = shifted.due_at;
        deadline.due_date = moved.value;
        deadline.provisional |= moved.provisional;
        // The rule's own explanation ends at the rule's date; say how this one differs.
        let mut why = String::new();
        if offset != inputs.paused_working_days {
            why.push_str("协办单位的期限为主办单位期限的前一个工作日；");
        }
        if inputs.paused_working_days > 0 {
            why.push_str(&format!(
                "挂起期间暂停计时{}个工作日，期限相应顺延；",
                inputs.paused_working_days
            ));
        }
        deadline.explanation.summary.push_str(&format!(
            "{why}本单位截止于{}。",
            deadline
                .due_at
                .with_timezone(&policy.time_zone)
                .format("%Y-%m-%d %H:%M")
        ));
    }
    Ok(deadline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    fn at(y: i32, m: u32, d: u32, h: u32) -> chrono::DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn co_units_are_due_one_working_day_before_the_lead_unit() {
        let calendar = Calendar::national();
        let policy = DeadlinePolicy::default();
        let inputs = DueInputs {
            assigned_at: at(2026, 9, 30, 9),
            rule: DeadlineRule::WorkingDays(3),
            lead: true,
            paused_working_days: 0,
        };
        let lead = assignment_due(&calendar, &policy, inputs).expect("lead");
        let co = assignment_due(
            &calendar,
            &policy,
            DueInputs {
                lead: false,
                ..inputs
            },
        )
        .expect("co");
        assert_eq!(
            lead.due_date,
            NaiveDate::from_ymd_opt(2026, 10, 10).expect("date")
        );
        assert_eq!(
            co.due_date,
            NaiveDate::from_ymd_opt(2026, 10, 9).expect("date")
        );
        let one_day = DueInputs {
            rule: DeadlineRule::WorkingDays(1),
            lead: false,
            ..inputs
        };
        let co_short = assignment_due(&calendar, &policy, one_day).expect("co");
        assert_eq!(
            co_short.due_date,
            NaiveDate::from_ymd_opt(2026, 10, 8).expect("date"),
            "not before day 1"
        );
    }

    #[test]
    fn suspension_moves_the_due_by_the_paused_working_days() {
        let calendar = Calendar::national();
        let policy = DeadlinePolicy::default();
        let inputs = DueInputs {
            assigned_at: at(2026, 11, 23, 9),
            rule: DeadlineRule::WorkingDays(3),
            lead: true,
            paused_working_days: 2,
        };
        let due = assignment_due(&calendar, &policy, inputs).expect("due");
        assert_eq!(
            due.due_date,
            NaiveDate::from_ymd_opt(2026, 11, 30).expect("date")
        );
        assert_eq!(due.due_at, at(2026, 11, 30, 18));
    }
}
