//! The notices a verb writes, in its own transaction, and their mails.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseTransaction, EntityTrait, Set};
use serde_json::json;

use crate::error::AppResult;
use crate::service::notices::notify::channels::messages;
use crate::service::notices::notify::digest::Entry;
use crate::service::notices::notify::readers::Directory;
use crate::service::notices::notify::topics::{MAILED, NoticeContext, OfficeNews, Reader, Topic};
use crate::service::store::audit::Audit;
use entity::{assignment, audit_event, item, notice, outbox};

/// A notice a verb writes about one assignment, mailed at once.
pub struct EventNotice<'a> {
    pub topic: Topic,
    /// Unique per event for the assignment (the unique key is assignment × kind × level).
    pub level: String,
    pub item: &'a item::Model,
    pub assignment: &'a assignment::Model,
    /// The sub-unit whose task the notice is about (topics of tasks): the mail names it and
    /// the task's due, rather than the reader's part.
    pub about_unit: Option<i64>,
    pub situation: String,
}

/// The longest notice level the table holds (`notice.level`, VARCHAR(32)).
const NOTICE_LEVEL_MAX: usize = 32;

/// What [`write_event_notices`] wrote: a notice already on record (the same assignment, kind
/// and level) is neither written again nor mailed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub notices: usize,
    pub mails: usize,
}

/// Writes the notices of one verb and their mails inside the verb's transaction, so the
/// change and its notice commit together or not at all. Call `cx.wake` after the commit.
pub async fn write_event_notices(
    txn: &DatabaseTransaction,
    cx: &NoticeContext,
    now: DateTime<Utc>,
    events: Vec<EventNotice<'_>>,
) -> AppResult<Written> {
    if events.is_empty() {
        return Ok(Written::default());
    }
    let unit_ids: Vec<i64> = events
        .iter()
        .flat_map(|e| [Some(e.assignment.unit_id), e.about_unit])
        .flatten()
        .collect();
    let directory = Directory::load_units(txn, &unit_ids).await?;
    let mut entries = Vec::new();
    for event in &events {
        // The column holds 32 characters; PostgreSQL refuses more and SQLite would keep them,
        // so both refuse here alike.
        if event.level.len() > NOTICE_LEVEL_MAX {
            return Err(crate::error::AppError::Internal(anyhow::anyhow!(
                "notice level {:?} is longer than {NOTICE_LEVEL_MAX}",
                event.level
            )));
        }
        let inserted = notice::Entity::insert(notice::ActiveModel {
            item_id: Set(event.item.id),
            assignment_id: Set(event.assignment.id),
            unit_id: Set(event.assignment.unit_id),
            kind: Set(event.topic.kind().to_string()),
            level: Set(event.level.clone()),
            created_at: Set(now),
            state: Set(MAILED.to_string()),
            reason: Set(Some(event.situation.clone())),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([
                notice::Column::AssignmentId,
                notice::Column::Kind,
                notice::Column::Level,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
        if inserted == 0 {
            continue;
        }
        let readers = directory.readers(event.topic, event.assignment.unit_id);
        audit_notice(
            txn,
            event.item.id,
            event.assignment.id,
            now,
            (event.topic, &event.level),
            (&addressee(&directory, event), &readers),
        )
        .await?;
        entries.push((
            Entry::new(
                event.topic,
                event.item,
                event.assignment,
                directory.unit_name(event.about_unit.unwrap_or(event.assignment.unit_id)),
                event.situation.clone(),
            ),
            event.assignment.unit_id,
        ));
    }
    let mut written = Written {
        notices: entries.len(),
        mails: 0,
    };
    if cx.window > chrono::Duration::zero() {
        written.mails = super::window::write_held(txn, cx, &directory, &entries, now).await?;
        return Ok(written);
    }
    for mail in messages(cx, &directory, &entries, now) {
        outbox::Entity::insert(mail)
            .exec_without_returning(txn)
            .await?;
        written.mails += 1;
    }
    Ok(written)
}

/// Whom the trail says a notice went to: the office, or the unit of its assignment.
fn addressee(directory: &Directory, event: &EventNotice<'_>) -> String {
    match event.topic {
        Topic::Office(OfficeNews::ExtensionAsked { long: true, .. }) => "督查室、区领导".into(),
        topic if topic.to_office() => "督查室".into(),
        _ => directory.unit_name(event.assignment.unit_id),
    }
}

async fn audit_notice(
    txn: &DatabaseTransaction,
    item_id: i64,
    assignment_id: i64,
    now: DateTime<Utc>,
    (topic, level): (Topic, &str),
    (unit_name, readers): (&str, &[Reader]),
) -> AppResult<()> {
    let recipients: Vec<&str> = readers.iter().map(|r| r.email.as_str()).collect();
    audit_event::Entity::insert(
        Audit {
            item_id: Some(item_id),
            assignment_id: Some(assignment_id),
            actor: None,
            at: now,
            action: "NOTICE",
            from: None,
            to: None,
            reason: Some(topic.title()),
            // The unit it went to: a task's notice goes to a unit other than the part's.
            details: json!({ "kind": topic.kind(), "level": level, "recipients": recipients,
                             "unitName": unit_name }),
        }
        .into_model(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
