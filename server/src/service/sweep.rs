//! The reminder sweep (design.md §5): for every open assignment, decide which notices of the
//! ladder are due — 督查通知 on assignment, a reminder when not signed a working day later,
//! 临期提醒 (BLUE), 催办 (YELLOW), 红色督办 (RED) — and write each, at most once per
//! (assignment, kind, level), into the outbox in the same transaction as the decision.
//!
//! Only one instance sweeps at a time: a lease row in the database, taken with a conditional
//! update, so two servers on one PostgreSQL never sweep together; the unique key on
//! `notice` makes a re-run, a restart or a race harmless anyway.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use ducha_domain::Stage;
use ducha_domain::colour::Colour;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use serde_json::json;

use super::colours::{RuleSet, colours_for_items};
use super::{Audit, WITHDRAWN, audit, in_chunks};
use crate::error::{AppError, AppResult};
use crate::mail::render_notice;
use crate::startup::AppState;
use entity::{assignment, item, lease, notice, outbox, person, unit};

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

/// One rung of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Rung {
    Assigned,
    NotSigned,
    Blue,
    Yellow,
    Red,
}

impl Rung {
    fn key(self) -> (&'static str, &'static str) {
        match self {
            Rung::Assigned => ("ASSIGNMENT", "NOTICE"),
            Rung::NotSigned => ("NOT_SIGNED", "REMINDER"),
            Rung::Blue => ("COLOUR", "BLUE"),
            Rung::Yellow => ("COLOUR", "YELLOW"),
            Rung::Red => ("COLOUR", "RED"),
        }
    }

    fn subject(self) -> &'static str {
        match self {
            Rung::Assigned => "督查通知",
            Rung::NotSigned => "签收提醒",
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
            Rung::Blue => "#1f6feb",
            Rung::Yellow => "#b08800",
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

async fn sweep_with_lease(
    state: &AppState,
    now: DateTime<Utc>,
    write: bool,
) -> AppResult<SweepReport> {
    let db = &state.db;
    let rule_set = RuleSet::load(state).await?;
    let rules = rule_set.rules();
    let calendar = &rule_set.calendar;
    let tz = rule_set.time_zone;
    let open = [
        Stage::Assigned,
        Stage::InProgress,
        Stage::FeedbackSubmitted,
        Stage::Verified,
    ]
    .map(|s| s.as_str());
    let items = item::Entity::find()
        .filter(item::Column::Stage.is_in(open))
        .all(db)
        .await?;
    let colours = colours_for_items(db, &rules, &items, now).await?;
    let item_ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let assignments = in_chunks(&item_ids, |chunk| {
        assignment::Entity::find()
            .filter(assignment::Column::ItemId.is_in(chunk))
            .filter(assignment::Column::Status.ne(WITHDRAWN))
            .all(db)
    })
    .await?;
    let assignment_ids: Vec<i64> = assignments.iter().map(|a| a.id).collect();
    let sent: HashSet<(i64, String, String)> = in_chunks(&assignment_ids, |chunk| {
        notice::Entity::find()
            .filter(notice::Column::AssignmentId.is_in(chunk))
            .all(db)
    })
    .await?
    .into_iter()
    .map(|n| (n.assignment_id, n.kind, n.level))
    .collect();
    let items_by_id: HashMap<i64, &item::Model> = items.iter().map(|i| (i.id, i)).collect();
    let today = now.with_timezone(&tz).date_naive();

    let mut due: Vec<(Rung, &assignment::Model)> = Vec::new();
    for a in &assignments {
        let Some(current) = items_by_id.get(&a.item_id) else {
            continue;
        };
        let mut rungs = vec![Rung::Assigned];
        let stage = Stage::parse(&current.stage).unwrap_or(Stage::Assigned);
        let assigned_date = a.created_at.with_timezone(&tz).date_naive();
        let awaiting_signature = a.signed_at.is_none()
            && a.status == super::ACTIVE
            && matches!(stage, Stage::Assigned | Stage::InProgress);
        if awaiting_signature && calendar.working_days_between(assigned_date, today).value >= 1 {
            rungs.push(Rung::NotSigned);
        }
        let colour = colours
            .get(&a.item_id)
            .and_then(|c| c.by_assignment.get(&a.id))
            .map(|v| v.colour)
            .unwrap_or(Colour::None);
        // Every level up to the current one: a unit that jumps to RED still hears of each.
        if colour >= Colour::Blue {
            rungs.push(Rung::Blue);
        }
        if colour >= Colour::Yellow {
            rungs.push(Rung::Yellow);
        }
        if colour >= Colour::Red {
            rungs.push(Rung::Red);
        }
        for rung in rungs {
            let (kind, level) = rung.key();
            if !sent.contains(&(a.id, kind.to_string(), level.to_string())) {
                due.push((rung, a));
            }
        }
    }
    // Most urgent first, then oldest due: a capped sweep never starves the red ones.
    due.sort_by(|(ra, aa), (rb, ab)| rb.cmp(ra).then(aa.due_at.cmp(&ab.due_at)));
    if !write {
        return Ok(SweepReport {
            ran: true,
            assignments: assignments.len(),
            notices: due.len(),
            emails: 0,
        });
    }
    let capped = due.len() > MAX_NOTICES_PER_SWEEP;
    if capped {
        tracing::warn!(
            pending = due.len(),
            cap = MAX_NOTICES_PER_SWEEP,
            "sweep capped; the rest go next time"
        );
    }

    let units: HashMap<i64, unit::Model> = unit::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let people = person::Entity::find().all(db).await?;
    let mut report = SweepReport {
        ran: true,
        assignments: assignments.len(),
        ..SweepReport::default()
    };
    for (rung, a) in due.into_iter().take(MAX_NOTICES_PER_SWEEP) {
        let Some(current) = items_by_id.get(&a.item_id) else {
            continue;
        };
        let Some(target) = units.get(&a.unit_id) else {
            continue;
        };
        let recipients = recipients(rung, target, &people);
        let reason = colours
            .get(&a.item_id)
            .and_then(|c| c.by_assignment.get(&a.id))
            .map(|v| v.reason.clone())
            .unwrap_or_default();
        match write_notice(state, now, rung, current, a, target, &recipients, &reason).await {
            Ok(emails) => {
                report.notices += 1;
                report.emails += emails;
            }
            // Another instance (or an earlier, interrupted run) wrote it first: fine.
            Err(AppError::Conflict(_)) => {}
            Err(error) => {
                tracing::error!(
                    assignment = a.id,
                    ?error,
                    "could not write a notice; continuing"
                );
            }
        }
    }
    Ok(report)
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
        Rung::Blue => [contacts, of_unit("UNIT_STAFF")].concat(),
        Rung::Yellow => [contacts, of_unit("UNIT_STAFF"), of_unit("UNIT_HEAD")].concat(),
        Rung::Red => [of_unit("UNIT_HEAD"), leader, office].concat(),
    };
    to.sort();
    to.dedup();
    to
}

#[allow(clippy::too_many_arguments)]
async fn write_notice(
    state: &AppState,
    now: DateTime<Utc>,
    rung: Rung,
    current: &item::Model,
    a: &assignment::Model,
    target: &unit::Model,
    recipients: &[String],
    reason: &str,
) -> AppResult<usize> {
    let tz = state.deadline_policy.time_zone;
    let (kind, level) = rung.key();
    let txn = state.db.begin().await?;
    let created = notice::ActiveModel {
        item_id: Set(current.id),
        assignment_id: Set(a.id),
        unit_id: Set(a.unit_id),
        kind: Set(kind.to_string()),
        level: Set(level.to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let due = a.extended_due_at.unwrap_or(a.due_at).with_timezone(&tz);
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
                due.format("%Y年%m月%d日 %H:%M"),
                if a.extended_due_at.is_some() {
                    "（已批准延期）"
                } else {
                    ""
                }
            ),
        ),
        (
            "status",
            if reason.is_empty() {
                "已交办".to_string()
            } else {
                reason.to_string()
            },
        ),
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
    let rendered = render_notice(&subject, &values);
    for to in recipients {
        outbox::ActiveModel {
            notice_id: Set(Some(created.id)),
            recipient: Set(to.clone()),
            subject: Set(rendered.subject.clone()),
            body_text: Set(rendered.text.clone()),
            body_html: Set(rendered.html.clone()),
            status: Set(super::outbox::PENDING.to_string()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            last_error: Set(None),
            sent_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    audit(
        &txn,
        Audit {
            item_id: Some(current.id),
            assignment_id: Some(a.id),
            actor: None,
            at: now,
            action: "NOTICE",
            from: None,
            to: None,
            reason: Some(rung.subject()),
            details: json!({ "kind": kind, "level": level, "recipients": recipients }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(recipients.len())
}
