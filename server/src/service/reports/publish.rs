//! Publishing a month's report (one version more, mailed in the same transaction), and the publication due on the first working day.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ducha_domain::colour::Colour;
use ducha_report::Month;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, Value,
};
use serde_json::json;

use crate::service::reports::facts::compute;
use crate::service::reports::published::{OFFICE, Published, Publisher, REPORT_LOCK_KEY};
use crate::service::reports::stored::{is_published, latest};

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::service::store::audit::{Audit, audit};
use crate::service::store::sql::statement;
use entity::{PersonRole, monthly_report, outbox, person};

/// The outcome of a publication request.
#[derive(Debug, Clone)]
pub struct Publication {
    pub published: Published,
    /// False when the figures were unchanged, so no new version was made.
    pub created: bool,
}

/// Builds `month`'s report and publishes it as a new version, unless its figures equal the
/// latest version's. The version row, its emails and the audit entry are one transaction;
/// two instances publishing together make one version (the other gets CONFLICT).
#[tracing::instrument(skip_all, fields(month = ?month))]
pub async fn publish(
    state: Publisher<'_>,
    month: Month,
    actor: Option<&Actor>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Publication> {
    if let Some(actor) = actor {
        crate::service::items::verb::require_duty(
            actor,
            ducha_domain::Duty::PublishReport,
            "只有督查室可以发布月度督查通报",
        )?;
    }
    let tz = state.time_zone;
    let (_, end) = month.bounds(tz);
    if now < end {
        return Err(AppError::BadUserInput(format!(
            "{}尚未结束，不能发布该月通报",
            month.label()
        )));
    }
    let report = compute(state, month, now).await?;
    // The snapshot is bound whole (and the previous version read whole): the connections
    // that carry them give their grown buffers back when they return to the pool.
    crate::db::give_back_large_buffers();
    let txn = crate::service::store::write::begin_long_write(state.db).await?;
    // Publishers of one month take turns (SQLite's write lock does this by itself): the
    // second finds the first's version and answers "unchanged", not a conflict.
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_raw(statement(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            vec![Value::from(
                REPORT_LOCK_KEY + i64::from(month.year()) * 12 + i64::from(month.month()),
            )],
        ))
        .await?;
    }
    let previous = latest(&txn, month).await?;
    let changes = match &previous {
        Some(before) => {
            let changes = ducha_report::changes_between(&before.report, &report);
            if changes.is_empty() {
                txn.rollback().await?;
                return Ok(Publication {
                    published: before.clone(),
                    created: false,
                });
            }
            changes
        }
        None => Vec::new(),
    };
    let version = previous.as_ref().map_or(1, |p| p.version + 1);
    let data = serde_json::to_string(&report).map_err(|e| AppError::Internal(e.into()))?;
    let changes_json = serde_json::to_string(&changes).map_err(|e| AppError::Internal(e.into()))?;
    let rated: HashMap<String, Colour> = report
        .units
        .iter()
        .filter(|u| u.rank.is_some())
        .map(|u| (u.unit_id.to_string(), u.colour))
        .collect();
    let unit_colours = serde_json::to_string(&rated).map_err(|e| AppError::Internal(e.into()))?;
    let row = monthly_report::ActiveModel {
        month: Set(month.to_string()),
        version: Set(version),
        data: Set(data),
        changes: Set(changes_json),
        unit_colours: Set(unit_colours),
        reason: Set(reason.map(str::to_string)),
        generated_by: Set(actor.map(|a| a.person_id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;

    // The mail carries the first rows of each list and links to the page with all of them.
    let full_at = format!(
        "{}/reports/{}?version={version}",
        state.public_url.trim_end_matches('/'),
        month
    );
    let html = ducha_report::render::mail_html(&report, version, &changes, OFFICE, &full_at)
        .map_err(|e| AppError::Internal(e.into()))?;
    let subject = if version > 1 {
        format!("【督查通报】{}（第{}版）", report.title, version)
    } else {
        format!("【督查通报】{}", report.title)
    };
    let mut text = format!(
        "{}\n\n一、落实情况\n{}\n\n二、存在问题\n{}\n\n三、工作建议\n{}\n",
        report.title,
        report.sections.progress,
        report.sections.problems,
        report.sections.suggestions
    );
    if !changes.is_empty() {
        text.push_str("\n本版较上一版的变化：\n");
        for change in &changes {
            text.push_str(&format!("- {change}\n"));
        }
    }
    text.push_str(&format!("\n{OFFICE}\n"));
    let readers = person::Entity::find()
        .filter(person::Column::Role.is_in([PersonRole::Leader, PersonRole::Supervisor]))
        .all(&txn)
        .await?;
    let mut recipients: Vec<String> = readers.into_iter().filter_map(|p| p.email).collect();
    recipients.sort();
    recipients.dedup();
    let mail = crate::mail::Rendered {
        subject,
        text,
        html,
    };
    if !recipients.is_empty() {
        outbox::Entity::insert_many(
            recipients
                .iter()
                .map(|to| crate::service::notices::outbox::pending(None, to, &mail, now)),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    audit(
        &txn,
        Audit::admin(actor, now, "PUBLISH_REPORT", json!({ "month": month.to_string(), "version": version, "changes": changes, "recipients": recipients })).because(reason),
    )
    .await?;
    txn.commit().await?;
    Ok(Publication {
        published: Published {
            id: row.id,
            version,
            report,
            changes,
            reason: row.reason,
            generated_by: row.generated_by,
            created_at: now,
        },
        created: true,
    })
}

/// The scheduler's part (docs/rules.md §6): from the first working day of a month on, publish
/// the previous month's report once, if nobody has. Safe on every instance: a second
/// publisher finds the version taken (CONFLICT) or the figures unchanged.
#[tracing::instrument(skip_all)]
pub async fn publish_due(state: Publisher<'_>, now: DateTime<Utc>) -> AppResult<Option<Published>> {
    let tz = state.time_zone;
    let today = now.with_timezone(&tz).date_naive();
    let calendar = state.calendar.current()?;
    let this_month = Month::of(today);
    if today < this_month.first_working_day(&calendar) {
        return Ok(None);
    }
    let month = this_month.previous();
    if is_published(state.db, month).await? {
        return Ok(None);
    }
    match publish(state, month, None, Some("每月第一个工作日自动生成"), now).await {
        Ok(publication) => Ok(Some(publication.published)),
        Err(AppError::Conflict(_)) => Ok(None),
        Err(error) => Err(error),
    }
}
