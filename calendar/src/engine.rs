//! The working-day engine: O(1) `is_working_day`, `add_working_days` and
//! `working_days_between` after a one-off build.
//!
//! Days are numbered from 1970-01-01 (day 0). Inside the table span (every year with a
//! notice, the years after it whose statutory holidays are assumed, and any local
//! override) the engine keeps a prefix count of working days and the list of working days
//! by rank; outside it, only weekends rest, and counts come from closed-form week
//! arithmetic. Every operation is therefore a handful of array reads and
//! integer divisions, with no loop over days.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;

use crate::CalendarError;
use crate::data::{CalendarData, SpecialDay, SpecialKind};

/// `NaiveDate::num_days_from_ce` of 1970-01-01.
const UNIX_EPOCH_CE: i32 = 719_163;
/// 1970-01-05, a Monday; week arithmetic is anchored on it.
const MONDAY_ANCHOR: i64 = 4;

/// An answer and whether it rests on a year without a published notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Answer<T> {
    pub value: T,
    /// True when some day the answer depends on lies in a year without a published
    /// notice: it was computed with the law's holidays but no 调休 (in the years after
    /// the last notice, see [`crate::ASSUMED_YEARS`]) or with weekends only (beyond them),
    /// and may change when the notice appears.
    pub provisional: bool,
}

/// How a day counts, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DayKind {
    Workday,
    Weekend,
    /// A holiday day off (放假), with the holiday's name.
    Holiday(String),
    /// A weekend day declared a working day (调休上班), with the holiday it pays for.
    MakeupWorkday(String),
}

impl DayKind {
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Workday | DayKind::MakeupWorkday(_))
    }
}

pub(crate) fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce() - UNIX_EPOCH_CE)
}

pub(crate) fn date_of(day: i64) -> Result<NaiveDate, CalendarError> {
    i32::try_from(day + i64::from(UNIX_EPOCH_CE))
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or(CalendarError::OutOfRange)
}

fn is_weekend_day(day: i64) -> bool {
    (day - MONDAY_ANCHOR).rem_euclid(7) >= 5
}

/// Mon–Fri days in [MONDAY_ANCHOR, day) — negative for days before the anchor — so that
/// `weekdays_before(b) - weekdays_before(a)` counts weekdays in [a, b).
fn weekdays_before(day: i64) -> i64 {
    let offset = day - MONDAY_ANCHOR;
    offset.div_euclid(7) * 5 + offset.rem_euclid(7).min(5)
}

/// The weekday `x` with `weekdays_before(x) == rank`: the inverse of [`weekdays_before`].
fn weekday_of_rank(rank: i64) -> i64 {
    MONDAY_ANCHOR + rank.div_euclid(5) * 7 + rank.rem_euclid(5)
}

/// A built working-day calendar. Cheap to share (`Arc`), immutable; a new notice or
/// override builds a new one.
#[derive(Debug, Clone)]
pub struct Calendar {
    data: CalendarData,
    /// First day of the table span.
    lo: i64,
    /// Working days in [lo, lo + i), for i in 0..=len.
    cumulative: Vec<i32>,
    /// Day number of the k-th working day of the span.
    by_rank: Vec<i32>,
    /// The same days as dates: converting a day number back to a date costs more than the
    /// whole rank arithmetic, so results inside the span are read, not computed.
    by_rank_dates: Vec<NaiveDate>,
    /// Days of the span not covered by any notice (prefix count, like `cumulative`).
    uncovered: Vec<i32>,
    special: BTreeMap<NaiveDate, SpecialDay>,
    known_years: BTreeSet<i32>,
    assumed_years: Option<RangeInclusive<i32>>,
    version: String,
}

impl Calendar {
    /// The bundled national calendar, 2004–2026.
    pub fn national() -> Calendar {
        Calendar::build(CalendarData::national())
    }

    pub fn build(data: CalendarData) -> Calendar {
        let special = data.effective_days();
        let known_years: BTreeSet<i32> = data.years().map(|y| y.year).collect();
        let assumed_years = data.assumed_years();
        let first_year = known_years.first().copied();
        // The assumed years are inside the span: their holidays are table entries.
        let last_year = assumed_years
            .as_ref()
            .map(|years| *years.end())
            .or(known_years.last().copied());
        let span_dates = [
            first_year.and_then(|y| NaiveDate::from_ymd_opt(y, 1, 1)),
            last_year.and_then(|y| NaiveDate::from_ymd_opt(y, 12, 31)),
            special.keys().next().copied(),
            special.keys().next_back().copied(),
        ];
        let span: Vec<i64> = span_dates.into_iter().flatten().map(day_number).collect();
        let (lo, hi) = match (span.iter().min(), span.iter().max()) {
            (Some(&lo), Some(&hi)) => (lo, hi + 1),
            _ => (0, 0),
        };
        let len = usize::try_from(hi - lo).unwrap_or(0);
        let mut cumulative = Vec::with_capacity(len + 1);
        let mut uncovered = Vec::with_capacity(len + 1);
        let mut by_rank = Vec::with_capacity(len);
        let mut by_rank_dates = Vec::with_capacity(len);
        let special_by_day: BTreeMap<i64, SpecialKind> = special
            .values()
            .map(|s| (day_number(s.date), s.kind))
            .collect();
        let (mut working, mut not_covered) = (0i32, 0i32);
        cumulative.push(0);
        uncovered.push(0);
        for day in lo..hi {
            let is_working = match special_by_day.get(&day) {
                Some(SpecialKind::Off) => false,
                Some(SpecialKind::Work) => true,
                None => !is_weekend_day(day),
            };
            if is_working {
                // Day numbers of the 21st century fit an i32 with room to spare.
                by_rank.push(i32::try_from(day).unwrap_or(i32::MAX));
                by_rank_dates.push(date_of(day).unwrap_or_default());
                working += 1;
            }
            let covered = date_of(day).is_ok_and(|d| known_years.contains(&d.year()));
            if !covered {
                not_covered += 1;
            }
            cumulative.push(working);
            uncovered.push(not_covered);
        }
        let version = version_of(&special, &known_years);
        Calendar {
            data,
            lo,
            cumulative,
            by_rank,
            by_rank_dates,
            uncovered,
            special,
            known_years,
            assumed_years,
            version,
        }
    }

    pub fn data(&self) -> &CalendarData {
        &self.data
    }

    /// A short content hash: two calendars with the same days have the same version,
    /// so a deadline can record which calendar it was computed on.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Years with a published notice.
    pub fn known_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.known_years.iter().copied()
    }

    /// Years without a notice whose statutory holidays are counted, assumed from the law
    /// (see [`CalendarData::assumed_years`]).
    pub fn assumed_years(&self) -> Option<RangeInclusive<i32>> {
        self.assumed_years.clone()
    }

    /// The days from `first` to `last` inclusive (in either order) that are days off only
    /// by assumption: statutory holidays and 补假 of years without a notice, in date order.
    pub fn assumed_days(&self, first: NaiveDate, last: NaiveDate) -> Vec<&SpecialDay> {
        let (first, last) = (first.min(last), first.max(last));
        self.special
            .range(first..=last)
            .map(|(_, s)| s)
            .filter(|s| s.is_assumed())
            .collect()
    }

    fn hi(&self) -> i64 {
        self.lo + self.by_rank_len_days()
    }

    fn by_rank_len_days(&self) -> i64 {
        (self.cumulative.len() as i64) - 1
    }

    /// Working days in [lo, day), signed: negative before the span.
    #[inline]
    fn rank(&self, day: i64) -> i64 {
        let offset = day - self.lo;
        let len = self.by_rank_len_days();
        if offset <= 0 {
            weekdays_before(day) - weekdays_before(self.lo)
        } else if offset <= len {
            // In bounds by the branch condition.
            i64::from(self.cumulative[offset as usize])
        } else {
            i64::from(self.cumulative[len as usize]) + weekdays_before(day)
                - weekdays_before(self.hi())
        }
    }

    /// The working day whose rank is `k`: the inverse of [`Self::rank`] on working days.
    #[inline]
    fn day_of_rank(&self, k: i64) -> i64 {
        let total = self.by_rank.len() as i64;
        if k < 0 {
            weekday_of_rank(weekdays_before(self.lo) + k)
        } else if k < total {
            i64::from(self.by_rank[k as usize])
        } else {
            weekday_of_rank(weekdays_before(self.hi()) + (k - total))
        }
    }

    #[inline]
    fn is_working(&self, day: i64) -> bool {
        self.rank(day + 1) - self.rank(day) == 1
    }

    /// True if any day in [first, last] lies in a year without a published notice.
    #[inline]
    fn uncertain(&self, first: i64, last: i64) -> bool {
        let (first, last) = (first.min(last), first.max(last));
        if first < self.lo || last >= self.hi() {
            return true;
        }
        let a = (first - self.lo) as usize;
        let b = (last + 1 - self.lo) as usize;
        self.uncovered[b] != self.uncovered[a]
    }

    pub fn is_working_day(&self, date: NaiveDate) -> Answer<bool> {
        let day = day_number(date);
        Answer {
            value: self.is_working(day),
            provisional: self.uncertain(day, day),
        }
    }

    /// How the day counts and why (holiday name, 调休).
    pub fn day_kind(&self, date: NaiveDate) -> Answer<DayKind> {
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let value = match self.special.get(&date) {
            Some(s) if s.kind == SpecialKind::Off => DayKind::Holiday(s.name.clone()),
            Some(s) if weekend => DayKind::MakeupWorkday(s.name.clone()),
            Some(_) | None if weekend => DayKind::Weekend,
            Some(_) | None => DayKind::Workday,
        };
        let day = day_number(date);
        Answer {
            value,
            provisional: self.uncertain(day, day),
        }
    }

    /// Civil Code Art. 201: the start day is not counted. `n > 0` is the n-th working day
    /// strictly after `date`; `n == 0` is `date` itself when it is a working day, else the
    /// next one; `n < 0` is the |n|-th working day strictly before `date` (materials due
    /// "会前N个工作日").
    #[inline]
    pub fn add_working_days(
        &self,
        date: NaiveDate,
        n: i32,
    ) -> Result<Answer<NaiveDate>, CalendarError> {
        let day = day_number(date);
        let n = i64::from(n);
        let target_rank = match n {
            0 => self.rank(day),
            n if n > 0 => self.rank(day + 1) + n - 1,
            n => self.rank(day) + n,
        };
        let result = self.day_of_rank(target_rank);
        let value = match usize::try_from(target_rank) {
            Ok(k) if k < self.by_rank_dates.len() => self.by_rank_dates[k],
            _ => date_of(result)?,
        };
        Ok(Answer {
            value,
            provisional: self.uncertain(day, result),
        })
    }

    /// Working days in (from, to]; `between(b, a) == -between(a, b)`. Hence
    /// `between(d, add(d, n)) == n` for every n > 0, and for n ≤ 0 when `d` is a working day.
    #[inline]
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> Answer<i64> {
        let (a, b) = (day_number(from), day_number(to));
        Answer {
            value: self.rank(b + 1) - self.rank(a + 1),
            provisional: self.uncertain(a, b),
        }
    }

    /// The first working day on or after `date` (deadlines that land on a rest day roll
    /// forward, Civil Code Art. 203).
    pub fn roll_forward(&self, date: NaiveDate) -> Result<Answer<NaiveDate>, CalendarError> {
        self.add_working_days(date, 0)
    }

    /// The last working day on or before `date` (periods counted backwards from an event).
    pub fn roll_back(&self, date: NaiveDate) -> Result<Answer<NaiveDate>, CalendarError> {
        let next = date.succ_opt().ok_or(CalendarError::OutOfRange)?;
        self.add_working_days(next, -1)
    }

    /// The first day the calendar has data for (1 January of its first year).
    pub fn first_covered_date(&self) -> Option<NaiveDate> {
        self.known_years
            .first()
            .and_then(|y| NaiveDate::from_ymd_opt(*y, 1, 1))
    }

    /// Refuses a date before the calendar's data: whether it was a working day cannot be
    /// known (later years without a notice are counted provisionally instead).
    /// Dates past 2099 are refused too: far beyond any period, and beyond what the API's
    /// date-time format writes plainly.
    pub fn check_coverage(&self, date: NaiveDate) -> Result<(), CalendarError> {
        if date.year() > 2099 {
            return Err(CalendarError::OutOfRange);
        }
        match self.first_covered_date() {
            Some(first) if date < first => Err(CalendarError::BeforeCoverage {
                date,
                first_year: first.year(),
            }),
            _ => Ok(()),
        }
    }

    /// The special days strictly after `after` and up to `until` inclusive (in either order)
    /// that changed the count: holiday days off that fall on weekdays, and make-up working
    /// days on weekends. Weekend days off inside a holiday are included too, marked as such
    /// by their date, so an explanation can name the whole holiday.
    pub fn special_days_between(&self, after: NaiveDate, until: NaiveDate) -> Vec<&SpecialDay> {
        let (first, last) = if after <= until {
            (after.succ_opt(), Some(until))
        } else {
            (Some(until), after.pred_opt())
        };
        match (first, last) {
            (Some(first), Some(last)) if first <= last => {
                self.special.range(first..=last).map(|(_, s)| s).collect()
            }
            _ => Vec::new(),
        }
    }

    pub fn special_day(&self, date: NaiveDate) -> Option<&SpecialDay> {
        self.special.get(&date)
    }

    /// Years between the two dates (inclusive) that have no published notice.
    pub fn provisional_years(&self, a: NaiveDate, b: NaiveDate) -> Vec<i32> {
        let (a, b) = (a.min(b), a.max(b));
        (a.year()..=b.year())
            .filter(|y| !self.known_years.contains(y))
            .collect()
    }
}

fn version_of(special: &BTreeMap<NaiveDate, SpecialDay>, years: &BTreeSet<i32>) -> String {
    // FNV-1a: stable across builds and platforms, unlike std's randomised hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for year in years {
        feed(&year.to_le_bytes());
    }
    for day in special.values() {
        feed(&day_number(day.date).to_le_bytes());
        feed(&[u8::from(day.kind == SpecialKind::Work)]);
    }
    format!("{hash:016x}")
}
