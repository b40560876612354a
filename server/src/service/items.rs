//! The verbs of the lifecycle (docs/rules.md §1). Each function is one transaction; see the
//! module above for the shape they share.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ducha_calendar::{Calendar, DeadlinePolicy, DeadlineRule};
use ducha_domain::deadlines::{DueInputs, assignment_due};
use ducha_domain::ladder::Rung;
use ducha_domain::similarity::{SIMILAR_TITLE_THRESHOLD, same_source_reference, title_similarity};
use ducha_domain::{Action, Role, SourceKind, Stage, StageChange, Urgency, stage_from_history};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::audit::{Audit, audit};
use super::input::{BODY_MAX, REASON_MAX, TITLE_MAX, Text, reason};
use super::notify::{EventNotice, NoticeContext, Topic, write_event_notices};
use super::scope::{ACTIVE, RETURN_REQUESTED, WITHDRAWN};
use super::verb::{change_stage, claim_item, own_assignment, require, stage_of};
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use entity::{assignment, audit_event, extension_request, item, report, unit};

/// What the verbs need besides the database: the calendar and the office's deadline policy.
#[derive(Clone, Copy)]
pub struct Deps<'a> {
    pub calendar: &'a Calendar,
    pub policy: &'a DeadlinePolicy,
}

/// Everything a verb that computes deadlines runs with: where, on which calendar, for
/// whom, and when.
#[derive(Clone, Copy)]
pub struct Cx<'a> {
    pub db: &'a DatabaseConnection,
    pub deps: Deps<'a>,
    pub actor: &'a Actor,
    pub now: DateTime<Utc>,
}

pub struct RegisterInput {
    pub title: String,
    pub requirements: String,
    pub source_kind: SourceKind,
    pub source_reference: String,
    pub urgency: Urgency,
    pub responsible_leader_id: Option<i64>,
    /// The item's own deadline ("5个工作日", "2026-12-31"); the source kind's default if none.
    pub deadline: Option<String>,
    pub report_cycle_days: Option<i32>,
    /// The cycle counts working days rather than calendar days.
    pub report_cycle_working_days: bool,
    /// Units it will go to, if known, for the duplicate check.
    pub unit_ids: Vec<i64>,
}

/// An open item that looks like the new one ([002 Art.69]: 严禁重复督查、多头督查).
#[derive(Debug, Clone)]
pub struct DuplicateWarning {
    pub item_id: i64,
    pub serial: String,
    pub title: String,
    pub reason: String,
}

/// An item's own deadline: within the calendar's bounds (the same as every computation
/// checks, so a registered item can always be assigned) and running forward.
fn parse_rule(text: &str) -> AppResult<DeadlineRule> {
    let rule = text.parse::<DeadlineRule>()?.check_bounds()?;
    let forward = match rule {
        DeadlineRule::WorkingDays(n)
        | DeadlineRule::CalendarDays(n)
        | DeadlineRule::Months(n)
        | DeadlineRule::Hours(n) => n > 0,
        DeadlineRule::FixedDate(_) => true,
    };
    if !forward {
        return Err(AppError::BadUserInput(format!("事项期限“{text}”应为正数")));
    }
    Ok(rule)
}

pub async fn register(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    policy: &DeadlinePolicy,
    input: RegisterInput,
) -> AppResult<(item::Model, Vec<DuplicateWarning>)> {
    require(actor, Action::Register)?;
    let title = Text::parse("标题", &input.title, TITLE_MAX)?;
    let requirements = Text::parse("办理要求", &input.requirements, BODY_MAX)?;
    let source_reference = Text::optional("来源文号", Some(&input.source_reference), TITLE_MAX)?;
    let (rule, explicit) = match input
        .deadline
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(text) => (parse_rule(text)?, true),
        None => (input.source_kind.default_deadline(), false),
    };
    let cycle = match input.report_cycle_days {
        Some(days) if !(1..=366).contains(&days) => {
            return Err(AppError::BadUserInput("进展报送周期应为1至366天".into()));
        }
        Some(days) => Some(days),
        None => input.source_kind.default_report_cycle_days(),
    };
    let txn = super::sql::begin_write(db).await?;
    if let Some(leader_id) = input.responsible_leader_id {
        let leader = entity::person::Entity::find_by_id(leader_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("人员 {leader_id} 不存在")))?;
        if leader.role != Role::Leader.as_str() {
            return Err(AppError::BadUserInput(format!(
                "{}不是区领导，不能作为责任领导",
                leader.name
            )));
        }
    }
    for unit_id in &input.unit_ids {
        find_unit(&txn, *unit_id).await?;
    }
    let warnings = duplicates(
        &txn,
        title.as_str(),
        source_reference.as_ref().map(Text::as_str),
        &input.unit_ids,
    )
    .await?;
    let year = now.with_timezone(&policy.time_zone).year();
    serialise_numbering(&txn, year).await?;
    let last_seq = item::Entity::find()
        .filter(item::Column::Year.eq(year))
        .select_only()
        .column_as(item::Column::Seq.max(), "max_seq")
        .into_tuple::<Option<i32>>()
        .one(&txn)
        .await?
        .flatten()
        .unwrap_or(0);
    let seq = last_seq + 1;
    let created = item::ActiveModel {
        serial: Set(format!("督〔{year}〕{seq}号")),
        year: Set(year),
        seq: Set(seq),
        title: Set(title.into_inner()),
        requirements: Set(requirements.into_inner()),
        source_kind: Set(input.source_kind.as_str().to_string()),
        source_reference: Set(source_reference.map(Text::into_inner).unwrap_or_default()),
        urgency: Set(input.urgency.as_str().to_string()),
        responsible_leader_id: Set(input.responsible_leader_id),
        deadline_rule: Set(rule.to_string()),
        deadline_explicit: Set(explicit),
        report_cycle_days: Set(cycle),
        report_cycle_working_days: Set(input.report_cycle_working_days && cycle.is_some()),
        stage: Set(Stage::Registered.as_str().to_string()),
        version: Set(1),
        created_by: Set(actor.person_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit(
        &txn,
        Audit {
            item_id: Some(created.id),
            assignment_id: None,
            actor: Some(actor),
            at: now,
            action: Action::Register.name(),
            from: None,
            to: Some(Stage::Registered),
            reason: None,
            details: json!({
                "serial": created.serial,
                "deadlineRule": created.deadline_rule,
                "duplicateWarnings": warnings.iter().map(|w| &w.serial).collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok((created, warnings))
}

/// Serial numbers are allocated as the year's highest plus one, so two registrations must
/// not read the same highest: a new item is not a stale edit and must never fail as one.
/// SQLite's write lock (taken at BEGIN IMMEDIATE) already serialises them; PostgreSQL takes
/// a transaction-scoped advisory lock per year, released at commit or rollback.
async fn serialise_numbering(txn: &DatabaseTransaction, year: i32) -> AppResult<()> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_raw(super::sql::statement(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            vec![(SERIAL_LOCK_KEY + i64::from(year)).into()],
        ))
        .await?;
    }
    Ok(())
}

/// Advisory-lock keys of serial numbering: this base plus the year (the sweep's lock lives
/// far away from it).
const SERIAL_LOCK_KEY: i64 = 0x6475_6368_6100_0000;

async fn duplicates(
    db: &impl ConnectionTrait,
    title: &str,
    source_reference: Option<&str>,
    unit_ids: &[i64],
) -> AppResult<Vec<DuplicateWarning>> {
    let open: Vec<&str> = Stage::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect();
    let mut query = item::Entity::find().filter(item::Column::Stage.is_in(open));
    if !unit_ids.is_empty() {
        let mut any_unit = sea_orm::Condition::any();
        for unit_id in unit_ids {
            any_unit = any_unit.add(super::scope::assigned_to(*unit_id));
        }
        // Items not assigned yet may still collide; check them too.
        any_unit = any_unit.add(item::Column::Stage.eq(Stage::Registered.as_str()));
        query = query.filter(any_unit);
    }
    let candidates = query
        .order_by_desc(item::Column::Id)
        .limit(5_000)
        .all(db)
        .await?;
    let mut warnings = Vec::new();
    for other in candidates {
        let reason = if source_reference
            .is_some_and(|r| same_source_reference(r, &other.source_reference))
        {
            Some(format!("来源文号相同（{}）", other.source_reference))
        } else {
            let similarity = title_similarity(title, &other.title);
            (similarity >= SIMILAR_TITLE_THRESHOLD)
                .then(|| format!("标题相似度{:.0}%", similarity * 100.0))
        };
        if let Some(reason) = reason {
            warnings.push(DuplicateWarning {
                item_id: other.id,
                serial: other.serial,
                title: other.title,
                reason: format!("可能与在办事项重复：{reason}，请核实，避免重复督查、多头督查"),
            });
        }
    }
    Ok(warnings)
}

async fn find_unit(db: &impl ConnectionTrait, unit_id: i64) -> AppResult<unit::Model> {
    unit::Entity::find_by_id(unit_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("单位 {unit_id} 不存在")))
}

pub struct EditInput {
    pub title: Option<String>,
    pub requirements: Option<String>,
    pub deadline: Option<String>,
    pub urgency: Option<Urgency>,
}

/// An item is editable until it is assigned (docs/rules.md §1).
pub async fn edit(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    item_id: i64,
    version: i32,
    input: EditInput,
) -> AppResult<item::Model> {
    require(actor, Action::Edit)?;
    let title = input
        .title
        .as_deref()
        .map(|t| Text::parse("标题", t, TITLE_MAX))
        .transpose()?;
    let requirements = input
        .requirements
        .as_deref()
        .map(|t| Text::parse("办理要求", t, BODY_MAX))
        .transpose()?;
    let rule = input.deadline.as_deref().map(parse_rule).transpose()?;
    let txn = super::sql::begin_write(db).await?;
    let current = claim_item(&txn, actor, item_id, version, now).await?;
    let to = Action::Edit.next_stage(stage_of(&current)?, None)?;
    let mut changed = serde_json::Map::new();
    let mut active: item::ActiveModel = current.clone().into();
    if let Some(title) = title {
        changed.insert(
            "title".into(),
            json!({ "from": current.title, "to": title.as_str() }),
        );
        active.title = Set(title.into_inner());
    }
    if let Some(requirements) = requirements {
        changed.insert(
            "requirements".into(),
            json!({ "from": current.requirements, "to": requirements.as_str() }),
        );
        active.requirements = Set(requirements.into_inner());
    }
    if let Some(rule) = rule {
        changed.insert(
            "deadlineRule".into(),
            json!({ "from": current.deadline_rule, "to": rule.to_string() }),
        );
        active.deadline_rule = Set(rule.to_string());
        active.deadline_explicit = Set(true);
    }
    if let Some(urgency) = input.urgency {
        changed.insert(
            "urgency".into(),
            json!({ "from": current.urgency, "to": urgency.as_str() }),
        );
        active.urgency = Set(urgency.as_str().to_string());
    }
    active.update(&txn).await?;
    change_stage(
        &txn,
        &current,
        actor,
        now,
        Action::Edit,
        to,
        None,
        serde_json::Value::Object(changed),
    )
    .await?;
    let updated = reload(&txn, item_id).await?;
    txn.commit().await?;
    Ok(updated)
}

async fn reload(db: &impl ConnectionTrait, item_id: i64) -> AppResult<item::Model> {
    item::Entity::find_by_id(item_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("事项 {item_id} 不存在")))
}

fn rule_of(item: &item::Model) -> AppResult<DeadlineRule> {
    item.deadline_rule.parse().map_err(|_| {
        AppError::Internal(anyhow::anyhow!(
            "item {} has bad rule {}",
            item.id,
            item.deadline_rule
        ))
    })
}

async fn insert_assignment(
    txn: &DatabaseTransaction,
    deps: Deps<'_>,
    actor: &Actor,
    now: DateTime<Utc>,
    current: &item::Model,
    unit_id: i64,
    lead: bool,
) -> AppResult<assignment::Model> {
    let due = assignment_due(
        deps.calendar,
        deps.policy,
        DueInputs {
            assigned_at: now,
            rule: rule_of(current)?,
            lead,
            paused_working_days: 0,
        },
    )?;
    let created = assignment::ActiveModel {
        item_id: Set(current.id),
        unit_id: Set(unit_id),
        lead: Set(lead),
        status: Set(ACTIVE.to_string()),
        due_at: Set(due.due_at),
        extended_due_at: Set(None),
        calendar_version: Set(due.calendar_version.clone()),
        provisional: Set(due.provisional),
        paused_working_days: Set(0),
        signed_at: Set(None),
        signed_by: Set(None),
        return_reason: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit(
        txn,
        Audit {
            item_id: Some(current.id),
            assignment_id: Some(created.id),
            actor: Some(actor),
            at: now,
            action: if lead {
                "ASSIGN_LEAD"
            } else {
                "ASSIGN_CO_UNIT"
            },
            from: None,
            to: None,
            reason: None,
            details: json!({
                "unitId": unit_id,
                "dueAt": due.due_at,
                "provisional": due.provisional,
                "calendarVersion": due.calendar_version,
                "explanation": due.explanation.summary,
            }),
        },
    )
    .await?;
    Ok(created)
}

/// 交办: the clock starts now; one lead unit and any co-units, each with its own due.
///
/// Each unit's 督查通知 is written in the same transaction (`notices`: `None` only for
/// seeded history, such as the demo's, which was never mailed).
pub async fn assign(
    cx: Cx<'_>,
    notices: Option<&NoticeContext>,
    item_id: i64,
    version: i32,
    lead_unit_id: i64,
    co_unit_ids: Vec<i64>,
) -> AppResult<item::Model> {
    let Cx {
        db,
        deps,
        actor,
        now,
    } = cx;
    require(actor, Action::Assign)?;
    let mut seen = std::collections::HashSet::from([lead_unit_id]);
    if co_unit_ids.iter().any(|u| !seen.insert(*u)) {
        return Err(AppError::BadUserInput(
            "同一单位不能重复交办，主办单位也不能同时为协办单位".into(),
        ));
    }
    let txn = super::sql::begin_write(db).await?;
    let current = claim_item(&txn, actor, item_id, version, now).await?;
    let to = Action::Assign.next_stage(stage_of(&current)?, None)?;
    find_unit(&txn, lead_unit_id).await?;
    for unit_id in &co_unit_ids {
        find_unit(&txn, *unit_id).await?;
    }
    let mut created =
        vec![insert_assignment(&txn, deps, actor, now, &current, lead_unit_id, true).await?];
    for unit_id in &co_unit_ids {
        created.push(insert_assignment(&txn, deps, actor, now, &current, *unit_id, false).await?);
    }
    let mut active: item::ActiveModel = current.clone().into();
    active.assigned_at = Set(Some(now));
    active.update(&txn).await?;
    change_stage(
        &txn,
        &current,
        actor,
        now,
        Action::Assign,
        to,
        None,
        json!({ "leadUnitId": lead_unit_id, "coUnitIds": co_unit_ids }),
    )
    .await?;
    if let Some(cx) = notices {
        let events = created
            .iter()
            .map(|a| assignment_notice(&current, a))
            .collect();
        write_event_notices(&txn, cx, now, events).await?;
    }
    let updated = reload(&txn, item_id).await?;
    txn.commit().await?;
    wake(notices);
    Ok(updated)
}

/// The 督查通知 of a new assignment: the first rung of the ladder, so the sweep never sends
/// it again.
fn assignment_notice<'a>(current: &'a item::Model, a: &'a assignment::Model) -> EventNotice<'a> {
    EventNotice {
        topic: Topic::Rung(Rung::Assigned),
        level: Rung::Assigned.level(None),
        item: current,
        assignment: a,
        situation: "已交办，待签收".into(),
    }
}

fn wake(notices: Option<&NoticeContext>) {
    if let Some(cx) = notices {
        cx.wake.notify_one();
    }
}

/// 签收: the lead unit's signature moves the item to 承办中; a co-unit's is recorded only.
pub async fn sign(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    item_id: i64,
    version: i32,
) -> AppResult<item::Model> {
    require(actor, Action::Sign)?;
    let txn = super::sql::begin_write(db).await?;
    let current = claim_item(&txn, actor, item_id, version, now).await?;
    let mine = own_assignment(&txn, actor, item_id).await?;
    let stage = stage_of(&current)?;
    if mine.signed_at.is_some() {
        return Err(AppError::InvalidTransition("本单位已签收该事项".into()));
    }
    if mine.status == RETURN_REQUESTED {
        return Err(AppError::InvalidTransition(
            "本单位已申请退回，等待督查室处理".into(),
        ));
    }
    let to = Action::Sign.next_stage(stage, None)?;
    let to = if mine.lead { to } else { stage };
    let mut active: assignment::ActiveModel = mine.clone().into();
    active.signed_at = Set(Some(now));
    active.signed_by = Set(Some(actor.person_id));
    active.update(&txn).await?;
    change_stage(
        &txn,
        &current,
        actor,
        now,
        Action::Sign,
        to,
        None,
        json!({ "assignmentId": mine.id, "lead": mine.lead }),
    )
    .await?;
    let updated = reload(&txn, item_id).await?;
    txn.commit().await?;
    Ok(updated)
}

/// 退回: "not ours" — the unit asks the office to take it back, with a reason.
pub async fn request_return(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    item_id: i64,
    version: i32,
    why: &str,
) -> AppResult<item::Model> {
    require(actor, Action::Return)?;
    let why = reason(why)?;
    let txn = super::sql::begin_write(db).await?;
    let current = claim_item(&txn, actor, item_id, version, now).await?;
    let mine = own_assignment(&txn, actor, item_id).await?;
    let to = Action::Return.next_stage(stage_of(&current)?, None)?;
    if mine.status == RETURN_REQUESTED {
        return Err(AppError::InvalidTransition(
            "已申请退回，等待督查室处理".into(),
        ));
    }
    if mine.signed_at.is_some() {
        return Err(AppError::InvalidTransition(
            "已签收的事项不能申请退回".into(),
        ));
    }
    if insisted_on(&txn, item_id, mine.id).await? {
        return Err(AppError::InvalidTransition(
            "督查室已维持交办，本单位不能再次申请退回，请签收办理".into(),
        ));
    }
    let mut active: assignment::ActiveModel = mine.clone().into();
    active.status = Set(RETURN_REQUESTED.to_string());
    active.return_reason = Set(Some(why.as_str().to_string()));
    active.update(&txn).await?;
    change_stage(
        &txn,
        &current,
        actor,
        now,
        Action::Return,
        to,
        Some(why.as_str()),
        json!({ "assignmentId": mine.id }),
    )
    .await?;
    let updated = reload(&txn, item_id).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Whether the office has already insisted (维持) on this assignment: its answer to a return
/// is final for that unit, or a unit could return the item forever.
async fn insisted_on(
    db: &impl ConnectionTrait,
    item_id: i64,
    assignment_id: i64,
) -> AppResult<bool> {
    let insists = audit_event::Entity::find()
        .filter(audit_event::Column::ItemId.eq(item_id))
        .filter(audit_event::Column::Action.eq(Action::Insist.name()))
        .all(db)
        .await?;
    Ok(insists
        .iter()
        .any(|e| e.details["assignmentId"].as_i64() == Some(assignment_id)))
}

/// The office answers a return: reassign to another unit, or insist (the unit keeps it, and
/// may not return it again).
pub async fn resolve_return(
    cx: Cx<'_>,
    notices: Option<&NoticeContext>,
    item_id: i64,
    version: i32,
    assignment_id: i64,
    reassign_to: Option<i64>,
    why: &str,
) -> AppResult<item::Model> {
    let Cx {
        db,
        deps,
        actor,
        now,
    } = cx;
    let action = if reassign_to.is_some() {
        Action::Reassign
    } else {
        Action::Insist
    };
    require(actor, action)?;
    let why = reason(why)?;
    let txn = super::sql::begin_write(db).await?;
    let current = claim_item(&txn, actor, item_id, version, now).await?;
    let to = action.next_stage(stage_of(&current)?, None)?;
    let returned = assignment::Entity::find_by_id(assignment_id)
        .filter(assignment::Column::ItemId.eq(item_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("交办记录 {assignment_id} 不存在")))?;
    if returned.status != RETURN_REQUESTED {
        return Err(AppError::InvalidTransition(
            "该单位没有待处理的退回申请".into(),
        ));
    }
    let mut active: assignment::ActiveModel = returned.clone().into();
    let reassigned = match reassign_to {
        Some(unit_id) => {
            let target = find_unit(&txn, unit_id).await?;
            let already = assignment::Entity::find()
                .filter(assignment::Column::ItemId.eq(item_id))
                .filter(assignment::Column::UnitId.eq(unit_id))
                .one(&txn)
                .await?;
            match already {
                Some(a) if a.status == WITHDRAWN => {
                    return Err(AppError::BadUserInput(format!(
                        "{}已退回过该事项并被改派，不能再改派给该单位",
                        target.name
                    )));
                }
                Some(_) => {
                    return Err(AppError::BadUserInput(format!(
                        "{}已承办该事项，请改派给其他单位",
                        target.name
                    )));
                }
                None => {}
            }
            active.status = Set(WITHDRAWN.to_string());
            active.update(&txn).await?;
            Some(insert_assignment(&txn, deps, actor, now, &current, unit_id, returned.lead).await?)
        }
        None => {
            active.status = Set(ACTIVE.to_string());
            active.update(&txn).await?;
            None
        }
    };
    if let Some(cx) = notices {
        let mut events = vec![EventNotice {
            topic: Topic::ReturnResolved {
                reassigned: reassigned.is_some(),
            },
            // A unit may return an item again after the office insisted: one notice per
            // answer, told apart by its instant.
            level: format!(
                "{} {}",
                if reassigned.is_some() {
                    "REASSIGNED"
                } else {
                    "INSISTED"
                },
                now.timestamp()
            ),
            item: &current,
            assignment: &returned,
            situation: format!("督查室意见：{}", why.as_str()),
        }];
        if let Some(new) = &reassigned {
            events.push(assignment_notice(&current, new));
        }
        write_event_notices(&txn, cx, now, events).await?;
    }
    change_stage(
        &txn,
        &current,
        actor,
        now,
        action,
        to,
        Some(why.as_str()),
        json!({ "assignmentId": assignment_id, "fromUnitId": returned.unit_id, "toUnitId": reassign_to }),
    )
    .await?;
    let updated = reload(&txn, item_id).await?;
    txn.commit().await?;
    wake(notices);
    Ok(updated)
}

/// Beyond this many working days past the original due, only a leader approves an
/// extension (docs/rules.md §1: the office decides, a leader beyond 10 working days).
pub const OFFICE_EXTENSION_LIMIT_WORKING_DAYS: i64 = 10;

/// 延期: asked for before the due instant ([004 Art.71]: 应在规定时限内…说明理由).
pub async fn request_extension(
    cx: Cx<'_>,
    item_id: i64,
    version: i32,
    proposed: NaiveDate,
    why: &str,
) -> AppResult<extension_request::Model> {
    let Cx {
        db,
        deps,
        actor,
        now,
    } = cx;
    require(actor, Action::RequestExtension)?;
    let why = reason(why)?;
    let txn = super::sql::begin_write(db).await?;
    let current = claim_item(&txn, actor, item_id, version, now).await?;
    let mine = own_assignment(&txn, actor, item_id).await?;
    let to = Action::RequestExtension.next_stage(stage_of(&current)?, None)?;
    let due = mine.extended_due_at.unwrap_or(mine.due_at);
    if now >= due {
        return Err(AppError::InvalidTransition(
            "已超过办理期限，不能再申请延期".into(),
        ));
    }
    let proposed_at = deps
        .calendar
        .deadline(deps.policy, now, DeadlineRule::FixedDate(proposed))?
        .due_at;
    if proposed_at <= due {
        return Err(AppError::BadUserInput("申请的新期限应晚于当前期限".into()));
    }
    let pending = extension_request::Entity::find()
        .filter(extension_request::Column::AssignmentId.eq(mine.id))
        .filter(extension_request::Column::Decision.is_null())
        .one(&txn)
        .await?;
    if pending.is_some() {
        return Err(AppError::Conflict("已有待审批的延期申请".into()));
    }
    let created = extension_request::ActiveModel {
        item_id: Set(item_id),
        assignment_id: Set(mine.id),
        requested_by: Set(actor.person_id),
        reason: Set(why.as_str().to_string()),
        proposed_due_at: Set(proposed_at),
        decision: Set(None),
        decided_by: Set(None),
        decided_at: Set(None),
        decision_reason: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    change_stage(
        &txn,
        &current,
        actor,
        now,
        Action::RequestExtension,
        to,
        Some(why.as_str()),
        json!({ "extensionId": created.id, "assignmentId": mine.id, "currentDueAt": due, "proposedDueAt": proposed_at }),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn decide_extension(
    cx: Cx<'_>,
    notices: Option<&NoticeContext>,
    extension_id: i64,
    version: i32,
    approve: bool,
    why: Option<&str>,
    beyond_lead_due: bool,
) -> AppResult<extension_request::Model> {
    let Cx {
        db,
        deps,
        actor,
        now,
    } = cx;
    require(actor, Action::DecideExtension)?;
    let why = match (approve, why) {
        (false, w) => Some(reason(w.unwrap_or_default())?),
        (true, w) => Text::optional("理由", w, REASON_MAX)?,
    };
    let txn = super::sql::begin_write(db).await?;
    let request = extension_request::Entity::find_by_id(extension_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("延期申请 {extension_id} 不存在")))?;
    let current = claim_item(&txn, actor, request.item_id, version, now).await?;
    let to = Action::DecideExtension.next_stage(stage_of(&current)?, None)?;
    if request.decision.is_some() {
        return Err(AppError::InvalidTransition("该延期申请已审批".into()));
    }
    let target = assignment::Entity::find_by_id(request.assignment_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("交办记录不存在".into()))?;
    let tz = deps.policy.time_zone;
    let beyond = deps
        .calendar
        .working_days_between(
            target.due_at.with_timezone(&tz).date_naive(),
            request.proposed_due_at.with_timezone(&tz).date_naive(),
        )
        .value;
    if approve
        && beyond > OFFICE_EXTENSION_LIMIT_WORKING_DAYS
        && !matches!(actor.role, Role::Leader | Role::Admin)
    {
        return Err(AppError::Forbidden(format!(
            "延期超过原期限{OFFICE_EXTENSION_LIMIT_WORKING_DAYS}个工作日（本次{beyond}个），须由区领导审批"
        )));
    }
    // A co-unit supports the lead: it is not due after the lead unless the office says so
    // in so many words ([001 Art.31]: 牵头部门要发挥主导作用，协办部门要积极配合; docs/rules.md §2).
    let mut beyond_lead = None;
    if approve && !target.lead {
        let lead = live_lead(&txn, request.item_id).await?;
        if let Some(lead) = lead {
            let lead_due = lead.extended_due_at.unwrap_or(lead.due_at);
            if request.proposed_due_at > lead_due {
                if !beyond_lead_due {
                    return Err(AppError::BadUserInput(format!(
                        "协办单位的新期限（{}）晚于主办单位的期限（{}）；如确需如此，请明确同意协办期限晚于主办期限",
                        request
                            .proposed_due_at
                            .with_timezone(&tz)
                            .format("%Y-%m-%d %H:%M"),
                        lead_due.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                    )));
                }
                beyond_lead = Some(lead_due);
            }
        }
    }
    let mut decided: extension_request::ActiveModel = request.clone().into();
    decided.decision = Set(Some(
        if approve { "APPROVED" } else { "REJECTED" }.to_string(),
    ));
    decided.decided_by = Set(Some(actor.person_id));
    decided.decided_at = Set(Some(now));
    decided.decision_reason = Set(why.as_ref().map(|w| w.as_str().to_string()));
    let decided = decided.update(&txn).await?;
    let target = if approve {
        let mut extended: assignment::ActiveModel = target.clone().into();
        extended.extended_due_at = Set(Some(request.proposed_due_at));
        extended.update(&txn).await?
    } else {
        target
    };
    if let Some(cx) = notices {
        let due = request
            .proposed_due_at
            .with_timezone(&deps.policy.time_zone)
            .format("%Y年%m月%d日 %H:%M");
        let situation = match (approve, &why) {
            (true, _) => format!("延期申请已批准，新期限为{due}"),
            (false, Some(why)) => format!("延期申请未获批准：{}", why.as_str()),
            (false, None) => "延期申请未获批准".to_string(),
        };
        write_event_notices(
            &txn,
            cx,
            now,
            vec![EventNotice {
                topic: Topic::Extension { approved: approve },
                level: format!("DECIDED {extension_id}"),
                item: &current,
                assignment: &target,
                situation,
            }],
        )
        .await?;
    }
    change_stage(
        &txn,
        &current,
        actor,
        now,
        Action::DecideExtension,
        to,
        why.as_ref().map(Text::as_str),
        json!({
            "extensionId": extension_id,
            "approved": approve,
            "originalDueAt": target.due_at,
            "previousExtendedDueAt": target.extended_due_at,
            "extendedDueAt": approve.then_some(request.proposed_due_at),
            "beyondLeadDueAt": beyond_lead,
        }),
    )
    .await?;
    txn.commit().await?;
    wake(notices);
    Ok(decided)
}

/// 进展反馈: any time, from any person of an assigned unit.
pub async fn report_progress(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    item_id: i64,
    body: &str,
) -> AppResult<report::Model> {
    require(actor, Action::ReportProgress)?;
    let body = Text::parse("进展情况", body, BODY_MAX)?;
    let txn = super::sql::begin_write(db).await?;
    let current = super::scope::visible_item(&txn, actor, item_id).await?;
    let mine = own_assignment(&txn, actor, item_id).await?;
    Action::ReportProgress.next_stage(stage_of(&current)?, None)?;
    let created = insert_report(&txn, actor, now, &mine, "PROGRESS", body.as_str()).await?;
    audit(
        &txn,
        Audit {
            item_id: Some(item_id),
            assignment_id: Some(mine.id),
            actor: Some(actor),
            at: now,
            action: Action::ReportProgress.name(),
            from: None,
            to: None,
            reason: None,
            details: json!({ "reportId": created.id }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

async fn insert_report(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    assignment: &assignment::Model,
    kind: &str,
    body: &str,
) -> AppResult<report::Model> {
    Ok(report::ActiveModel {
        item_id: Set(assignment.item_id),
        assignment_id: Set(assignment.id),
        kind: Set(kind.to_string()),
        body: Set(body.to_string()),
        author_id: Set(actor.person_id),
        verdict: Set(None),
        verdict_reason: Set(None),
        verdict_by: Set(None),
        verdict_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// 办结反馈 by the lead unit.
pub async fn submit_feedback(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    item_id: i64,
    version: i32,
    body: &str,
) -> AppResult<(item::Model, report::Model)> {
    require(actor, Action::SubmitFeedback)?;
    let body = Text::parse("办结情况", body, BODY_MAX)?;
    let txn = super::sql::begin_write(db).await?;
    let current = claim_item(&txn, actor, item_id, version, now).await?;
    let mine = own_assignment(&txn, actor, item_id).await?;
    if !mine.lead {
        return Err(AppError::Forbidden(
            "办结反馈由主办单位报送，协办单位请报送进展".into(),
        ));
    }
    let to = Action::SubmitFeedback.next_stage(stage_of(&current)?, None)?;
    let feedback = insert_report(&txn, actor, now, &mine, "FEEDBACK", body.as_str()).await?;
    change_stage(
        &txn,
        &current,
        actor,
        now,
        Action::SubmitFeedback,
        to,
        None,
        json!({ "reportId": feedback.id }),
    )
    .await?;
    let updated = reload(&txn, item_id).await?;
    txn.commit().await?;
    Ok((updated, feedback))
}

/// The item's lead unit's live assignment (none before assignment).
async fn live_lead(
    db: &impl ConnectionTrait,
    item_id: i64,
) -> AppResult<Option<assignment::Model>> {
    Ok(assignment::Entity::find()
        .filter(assignment::Column::ItemId.eq(item_id))
        .filter(assignment::Column::Lead.eq(true))
        .filter(assignment::Column::Status.ne(WITHDRAWN))
        .one(db)
        .await?)
}

async fn latest_feedback(db: &impl ConnectionTrait, item_id: i64) -> AppResult<report::Model> {
    report::Entity::find()
        .filter(report::Column::ItemId.eq(item_id))
        .filter(report::Column::Kind.eq("FEEDBACK"))
        .order_by_desc(report::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("item {item_id} has no feedback")))
}

/// 核查: accept the completion report, or reject it (退回重办, the clock still running from
/// the original due instant).
pub async fn verify(
    db: &DatabaseConnection,
    notices: Option<&NoticeContext>,
    actor: &Actor,
    now: DateTime<Utc>,
    item_id: i64,
    version: i32,
    (accept, why): (bool, Option<&str>),
) -> AppResult<item::Model> {
    let action = if accept {
        Action::Verify
    } else {
        Action::Reject
    };
    require(actor, action)?;
    let why = if accept {
        Text::optional("理由", why, REASON_MAX)?
    } else {
        Some(reason(why.unwrap_or_default())?)
    };
    let txn = super::sql::begin_write(db).await?;
    let current = claim_item(&txn, actor, item_id, version, now).await?;
    let from = stage_of(&current)?;
    let to = action.next_stage(from, None)?;
    let feedback = latest_feedback(&txn, item_id).await?;
    let mut verdict: report::ActiveModel = feedback.clone().into();
    verdict.verdict = Set(Some(
        if accept { "ACCEPTED" } else { "REJECTED" }.to_string(),
    ));
    verdict.verdict_reason = Set(why.as_ref().map(|w| w.as_str().to_string()));
    verdict.verdict_by = Set(Some(actor.person_id));
    verdict.verdict_at = Set(Some(now));
    verdict.update(&txn).await?;
    change_stage(
        &txn,
        &current,
        actor,
        now,
        action,
        to,
        why.as_ref().map(Text::as_str),
        json!({ "reportId": feedback.id }),
    )
    .await?;
    if let (false, Some(cx)) = (accept, notices) {
        // 退回重办 reaches the lead unit, which filed the feedback, at once.
        let lead = live_lead(&txn, item_id).await?;
        if let Some(lead) = &lead {
            let situation = format!(
                "办结反馈经核查未通过，退回重办：{}",
                why.as_ref().map(Text::as_str).unwrap_or_default()
            );
            write_event_notices(
                &txn,
                cx,
                now,
                vec![EventNotice {
                    topic: Topic::Rework,
                    level: format!("REJECT {}", feedback.id),
                    item: &current,
                    assignment: lead,
                    situation,
                }],
            )
            .await?;
        }
    }
    let updated = reload(&txn, item_id).await?;
    txn.commit().await?;
    wake(notices);
    Ok(updated)
}

/// 销号: on time or late is decided by when the accepted report came in, against the
/// original due instant and against the extended one; both are kept.
pub async fn close(
    cx: Cx<'_>,
    item_id: i64,
    version: i32,
    why: Option<&str>,
) -> AppResult<item::Model> {
    let Cx {
        db,
        deps,
        actor,
        now,
    } = cx;
    require(actor, Action::Close)?;
    let why = Text::optional("理由", why, REASON_MAX)?;
    let txn = super::sql::begin_write(db).await?;
    let current = claim_item(&txn, actor, item_id, version, now).await?;
    let to = Action::Close.next_stage(stage_of(&current)?, None)?;
    let feedback = latest_feedback(&txn, item_id).await?;
    let lead = live_lead(&txn, item_id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("item {item_id} has no lead unit")))?;
    let on_time_original = feedback.created_at <= lead.due_at;
    let on_time_extended = feedback.created_at <= lead.extended_due_at.unwrap_or(lead.due_at);
    let mut active: item::ActiveModel = current.clone().into();
    active.closed_at = Set(Some(now));
    active.closed_on_time_original = Set(Some(on_time_original));
    active.closed_on_time_extended = Set(Some(on_time_extended));
    active.update(&txn).await?;
    change_stage(
        &txn,
        &current,
        actor,
        now,
        Action::Close,
        to,
        why.as_ref().map(Text::as_str),
        json!({
            "feedbackAt": feedback.created_at,
            "dueAt": lead.due_at,
            "extendedDueAt": lead.extended_due_at,
            "onTimeOriginal": on_time_original,
            "onTimeExtended": on_time_extended,
            // The lead's facts: co-units see that the item closed, not the lead's dates.
            "assignmentId": lead.id,
            "deadline": frozen_deadline(deps, &current, &lead)?,
        }),
    )
    .await?;
    let updated = reload(&txn, item_id).await?;
    txn.commit().await?;
    Ok(updated)
}

/// 挂起, 撤销 and 回头看 (reopen) need a reason; 恢复 moves every open due instant later by
/// the working days the item spent suspended.
pub async fn suspend_resume_cancel_reopen(
    cx: Cx<'_>,
    action: Action,
    item_id: i64,
    version: i32,
    why: Option<&str>,
) -> AppResult<item::Model> {
    let Cx {
        db,
        deps,
        actor,
        now,
    } = cx;
    require(actor, action)?;
    let why = match action {
        Action::Resume => Text::optional("理由", why, REASON_MAX)?,
        _ => Some(reason(why.unwrap_or_default())?),
    };
    let txn = super::sql::begin_write(db).await?;
    let current = claim_item(&txn, actor, item_id, version, now).await?;
    let history = stage_history(&txn, item_id).await?;
    let (stage, resume_to) = stage_from_history(&history).unwrap_or((stage_of(&current)?, None));
    let to = action.next_stage(stage, resume_to)?;
    let mut details = json!({});
    if action == Action::Resume {
        let suspended_at = audit_event::Entity::find()
            .filter(audit_event::Column::ItemId.eq(item_id))
            .filter(audit_event::Column::ToStage.eq(Stage::Suspended.as_str()))
            .order_by_desc(audit_event::Column::Id)
            .one(&txn)
            .await?
            .map(|e| e.at)
            .unwrap_or(now);
        let tz = deps.policy.time_zone;
        let paused = deps
            .calendar
            .working_days_between(
                suspended_at.with_timezone(&tz).date_naive(),
                now.with_timezone(&tz).date_naive(),
            )
            .value;
        let paused = i32::try_from(paused.max(0)).unwrap_or(i32::MAX);
        let moved = shift_open_assignments(&txn, deps, &current, paused).await?;
        details =
            json!({ "suspendedAt": suspended_at, "pausedWorkingDays": paused, "moved": moved });
    }
    if action == Action::Reopen {
        details = json!({ "reinspection": "FAILED" });
    }
    if action == Action::Cancel {
        let lead = live_lead(&txn, item_id).await?;
        if let Some(lead) = lead {
            details = json!({
                "deadline": frozen_deadline(deps, &current, &lead)?,
                "assignmentId": lead.id,
            });
        }
    }
    change_stage(
        &txn,
        &current,
        actor,
        now,
        action,
        to,
        why.as_ref().map(Text::as_str),
        details,
    )
    .await?;
    let updated = reload(&txn, item_id).await?;
    txn.commit().await?;
    Ok(updated)
}

/// The lead's deadline as it stands when the item is closed or cancelled, kept in the audit
/// row: a closed item is frozen, so later calendar corrections (which move only open
/// deadlines) must not change what it says about its own due either.
fn frozen_deadline(
    deps: Deps<'_>,
    current: &item::Model,
    lead: &assignment::Model,
) -> AppResult<serde_json::Value> {
    // An item whose rule the calendar can no longer compute still closes; it keeps its due.
    let Ok(deadline) = recompute_due(deps, current, lead, lead.paused_working_days) else {
        return Ok(serde_json::Value::Null);
    };
    serde_json::to_value(&deadline).map_err(|e| AppError::Internal(e.into()))
}

/// A closed or cancelled item's deadline as it was frozen when it ended (kept in its CLOSE
/// or CANCEL audit row); for one that ended before deadlines were frozen, its lead's stored
/// due, as it stood when the item ended. `None` for items still open (their deadline is
/// live) and items cancelled before they were ever assigned.
pub fn frozen_explanation(
    stage: Stage,
    trail: &[audit_event::Model],
    lead: Option<&assignment::Model>,
    rule: DeadlineRule,
    time_zone: chrono_tz::Tz,
) -> Option<ducha_calendar::Deadline> {
    let ended = match stage {
        Stage::Closed => Action::Close.name(),
        Stage::Cancelled => Action::Cancel.name(),
        _ => return None,
    };
    let frozen = trail
        .iter()
        .rev()
        .find(|e| e.action == ended)
        .and_then(|e| serde_json::from_value(e.details["deadline"].clone()).ok());
    if frozen.is_some() {
        return frozen;
    }
    let lead = lead?;
    let due_date = lead.due_at.with_timezone(&time_zone).date_naive();
    let start_date = lead.created_at.with_timezone(&time_zone).date_naive();
    Some(ducha_calendar::Deadline {
        due_at: lead.due_at,
        due_date,
        provisional: lead.provisional,
        calendar_version: lead.calendar_version.clone(),
        explanation: ducha_calendar::Explanation {
            rule,
            start_date,
            rolled_from: None,
            crossed: Vec::new(),
            provisional_years: Vec::new(),
            summary: format!(
                "本事项已{}，期限以交办时按当时日历（版本{}）确定的为准：自{start_date}起算{rule}，截止于{}。",
                if stage == Stage::Closed {
                    "销号"
                } else {
                    "撤销"
                },
                lead.calendar_version,
                lead.due_at
                    .with_timezone(&time_zone)
                    .format("%Y-%m-%d %H:%M"),
            ),
        },
    })
}

async fn stage_history(db: &impl ConnectionTrait, item_id: i64) -> AppResult<Vec<StageChange>> {
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::ItemId.eq(item_id))
        .filter(audit_event::Column::ToStage.is_not_null())
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await?;
    Ok(events
        .iter()
        .filter_map(|e| {
            Some(StageChange {
                from: e.from_stage.as_deref().and_then(Stage::parse),
                to: Stage::parse(e.to_stage.as_deref()?)?,
            })
        })
        .collect())
}

async fn shift_open_assignments(
    txn: &DatabaseTransaction,
    deps: Deps<'_>,
    current: &item::Model,
    paused: i32,
) -> AppResult<Vec<serde_json::Value>> {
    let mut moved = Vec::new();
    if paused == 0 {
        return Ok(moved);
    }
    let live = assignment::Entity::find()
        .filter(assignment::Column::ItemId.eq(current.id))
        .filter(assignment::Column::Status.ne(WITHDRAWN))
        .all(txn)
        .await?;
    for a in live {
        let total = a.paused_working_days + paused;
        let due = recompute_due(deps, current, &a, total)?;
        let extended = match a.extended_due_at {
            Some(at) => {
                let date = deps.calendar.add_working_days(
                    at.with_timezone(&deps.policy.time_zone).date_naive(),
                    paused,
                )?;
                Some(
                    deps.calendar
                        .deadline(deps.policy, at, DeadlineRule::FixedDate(date.value))?
                        .due_at,
                )
            }
            None => None,
        };
        moved.push(json!({ "assignmentId": a.id, "oldDueAt": a.due_at, "newDueAt": due.due_at, "newExtendedDueAt": extended }));
        let mut active: assignment::ActiveModel = a.into();
        active.paused_working_days = Set(total);
        active.due_at = Set(due.due_at);
        active.extended_due_at = Set(extended);
        active.calendar_version = Set(due.calendar_version);
        active.provisional = Set(due.provisional);
        active.update(txn).await?;
    }
    Ok(moved)
}

fn recompute_due(
    deps: Deps<'_>,
    current: &item::Model,
    a: &assignment::Model,
    paused_working_days: i32,
) -> AppResult<ducha_calendar::Deadline> {
    Ok(assignment_due(
        deps.calendar,
        deps.policy,
        DueInputs {
            assigned_at: a.created_at,
            rule: rule_of(current)?,
            lead: a.lead,
            paused_working_days,
        },
    )?)
}

/// An open deadline a calendar change moved, or made firm (a provisional year published).
#[derive(Debug, Clone)]
pub struct MovedDeadline {
    pub item_id: i64,
    pub serial: String,
    pub assignment_id: i64,
    pub unit_id: i64,
    pub old_due_at: DateTime<Utc>,
    pub new_due_at: DateTime<Utc>,
}

/// After a calendar year is imported or corrected, inside the transaction that changed it:
/// recomputes every open assignment's due instant on the new calendar, audits each one that
/// moved (old due, new due, calendar version), and never touches closed or cancelled items.
/// Returns the moves.
pub async fn recalculate_open_deadlines(
    txn: &DatabaseTransaction,
    deps: Deps<'_>,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
) -> AppResult<Vec<MovedDeadline>> {
    let open: Vec<&str> = Stage::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect();
    let items = item::Entity::find()
        .filter(item::Column::Stage.is_in(open))
        .filter(item::Column::AssignedAt.is_not_null())
        .all(txn)
        .await?;
    // All live assignments of the open items in a few chunked queries, not one per item.
    let item_ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let mut by_item: std::collections::HashMap<i64, Vec<assignment::Model>> =
        std::collections::HashMap::new();
    let all = super::sql::in_chunks(&item_ids, |chunk| {
        assignment::Entity::find()
            .filter(assignment::Column::ItemId.is_in(chunk))
            .filter(assignment::Column::Status.ne(WITHDRAWN))
            .all(txn)
    })
    .await?;
    for a in all {
        by_item.entry(a.item_id).or_default().push(a);
    }
    let mut moved = Vec::new();
    for current in items {
        for a in by_item.remove(&current.id).unwrap_or_default() {
            // A rule the calendar cannot compute (stored before rules were bounded) keeps
            // its due; one such item must not block every calendar change.
            let due = match recompute_due(deps, &current, &a, a.paused_working_days) {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(item = current.id, assignment = a.id, %error, "deadline not recalculated");
                    continue;
                }
            };
            if due.calendar_version == a.calendar_version {
                continue;
            }
            let changed = due.due_at != a.due_at || due.provisional != a.provisional;
            let (old_due, old_version) = (a.due_at, a.calendar_version.clone());
            let mut active: assignment::ActiveModel = a.clone().into();
            active.due_at = Set(due.due_at);
            active.provisional = Set(due.provisional);
            active.calendar_version = Set(due.calendar_version.clone());
            active.update(txn).await?;
            if changed {
                moved.push(MovedDeadline {
                    item_id: current.id,
                    serial: current.serial.clone(),
                    assignment_id: a.id,
                    unit_id: a.unit_id,
                    old_due_at: old_due,
                    new_due_at: due.due_at,
                });
                audit(
                    txn,
                    Audit {
                        item_id: Some(current.id),
                        assignment_id: Some(a.id),
                        actor,
                        at: now,
                        action: "RECALCULATE_DUE",
                        from: None,
                        to: None,
                        reason: Some("工作日日历更新，重新计算期限"),
                        details: json!({
                            "oldDueAt": old_due,
                            "newDueAt": due.due_at,
                            "oldCalendarVersion": old_version,
                            "calendarVersion": due.calendar_version,
                            "provisional": due.provisional,
                        }),
                    },
                )
                .await?;
            }
        }
    }
    Ok(moved)
}
