//! Delivering the outbox: claim a batch (FOR UPDATE SKIP LOCKED on PostgreSQL, so several
//! instances share the work without sending a message twice), send each through the mailer,
//! then mark it SENT — or, on failure, schedule a retry with exponential backoff, up to
//! `MAX_ATTEMPTS`, after which it is FAILED with the error kept for administrators.
//!
//! A claim is itself a short lease (`next_attempt_at` moves `CLAIM` ahead): if the sender
//! dies mid-delivery, the message becomes due again after that and is sent by whoever runs
//! next — nothing is lost. The one window where SMTP accepted the message but the process
//! died before recording it would resend it; the Message-ID stays the same
//! (`<outbox-N@ducha>`), so receiving systems that de-duplicate on it show it once.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

use crate::error::AppResult;
use crate::mail::{Mailer, Rendered, message};
use entity::outbox;

pub const PENDING: &str = "PENDING";
pub const SENT: &str = "SENT";
pub const FAILED: &str = "FAILED";
pub const MAX_ATTEMPTS: i32 = 8;
const CLAIM: i64 = 5;

/// A message waiting for its first delivery attempt, due at once. Written in the same
/// transaction as whatever decided to send it.
pub fn pending(
    notice_id: Option<i64>,
    recipient: &str,
    rendered: &Rendered,
    now: DateTime<Utc>,
) -> outbox::ActiveModel {
    outbox::ActiveModel {
        notice_id: Set(notice_id),
        recipient: Set(recipient.to_string()),
        subject: Set(rendered.subject.clone()),
        body_text: Set(rendered.text.clone()),
        body_html: Set(rendered.html.clone()),
        status: Set(PENDING.to_string()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
}

/// Retry delay after the n-th failed attempt: 1, 2, 4 … minutes, capped at 2 hours.
pub fn backoff(attempts: i32) -> Duration {
    let minutes = 1i64 << attempts.clamp(0, 7);
    Duration::minutes(Ord::min(minutes, 120))
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Claims up to `limit` due messages.
pub async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<outbox::Model>> {
    let txn = db.begin().await?;
    let rows = outbox::Entity::find()
        .filter(outbox::Column::Status.eq(PENDING))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&txn)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    if !ids.is_empty() {
        outbox::Entity::update_many()
            .col_expr(
                outbox::Column::NextAttemptAt,
                Expr::value(now + Duration::minutes(CLAIM)),
            )
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .filter(outbox::Column::Id.is_in(ids))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(rows)
}

/// Sends one claimed message and records the outcome.
pub async fn deliver_one(
    db: &DatabaseConnection,
    mailer: &Mailer,
    from: &str,
    row: &outbox::Model,
    now: DateTime<Utc>,
) -> AppResult<Result<(), String>> {
    let rendered = Rendered {
        subject: row.subject.clone(),
        text: row.body_text.clone(),
        html: row.body_html.clone(),
    };
    let outcome = match message(
        from,
        &row.recipient,
        &rendered,
        &format!("<outbox-{}@ducha>", row.id),
    ) {
        Ok(built) => mailer.send(built).await,
        Err(e) => Err(e),
    };
    let attempts = row.attempts + 1;
    let update = outbox::Entity::update_many().filter(outbox::Column::Id.eq(row.id));
    match &outcome {
        Ok(()) => {
            update
                .col_expr(outbox::Column::Status, Expr::value(SENT))
                .col_expr(outbox::Column::SentAt, Expr::value(now))
                .col_expr(
                    outbox::Column::LastError,
                    Expr::value(Option::<String>::None),
                )
                .exec(db)
                .await?;
        }
        Err(error) if attempts >= MAX_ATTEMPTS => {
            update
                .col_expr(outbox::Column::Status, Expr::value(FAILED))
                .col_expr(outbox::Column::LastError, Expr::value(error.clone()))
                .exec(db)
                .await?;
        }
        Err(error) => {
            update
                .col_expr(
                    outbox::Column::NextAttemptAt,
                    Expr::value(now + backoff(attempts)),
                )
                .col_expr(outbox::Column::LastError, Expr::value(error.clone()))
                .exec(db)
                .await?;
        }
    }
    Ok(outcome)
}

/// One delivery round: claim, send, record.
pub async fn deliver_pending(
    db: &DatabaseConnection,
    mailer: &Mailer,
    from: &str,
    now: DateTime<Utc>,
    limit: u64,
) -> AppResult<Delivery> {
    let mut delivery = Delivery::default();
    for row in claim(db, now, limit).await? {
        match deliver_one(db, mailer, from, &row, now).await? {
            Ok(()) => delivery.sent += 1,
            Err(error) if row.attempts + 1 >= MAX_ATTEMPTS => {
                tracing::error!(outbox = row.id, %error, "giving up on an email");
                delivery.failed += 1;
            }
            Err(error) => {
                tracing::warn!(outbox = row.id, %error, "email failed; will retry");
                delivery.retried += 1;
            }
        }
    }
    Ok(delivery)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::minutes(2));
        assert_eq!(backoff(3), Duration::minutes(8));
        assert_eq!(backoff(30), Duration::minutes(120));
    }
}
