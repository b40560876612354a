//! The import's commit: every chosen row registered (and assigned where it names units) in
//! one transaction, or none — the rows are evaluated again inside it, so what is committed
//! is what the district holds at that moment, not what the preview saw.

use std::collections::HashMap;

use chrono::Datelike;
use ducha_calendar::Deadline;
use ducha_domain::{Action, Stage};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use super::plan::{Duplicate, Known, RowPlan, plan_rows_apart};
use super::stored::{CreatedRow, committed_message, default_source, find, lines_of};
use crate::error::{AppError, AppResult};
use crate::service::items::register::last_seq;
use crate::service::items::shared::{NewPart, assignment_audit, assignment_notice, new_assignment};
use crate::service::items::verb::{Cx, Deps, require};
use crate::service::notices::notify::write_event_notices;
use crate::service::store::audit::{Audit, audit};
use crate::service::store::write::begin_long_write;
use entity::{ItemStage, assignment, audit_event, item, ledger_import};

/// Registers the chosen rows (by their line in the file) of the upload, assigning those that
/// name a lead unit, and answers with what each became. Refused, with nothing written: a
/// second commit of the same upload, no row chosen, a chosen row that is not in the file or
/// cannot be imported as the district now stands, or that may duplicate an item and was not
/// acknowledged as such (`acknowledged`: the rows whose warning the office saw and ticked
/// anyway) — the same file committed twice, from two previews, is caught here.
pub async fn commit(
    cx: Cx<'_>,
    import_id: i64,
    chosen: &[usize],
    acknowledged: &[usize],
) -> AppResult<Vec<CreatedRow>> {
    require(cx.actor, Action::Register)?;
    if chosen.is_empty() {
        return Err(AppError::BadUserInput(
            "没有勾选任何行，请勾选要导入的行".into(),
        ));
    }
    let txn = begin_long_write(cx.db).await?;
    // Claimed first: a second commit (another tab, another instance) waits here and finds
    // it taken.
    let claimed = ledger_import::Entity::update_many()
        .col_expr(ledger_import::Column::CommittedAt, Expr::value(cx.now))
        .col_expr(
            ledger_import::Column::CommittedBy,
            Expr::value(cx.actor.person_id),
        )
        .filter(ledger_import::Column::Id.eq(import_id))
        .filter(ledger_import::Column::CommittedAt.is_null())
        .exec(&*txn)
        .await?;
    let import = find(&*txn, import_id).await?;
    if claimed.rows_affected != 1 {
        let at = import.committed_at.unwrap_or(cx.now);
        return Err(AppError::Conflict(committed_message(
            at,
            cx.policy.time_zone,
        )));
    }
    let calendar =
        match crate::service::store::calendar_state::calendar_for_verb(&txn, &cx.calendar).await? {
            Some(fresh) => std::sync::Arc::new(fresh),
            None => cx.calendar.clone(),
        };
    let known = Known::load(&*txn).await?;
    let plans = plan_rows_apart(
        known,
        calendar.clone(),
        *cx.policy,
        cx.now,
        default_source(&import),
        lines_of(&import)?,
    )
    .await?;
    let rows = chosen_rows(&plans, chosen, acknowledged)?;
    if rows.iter().any(|r| r.lead_unit.is_some()) {
        require(cx.actor, Action::Assign)?;
    }
    let deps = Deps {
        calendar: &calendar,
        policy: cx.policy,
    };
    let year = cx.now.with_timezone(&cx.policy.time_zone).year();
    let first = last_seq(&txn, year).await? + 1;
    let items = insert_items(&cx, &txn, year, first, &rows).await?;
    let parts = insert_parts(&cx, &txn, deps, &rows, &items).await?;
    let mut trail = Vec::with_capacity(items.len() * 2);
    for (row, item) in rows.iter().zip(&items) {
        trail.push(register_audit(&cx, import_id, row, item));
    }
    for (due, part) in &parts {
        trail.push(assignment_audit(cx.actor, cx.now, part, due).into_model());
    }
    for (row, item) in rows.iter().zip(&items) {
        if let Some((lead_id, _)) = &row.lead_unit {
            trail.push(
                Audit {
                    item_id: Some(item.id),
                    assignment_id: None,
                    actor: Some(cx.actor),
                    at: cx.now,
                    action: Action::Assign.name(),
                    from: Some(Stage::Registered),
                    to: Some(Stage::Assigned),
                    reason: None,
                    details: json!({
                        "leadUnitId": lead_id,
                        "coUnitIds": row.co_units.iter().map(|(id, _)| id).collect::<Vec<_>>(),
                        "ledgerImport": import_id,
                    }),
                }
                .into_model(),
            );
        }
    }
    // In this order, each item's trail reads as 立项 then 交办 did: REGISTER, its parts,
    // ASSIGN.
    for chunk in trail.chunks(AUDIT_CHUNK) {
        audit_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&*txn)
            .await?;
    }
    let parts: Vec<assignment::Model> = parts.into_iter().map(|(_, part)| part).collect();
    let created: Vec<CreatedRow> = rows
        .iter()
        .zip(&items)
        .map(|(row, item)| CreatedRow {
            line: row.line,
            item_id: item.id,
            serial: item.serial.clone(),
            title: item.title.clone(),
            assigned: row.lead_unit.is_some(),
        })
        .collect();
    let by_id: std::collections::HashMap<i64, &item::Model> =
        items.iter().map(|i| (i.id, i)).collect();
    let notices: Vec<_> = parts
        .iter()
        .filter_map(|a| Some(assignment_notice(by_id.get(&a.item_id)?, a)))
        .collect();
    let wake = match cx.notices {
        Some(context) if !notices.is_empty() => {
            write_event_notices(&txn, context, cx.now, notices).await?;
            Some(&context.wake)
        }
        _ => None,
    };
    let mut report: ledger_import::ActiveModel = import.into();
    report.created = Set(Some(
        serde_json::to_string(&created).map_err(|e| AppError::Internal(e.into()))?,
    ));
    report.update(&*txn).await?;
    audit(
        &*txn,
        Audit::admin(
            Some(cx.actor),
            cx.now,
            "IMPORT_LEDGER",
            json!({
                "ledgerImport": import_id,
                "items": created.len(),
                "assigned": created.iter().filter(|c| c.assigned).count(),
                "serials": [created.first().map(|c| &c.serial), created.last().map(|c| &c.serial)],
            }),
        ),
    )
    .await?;
    cx.changes
        .commit(
            txn.commit(),
            crate::changes::Change::Items(created.iter().map(|c| c.item_id).collect()),
        )
        .await?;
    if let Some(wake) = wake {
        wake.notify_one();
    }
    Ok(created)
}

/// The chosen rows' plans, in the file's order; refused when one is not in the file or
/// cannot be imported.
fn chosen_rows<'a>(
    plans: &'a [RowPlan],
    chosen: &[usize],
    acknowledged: &[usize],
) -> AppResult<Vec<&'a RowPlan>> {
    let lines: std::collections::HashSet<usize> = plans.iter().map(|p| p.line).collect();
    if let Some(missing) = chosen.iter().find(|l| !lines.contains(l)) {
        return Err(AppError::BadUserInput(format!(
            "第{missing}行不在这个文件中"
        )));
    }
    let chosen: std::collections::HashSet<usize> = chosen.iter().copied().collect();
    let rows: Vec<&RowPlan> = plans.iter().filter(|p| chosen.contains(&p.line)).collect();
    let blocked: Vec<String> = rows
        .iter()
        .filter(|r| !r.importable())
        .take(5)
        .map(|r| {
            let why = r
                .problems
                .iter()
                .find(|p| p.blocking)
                .map_or("", |p| p.message.as_str());
            format!("第{}行：{why}", r.line)
        })
        .collect();
    if !blocked.is_empty() {
        return Err(AppError::BadUserInput(format!(
            "以下行不能导入，请修改文件或取消勾选后再导入（未导入任何事项）：{}",
            blocked.join("；")
        )));
    }
    let unseen: Vec<String> = rows
        .iter()
        .filter(|r| !r.duplicates.is_empty() && !acknowledged.contains(&r.line))
        .take(5)
        .map(|r| {
            let said = r
                .problems
                .iter()
                .find(|p| !p.blocking)
                .map_or("", |p| p.message.as_str());
            format!("第{}行：{said}", r.line)
        })
        .collect();
    if !unseen.is_empty() {
        return Err(AppError::BadUserInput(format!(
            "以下行可能与在办事项重复，预览时未提示（可能刚刚导入或立项过），请刷新预览核实后再导入（未导入任何事项）：{}",
            unseen.join("；")
        )));
    }
    Ok(rows)
}

/// Rows in one statement at most: within SQLite's and PostgreSQL's limits on bound values.
const ITEM_CHUNK: usize = 400;
const PART_CHUNK: usize = 1_000;
const AUDIT_CHUNK: usize = 1_000;

/// The rows' items, numbered from `first` in the file's order, in a few statements; read
/// back by their numbers. An item given a lead unit is written 已交办 (its trail says how).
async fn insert_items(
    cx: &Cx<'_>,
    txn: &sea_orm::DatabaseTransaction,
    year: i32,
    first: i32,
    rows: &[&RowPlan],
) -> AppResult<Vec<item::Model>> {
    let mut models = Vec::with_capacity(rows.len());
    for (seq, row) in (first..).zip(rows) {
        let (rule, explicit) = row
            .rule
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("an importable row has no rule")))?;
        let assigned = row.lead_unit.is_some();
        models.push(item::ActiveModel {
            serial: Set(format!("督〔{year}〕{seq}号")),
            year: Set(year),
            seq: Set(seq),
            title: Set(row.title.clone()),
            requirements: Set(row.requirements.clone()),
            source_kind: Set(row.source_kind.as_str().to_string()),
            source_reference: Set(row.source_reference.clone()),
            urgency: Set(row.urgency.as_str().to_string()),
            responsible_leader_id: Set(row.leader.as_ref().map(|(id, _)| *id)),
            deadline_rule: Set(rule.to_string()),
            deadline_explicit: Set(explicit),
            report_cycle_days: Set(row.source_kind.default_report_cycle_days()),
            report_cycle_working_days: Set(false),
            stage: Set(if assigned {
                ItemStage::Assigned
            } else {
                ItemStage::Registered
            }),
            assigned_at: Set(assigned.then_some(cx.now)),
            version: Set(1),
            created_by: Set(cx.actor.person_id),
            created_at: Set(cx.now),
            updated_at: Set(cx.now),
            ..Default::default()
        });
    }
    for chunk in models.chunks(ITEM_CHUNK) {
        item::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    let last = first + i32::try_from(rows.len()).unwrap_or(i32::MAX) - 1;
    let items = item::Entity::find()
        .filter(item::Column::Year.eq(year))
        .filter(item::Column::Seq.between(first, last))
        .order_by_asc(item::Column::Seq)
        .all(txn)
        .await?;
    if items.len() != rows.len() {
        return Err(AppError::Internal(anyhow::anyhow!(
            "imported {} items, read back {}",
            rows.len(),
            items.len()
        )));
    }
    Ok(items)
}

/// Every assigned row's parts (lead first), each with its due counted from now, in a few
/// statements; read back with their ids, in the items' order.
async fn insert_parts(
    cx: &Cx<'_>,
    txn: &sea_orm::DatabaseTransaction,
    deps: Deps<'_>,
    rows: &[&RowPlan],
    items: &[item::Model],
) -> AppResult<Vec<(Deadline, assignment::Model)>> {
    let mut new_parts = Vec::new();
    let mut dues: HashMap<(i64, i64), Deadline> = HashMap::new();
    for (row, item) in rows.iter().zip(items) {
        let Some((lead_id, _)) = &row.lead_unit else {
            continue;
        };
        for (unit_id, lead) in
            std::iter::once((*lead_id, true)).chain(row.co_units.iter().map(|(id, _)| (*id, false)))
        {
            let (model, due) = new_assignment(
                deps,
                cx.now,
                item,
                NewPart {
                    unit_id,
                    lead,
                    not_after: None,
                },
            )?;
            new_parts.push(model);
            dues.insert((item.id, unit_id), due);
        }
    }
    if new_parts.is_empty() {
        return Ok(Vec::new());
    }
    for chunk in new_parts.chunks(PART_CHUNK) {
        assignment::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    let mut written = Vec::with_capacity(new_parts.len());
    for chunk in items.chunks(PART_CHUNK) {
        written.extend(
            assignment::Entity::find()
                .filter(assignment::Column::ItemId.is_in(chunk.iter().map(|i| i.id)))
                .order_by_asc(assignment::Column::ItemId)
                .order_by_desc(assignment::Column::Lead)
                .order_by_asc(assignment::Column::Id)
                .all(txn)
                .await?,
        );
    }
    written
        .into_iter()
        .map(|part| {
            let due = dues.remove(&(part.item_id, part.unit_id)).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("an imported part was not written"))
            })?;
            Ok((due, part))
        })
        .collect()
}

/// The trail's 立项 row of an imported item: which upload and line it came from.
fn register_audit(
    cx: &Cx<'_>,
    import_id: i64,
    row: &RowPlan,
    item: &item::Model,
) -> audit_event::ActiveModel {
    Audit {
        item_id: Some(item.id),
        assignment_id: None,
        actor: Some(cx.actor),
        at: cx.now,
        action: Action::Register.name(),
        from: None,
        to: Some(Stage::Registered),
        reason: None,
        details: json!({
            "serial": item.serial,
            "deadlineRule": item.deadline_rule,
            "ledgerImport": import_id,
            "line": row.line,
            "duplicateWarnings": row.duplicates.iter().map(|d| match d {
                Duplicate::Item { serial, .. } => serial.clone(),
                Duplicate::Row { line } => format!("第{line}行"),
            }).collect::<Vec<_>>(),
        }),
    }
    .into_model()
}
