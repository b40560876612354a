//! 立项 and 修改: registering an item (with the duplicate check against 重复督查、多头督查
//! [002 Art.69]) and editing it until it is assigned.

use chrono::Datelike;
use ducha_calendar::DeadlineRule;
use ducha_domain::similarity::{SIMILAR_TITLE_THRESHOLD, same_source_reference, title_similarity};
use ducha_domain::{Action, SourceKind, Stage, Urgency};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::service::items::attachments::{MAX_FILES_PER_REPORT, StoredFile, record_item_file};
use crate::service::items::shared::find_unit;
use crate::service::items::upstream::{FromAbove, Upstream, from_above};
use crate::service::items::verb::Committed;
use crate::service::items::verb::Cx;
use crate::service::store::audit::{Audit, audit};
use crate::service::store::input::{BODY_MAX, TITLE_MAX, Text};
use crate::service::store::scope;
use crate::service::store::sql::statement;
use crate::service::store::write::begin_write;
use entity::item;
use entity::{ItemStage, PersonRole};

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
    /// Files received with it (the instruction, the minutes…), stored; their rows come with
    /// the item, in its transaction.
    pub files: Vec<StoredFile>,
    /// Received from above (市、省交办): the upstream document and due (docs/rules.md §8).
    pub upstream: Option<Upstream>,
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
pub(crate) fn parse_rule(text: &str) -> AppResult<DeadlineRule> {
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

/// A fixed date already past would make the item overdue the moment it is assigned: refused,
/// so that a typo (2025 for 2026) is caught at 立项 rather than on the board.
pub(crate) fn not_past(rule: DeadlineRule, today: chrono::NaiveDate) -> AppResult<()> {
    match rule {
        DeadlineRule::FixedDate(date) if date < today => Err(AppError::BadUserInput(format!(
            "期限日期{date}早于今天（{today}），请核对"
        ))),
        _ => Ok(()),
    }
}

/// Serial numbers are allocated as the year's highest plus one, so two registrations must
/// not read the same highest: a new item is not a stale edit and must never fail as one.
/// SQLite's write lock (taken at BEGIN IMMEDIATE) already serialises them; PostgreSQL takes
/// a transaction-scoped advisory lock per year, released at commit or rollback.
async fn serialise_numbering(txn: &DatabaseTransaction, year: i32) -> AppResult<()> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_raw(statement(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            vec![(SERIAL_LOCK_KEY + i64::from(year)).into()],
        ))
        .await?;
    }
    Ok(())
}

/// The year's highest serial number so far (0 for none), read under the numbering lock: the
/// next item is this plus one, and no other registration can read the same until commit.
pub(crate) async fn last_seq(txn: &DatabaseTransaction, year: i32) -> AppResult<i32> {
    serialise_numbering(txn, year).await?;
    Ok(item::Entity::find()
        .filter(item::Column::Year.eq(year))
        .select_only()
        .column_as(item::Column::Seq.max(), "max_seq")
        .into_tuple::<Option<i32>>()
        .one(txn)
        .await?
        .flatten()
        .unwrap_or(0))
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
    let mut query = item::Entity::find().filter(item::Column::Stage.is_in(ItemStage::open()));
    if !unit_ids.is_empty() {
        let mut any_unit = sea_orm::Condition::any();
        for unit_id in unit_ids {
            any_unit = any_unit.add(scope::assigned_to(*unit_id));
        }
        // Items not assigned yet may still collide; check them too.
        any_unit = any_unit.add(item::Column::Stage.eq(ItemStage::Registered));
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

/// A registration's fields as checked: the same for 立项 and for its preview.
struct Checked {
    title: Text,
    requirements: Text,
    source_reference: Option<Text>,
    rule: DeadlineRule,
    /// The item's own rule, not its source kind's default.
    explicit: bool,
    cycle: Option<i32>,
}

impl Checked {
    fn of(input: &RegisterInput) -> AppResult<Checked> {
        let title = Text::parse("标题", &input.title, TITLE_MAX)?;
        let requirements = Text::parse("办理要求", &input.requirements, BODY_MAX)?;
        let source_reference =
            Text::optional("来源文号", Some(&input.source_reference), TITLE_MAX)?;
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
        Ok(Checked {
            title,
            requirements,
            source_reference,
            rule,
            explicit,
            cycle,
        })
    }
}

/// What 立项 would give, shown before saving: the rule in force, the due it gives if the
/// item were assigned now (交办 starts the clock), and the open items it may duplicate.
pub struct RegistrationPreview {
    pub rule: DeadlineRule,
    pub explicit: bool,
    pub report_cycle_days: Option<i32>,
    pub deadline: ducha_calendar::Deadline,
    pub warnings: Vec<DuplicateWarning>,
}

/// 立项's preview: the same checks as [`register`], nothing written.
pub async fn preview(cx: Cx<'_>, input: RegisterInput) -> AppResult<RegistrationPreview> {
    let cx = cx.verb(Action::Register)?.cx;
    let mut checked = Checked::of(&input)?;
    if let Some(upstream) = &input.upstream {
        let mut rule = (checked.rule, checked.explicit);
        from_above(cx.db, &cx.calendar, cx.policy, cx.now, upstream, &mut rule).await?;
        (checked.rule, checked.explicit) = rule;
    }
    not_past(
        checked.rule,
        cx.now.with_timezone(&cx.policy.time_zone).date_naive(),
    )?;
    for unit_id in &input.unit_ids {
        find_unit(cx.db, *unit_id).await?;
    }
    let deadline = cx.calendar.deadline(cx.policy, cx.now, checked.rule)?;
    let warnings = duplicates(
        cx.db,
        checked.title.as_str(),
        checked.source_reference.as_ref().map(Text::as_str),
        &input.unit_ids,
    )
    .await?;
    Ok(RegistrationPreview {
        rule: checked.rule,
        explicit: checked.explicit,
        report_cycle_days: checked.cycle,
        deadline,
        warnings,
    })
}

pub struct EditInput {
    pub title: Option<String>,
    pub requirements: Option<String>,
    pub deadline: Option<String>,
    pub urgency: Option<Urgency>,
}

/// 立项: a new item with its serial number (督〔年〕N号) and its own deadline rule. It has
/// no item to claim, so it begins the write itself; the rest of its path is every verb's.
#[tracing::instrument(skip_all, fields(actor = cx.actor.person_id))]
pub async fn register(
    cx: Cx<'_>,
    input: RegisterInput,
) -> AppResult<(item::Model, Vec<DuplicateWarning>)> {
    let Cx {
        db,
        policy,
        actor,
        now,
        calendar,
        ..
    } = cx.verb(Action::Register)?.cx;
    let Checked {
        title,
        requirements,
        source_reference,
        mut rule,
        mut explicit,
        cycle,
    } = Checked::of(&input)?;
    let above: Option<FromAbove> = match &input.upstream {
        Some(upstream) => {
            let mut own = (rule, explicit);
            let above = from_above(db, &calendar, policy, now, upstream, &mut own).await?;
            (rule, explicit) = own;
            Some(above)
        }
        None => None,
    };
    not_past(rule, now.with_timezone(&policy.time_zone).date_naive())?;
    if input.files.len() > MAX_FILES_PER_REPORT {
        return Err(AppError::BadUserInput(format!(
            "立项最多附{MAX_FILES_PER_REPORT}个文件"
        )));
    }
    let txn = begin_write(db).await?;
    if let Some(leader_id) = input.responsible_leader_id {
        let leader = entity::person::Entity::find_by_id(leader_id)
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("人员 {leader_id} 不存在")))?;
        if leader.role != PersonRole::Leader {
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
    let seq = last_seq(&txn, year).await? + 1;
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
        stage: Set(ItemStage::Registered),
        version: Set(1),
        created_by: Set(actor.person_id),
        created_at: Set(now),
        updated_at: Set(now),
        upstream_document: Set(above.as_ref().map(|a| a.document.clone())),
        upstream_due_at: Set(above.as_ref().map(|a| a.due_at)),
        upstream_buffer_working_days: Set(above.as_ref().map(|a| a.buffer_working_days)),
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
                "upstream": above.as_ref().map(|a| json!({
                    "document": a.document, "dueAt": a.due_at,
                    "bufferWorkingDays": a.buffer_working_days, "internalDue": a.internal_due,
                })),
            }),
        },
    )
    .await?;
    for file in input.files {
        record_item_file(&txn, actor, now, created.id, file).await?;
    }
    txn.commit().await?;
    Ok((created, warnings))
}

/// 修改: an item is editable until it is assigned (docs/rules.md §1).
#[tracing::instrument(skip_all, fields(item_id, version, actor = cx.actor.person_id))]
pub async fn edit(
    cx: Cx<'_>,
    item_id: i64,
    version: i32,
    input: EditInput,
) -> AppResult<Committed> {
    let verb = cx.verb(Action::Edit)?;
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
    if let Some(rule) = rule {
        not_past(
            rule,
            verb.cx
                .now
                .with_timezone(&verb.cx.policy.time_zone)
                .date_naive(),
        )?;
    }
    let write = verb.claim(item_id, version).await?;
    let current = &write.item;
    // An item from above keeps within its upstream due (docs/rules.md §8).
    if let (Some(rule), Some(upstream_due)) = (rule, current.upstream_due_at) {
        let upstream_date = upstream_due
            .with_timezone(&write.cx.policy.time_zone)
            .date_naive();
        crate::service::items::upstream::within_upstream(
            &write.cx.calendar,
            write.cx.policy,
            write.cx.now,
            rule,
            upstream_date,
        )?;
    }
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
    active.update(&write.txn).await?;
    write
        .commit(None, serde_json::Value::Object(changed), Vec::new())
        .await
}
