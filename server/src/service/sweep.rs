//! The reminder sweep (design.md §5): for every open assignment, decide which notices of the
//! ladder are due — 督查通知 on assignment, a reminder when not signed a working day later,
//! 临期提醒 (BLUE), 催办 (YELLOW), 红色督办 (RED) — and write each, at most once per
//! (assignment, kind, level), into the outbox in the same transaction as the decision.
//!
//! Only one instance sweeps at a time: a lease row in the database, taken with a conditional
//! update, so two servers on one PostgreSQL never sweep together; the unique key on
//! `notice` makes a re-run, a restart or a race harmless anyway.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use ducha_domain::Stage;
use ducha_domain::colour::{
    AssignmentFacts, Colour, ColourPolicy, ProgressReport, assignment_colour, progress_report,
};
use std::pin::Pin;

use futures_util::{Stream, TryStreamExt};
use sea_orm::TryInsertResult;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, Set,
    TransactionTrait,
};
use serde_json::json;

use super::colours::RuleSet;
use super::{Audit, in_chunks};
use crate::error::AppResult;
use crate::mail::render_notice;
use crate::startup::AppState;
use entity::{audit_event, item, lease, notice, outbox, person, unit};

/// How many notices one sweep writes at most, most urgent first; the rest wait for the next.
pub const MAX_NOTICES_PER_SWEEP: usize = 5_000;
const SWEEP_LEASE: &str = "reminder-sweep";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// False when another instance holds the lease.
    pub ran: bool,
    pub assignments: usize,
    pub notices: usize,
    pub emails: usize,
}

/// Takes or renews the named lease until `until`; true when this holder has it.
pub async fn acquire_lease(
    db: &DatabaseConnection,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> AppResult<bool> {
    // Create the row if it is missing (no-op when it exists), then take it if it is free.
    lease::Entity::insert(lease::ActiveModel {
        name: Set(name.to_string()),
        holder: Set(String::new()),
        expires_at: Set(now - Duration::seconds(1)),
    })
    .on_conflict(
        OnConflict::column(lease::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let taken = lease::Entity::update_many()
        .col_expr(lease::Column::Holder, Expr::value(holder))
        .col_expr(lease::Column::ExpiresAt, Expr::value(until))
        .filter(lease::Column::Name.eq(name))
        .filter(
            sea_orm::Condition::any()
                .add(lease::Column::ExpiresAt.lt(now))
                .add(lease::Column::Holder.eq(holder)),
        )
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

pub async fn release_lease(
    db: &DatabaseConnection,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    lease::Entity::update_many()
        .col_expr(
            lease::Column::ExpiresAt,
            Expr::value(now - Duration::seconds(1)),
        )
        .filter(lease::Column::Name.eq(name))
        .filter(lease::Column::Holder.eq(holder))
        .exec(db)
        .await?;
    Ok(())
}

/// One rung of the ladder, in rising order of urgency (a capped sweep sends the top first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Rung {
    Assigned,
    NotSigned,
    ProgressDue,
    Blue,
    ProgressMissed,
    Yellow,
    Red,
}

/// Bits of the notices already sent for an assignment, as the sweep query sums them; the
/// progress-report rungs are keyed by cycle instead (see `SENT_BITS_SQL`).
const SENT_ASSIGNED: i64 = 1;
const SENT_NOT_SIGNED: i64 = 2;
const SENT_BLUE: i64 = 4;
const SENT_YELLOW: i64 = 8;
const SENT_RED: i64 = 16;

impl Rung {
    fn kind(self) -> &'static str {
        match self {
            Rung::Assigned => "ASSIGNMENT",
            Rung::NotSigned => "NOT_SIGNED",
            Rung::ProgressDue | Rung::ProgressMissed => "PROGRESS",
            Rung::Blue | Rung::Yellow | Rung::Red => "COLOUR",
        }
    }

    /// The notice's level: fixed for the one-off rungs; for progress reports it carries the
    /// cycle's due date, so each cycle is reminded once and the next cycle again.
    fn level(self, report_date: Option<NaiveDate>) -> String {
        let date = report_date.map(|d| d.to_string()).unwrap_or_default();
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

    fn sent_bit(self) -> i64 {
        match self {
            Rung::Assigned => SENT_ASSIGNED,
            Rung::NotSigned => SENT_NOT_SIGNED,
            Rung::Blue => SENT_BLUE,
            Rung::Yellow => SENT_YELLOW,
            Rung::Red => SENT_RED,
            Rung::ProgressDue | Rung::ProgressMissed => 0,
        }
    }

    fn subject(self) -> &'static str {
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

    fn expected(self) -> &'static str {
        match self {
            Rung::Assigned => "请于1个工作日内签收，并按办理要求在期限内落实、反馈办理结果。",
            Rung::NotSigned => {
                "该事项交办已满1个工作日仍未签收，请尽快签收办理；如不属本单位职责，请说明理由申请退回。"
            }
            Rung::ProgressDue => "该事项本期进展报告即将到期，请按时报送阶段性办理进展。",
            Rung::ProgressMissed => {
                "该事项本期进展报告已超过报送期限仍未报送，请单位负责人督促经办人立即报送。"
            }
            Rung::Blue => {
                "该事项即将到期，请抓紧办理并按期反馈；确需延期的，请在期限届满前提出申请。"
            }
            Rung::Yellow => {
                "该事项已逾期或未按要求办理，请单位主要负责人督促落实，尽快反馈办理结果。"
            }
            Rung::Red => {
                "该事项严重逾期或经多次退回仍未办结，列为红色督办。请单位主要负责人亲自抓落实，并向分管区领导报告。"
            }
        }
    }

    fn colour_css(self) -> &'static str {
        match self {
            Rung::Blue | Rung::ProgressDue => "#1f6feb",
            Rung::Yellow | Rung::ProgressMissed => "#b08800",
            Rung::Red => "#cf222e",
            _ => "#222",
        }
    }
}

/// Runs one sweep at `now` as `holder`.
pub async fn run_sweep(
    state: &AppState,
    holder: &str,
    now: DateTime<Utc>,
) -> AppResult<SweepReport> {
    let db = &state.db;
    if !acquire_lease(db, SWEEP_LEASE, holder, now, now + Duration::minutes(10)).await? {
        return Ok(SweepReport::default());
    }
    let outcome = sweep_with_lease(state, now, true).await;
    release_lease(db, SWEEP_LEASE, holder, now).await?;
    outcome
}

/// What a sweep at `now` would send, without writing anything: the read and decide half of
/// a sweep, which the benchmark compares with a plain scan.
pub async fn plan(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    Ok(sweep_with_lease(state, now, false).await?.notices)
}

/// One open assignment with every fact its rungs depend on, read in a single pass: the
/// item's stage and report cycle, its rejections and reopens, the assignment's last report
/// and the notices already sent. One narrow query instead of a pass per table is what keeps
/// the sweep near the cost of a plain scan (BENCHMARKS.md).
#[derive(Debug, FromQueryResult)]
pub struct OpenAssignment {
    pub id: i64,
    pub item_id: i64,
    pub serial: String,
    pub unit_id: i64,
    due_at: DateTime<Utc>,
    extended_due_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    signed_at: Option<DateTime<Utc>>,
    status: String,
    stage: String,
    report_cycle_days: Option<i32>,
    last_report_at: Option<DateTime<Utc>>,
    rejections: Option<i64>,
    reopens: Option<i64>,
    sent_bits: Option<i64>,
    last_progress_due: Option<String>,
    last_progress_missed: Option<String>,
}

/// `$1` is the sweep instant. The notice levels for progress reports sort by
/// date ("DUE 2026-10-15"), so the greatest one sent is the latest cycle reminded.
const OPEN_ASSIGNMENTS_SQL: &str = "\
SELECT a.id, a.item_id, i.serial, a.unit_id, a.due_at, a.extended_due_at, a.created_at, a.signed_at, a.status, \
       i.stage, i.report_cycle_days, r.last_report_at, e.rejections, e.reopens, \
       n.sent_bits, n.last_progress_due, n.last_progress_missed \
FROM assignment a \
JOIN item i ON i.id = a.item_id \
LEFT JOIN (SELECT assignment_id, MAX(created_at) AS last_report_at FROM report \
           WHERE created_at <= $1 GROUP BY assignment_id) r ON r.assignment_id = a.id \
LEFT JOIN (SELECT item_id, \
                  SUM(CASE WHEN action = 'REJECT' THEN 1 ELSE 0 END) AS rejections, \
                  SUM(CASE WHEN action = 'REOPEN' THEN 1 ELSE 0 END) AS reopens \
           FROM audit_event WHERE action IN ('REJECT', 'REOPEN') AND at <= $1 \
           GROUP BY item_id) e ON e.item_id = a.item_id \
LEFT JOIN (SELECT assignment_id, \
                  SUM(CASE WHEN kind = 'ASSIGNMENT' THEN 1 \
                           WHEN kind = 'NOT_SIGNED' THEN 2 \
                           WHEN kind = 'COLOUR' AND level = 'BLUE' THEN 4 \
                           WHEN kind = 'COLOUR' AND level = 'YELLOW' THEN 8 \
                           WHEN kind = 'COLOUR' AND level = 'RED' THEN 16 \
                           ELSE 0 END) AS sent_bits, \
                  MAX(CASE WHEN kind = 'PROGRESS' AND level LIKE 'DUE %' THEN level END) AS last_progress_due, \
                  MAX(CASE WHEN kind = 'PROGRESS' AND level LIKE 'MISSED %' THEN level END) AS last_progress_missed \
           FROM notice GROUP BY assignment_id) n ON n.assignment_id = a.id \
WHERE i.stage IN ('ASSIGNED', 'IN_PROGRESS', 'FEEDBACK_SUBMITTED', 'VERIFIED') \
  AND a.status <> 'WITHDRAWN'";

impl OpenAssignment {
    /// What the colour rules need of this assignment.
    pub fn facts(&self) -> AssignmentFacts {
        AssignmentFacts {
            stage: Stage::parse(&self.stage).unwrap_or(Stage::Assigned),
            due_at: self.due_at,
            extended_due_at: self.extended_due_at,
            rejections: self.rejections.unwrap_or(0),
            reopened: self.reopens.unwrap_or(0) > 0,
            report_cycle_days: self.report_cycle_days,
            last_report_or_assigned_at: self.last_report_at.unwrap_or(self.created_at),
        }
    }
}

/// Rows of `open_assignments`, as they arrive.
pub type OpenAssignments<'a> =
    Pin<Box<dyn Stream<Item = Result<OpenAssignment, sea_orm::DbErr>> + Send + 'a>>;

/// Every open item's live assignments with the facts their colours and notices depend on,
/// as of `now`, in one query, streamed: the sweep decides each row as it arrives (deciding
/// overlaps the transfer, and rows are not kept), and live dashboards recompute colours
/// from the same rows.
pub async fn open_assignments(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<OpenAssignments<'_>> {
    Ok(OpenAssignment::find_by_statement(super::statement(
        db.get_database_backend(),
        OPEN_ASSIGNMENTS_SQL,
        vec![now.into()],
    ))
    .stream(db)
    .await?)
}

/// The assignment a notice is about: what writing it needs, copied out of the row so that
/// rows are decided as they stream in and dropped.
#[derive(Debug, Clone, Copy)]
struct Target {
    assignment_id: i64,
    item_id: i64,
    unit_id: i64,
    due_at: DateTime<Utc>,
    extended_due_at: Option<DateTime<Utc>>,
}

/// A notice the sweep decided to send. Deciding touches every open assignment, so a
/// decision allocates nothing: the level and the reason are spelled out only for the
/// notices actually written.
struct Due {
    rung: Rung,
    /// The progress report's due date, for the progress rungs.
    report_date: Option<NaiveDate>,
    target: Target,
    /// The colour verdict's reason, for the colour rungs (an index into `reasons`).
    colour_reason: Option<usize>,
}

impl Due {
    fn level(&self) -> String {
        self.rung.level(self.report_date)
    }

    fn reason(&self, reasons: &[String]) -> String {
        let date = self.report_date.map(|d| d.to_string()).unwrap_or_default();
        match self.rung {
            Rung::Assigned => String::new(),
            Rung::NotSigned => "交办满1个工作日未签收".into(),
            Rung::ProgressDue => format!("本期进展报告应于{date}前报送"),
            Rung::ProgressMissed => format!("本期进展报告应于{date}前报送，至今未报送"),
            Rung::Blue | Rung::Yellow | Rung::Red => self
                .colour_reason
                .and_then(|i| reasons.get(i))
                .cloned()
                .unwrap_or_default(),
        }
    }
}

async fn sweep_with_lease(
    state: &AppState,
    now: DateTime<Utc>,
    write: bool,
) -> AppResult<SweepReport> {
    let db = &state.db;
    let rule_set = RuleSet::load(state).await?;
    let calendar = &rule_set.calendar;
    let policy = &rule_set.policy;
    // The colour rungs follow deadlines, rejections and reopens only: progress reports have
    // rungs of their own, keyed by cycle. Were a missed report to send the one-off YELLOW
    // 催办, the real overdue YELLOW later could never be sent.
    let ladder_policy = ColourPolicy {
        count_progress_reports: false,
        ..policy.clone()
    };
    let tz = rule_set.time_zone;
    let today = now.with_timezone(&tz).date_naive();
    let mut rows = open_assignments(db, now).await?;
    let mut assignments = 0;
    let mut due: Vec<Due> = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    let all_colours_sent = SENT_BLUE | SENT_YELLOW | SENT_RED;
    while let Some(row) = rows.try_next().await? {
        assignments += 1;
        let a = &row;
        let target = Target {
            assignment_id: a.id,
            item_id: a.item_id,
            unit_id: a.unit_id,
            due_at: a.due_at,
            extended_due_at: a.extended_due_at,
        };
        let facts = a.facts();
        let stage = facts.stage;
        let sent = a.sent_bits.unwrap_or(0);
        let mut push = |rung: Rung, colour_reason: Option<usize>| {
            if sent & rung.sent_bit() == 0 {
                due.push(Due {
                    rung,
                    report_date: None,
                    target,
                    colour_reason,
                });
            }
        };
        push(Rung::Assigned, None);
        let awaiting_signature = a.signed_at.is_none()
            && a.status == super::ACTIVE
            && matches!(stage, Stage::Assigned | Stage::InProgress);
        if awaiting_signature {
            let assigned_date = a.created_at.with_timezone(&tz).date_naive();
            if calendar.working_days_between(assigned_date, today).value >= 1 {
                push(Rung::NotSigned, None);
            }
        }
        // Once every colour notice went, the colour cannot add one.
        if sent & all_colours_sent != all_colours_sent {
            let verdict = assignment_colour(calendar, tz, &ladder_policy, &facts, now);
            if verdict.colour > Colour::None {
                let index = reasons.len();
                reasons.push(verdict.reason);
                // Every level up to the current one: a unit that jumps to RED still hears
                // of each.
                for (rung, colour) in [
                    (Rung::Blue, Colour::Blue),
                    (Rung::Yellow, Colour::Yellow),
                    (Rung::Red, Colour::Red),
                ] {
                    if verdict.colour >= colour {
                        push(rung, Some(index));
                    }
                }
            }
        }
        let (rung, date, last_sent) = match progress_report(calendar, tz, policy, &facts, now) {
            Some(ProgressReport::DueSoon(date)) => (Rung::ProgressDue, date, &a.last_progress_due),
            Some(ProgressReport::Missed(date)) => {
                (Rung::ProgressMissed, date, &a.last_progress_missed)
            }
            None => continue,
        };
        let level = rung.level(Some(date));
        if last_sent.as_deref().is_none_or(|sent| *sent < *level) {
            due.push(Due {
                rung,
                report_date: Some(date),
                target,
                colour_reason: None,
            });
        }
    }
    // Most urgent first, then oldest due: a capped sweep never starves the red ones.
    due.sort_by(|x, y| {
        y.rung
            .cmp(&x.rung)
            .then(x.target.due_at.cmp(&y.target.due_at))
    });
    let mut report = SweepReport {
        ran: true,
        assignments,
        ..SweepReport::default()
    };
    if !write {
        report.notices = due.len();
        return Ok(report);
    }
    if due.len() > MAX_NOTICES_PER_SWEEP {
        tracing::warn!(
            pending = due.len(),
            cap = MAX_NOTICES_PER_SWEEP,
            "sweep capped; the rest go next time"
        );
    }
    due.truncate(MAX_NOTICES_PER_SWEEP);

    let item_ids: Vec<i64> = {
        let mut ids: Vec<i64> = due.iter().map(|d| d.target.item_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let items: HashMap<i64, item::Model> = in_chunks(&item_ids, |chunk| {
        item::Entity::find()
            .filter(item::Column::Id.is_in(chunk))
            .all(db)
    })
    .await?
    .into_iter()
    .map(|i| (i.id, i))
    .collect();
    let units: HashMap<i64, unit::Model> = unit::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let people = person::Entity::find().all(db).await?;
    for batch in due.chunks(NOTICES_PER_TRANSACTION) {
        let notices: Vec<PreparedNotice> = batch
            .iter()
            .filter_map(|d| {
                let current = items.get(&d.target.item_id)?;
                let target = units.get(&d.target.unit_id)?;
                Some(prepare_notice(
                    state, now, d, &reasons, current, target, &people,
                ))
            })
            .collect();
        match write_notices(db, now, &notices).await {
            Ok((written, emails)) => {
                report.notices += written;
                report.emails += emails;
            }
            Err(error) => {
                // The batch rolled back as a whole; the next sweep decides it again.
                tracing::error!(?error, "could not write a batch of notices; continuing");
            }
        }
    }
    Ok(report)
}

/// Notices written per transaction: few enough that a failure loses little work and holds
/// SQLite's writer briefly, many enough that commits stop dominating (BENCHMARKS.md).
const NOTICES_PER_TRANSACTION: usize = 500;

/// A notice rendered and addressed, ready to be written.
struct PreparedNotice {
    item_id: i64,
    assignment_id: i64,
    unit_id: i64,
    kind: &'static str,
    level: String,
    subject: &'static str,
    recipients: Vec<String>,
    rendered: crate::mail::Rendered,
}

/// Who hears of each rung (design.md §5).
fn recipients(rung: Rung, target: &unit::Model, people: &[person::Model]) -> Vec<String> {
    let contacts: Vec<String> = target
        .contacts
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|c| c.get("email")?.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let of_unit = |role: &str| -> Vec<String> {
        people
            .iter()
            .filter(|p| p.unit_id == Some(target.id) && p.role == role)
            .filter_map(|p| p.email.clone())
            .collect()
    };
    let leader: Vec<String> = people
        .iter()
        .filter(|p| Some(p.id) == target.portfolio_leader_id)
        .filter_map(|p| p.email.clone())
        .collect();
    let office: Vec<String> = people
        .iter()
        .filter(|p| p.role == "SUPERVISOR")
        .filter_map(|p| p.email.clone())
        .collect();
    let mut to: Vec<String> = match rung {
        Rung::Assigned | Rung::NotSigned => contacts,
        // design.md §5: progress report due → the handler; missed → the unit head.
        Rung::Blue | Rung::ProgressDue => [contacts, of_unit("UNIT_STAFF")].concat(),
        Rung::ProgressMissed => [contacts, of_unit("UNIT_HEAD")].concat(),
        Rung::Yellow => [contacts, of_unit("UNIT_STAFF"), of_unit("UNIT_HEAD")].concat(),
        Rung::Red => [of_unit("UNIT_HEAD"), leader, office].concat(),
    };
    to.sort();
    to.dedup();
    to
}

fn prepare_notice(
    state: &AppState,
    now: DateTime<Utc>,
    due: &Due,
    reasons: &[String],
    current: &item::Model,
    target: &unit::Model,
    people: &[person::Model],
) -> PreparedNotice {
    let tz = state.deadline_policy.time_zone;
    let (rung, a) = (due.rung, due.target);
    let due_at = a.extended_due_at.unwrap_or(a.due_at).with_timezone(&tz);
    let subject = format!("【{}】{} {}", rung.subject(), current.serial, current.title);
    let values: HashMap<&str, String> = [
        ("unit", target.name.clone()),
        (
            "greeting",
            format!("现将督办事项{}通知如下。", rung.subject()),
        ),
        ("serial", current.serial.clone()),
        ("title", current.title.clone()),
        ("requirements", current.requirements.clone()),
        (
            "due",
            format!(
                "{}{}",
                due_at.format("%Y年%m月%d日 %H:%M"),
                if a.extended_due_at.is_some() {
                    "（已批准延期）"
                } else {
                    ""
                }
            ),
        ),
        ("status", {
            let reason = due.reason(reasons);
            if reason.is_empty() {
                "已交办".to_string()
            } else {
                reason
            }
        }),
        ("expected", rung.expected().to_string()),
        (
            "link",
            format!(
                "{}/graphql?item={}",
                state.public_url.trim_end_matches('/'),
                current.id
            ),
        ),
        ("office", "区政府办公室督查室".to_string()),
        (
            "sent_at",
            now.with_timezone(&tz).format("%Y年%m月%d日").to_string(),
        ),
        ("colour_css", rung.colour_css().to_string()),
    ]
    .into_iter()
    .collect();
    PreparedNotice {
        item_id: current.id,
        assignment_id: a.assignment_id,
        unit_id: a.unit_id,
        kind: rung.kind(),
        level: due.level(),
        subject: rung.subject(),
        recipients: recipients(rung, target, people),
        rendered: render_notice(&subject, &values),
    }
}

/// Writes a batch of notices, their outbox rows and audit entries in one transaction. A
/// notice another instance (or an interrupted run) already wrote is skipped by the unique
/// key, without its mail: at most once, whoever got there first.
async fn write_notices(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    notices: &[PreparedNotice],
) -> AppResult<(usize, usize)> {
    let txn = db.begin().await?;
    let rows: Vec<notice::ActiveModel> = notices
        .iter()
        .map(|n| notice::ActiveModel {
            item_id: Set(n.item_id),
            assignment_id: Set(n.assignment_id),
            unit_id: Set(n.unit_id),
            kind: Set(n.kind.to_string()),
            level: Set(n.level.clone()),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    // One statement for the batch; RETURNING gives the ids of the rows actually inserted,
    // and a notice already on record (the unique key) is skipped, mail and all.
    let inserted = match notice::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([
            notice::Column::AssignmentId,
            notice::Column::Kind,
            notice::Column::Level,
        ])
        .exec_with_returning_many(&txn)
        .await?
    {
        TryInsertResult::Inserted(rows) => rows,
        TryInsertResult::Empty | TryInsertResult::Conflicted => Vec::new(),
    };
    let ids: HashMap<(i64, &str, &str), i64> = inserted
        .iter()
        .map(|n| ((n.assignment_id, n.kind.as_str(), n.level.as_str()), n.id))
        .collect();
    let mut mails = Vec::new();
    let mut audits = Vec::new();
    let mut written = 0;
    for n in notices {
        let Some(&notice_id) = ids.get(&(n.assignment_id, n.kind, n.level.as_str())) else {
            continue;
        };
        written += 1;
        for to in &n.recipients {
            mails.push(super::outbox::pending(
                Some(notice_id),
                to,
                &n.rendered,
                now,
            ));
        }
        audits.push(
            Audit {
                item_id: Some(n.item_id),
                assignment_id: Some(n.assignment_id),
                actor: None,
                at: now,
                action: "NOTICE",
                from: None,
                to: None,
                reason: Some(n.subject),
                details: json!({ "kind": n.kind, "level": n.level, "recipients": n.recipients }),
            }
            .into_model(),
        );
    }
    let emails = mails.len();
    // Bounded statements: a multi-row insert binds every column of every row.
    for chunk in mails.chunks(200) {
        outbox::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in audits.chunks(200) {
        audit_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok((written, emails))
}
