//! Digests, not floods (docs/rules.md §4, "Held for a window"): a verb's messages are held for
//! the window (two minutes by default), and what arises meanwhile for the same reader — by
//! mail — or the same channel joins the message still held, which is written again as one
//! digest of all of them, grouped by kind as a sweep's are. The joining happens in the verb's
//! own transaction, on a message no sender has claimed and that is not yet due; when a sender
//! took it first, the verb's notices start a message of their own. So nothing is lost and
//! nothing goes twice however the verbs and the senders interleave.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::service::notices::notify::channels::{channel_lists, message};
use crate::service::notices::notify::digest::{Entry, by_reader, render_by_kind};
use crate::service::notices::notify::readers::Directory;
use crate::service::notices::notify::topics::NoticeContext;
use crate::service::notices::outbox::{MAIL, PENDING, pending};
use entity::outbox;

/// What a held message lists, kept beside it.
#[derive(Serialize, Deserialize)]
struct Held {
    entries: Vec<Entry>,
}

/// Where a held message goes: a mailbox, or a channel.
#[derive(PartialEq, Eq, Hash)]
enum Target {
    Mail(String),
    Channel(i64),
}

/// Writes the messages of a verb's notices, each joining the message held for the same
/// reader or channel if there is one. Returns how many messages were written or joined.
pub async fn write_held(
    txn: &DatabaseTransaction,
    cx: &NoticeContext,
    directory: &Directory,
    entries: &[(Entry, i64)],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let readers = by_reader(directory, entries);
    let channels = channel_lists(directory, entries);
    let emails: Vec<&str> = readers.values().map(|(r, _)| r.email.as_str()).collect();
    let channel_ids: Vec<i64> = channels.iter().map(|(c, _, _)| c.id).collect();
    let mut held_now = find_held(txn, &emails, &channel_ids, now).await?;
    let mut written = 0;
    for (reader, list) in readers.into_values() {
        let held = held_now.remove(&Target::Mail(reader.email.clone()));
        let merged = merged(held.as_ref(), &list);
        let refs: Vec<&Entry> = merged.iter().collect();
        let rendered = render_by_kind(cx, &reader, &refs, now);
        let mut row = pending(None, &reader.email, &rendered, now);
        row.next_attempt_at = Set(now + cx.window);
        row.digest = Set(Some(to_json(&merged)?));
        write(txn, held, row, now).await?;
        written += 1;
    }
    for (channel, kind, list) in channels {
        let held = held_now.remove(&Target::Channel(channel.id));
        let merged = merged(held.as_ref(), &list);
        let refs: Vec<&Entry> = merged.iter().collect();
        let mut row = message(cx, directory, channel, kind, &refs, now, true);
        // A robot's message that waits for the working morning waits at least that long.
        let due = match &row.next_attempt_at {
            sea_orm::ActiveValue::Set(at) | sea_orm::ActiveValue::Unchanged(at) => *at,
            sea_orm::ActiveValue::NotSet => now,
        };
        row.next_attempt_at = Set(due.max(now + cx.window));
        row.digest = Set(Some(to_json(&merged)?));
        write(txn, held, row, now).await?;
        written += 1;
    }
    Ok(written)
}

fn to_json(entries: &[Entry]) -> AppResult<String> {
    serde_json::to_string(&Held {
        entries: entries.to_vec(),
    })
    .map_err(|e| AppError::Internal(e.into()))
}

/// The held message's notices and the new ones; the same notice (topic, item, unit) once.
fn merged(held: Option<&outbox::Model>, new: &[&Entry]) -> Vec<Entry> {
    let mut all: Vec<Entry> = held
        .and_then(|h| h.digest.as_deref())
        .and_then(|json| serde_json::from_str::<Held>(json).ok())
        .map(|h| h.entries)
        .unwrap_or_default();
    for entry in new {
        let same = |e: &Entry| {
            e.topic == entry.topic && e.item_id == entry.item_id && e.unit_name == entry.unit_name
        };
        match all.iter_mut().find(|e| same(e)) {
            // The later words replace the earlier (a second 催办's line, a new due).
            Some(existing) => *existing = (*entry).clone(),
            None => all.push((*entry).clone()),
        }
    }
    all
}

/// The messages held for these mailboxes and channels, in one read: for each, the newest
/// not yet due, not claimed, still pending, with its list.
async fn find_held(
    txn: &DatabaseTransaction,
    emails: &[&str],
    channel_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<HashMap<Target, outbox::Model>> {
    if emails.is_empty() && channel_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = held_rows(outbox::Entity::find(), now)
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(outbox::Column::Channel.eq(MAIL))
                        .add(outbox::Column::Recipient.is_in(emails.iter().copied())),
                )
                .add(outbox::Column::ChannelId.is_in(channel_ids.iter().copied())),
        )
        .order_by_asc(outbox::Column::Id)
        .all(txn)
        .await?;
    // Ascending: the newest of a target's held messages is the one kept.
    Ok(rows
        .into_iter()
        .map(|row| {
            let target = match row.channel_id {
                Some(id) if row.channel != MAIL => Target::Channel(id),
                _ => Target::Mail(row.recipient.clone()),
            };
            (target, row)
        })
        .collect())
}

/// The condition a held message meets, for the read and again for the write.
fn held_rows<Q: QueryFilter>(query: Q, now: DateTime<Utc>) -> Q {
    query
        .filter(outbox::Column::Status.eq(PENDING))
        .filter(outbox::Column::Claim.is_null())
        .filter(outbox::Column::Attempts.eq(0))
        .filter(outbox::Column::NextAttemptAt.gt(now))
        .filter(outbox::Column::Digest.is_not_null())
}

/// Joins `row` into the held message when it is still held (the update re-checks it under
/// the row's lock), else writes `row` as a message of its own.
async fn write(
    txn: &DatabaseTransaction,
    held: Option<outbox::Model>,
    row: outbox::ActiveModel,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(held) = held {
        let value = |v: &sea_orm::ActiveValue<String>| match v {
            sea_orm::ActiveValue::Set(s) | sea_orm::ActiveValue::Unchanged(s) => s.clone(),
            sea_orm::ActiveValue::NotSet => String::new(),
        };
        let optional = |v: &sea_orm::ActiveValue<Option<String>>| match v {
            sea_orm::ActiveValue::Set(s) | sea_orm::ActiveValue::Unchanged(s) => s.clone(),
            sea_orm::ActiveValue::NotSet => None,
        };
        let joined = held_rows(outbox::Entity::update_many(), now)
            .filter(outbox::Column::Id.eq(held.id))
            .col_expr(outbox::Column::Subject, Expr::value(value(&row.subject)))
            .col_expr(outbox::Column::BodyText, Expr::value(value(&row.body_text)))
            .col_expr(outbox::Column::BodyHtml, Expr::value(value(&row.body_html)))
            .col_expr(outbox::Column::Payload, Expr::value(optional(&row.payload)))
            .col_expr(outbox::Column::Digest, Expr::value(optional(&row.digest)))
            .exec(txn)
            .await?;
        if joined.rows_affected == 1 {
            return Ok(());
        }
    }
    outbox::Entity::insert(row)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}
