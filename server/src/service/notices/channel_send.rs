//! Delivering the outbox's messages of the channels besides mail, with mail's promises: one
//! claim, one try, one mark. What differs is the pace. A channel that fails or answers "too
//! many" is put back as a whole — its other messages wait as long as the one tried — while
//! the other channels and mail go on; and a channel with a rate (a robot's 20 a minute) is
//! not tried past it.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::channels::{self, Attempt, ChannelKind, Refusal};
use crate::error::AppResult;
use crate::service::notices::outbox::{FAILED, Outcome, PENDING, SENT, Sender, backoff, mine};
use entity::{channel, outbox};

impl Sender<'_> {
    /// Sends one claimed message through its channel and records the outcome at once.
    pub(super) async fn deliver_by_channel(
        &self,
        token: &str,
        row: &outbox::Model,
    ) -> AppResult<Outcome> {
        let now = self.clock.now();
        let found = match row.channel_id {
            Some(id) => channel::Entity::find_by_id(id).one(self.db).await?,
            None => None,
        };
        let Some(channel) = found.filter(|c| c.enabled) else {
            self.record(
                mine(row.id, token)
                    .col_expr(outbox::Column::Status, Expr::value(FAILED))
                    .col_expr(outbox::Column::Attempts, Expr::value(row.attempts + 1))
                    .col_expr(
                        outbox::Column::LastError,
                        Expr::value("通知渠道已删除或停用"),
                    ),
            )
            .await?;
            return Ok(Outcome::Failed);
        };
        if let Some(until) = channel.paused_until.filter(|until| *until > now) {
            // Its channel failed a try or asked to wait: new messages wait as long. A message
            // that was tried keeps its own error; a new one says why it waits.
            let why = row
                .last_error
                .clone()
                .unwrap_or_else(|| "未尝试：该渠道暂停中（前一条消息未能发出）".to_string());
            self.put_back(token, row, until, &why, row.attempts).await?;
            return Ok(Outcome::ChannelPaused);
        }
        if let Some(at) = self.over_rate(&channel, now).await? {
            let why = format!(
                "已达该渠道每分钟{}条的发送上限，稍后发送",
                channels::rate_per_minute(&channel)
            );
            self.put_back(token, row, at, &why, row.attempts).await?;
            return Ok(Outcome::ChannelPaused);
        }
        let platform = if channel.kind == ChannelKind::Sms.as_str() {
            channel::Entity::find()
                .filter(channel::Column::Enabled.eq(true))
                .filter(channel::Column::Kind.is_in([
                    ChannelKind::SmsAliyun.as_str(),
                    ChannelKind::SmsGateway.as_str(),
                ]))
                .order_by_asc(channel::Column::Id)
                .one(self.db)
                .await?
        } else {
            None
        };
        let outcome = channels::deliver(Attempt {
            http: self.http,
            row,
            channel: &channel,
            platform: platform.as_ref(),
            now,
        })
        .await;
        let attempts = row.attempts + 1;
        match outcome {
            Ok(()) => {
                self.record(
                    mine(row.id, token)
                        .col_expr(outbox::Column::Status, Expr::value(SENT))
                        .col_expr(outbox::Column::SentAt, Expr::value(now))
                        .col_expr(outbox::Column::Attempts, Expr::value(attempts))
                        .col_expr(
                            outbox::Column::LastError,
                            Expr::value(Option::<String>::None),
                        ),
                )
                .await?;
                Ok(Outcome::Sent)
            }
            Err(Refusal::Permanent(error)) => {
                tracing::error!(outbox = row.id, channel = channel.id, %error, "a channel refused a message for good");
                self.record(
                    mine(row.id, token)
                        .col_expr(outbox::Column::Status, Expr::value(FAILED))
                        .col_expr(outbox::Column::Attempts, Expr::value(attempts))
                        .col_expr(outbox::Column::LastError, Expr::value(error)),
                )
                .await?;
                Ok(Outcome::Failed)
            }
            Err(Refusal::Transient(error)) => {
                tracing::warn!(outbox = row.id, channel = channel.id, %error, "channel message not delivered; will retry");
                self.put_back(token, row, now + backoff(attempts), &error, attempts)
                    .await?;
                Ok(Outcome::ChannelPaused)
            }
            Err(Refusal::Wait(wait, error)) => {
                tracing::info!(outbox = row.id, channel = channel.id, %error, "channel asks to wait");
                let wait = Duration::from_std(wait).unwrap_or(Duration::seconds(60));
                // "Too many" is not a failed try: the attempts stay as they were.
                self.put_back(token, row, now + wait, &error, row.attempts)
                    .await?;
                Ok(Outcome::ChannelPaused)
            }
        }
    }

    /// When a channel with a rate has had its rate's worth in the last minute: the moment the
    /// oldest of those leaves the minute.
    async fn over_rate(
        &self,
        channel: &channel::Model,
        now: DateTime<Utc>,
    ) -> AppResult<Option<DateTime<Utc>>> {
        let rate = channels::rate_per_minute(channel);
        if rate == 0 {
            return Ok(None);
        }
        let recent: Vec<Option<DateTime<Utc>>> = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::SentAt)
            .filter(outbox::Column::ChannelId.eq(channel.id))
            .filter(outbox::Column::Status.eq(SENT))
            .filter(outbox::Column::SentAt.gt(now - Duration::seconds(60)))
            .order_by_desc(outbox::Column::SentAt)
            .limit(u64::from(rate))
            .into_tuple()
            .all(self.db)
            .await?;
        if recent.len() < rate as usize {
            return Ok(None);
        }
        Ok(recent
            .last()
            .copied()
            .flatten()
            .map(|oldest| oldest + Duration::seconds(61)))
    }

    /// This message waits until `at`, saying why, with `attempts` tries counted; so do the
    /// channel's other pending messages that are due sooner and that no other sender holds
    /// (this sender's own are released: it skips the channel for the rest of its claim).
    async fn put_back(
        &self,
        token: &str,
        row: &outbox::Model,
        at: DateTime<Utc>,
        why: &str,
        attempts: i32,
    ) -> AppResult<()> {
        self.record(
            mine(row.id, token)
                .col_expr(outbox::Column::Attempts, Expr::value(attempts))
                .col_expr(outbox::Column::NextAttemptAt, Expr::value(at))
                .col_expr(outbox::Column::LastError, Expr::value(why.to_string())),
        )
        .await?;
        let Some(channel_id) = row.channel_id else {
            return Ok(());
        };
        let now = self.clock.now();
        // Later messages (another verb's, another sweep's) wait for the same moment.
        channel::Entity::update_many()
            .col_expr(channel::Column::PausedUntil, Expr::value(at))
            .filter(channel::Column::Id.eq(channel_id))
            .filter(
                sea_orm::Condition::any()
                    .add(channel::Column::PausedUntil.is_null())
                    .add(channel::Column::PausedUntil.lt(at)),
            )
            .exec(self.db)
            .await?;
        outbox::Entity::update_many()
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(at))
            .col_expr(
                outbox::Column::LastError,
                Expr::value(format!(
                    "未尝试：同一渠道前一条消息未能发出（{why}），随之推迟"
                )),
            )
            .col_expr(outbox::Column::Claim, Expr::value(Option::<String>::None))
            .col_expr(
                outbox::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(outbox::Column::ChannelId.eq(channel_id))
            .filter(outbox::Column::Status.eq(PENDING))
            .filter(outbox::Column::NextAttemptAt.lt(at))
            .filter(outbox::Column::Id.ne(row.id))
            .filter(
                sea_orm::Condition::any()
                    .add(outbox::Column::Claim.is_null())
                    .add(outbox::Column::Claim.eq(token))
                    .add(outbox::Column::ClaimedUntil.lt(now)),
            )
            .exec(self.db)
            .await?;
        Ok(())
    }
}
