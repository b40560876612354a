//! A red task climbs (docs/rules.md §8): the sweep that first finds a task handed down red
//! tells the head of the unit that handed it down (rung 0); each later working day it is
//! still red, one level higher hears of it (rung 1, 2, …), up to the unit holding the part;
//! the rung above that is the office, told of it as that unit's problem. A 社区's red task
//! reaches the office as the 街道's.
//!
//! One rung per sweep and per working day, each rung once (the notice's unique key carries
//! it): a task found red after a week is not reported to every level in one morning.

use chrono::NaiveDate;

/// Where a red task's climb stands on record: the highest rung sent, and the local date it
/// was sent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Climbed {
    pub rung: usize,
    pub on: NaiveDate,
}

/// Who a rung of the climb tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hearer {
    /// The unit `levels[rung]`: the task's holder, then the one above, up to the part's unit.
    Unit(i64),
    /// The office, about the part's unit.
    Office,
}

/// The rung to send now for a task red today, given `units_above` (the unit that handed it
/// down first, the unit holding the part last) and what is on record: the first rung when
/// nothing is, the next once a working day has passed since the last (`today` is a working
/// day: sweeps run on working days only), nothing once the office was told.
pub fn next_rung(
    units_above: &[i64],
    on_record: Option<Climbed>,
    today: NaiveDate,
) -> Option<(usize, Hearer)> {
    let rung = match on_record {
        None => 0,
        Some(climbed) if climbed.on < today => climbed.rung + 1,
        Some(_) => return None,
    };
    match rung.cmp(&units_above.len()) {
        std::cmp::Ordering::Less => Some((rung, Hearer::Unit(units_above[rung]))),
        std::cmp::Ordering::Equal => Some((rung, Hearer::Office)),
        std::cmp::Ordering::Greater => None,
    }
}

/// The notice level of a rung for a task: unique per task and rung.
pub fn level(task_id: i64, rung: usize) -> String {
    format!("TASK {task_id} RED {rung}")
}

/// The task and rung a level names, if it is a climb's.
pub fn parse_level(level: &str) -> Option<(i64, usize)> {
    let rest = level.strip_prefix("TASK ")?;
    let (task, rung) = rest.split_once(" RED ")?;
    Some((task.parse().ok()?, rung.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default()
    }

    #[test]
    fn a_red_task_climbs_one_level_a_working_day_then_reaches_the_office() {
        // A 社区 task under a 街道's task under the 街道's part: the 街道 hears first (it
        // handed the task down), and holds the part too, so the office is next.
        let above = [7];
        assert_eq!(next_rung(&above, None, day(9)), Some((0, Hearer::Unit(7))));
        let sent = Climbed {
            rung: 0,
            on: day(9),
        };
        assert_eq!(next_rung(&above, Some(sent), day(9)), None, "once a day");
        assert_eq!(
            next_rung(&above, Some(sent), day(10)),
            Some((1, Hearer::Office))
        );
        let top = Climbed {
            rung: 1,
            on: day(10),
        };
        assert_eq!(
            next_rung(&above, Some(top), day(11)),
            None,
            "the office hears once"
        );
    }

    #[test]
    fn deeper_tasks_climb_through_every_level() {
        let above = [30, 20, 10];
        let mut on_record = None;
        let mut heard = Vec::new();
        for d in 9..=14 {
            if let Some((rung, hearer)) = next_rung(&above, on_record, day(d)) {
                heard.push(hearer);
                on_record = Some(Climbed { rung, on: day(d) });
            }
        }
        assert_eq!(
            heard,
            [
                Hearer::Unit(30),
                Hearer::Unit(20),
                Hearer::Unit(10),
                Hearer::Office
            ]
        );
    }

    #[test]
    fn levels_round_trip() {
        assert_eq!(parse_level(&level(42, 3)), Some((42, 3)));
        assert_eq!(parse_level("TASK 42 HANDED_DOWN"), None);
        assert_eq!(parse_level("TASK x RED 1"), None);
    }
}
