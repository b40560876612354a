//! The sweep's digests: every notice not yet mailed, one mail per reader.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ducha_domain::ladder::Rung;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};

use crate::error::AppResult;
use crate::service::notices::notify::channels::messages;
use crate::service::notices::notify::digest::Entry;
use crate::service::notices::notify::readers::Directory;
use crate::service::notices::notify::topics::{DIGEST, MAILED, NoticeContext, SKIPPED, Topic};
use entity::outbox;
use entity::{AssignmentStatus, ItemStage};

/// A notice waiting for its digest, with what its mail says of the item and assignment.
/// The item's and assignment's columns are NULL only if those rows are gone; such a notice
/// no longer holds and is settled as SKIPPED.
#[derive(Debug, sea_orm::FromQueryResult)]
struct DigestRow {
    id: i64,
    item_id: i64,
    assignment_id: i64,
    kind: String,
    level: String,
    reason: Option<String>,
    serial: Option<String>,
    title: Option<String>,
    requirements: Option<String>,
    stage: Option<ItemStage>,
    urgency: Option<String>,
    unit_id: Option<i64>,
    lead: Option<bool>,
    due_at: Option<DateTime<Utc>>,
    extended_due_at: Option<DateTime<Utc>>,
    signed_at: Option<DateTime<Utc>>,
    status: Option<AssignmentStatus>,
}

/// The oldest notices waiting for their digest (`$1` = DIGEST, `$2` the batch), with their
/// item's and assignment's columns in the same statement: three reads of whole rows took
/// most of a sweep's digest on SQLite.
const DIGEST_SQL: &str = "\
SELECT n.id, n.item_id, n.assignment_id, n.kind, n.level, n.reason, \
       i.serial, i.title, i.requirements, i.stage, i.urgency, \
       a.unit_id, a.lead, a.due_at, a.extended_due_at, a.signed_at, a.status \
FROM notice n \
LEFT JOIN item i ON i.id = n.item_id \
LEFT JOIN assignment a ON a.id = n.assignment_id \
WHERE n.state = $1 \
ORDER BY n.id \
LIMIT $2";

/// The notices a sweep decided and left for their digest, written into mail: per reader
/// one mail listing all of them, in one transaction with marking them MAILED, so a crash
/// either leaves them for the next try or mails them once. Returns the mails written.
#[tracing::instrument(skip_all)]
pub async fn digest_pending(
    db: &sea_orm::DatabaseConnection,
    cx: &NoticeContext,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    use futures_util::TryStreamExt;
    use sea_orm::FromQueryResult;
    // Bounded: a backlog of more than this goes out as a second digest.
    const DIGEST_BATCH: u64 = 20_000;
    let mut written = 0;
    loop {
        let txn = crate::service::store::write::begin_long_write(db).await?;
        let pending = DigestRow::find_by_statement(crate::service::store::sql::statement(
            txn.get_database_backend(),
            DIGEST_SQL,
            vec![DIGEST.into(), DIGEST_BATCH.into()],
        ))
        // Streamed and decoded as they come: collecting the driver's rows first held every
        // value of the batch twice (a first sweep at 1M peaked 70 MB higher).
        .stream(&txn)
        .await?
        .try_collect::<Vec<_>>()
        .await?;
        if pending.is_empty() {
            txn.commit().await?;
            return Ok(written);
        }
        let directory = Directory::load(&txn).await?;
        // A notice is mailed only if it still holds: its assignment in force and worked on
        // (no sign, reassignment or feedback since it was decided — a crashed sweep's notices
        // may be hours old), and the most urgent one waiting for its assignment.
        let mut latest: HashMap<i64, Rung> = HashMap::new();
        let mut mailable: Vec<(&DigestRow, Rung)> = Vec::new();
        for n in &pending {
            let Some((rung, _)) = Rung::parse(&n.kind, &n.level) else {
                continue;
            };
            let worked_on = matches!(n.stage, Some(ItemStage::Assigned | ItemStage::InProgress));
            let holds = n.status == Some(AssignmentStatus::Active)
                && worked_on
                && !(n.signed_at.is_some() && matches!(rung, Rung::Assigned | Rung::NotSigned));
            if holds {
                let top = latest.entry(n.assignment_id).or_insert(rung);
                *top = (*top).max(rung);
                mailable.push((n, rung));
            }
        }
        let entries: Vec<(Entry, i64)> = mailable
            .iter()
            .filter(|(n, rung)| latest.get(&n.assignment_id) == Some(rung))
            .filter_map(|(n, rung)| {
                let unit_id = n.unit_id?;
                let due_at = n.due_at?;
                Some((
                    Entry {
                        topic: Topic::Rung(*rung),
                        item_id: n.item_id,
                        serial: n.serial.clone()?,
                        title: n.title.clone()?,
                        requirements: n.requirements.clone()?,
                        unit_name: directory.unit_name(unit_id),
                        lead: n.lead?,
                        due_at: n.extended_due_at.unwrap_or(due_at),
                        extended: n.extended_due_at.is_some(),
                        situation: n.reason.clone().unwrap_or_default(),
                        signed: n.signed_at.is_some(),
                        urgent: n.urgency.as_deref() == Some("CRITICAL"),
                    },
                    unit_id,
                ))
            })
            .collect();
        let mails = messages(cx, &directory, &entries, now);
        written += mails.len();
        for chunk in mails.chunks(200) {
            outbox::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        // Every notice taken is settled: MAILED (with its digest) or SKIPPED (no longer true).
        let kept: std::collections::HashSet<i64> = mailable
            .iter()
            .filter(|(n, rung)| latest.get(&n.assignment_id) == Some(rung))
            .map(|(n, _)| n.id)
            .collect();
        let (to_mail, to_skip): (Vec<i64>, Vec<i64>) = pending
            .iter()
            .map(|n| n.id)
            .partition(|id| kept.contains(id));
        let mut settled = 0;
        for (ids, state) in [(to_mail, MAILED), (to_skip, SKIPPED)] {
            if ids.is_empty() {
                continue;
            }
            settled += txn
                .execute_raw(settle_statement(txn.get_database_backend(), &ids, state))
                .await?
                .rows_affected();
        }
        if settled != pending.len() as u64 {
            // Another digest took some of these meanwhile (it should hold the sweep lock, as
            // this one does): mail nothing twice, let the next run settle what is left.
            txn.rollback().await?;
            tracing::error!("a concurrent digest settled these notices; rolled back");
            return Ok(written - mails.len());
        }
        txn.commit().await?;
        cx.wake.notify_one();
        if (pending.len() as u64) < DIGEST_BATCH {
            return Ok(written);
        }
    }
}

/// Settles the notices `ids` still waiting for a digest as `state`, in one statement: the
/// ids travel as one JSON array that the database expands, where an `IN (…)` list bound
/// each id on its own (a first sweep's 30,000 notices took 170 ms to settle that way).
fn settle_statement(backend: DbBackend, ids: &[i64], state: &str) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE notice SET state = $1 WHERE state = $2 \
             AND id IN (SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST($3 AS JSON)))"
        }
        _ => {
            "UPDATE notice SET state = ?1 WHERE state = ?2 AND id IN (SELECT value FROM json_each(?3))"
        }
    };
    let ids = serde_json::Value::from(ids.to_vec()).to_string();
    Statement::from_sql_and_values(backend, sql, [state.into(), DIGEST.into(), ids.into()])
}
