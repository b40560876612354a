//! Subscriptions for live dashboards (README, Usage): lifecycle events and colour changes,
//! from every instance (see `crate::events`).

use super::ids::ItemId;
use async_graphql::{Context, Enum, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;

use super::context::{actor, app_state};
use super::enums::Colour;
use crate::error::AppError;
use crate::events::LiveEvent;
use crate::service::items::verb::require_duty;
use ducha_domain::Duty;

/// 实时事件类别
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum LiveEventKind {
    /// 事项办理过程中的一次操作
    Lifecycle,
    /// 事项颜色变化
    ColourChange,
}

/// 推送给看板的实时事件
#[derive(SimpleObject, Clone)]
pub struct DashboardEvent {
    /// 事件类别：办理操作或颜色变化
    pub kind: LiveEventKind,
    /// 事项（全局标识）；与具体事项无关的操作为空
    pub item_id: Option<ItemId>,
    /// 督办编号，如“督〔2026〕15号”
    pub serial: Option<String>,
    /// 操作，如 ASSIGN、SIGN、CLOSE、NOTICE
    pub action: Option<String>,
    /// 操作前的阶段，如 ASSIGNED（颜色变化及不涉及阶段的记录为空）
    pub from_stage: Option<String>,
    /// 操作后的阶段，如 IN_PROGRESS（颜色变化及不涉及阶段的记录为空）
    pub to_stage: Option<String>,
    /// 原来的颜色（仅颜色变化事件）
    pub previous_colour: Option<Colour>,
    /// 现在的颜色（仅颜色变化事件）
    pub colour: Option<Colour>,
    /// 操作的理由，或颜色变化的原因
    pub reason: Option<String>,
    /// 发生时刻（UTC）
    pub at: DateTime<Utc>,
}

impl From<LiveEvent> for DashboardEvent {
    fn from(event: LiveEvent) -> Self {
        match event {
            LiveEvent::Lifecycle {
                item_id,
                serial,
                action,
                from_stage,
                to_stage,
                reason,
                at,
                ..
            } => DashboardEvent {
                kind: LiveEventKind::Lifecycle,
                item_id: item_id.map(ItemId),
                serial,
                action: Some(action),
                from_stage,
                to_stage,
                previous_colour: None,
                colour: None,
                reason,
                at,
            },
            LiveEvent::Colour {
                item_id,
                serial,
                from,
                to,
                reason,
                at,
            } => DashboardEvent {
                kind: LiveEventKind::ColourChange,
                item_id: Some(ItemId(item_id)),
                serial: Some(serial),
                action: None,
                from_stage: None,
                to_stage: None,
                previous_colour: Some(from.into()),
                colour: Some(to.into()),
                reason: Some(reason),
                at,
            },
        }
    }
}

#[derive(Default)]
pub struct Subscription;

/// 实时订阅
#[Subscription]
impl Subscription {
    /// 看板实时事件：办理操作与颜色变化（督查室、区领导、系统管理员）。令牌被更换后，
    /// 订阅以一条 UNAUTHENTICATED 错误结束
    async fn dashboard_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "只接收该事项的事件（事项的全局标识或编号）；不填为全部事项")]
        item_id: Option<ItemId>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<DashboardEvent>>> {
        let state = app_state(ctx)?;
        let who = actor(ctx)?;
        require_duty(who, Duty::ViewDashboard, "实时看板仅供督查室和区领导使用")?;
        let credential = ctx
            .data::<super::context::Auth>()
            .ok()
            .and_then(|a| a.credential.clone());
        let watch = Watch {
            receiver: state.events.subscribe(),
            recheck: tokio::time::interval(TOKEN_RECHECK),
            db: state.db.clone(),
            person_id: who.person_id,
            credential,
            clock: state.clock.clone(),
            ended: false,
        };
        Ok(futures_util::stream::unfold(
            watch,
            move |mut watch| async move {
                if watch.ended {
                    return None;
                }
                loop {
                    tokio::select! {
                        received = watch.receiver.recv() => match received {
                            Ok(event) => {
                                let event = DashboardEvent::from(event);
                                if item_id.is_none() || event.item_id == item_id {
                                    return Some((Ok(event), watch));
                                }
                            }
                            // A slow client missed some events; carry on with the next ones.
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                        },
                        _ = watch.recheck.tick() => {
                            if !watch.still_valid().await {
                                watch.ended = true;
                                let ended: async_graphql::Error = AppError::Unauthenticated(
                                    "令牌已被更换或登录已失效，实时订阅已结束，请重新登录".into(),
                                )
                                .into();
                                return Some((Err(ended), watch));
                            }
                        }
                    }
                }
            },
        ))
    }
}

/// How often an open subscription checks that its token still stands: a token replaced by
/// `ducha token` (possibly in another process) ends the subscriptions opened with it.
const TOKEN_RECHECK: std::time::Duration = std::time::Duration::from_secs(3);

/// One subscriber's stream state.
struct Watch {
    receiver: tokio::sync::broadcast::Receiver<LiveEvent>,
    recheck: tokio::time::Interval,
    db: sea_orm::DatabaseConnection,
    person_id: i64,
    credential: Option<super::context::Credential>,
    clock: crate::clock::Clock,
    ended: bool,
}

impl Watch {
    /// Whether the person still holds the token or session the subscription was opened
    /// with.
    async fn still_valid(&self) -> bool {
        match &self.credential {
            Some(credential) => {
                credential
                    .stands(&self.db, self.person_id, self.clock.now())
                    .await
            }
            None => false,
        }
    }
}
