//! Subscriptions for live dashboards (design.md §7): lifecycle events and colour changes,
//! from every instance (see `crate::events`).

use async_graphql::{Context, Enum, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;

use super::actor;
use super::types::Colour;
use crate::error::AppError;
use crate::events::LiveEvent;
use crate::startup::AppState;

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
    pub kind: LiveEventKind,
    pub item_id: Option<i64>,
    pub serial: Option<String>,
    /// 操作，如 ASSIGN、SIGN、CLOSE、NOTICE
    pub action: Option<String>,
    pub from_stage: Option<String>,
    pub to_stage: Option<String>,
    pub previous_colour: Option<Colour>,
    pub colour: Option<Colour>,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<LiveEvent> for DashboardEvent {
    fn from(event: LiveEvent) -> Self {
        match event {
            LiveEvent::Lifecycle {
                item_id,
                action,
                from_stage,
                to_stage,
                reason,
                at,
                ..
            } => DashboardEvent {
                kind: LiveEventKind::Lifecycle,
                item_id,
                serial: None,
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
                item_id: Some(item_id),
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

#[Subscription]
impl Subscription {
    /// 看板实时事件：办理操作与颜色变化（督查室、区领导、系统管理员）
    async fn dashboard_events(
        &self,
        ctx: &Context<'_>,
        item_id: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = DashboardEvent>> {
        let state = AppState::from(ctx)?;
        let who = actor(ctx)?;
        if !who.role.sees_everything() {
            return Err(AppError::Forbidden("实时看板仅供督查室和区领导使用".into()).into());
        }
        let receiver = state.events.subscribe();
        Ok(futures_util::stream::unfold(
            receiver,
            move |mut receiver| async move {
                loop {
                    match receiver.recv().await {
                        Ok(event) => {
                            let event = DashboardEvent::from(event);
                            if item_id.is_none() || event.item_id == item_id {
                                return Some((event, receiver));
                            }
                        }
                        // A slow client missed some events; carry on with the next ones.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    }
                }
            },
        ))
    }
}
