//! Delivering the outbox so that nothing is lost and nothing goes twice.
//!
//! - **Small claims, renewed.** A sender claims a few due messages at a time (a claim token
//!   and `claimed_until`) and renews its claims while it works, so a slow relay never lets
//!   a second sender take a message a live sender holds; a sender that dies stops renewing
//!   and its messages come back when the claim lapses.
//! - **Marked one by one.** Each message is marked SENT right after the relay accepts it (the
//!   mark is retried for a few seconds if the database refuses it). A message can go twice
//!   only when its acceptance and its mark straddle a crash, the relay answers after the
//!   timeout, or the database stays unreachable past those retries; it keeps its Message-ID
//!   (`<outbox-N@ducha>`), so the repeat is recognisable.
//! - **Outages are waited out.** A relay that is down, refuses with 4xx or times out is
//!   transient: the message is retried with backoff capped at `MAX_BACKOFF`, for days if need
//!   be. Only a permanent refusal (5xx) ends a message as FAILED; the office sees it in
//!   `outbox` and `/healthz`, and can requeue it. A claim is not an attempt: a sender killed
//!   mid-delivery costs the message nothing.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::error::{AppError, AppResult};
use crate::mail::{Mailer, Rendered, SendError, message};
use entity::outbox;

pub const PENDING: &str = "PENDING";
pub const SENT: &str = "SENT";
pub const FAILED: &str = "FAILED";

/// `outbox.channel` of an email; other channels name their kind (`crate::channels`).
pub const MAIL: &str = "MAIL";

/// Messages one claim takes: a sender holds little that another could have sent.
pub const CLAIM_BATCH: u64 = 10;

/// The longest wait between two tries of a message.
pub const MAX_BACKOFF: Duration = Duration::minutes(30);

/// A mail waiting for its first delivery attempt, due at once. Written in the same
/// transaction as whatever decided to send it.
pub fn pending(
    notice_id: Option<i64>,
    recipient: &str,
    rendered: &Rendered,
    now: DateTime<Utc>,
) -> outbox::ActiveModel {
    let mut row = queued(
        Queued {
            channel: MAIL,
            channel_id: None,
            recipient: recipient.to_string(),
            subject: rendered.subject.clone(),
            text: rendered.text.clone(),
            payload: None,
            due: now,
            waits_because: None,
        },
        now,
    );
    row.notice_id = Set(notice_id);
    row.body_html = Set(rendered.html.clone());
    row
}

/// A message of any channel, as written to the outbox.
pub struct Queued<'a> {
    /// MAIL, or the channel's kind.
    pub channel: &'a str,
    pub channel_id: Option<i64>,
    pub recipient: String,
    pub subject: String,
    pub text: String,
    /// A webhook's JSON body.
    pub payload: Option<String>,
    /// Its first try; later than now for one that waits (the working morning).
    pub due: DateTime<Utc>,
    /// Why it waits, shown in the queue until it is tried.
    pub waits_because: Option<String>,
}

/// The outbox row of a message waiting for its first try.
pub fn queued(message: Queued<'_>, now: DateTime<Utc>) -> outbox::ActiveModel {
    outbox::ActiveModel {
        notice_id: Set(None),
        recipient: Set(message.recipient),
        subject: Set(message.subject),
        body_text: Set(message.text),
        body_html: Set(String::new()),
        status: Set(PENDING.to_string()),
        attempts: Set(0),
        next_attempt_at: Set(message.due),
        last_error: Set(message.waits_because),
        sent_at: Set(None),
        created_at: Set(now),
        claim: Set(None),
        claimed_until: Set(None),
        channel: Set(message.channel.to_string()),
        channel_id: Set(message.channel_id),
        payload: Set(message.payload),
        digest: Set(None),
        ..Default::default()
    }
}

/// Retry delay after the n-th failed attempt: 1, 2, 4, 8, 16 minutes, then every 30.
pub fn backoff(attempts: i32) -> Duration {
    let minutes = 1i64 << attempts.clamp(1, 10).saturating_sub(1);
    Ord::min(Duration::minutes(minutes), MAX_BACKOFF)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// The mail relay failed a try: the rest of the mail waits for its backoff.
    pub mail_down: bool,
}

impl Delivery {
    fn add(&mut self, other: &Delivery) {
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
        self.mail_down |= other.mail_down;
    }
}

/// Which messages a claim takes: mail and the other channels are delivered side by side, so
/// that a slow robot or webhook never holds mail up, nor mail them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Mail,
    Channels,
    All,
}

/// A sender: who it is in claims, what it sends with, how long a claim lasts.
pub struct Sender<'a> {
    pub db: &'a DatabaseConnection,
    pub mailer: &'a Mailer,
    /// The client robots, webhooks and SMS platforms are reached with.
    pub http: &'a reqwest::Client,
    pub from: &'a str,
    /// How long a claim lasts without renewal; renewed every third of it.
    pub claim_ttl: std::time::Duration,
    pub clock: &'a crate::clock::Clock,
}

fn claim_token() -> String {
    crate::auth::new_token()
        .map(|t| t.chars().skip(4).take(24).collect())
        .unwrap_or_else(|_| format!("claim-{}", Utc::now().timestamp_nanos_opt().unwrap_or(0)))
}

impl<'a> Sender<'a> {
    fn ttl(&self) -> Duration {
        Duration::from_std(self.claim_ttl).unwrap_or(Duration::seconds(60))
    }

    /// Claims up to `limit` due messages that no live claim holds. The conditional update
    /// is the arbiter: of two senders racing for a row, one updates it and the other
    /// matches nothing (PostgreSQL re-checks the condition after the row lock; SQLite has
    /// one writer).
    pub async fn claim(&self, limit: u64, lane: Lane) -> AppResult<(String, Vec<outbox::Model>)> {
        let now = self.clock.now();
        let token = claim_token();
        let claimable = || {
            let in_lane = match lane {
                Lane::Mail => sea_orm::Condition::all().add(outbox::Column::Channel.eq(MAIL)),
                Lane::Channels => sea_orm::Condition::all().add(outbox::Column::Channel.ne(MAIL)),
                Lane::All => sea_orm::Condition::all(),
            };
            sea_orm::Condition::all()
                .add(in_lane)
                .add(outbox::Column::Status.eq(PENDING))
                .add(outbox::Column::NextAttemptAt.lte(now))
                .add(
                    sea_orm::Condition::any()
                        .add(outbox::Column::ClaimedUntil.is_null())
                        .add(outbox::Column::ClaimedUntil.lt(now)),
                )
        };
        let ids: Vec<i64> = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::Id)
            .filter(claimable())
            .order_by_asc(outbox::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(self.db)
            .await?;
        if ids.is_empty() {
            return Ok((token, Vec::new()));
        }
        outbox::Entity::update_many()
            .col_expr(outbox::Column::Claim, Expr::value(token.clone()))
            .col_expr(outbox::Column::ClaimedUntil, Expr::value(now + self.ttl()))
            .filter(outbox::Column::Id.is_in(ids))
            .filter(claimable())
            .exec(self.db)
            .await?;
        let rows = outbox::Entity::find()
            .filter(outbox::Column::Claim.eq(token.clone()))
            .filter(outbox::Column::Status.eq(PENDING))
            .order_by_asc(outbox::Column::Id)
            .all(self.db)
            .await?;
        Ok((token, rows))
    }

    /// Extends this claim's messages still pending; the heartbeat of a live sender.
    async fn renew(&self, token: &str) -> AppResult<()> {
        outbox::Entity::update_many()
            .col_expr(
                outbox::Column::ClaimedUntil,
                Expr::value(self.clock.now() + self.ttl()),
            )
            .filter(outbox::Column::Claim.eq(token))
            .filter(outbox::Column::Status.eq(PENDING))
            .exec(self.db)
            .await?;
        Ok(())
    }

    /// Sends one claimed message and records the outcome at once.
    async fn deliver_one(&self, token: &str, row: &outbox::Model) -> AppResult<Outcome> {
        if row.channel != MAIL {
            return self.deliver_by_channel(token, row).await;
        }
        let rendered = Rendered {
            subject: row.subject.clone(),
            text: row.body_text.clone(),
            html: row.body_html.clone(),
        };
        let outcome = match message(
            self.from,
            &row.recipient,
            &rendered,
            &format!("<outbox-{}@ducha>", row.id),
        ) {
            Ok(built) => self.mailer.send(built).await,
            Err(e) => Err(SendError::Permanent(e)),
        };
        let now = self.clock.now();
        let attempts = row.attempts + 1;
        let updated = self
            .record(outcome_update(&outcome, mine(row.id, token), now, attempts))
            .await?;
        if updated.rows_affected == 0 {
            // Our claim lapsed and another sender took the message (the heartbeat could not
            // reach the database in time): it may go twice, with the same Message-ID.
            tracing::warn!(outbox = row.id, "claim lapsed while sending");
        }
        Ok(match outcome {
            Ok(()) => Outcome::Sent,
            Err(SendError::Permanent(error)) => {
                tracing::error!(outbox = row.id, %error, "relay refused an email for good");
                Outcome::Failed
            }
            Err(SendError::Transient(error)) => {
                tracing::warn!(outbox = row.id, %error, "email not delivered; will retry");
                Outcome::Retry(now + backoff(attempts))
            }
        })
    }

    /// Records a try's outcome. After the relay accepted a message, failing to say so would
    /// send it again once the claim lapses: a database that refuses for a moment (SQLite busy,
    /// a failover) is asked again for a few seconds.
    pub(super) async fn record(
        &self,
        update: sea_orm::UpdateMany<outbox::Entity>,
    ) -> AppResult<sea_orm::UpdateResult> {
        let mut delay = std::time::Duration::from_millis(100);
        loop {
            match update.clone().exec(self.db).await {
                Ok(updated) => return Ok(updated),
                Err(error) if delay < std::time::Duration::from_secs(5) => {
                    tracing::warn!(?error, "could not record a delivery; trying again");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Gives back the messages of a claim that were not tried, due at `at` (no attempt
    /// counted: the relay was not asked), saying why they wait.
    async fn release(&self, token: &str, at: DateTime<Utc>) -> AppResult<()> {
        outbox::Entity::update_many()
            .col_expr(
                outbox::Column::LastError,
                Expr::value("未尝试：同批前一封邮件暂时未能投递，随之推迟"),
            )
            .col_expr(outbox::Column::Claim, Expr::value(Option::<String>::None))
            .col_expr(
                outbox::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(at))
            .filter(outbox::Column::Claim.eq(token))
            .filter(outbox::Column::Status.eq(PENDING))
            // Mail only: a channel's messages of the same claim are being delivered beside.
            .filter(outbox::Column::Channel.eq(MAIL))
            .exec(self.db)
            .await?;
        Ok(())
    }

    /// One claim's worth: claim, send each (renewing the claim meanwhile), record each. Mail
    /// goes one by one; each channel's messages one by one, beside mail's and each other's.
    /// After a transient failure the rest of the claim's mail waits as long as that message
    /// does (a relay that is down is not asked again for every message); a channel in trouble
    /// puts its own messages back (`channel_send`).
    pub async fn deliver_batch(&self, limit: u64, lane: Lane) -> AppResult<(usize, Delivery)> {
        let (token, rows) = self.claim(limit, lane).await?;
        let claimed = rows.len();
        if rows.is_empty() {
            return Ok((0, Delivery::default()));
        }
        let mut groups: Vec<(Option<i64>, Vec<&outbox::Model>)> = Vec::new();
        for row in &rows {
            let key = if row.channel == MAIL {
                None
            } else {
                row.channel_id
            };
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, group)) => group.push(row),
                None => groups.push((key, vec![row])),
            }
        }
        let work = futures_util::future::try_join_all(
            groups
                .iter()
                .map(|(_, group)| self.deliver_group(&token, group)),
        );
        let heartbeat = async {
            let mut every = tokio::time::interval(self.claim_ttl / 3);
            every.tick().await;
            loop {
                every.tick().await;
                if let Err(error) = self.renew(&token).await {
                    tracing::warn!(?error, "could not renew an outbox claim");
                }
            }
        };
        let mut delivery = Delivery::default();
        tokio::select! {
            done = work => {
                for group in done? {
                    delivery.add(&group);
                }
            }
            () = heartbeat => {}
        }
        Ok((claimed, delivery))
    }

    /// One group of a claim, in order: the claim's mail, or one channel's messages.
    async fn deliver_group(&self, token: &str, group: &[&outbox::Model]) -> AppResult<Delivery> {
        let mut delivery = Delivery::default();
        for row in group {
            match self.deliver_one(token, row).await? {
                Outcome::Sent => delivery.sent += 1,
                Outcome::Failed => delivery.failed += 1,
                Outcome::ChannelPaused => {
                    // The channel's other messages were put back with this one.
                    delivery.retried += 1;
                    break;
                }
                Outcome::Retry(at) => {
                    delivery.retried += 1;
                    delivery.mail_down = true;
                    self.release(token, at).await?;
                    break;
                }
            }
        }
        Ok(delivery)
    }

    /// Delivers until nothing is due (or `max` messages were tried), mail and channels alike.
    pub async fn deliver_due(&self, max: usize) -> AppResult<Delivery> {
        self.deliver_lane(max, Lane::All).await
    }

    /// Delivers one lane's messages until nothing is due (or `max` were tried).
    pub async fn deliver_lane(&self, max: usize, lane: Lane) -> AppResult<Delivery> {
        let mut total = Delivery::default();
        let mut tried = 0;
        while tried < max {
            let (claimed, delivery) = self.deliver_batch(CLAIM_BATCH, lane).await?;
            if claimed == 0 {
                break;
            }
            tried += claimed;
            total.add(&delivery);
            if delivery.mail_down {
                // The relay is failing now; what is left waits for its backoff. (A channel
                // that fails puts its own messages back, and the others go on.)
                break;
            }
        }
        Ok(total)
    }
}

/// The update of one message on this sender's own claim only, giving the claim up.
pub(super) fn mine(id: i64, token: &str) -> sea_orm::UpdateMany<outbox::Entity> {
    outbox::Entity::update_many()
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Claim.eq(token))
        .col_expr(outbox::Column::Claim, Expr::value(Option::<String>::None))
        .col_expr(
            outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
}

/// The row's update for a try's outcome (on the sender's own claim only).
pub(super) fn outcome_update(
    outcome: &Result<(), SendError>,
    mine: sea_orm::UpdateMany<outbox::Entity>,
    now: DateTime<Utc>,
    attempts: i32,
) -> sea_orm::UpdateMany<outbox::Entity> {
    match outcome {
        Ok(()) => mine
            .col_expr(outbox::Column::Status, Expr::value(SENT))
            .col_expr(outbox::Column::SentAt, Expr::value(now))
            .col_expr(outbox::Column::Attempts, Expr::value(attempts))
            .col_expr(
                outbox::Column::LastError,
                Expr::value(Option::<String>::None),
            ),
        Err(SendError::Permanent(error)) => mine
            .col_expr(outbox::Column::Status, Expr::value(FAILED))
            .col_expr(outbox::Column::Attempts, Expr::value(attempts))
            .col_expr(outbox::Column::LastError, Expr::value(error.clone())),
        Err(SendError::Transient(error)) => mine
            .col_expr(outbox::Column::Attempts, Expr::value(attempts))
            .col_expr(
                outbox::Column::NextAttemptAt,
                Expr::value(now + backoff(attempts)),
            )
            .col_expr(outbox::Column::LastError, Expr::value(error.clone())),
    }
}

pub(super) enum Outcome {
    Sent,
    Failed,
    /// Not delivered; this message and the rest of its channel wait until then.
    Retry(DateTime<Utc>),
    /// A channel's message was not delivered and its whole channel was put back until then
    /// (`channel_send::pause`): the rest of the claim goes on.
    ChannelPaused,
}

/// The sender loops of an instance, mail's and the other channels', side by side: each
/// delivers what is due, then sleeps until woken by new messages written in this process, or
/// for `poll` (messages written by other instances, retries and held messages coming due).
pub async fn run_sender(sender: Sender<'_>, wake: &tokio::sync::Notify, poll: std::time::Duration) {
    // The one wake-up reaches the mail loop, which passes it on.
    let channels_wake = tokio::sync::Notify::new();
    let lane = |lane: Lane, woken: &'static str| {
        let sender = &sender;
        async move {
            match sender.deliver_lane(usize::MAX, lane).await {
                Ok(d) if d != Delivery::default() => tracing::info!(?d, woken, "outbox delivery"),
                Ok(_) => {}
                Err(error) => tracing::error!(?error, woken, "outbox delivery failed"),
            }
        }
    };
    let mail = async {
        loop {
            let woken = wake.notified();
            lane(Lane::Mail, "mail").await;
            if tokio::time::timeout(poll, woken).await.is_ok() {
                channels_wake.notify_one();
            }
        }
    };
    let channels = async {
        loop {
            let woken = channels_wake.notified();
            lane(Lane::Channels, "channels").await;
            let _ = tokio::time::timeout(poll, woken).await;
        }
    };
    tokio::join!(mail, channels);
}

/// The outbox as `/healthz` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backlog {
    pub pending: u64,
    /// Seconds since the oldest pending message was written.
    pub oldest_pending_age_seconds: Option<i64>,
    pub failed: u64,
}

pub async fn backlog(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<Backlog> {
    let pending = outbox::Entity::find()
        .filter(outbox::Column::Status.eq(PENDING))
        .count(db)
        .await?;
    let failed = outbox::Entity::find()
        .filter(outbox::Column::Status.eq(FAILED))
        .count(db)
        .await?;
    let oldest: Option<DateTime<Utc>> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::CreatedAt)
        .filter(outbox::Column::Status.eq(PENDING))
        .order_by_asc(outbox::Column::CreatedAt)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(Backlog {
        pending,
        oldest_pending_age_seconds: oldest.map(|at| (now - at).num_seconds().max(0)),
        failed,
    })
}

/// Makes every pending message waiting out a backoff due now (the relay is known to be back);
/// messages a sender holds stay with it. Returns how many.
pub async fn retry_now(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<u64> {
    // The channels paused by a failure or a "too many" are asked again too.
    entity::channel::Entity::update_many()
        .col_expr(
            entity::channel::Column::PausedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(entity::channel::Column::PausedUntil.gt(now))
        .exec(db)
        .await?;
    Ok(outbox::Entity::update_many()
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now))
        .filter(outbox::Column::Status.eq(PENDING))
        .filter(outbox::Column::NextAttemptAt.gt(now))
        .exec(db)
        .await?
        .rows_affected)
}

/// Puts FAILED messages back in the queue, due now (all of them when `ids` is empty).
/// Returns how many.
pub async fn requeue(db: &impl ConnectionTrait, ids: &[i64], now: DateTime<Utc>) -> AppResult<u64> {
    let mut update = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(PENDING))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now))
        .col_expr(outbox::Column::Claim, Expr::value(Option::<String>::None))
        .col_expr(
            outbox::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(outbox::Column::Status.eq(FAILED));
    if !ids.is_empty() {
        update = update.filter(outbox::Column::Id.is_in(ids.to_vec()));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// The outbox for the office, newest first: optionally of one status, below `before_id`.
pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<&str>,
    first: u64,
    before_id: Option<i64>,
) -> AppResult<Vec<outbox::Model>> {
    let mut query = outbox::Entity::find();
    if let Some(status) = status {
        if ![PENDING, SENT, FAILED].contains(&status) {
            return Err(AppError::BadUserInput(
                "status 应为 PENDING、SENT 或 FAILED".into(),
            ));
        }
        query = query.filter(outbox::Column::Status.eq(status));
    }
    if let Some(before) = before_id {
        query = query.filter(outbox::Column::Id.lt(before));
    }
    Ok(query
        .order_by_desc(outbox::Column::Id)
        .limit(first)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped_at_half_an_hour() {
        assert_eq!(backoff(1), Duration::minutes(1));
        assert_eq!(backoff(3), Duration::minutes(4));
        assert_eq!(backoff(5), Duration::minutes(16));
        assert_eq!(backoff(6), MAX_BACKOFF);
        assert_eq!(backoff(10_000), MAX_BACKOFF);
    }
}
