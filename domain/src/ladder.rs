//! The reminder ladder (docs/rules.md §4) as a pure decision: given one assignment's facts, the
//! notices already on record for it, the instant and the calendar, which notice to write.
//!
//! The ladder's rungs, in rising urgency: 督查通知 on assignment, 签收提醒 when a full working
//! day passed unsigned, 临期提醒 (BLUE) when the due is near, 催办 (YELLOW) when overdue or
//! sent back once, 红色督办 (RED) when seriously overdue, sent back twice or found again by
//! 回头看 ([000 Art.68] 蓝黄红; the progress-report pair 进展报送提醒/催报 from the item's
//! cycle, 定期报告进展 [000 Art.67]).
//!
//! Three rules keep the ladder from crying wolf:
//! - **One rung per sweep.** An assignment first seen late (an overdue item imported, a server
//!   down for a week) gets only the highest rung true now; the rungs it passed on the way are
//!   recorded as skipped, never mailed. A unit head who gets four notices about one item in one
//!   morning stops reading them.
//! - **Only what is true.** A rung is sent only while its words hold for that assignment:
//!   临期提醒 says "即将到期", so it needs a due that is near, not an item made red by
//!   rejections; nothing goes to a unit whose item waits on the office (feedback submitted,
//!   verified) or whose return is pending.
//! - **Monotone, at most once.** A deadline rung is sent only above every rung on record, so
//!   as time passes the ladder only climbs; each progress rung once per cycle.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use ducha_calendar::Calendar;

use crate::Stage;
use crate::colour::{AssignmentFacts, ColourPolicy, ProgressReport, progress_report};

/// One rung, in rising order of urgency (a capped sweep writes the top first).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Rung {
    Assigned,
    NotSigned,
    ProgressDue,
    Blue,
    ProgressMissed,
    Yellow,
    Red,
}

impl Rung {
    pub const ALL: [Rung; 7] = [
        Rung::Assigned,
        Rung::NotSigned,
        Rung::ProgressDue,
        Rung::Blue,
        Rung::ProgressMissed,
        Rung::Yellow,
        Rung::Red,
    ];

    /// The deadline rungs, which climb once; the progress rungs repeat per cycle.
    pub fn is_deadline(self) -> bool {
        !matches!(self, Rung::ProgressDue | Rung::ProgressMissed)
    }

    /// The notice's kind as stored (the unique key is assignment × kind × level).
    pub fn kind(self) -> &'static str {
        match self {
            Rung::Assigned => "ASSIGNMENT",
            Rung::NotSigned => "NOT_SIGNED",
            Rung::ProgressDue | Rung::ProgressMissed => "PROGRESS",
            Rung::Blue | Rung::Yellow | Rung::Red => "COLOUR",
        }
    }

    /// The notice's level: fixed for the deadline rungs; for progress reports it carries the
    /// cycle's due date, so each cycle is reminded once and the next one again.
    pub fn level(self, cycle: Option<NaiveDate>) -> String {
        let date = cycle.map(|d| d.to_string()).unwrap_or_default();
        match self {
            Rung::Assigned => "NOTICE".into(),
            Rung::NotSigned => "REMINDER".into(),
            Rung::Blue => "BLUE".into(),
            Rung::Yellow => "YELLOW".into(),
            Rung::Red => "RED".into(),
            Rung::ProgressDue => format!("DUE {date}"),
            Rung::ProgressMissed => format!("MISSED {date}"),
        }
    }

    /// The inverse of (`kind`, `level`): the rung and, for progress rungs, the cycle.
    pub fn parse(kind: &str, level: &str) -> Option<(Rung, Option<NaiveDate>)> {
        let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        match (kind, level) {
            ("ASSIGNMENT", "NOTICE") => Some((Rung::Assigned, None)),
            ("NOT_SIGNED", "REMINDER") => Some((Rung::NotSigned, None)),
            ("COLOUR", "BLUE") => Some((Rung::Blue, None)),
            ("COLOUR", "YELLOW") => Some((Rung::Yellow, None)),
            ("COLOUR", "RED") => Some((Rung::Red, None)),
            ("PROGRESS", level) => match level.split_once(' ') {
                Some(("DUE", d)) => Some((Rung::ProgressDue, Some(date(d)?))),
                Some(("MISSED", d)) => Some((Rung::ProgressMissed, Some(date(d)?))),
                _ => None,
            },
            _ => None,
        }
    }

    /// The notice's name, as mail subjects and digests say it.
    pub fn title(self) -> &'static str {
        match self {
            Rung::Assigned => "督查通知",
            Rung::NotSigned => "签收提醒",
            Rung::ProgressDue => "进展报送提醒",
            Rung::ProgressMissed => "进展报送催报",
            Rung::Blue => "临期提醒",
            Rung::Yellow => "催办通知",
            Rung::Red => "红色督办",
        }
    }

    /// The rung's bit in a `RungSet`.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of rungs, as a bitmask (the sweep decides a million assignments without allocating).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RungSet(u8);

impl RungSet {
    /// The set from the bits of `Rung::bit`, as the sweep's query sums them.
    pub fn from_bits(bits: u8) -> RungSet {
        RungSet(bits)
    }

    pub fn contains(self, rung: Rung) -> bool {
        self.0 & rung.bit() != 0
    }

    pub fn insert(&mut self, rung: Rung) {
        self.0 |= rung.bit();
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Rung> {
        Rung::ALL.into_iter().filter(move |r| self.contains(*r))
    }

    /// The most urgent deadline rung in the set.
    pub fn highest_deadline(self) -> Option<Rung> {
        self.iter().filter(|r| r.is_deadline()).max()
    }
}

/// The notices already on record for one assignment, sent or skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OnRecord {
    /// Deadline rungs on record.
    pub rungs: RungSet,
    /// The latest cycle (its due date) reminded with 进展报送提醒, and with 催报.
    pub progress_due: Option<NaiveDate>,
    pub progress_missed: Option<NaiveDate>,
}

impl OnRecord {
    /// Adds a rung, as writing it (sent or skipped) does.
    pub fn record(&mut self, rung: Rung, cycle: Option<NaiveDate>) {
        match rung {
            Rung::ProgressDue => self.progress_due = self.progress_due.max(cycle),
            Rung::ProgressMissed => self.progress_missed = self.progress_missed.max(cycle),
            _ => self.rungs.insert(rung),
        }
    }

    fn has_progress(&self, rung: Rung, cycle: NaiveDate) -> bool {
        let latest = match rung {
            Rung::ProgressDue => self.progress_due.max(self.progress_missed),
            _ => self.progress_missed,
        };
        latest.is_some_and(|d| d >= cycle)
    }
}

/// What the ladder needs of one assignment.
#[derive(Debug, Clone)]
pub struct LadderFacts {
    /// What its colour depends on (stage, due, extension, rejections, reopen, report cycle).
    pub colour: AssignmentFacts,
    /// When it was assigned to the unit.
    pub assigned_at: DateTime<Utc>,
    /// In force for the unit: not withdrawn, and no return (退回) waiting on the office.
    pub live: bool,
    pub signed: bool,
}

/// Why a rung is true now; spelled out (`text`) only for the notices actually written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    Assigned,
    NotSigned {
        assigned_at: DateTime<Utc>,
    },
    DueSoon {
        due_date: NaiveDate,
        working_days_left: i64,
        extended: bool,
    },
    Overdue {
        due_date: NaiveDate,
        working_days: i64,
        extended: bool,
    },
    Rejected {
        times: i64,
    },
    Reopened,
    ProgressDue {
        date: NaiveDate,
    },
    ProgressMissed {
        date: NaiveDate,
    },
}

impl Why {
    /// The situation in one line of Chinese, as the notice states it.
    pub fn text(&self, time_zone: Tz) -> String {
        // The due is named by its date only: the notice's due line says whether it was
        // extended.
        let day = |d: NaiveDate| d.format("%Y年%m月%d日").to_string();
        match *self {
            Why::Assigned => "已交办，待签收".into(),
            Why::NotSigned { assigned_at } => format!(
                "{}交办，超过1个工作日仍未签收",
                assigned_at
                    .with_timezone(&time_zone)
                    .format("%Y年%m月%d日 %H:%M")
            ),
            Why::DueSoon {
                due_date,
                working_days_left,
                ..
            } => {
                if working_days_left <= 0 {
                    format!("今日到期（期限{}）", day(due_date))
                } else {
                    format!("{working_days_left}个工作日内到期（期限{}）", day(due_date))
                }
            }
            Why::Overdue {
                due_date,
                working_days,
                ..
            } => format!("已逾期{working_days}个工作日（期限{}）", day(due_date)),
            Why::Rejected { times } => format!("办结反馈被退回重办{times}次"),
            Why::Reopened => "回头看发现问题，事项重新办理".into(),
            Why::ProgressDue { date } => format!("本期进展报告应于{}报送", day(date)),
            Why::ProgressMissed { date } => {
                format!("本期进展报告应于{}报送，至今未报送", day(date))
            }
        }
    }
}

/// A rung true now, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub rung: Rung,
    pub why: Why,
}

impl Step {
    /// The progress cycle (its due date) of a progress rung.
    pub fn cycle(&self) -> Option<NaiveDate> {
        match self.why {
            Why::ProgressDue { date } | Why::ProgressMissed { date } => Some(date),
            _ => None,
        }
    }

    pub fn level(&self) -> String {
        self.rung.level(self.cycle())
    }
}

/// What one sweep writes for one assignment: at most one notice to send, and the rungs
/// skipped (passed over, or true now but outranked), which are never mailed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Decision {
    pub send: Option<Step>,
    /// Every deadline rung skipped, for the record of the notice sent.
    pub skipped: RungSet,
    /// The deadline rung true now that lost to a more urgent progress rung: it must be on
    /// record, or the next sweep would send it.
    pub outranked: Option<Rung>,
    /// A progress rung true now that lost to a more urgent deadline rung, with its cycle.
    pub skipped_progress: Option<(Rung, NaiveDate)>,
}

impl Decision {
    pub fn is_empty(&self) -> bool {
        self.send.is_none()
            && self.skipped.is_empty()
            && self.outranked.is_none()
            && self.skipped_progress.is_none()
    }
}

/// When a full working day has passed since the assignment (签收 is due within one working day
/// of assignment, docs/rules.md §1): the same local time on the next working day; for an
/// assignment made on a day off, the end of the first working day after it.
pub fn sign_due(
    calendar: &Calendar,
    time_zone: Tz,
    assigned_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let local = assigned_at.with_timezone(&time_zone);
    let date = local.date_naive();
    let next = calendar.add_working_days(date, 1).ok()?.value;
    let local_due = if calendar.is_working_day(date).value {
        next.and_time(local.time())
    } else {
        next.succ_opt()?.and_hms_opt(0, 0, 0)?
    };
    local_due
        .and_local_timezone(time_zone)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The highest deadline rung true now, if any.
pub fn deadline_rung(
    calendar: &Calendar,
    time_zone: Tz,
    policy: &ColourPolicy,
    facts: &LadderFacts,
    now: DateTime<Utc>,
) -> Option<Step> {
    let f = &facts.colour;
    if !facts.live || !matches!(f.stage, Stage::Assigned | Stage::InProgress) {
        return None;
    }
    // A co-unit whose part has ended (it reported it, or the lead first reported the whole)
    // is reminded of nothing more; the lead's rework and 回头看 are the lead's (rules.md §3).
    if !f.lead && f.clock_stopped_at().is_some() {
        return None;
    }
    let (rejections, reopened) = if f.lead {
        (f.rejections, f.reopened)
    } else {
        (0, false)
    };
    let step = |rung, why| Some(Step { rung, why });
    let today = now.with_timezone(&time_zone).date_naive();
    let extended = f.extended_due_at.is_some();
    let due = f.extended_due_at.unwrap_or(f.due_at);
    let due_date = due.with_timezone(&time_zone).date_naive();
    let overdue = (now > due).then(|| calendar.working_days_between(due_date, today).value.max(1));
    let overdue_why = |working_days| Why::Overdue {
        due_date,
        working_days,
        extended,
    };
    match overdue {
        Some(days) if days > policy.red_after_overdue_working_days => {
            return step(Rung::Red, overdue_why(days));
        }
        _ => {}
    }
    if rejections >= policy.red_rejections {
        return step(Rung::Red, Why::Rejected { times: rejections });
    }
    if reopened && policy.reopen_is_red {
        return step(Rung::Red, Why::Reopened);
    }
    if let Some(days) = overdue {
        return step(Rung::Yellow, overdue_why(days));
    }
    if rejections >= policy.yellow_rejections {
        return step(Rung::Yellow, Why::Rejected { times: rejections });
    }
    let left = calendar.working_days_between(today, due_date).value;
    if left <= policy.blue_within_working_days {
        return step(
            Rung::Blue,
            Why::DueSoon {
                due_date,
                working_days_left: left,
                extended,
            },
        );
    }
    if facts.signed {
        return None;
    }
    match sign_due(calendar, time_zone, facts.assigned_at) {
        Some(sign_due) if now >= sign_due => step(
            Rung::NotSigned,
            Why::NotSigned {
                assigned_at: facts.assigned_at,
            },
        ),
        _ => step(Rung::Assigned, Why::Assigned),
    }
}

/// The progress rung true now, if any.
pub fn progress_rung(
    calendar: &Calendar,
    time_zone: Tz,
    policy: &ColourPolicy,
    facts: &LadderFacts,
    now: DateTime<Utc>,
) -> Option<Step> {
    // A unit that has not signed is reminded to sign; reports come after.
    if !facts.live || !facts.signed {
        return None;
    }
    match progress_report(calendar, time_zone, policy, &facts.colour, now)? {
        ProgressReport::DueSoon(date) => Some(Step {
            rung: Rung::ProgressDue,
            why: Why::ProgressDue { date },
        }),
        ProgressReport::Missed(date) => Some(Step {
            rung: Rung::ProgressMissed,
            why: Why::ProgressMissed { date },
        }),
    }
}

/// The ladder's decision for one assignment at `now`: the highest rung true now that is not
/// on record (a deadline rung only above every deadline rung on record), and what to record
/// as skipped with it.
pub fn decide(
    calendar: &Calendar,
    time_zone: Tz,
    policy: &ColourPolicy,
    facts: &LadderFacts,
    on_record: &OnRecord,
    now: DateTime<Utc>,
) -> Decision {
    let highest = on_record.rungs.highest_deadline();
    let deadline = deadline_rung(calendar, time_zone, policy, facts, now)
        .filter(|s| highest.is_none_or(|h| s.rung > h));
    let progress = progress_rung(calendar, time_zone, policy, facts, now).filter(|s| {
        s.cycle()
            .is_some_and(|cycle| !on_record.has_progress(s.rung, cycle))
    });
    let mut decision = Decision::default();
    // Deadline rungs below the top one are passed over: recorded, never mailed. The signing
    // rungs were never true of a signed assignment, so they are not said to be skipped.
    if let Some(top) = deadline {
        for rung in Rung::ALL {
            let signing = matches!(rung, Rung::Assigned | Rung::NotSigned);
            if rung.is_deadline()
                && rung < top.rung
                && !on_record.rungs.contains(rung)
                && !(signing && facts.signed)
            {
                decision.skipped.insert(rung);
            }
        }
    }
    match (deadline, progress) {
        (Some(d), Some(p)) if p.rung > d.rung => {
            decision.send = Some(p);
            decision.skipped.insert(d.rung);
            decision.outranked = Some(d.rung);
        }
        (Some(d), Some(p)) => {
            decision.send = Some(d);
            decision.skipped_progress = p.cycle().map(|c| (p.rung, c));
        }
        (d, p) => decision.send = d.or(p),
    }
    decision
}

/// Applies a decision to the record, as writing it does: the notice sent, and the skipped
/// rungs later decisions depend on. The deadline rungs passed over below the one sent need
/// no record of their own (the ladder only climbs above the highest on record), which keeps
/// a sweep that catches up on a large backlog to one row per assignment.
pub fn apply(on_record: &mut OnRecord, decision: &Decision) {
    if let Some(step) = decision.send {
        on_record.record(step.rung, step.cycle());
    }
    if let Some(rung) = decision.outranked {
        on_record.record(rung, None);
    }
    if let Some((rung, cycle)) = decision.skipped_progress {
        on_record.record(rung, Some(cycle));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    const TZ: Tz = chrono_tz::Asia::Shanghai;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        TZ.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn facts(assigned: DateTime<Utc>, due: DateTime<Utc>) -> LadderFacts {
        LadderFacts {
            colour: AssignmentFacts {
                stage: Stage::Assigned,
                due_at: due,
                extended_due_at: None,
                rejections: 0,
                reopened: false,
                report_cycle_days: None,
                report_cycle_working_days: false,
                last_report_or_assigned_at: assigned,
                feedback_at: None,
                lead: true,
                first_feedback_at: None,
                own_report_at: None,
            },
            assigned_at: assigned,
            live: true,
            signed: false,
        }
    }

    /// Built once: parsing the bundled calendar per decision would dominate the tests.
    fn national() -> &'static Calendar {
        static CALENDAR: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
        CALENDAR.get_or_init(Calendar::national)
    }

    fn decide_at(f: &LadderFacts, record: &OnRecord, now: DateTime<Utc>) -> Decision {
        decide(national(), TZ, &ColourPolicy::default(), f, record, now)
    }

    #[test]
    fn an_assignment_first_seen_overdue_gets_only_the_red_rung() {
        let f = facts(at(2026, 9, 1, 9, 0), at(2026, 9, 4, 18, 0));
        let d = decide_at(&f, &OnRecord::default(), at(2026, 9, 29, 9, 0));
        assert_eq!(d.send.map(|s| s.rung), Some(Rung::Red));
        let skipped: Vec<Rung> = d.skipped.iter().collect();
        assert_eq!(
            skipped,
            [Rung::Assigned, Rung::NotSigned, Rung::Blue, Rung::Yellow],
            "passed over, recorded, not mailed"
        );
    }

    #[test]
    fn red_by_rejections_never_sends_a_due_soon_notice() {
        let mut f = facts(at(2026, 9, 1, 9, 0), at(2026, 12, 18, 18, 0));
        f.signed = true;
        f.colour.stage = Stage::InProgress;
        f.colour.rejections = 2;
        let d = decide_at(&f, &OnRecord::default(), at(2026, 12, 8, 9, 0));
        assert_eq!(
            d.send,
            Some(Step {
                rung: Rung::Red,
                why: Why::Rejected { times: 2 }
            })
        );
        // And with the RED on record, later sweeps never go back down to BLUE as the due
        // comes near.
        let mut record = OnRecord::default();
        apply(&mut record, &d);
        assert_eq!(decide_at(&f, &record, at(2026, 12, 17, 9, 0)).send, None);
    }

    #[test]
    fn the_signing_reminder_waits_a_full_working_day() {
        // Assigned Tuesday 17:10: at Wednesday 08:30 only 15 hours have passed.
        let assigned = at(2026, 11, 17, 17, 10);
        let f = facts(assigned, at(2026, 11, 30, 18, 0));
        let mut record = OnRecord::default();
        record.record(Rung::Assigned, None);
        assert_eq!(decide_at(&f, &record, at(2026, 11, 18, 8, 30)).send, None);
        assert_eq!(decide_at(&f, &record, at(2026, 11, 18, 14, 0)).send, None);
        assert_eq!(
            decide_at(&f, &record, at(2026, 11, 19, 8, 30))
                .send
                .map(|s| s.rung),
            Some(Rung::NotSigned)
        );
        // Friday 17:10 → Monday 17:10; before National Day → 10-08 at the same time.
        assert_eq!(
            sign_due(national(), TZ, at(2026, 11, 20, 17, 10)),
            Some(at(2026, 11, 23, 17, 10))
        );
        assert_eq!(
            sign_due(national(), TZ, at(2026, 9, 30, 11, 0)),
            Some(at(2026, 10, 8, 11, 0))
        );
        // Assigned on a Sunday: the whole of Monday.
        assert_eq!(
            sign_due(national(), TZ, at(2026, 11, 22, 10, 0)),
            Some(at(2026, 11, 24, 0, 0))
        );
    }

    #[test]
    fn nothing_goes_to_a_unit_whose_item_waits_on_the_office() {
        let mut f = facts(at(2026, 9, 1, 9, 0), at(2026, 9, 4, 18, 0));
        f.colour.rejections = 3;
        for stage in [
            Stage::FeedbackSubmitted,
            Stage::Verified,
            Stage::Closed,
            Stage::Suspended,
        ] {
            f.colour.stage = stage;
            assert!(decide_at(&f, &OnRecord::default(), at(2026, 10, 20, 9, 0)).is_empty());
        }
        f.colour.stage = Stage::InProgress;
        f.live = false;
        assert!(decide_at(&f, &OnRecord::default(), at(2026, 10, 20, 9, 0)).is_empty());
    }

    #[test]
    fn a_missed_report_outranks_a_near_due_and_is_reminded_once_per_cycle() {
        let assigned = at(2026, 10, 12, 9, 0);
        let mut f = facts(assigned, at(2026, 10, 21, 18, 0));
        f.signed = true;
        f.colour.stage = Stage::InProgress;
        f.colour.report_cycle_days = Some(7);
        let mut record = OnRecord::default();
        record.record(Rung::Assigned, None);
        // 10-20: the report due 10-19 was missed and the due (10-21) is a working day away.
        let d = decide_at(&f, &record, at(2026, 10, 20, 8, 30));
        assert_eq!(d.send.map(|s| s.rung), Some(Rung::ProgressMissed));
        assert!(d.skipped.contains(Rung::Blue), "{d:?}");
        apply(&mut record, &d);
        assert_eq!(decide_at(&f, &record, at(2026, 10, 20, 14, 0)).send, None);
        // Overdue (YELLOW) outranks the missed report of the same cycle, which is on record.
        let later = decide_at(&f, &record, at(2026, 10, 22, 8, 30));
        assert_eq!(later.send.map(|s| s.rung), Some(Rung::Yellow));
    }

    #[test]
    fn rungs_round_trip_through_kind_and_level() {
        let cycle = NaiveDate::from_ymd_opt(2026, 10, 19);
        for rung in Rung::ALL {
            let c = (!rung.is_deadline()).then_some(cycle).flatten();
            assert_eq!(Rung::parse(rung.kind(), &rung.level(c)), Some((rung, c)));
        }
        assert_eq!(Rung::parse("COLOUR", "GREEN"), None);
    }

    /// A small deterministic generator, so the property tests need no dependency and fail
    /// the same way every run.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> i64 {
            i64::try_from(self.next() % n).unwrap_or(0)
        }

        fn chance(&mut self, percent: u64) -> bool {
            self.next() % 100 < percent
        }
    }

    fn random_facts(g: &mut Gen) -> LadderFacts {
        // Assignments through 2025–2026, across every holiday and 调休 day of both years.
        let assigned = at(2025, 1, 2, 0, 0) + Duration::minutes(g.below(600 * 24 * 60));
        let due = assigned + Duration::minutes(g.below(40 * 24 * 60) + 60);
        let mut f = facts(assigned, due);
        f.signed = g.chance(50);
        f.live = g.chance(90);
        f.colour.stage = match g.below(10) {
            0 => Stage::FeedbackSubmitted,
            1 => Stage::Verified,
            2 => Stage::Suspended,
            3..=5 => Stage::Assigned,
            _ => Stage::InProgress,
        };
        if g.chance(25) {
            f.colour.extended_due_at = Some(due + Duration::days(g.below(20) + 1));
        }
        f.colour.rejections = if g.chance(20) { g.below(4) } else { 0 };
        f.colour.reopened = g.chance(5);
        if g.chance(30) {
            f.colour.report_cycle_days = Some(i32::try_from(g.below(14) + 1).unwrap_or(7));
            f.colour.report_cycle_working_days = g.chance(50);
            f.colour.last_report_or_assigned_at = assigned + Duration::days(g.below(10));
        }
        f
    }

    /// The rung's condition, checked from the facts directly.
    fn report_cutoff(date: NaiveDate, due: DateTime<Utc>) -> DateTime<Utc> {
        date.and_time(due.with_timezone(&TZ).time())
            .and_local_timezone(TZ)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .expect("a local instant")
    }

    fn holds(f: &LadderFacts, step: &Step, now: DateTime<Utc>) -> bool {
        let calendar = national();
        let policy = ColourPolicy::default();
        let due = f.colour.extended_due_at.unwrap_or(f.colour.due_at);
        let working = matches!(f.colour.stage, Stage::Assigned | Stage::InProgress);
        let today = now.with_timezone(&TZ).date_naive();
        let due_date = due.with_timezone(&TZ).date_naive();
        f.live
            && working
            && match step.why {
                Why::Assigned => !f.signed,
                Why::NotSigned { .. } => {
                    let assigned_date = f.assigned_at.with_timezone(&TZ).date_naive();
                    !f.signed
                        && now - f.assigned_at >= Duration::hours(24)
                        && calendar.working_days_between(assigned_date, today).value >= 1
                }
                Why::DueSoon { .. } => {
                    step.rung == Rung::Blue
                        && now <= due
                        && calendar.working_days_between(today, due_date).value
                            <= policy.blue_within_working_days
                }
                Why::Overdue { working_days, .. } => {
                    now > due
                        && (step.rung == Rung::Red)
                            == (working_days > policy.red_after_overdue_working_days)
                }
                Why::Rejected { times } => {
                    times == f.colour.rejections
                        && times
                            >= if step.rung == Rung::Red {
                                policy.red_rejections
                            } else {
                                policy.yellow_rejections
                            }
                }
                Why::Reopened => f.colour.reopened && step.rung == Rung::Red,
                // Due on its date at the item's own time of day (the office cut-off).
                Why::ProgressDue { date } => f.signed && now <= report_cutoff(date, due),
                Why::ProgressMissed { date } => f.signed && now > report_cutoff(date, due),
            }
    }

    #[test]
    fn property_every_rung_sent_is_true_at_its_time_once_and_the_ladder_only_climbs() {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        let mut sent_total = 0;
        for _ in 0..3_000 {
            let f = random_facts(&mut g);
            let mut record = OnRecord::default();
            let mut sent_deadline: Vec<Rung> = Vec::new();
            let mut sent_progress: Vec<(Rung, NaiveDate)> = Vec::new();
            // Sweeps at 08:30 and 14:00 for 60 days from the assignment, with an occasional
            // sweep at a random instant (on demand).
            let start = f.assigned_at.with_timezone(&TZ).date_naive();
            for day in 0..60 {
                let date = start + Duration::days(day);
                for (h, m) in [(8, 30), (14, 0)] {
                    let now = at(
                        chrono::Datelike::year(&date),
                        chrono::Datelike::month(&date),
                        chrono::Datelike::day(&date),
                        h,
                        m,
                    ) + Duration::minutes(if g.chance(5) { g.below(300) } else { 0 });
                    if now < f.assigned_at {
                        continue;
                    }
                    let d = decide_at(&f, &record, now);
                    if let Some(step) = d.send {
                        sent_total += 1;
                        assert!(holds(&f, &step, now), "{step:?} false at {now} for {f:?}");
                        assert!(!d.skipped.contains(step.rung), "sent and skipped");
                        if step.rung.is_deadline() {
                            assert!(
                                sent_deadline.last().is_none_or(|last| step.rung > *last),
                                "the ladder went down: {sent_deadline:?} then {step:?}"
                            );
                            sent_deadline.push(step.rung);
                        } else {
                            let key = (step.rung, step.cycle().unwrap_or_default());
                            assert!(!sent_progress.contains(&key), "{key:?} twice");
                            sent_progress.push(key);
                        }
                    }
                    apply(&mut record, &d);
                    // At most once: the same sweep run again writes nothing.
                    assert!(decide_at(&f, &record, now).is_empty(), "{f:?} at {now}");
                }
            }
        }
        assert!(
            sent_total > 3_000,
            "the generator exercises the ladder: {sent_total}"
        );
    }

    #[test]
    fn property_never_before_its_time() {
        let mut g = Gen(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let mut f = random_facts(&mut g);
            f.colour.rejections = 0;
            f.colour.reopened = false;
            let now = f.assigned_at + Duration::minutes(g.below(50 * 24 * 60));
            let due = f.colour.extended_due_at.unwrap_or(f.colour.due_at);
            let d = decide_at(&f, &OnRecord::default(), now);
            match d.send.map(|s| s.rung) {
                Some(Rung::Yellow | Rung::Red) => assert!(now > due, "overdue before due"),
                Some(Rung::NotSigned) => assert!(now >= f.assigned_at + Duration::hours(24)),
                Some(_) | None => {}
            }
            if now <= due {
                assert!(!d.skipped.contains(Rung::Yellow) && !d.skipped.contains(Rung::Red));
            }
        }
    }
}
